package cli

import (
	"crypto/ed25519"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// benchSignLine is a typical signed CEF line without its signature (about
// the length the bench's entries render to), so the raw rate is for the
// same message size as the run's.
const benchSignLine = "2026-03-01T10:00:00Z konghq.com CEF:0|KongInc|Konnect|1.0|AUTHENTICATION_TYPE_BASIC|" +
	"AUTHENTICATION_OUTCOME_SUCCESS|1|rt=1772359200000 src=203.0.113.7 request=/login success=true " +
	"org_id=6f1f0c1e-3c8e-4a9e-9a55-0d2f5a2b7c11 principal_id=bench-user-000001 trace_id=bench-000001 " +
	"user_agent=sigtrail-bench/1"

// rawSignRate is how many Ed25519 signatures per second this machine
// makes right now on GOMAXPROCS goroutines, measured for d in this
// process: the ceiling end to end is compared with, since the machine's
// speed varies from day to day more than sigtrail's overhead does.
func rawSignRate(d time.Duration) (perSec float64, procs int) {
	procs = runtime.GOMAXPROCS(0)
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	msg := []byte(benchSignLine)
	var n atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	for range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := int64(0)
			for !stop.Load() {
				ed25519.Sign(key, msg)
				k++
			}
			n.Add(k)
		}()
	}
	time.Sleep(d)
	stop.Store(true)
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds(), procs
}
