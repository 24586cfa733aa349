package audit

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// FuzzCEFRoundTrip: arbitrary field values, encoded, make one line without
// raw controls or line breaks and parse back to the same fields and the
// same entry (invalid UTF-8 read as U+FFFD).
func FuzzCEFRoundTrip(f *testing.F) {
	f.Add("Mozilla/5.0 (X11)", "/api/v2/developer/authenticate", "a=1&b=2", "Ada", "Authz.portals", "AUTHENTICATION_TYPE_BASIC", uint16(200), int64(1750688927556))
	f.Add(" sig=x", `a\`, "k=v t=u", "", "|", "\r\n", uint16(500), int64(-1))
	f.Add(`\\=`, "x trace_id=1", "", "=", `\|`, "CEF:0|a", uint16(0), int64(0))
	f.Add("a\u2028x trace_id=1", "\u0085", "\u2029", "\x00\x7f", "\u009f", `\u2028`, uint16(200), int64(1))
	f.Add("\v\f\x1c\x1d\x1e", "\xc2", "\x85", `\\u0085`, "\t", "\u0080", uint16(404), int64(2))
	signer := newTestSigner(f)
	f.Fuzz(func(t *testing.T, ua, req, query, pname, resource, class string, status uint16, ms int64) {
		for _, e := range []Entry{
			{Kind: KindAuthentication, Product: ProductDevPortal, ClassID: class, Name: string(OutcomeNotFound),
				Src: query, OrgID: req, PortalID: pname, PrincipalID: ua, PrincipalName: pname, TraceID: class, UserAgent: ua, Request: req},
			{Kind: KindAuthorization, Product: class, ClassID: class, Name: AuthzNamePrefix + "r" + resource, Src: ua,
				OrgID: query, PrincipalID: pname, KongInitiated: status%2 == 0, TraceID: req, UserAgent: ua, Action: resource,
				Granted: status%3 == 0, ActorID: req},
			{Kind: KindAccess, Product: ProductKonnect, ClassID: class, Name: AccessName, Src: pname, OrgID: ua,
				PrincipalID: req, PrincipalName: query, KongInitiated: status%2 == 1, TraceID: query, UserAgent: ua,
				Request: req, Query: query, Act: resource, Status: int(status % 1000)},
		} {
			e.Time = time.UnixMilli(ms % 253402300799000).UTC() // within years 0000-9999 of the timestamp
			r := Renderer{Vendor: resource, Host: "konghq.com"}
			line := r.AppendSigned(nil, FormatCEF, &e, signer)
			checkOneLine(t, line)
			e := asWritten(e) // invalid UTF-8 is written as U+FFFD
			l, err := ParseCEF(line)
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			want := wantExtensions(e)
			if len(l.Extensions) != len(want)+1 {
				t.Fatalf("%q: got %q, want %q", line, l.Extensions, want)
			}
			for i, x := range want {
				if l.Extensions[i] != x {
					t.Fatalf("%q: field %d got %q, want %q", line, i, l.Extensions[i], x)
				}
			}
			if l.DeviceVendor != string([]rune(r.vendor())) || l.DeviceProduct != e.Product || l.DeviceEventClassID != e.ClassID || l.Name != e.Name {
				t.Fatalf("header altered: %+v", l)
			}
			back, err := l.Entry()
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			sameEntry(t, back, e)
		}
	})
}

// FuzzParseCEF: any input is parsed or refused, never a panic; what parses
// decodes to valid JSON, and an entry it yields renders to a line that
// parses to the same entry.
func FuzzParseCEF(f *testing.F) {
	f.Add([]byte(`CEF:0|V|P|1.0|C|N|1|a=b c=d\=e`))
	f.Add([]byte(`x CEF:0|V|P|1.0|C|N|1|`))
	f.Add([]byte(`CEF:0|\|\\|P|1.0|C|N|1|a=\`))
	f.Add([]byte(`CEF:0|V\u2028|P|1.0|C|N|1|a=\u0085 b=\\u2028 c=\u0041 d=` + "\u2028\x85"))
	f.Add([]byte("CEF:0|V|P|1.0|C|N|1|a=x   b=y \t\r\r\n"))
	f.Add([]byte(`CEF:0|V|P|1.0|C|N|1|ad.Error_,Code=1 ad.field[0]=x [y]=z ,=1`))
	f.Add([]byte(`CEF:0|V|P|1.0|C|N|1|rt=1 status=x success=true granted=maybe severity=-3`))
	f.Fuzz(func(t *testing.T, line []byte) {
		l, err := ParseCEF(line)
		if err != nil {
			return
		}
		dec := l.AppendDecodedJSON(nil)
		if !json.Valid(dec) || !json.Valid(l.AppendTypedJSON(nil)) {
			t.Fatalf("decoded JSON invalid for %q", line)
		}
		checkOneLine(t, dec)
		if n := len(l.Extensions); n > 0 && strings.TrimRight(l.Extensions[n-1].Value, " \t\r") != l.Extensions[n-1].Value {
			t.Fatalf("%q: final value %q keeps trailing whitespace", line, l.Extensions[n-1].Value)
		}
		e, err := l.Entry()
		if err != nil {
			return
		}
		out := Renderer{Vendor: l.DeviceVendor}.AppendCEF(nil, &e)
		if len(bytes.TrimRight(out, " \t\r")) != len(out) {
			// CEF has no escape for whitespace ending a line: a value with
			// some, rendered last, cannot survive. Signed lines end in sig.
			return
		}
		again, err := ParseCEF(out)
		if err != nil {
			t.Fatal(err)
		}
		e2, err := again.Entry()
		if err != nil {
			t.Fatal(err)
		}
		sameEntry(t, e2, e)
	})
}

// FuzzParseJSON: never a panic; an accepted entry renders to a JSON line
// that parses to the same entry.
func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(`{"name":"Ingress","status":200}`))
	f.Add([]byte(`{"name":"Authz.x","granted":true,"name":"Ingress"}`))
	f.Add([]byte(`{"name":"Ingress","status":200,"user_agent":"a\u2028b\u0085\u0000","query":"` + "\u2029\u0085\x7f" + `"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		e, err := ParseJSON(line)
		if err != nil {
			return
		}
		if e.Product == "" {
			e.Product = ProductKonnect
		}
		out := Renderer{}.AppendJSON(nil, &e)
		if !json.Valid(out) {
			t.Fatalf("invalid JSON rendered: %s", out)
		}
		checkOneLine(t, out)
		e2, err := ParseJSON(out)
		if err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		sameEntry(t, e2, e)
	})
}

