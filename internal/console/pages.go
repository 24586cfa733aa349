package console

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strings"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/portal"
	"github.com/sigtrail/sigtrail/internal/store"
	"github.com/sigtrail/sigtrail/internal/webform"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets/console.css
var consoleCSS []byte

//go:embed assets/console.js
var consoleJS []byte

// maxForm caps a posted form.
const maxForm = 64 << 10

// pageNames are the templates parsed with the layout.
var pageNames = []string{"login", "message", "overview", "destinations", "destination", "webhooks", "log", "replay",
	"portals", "keys", "tokens", "users", "setpassword", "message-public", "orgs"}

// navItem is one link of the console's navigation.
type navItem struct {
	Path, Label string
	Current     bool
}

// pageData is what every page template sees.
type pageData struct {
	Title         string
	CSRF          string
	User          store.User
	OrgName       string // the user's org, named for a person of several orgs
	Nav           []navItem
	Error, Notice string
	Fields        map[string]string
	FieldErrors   map[string]string
	Refresh       int // seconds; 0: no automatic refresh (console.js, which a checkbox pauses)
	// Can says which writes the user's role allows; pages show no write
	// control the server would refuse.
	Can  can
	Data any
}

// can lists the kinds of writes a role may do, as the API grants them.
type can struct{ Audit, Portal, Admin bool }

func canOf(r store.Role) can {
	return can{
		Audit:  r == store.RoleOrgAdmin || r == store.RoleAuditLogAdmin,
		Portal: r == store.RoleOrgAdmin || r == store.RolePortalAdmin,
		Admin:  r == store.RoleOrgAdmin,
	}
}

type fieldRef struct {
	FieldErrors map[string]string
	Name        string
}

// parsePages parses each page with the layout; the templates are embedded,
// so a parse error is a build defect and panics at start-up.
func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"field": func(d pageData, name string) fieldRef { return fieldRef{d.FieldErrors, name} },
		"list":  func(v ...string) []string { return v },
	}
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html"))
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		pages[name] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, "templates/"+name+".html"))
	}
	return pages
}

var navItems = []navItem{{"/", "Overview", false}, {"/destinations", "Destinations", false}, {"/webhooks", "Webhooks", false},
	{"/log", "Audit log", false}, {"/replay", "Replay", false}, {"/portals", "Portals", false}, {"/keys", "Keys", false},
	{"/tokens", "Tokens", false}, {"/users", "Users", false}}

func (h *Handler) newPage(w http.ResponseWriter, r *http.Request, u store.User, title string) pageData {
	d := pageData{Title: title, CSRF: webform.CSRFToken(w, r, csrfCookie, h.secure(r)), User: u, Can: canOf(u.Role),
		Fields: map[string]string{}, FieldErrors: map[string]string{}}
	if u.ID != "" {
		first := "/" + strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)[0]
		items := navItems
		d.OrgName = info(r).orgName
		if info(r).orgs > 1 {
			items = append(slices.Clip(items), navItem{Path: "/orgs", Label: "Switch org"})
		}
		for _, n := range items {
			if n.Path == "/users" && u.Role != store.RoleOrgAdmin {
				continue
			}
			n.Current = n.Path == first
			d.Nav = append(d.Nav, n)
		}
	}
	return d
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, page string, d pageData) {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	// The only script is the console's own auto-refresh (pages work
	// without it); charts are inline SVG.
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	if err := h.pages[page].ExecuteTemplate(w, "layout", d); err != nil {
		h.log.Error("render console page", "page", page, "trace_id", info(r).trace, "err", err)
	}
}

// showError puts err on the page: field errors beside their fields, other
// known errors on top, internal errors as a line with the trace id.
func (h *Handler) showError(r *http.Request, d *pageData, err error) int {
	var ae *apperr.Error
	if errors.As(err, &ae) && ae.Code != apperr.Internal {
		if ae.Code == apperr.Invalid && len(ae.Params) > 0 {
			for _, p := range ae.Params {
				d.FieldErrors[formField(p.Field)] = sentence(p.Reason)
			}
			d.Error = "Please correct the fields marked below; nothing was saved."
		} else {
			d.Error = ae.Message
		}
		return apperr.HTTPStatus(ae.Code)
	}
	h.log.Error("console page", "path", r.URL.Path, "trace_id", info(r).trace, "err", err)
	d.Error = "Something went wrong on our side. Please try again; if it persists, quote trace id " + info(r).trace + "."
	return http.StatusInternalServerError
}

