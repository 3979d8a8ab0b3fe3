package slamanager

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	httptransport "github.com/go-openapi/runtime/client"
	"github.com/go-openapi/strfmt"
	amclient "github.com/prometheus/alertmanager/api/v2/client"
	"github.com/prometheus/alertmanager/api/v2/client/alert"
	"github.com/prometheus/alertmanager/api/v2/models"

	"github.com/slapipe/slapipe/pkg/rules"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// Alerts posted to Alertmanager.
const (
	// DefaultAlertProbability is the probability from which a predicted
	// violation is posted.
	DefaultAlertProbability = rules.DefaultProbability
	// alertTimeout bounds one post to Alertmanager.
	alertTimeout = 5 * time.Second
)

// notifier posts predicted violations to Alertmanager's v2 API and
// resolves them when the prediction clears. Its alerts carry the labels of
// the SLAViolationPredicted rule's alerts (`slapipe ctl rules`), so
// Alertmanager merges the two when both are in use.
type notifier struct {
	api       *amclient.AlertmanagerAPI
	threshold float64
	// ttl is the endsAt horizon of a firing alert: Alertmanager resolves it
	// by itself if the SLA manager stops posting.
	ttl time.Duration

	mu sync.Mutex // serialises notify
	// firing maps an alert's label key to its labels and when it started.
	firing map[string]firingAlert
}

type firingAlert struct {
	labels   models.LabelSet
	startsAt time.Time
}

// newNotifier builds the notifier of an Alertmanager base URL
// (http://host:9093, with its path prefix if it has one).
func newNotifier(rawURL string, threshold float64, ttl time.Duration) (*notifier, error) {
	u, err := url.Parse(rawURL)
	switch {
	case err != nil:
		// The parse error quotes the URL, which may hold a password.
		return nil, errors.New("alertmanager url: not a URL: want http(s)://host:port")
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return nil, fmt.Errorf("alertmanager url: want http(s)://host:port (got %q)", u.Redacted())
	case u.User != nil:
		return nil, fmt.Errorf("alertmanager url: credentials in the URL are not supported (got %q)", u.Redacted())
	}
	if !(threshold > 0 && threshold < 1) {
		return nil, fmt.Errorf("alert probability: must be between 0 and 1, both excluded (got %g)", threshold)
	}
	base := strings.TrimSuffix(u.Path, "/") + amclient.DefaultBasePath
	tr := httptransport.NewWithClient(u.Host, base, []string{u.Scheme}, &http.Client{Timeout: alertTimeout})
	return &notifier{api: amclient.New(tr, strfmt.Default), threshold: threshold, ttl: ttl,
		firing: map[string]firingAlert{}}, nil
}

// alertLabels are the labels of the predicted-violation alert of p: the
// series' labels (one named like ours prefixed exported_), objective,
// metric, alertname and severity.
func alertLabels(p *slapipev1.Prediction) models.LabelSet {
	ls := models.LabelSet{}
	for k, v := range p.GetLabels() {
		switch k {
		case labelObjective, labelMetric, "alertname", "severity":
			k = exportedPrefix + k
		}
		ls[k] = v
	}
	ls[labelObjective] = p.GetObjective()
	ls[labelMetric] = p.GetMetric()
	ls["alertname"] = rules.AlertPredicted
	ls["severity"] = "warning"
	return ls
}

// notify posts every prediction at or over the threshold as firing, and
// every alert it posted before that is no longer predicted as resolved
// (endsAt now). When the post fails, nothing is forgotten: the next call
// posts the resolutions again.
func (n *notifier) notify(ctx context.Context, pred *slapipev1.GetPredictionsResponse, now time.Time) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out models.PostableAlerts
	current := map[string]firingAlert{}
	for _, p := range pred.GetPredictions() {
		if p.GetProbability() < n.threshold || len(current) >= MaxExportedSeries {
			continue
		}
		ls := alertLabels(p)
		key := labelKey(ls)
		fa, ok := n.firing[key]
		if !ok {
			fa = firingAlert{labels: ls, startsAt: now}
		}
		current[key] = fa
		ann := models.LabelSet{
			"summary": "Objective " + p.GetObjective() + " is predicted to be violated within 10 minutes",
			"description": fmt.Sprintf("%s is likely to leave the bounds of objective %s within the next 10 minutes (probability %.2f).",
				p.GetMetric(), p.GetObjective(), p.GetProbability()),
			"probability": fmt.Sprintf("%.4f", p.GetProbability()),
		}
		if fc := p.GetFirstCrossing(); fc != nil {
			ann["first_crossing"] = fc.AsTime().UTC().Format(time.RFC3339)
		}
		out = append(out, &models.PostableAlert{Alert: models.Alert{Labels: ls}, Annotations: ann,
			StartsAt: strfmt.DateTime(fa.startsAt), EndsAt: strfmt.DateTime(now.Add(n.ttl))})
	}
	for key, fa := range n.firing {
		if _, still := current[key]; !still {
			out = append(out, &models.PostableAlert{Alert: models.Alert{Labels: fa.labels},
				StartsAt: strfmt.DateTime(fa.startsAt), EndsAt: strfmt.DateTime(now)})
		}
	}
	if len(out) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, alertTimeout)
	defer cancel()
	if _, err := n.api.Alert.PostAlerts(alert.NewPostAlertsParamsWithContext(ctx).WithAlerts(out)); err != nil {
		return fmt.Errorf("posting %d alerts to alertmanager: %w", len(out), err)
	}
	n.firing = current
	return nil
}
