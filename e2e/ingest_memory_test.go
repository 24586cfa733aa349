package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkIngestMemory measures a built server's memory under 8 parallel
// 16 MiB ingests and after a minute of idling (issue 10, point 6): peak RSS
// (VmHWM) and RSS after idle (VmRSS) from /proc. Producers that get a 503
// wait for its Retry-After and send again, as a well-behaved producer does,
// so every entry is stored in the end. Run it alone, on a quiet machine:
//
//	go test ./e2e -run '^$' -bench IngestMemory -benchtime 1x
//
// SIGTRAIL_INGEST_MAX_INFLIGHT_BYTES in the environment reaches the server
// (e.g. 1073741824 to see the unbounded behaviour).
func BenchmarkIngestMemory(b *testing.B) {
	const producers, idle = 8, time.Minute
	dir := b.TempDir()
	token := "ingest-memory-bench-bootstrap-token-0123456789"
	srv := startServe(b, dir, token)
	out, err := exec.Command(binary, "token", "create", "--data-dir", dir, "--org", "default",
		"--role", "producer", "--name", "bench").Output()
	if err != nil {
		b.Fatalf("token create: %v", err)
	}
	producer, _, _ := strings.Cut(string(out), "\n")
	body := ingestBody(16<<20 - 1024)
	pid := srv.cmd.Process.Pid
	b.ResetTimer()
	for range b.N {
		var refused atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range producers {
			wg.Go(func() {
				for {
					code, err := postEntries(srv.api, producer, body)
					switch {
					case err != nil:
						b.Error(err)
						return
					case code == http.StatusServiceUnavailable:
						refused.Add(1)
						time.Sleep(time.Second)
						continue
					case code != http.StatusAccepted:
						b.Errorf("status %d", code)
					}
					return
				}
			})
		}
		wg.Wait()
		ingested := time.Since(start)
		peak := procStatusMB(b, pid, "VmHWM:")
		busy := procStatusMB(b, pid, "VmRSS:")
		b.StopTimer()
		under := time.Duration(-1)
		for t := time.Duration(0); t <= idle; t += time.Second {
			if under < 0 && procStatusMB(b, pid, "VmRSS:") < 100 {
				under = t
			}
			time.Sleep(time.Second)
		}
		after := procStatusMB(b, pid, "VmRSS:")
		b.ReportMetric(peak, "peak-RSS-MB")
		b.ReportMetric(busy, "RSS-at-end-MB")
		b.ReportMetric(after, "RSS-after-idle-MB")
		b.ReportMetric(under.Seconds(), "s-to-under-100MB")
		b.ReportMetric(float64(refused.Load()), "503s")
		b.ReportMetric(ingested.Seconds(), "s-to-ingest")
		b.StartTimer()
	}
}

// ingestBody is about size bytes of ingest lines.
func ingestBody(size int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < size-400; i++ {
		fmt.Fprintf(&b, `{"event_class_id":"AUTHENTICATION_TYPE_BASIC","name":"AUTHENTICATION_OUTCOME_SUCCESS","request":"/login","success":true,"src":"203.0.113.7","principal_id":"u-%d","trace_id":"trace-%d","user_agent":"gw/1"}`+"\n", i, i)
	}
	return b.Bytes()
}

func postEntries(api, secret string, body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, api+"/v1/entries", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	res.Body.Close()
	return res.StatusCode, nil
}

// procStatusMB reads a kB field of /proc/PID/status in MB.
func procStatusMB(tb testing.TB, pid int, field string) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb / 1000
		}
	}
	tb.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
