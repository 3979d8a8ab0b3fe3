package datastorage

import (
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/segmentio/kafka-go"
	"google.golang.org/protobuf/proto"

	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// decoded is a batch split by what the store does with each message.
type decoded struct {
	analyses    []*slapipev1.SeriesAnalysis
	analysisSrc []kafka.Message // analysisSrc[i] carried analyses[i]
	runs        []*slapipev1.Run
	runSrc      []kafka.Message
	rejected    []kafka.Message // to the DLQ, with their error header set
}

// analysisKey identifies a stored analysis.
type analysisKey struct{ run, series string }

// decodeBatch decodes and validates msgs. Within the batch the last message
// of a (run_id, series_id) or run_id wins, as it would in the store.
// A message whose value is over maxBytes is rejected unread.
func decodeBatch(msgs []kafka.Message, analysesTopic, runsTopic string, maxBytes int) decoded {
	var d decoded
	seen := make(map[analysisKey]int, len(msgs))
	runAt := map[string]int{}
	for _, m := range msgs {
		if len(m.Value) > maxBytes {
			d.rejected = append(d.rejected, deadLetter(m, fmt.Errorf(
				"message of %d bytes is over the per-message limit of %d bytes (datastorage --max-message-bytes)", len(m.Value), maxBytes)))
			continue
		}
		switch m.Topic {
		case analysesTopic:
			a, err := decodeAnalysis(m.Value)
			if err != nil {
				d.rejected = append(d.rejected, deadLetter(m, err))
				continue
			}
			k := analysisKey{a.GetRunId(), a.GetSeriesId()}
			if i, ok := seen[k]; ok {
				d.analyses[i], d.analysisSrc[i] = a, m
				continue
			}
			seen[k] = len(d.analyses)
			d.analyses = append(d.analyses, a)
			d.analysisSrc = append(d.analysisSrc, m)
		case runsTopic:
			r, err := decodeRun(m.Value)
			if err != nil {
				d.rejected = append(d.rejected, deadLetter(m, err))
				continue
			}
			if i, ok := runAt[r.GetRunId()]; ok {
				d.runs[i], d.runSrc[i] = r, m
				continue
			}
			runAt[r.GetRunId()] = len(d.runs)
			d.runs = append(d.runs, r)
			d.runSrc = append(d.runSrc, m)
		default:
			d.rejected = append(d.rejected, deadLetter(m, fmt.Errorf("unexpected topic %q", m.Topic)))
		}
	}
	return d
}

func decodeAnalysis(b []byte) (*slapipev1.SeriesAnalysis, error) {
	a := new(slapipev1.SeriesAnalysis)
	if err := proto.Unmarshal(b, a); err != nil {
		return nil, fmt.Errorf("decoding SeriesAnalysis: %w", err)
	}
	// What breaks the contract (and the store would refuse) is refused here, so that one bad message
	// does not hold up the rest of its batch.
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("invalid SeriesAnalysis: %w", err)
	}
	return a, nil
}

func decodeRun(b []byte) (*slapipev1.Run, error) {
	r := new(slapipev1.Run)
	if err := proto.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("decoding Run: %w", err)
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("invalid Run: %w", err)
	}
	return r, nil
}

// DLQ header names, set on every dead-lettered message.
const (
	HeaderError     = "error"
	HeaderTopic     = "topic"
	HeaderPartition = "partition"
	HeaderOffset    = "offset"
	// HeaderSize is set on a reference: a dead letter whose original was
	// too large for the dead-letter topic, sent without its value.
	HeaderSize = "size"
)

// maxReasonBytes bounds the error header: a reason quoting its input must
// not make the dead letter too large.
const maxReasonBytes = 4 << 10

// deadLetter is the DLQ copy of m: same key and value, the original headers,
// and the reason and origin as headers.
func deadLetter(m kafka.Message, reason error) kafka.Message {
	h := make([]kafka.Header, 0, len(m.Headers)+4)
	h = append(h, m.Headers...)
	h = append(h,
		kafka.Header{Key: HeaderError, Value: []byte(truncate(reason.Error(), maxReasonBytes))},
		kafka.Header{Key: HeaderTopic, Value: []byte(m.Topic)},
		kafka.Header{Key: HeaderPartition, Value: []byte(strconv.Itoa(m.Partition))},
		kafka.Header{Key: HeaderOffset, Value: []byte(strconv.FormatInt(m.Offset, 10))},
	)
	// Topic, Partition and Offset are cleared: the writer routes by its own
	// topic, and kafka-go refuses a message that names one.
	return kafka.Message{Key: m.Key, Value: m.Value, Headers: h, Time: m.Time}
}

// dlqReference is what the dead-letter topic gets for dead letter m when m
// itself is too large for it: m's key, its reason and origin headers, and
// the value's size instead of the value; the original stays in its topic
// at that offset until retention removes it.
func dlqReference(m kafka.Message) kafka.Message {
	h := []kafka.Header{{Key: HeaderError, Value: []byte(headerValue(m, HeaderError) +
		"; value not copied: too large for the dead-letter topic")}}
	for _, k := range []string{HeaderTopic, HeaderPartition, HeaderOffset} {
		h = append(h, kafka.Header{Key: k, Value: []byte(headerValue(m, k))})
	}
	h = append(h, kafka.Header{Key: HeaderSize, Value: []byte(strconv.Itoa(len(m.Value)))})
	return kafka.Message{Key: []byte(truncate(string(m.Key), maxReasonBytes)), Headers: h, Time: m.Time}
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
