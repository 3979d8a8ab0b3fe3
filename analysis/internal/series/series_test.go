package series

import "testing"

func TestNextRegular(t *testing.T) {
	cases := []struct{ n, want int }{
		{1, 1}, {5, 5}, {7, 8}, {11, 12}, {13, 15}, {17, 18}, {97, 100}, {17279, 17280}, {17281, 17496},
	}
	for _, c := range cases {
		if got := NextRegular(c.n); got != c.want {
			t.Errorf("NextRegular(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}
