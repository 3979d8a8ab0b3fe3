package server

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// CallLimits bounds what the unary calls of one gRPC server may take, so
// that no number or size of requests exhausts the process: a deadline on
// every call, a cap on the calls that read much at once, and on the size
// of an answer. Zero fields disable their bound.
type CallLimits struct {
	// Timeout is the server-side deadline of every unary call; a client's
	// shorter deadline still wins.
	Timeout time.Duration
	// Expensive are the full method names ("/pkg.Service/Method") of the
	// calls of which at most MaxConcurrent run at once.
	Expensive     []string
	MaxConcurrent int
	// QueueWait is how long an expensive call waits for a slot before it
	// is refused with ResourceExhausted and a RetryInfo of RetryAfter.
	QueueWait, RetryAfter time.Duration
	// MaxSendBytes bounds one answer; a larger one fails with
	// ResourceExhausted instead of being built and sent.
	MaxSendBytes int
}

// ServerOptions are the options that enforce l, to pass as NewGRPC's extra
// options.
func (l CallLimits) ServerOptions() []grpc.ServerOption {
	var opts []grpc.ServerOption
	if l.MaxSendBytes > 0 {
		opts = append(opts, grpc.MaxSendMsgSize(l.MaxSendBytes))
	}
	expensive := map[string]bool{}
	for _, m := range l.Expensive {
		expensive[m] = true
	}
	var slots chan struct{}
	if l.MaxConcurrent > 0 && len(expensive) > 0 {
		slots = make(chan struct{}, l.MaxConcurrent)
	}
	return append(opts, grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if l.Timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, l.Timeout)
			defer cancel()
		}
		if slots != nil && expensive[info.FullMethod] {
			release, err := l.acquire(ctx, slots, info.FullMethod)
			if err != nil {
				return nil, err
			}
			defer release()
		}
		return h(ctx, req)
	}))
}

// acquire takes a slot within QueueWait, or answers ResourceExhausted with
// a retry hint.
func (l CallLimits) acquire(ctx context.Context, slots chan struct{}, method string) (func(), error) {
	release := func() { <-slots }
	select {
	case slots <- struct{}{}:
		return release, nil
	default:
	}
	t := time.NewTimer(l.QueueWait)
	defer t.Stop()
	select {
	case slots <- struct{}{}:
		return release, nil
	case <-ctx.Done():
		return nil, status.FromContextError(ctx.Err()).Err()
	case <-t.C:
	}
	st := status.New(codes.ResourceExhausted, fmt.Sprintf(
		"%s: %d such calls are already running, the most this server takes at once: retry in %s", method, cap(slots), l.RetryAfter))
	if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(l.RetryAfter)}); err == nil {
		st = d
	}
	return nil, st.Err()
}

// RetryDelay is the retry hint of a ResourceExhausted error made by
// CallLimits (0 when err carries none).
func RetryDelay(err error) time.Duration {
	for _, d := range status.Convert(err).Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return ri.GetRetryDelay().AsDuration()
		}
	}
	return 0
}
