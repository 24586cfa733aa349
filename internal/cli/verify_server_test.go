package cli

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/signing"
)

// pathRecorder notes the path of every request it carries.
type pathRecorder struct {
	mu    sync.Mutex
	paths []string
}

func (p *pathRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	p.mu.Lock()
	p.paths = append(p.paths, r.URL.Path)
	p.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (p *pathRecorder) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.paths
	p.paths = nil
	return out
}

// verify --server asks the org's tree first and, once it knows the org's
// stream, only a portal's tree for any other stream: no run asks a path
// that answers 404, which would be a failed request in the org's log.
func TestTreeClientAsksNoPathThatIsNotTheStreams(t *testing.T) {
	t.Parallel()
	base, token := replayServer(t)
	orgStreamToSink(t, base, token)
	res, err := http.Get(base + "/v2/audit-log-webhook/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	v, err := signing.ParseJWKS(doc)
	if err != nil {
		t.Fatal(err)
	}
	keys := v.PublicKeys()
	newClient := func() (*treeClient, *pathRecorder) {
		rec := &pathRecorder{}
		return &treeClient{base: base, token: token, http: &http.Client{Transport: rec, Timeout: 10 * time.Second},
			keys: keys, paths: map[string]string{}}, rec
	}
	ctx := context.Background()

	// The org's stream: its ID is in the delivered checkpoint's origin,
	// once the webhook has delivered something.
	c, rec := newClient()
	var org string
	for deadline := time.Now().Add(20 * time.Second); org == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		apiCall(t, http.MethodGet, base+"/v3/audit-log-destinations", token, nil, nil)
		if _, err := c.Latest(ctx, "00000000-0000-4000-8000-000000000000"); err == nil {
			t.Fatal("a stream no one has answered a checkpoint")
		}
		org = c.orgStream
	}
	if org == "" {
		t.Fatal("the org's tree never answered a delivered checkpoint")
	}
	c, rec = newClient()
	if _, err := c.Latest(ctx, org); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); !slices.Equal(got, []string{orgTree + "/checkpoint"}) {
		t.Errorf("the org's stream asked %q", got)
	}
	// Another stream (a portal's, here one that does not exist): the org's
	// tree is known, so only the portal's is asked.
	other := "11111111-1111-4111-8111-111111111111"
	_, err = c.Latest(ctx, other)
	if err == nil || !strings.Contains(err.Error(), "/v3/portals/"+other) {
		t.Errorf("err %v, want the portal tree's answer", err)
	}
	if got := rec.take(); !slices.Equal(got, []string{"/v3/portals/" + other + "/audit-log-tree/checkpoint"}) {
		t.Errorf("another stream asked %q", got)
	}
}