// FuzzDecodeRecord: never a panic; an accepted record re-encodes to one
// that decodes to the same entry.
func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte{1, 3, 0, 2, 200, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeRecord(b)
		if err != nil {
			return
		}
		e2, err := DecodeRecord(AppendRecord(nil, &e))
		if err != nil {
			t.Fatal(err)
		}
		sameEntry(t, e2, e)
	})
}

// FuzzSplitSignature: never a panic; a split line is exactly the message
// with the signature put back.
func FuzzSplitSignature(f *testing.F) {
	f.Add([]byte(`a sig=` + string(bytes.Repeat([]byte("A"), SigLen))))
	f.Add([]byte(`{"a":1,"sig":"` + string(bytes.Repeat([]byte("A"), SigLen)) + `"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		msg, sig, err := SplitSignature(line)
		if err != nil {
			return
		}
		if len(sig) != 64 {
			t.Fatalf("signature of %d bytes", len(sig))
		}
		enc := sigEncoding.EncodeToString(sig)
		tl := bytes.TrimRight(line, "\r\n")
		k := len(tl) - len(bytes.TrimRight(tl, "}"))
		var rebuilt []byte
		if k == 0 { // CEF; base64url never holds a brace
			rebuilt = append(append([]byte(nil), msg...), " sig="+enc...)
		} else {
			rebuilt = append(append([]byte(nil), msg[:len(msg)-k]...), `,"sig":"`+enc+`"`...)
			rebuilt = append(rebuilt, tl[len(tl)-k:]...)
		}
		if !bytes.Equal(rebuilt, tl) {
			t.Fatalf("split of %q rebuilds as %q", line, rebuilt)
		}
	})
}
