package api

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

var hexColor = regexp.MustCompile(`^#([a-fA-F0-9]{6}|[a-fA-F0-9]{3})$`)

func (s *server) getCustomization(c *call) error {
	p, err := s.portal(c)
	if err != nil {
		return err
	}
	cu, err := s.st.GetPortalCustomization(c.ctx(), p.ID)
	if apperr.Is(err, apperr.NotFound) {
		return c.json(http.StatusOK, store.PortalCustomization{}) // nothing customised
	}
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, cu)
}

// putCustomization replaces (PUT) or merges into (PATCH) the portal's
// customization: a PATCH keeps what it does not name, object by object,
// removes what it sets to null; a menu it names replaces that menu.
func (s *server) putCustomization(merge bool) func(c *call) error {
	return func(c *call) error {
		p, err := s.portal(c)
		if err != nil {
			return err
		}
		var b store.PortalCustomization
		raw := teeBody(c)
		if err := c.decode(&b); err != nil {
			return err
		}
		if merge {
			cur, err := s.st.GetPortalCustomization(c.ctx(), p.ID)
			if err != nil && !apperr.Is(err, apperr.NotFound) {
				return err
			}
			b = clearNulls(mergeCustomization(cur, b), findNulls(raw.Bytes()))
		}
		if err := checkCustomization(b); err != nil {
			return err
		}
		if err := s.st.PutPortalCustomization(c.ctx(), p.ID, b); err != nil {
			return err
		}
		return c.json(http.StatusOK, b)
	}
}

func mergeCustomization(cur, in store.PortalCustomization) store.PortalCustomization {
	out := cur
	if in.Theme != nil {
		t := store.Theme{}
		if cur.Theme != nil {
			t = *cur.Theme
		}
		t.Name, t.Mode = pick(in.Theme.Name, t.Name), pick(in.Theme.Mode, t.Mode)
		if in.Theme.Colors != nil {
			colors := store.ThemeColors{}
			if t.Colors != nil {
				colors = *t.Colors
			}
			colors.Primary = pick(in.Theme.Colors.Primary, colors.Primary)
			t.Colors = &colors
		}
		out.Theme = &t
	}
	out.Layout, out.CSS, out.Robots = pick(in.Layout, cur.Layout), pick(in.CSS, cur.CSS), pick(in.Robots, cur.Robots)
	if in.Menu != nil {
		m := store.Menus{}
		if cur.Menu != nil {
			m = *cur.Menu
		}
		if in.Menu.Main != nil {
			m.Main = in.Menu.Main
		}
		if in.Menu.FooterSections != nil {
			m.FooterSections = in.Menu.FooterSections
		}
		if in.Menu.FooterBottom != nil {
			m.FooterBottom = in.Menu.FooterBottom
		}
		out.Menu = &m
	}
	if in.SpecRenderer != nil {
		r := store.SpecRenderer{}
		if cur.SpecRenderer != nil {
			r = *cur.SpecRenderer
		}
		n := in.SpecRenderer
		r.TryItUI, r.TryItInsomnia, r.InfiniteScroll = pick(n.TryItUI, r.TryItUI), pick(n.TryItInsomnia, r.TryItInsomnia), pick(n.InfiniteScroll, r.InfiniteScroll)
		r.ShowSchemas, r.HideInternal, r.HideDeprecated = pick(n.ShowSchemas, r.ShowSchemas), pick(n.HideInternal, r.HideInternal), pick(n.HideDeprecated, r.HideDeprecated)
		r.AllowCustomServerURLs = pick(n.AllowCustomServerURLs, r.AllowCustomServerURLs)
		out.SpecRenderer = &r
	}
	return out
}

func pick[T any](in, cur *T) *T {
	if in != nil {
		return in
	}
	return cur
}

// checkCustomization validates Kong's PortalCustomizationV3, and that
// every menu link is a portal path or an http(s) URL: the portal's pages
// show them as links.
func checkCustomization(cu store.PortalCustomization) error {
	if t := cu.Theme; t != nil {
		if t.Mode != nil && *t.Mode != "light" && *t.Mode != "dark" && *t.Mode != "system" {
			return apperr.InvalidField("body", "theme.mode", "invalid", "must be light, dark or system")
		}
		if t.Name != nil {
			if err := checkText("theme.name", *t.Name, maxNameLen, false); err != nil {
				return err
			}
		}
		if t.Colors != nil && t.Colors.Primary != nil && !hexColor.MatchString(*t.Colors.Primary) {
			return apperr.InvalidField("body", "theme.colors.primary", "matches_regex", "must be a valid hex color value")
		}
	}
	if cu.Layout != nil {
		if err := checkText("layout", *cu.Layout, maxNameLen, false); err != nil {
			return err
		}
	}
	if m := cu.Menu; m != nil {
		if err := checkMenu("menu.main", m.Main); err != nil {
			return err
		}
		for i, sec := range m.FooterSections {
			if err := checkText(menuField("menu.footer_sections", i, "title"), sec.Title, maxTitleLen, true); err != nil {
				return err
			}
			if err := checkMenu(menuField("menu.footer_sections", i, "items"), sec.Items); err != nil {
				return err
			}
		}
		if err := checkMenu("menu.footer_bottom", m.FooterBottom); err != nil {
			return err
		}
	}
	return nil
}

func menuField(list string, i int, field string) string {
	return list + "[" + strconv.Itoa(i) + "]." + field
}

func checkMenu(field string, items []store.MenuItem) error {
	for i, it := range items {
		if err := checkText(menuField(field, i, "title"), it.Title, maxTitleLen, true); err != nil {
			return err
		}
		if it.Visibility != store.VisibilityPublic && it.Visibility != store.VisibilityPrivate {
			return apperr.InvalidField("body", menuField(field, i, "visibility"), "invalid", "must be public or private")
		}
		if !menuPath(it.Path) {
			return apperr.InvalidField("body", menuField(field, i, "path"), "invalid",
				"must be a portal path starting with / or an http(s) URL, of at most 512 characters")
		}
	}
	return nil
}

func menuPath(p string) bool {
	if p == "" || len(p) > maxSlugLen || strings.ContainsFunc(p, func(r rune) bool { return r < ' ' || r == 0x7f || r == '\\' }) {
		return false
	}
	if strings.HasPrefix(p, "/") {
		return !strings.HasPrefix(p, "//") // a scheme-relative URL leaves the portal
	}
	u, err := url.Parse(p)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
