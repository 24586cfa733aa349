package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/postgres/pgtest"
)

// feed records what a ChangeHandler hears, as strings, on a channel.
type feed chan string

func (f feed) StreamGrew(s store.StreamID, seq int64) { f <- fmt.Sprintf("grew %s %d", s, seq) }
func (f feed) WebhookChanged(s store.StreamID)        { f <- "webhook " + string(s) }
func (f feed) DestinationChanged(org, dest string)    { f <- "destination " + org + " " + dest }
func (f feed) SigningKeysChanged()                    { f <- "keys" }
func (f feed) ReplayJobChanged(s store.StreamID)      { f <- "replay " + string(s) }
func (f feed) MembershipChanged()                     { f <- "membership" }
func (f feed) Resync()                                { f <- "resync" }

// expect waits up to within for want, failing on anything else heard first.
func (f feed) expect(t *testing.T, want string, within time.Duration) {
	t.Helper()
	select {
	case got := <-f:
		if got != want {
			t.Fatalf("heard %q, want %q", got, want)
		}
	case <-time.After(within):
		t.Fatalf("did not hear %q within %s", want, within)
	}
}

// listen starts h listening on s until the test ends, and waits until it
// hears (an append on s is announced, so the listener is in place).
func listen(t *testing.T, s *Store, f feed) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Listen(ctx, f) }()
	stop = sync.OnceValue(func() error {
		cancel()
		return <-done
	})
	t.Cleanup(func() { stop() })
	warm := store.StreamID("warm-up")
	deadline := time.Now().Add(10 * time.Second)
	for n := int64(1); ; n++ {
		if _, err := s.Append(t.Context(), []store.NewEntry{testEntry(warm, "w")}); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-f:
			// Drain the rest of the warm-up announcements.
			for want := fmt.Sprintf("grew %s %d", warm, n); got != want; got = <-f {
			}
			return stop
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the listener never heard an append")
		}
	}
}

