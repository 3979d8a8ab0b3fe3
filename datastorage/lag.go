package datastorage

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// lagForget is how long a partition may go without delivering a message,
// while others deliver, before its lag stops counting: kafka-go's group
// reader does not say when a rebalance takes a partition away, and the last
// lag seen on a partition another consumer now owns would otherwise stay
// in this consumer's sum for good. A partition this consumer still owns
// either delivers (its lag is refreshed) or has nothing new (its lag was 0
// at its last message), so forgetting it is harmless; a consumer whose
// store is down fetches nothing, sweeps nothing and keeps its lag.
const lagForget = time.Minute

// lagTracker keeps the lag of each partition this consumer fetches from
// and their sum per topic in a gauge.
type lagTracker struct {
	gauge     *prometheus.GaugeVec // by topic
	parts     map[topicPartition]partitionLag
	lastSweep time.Time
}

type partitionLag struct {
	lag  int64
	seen time.Time
}

func newLagTracker(gauge *prometheus.GaugeVec) *lagTracker {
	return &lagTracker{gauge: gauge, parts: map[topicPartition]partitionLag{}}
}

// observe records that tp is lag messages behind at now, after forgetting
// (checked at most every lagForget/4) the partitions silent for lagForget.
func (lt *lagTracker) observe(tp topicPartition, lag int64, now time.Time) {
	if now.Sub(lt.lastSweep) >= lagForget/4 {
		lt.lastSweep = now
		for p, pl := range lt.parts {
			if p != tp && now.Sub(pl.seen) >= lagForget {
				lt.gauge.WithLabelValues(p.topic).Sub(float64(pl.lag))
				delete(lt.parts, p)
			}
		}
	}
	lt.gauge.WithLabelValues(tp.topic).Add(float64(lag - lt.parts[tp].lag))
	lt.parts[tp] = partitionLag{lag: lag, seen: now}
}
