package series

import (
	"math"
	"testing"
)

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

func TestIsConstant(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		name string
		x    []float64
		want bool
	}{
		{"empty", nil, true},
		{"one sample", []float64{7}, true},
		{"all equal", []float64{2, 2, 2, 2}, true},
		{"signed zeros", []float64{0, math.Copysign(0, -1)}, true},
		{"last differs", []float64{2, 2, 2, 2.0000000001}, false},
		{"first differs", []float64{1, 2, 2}, false},
		{"NaN", []float64{nan, nan}, false},
	}
	for _, c := range cases {
		if got := IsConstant(c.x); got != c.want {
			t.Errorf("%s: IsConstant(%v) = %v, want %v", c.name, c.x, got, c.want)
		}
	}
}
