package portal

import (
	"net/http"

	"github.com/sigtrail/sigtrail/internal/webform"
)

// csrfToken returns the form token of this browser (webform.CSRFToken:
// double submit), setting its cookie on first use.
func (s *server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	return webform.CSRFToken(w, r, csrfCookie, s.secure(r))
}

// csrfOK checks the posted form token against the cookie.
func csrfOK(r *http.Request) bool { return webform.CSRFOK(r, csrfCookie) }

// crossOriginDenied answers a post that the browser says came from another
// site.
func (s *server) crossOriginDenied(w http.ResponseWriter, r *http.Request) {
	if isAPI(r) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"status":403,"title":"Forbidden","type":"https://httpstatuses.com/403","instance":"kong:trace:` + info(r).trace + `","detail":"Cross-origin request refused"}` + "\n"))
		return
	}
	s.renderMessage(w, r, http.StatusForbidden, "Request refused", "This form was sent from another site, so it was refused. Open the page again and resubmit it.")
}
