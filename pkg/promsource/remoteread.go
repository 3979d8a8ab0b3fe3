package promsource

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"net/http"
	"strings"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// errNoRemoteRead says the server does not serve the remote-read API (a
// Thanos Query, an old or proxied Prometheus): pull through query_range.
var errNoRemoteRead = errors.New("remote read not served")

// maxFrame bounds one frame of a streamed remote-read answer, as
// Prometheus' own client does (its DefaultChunkedReadLimit).
const maxFrame = 50 << 20

// streamedType is the content type of a STREAMED_XOR_CHUNKS answer.
const streamedType = "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse"

// readRemote asks for every series of refs in one remote-read request
// (one query of exact matchers per series, streamed XOR chunks) and places
// the samples of the series of refs on g: the value of a grid point is the
// newest sample at or before it within LookbackDelta, unless that sample
// is a staleness marker, as query_range computes it. Series with no value
// on the grid are left out, as query_range leaves them out. The plain-text
// error of a server without remote read wraps errNoRemoteRead.
func (s *Source) readRemote(ctx context.Context, refs []SeriesRef, g grid) ([]Series, error) {
	from := g.lead().Add(-LookbackDelta).UnixMilli()
	to := g.end().UnixMilli()
	req := &prompb.ReadRequest{AcceptedResponseTypes: []prompb.ReadRequest_ResponseType{prompb.ReadRequest_STREAMED_XOR_CHUNKS}}
	want := make(map[string]int, len(refs))
	for i, ref := range refs {
		want[ref.ID] = i
		ms, err := toLabelMatchers(exactMatchers(ref))
		if err != nil {
			return nil, err
		}
		req.Queries = append(req.Queries, &prompb.Query{StartTimestampMs: from, EndTimestampMs: to, Matchers: ms,
			Hints: &prompb.ReadHints{StepMs: g.stepMs, StartMs: from, EndMs: to}})
	}
	enc, err := req.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encoding remote-read request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, s.client.URL("/api/v1/read", nil).String(), bytes.NewReader(snappy.Encode(nil, enc)))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Encoding", "snappy")
	hreq.Header.Set("Content-Type", "application/x-protobuf")
	hreq.Header.Set("X-Prometheus-Remote-Read-Version", "0.1.0")
	// The answer is read whole: a task's series take about 1.4 bytes a
	// sample in XOR chunks, about a megabyte for 100 series x 12 h at 5 s.
	resp, body, err := s.client.Do(ctx, hreq)
	if err != nil {
		return nil, fmt.Errorf("remote read: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed ||
		resp.StatusCode == http.StatusNotImplemented || resp.StatusCode == http.StatusUnsupportedMediaType:
		return nil, fmt.Errorf("%w: http %s", errNoRemoteRead, resp.Status)
	case resp.StatusCode/100 != 2:
		return nil, fmt.Errorf("remote read: http %s: %.200s", resp.Status, strings.TrimSpace(string(body)))
	case resp.Header.Get("Content-Type") != streamedType:
		return nil, fmt.Errorf("%w: answer of type %q", errNoRemoteRead, resp.Header.Get("Content-Type"))
	}

	out := make([]Series, 0, len(refs))
	seen := make(map[string]bool, len(refs))
	fr := frameReader{r: bufio.NewReader(bytes.NewReader(body))}
	var frame prompb.ChunkedReadResponse
	var it chunkenc.Iterator
	raw := rawSeries{}
	for {
		b, err := fr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("remote read: %w", err)
		}
		frame.Reset()
		if err := frame.Unmarshal(b); err != nil {
			return nil, fmt.Errorf("remote read: decoding a frame: %w", err)
		}
		for _, cs := range frame.ChunkedSeries {
			lbls := make(map[string]string, len(cs.Labels))
			for _, l := range cs.Labels {
				lbls[l.Name] = l.Value
			}
			metric := lbls[labels.MetricName]
			id := SeriesID(metric, lbls)
			i, ok := want[id]
			if !ok || seen[id] {
				continue // a series with more labels, or a repeat
			}
			seen[id] = true
			raw.metric, raw.ts, raw.vals = lbls, raw.ts[:0], raw.vals[:0]
			var ok2 bool
			if raw.ts, raw.vals, ok2, err = onGrid(cs.Chunks, g, &it, raw.ts, raw.vals); err != nil {
				return nil, fmt.Errorf("remote read: series %s: %w", id, err)
			}
			if !ok2 {
				continue
			}
			q := Query{Metric: refs[i].Metric, Type: refs[i].Type, Rate: refs[i].Rate}
			out = append(out, g.series(q, &raw))
		}
	}
	return out, nil
}

