package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/store/postgres/pgtest"
)

// A webhook change made on one replica takes effect on the one delivering
// before any entry appended after it, however late the delivering replica
// hears of it. The owner is paused (SIGSTOP) while the webhook moves to
// the other sink and an entry is ingested, so it hears of the PATCH's own
// audit entry, the destination change, the webhook change and the new
// entry all at once when it resumes, as a starved process on a loaded
// machine does: the entry must reach the new sink. (Before the fix, the
// owner sent it to the old sink and moved its cursor past it in about
// two rounds of five.)
func TestWebhookChangeOvertakesLaterEntriesOnAPausedOwner(t *testing.T) {
	const rounds = 10
	dbURL := pgtest.URL(t)
	dir := t.TempDir()
	var reps [2]server
	for i := range reps {
		reps[i] = startServe(t, filepath.Join(dir, "replica"+strconv.Itoa(i)), token, "--db", dbURL, "--log-level", "warn")
	}
	alive := []bool{true, true}
	jwks := reps[0].api + "/v2/audit-log-webhook/jwks.json"
	outs := [2]string{filepath.Join(dir, "siem0.log"), filepath.Join(dir, "siem1.log")}
	sinks := [2]string{startSink(t, outs[0], jwks), startSink(t, outs[1], jwks)}
	move := func(via server, to int) {
		t.Helper()
		call(t, via.api, "PATCH", "/v2/audit-log-webhook", token,
			fmt.Sprintf(`{"endpoint":"%s/","authorization":"Bearer siem%d","enabled":true,"log_format":"cef"}`, sinks[to], to), http.StatusOK)
	}
	move(reps[1], 0)
	producer, code := runCLI(t, "token", "create", "--db", dbURL, "--org", "default", "--role", "producer", "--name", "e2e")
	if code != 0 {
		t.Fatalf("token create: exit %d: %s", code, producer)
	}
	producer, _, _ = strings.Cut(producer, "\n")

	own := stableOwner(t, reps[:], alive)
	for r := 1; r <= rounds; r++ {
		to, other := r%2, reps[1-own]
		paused := reps[own].cmd.Process
		if err := paused.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		resume := func() { _ = paused.Signal(syscall.SIGCONT) }
		t.Cleanup(resume) // if a step below fails while it is stopped
		move(other, to)
		id := fmt.Sprintf("e2e-moved-%d", r)
		body := `{"event_class_id":"AUTHENTICATION_TYPE_BASIC","name":"AUTHENTICATION_OUTCOME_SUCCESS","request":"/login","success":true,"src":"203.0.113.7","principal_id":"p","user_agent":"e2e/1","trace_id":"` + id + `"}` + "\n"
		if ok, why := ingest(other.api, producer, []byte(body)); !ok {
			t.Fatalf("round %d: ingest: %s", r, why)
		}
		resume()
		moved := []string{id}
		if _, ok := waitUntil(30*time.Second, func() bool { return countAcked(t, outs[to], moved) == 1 }); !ok {
			t.Fatalf("round %d: the entry after the change did not reach the new sink in 30s; at the old sink: %d; owner now %d (was %d)",
				r, countAcked(t, outs[1-to], moved), owner(t, reps[:], alive), own)
		}
		// Sent the old way as well: possible only if the owner read the
		// entry before it heard of the change, which it heard first. A
		// thread descheduled between two of those notifications could
		// still do it, so it is reported rather than failed.
		if n := countAcked(t, outs[1-to], moved); n != 0 {
			t.Logf("round %d: the entry also reached the old sink", r)
		}
		if o := owner(t, reps[:], alive); o != own {
			own = stableOwner(t, reps[:], alive) // a lease lost in the pause; rare
		}
	}
}