// Two stores on one database: what A commits reaches a handler listening
// on B within a second; what rolls back is never announced.
func TestListenHearsOtherReplicas(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	a, b := openURL(t, url, Options{}), openURL(t, url, Options{})
	f := make(feed, 64)
	stop := listen(t, b, f)
	ctx := t.Context()

	st := store.StreamID("stream-1")
	seqs, err := a.Append(ctx, []store.NewEntry{testEntry(st, "1"), testEntry(st, "2"), testEntry("stream-2", "3")})
	if err != nil {
		t.Fatal(err)
	}
	// One announcement per stream per commit, with its highest seq, in
	// stream order.
	f.expect(t, fmt.Sprintf("grew %s %d", st, seqs[1]), time.Second)
	f.expect(t, "grew stream-2 1", time.Second)

	org := store.Org{ID: "org-1", Name: "acme", CreatedAt: time.Unix(1, 0)}
	mustOK(t, a.CreateOrg(ctx, org))
	d := store.Destination{ID: "dest-1", OrgID: org.ID, Name: "siem", Endpoint: "https://siem.example.com", LogFormat: "cef"}
	mustOK(t, a.CreateDestination(ctx, d))
	// Refused writes roll back and say nothing.
	if err := a.PutWebhook(ctx, store.Webhook{Stream: "org-1", OrgID: org.ID, DestinationID: "no-such"}); err == nil {
		t.Fatal("PutWebhook with an unknown destination succeeded")
	}
	mustOK(t, a.PutWebhook(ctx, store.Webhook{Stream: "org-1", OrgID: org.ID, DestinationID: d.ID, Enabled: true}))
	f.expect(t, "webhook org-1", time.Second)
	// A rename changes nothing the replicas deliver by and says nothing:
	// the signing key added after it is heard first.
	d.Name = "renamed"
	mustOK(t, a.UpdateDestination(ctx, d))
	mustOK(t, a.AddSigningKey(ctx, store.SigningKey{ID: "k1", PrivateKey: make([]byte, 64), CreatedAt: time.Unix(2, 0)}))
	f.expect(t, "keys", time.Second)
	d.Endpoint = "https://siem.example.com/other"
	mustOK(t, a.UpdateDestination(ctx, d))
	f.expect(t, "destination org-1 dest-1", time.Second)
	if err := a.UpdateDestination(ctx, store.Destination{ID: "no-such", OrgID: org.ID, Name: "x"}); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("updating an unknown destination: %v", err)
	}
	mustOK(t, a.AddSigningKey(ctx, store.SigningKey{ID: "k2", PrivateKey: make([]byte, 64), CreatedAt: time.Unix(3, 0)}))
	f.expect(t, "keys", time.Second)
	mustOK(t, a.DeleteSigningKeysRetiredBefore(ctx, time.Unix(4, 0)))
	f.expect(t, "keys", time.Second)
	mustOK(t, a.PutReplayJob(ctx, store.ReplayJob{Stream: "org-1", OrgID: org.ID, Status: store.JobAccepted}))
	f.expect(t, "replay org-1", time.Second)
	mustOK(t, a.DeleteWebhook(ctx, "org-1"))
	f.expect(t, "webhook org-1", time.Second)
	if err := a.DeleteDestination(ctx, org.ID, d.ID); err != nil {
		t.Fatal(err)
	}
	f.expect(t, "destination org-1 dest-1", time.Second)

	p := store.Portal{ID: "portal-1", OrgID: org.ID, Name: "p", DefaultDomain: "p.example.com"}
	mustOK(t, a.CreatePortal(ctx, p))
	mustOK(t, a.DeletePortal(ctx, org.ID, p.ID))
	f.expect(t, "replay portal-1", time.Second)
	f.expect(t, "webhook portal-1", time.Second)

	// Membership: a replica's first heartbeat (not the next ones), a lease
	// released (not one already lost), a replica leaving.
	now := time.Unix(100, 0)
	mustOK(t, a.Heartbeat(ctx, "replica-a", now.Add(8*time.Second)))
	f.expect(t, "membership", time.Second)
	mustOK(t, a.Heartbeat(ctx, "replica-a", now.Add(10*time.Second)))
	l, err := a.AcquireLease(ctx, "webhook/x", "replica-a", now, now.Add(8*time.Second))
	mustOK(t, err)
	mustOK(t, a.ReleaseLease(ctx, l))
	f.expect(t, "membership", time.Second)
	mustOK(t, a.ReleaseLease(ctx, l))
	mustOK(t, a.RemoveReplica(ctx, "replica-a"))
	f.expect(t, "membership", time.Second)

	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Listen returned %v after its context ended, want context.Canceled", err)
	}
	select {
	case got := <-f:
		t.Fatalf("heard %q that nothing announced", got)
	default:
	}
}

// A listener whose session is killed reconnects, says Resync (it may have
// missed something), and hears what follows.
func TestListenReconnectsAndResyncs(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	a, b := openURL(t, url, Options{}), openURL(t, url, Options{})
	f := make(feed, 64)
	listen(t, b, f)
	terminateBackends(t, url)
	f.expect(t, "resync", 10*time.Second)
	// The append may race the new LISTEN; keep appending until heard.
	deadline := time.Now().Add(10 * time.Second)
	for {
		seqs, err := a.Append(t.Context(), []store.NewEntry{testEntry("after", "x")})
		okOrUnavailable(t, err, "append after terminating sessions")
		if err == nil {
			select {
			case got := <-f:
				if want := fmt.Sprintf("grew after %d", seqs[0]); got != want {
					t.Fatalf("heard %q, want %q", got, want)
				}
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the listener never heard an append after reconnecting")
		}
	}
}

// Listen answers at once when it cannot listen at all.
func TestListenFailsWhenItCannotStart(t *testing.T) {
	t.Parallel()
	p, viaProxy := proxiedDB(t)
	s := openURL(t, viaProxy, Options{ConnectTimeout: time.Second})
	p.cut()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err := s.Listen(ctx, make(feed, 1))
	if !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("Listen on an unreachable database = %v, want Unavailable", err)
	}
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
