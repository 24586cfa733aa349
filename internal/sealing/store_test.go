package sealing

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/postgres"
	"github.com/sigtrail/sigtrail/internal/store/postgres/pgtest"
	"github.com/sigtrail/sigtrail/internal/store/sqlite"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func openSQLite(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

const (
	orgID    = "0193d4a8-9b8e-7c4f-8a4e-000000000001"
	listedID = "0193d4a8-9b8e-7c4f-8a4e-000000000002"
	legacyID = "0193d4a8-9b8e-7c4f-8a4e-000000000003"
)

// fill stores an org, a listed destination, the v2 webhook's inline one
// and a signing key through st, and returns the private key.
func fill(t *testing.T, st store.Store) ed25519.PrivateKey {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	if err := st.CreateOrg(ctx, store.Org{ID: orgID, Name: "o", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	for id, auth := range map[string]string{listedID: "Bearer listed-SECRET-1", legacyID: "Splunk legacy-SECRET-2"} {
		d := store.Destination{ID: id, OrgID: orgID, Name: id, Endpoint: "https://siem.example/in", Authorization: auth,
			LogFormat: audit.FormatJSON, Legacy: id == legacyID, CreatedAt: now, UpdatedAt: now}
		if err := st.CreateDestination(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.PutWebhook(ctx, store.Webhook{Stream: orgID, OrgID: orgID, DestinationID: legacyID, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	_, priv, _ := ed25519.GenerateKey(nil)
	if err := st.AddSigningKey(ctx, store.SigningKey{ID: "kid-1", PrivateKey: priv, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	return priv
}

// check reads everything back through st and compares with what fill stored.
func check(t *testing.T, st store.Store, priv ed25519.PrivateKey) {
	t.Helper()
	ctx := context.Background()
	ds, _, err := st.ListDestinations(ctx, orgID, store.NameFilter{}, store.Page{Size: 10})
	if err != nil || len(ds) != 1 || ds[0].Authorization != "Bearer listed-SECRET-1" {
		t.Fatalf("list: %+v %v", ds, err)
	}
	if d, err := st.GetDestination(ctx, orgID, legacyID); err != nil || d.Authorization != "Splunk legacy-SECRET-2" {
		t.Fatalf("get: %+v %v", d, err)
	}
	ks, err := st.ListSigningKeys(ctx)
	if err != nil || len(ks) != 1 || !bytes.Equal(ks[0].PrivateKey, priv) {
		t.Fatalf("keys: %v", err)
	}
}

// rawFiles is the database file and its WAL, as an attacker holding a
// copy of the data dir would read them.
func rawFiles(t *testing.T, path string) []byte {
	t.Helper()
	var all []byte
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

func TestSealedStoreKeepsNoPlaintextOnDisk(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sigtrail.db")
	keys := mustKeys(t, newKey(t))
	inner := openSQLite(t, path)
	st := Wrap(inner, keys, quiet)
	priv := fill(t, st)
	check(t, st, priv)
	if Inner(st) != store.Store(inner) {
		t.Fatal("Inner does not reach the wrapped store")
	}
	if err := inner.Close(); err != nil {
		t.Fatal(err)
	}

	disk := rawFiles(t, path)
	for _, secret := range [][]byte{[]byte("listed-SECRET-1"), []byte("legacy-SECRET-2"), priv, priv.Seed()} {
		if bytes.Contains(disk, secret) {
			t.Fatalf("the database file holds a secret in plaintext (%d bytes)", len(secret))
		}
	}
	// A plain store opened without the layer sees sealed values only.
	raw := openSQLite(t, path)
	defer raw.Close()
	d, err := raw.GetDestination(context.Background(), orgID, listedID)
	if err != nil || !IsSealed(d.Authorization) {
		t.Fatalf("raw authorization %q %v", d.Authorization, err)
	}
	ks, _ := raw.ListSigningKeys(context.Background())
	if len(ks) != 1 || !IsSealed(string(ks[0].PrivateKey)) {
		t.Fatal("raw private key is not sealed")
	}
	// With the wrong key file reads fail instead of returning garbage.
	other := Wrap(raw, mustKeys(t, newKey(t)), quiet)
	if _, err := other.GetDestination(context.Background(), orgID, listedID); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("wrong key file: %v", err)
	}
	if _, err := other.ListSigningKeys(context.Background()); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("wrong key file, signing keys: %v", err)
	}
}

// backends opens an empty raw store of each kind.
var backends = map[string]func(t *testing.T) store.Store{
	"sqlite": func(t *testing.T) store.Store {
		st := openSQLite(t, filepath.Join(t.TempDir(), "sigtrail.db"))
		t.Cleanup(func() { _ = st.Close() })
		return st
	},
	"postgres": func(t *testing.T) store.Store {
		st, err := postgres.Open(context.Background(), pgtest.URL(t), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	},
}

func TestResealMigratesPlaintextAndRotates(t *testing.T) {
	t.Parallel()
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testReseal(t, open(t))
		})
	}
}

func testReseal(t *testing.T, raw store.Store) {
	ctx := context.Background()
	priv := fill(t, raw) // written before any key was configured

	k1 := newKey(t)
	ring1 := mustKeys(t, k1)
	check(t, Wrap(raw, ring1, quiet), priv) // plaintext reads during migration
	n, err := Reseal(ctx, raw, ring1)
	if err != nil || n.Destinations != 2 || n.SigningKeys != 1 {
		t.Fatalf("first reseal: %+v %v", n, err)
	}
	allSealedWith(t, raw, ring1.Current())
	if n, err := Reseal(ctx, raw, ring1); err != nil || n != (Resealed{}) {
		t.Fatalf("second reseal rewrote %+v %v", n, err)
	}

	// Rotation: a new key on top, reseal, then the old key goes.
	k2 := newKey(t)
	ring21 := mustKeys(t, k2, k1)
	check(t, Wrap(raw, ring21, quiet), priv)
	if n, err := Reseal(ctx, raw, ring21); err != nil || n.Destinations != 2 || n.SigningKeys != 1 {
		t.Fatalf("reseal after rotation: %+v %v", n, err)
	}
	ring2 := mustKeys(t, k2)
	allSealedWith(t, raw, ring2.Current())
	check(t, Wrap(raw, ring2, quiet), priv)

	// A value no key of the file opens stops reseal: removing keys then
	// would lose it.
	if _, err := Reseal(ctx, raw, mustKeys(t, newKey(t))); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("reseal with a foreign key file: %v", err)
	}
}

func allSealedWith(t *testing.T, raw store.Store, id string) {
	t.Helper()
	ds, err := allDestinations(context.Background(), raw)
	if err != nil || len(ds) != 2 {
		t.Fatalf("destinations %d %v", len(ds), err)
	}
	for _, d := range ds {
		if k, ok := KeyOf(d.Authorization); !ok || k != id || strings.Contains(d.Authorization, "SECRET") {
			t.Fatalf("destination %s: %q", d.ID, d.Authorization)
		}
	}
	ks, _ := raw.ListSigningKeys(context.Background())
	for _, k := range ks {
		if kid, ok := KeyOf(string(k.PrivateKey)); !ok || kid != id {
			t.Fatalf("signing key %s not sealed with %s", k.ID, id)
		}
	}
}

// TestInnerKeepsTheChangeFeedVisible: the server finds PostgreSQL's
// LISTEN/NOTIFY through Inner, which the embedding hides.
func TestInnerKeepsTheChangeFeedVisible(t *testing.T) {
	t.Parallel()
	raw := backends["postgres"](t)
	var st store.Store = Wrap(raw, mustKeys(t, newKey(t)), quiet)
	if _, ok := st.(store.ChangeFeed); ok {
		t.Fatal("the wrapper itself claims the change feed: Inner is not needed, update this test")
	}
	if _, ok := Inner(st).(store.ChangeFeed); !ok {
		t.Fatal("Inner does not reach PostgreSQL's change feed")
	}
}

// TestNoKeyFile: without a key file secrets are stored as before, and a
// value sealed earlier is refused with a clear error instead of being
// sent on as ciphertext.
func TestNoKeyFile(t *testing.T) {
	t.Parallel()
	raw := backends["sqlite"](t)
	plain, err := WrapFile(raw, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	priv := fill(t, plain)
	check(t, raw, priv) // stored in plaintext, exactly as without the layer
	check(t, plain, priv)

	if _, err := Reseal(context.Background(), raw, mustKeys(t, newKey(t))); err != nil {
		t.Fatal(err)
	}
	_, err = plain.GetDestination(context.Background(), orgID, listedID)
	if !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), "no secret key file") {
		t.Fatalf("sealed value without a key file: %v", err)
	}
	if _, err := plain.ListSigningKeys(context.Background()); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("sealed signing key without a key file: %v", err)
	}
}

// Queued mail text (one-time links) is sealed at rest and opened for the
// sender; a mail sealed with a key no longer in the file is dropped.
func TestQueuedMailIsSealed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inner := backends["sqlite"](t)
	st := Wrap(inner, mustKeys(t, newKey(t)), quiet)
	now := time.Now().UTC()
	m := store.QueuedMail{ID: "0193d4a8-9b8e-7c4f-8a4e-00000000000a", To: "dev@example.com", Subject: "Verify",
		Text: "https://acme.example/verify-email?token=SECRET-TOKEN", CreatedAt: now, NextAttempt: now}
	if err := st.QueueMail(ctx, m, store.MailLimits{}); err != nil {
		t.Fatal(err)
	}
	raw, err := inner.ClaimMail(ctx, "raw", now, time.Millisecond, 10)
	if err != nil || len(raw) != 1 || !IsSealed(raw[0].Text) || strings.Contains(raw[0].Text, "SECRET-TOKEN") {
		t.Fatalf("raw queued mail %+v %v", raw, err)
	}
	got, err := st.ClaimMail(ctx, "sender", now.Add(time.Second), time.Minute, 10)
	if err != nil || len(got) != 1 || got[0].Text != m.Text {
		t.Fatalf("claimed through the layer: %+v %v", got, err)
	}

	m.ID = "0193d4a8-9b8e-7c4f-8a4e-00000000000b"
	if err := st.QueueMail(ctx, m, store.MailLimits{}); err != nil {
		t.Fatal(err)
	}
	other := Wrap(inner, mustKeys(t, newKey(t)), quiet)
	if got, err := other.ClaimMail(ctx, "sender", now.Add(time.Second), time.Minute, 10); err != nil || len(got) != 0 {
		t.Fatalf("with the wrong key file: %+v %v", got, err)
	}
	if left, _ := inner.ClaimMail(ctx, "raw", now.Add(time.Hour), time.Minute, 10); len(left) != 1 || left[0].ID == m.ID {
		t.Fatalf("the mail that cannot be opened was not dropped: %+v", left)
	}
}

// A rename keeps the sealed authorization as stored, so the backend sees
// no change to how the destination delivers; a new value is sealed anew.
func TestUpdateKeepsAnUnchangedSealedAuthorization(t *testing.T) {
	t.Parallel()
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			raw := open(t)
			st := Wrap(raw, mustKeys(t, newKey(t)), quiet)
			fill(t, st)
			sealed := func() string {
				t.Helper()
				d, err := raw.GetDestination(ctx, orgID, listedID)
				if err != nil || !IsSealed(d.Authorization) {
					t.Fatalf("raw authorization %q %v", d.Authorization, err)
				}
				return d.Authorization
			}
			before := sealed()
			d, err := st.GetDestination(ctx, orgID, listedID)
			if err != nil {
				t.Fatal(err)
			}
			d.Name = "renamed"
			if err := st.UpdateDestination(ctx, d); err != nil {
				t.Fatal(err)
			}
			if sealed() != before {
				t.Error("a rename sealed the unchanged authorization anew")
			}
			d.Authorization = "Bearer listed-SECRET-3"
			if err := st.UpdateDestination(ctx, d); err != nil {
				t.Fatal(err)
			}
			if sealed() == before {
				t.Error("a new authorization kept the old sealed value")
			}
			if got, err := st.GetDestination(ctx, orgID, listedID); err != nil || got.Authorization != "Bearer listed-SECRET-3" || got.Name != "renamed" {
				t.Fatalf("read back %q %q %v", got.Name, got.Authorization, err)
			}
		})
	}
}