// formField maps the API's field names to the forms'.
func formField(f string) string {
	f = strings.TrimPrefix(f, "body.")
	if i := strings.LastIndex(f, "."); i >= 0 && !strings.HasPrefix(f, "filter") {
		f = f[i+1:]
	}
	return f
}

func sentence(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

// parseForm reads a posted form (size-capped) and checks its CSRF token;
// on failure it has answered.
func (h *Handler) parseForm(w http.ResponseWriter, r *http.Request, u store.User) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		h.message(w, r, u, http.StatusBadRequest, "Form not read", "The form could not be read. Please try again.")
		return false
	}
	if !webform.CSRFOK(r, csrfCookie) {
		h.message(w, r, u, http.StatusForbidden, "Form expired", "This form has expired. Open the page again and resubmit it.")
		return false
	}
	return true
}

func (h *Handler) message(w http.ResponseWriter, r *http.Request, u store.User, status int, title, msg string) {
	d := h.newPage(w, r, u, title)
	if status >= 400 {
		d.Error = msg
	} else {
		d.Notice = msg
	}
	h.render(w, r, status, "message", d)
}

// withUser wraps a page that needs a logged-in user. The session is checked
// on every request; an expired or missing one leads to the log-in page.
// pageFunc is a page of a logged-in user.
type pageFunc func(w http.ResponseWriter, r *http.Request, u store.User)

func (h *Handler) withUser(page pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, err := h.currentUser(r.Context(), r)
		switch {
		case errors.Is(err, errSessionExpired):
			h.clearSessionCookie(w, r)
			http.Redirect(w, r, "/login?m=expired", http.StatusSeeOther)
			return
		case errors.Is(err, errNoSession):
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		case err != nil:
			d := h.newPage(w, r, store.User{}, "Console unavailable")
			h.render(w, r, h.showError(r, &d, err), "message", d)
			return
		}
		// A person with several orgs sees where they are and can switch.
		ri := info(r)
		if ri.orgs, ri.orgName, err = h.enabledOrgs(r.Context(), u); err != nil {
			d := h.newPage(w, r, store.User{}, "Console unavailable")
			h.render(w, r, h.showError(r, &d, err), "message", d)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), reqKey{}, ri))
		if r.Method == http.MethodPost && !h.parseForm(w, r, u) {
			return
		}
		page(w, r, u)
	}
}

func (h *Handler) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", h.pageLogin)
	mux.HandleFunc("POST /login", h.pageLoginPost)
	mux.HandleFunc("POST /logout", h.pageLogout)
	mux.HandleFunc("GET /set-password", h.pageSetPassword)
	mux.HandleFunc("POST /set-password", h.pageSetPasswordPost)
	mux.HandleFunc("GET /orgs", h.pageOrgs)
	mux.HandleFunc("POST /orgs/{user}", h.pageChooseOrg)
	mux.HandleFunc("GET /assets/portal.css", serveAsset("text/css; charset=utf-8", portal.Stylesheet()))
	mux.HandleFunc("GET /assets/console.css", serveAsset("text/css; charset=utf-8", consoleCSS))
	mux.HandleFunc("GET /assets/console.js", serveAsset("text/javascript; charset=utf-8", consoleJS))
	mux.HandleFunc("GET /{$}", h.withUser(h.pageOverview))
	h.pageRoutes(mux)
	mux.HandleFunc("/", h.withUser(func(w http.ResponseWriter, r *http.Request, u store.User) {
		h.message(w, r, u, http.StatusNotFound, "Page not found", "There is no page at this address.")
	}))
	// Browsers' Sec-Fetch-Site and Origin headers stop cross-site posts
	// before any handler runs; the form token is the second line.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.message(w, r, store.User{}, http.StatusForbidden, "Request refused", "This form was sent from another site, so it was refused.")
	}))
	return cop.Handler(mux)
}

func serveAsset(contentType string, b []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(b)
	}
}

