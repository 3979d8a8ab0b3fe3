package e2e

import (
	"strconv"
	"testing"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/slapipe/slapipe/datastorage"
	"github.com/slapipe/slapipe/internal/testing/fixtures"
	"github.com/slapipe/slapipe/internal/testing/testenv"
	"github.com/slapipe/slapipe/internal/testing/testkit"
	slapipev1 "github.com/slapipe/slapipe/proto/slapipe/v1"
)

// TestUndecodableMessageGoesToDLQ puts messages that are not SeriesAnalysis
// protobufs between valid ones on one partition and checks that each lands
// in prometheusdata.dlq, unchanged, with the decoding error and its origin in
// headers, while every valid message around them is stored.
func TestUndecodableMessageGoesToDLQ(t *testing.T) {
	baseDSN := testenv.MySQLDSN(t)
	brokers := testkit.Broker(t, 0)
	st := testkit.OpenStore(t, testenv.NewMySQLDatabase(t, baseDSN, "e2e"))
	// One partition: the bad messages sit between valid ones in one log.
	createTopics(t, brokers, 1, slapipev1.DefaultTopic, slapipev1.RunsTopic(slapipev1.DefaultTopic))

	run := "0193a5b0-0000-7000-8000-00000000d1a0"
	want := fixtures.Analyses(run, 40)
	valid := analysisMessages(t, want)
	noRun := proto.Clone(want[0]).(*slapipev1.SeriesAnalysis)
	noRun.RunId = "" // decodes, but has no run: invalid, not storable
	noRunBytes, err := proto.Marshal(noRun)
	require.NoError(t, err)
	bad := []struct {
		name, value, wantErr string
	}{
		{"garbage", "\xff\xfe\xfd\x00\x13\x37", "decoding SeriesAnalysis"},
		{"json", `{"run_id":"x","series_id":"y"}`, "decoding SeriesAnalysis"},
		{"truncated protobuf", string(valid[0].Value[:len(valid[0].Value)/2]), "decoding SeriesAnalysis"},
		{"no run id", string(noRunBytes), "invalid SeriesAnalysis: run_id: invalid argument: empty"},
	}
	var all []kafka.Message
	for i, b := range bad {
		all = append(all, valid[i*10:(i+1)*10]...)
		all = append(all, kafka.Message{Key: []byte("bad-" + strconv.Itoa(i)), Value: []byte(b.value),
			Headers: []kafka.Header{{Key: "case", Value: []byte(b.name)}}})
	}
	produce(t, brokers, slapipev1.DefaultTopic, all...)
	c := startConsumer(t, brokers, st)
	waitCommitted(t, brokers, c.group, slapipev1.DefaultTopic)

	dead := readAll(t, brokers, slapipev1.DeadLetterTopic(slapipev1.DefaultTopic))
	require.Len(t, dead, len(bad), "dead letters")
	// The DLQ has several partitions: find each dead letter by the header
	// the test gave the original.
	byCase := map[string]map[string]string{}
	deadByCase := map[string]kafka.Message{}
	for _, d := range dead {
		h := map[string]string{}
		for _, x := range d.Headers {
			h[x.Key] = string(x.Value)
		}
		byCase[h["case"]] = h
		deadByCase[h["case"]] = d
	}
	for i, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			h, d := byCase[b.name], deadByCase[b.name]
			require.NotNil(t, h, "no dead letter kept the original header case=%s", b.name)
			assert.Equal(t, []byte(b.value), d.Value, "value unchanged")
			assert.Equal(t, "bad-"+strconv.Itoa(i), string(d.Key), "key unchanged")
			assert.Contains(t, h[datastorage.HeaderError], b.wantErr, "error header")
			assert.Equal(t, slapipev1.DefaultTopic, h[datastorage.HeaderTopic])
			assert.Equal(t, "0", h[datastorage.HeaderPartition])
			// The bad message i follows 10(i+1) valid ones and i bad ones.
			assert.Equal(t, strconv.Itoa(11*(i+1)-1), h[datastorage.HeaderOffset])
		})
	}
	checkStoredExactly(t, st.DB(), st, want)
}
