package slamanager

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// postedAlert is an alert as Alertmanager's v2 API receives it.
type postedAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
}

// fakeAlertmanager records each POST /api/v2/alerts, or fails them.
type fakeAlertmanager struct {
	mu    sync.Mutex
	posts [][]postedAlert
	fail  bool
}

func (f *fakeAlertmanager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/prefix/api/v2/alerts" || f.fail {
		http.Error(w, "no", http.StatusInternalServerError)
		return
	}
	var as []postedAlert
	if err := json.NewDecoder(r.Body).Decode(&as); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.posts = append(f.posts, as)
}

func (f *fakeAlertmanager) last(t *testing.T) []postedAlert {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	require.NotEmpty(t, f.posts)
	return f.posts[len(f.posts)-1]
}

// TestNotifierFiresAndResolves drives the notifier through a prediction
// that rises over the threshold, stays, clears, with a failed post in
// between: firing alerts keep their start and are renewed, a cleared one
// is posted resolved (endsAt now), and a failed resolution is posted again.
func TestNotifierFiresAndResolves(t *testing.T) {
	am := &fakeAlertmanager{}
	srv := httptest.NewServer(am)
	defer srv.Close()
	n, err := newNotifier(srv.URL+"/prefix/", 0.5, 4*time.Minute)
	require.NoError(t, err)
	ctx := context.Background()
	pred := func(p float64) *slapipev1.GetPredictionsResponse {
		return &slapipev1.GetPredictionsResponse{Predictions: []*slapipev1.Prediction{
			{Objective: "fs", Metric: "node_filesystem_avail_bytes", Labels: map[string]string{"instance": "a", "severity": "theirs"},
				Probability: p, FirstCrossing: timestamppb.New(testEnd.Add(5 * time.Minute))},
			{Objective: "load", Metric: "node_load1", Labels: map[string]string{"instance": "a"}, Probability: 0.1},
		}}
	}
	t0 := testEnd

	require.NoError(t, n.notify(ctx, pred(0.2), t0))
	require.Empty(t, am.posts, "nothing predicted, nothing posted")

	require.NoError(t, n.notify(ctx, pred(0.9), t0.Add(time.Minute)))
	got := am.last(t)
	require.Len(t, got, 1, "only the objective over the threshold")
	require.Equal(t, map[string]string{"alertname": "SLAViolationPredicted", "severity": "warning", "objective": "fs",
		"metric": "node_filesystem_avail_bytes", "instance": "a", "exported_severity": "theirs"}, got[0].Labels)
	require.Equal(t, "0.9000", got[0].Annotations["probability"])
	require.Equal(t, testEnd.Add(5*time.Minute).Format(time.RFC3339), got[0].Annotations["first_crossing"])
	require.True(t, got[0].StartsAt.Equal(t0.Add(time.Minute)))
	require.True(t, got[0].EndsAt.Equal(t0.Add(5*time.Minute)), "renewed for the ttl")

	require.NoError(t, n.notify(ctx, pred(0.8), t0.Add(2*time.Minute)))
	got = am.last(t)
	require.True(t, got[0].StartsAt.Equal(t0.Add(time.Minute)), "still the same alert: its start is kept")
	require.True(t, got[0].EndsAt.Equal(t0.Add(6*time.Minute)))

	am.fail = true
	require.Error(t, n.notify(ctx, pred(0.1), t0.Add(3*time.Minute)))
	am.fail = false
	require.NoError(t, n.notify(ctx, pred(0.1), t0.Add(4*time.Minute)))
	got = am.last(t)
	require.Len(t, got, 1, "the resolution, posted again after the failure")
	require.True(t, got[0].EndsAt.Equal(t0.Add(4*time.Minute)), "resolved: ends now")
	require.Equal(t, "fs", got[0].Labels["objective"])

	posts := len(am.posts)
	require.NoError(t, n.notify(ctx, pred(0.1), t0.Add(5*time.Minute)))
	require.Len(t, am.posts, posts, "resolved once, then quiet")

	for _, bad := range []string{"", "ftp://x", "http://", "http://am:secret@host:9093", "http://am:secret@host:9093/%zz"} {
		_, err := newNotifier(bad, 0.5, time.Minute)
		require.Error(t, err, bad)
		require.NotContains(t, err.Error(), "secret", "no password in the error")
	}
}
