package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigtrail/sigtrail/internal/store"
)

// channel is the LISTEN/NOTIFY channel of the change feed.
const channel = "sigtrail"

// change is a notification's payload (JSON). K is its kind:
// s: stream S grew to seq N (sent by the append statement itself);
// w: the webhook of stream S changed; d: destination D of org O changed;
// k: the signing keys changed; r: the replay job of stream S changed;
// m: a replica joined or left, or a lease was freed.
type change struct {
	K string `json:"k"`
	S string `json:"s,omitempty"`
	N int64  `json:"n,omitempty"`
	O string `json:"o,omitempty"`
	D string `json:"d,omitempty"`
}

// notify announces c from inside tx: PostgreSQL delivers it when tx
// commits, and never if it rolls back.
func notify(ctx context.Context, tx pgx.Tx, c change) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "SELECT pg_notify('"+channel+"', $1)", string(b))
	return err
}

// dispatch calls the handler method a payload names; a payload it cannot
// read is logged and ignored.
func (s *Store) dispatch(h store.ChangeHandler, payload string) {
	var c change
	if err := json.Unmarshal([]byte(payload), &c); err != nil {
		s.opts.Logger.Warn("postgres store: unreadable notification", "payload", payload, "err", err)
		return
	}
	switch c.K {
	case "s":
		h.StreamGrew(store.StreamID(c.S), c.N)
	case "w":
		h.WebhookChanged(store.StreamID(c.S))
	case "d":
		h.DestinationChanged(c.O, c.D)
	case "k":
		h.SigningKeysChanged()
	case "r":
		h.ReplayJobChanged(store.StreamID(c.S))
	case "m":
		h.MembershipChanged()
	default:
		s.opts.Logger.Warn("postgres store: unknown notification", "payload", payload)
	}
}

// Listen timing: how long a quiet connection waits before it is checked,
// how long the check may take, and the reconnection backoff.
const (
	listenIdleCheck  = 30 * time.Second
	listenPingLimit  = 10 * time.Second
	listenBackoffMin = 100 * time.Millisecond
	listenBackoffMax = 10 * time.Second
)

// Listen calls h for every change committed by any replica (this one
// included) until ctx ends, on a connection of its own. After losing the
// connection it reconnects with backoff and calls h.Resync, since
// notifications sent meanwhile are lost. It returns ctx's error, or an
// error when it cannot listen at start.
func (s *Store) Listen(ctx context.Context, h store.ChangeHandler) error {
	conn, err := s.listenConn(ctx)
	if err != nil {
		return s.fail(ctx, err, "listen")
	}
	for {
		err := s.waitNotifications(ctx, conn, h)
		conn.Close(context.WithoutCancel(ctx))
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.opts.Logger.Warn("postgres store: change feed lost its connection; reconnecting", "err", err)
		if conn, err = s.reconnect(ctx); err != nil {
			return err
		}
		s.opts.Logger.Info("postgres store: change feed reconnected")
		h.Resync()
	}
}

// listenConn opens a connection outside the pool and listens on it.
func (s *Store) listenConn(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return conn, nil
}

// waitNotifications dispatches notifications until the connection fails
// or ctx ends. A connection quiet for listenIdleCheck is pinged, so one
// that died silently (a network partition) is noticed.
func (s *Store) waitNotifications(ctx context.Context, conn *pgx.Conn, h store.ChangeHandler) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, listenIdleCheck)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			s.dispatch(h, n.Payload)
			continue
		case ctx.Err() != nil:
			return ctx.Err()
		case !errors.Is(err, context.DeadlineExceeded) || conn.IsClosed():
			return err
		}
		pctx, cancel := context.WithTimeout(ctx, listenPingLimit)
		err = conn.Ping(pctx)
		cancel()
		if err != nil {
			return err
		}
	}
}

// reconnect retries listenConn with doubling delays until it succeeds or
// ctx ends.
func (s *Store) reconnect(ctx context.Context) (*pgx.Conn, error) {
	delay := listenBackoffMin
	for {
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		conn, err := s.listenConn(ctx)
		if err == nil {
			return conn, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		s.opts.Logger.Debug("postgres store: change feed reconnect failed", "err", err, "retry_in", delay)
		delay = min(2*delay, listenBackoffMax)
	}
}
