package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/clock"
	"github.com/sigtrail/sigtrail/internal/sealing"
	"github.com/sigtrail/sigtrail/internal/signing"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/store/postgres"
	"github.com/sigtrail/sigtrail/internal/store/postgres/pgtest"
	"github.com/sigtrail/sigtrail/internal/tenancy"
)

// On PostgreSQL the replicas tell time by the database's clock, so an
// admin command run from a host whose clock is off must write the instants
// they compare by that clock too: a key rotated from a host an hour behind
// still signs only after the activation delay (not at once, before the
// replicas publish it), and a token created there with --expires 1h is not
// expired when it is made.
func TestCommandsOnPostgreSQLUseTheDatabaseClock(t *testing.T) {
	t.Parallel()
	db := pgtest.URL(t)
	ctx := t.Context()
	if _, err := tenancy.New(mustOpen(t, db), clock.Real{}).CreateOrg(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		skew  time.Duration // the host's clock less the database's
		check func(t *testing.T, st store.Store, dbNow time.Time, run func(args ...string))
	}{
		{"keys rotate", -time.Hour, func(t *testing.T, st store.Store, dbNow time.Time, run func(args ...string)) {
			run("keys", "rotate", "--db", db)
			run("keys", "rotate", "--db", db)
			keys, err := st.ListSigningKeys(ctx)
			if err != nil {
				t.Fatal(err)
			}
			newest := keys[0]
			for _, k := range keys {
				if k.CreatedAt.After(newest.CreatedAt) {
					newest = k
				}
			}
			if d := newest.CreatedAt.Sub(dbNow); d < signing.ActivationDelay-time.Minute || d > signing.ActivationDelay+time.Minute {
				t.Errorf("the rotated key signs from %s, %v from the database's now, want about %v (the activation delay)",
					newest.CreatedAt.Format(time.RFC3339), d.Round(time.Second), signing.ActivationDelay)
			}
		}},
		{"token create", -2 * time.Hour, func(t *testing.T, st store.Store, dbNow time.Time, run func(args ...string)) {
			run("token", "create", "--db", db, "--org", "acme", "--role", "producer", "--name", "skewed", "--expires", "1h")
			o, err := st.GetOrgByName(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			toks, err := st.ListTokens(ctx, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, tok := range toks {
				if tok.Name != "skewed" {
					continue
				}
				if d := tok.ExpiresAt.Sub(dbNow); d < 30*time.Minute || d > 90*time.Minute {
					t.Errorf("the token expires %v from the database's now, want about 1h", d.Round(time.Second))
				}
				return
			}
			t.Fatal("the token was not stored")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := mustOpen(t, db)
			dbNow, err := sealing.Inner(st).(*postgres.Store).DatabaseNow(ctx)
			if err != nil {
				t.Fatal(err)
			}
			env := &Env{Getenv: func(string) string { return "" }, Stdin: strings.NewReader(""),
				Clock: clock.NewFake(dbNow.Add(tc.skew))}
			run := func(args ...string) {
				t.Helper()
				var out, errb bytes.Buffer
				env.Stdout, env.Stderr = &out, &errb
				var err error
				for _, c := range commands() {
					if c.name == args[0] {
						err = c.run(ctx, env, args[1:])
					}
				}
				if err != nil {
					t.Fatalf("%s: %v\n%s%s", strings.Join(args[:2], " "), err, out.String(), errb.String())
				}
			}
			tc.check(t, st, dbNow, run)
		})
	}
}

func mustOpen(t *testing.T, db string) store.Store {
	t.Helper()
	st, err := openStore(context.Background(), "", db, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
