package api

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/sigtrail/sigtrail/internal/store"
)

// countingRecorder takes entries without storing them, so a benchmark
// measures the request path (HTTP, body reading, budget, parsing) and
// not the disk.
type countingRecorder struct{}

func (countingRecorder) Record(_ context.Context, es []store.NewEntry) ([]int64, error) {
	return make([]int64, len(es)), nil
}

// BenchmarkIngestBody measures ingest requests over HTTP on 127.0.0.1 up
// to the append (which takes the entries without storing them): one event,
// and a full 16 MiB body sent at loopback speed. CPU per request is the
// figure to compare across changes to how the body is read.
func BenchmarkIngestBody(b *testing.B) {
	srv, secret := benchIngestServer(b, countingRecorder{})
	one := benchBody(1)
	full := benchBody(1000)
	for len(full) < IngestMaxBody {
		full = append(full, full...)
	}
	full = full[:bytes.LastIndexByte(full[:IngestMaxBody], '\n')+1]
	for _, bc := range []struct {
		name string
		body []byte
	}{{"one-event", one}, {"16MiB", full}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.body)))
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/entries", bytes.NewReader(bc.body))
				req.Header.Set("Content-Type", "application/x-ndjson")
				req.Header.Set("Authorization", "Bearer "+secret)
				res, err := srv.Client().Do(req)
				if err != nil {
					b.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != http.StatusAccepted {
					b.Fatalf("status %d", res.StatusCode)
				}
			}
		})
	}
}
