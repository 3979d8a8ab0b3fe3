package demo

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/slapipe/slapipe/pkg/store"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

func TestFmtDuration(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{850 * time.Millisecond, "850ms"},
		{2400 * time.Millisecond, "2.4s"},
		{190 * time.Second, "3m10s"},
		{time.Hour, "1h"},
		{30 * time.Minute, "30m"},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) { require.Equal(t, c.want, fmtDuration(c.d)) })
	}
}

func TestRedactDSN(t *testing.T) {
	require.Equal(t, "slapipe:***@tcp(127.0.0.1:3306)/slapipe?parseTime=true",
		redactDSN("slapipe:s3cr@t@tcp(127.0.0.1:3306)/slapipe?parseTime=true"))
	require.Equal(t, "root@unix(/tmp/x.sock)/db", redactDSN("root@unix(/tmp/x.sock)/db"))
}

// fakeStore stores the run's analyses one poll at a time.
type fakeStore struct {
	runID    string
	polls    int
	recorded int // poll from which the run is listed
	perPoll  int
}

func (f *fakeStore) ListRuns(context.Context, int) ([]*slapipev1.Run, error) {
	f.polls++
	if f.polls >= f.recorded {
		return []*slapipev1.Run{{RunId: f.runID}}, nil
	}
	return nil, nil
}

func (f *fakeStore) Analyses(_ context.Context, q store.Query) (string, []*slapipev1.SeriesAnalysis, error) {
	if q.RunID != f.runID {
		return "", nil, errors.New("wrong run")
	}
	n := f.polls * f.perPoll
	if n == 0 {
		return "", nil, store.ErrNotFound
	}
	return q.RunID, make([]*slapipev1.SeriesAnalysis, n), nil
}

func TestWaitStored(t *testing.T) {
	run := &slapipev1.Run{RunId: "r1", Series: 10}
	f := &fakeStore{runID: "r1", recorded: 4, perPoll: 3}
	msgs, err := waitStored(context.Background(), f, run, time.Minute)
	require.NoError(t, err)
	require.Len(t, msgs, 12) // 4 polls: recorded and 12 >= 10 stored
	require.Equal(t, 4, f.polls)

	never := &fakeStore{runID: "r1", recorded: 1 << 30, perPoll: 1}
	_, err = waitStored(context.Background(), never, run, 300*time.Millisecond)
	require.ErrorContains(t, err, "of the 10 series of run r1")
}
