package api

import (
	"net/url"
	"strings"
	"testing"

	"github.com/sigtrail/sigtrail/internal/apperr"
)

// FuzzQuery feeds arbitrary query strings to the list parameter parsers:
// each either accepts or answers a 400 naming a query parameter.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{"page[size]=10", "page[after]=" + encodeCursor("0193d4a8-9b8e-7c4f-8a4e-1e2f3a4b5c6d"),
		"filter[name][contains]=a&filter[name]=b", "filter=x", "filter[name][eq]", "page[number]=-1", "page[size]=99999999999999999999",
		"page[number]=9223372036854775807&page[size]=100", "page[number]=4611686018427387905&page[size]=2", "page[number]=3&page[size]=1000",
		"a=%zz", "a=1;b=2", "a=1&a=2", "a=1&a=1", "&&a=&", "%3B=%25"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		// checkQuery (router.go) passes only what url.Values reads whole:
		// every pair decoded, each parameter with one value.
		qerr := checkQuery(raw)
		q, err := url.ParseQuery(raw)
		if qerr == nil {
			if err != nil {
				t.Fatalf("checkQuery(%q) passed what url.ParseQuery refuses: %v", raw, err)
			}
			for k, vs := range q {
				for _, v := range vs {
					if v != vs[0] {
						t.Fatalf("checkQuery(%q) passed %s with values %q", raw, k, vs)
					}
				}
			}
		} else {
			var ae *apperr.Error
			if !asErr(qerr, &ae) || ae.Code != apperr.Invalid || len(ae.Params) != 1 || ae.Params[0].Source != "query" {
				t.Fatalf("checkQuery(%q): %v", raw, qerr)
			}
		}
		if err != nil {
			return
		}
		check := func(what string, err error) {
			if err == nil {
				return
			}
			var ae *apperr.Error
			if !asErr(err, &ae) || ae.Code != apperr.Invalid || len(ae.Params) == 0 || ae.Params[0].Source != "query" {
				t.Fatalf("%s(%q): %v", what, raw, err)
			}
		}
		p, err := cursorPage(q)
		check("cursorPage", err)
		if err == nil && (p.Size < 1 || p.Size > maxPageSize || p.After != "" && p.Before != "") {
			t.Fatalf("cursorPage(%q) = %+v", raw, p)
		}
		_, err = parseFilters(q, "name", "email")
		check("parseFilters", err)
		size, number, err := pageNumber(q)
		check("pageNumber", err)
		if err == nil && (size < 1 || number < 1) {
			t.Fatalf("pageNumber(%q) = %d, %d", raw, size, number)
		}
		if err == nil {
			// Any page of a list is a slice of it, past the end empty.
			items := make([]int, 2500)
			for i := range items {
				items[i] = i
			}
			page, meta := slicePage(items, size, number)
			if len(page) > size || meta.Page.Total != len(items) || len(page) > 0 && page[0] != (number-1)*size {
				t.Fatalf("slicePage(%d items, %d, %d) = %d items from %v", len(items), size, number, len(page), page[:min(1, len(page))])
			}
		}
	})
}

// FuzzEndpoint: checkEndpoint never accepts what delivery could not send
// to, and refuses with a 400 on the endpoint field.
func FuzzEndpoint(f *testing.F) {
	for _, s := range []string{"https://siem.example.com/in", "http://x", "https://127.0.0.1", "https://[::1]:443/", "https://a..b/",
		"https://siem.example.com:99999/", "javascript:alert(1)", "https://user@host/", "https://host/#frag"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := checkEndpoint(s, false)
		if err != nil {
			var ae *apperr.Error
			if !asErr(err, &ae) || ae.Code != apperr.Invalid || ae.Params[0].Field != "endpoint" {
				t.Fatalf("checkEndpoint(%q): %v", s, err)
			}
			return
		}
		u, perr := url.Parse(s)
		if perr != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || strings.ContainsAny(s, " \r\n") {
			t.Fatalf("checkEndpoint accepted %q", s)
		}
		if h := strings.ToLower(u.Hostname()); h == "localhost" || h == "127.0.0.1" || h == "::1" {
			t.Fatalf("checkEndpoint accepted loopback %q", s)
		}
	})
}

func asErr(err error, target **apperr.Error) bool {
	e, ok := err.(*apperr.Error)
	if ok {
		*target = e
	}
	return ok
}
