package sink

import "bytes"

// latencyBuckets counts receipt-minus-rt in whole milliseconds; the last
// bucket holds everything slower. rt has millisecond precision, so finer
// buckets would measure nothing.
const latencyBuckets = 60_001

// latency is a fixed-bucket histogram of ingest-to-receipt times.
type latency struct {
	counts []int64
	n      int64
	max    int64
}

func newLatency() *latency { return &latency{counts: make([]int64, latencyBuckets)} }

func (l *latency) add(ms int64) {
	ms = max(ms, 0)
	l.n++
	l.max = max(l.max, ms)
	l.counts[min(ms, latencyBuckets-1)]++
}

// quantile returns the smallest bucket holding the q-th fraction of counts.
func (l *latency) quantile(q float64) int64 {
	if l.n == 0 {
		return 0
	}
	rank := int64(q*float64(l.n) + 0.5)
	rank = min(max(rank, 1), l.n)
	var seen int64
	for ms, c := range l.counts {
		seen += c
		if seen >= rank {
			return int64(ms)
		}
	}
	return l.max
}

// Latency summarises ingest-to-receipt times in milliseconds.
type Latency struct {
	Count int64 `json:"count"`
	P50   int64 `json:"p50"`
	P99   int64 `json:"p99"`
	Max   int64 `json:"max"`
}

func (l *latency) summary() *Latency {
	if l.n == 0 {
		return nil
	}
	return &Latency{Count: l.n, P50: l.quantile(0.50), P99: l.quantile(0.99), Max: l.max}
}

const (
	cefRT  = "|rt="
	jsonRT = `"rt":`
)

// lineRT finds the rt (epoch ms) of a CEF, JSON or CPS line. In CEF rt is
// the first extension, right after the header's last pipe; in JSON a key
// cannot be forged by a value, whose quotes are escaped.
func lineRT(line []byte) (int64, bool) {
	i := bytes.Index(line, []byte(cefRT))
	if i >= 0 {
		i += len(cefRT)
	} else if i = bytes.Index(line, []byte(jsonRT)); i >= 0 {
		i += len(jsonRT)
	} else {
		return 0, false
	}
	var v int64
	n := 0
	for ; i < len(line) && line[i] >= '0' && line[i] <= '9' && n < 18; i++ {
		v = v*10 + int64(line[i]-'0')
		n++
	}
	return v, n > 0
}