// loginNotice is the message another flow sends the log-in page to, named
// by key so no text from the URL reaches the page.
func loginNotice(key string) string {
	switch key {
	case "expired":
		return "Your session has expired. Please log in again."
	case "logged-out":
		return "You have logged out."
	case "password-set":
		return "Your password is set. Log in with it."
	}
	return ""
}

func (h *Handler) pageLogin(w http.ResponseWriter, r *http.Request) {
	d := h.newPage(w, r, store.User{}, "Log in to the console")
	d.Notice = loginNotice(r.URL.Query().Get("m"))
	h.render(w, r, http.StatusOK, "login", d)
}

func (h *Handler) pageLoginPost(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r, store.User{}) {
		return
	}
	d := h.newPage(w, r, store.User{}, "Log in to the console")
	d.Fields["email"] = strings.TrimSpace(r.PostForm.Get("email"))
	password := r.PostForm.Get("password")
	var params []apperr.InvalidParam
	if d.Fields["email"] == "" {
		params = append(params, apperr.InvalidParam{Field: "email", Reason: "is required"})
	}
	if password == "" {
		params = append(params, apperr.InvalidParam{Field: "password", Reason: "is required"})
	}
	var err error
	var l login
	if len(params) > 0 {
		err = &apperr.Error{Code: apperr.Invalid, Message: "Missing fields", Params: params}
	} else {
		l, err = h.authenticate(r.Context(), r, d.Fields["email"], password)
	}
	if err != nil {
		status := h.showError(r, &d, err)
		if len(params) > 0 {
			d.Error = "Please fill in the fields marked below."
		}
		h.render(w, r, status, "login", d)
		return
	}
	h.setDeviceCookie(w, r, l.device)
	if l.choose != "" {
		// No org is entered yet: the browser's old session is gone.
		h.clearSessionCookie(w, r)
		h.setChooseCookie(w, r, l.choose)
		http.Redirect(w, r, "/orgs", http.StatusSeeOther)
		return
	}
	h.clearChooseCookie(w, r)
	h.setSessionCookie(w, r, l.session, h.cfg.SessionTTL)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// pageLogout ends the session whose cookie came with the request and
// records the log-out in the user's org log.
func (h *Handler) pageLogout(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r, store.User{}) {
		return
	}
	if secret := webform.CookieValue(r, sessionCookie); secret != "" && len(secret) <= 128 {
		hash := webform.SecretHash(secret)
		sess, err := h.st.GetUserSession(r.Context(), hash)
		switch {
		case err == nil:
			if err := h.st.DeleteUserSession(r.Context(), hash); err != nil && !apperr.Is(err, apperr.NotFound) {
				h.message(w, r, store.User{}, http.StatusServiceUnavailable, "Log out", "Logging out failed; try again.")
				return
			}
			u := store.User{ID: sess.UserID, OrgID: sess.OrgID}
			if err := h.recordLogout(r.Context(), r, u, http.StatusSeeOther); err != nil {
				h.log.Error("console: log-out not recorded", "user_id", u.ID, "trace_id", info(r).trace, "err", err)
			}
		case !apperr.Is(err, apperr.NotFound):
			h.message(w, r, store.User{}, http.StatusServiceUnavailable, "Log out", "Logging out failed; try again.")
			return
		}
	}
	// A log-out before choosing an org ends the chooser too.
	if secret := webform.CookieValue(r, chooseCookie); secret != "" && len(secret) <= 128 {
		hash := webform.SecretHash(secret)
		t, err := h.st.GetUserToken(r.Context(), hash)
		if err == nil && t.Purpose == store.PurposeChooseOrg {
			_, err = h.st.ConsumeUserToken(r.Context(), hash)
		}
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			h.message(w, r, store.User{}, http.StatusServiceUnavailable, "Log out", "Logging out failed; try again.")
			return
		}
	}
	h.clearChooseCookie(w, r)
	h.clearSessionCookie(w, r)
	http.Redirect(w, r, "/login?m=logged-out", http.StatusSeeOther)
}

// allowed reports whether role is org-admin or one of roles.
func allowed(role store.Role, roles ...store.Role) bool {
	return role == store.RoleOrgAdmin || slices.Contains(roles, role)
}
