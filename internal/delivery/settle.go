package delivery

import (
	"context"
	"time"
)

// settleTimeout bounds the write that records an answer already received.
const settleTimeout = 10 * time.Second

// settleContext is the context of the write that records what a SIEM
// already answered (the cursor after a 2xx, a resent range resolved). It
// outlives the dispatcher being stopped (a hand-over, a rolling restart):
// cancelling it would leave the accepted batch for the next owner to send
// again. The write stays fenced, so a replica that lost its lease still
// cannot make it.
func settleContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
}
