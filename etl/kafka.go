package etl

import (
	"context"
	"fmt"

	"github.com/segmentio/kafka-go"

	"github.com/slapipe/slapipe/internal/kafkatopic"
)

// publishChunk is how many messages one WriteMessages call carries; it is
// also the writer's batch size, so a call fills about one batch per
// partition and progress advances per call.
const publishChunk = 500

// ensureTopics creates the topics that do not exist yet (kafkatopic.EnsureVia).
var ensureTopics = kafkatopic.EnsureVia

// publish writes msgs in chunks, calling done after each with the number
// written so far and the chunk's size. It stops at the first error.
func publish(ctx context.Context, pub publisher, msgs []kafka.Message, done func(sent, chunk int)) error {
	for i := 0; i < len(msgs); i += publishChunk {
		j := min(i+publishChunk, len(msgs))
		if err := pub.WriteMessages(ctx, msgs[i:j]...); err != nil {
			return fmt.Errorf("writing messages %d-%d of %d: %w", i, j-1, len(msgs), err)
		}
		done(j, j-i)
	}
	return nil
}
