// Package kafka runs an in-process Kafka-protocol broker (franz-go's kfake)
// on loopback, so `slapipe demo` and tests exercise the real kafka-go
// producer and consumer-group code paths without installing Kafka.
package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/slapipe/slapipe/internal/kafkatopic"
)

// DefaultPartitions is the partition count of seeded and auto-created
// topics: the pipeline's own default.
const DefaultPartitions = kafkatopic.DefaultPartitions

// Options configures Start. The zero value is a broker on a free loopback
// port that creates topics on first use with DefaultPartitions partitions.
type Options struct {
	// Addr is the listen address, "host:port"; "" means 127.0.0.1:0 (a free
	// port). Port 0 always means a free port.
	Addr string
	// Topics are created at start (the broker also creates unknown topics on
	// first use).
	Topics []string
	// Partitions of seeded and auto-created topics; 0 means DefaultPartitions.
	Partitions int
	// Logger receives the broker's warnings and errors; nil discards them.
	Logger *slog.Logger
}

// Broker is a running in-process broker. It is safe for concurrent use.
type Broker struct {
	cluster *kfake.Cluster
	stop    func() bool
}

// Start listens on opts.Addr and serves the Kafka protocol until Close or
// until ctx is cancelled.
func Start(ctx context.Context, opts Options) (*Broker, error) {
	host, port, err := splitAddr(opts.Addr)
	if err != nil {
		return nil, err
	}
	parts := opts.Partitions
	if parts <= 0 {
		parts = DefaultPartitions
	}
	kopts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(parts),
		kfake.ClusterID("slapipe-embedded"),
		// kfake always asks for 127.0.0.1; honour another host if one was given.
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
		}),
	}
	if len(opts.Topics) > 0 {
		kopts = append(kopts, kfake.SeedTopics(int32(parts), opts.Topics...))
	}
	if opts.Logger != nil {
		kopts = append(kopts, kfake.WithLogger(slogAdapter{opts.Logger}))
	}
	c, err := kfake.NewCluster(kopts...)
	if err != nil {
		return nil, fmt.Errorf("starting embedded kafka broker on %s: %w", net.JoinHostPort(host, strconv.Itoa(port)), err)
	}
	b := &Broker{cluster: c}
	b.stop = context.AfterFunc(ctx, c.Close)
	return b, nil
}

// Addrs returns the "host:port" addresses clients should bootstrap from.
func (b *Broker) Addrs() []string { return b.cluster.ListenAddrs() }

// Close stops the broker; it is idempotent.
func (b *Broker) Close() error {
	b.stop()
	b.cluster.Close()
	return nil
}

func splitAddr(addr string) (host string, port int, err error) {
	if addr == "" {
		return "127.0.0.1", 0, nil
	}
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("embedded kafka address %q: %w", addr, err)
	}
	if h == "" {
		h = "127.0.0.1"
	}
	port, err = strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("embedded kafka address %q: bad port %q", addr, p)
	}
	return h, port, nil
}

// slogAdapter forwards kfake's warnings and errors to slog; its debug and info
// chatter (every request) is dropped.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Logf(level kfake.LogLevel, msg string, args ...any) {
	var lv slog.Level
	switch level {
	case kfake.LogLevelError:
		lv = slog.LevelError
	case kfake.LogLevelWarn:
		lv = slog.LevelWarn
	default:
		return
	}
	a.l.Log(context.Background(), lv, "kfake: "+fmt.Sprintf(msg, args...))
}
