package sink

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

func FuzzLineRT(f *testing.F) {
	f.Add([]byte("2026-11-25T12:00:00Z konghq.com CEF:0|KongInc|Dev-Portal|1.0|A|B|0|rt=1750688927556 src=1"))
	f.Add([]byte(`{"cef_version":"0","rt":1750688927556,"sig":"x"}`))
	f.Add([]byte("|rt="))
	f.Add([]byte(`"rt":99999999999999999999999`))
	f.Fuzz(func(t *testing.T, line []byte) {
		rt, ok := lineRT(line)
		if !ok {
			return
		}
		if rt < 0 {
			t.Fatalf("negative rt %d", rt)
		}
		if !bytes.Contains(line, []byte(strconv.FormatInt(rt, 10))) {
			t.Fatalf("rt %d is not in the line", rt)
		}
	})
}

// Whatever a client posts, the sink answers, counts each non-empty line
// once, and never panics.
func FuzzReceive(f *testing.F) {
	f.Add([]byte("a\nb\n\nc"), false)
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0}, true)
	f.Add([]byte("x\r\n"), true)
	f.Fuzz(func(t *testing.T, body []byte, gzipped bool) {
		s, err := New(Config{})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		if gzipped {
			req.Header.Set("Content-Encoding", "gzip")
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		st := s.Stats()
		switch w.Code {
		case http.StatusOK:
			if gzipped {
				return // the decompressed lines are not known here
			}
			var want int64
			for _, l := range bytes.Split(body, []byte("\n")) {
				if len(bytes.TrimSuffix(l, []byte("\r"))) > 0 {
					want++
				}
			}
			if st.Lines != want {
				t.Fatalf("counted %d lines, want %d", st.Lines, want)
			}
		case http.StatusBadRequest:
			if !gzipped || st.Lines != 0 || st.BadRequests != 1 {
				t.Fatalf("400 for a plain body or with lines counted: %+v", st)
			}
		default:
			t.Fatalf("status %d", w.Code)
		}
	})
}
