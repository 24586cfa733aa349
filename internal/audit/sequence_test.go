package audit

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"strings"
	"testing"
	"time"
)

// TestSequencedLinesRoundTrip: a line with its position, in every format,
// verifies, gives back its position, and its leaf hash is the entry's
// whatever the format and the deployment's vendor and host.
func TestSequencedLinesRoundTrip(t *testing.T) {
	t.Parallel()
	signer := newTestSigner(t)
	for _, s := range sampleEntries() {
		want := LeafHash(&s.entry)
		for _, f := range []Format{FormatCEF, FormatJSON, FormatCPS} {
			for _, r := range []Renderer{{}, {Vendor: "Acme Corp", Host: "siem.example"}} {
				p := Position{Stream: "0190f6c2-5b8a-7c3d-9e1f-2a3b4c5d6e7f", Seq: 42}
				line := r.AppendSignedAt(nil, f, &s.entry, p, signer)
				msg, sig, err := SplitSignature(line)
				if err != nil || !ed25519.Verify(signer.public(), msg, sig) {
					t.Fatalf("%s %s: signature: %v", s.name, f, err)
				}
				got, err := ParseSequenced(msg)
				if err != nil {
					t.Fatalf("%s %s: %v\n%s", s.name, f, err, line)
				}
				if got.Position != p || got.Leaf != want || got.Checkpoint != nil {
					t.Fatalf("%s %s: got %+v, want %+v leaf %x", s.name, f, got.Position, p, want)
				}
				// Without a position the line is what it always was.
				plain := r.AppendSigned(nil, f, &s.entry, signer)
				pmsg, _, _ := SplitSignature(plain)
				if _, err := ParseSequenced(pmsg); err == nil {
					t.Fatalf("%s %s: a line without seq parsed as sequenced", s.name, f)
				}
			}
		}
	}
}

// TestSequencedLineFields pins where seq and stream go in each format.
func TestSequencedLineFields(t *testing.T) {
	t.Parallel()
	e := sampleEntries()[0].entry
	p := Position{Stream: "s-1", Seq: 7}
	var r Renderer
	cef := string(r.AppendSignedAt(nil, FormatCEF, &e, p, newTestSigner(t)))
	if !strings.Contains(cef, " seq=7 stream=s-1 sig=") {
		t.Fatalf("CEF: %s", cef)
	}
	js := string(r.AppendSignedAt(nil, FormatJSON, &e, p, newTestSigner(t)))
	if !strings.Contains(js, `,"seq":7,"stream":"s-1","sig":"`) || !strings.HasSuffix(js, `"}`) {
		t.Fatalf("JSON: %s", js)
	}
	cps := string(r.AppendSignedAt(nil, FormatCPS, &e, p, newTestSigner(t)))
	if !strings.HasPrefix(cps, `{"event":{`) || !strings.Contains(cps, `,"seq":7,"stream":"s-1","sig":"`) || !strings.HasSuffix(cps, `"}}`) {
		t.Fatalf("CPS: %s", cps)
	}
}

// TestLeafHashIsRFC9162: SHA-256 of 0x00 and the entry's JSON line.
func TestLeafHashIsRFC9162(t *testing.T) {
	t.Parallel()
	e := sampleEntries()[1].entry
	want := sha256.Sum256(append([]byte{0}, Renderer{}.AppendJSON(nil, &e)...))
	if LeafHash(&e) != want {
		t.Fatal("leaf hash is not SHA-256(0x00 || JSON line)")
	}
}

// TestCheckpointLines: each format's checkpoint line verifies as a line
// and gives back its note byte for byte.
func TestCheckpointLines(t *testing.T) {
	t.Parallel()
	signer := newTestSigner(t)
	note := []byte("sigtrail/stream/s-1\n12\nAAAA\n\n\u2014 sigtrail/stream/s-1 abcd\n")
	c := CheckpointLine{Stream: "s-1", Size: 12, Time: time.UnixMilli(1750688927556), Note: note}
	for _, f := range []Format{FormatCEF, FormatJSON, FormatCPS} {
		line := Renderer{}.AppendCheckpointSigned(nil, f, &c, signer)
		if bytes.ContainsAny(line, "\n\r") {
			t.Fatalf("%s: line holds a raw line break: %q", f, line)
		}
		msg, sig, err := SplitSignature(line)
		if err != nil || !ed25519.Verify(signer.public(), msg, sig) {
			t.Fatalf("%s: signature: %v", f, err)
		}
		got, err := ParseSequenced(msg)
		if err != nil || !bytes.Equal(got.Checkpoint, note) {
			t.Fatalf("%s: %v, note %q\n%s", f, err, got.Checkpoint, line)
		}
	}
}

