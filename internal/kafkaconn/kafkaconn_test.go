package kafkaconn_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/slapipe/slapipe/internal/kafkaconn"
	"github.com/slapipe/slapipe/internal/kafkatopic"
	"github.com/slapipe/slapipe/internal/testing/testcerts"
	"github.com/slapipe/slapipe/internal/testing/testservers"
)

func TestProduceConsumeThroughTLSAndSASL(t *testing.T) {
	ca := testcerts.NewCA(t, "kafka")
	for _, mech := range []struct{ kfake, flag string }{
		{"SCRAM-SHA-256", kafkaconn.MechanismSCRAMSHA256}, {"SCRAM-SHA-512", kafkaconn.MechanismSCRAMSHA512}, {"PLAIN", kafkaconn.MechanismPlain},
	} {
		t.Run(mech.flag, func(t *testing.T) {
			k := testservers.StartKafka(t, ca, mech.kfake, 2)
			dir := t.TempDir()
			files := func(pass string) kafkaconn.Files {
				p := filepath.Join(dir, "pass-"+pass)
				require.NoError(t, os.WriteFile(p, []byte(pass+"\n"), 0o600))
				return kafkaconn.Files{CAFile: ca.CertFile, Mechanism: mech.flag, Username: k.User, PasswordFile: p}
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()

			good, err := files(k.Password).Build()
			require.NoError(t, err)
			require.NoError(t, kafkatopic.EnsureVia(ctx, good, k.Addrs, 2, "secured"))
			w := &kafka.Writer{Addr: kafka.TCP(k.Addrs...), Topic: "secured", Transport: good.Transport(), RequiredAcks: kafka.RequireAll}
			defer w.Close()
			var msgs []kafka.Message
			for i := range 20 {
				msgs = append(msgs, kafka.Message{Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprintf("m%d", i))})
			}
			require.NoError(t, w.WriteMessages(ctx, msgs...))

			r := kafka.NewReader(kafka.ReaderConfig{Brokers: k.Addrs, GroupID: "g", Topic: "secured", Dialer: good.Dialer(),
				MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 500 * time.Millisecond, StartOffset: kafka.FirstOffset})
			defer r.Close()
			got := map[string]bool{}
			for len(got) < len(msgs) {
				m, err := r.ReadMessage(ctx)
				require.NoError(t, err)
				got[string(m.Value)] = true
			}
			require.Len(t, got, 20, "every message consumed once")

			bad, err := files("wrong").Build()
			require.NoError(t, err)
			err = kafkatopic.EnsureVia(ctx, bad, k.Addrs, 2, "other")
			require.ErrorContains(t, err, "SASL Authentication Failed")

		})
	}
}

func TestBuildRefusesHalfConfigurations(t *testing.T) {
	cases := []struct {
		f    kafkaconn.Files
		want string
	}{
		{kafkaconn.Files{CertFile: "c.pem"}, "--kafka-tls-key-file is not"},
		{kafkaconn.Files{KeyFile: "k.pem"}, "--kafka-tls-cert-file is not"},
		{kafkaconn.Files{Username: "u"}, "need --kafka-sasl-mechanism"},
		{kafkaconn.Files{Mechanism: "scram-sha-256", Username: "u"}, "needs --kafka-sasl-username and --kafka-sasl-password-file"},
		{kafkaconn.Files{Mechanism: "gssapi", Username: "u", PasswordFile: os.DevNull}, `invalid --kafka-sasl-mechanism "gssapi"`},
		{kafkaconn.Files{CAFile: os.DevNull}, "no PEM certificate"},
	}
	for _, c := range cases {
		_, err := c.f.Build()
		require.ErrorContains(t, err, c.want)
	}
	s, err := kafkaconn.Files{}.Build()
	require.NoError(t, err)
	require.False(t, s.Enabled())
	require.Nil(t, s.Transport(), "plaintext keeps kafka-go's default transport")
	require.Nil(t, s.Dialer())
}
