package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/signing"
	"github.com/sigtrail/sigtrail/internal/tlog"
)

const testStream = "0190f6c2-5b8a-7c3d-9e1f-2a3b4c5d6e7f"

// seqEntry is entry seq of the test stream; alt changes its content, as a
// source rewriting its history would.
func seqEntry(seq int64, alt bool) audit.Entry {
	e := audit.Entry{Kind: audit.KindAccess, Time: time.UnixMilli(1750688927556 + seq).UTC(),
		Product: audit.ProductKonnect, ClassID: audit.AccessClassGateway, Name: audit.AccessName,
		Src: "192.0.2.7", OrgID: "org", PrincipalID: fmt.Sprint("p", seq), TraceID: "t", UserAgent: "ua x=y | \\",
		Request: "/v2/things", Act: "GET", Status: 200, Query: "a=b"}
	if alt {
		e.PrincipalID = "someone-else"
	}
	return e
}

// streamLines renders entries 1..n of the test stream (formats in turn)
// with a checkpoint line after each size in cps, as delivery sends them;
// entries in rewritten are the altered ones of a rewritten history.
func streamLines(t *testing.T, k *signing.Keyring, n int64, cps []int64, rewritten map[int64]bool) (lines [][]byte, byLine map[int64]int) {
	t.Helper()
	formats := []audit.Format{audit.FormatCEF, audit.FormatJSON, audit.FormatCPS}
	var leaves [][32]byte
	byLine = map[int64]int{}
	for seq := int64(1); seq <= n; seq++ {
		e := seqEntry(seq, rewritten[seq])
		leaves = append(leaves, audit.LeafHash(&e))
		byLine[seq] = len(lines)
		lines = append(lines, audit.Renderer{}.AppendSignedAt(nil, formats[seq%3], &e, audit.Position{Stream: testStream, Seq: seq}, k))
		for _, size := range cps {
			if size != seq {
				continue
			}
			root := tlog.RootsAt(leaves, []int64{size})[0]
			note, err := tlog.Sign(tlog.Checkpoint{Origin: tlog.Origin(testStream), Size: size, Root: root}, k)
			if err != nil {
				t.Fatal(err)
			}
			c := audit.CheckpointLine{Stream: testStream, Size: size, Time: time.UnixMilli(1750688927556), Note: note}
			lines = append(lines, audit.Renderer{}.AppendCheckpointSigned(nil, formats[size%3], &c, k))
		}
	}
	return lines, byLine
}

func writeLines(t *testing.T, lines [][]byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "siem.log")
	if err := os.WriteFile(p, append(bytes.Join(lines, []byte("\n")), '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestVerifyCompleteFindsEveryKindOfLoss: each way a SIEM's copy can fall
// short is found and named, and exits 1; a complete copy with retries'
// duplicates and replays out of order passes.
func TestVerifyCompleteFindsEveryKindOfLoss(t *testing.T) {
	t.Parallel()
	k, _ := testKeyring(t)
	jwks := writeJWKS(t, k.JWKS())
	cps := []int64{200, 400, 600}
	lines, at := streamLines(t, k, 600, cps, nil)
	without := func(from, to int64) [][]byte { // lines of seq from..to dropped
		var out [][]byte
		for i, l := range lines {
			drop := false
			for s := from; s <= to; s++ {
				if at[s] == i {
					drop = true
				}
			}
			if !drop {
				out = append(out, l)
			}
		}
		return out
	}
	altered := append([][]byte(nil), lines...)
	altered[at[50]] = bytes.Replace(lines[at[50]], []byte("p50"), []byte("p51"), 1)
	reordered := append([][]byte(nil), lines...)
	reordered[at[10]], reordered[at[20]] = reordered[at[20]], reordered[at[10]]
	replayed := append(append(append([][]byte(nil), lines...), lines[at[100]:at[150]]...), lines[at[7]], lines[at[7]])
	rewrittenLines, _ := streamLines(t, k, 600, []int64{600}, map[int64]bool{10: true})
	rewritten := append(append([][]byte(nil), lines[:at[600]+1]...), rewrittenLines[len(rewrittenLines)-1])
	rewritten = without2(rewritten, lines[at[600]+1]) // the SIEM got the rewritten checkpoint, not the first

	for _, tc := range []struct {
		name  string
		lines [][]byte
		code  int
		want  []string
	}{
		{"complete with replays and duplicates", replayed, 0, []string{"complete: 652 lines verified, 0 missing, 52 duplicates, 52 out of order, 3 checkpoints, latest checkpoint 600 reproduced"}},
		{"dropped batch", without(201, 300), 1, []string{"missing seq 201-300 (100 lines)", "INCOMPLETE"}},
		{"line removed", without(77, 77), 1, []string{"missing seq 77\n"}},
		{"line altered", altered, 1, []string{fmt.Sprintf(":%d: signature matches no published key", at[50]+1), "missing seq 50\n"}},
		{"lines reordered", reordered, 0, []string{"10 lines out of order, the first at", "(seq 11 after seq 20)", "complete: 600 lines verified, 0 missing"}},
		{"truncated tail", without(590, 600), 1, []string{"missing tail: seq 590-600 (11 lines)"}},
		{"history rewritten at the source", rewritten, 1, []string{"checkpoint 600", "is not consistent with checkpoint 400", "history rewritten at the source"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			file := writeLines(t, tc.lines)
			code, out, errOut := runCLI(t, nil, "", "verify", "--complete", "--jwks", jwks, file)
			if code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s%s", code, tc.code, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Fatalf("report lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// without2 drops one line (by content) from lines.
func without2(lines [][]byte, drop []byte) [][]byte {
	var out [][]byte
	for _, l := range lines {
		if !bytes.Equal(l, drop) {
			out = append(out, l)
		}
	}
	return out
}

// TestVerifyCompleteAcrossFiles: lines split over files, in any order,
// are one stream; plain lines of a destination without sequence numbers
// verify but prove nothing, so a file of only those fails.
func TestVerifyCompleteAcrossFiles(t *testing.T) {
	t.Parallel()
	k, _ := testKeyring(t)
	jwks := writeJWKS(t, k.JWKS())
	lines, _ := streamLines(t, k, 300, []int64{100, 300}, nil)
	a, b := writeLines(t, lines[150:]), writeLines(t, lines[:150])
	code, out, _ := runCLI(t, nil, "", "verify", "--complete", "--jwks", jwks, a, b)
	if code != 0 || !strings.Contains(out, "complete: 300 lines verified, 0 missing") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	plain := writeLines(t, [][]byte{signedLine(k, audit.FormatCEF, 1)})
	code, out, _ = runCLI(t, nil, "", "verify", "--complete", "--jwks", jwks, plain)
	if code != 1 || !strings.Contains(out, "1 verified, 0 failed, 1 without seq, 0 streams: NOT proven complete") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	code, _, errOut := runCLI(t, nil, "", "verify", "--complete", "--pull", "--jwks", jwks, plain)
	if code != 2 || !strings.Contains(errOut, "--complete reads webhook lines") {
		t.Fatalf("--complete --pull: exit %d %q", code, errOut)
	}
}
