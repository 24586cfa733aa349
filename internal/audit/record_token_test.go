package audit

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// An ingested entry keeps the id of the token that wrote it (issue 14).
func TestRecordTokenID(t *testing.T) {
	t.Parallel()
	for _, tc := range sampleEntries() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := tc.entry
			e.TokenID = "5f1c3a57-1b0e-4c4e-9d1a-2f0e5a3b7c11"
			b := AppendRecord(nil, &e)
			got, err := DecodeRecord(b)
			if err != nil {
				t.Fatal(err)
			}
			sameEntry(t, got, e)
			for n := range len(b) {
				if _, err := DecodeRecord(b[:n]); err == nil {
					t.Fatalf("truncated record of %d/%d bytes accepted", n, len(b))
				}
			}
			// Without a token id the record is the layout stored before it
			// existed, byte for byte.
			plain := tc.entry
			if !bytes.HasPrefix(b[3:], AppendRecord(nil, &plain)[3:]) {
				t.Fatal("token id changed the fields before it")
			}
		})
	}
}

// A record written before the token id existed still decodes. The bytes
// were written by the earlier AppendRecord (an access entry).
func TestDecodeRecordBeforeTokenID(t *testing.T) {
	t.Parallel()
	old, _ := hex.DecodeString(oldRecordHex)
	e, err := DecodeRecord(old)
	if err != nil {
		t.Fatal(err)
	}
	if e.TokenID != "" || e.Kind != KindAccess || e.Status != 200 || e.Request != "/v3/audit-logs" {
		t.Fatalf("decoded %+v", e)
	}
	if got := AppendRecord(nil, &e); !bytes.Equal(got, old) {
		t.Fatalf("re-encoded differently:\n got %x\nwant %x", got, old)
	}
}

// The token id is no line field: a line is the same with or without it.
func TestTokenIDNotInLines(t *testing.T) {
	t.Parallel()
	s := newTestSigner(t)
	var r Renderer
	for _, tc := range sampleEntries() {
		e := tc.entry
		e.TokenID = "5f1c3a57-1b0e-4c4e-9d1a-2f0e5a3b7c11"
		for _, f := range []Format{FormatCEF, FormatJSON, FormatCPS} {
			want := r.AppendSigned(nil, f, &tc.entry, s)
			if got := r.AppendSigned(nil, f, &e, s); !bytes.Equal(got, want) {
				t.Fatalf("%s %v: line changed:\n got %s\nwant %s", tc.name, f, got, want)
			}
		}
	}
}

// oldRecordHex is an access entry in the layout before the token id
// (version 1, flags 0, 15 strings).
const oldRecordHex = "01030088bd88d3f365c801074b6f6e6e6563740b4b6f6e674761746577617907496e6772657373093132372e302e302e312462303635623539342d366166632d343635382d393130312d356439636633663336623762002438373635356333362d386436332d343866652d396131652d3533623238646662633139620013333336303139343134353439393837373235320a6375726c2f382e352e300e2f76332f61756469742d6c6f677300000003474554"
