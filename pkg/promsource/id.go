package promsource

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"

	"github.com/prometheus/prometheus/model/labels"
)

// SeriesID returns the stable identity of a series: the hex form of the
// first 16 bytes of the SHA-256 of the metric name and its labels sorted by
// name (32 hex digits). It depends neither on map order nor on a __name__
// entry in labels, which is ignored since metric names the series. Separator
// bytes that cannot occur in UTF-8 keep distinct label sets from hashing the
// same bytes.
func SeriesID(metric string, lbls map[string]string) string {
	names := make([]string, 0, len(lbls))
	for k := range lbls {
		if k != labels.MetricName {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	h := sha256.New()
	h.Write([]byte(metric))
	for _, k := range names {
		h.Write([]byte{0xff})
		h.Write([]byte(k))
		h.Write([]byte{0xfe})
		h.Write([]byte(lbls[k]))
	}
	sum := h.Sum(nil)
	return hex.EncodeToString(sum[:16])
}
