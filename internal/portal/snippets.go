package portal

import (
	"context"
	"strings"

	"github.com/sigtrail/sigtrail/internal/content"
	"github.com/sigtrail/sigtrail/internal/store"
)

// snippetsFor returns the snippets a page may embed for this viewer:
// published ones, and signed-in ones only for a signed-in developer. A page
// that names no snippet costs no query; a store failure renders the
// references as nothing (and is logged by the caller's log).
func (s *server) snippetsFor(ctx context.Context, portalID, markdown string, signedIn bool) (content.Snippets, error) {
	if !strings.Contains(markdown, "snippet") {
		return nil, nil
	}
	all, err := s.st.ListPortalSnippets(ctx, portalID)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]string, len(all))
	for _, sn := range all {
		if sn.Status == store.StatusPublished && (sn.Visibility == store.VisibilityPublic || signedIn) {
			byName[sn.Name] = sn.Content
		}
	}
	return func(name string) (string, bool) {
		md, ok := byName[name]
		return md, ok
	}, nil
}