// onGrid evaluates the XOR chunks of one series at every grid point (lead
// included) and returns the points that have a value. ok is false when
// none has (or the series holds no float samples).
func onGrid(chunks []prompb.Chunk, g grid, it *chunkenc.Iterator, ts []int64, vals []float64) (_ []int64, _ []float64, ok bool, _ error) {
	lookback := LookbackDelta.Milliseconds()
	k, n := 0, g.n+1 // next grid point, grid points
	at := func(k int) int64 { return g.startMs + int64(k-1)*g.stepMs }
	prevT, prevV, have := int64(0), 0.0, false
	// emit gives every grid point before t the previous sample's value.
	emit := func(t int64) {
		for ; k < n && at(k) < t; k++ {
			if have && at(k)-prevT <= lookback && !value.IsStaleNaN(prevV) {
				ts, vals = append(ts, at(k)), append(vals, prevV)
			}
		}
	}
	for _, c := range chunks {
		if c.Type != prompb.Chunk_XOR {
			return ts, vals, false, nil // a native histogram: no float samples
		}
		chk, err := chunkenc.FromData(chunkenc.EncXOR, c.Data)
		if err != nil {
			return nil, nil, false, err
		}
		*it = chk.Iterator(*it)
		for vt := (*it).Next(); vt != chunkenc.ValNone; vt = (*it).Next() {
			if vt != chunkenc.ValFloat {
				return ts, vals, false, nil
			}
			t, v := (*it).At()
			if have && t <= prevT {
				continue // chunks overlap by at most a repeat of a sample
			}
			emit(t)
			prevT, prevV, have = t, v, true
		}
		if err := (*it).Err(); err != nil {
			return nil, nil, false, err
		}
	}
	emit(math.MaxInt64)
	return ts, vals, len(ts) > 0, nil
}

func toLabelMatchers(ms []*labels.Matcher) ([]*prompb.LabelMatcher, error) {
	out := make([]*prompb.LabelMatcher, 0, len(ms))
	for _, m := range ms {
		if m.Type != labels.MatchEqual {
			return nil, fmt.Errorf("remote read: unexpected matcher %s", m)
		}
		out = append(out, &prompb.LabelMatcher{Type: prompb.LabelMatcher_EQ, Name: m.Name, Value: m.Value})
	}
	return out, nil
}

// frameReader reads the frames of a streamed remote-read answer: a uvarint
// size, a big-endian CRC-32 (Castagnoli) of the data, the data.
type frameReader struct {
	r   *bufio.Reader
	buf []byte
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func (f *frameReader) next() ([]byte, error) {
	size, err := binary.ReadUvarint(f.r)
	if err != nil {
		return nil, err // io.EOF between frames is the end
	}
	if size > maxFrame {
		return nil, fmt.Errorf("frame of %d bytes exceeds the limit of %d", size, maxFrame)
	}
	var sum [4]byte
	if _, err := io.ReadFull(f.r, sum[:]); err != nil {
		return nil, fmt.Errorf("reading a frame: %w", io.ErrUnexpectedEOF)
	}
	if cap(f.buf) < int(size) {
		f.buf = make([]byte, size)
	}
	f.buf = f.buf[:size]
	if _, err := io.ReadFull(f.r, f.buf); err != nil {
		return nil, fmt.Errorf("reading a frame: %w", io.ErrUnexpectedEOF)
	}
	if crc32.Checksum(f.buf, castagnoli) != binary.BigEndian.Uint32(sum[:]) {
		return nil, errors.New("corrupted frame: checksum mismatch")
	}
	return f.buf, nil
}
