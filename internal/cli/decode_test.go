package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	k, _ := testKeyring(t)
	good := string(signedLine(k, "cef", 1))
	tests := []struct {
		name     string
		stdin    string
		code     int
		wantErrs []bool // per output line: an {"error"} object?
	}{
		{"one good line", good + "\n", 0, []bool{false}},
		{"no final newline, CRLF", "CEF:0|V|P|1.0|C|N|1|a=b\r\n" + good, 0, []bool{false, false}},
		{"bad lines named, good kept", good + "\nnot cef\n\n" + good + "\n", 1, []bool{false, true, true, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCLI(t, nil, tc.stdin, "decode")
			if code != tc.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tc.code, errOut)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if len(lines) != len(tc.wantErrs) {
				t.Fatalf("%d output lines, want %d:\n%s", len(lines), len(tc.wantErrs), out)
			}
			for i, l := range lines {
				var obj map[string]any
				if err := json.Unmarshal([]byte(l), &obj); err != nil {
					t.Fatalf("line %d is not JSON: %s", i+1, l)
				}
				_, isErr := obj["error"]
				if isErr != tc.wantErrs[i] {
					t.Fatalf("line %d: %s", i+1, l)
				}
			}
		})
	}
}

func TestDecodeFieldsOfASigtrailLine(t *testing.T) {
	t.Parallel()
	k, _ := testKeyring(t)
	_, out, _ := runCLI(t, nil, string(signedLine(k, "cef", 3)), "decode")
	var got struct {
		Prefix     string            `json:"prefix"`
		Header     map[string]string `json:"header"`
		Extensions map[string]string `json:"extensions"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Prefix != "2025-06-23T14:28:47Z konghq.com" || got.Header["device_event_class_id"] != "KongGateway" ||
		got.Header["severity"] != "1" || len(got.Header) != 7 {
		t.Fatalf("prefix/header: %+v", got)
	}
	if got.Extensions["user_agent"] != `ua x=y | \` || got.Extensions["status"] != "203" || len(got.Extensions[`sig`]) != 86 {
		t.Fatalf("extensions: %v", got.Extensions)
	}
}

func TestDecodeFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := filepath.Join(dir, "a.log")
	if err := os.WriteFile(a, []byte("CEF:0|V|P|1.0|C|N|1|x=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, nil, "", "decode", a, filepath.Join(dir, "missing.log"), a)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if strings.Count(out, `"x":"1"`) != 2 {
		t.Fatalf("both readable files should be decoded: %s", out)
	}
	if strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "missing.log") {
		t.Fatalf("want one line naming the missing file, got %q", errOut)
	}
}

// TestWrongFlagIsOneLine: a wrong flag is one line pointing at -h; -h
// prints the usage and exits 0.
func TestWrongFlagIsOneLine(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"decode", "verify", "sink", "bench"} {
		code, _, errOut := runCLI(t, nil, "", cmd, "--no-such-flag")
		if code != 2 || !strings.HasPrefix(errOut, "sigtrail "+cmd+": flag provided but not defined") ||
			strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "-h") {
			t.Errorf("%s --no-such-flag: exit %d, stderr %q", cmd, code, errOut)
		}
		code, _, errOut = runCLI(t, nil, "", cmd, "-h")
		if code != 0 || strings.Count(errOut, "sigtrail "+cmd) < 1 || strings.Count(errOut, "\n") < 3 {
			t.Errorf("%s -h: exit %d, stderr %q", cmd, code, errOut)
		}
	}
	// The operator's commands, with a sub-command: the same one line, exit 2.
	for _, cmd := range [][]string{{"org", "create"}, {"token", "create"}, {"token", "list"}, {"user", "create"}, {"user", "disable"}} {
		code, _, errOut := runCLI(t, nil, "", append(cmd, "--no-such-flag")...)
		if code != 2 || !strings.HasPrefix(errOut, "sigtrail "+cmd[0]) || !strings.Contains(errOut, "flag provided but not defined") ||
			strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "-h") {
			t.Errorf("%v --no-such-flag: exit %d, stderr %q", cmd, code, errOut)
		}
	}
}