// FuzzParseSequenced: any message is read or refused without a panic; an
// entry line's position is one that renders back into the message.
func FuzzParseSequenced(f *testing.F) {
	e := sampleEntries()[0].entry
	for _, fm := range []Format{FormatCEF, FormatJSON, FormatCPS} {
		line := Renderer{}.AppendSignedAt(nil, fm, &e, Position{Stream: "abc", Seq: 3}, newTestSigner(f))
		msg, _, _ := SplitSignature(line)
		f.Add(msg)
		c := CheckpointLine{Stream: "abc", Size: 3, Note: []byte("o\n3\nx\n\n\u2014 o y\n")}
		line = Renderer{}.AppendCheckpointSigned(nil, fm, &c, newTestSigner(f))
		msg, _, _ = SplitSignature(line)
		f.Add(msg)
	}
	f.Add([]byte(`{"seq":1,"stream":"a"}`))
	f.Add([]byte(`{"event":{"checkpoint":"x"}}`))
	f.Fuzz(func(t *testing.T, msg []byte) {
		got, err := ParseSequenced(msg)
		if err != nil || got.Checkpoint != nil {
			return
		}
		if got.Seq <= 0 || !plainID([]byte(got.Stream)) {
			t.Fatalf("bad position %+v from %q", got.Position, msg)
		}
	})
}

// FuzzLeafAcrossFormats: whatever the field values, the leaf hash a
// verifier recomputes from a line in any format is the one the server
// computed from the entry (invalid UTF-8 aside, which no line can carry
// and the server's leaf also sees as U+FFFD).
func FuzzLeafAcrossFormats(f *testing.F) {
	f.Add("Mozilla/5.0 (X11)", "/api/v2/developer/authenticate", "a=1&b=2", "Ada", "portals", uint16(200), int64(1750688927556))
	f.Add(" seq=1 stream=x", `"seq":1,`, "\u2028\x00", "\xc2", "|=\\", uint16(500), int64(-1))
	signer := newTestSigner(f)
	f.Fuzz(func(t *testing.T, ua, req, query, pname, resource string, status uint16, ms int64) {
		for _, e := range []Entry{
			{Kind: KindAuthentication, Product: ProductDevPortal, ClassID: AuthTypeBasic, Name: string(OutcomeNotFound),
				Src: query, OrgID: req, PortalID: pname, PrincipalID: ua, PrincipalName: pname, TraceID: query, UserAgent: ua, Request: req},
			{Kind: KindAuthorization, Product: ProductKonnect, ClassID: "konnect", Name: AuthzNamePrefix + "r" + resource, Src: ua,
				OrgID: query, PrincipalID: pname, KongInitiated: status%2 == 0, TraceID: req, UserAgent: ua, Action: resource,
				Granted: status%3 == 0, ActorID: req},
			{Kind: KindAccess, Product: ProductKonnect, ClassID: AccessClassGateway, Name: AccessName, Src: pname, OrgID: ua,
				PrincipalID: req, PrincipalName: query, TraceID: query, UserAgent: ua,
				Request: req, Query: query, Act: resource, Status: 100 + int(status%500)},
		} {
			e.Time = time.UnixMilli(ms % 253402300799000).UTC()
			want := LeafHash(&e)
			for _, fm := range []Format{FormatCEF, FormatJSON, FormatCPS} {
				line := Renderer{Vendor: "V", Host: "h"}.AppendSignedAt(nil, fm, &e, Position{Stream: "s", Seq: 9}, signer)
				msg, _, err := SplitSignature(line)
				if err != nil {
					t.Fatal(err)
				}
				got, err := ParseSequenced(msg)
				if err != nil {
					t.Fatalf("%s: %v\n%q", fm, err, line)
				}
				if got.Leaf != want || got.Seq != 9 || got.Stream != "s" {
					t.Fatalf("%s: leaf or position differs for %q", fm, line)
				}
			}
		}
	})
}
