package api

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/store"
)

// Page sizes.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// pageSize reads page[size].
func pageSize(q url.Values) (int, error) {
	v := q.Get("page[size]")
	if v == "" {
		return defaultPageSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, apperr.InvalidField("query", "page[size]", "is_integer", "must be an integer")
	}
	if n < 1 || n > maxPageSize {
		return 0, apperr.InvalidField("query", "page[size]", "invalid", "must be between 1 and "+strconv.Itoa(maxPageSize))
	}
	return n, nil
}

// cursorPage reads page[size], page[after] and page[before]. Cursors are
// opaque to clients; inside they are the ID of the item the page starts
// after (or ends before).
func cursorPage(q url.Values) (store.Page, error) {
	size, err := pageSize(q)
	if err != nil {
		return store.Page{}, err
	}
	p := store.Page{Size: size}
	after, before := q.Get("page[after]"), q.Get("page[before]")
	if after != "" && before != "" {
		return store.Page{}, apperr.InvalidField("query", "page[before]", "invalid", "cannot be combined with page[after]")
	}
	for _, c := range []struct {
		name, v string
		dst     *string
	}{{"page[after]", after, &p.After}, {"page[before]", before, &p.Before}} {
		if c.v == "" {
			continue
		}
		id, ok := decodeCursor(c.v)
		if !ok {
			return store.Page{}, apperr.InvalidField("query", c.name, "invalid", "is not a cursor this API returned")
		}
		*c.dst = id
	}
	return p, nil
}

func encodeCursor(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

func decodeCursor(s string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", false
	}
	return canonicalUUID(string(b))
}

// cursorMeta is Konnect's cursor page metadata.
type cursorMeta struct {
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
	Size     int     `json:"size"`
}

// cursorLinks builds next and previous links for a page of items with the
// given first and last IDs. more says whether items lie beyond the page in
// the direction it was read.
func cursorLinks(path string, q url.Values, p store.Page, firstID, lastID string, more bool) cursorMeta {
	m := cursorMeta{Size: p.Size}
	link := func(key, id string) *string {
		v := url.Values{}
		for k, vs := range q {
			if k != "page[after]" && k != "page[before]" {
				v[k] = vs
			}
		}
		v.Set(key, encodeCursor(id))
		v.Set("page[size]", strconv.Itoa(p.Size))
		s := path + "?" + v.Encode()
		return &s
	}
	if firstID == "" { // empty page: offer a way back where there is one
		switch {
		case p.After != "":
			m.Previous = link("page[before]", p.After)
		case p.Before != "":
			m.Next = link("page[after]", p.Before)
		}
		return m
	}
	if p.Before == "" { // read forwards
		if more {
			m.Next = link("page[after]", lastID)
		}
		if p.After != "" {
			m.Previous = link("page[before]", firstID)
		}
		return m
	}
	m.Next = link("page[after]", lastID) // we came from there
	if more {
		m.Previous = link("page[before]", firstID)
	}
	return m
}

// pageNumber reads page[size] and page[number] for the number-paged lists
// of the portal API.
func pageNumber(q url.Values) (size, number int, err error) {
	size, err = pageSize(q)
	if err != nil {
		return 0, 0, err
	}
	number = 1
	if v := q.Get("page[number]"); v != "" {
		number, err = strconv.Atoi(v)
		if err != nil {
			return 0, 0, apperr.InvalidField("query", "page[number]", "is_integer", "must be an integer")
		}
		if number < 1 {
			return 0, 0, apperr.InvalidField("query", "page[number]", "invalid", "must be at least 1")
		}
	}
	return size, number, nil
}

// pageMeta is the portal API's number-paged metadata.
type pageMeta struct {
	Page struct {
		Number int `json:"number"`
		Size   int `json:"size"`
		Total  int `json:"total"`
	} `json:"page"`
}

// slicePage returns page number (1-based) of items.
func slicePage[T any](items []T, size, number int) ([]T, pageMeta) {
	var m pageMeta
	m.Page.Number, m.Page.Size, m.Page.Total = number, size, len(items)
	// A page past the end is empty; compared before multiplying, since a
	// huge page[number] times the size overflows to a negative offset.
	if number-1 > len(items)/size {
		return []T{}, m
	}
	from := (number - 1) * size
	if from >= len(items) {
		return []T{}, m
	}
	to := min(from+size, len(items))
	return items[from:to], m
}

// stringFilter is filter[field] (equals), filter[field][eq] or
// filter[field][contains].
type stringFilter struct{ Eq, Contains string }

func (f stringFilter) match(v string) bool {
	if f.Eq != "" && v != f.Eq {
		return false
	}
	return f.Contains == "" || strings.Contains(strings.ToLower(v), strings.ToLower(f.Contains))
}

// parseFilters reads the filter[...] parameters; fields lists the ones a
// list supports, and anything else is a 400 rather than silently ignored.
func parseFilters(q url.Values, fields ...string) (map[string]stringFilter, error) {
	out := map[string]stringFilter{}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !strings.HasPrefix(k, "filter") {
			continue
		}
		rest, ok := strings.CutPrefix(k, "filter[")
		if !ok {
			return nil, apperr.InvalidField("query", k, "invalid", "is not a supported filter")
		}
		field, op, _ := strings.Cut(rest, "]")
		known := false
		for _, f := range fields {
			known = known || f == field
		}
		if !known {
			return nil, apperr.InvalidField("query", k, "invalid", "is not a supported filter; use "+strings.Join(fields, ", "))
		}
		f := out[field]
		v := q.Get(k)
		switch op {
		case "", "[eq]":
			f.Eq = v
		case "[contains]":
			f.Contains = v
		default:
			return nil, apperr.InvalidField("query", k, "invalid", "supports only the operators eq and contains")
		}
		out[field] = f
	}
	return out, nil
}

// writePage answers page number of items (pages of size), each shown as
// show gives it, as Kong's page-numbered lists do: {"data": [...], "meta"}.
// data is [] rather than null when the page is empty.
func writePage[T, J any](c *call, items []T, size, number int, show func(T) J) error {
	page, meta := slicePage(items, size, number)
	data := make([]J, 0, len(page))
	for _, v := range page {
		data = append(data, show(v))
	}
	return c.json(http.StatusOK, map[string]any{"data": data, "meta": meta})
}

// same is show for items already in their answer's shape.
func same[T any](v T) T { return v }
