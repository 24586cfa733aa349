package api

import (
	"errors"
	"io"
	"runtime/debug"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
)

// DefaultIngestMaxInflightBytes bounds the request bodies all ingest
// requests hold at once: one full 16 MiB request, or many smaller ones. A
// request holds about five times its body while it is parsed and appended
// (entries, the store's encoded records), and the GC lets the heap grow to
// twice what is live: measured with 8 parallel 16 MiB ingests, peak RSS
// is 236 MB at 16 MiB, 348 MB at 32 MiB and 596 MB at 64 MiB
// (docs/performance.md), against a goal of 300 MB.
const DefaultIngestMaxInflightBytes = 16 << 20

// ingestChunk is how much a body reserves at a time, ahead of what it has
// read (less under a small bound or for a shorter body): small enough that
// a reader that stalls holds little it is not using, whether its length is
// known or not, large enough that reserving (a semaphore and a mutex) costs
// nothing next to parsing it.
const ingestChunk = 256 << 10

// errOverBudget is a body that would take the ingest requests in flight
// past their bound.
var errOverBudget = errors.New("ingest: bytes in flight past the bound")

// ingestBudget bounds the bytes of ingest bodies being parsed and recorded
// at once. A request holds what it reserved until its entries are stored
// or refused, because the parsed entries (about twice the body) live that
// long. Reservations never wait: past the bound a request is refused at
// once with a 503, rather than queued, so memory is bounded by
// configuration and not by how many producers send at once.
type ingestBudget struct {
	sem   *semaphore.Weighted
	bound int64
	chunk int64

	mu     sync.Mutex
	inUse  int64       // bytes reserved now
	burst  int64       // most bytes reserved since memory was last returned
	freeAt *time.Timer // returns memory once ingest has been idle a while
}

// Memory is returned to the OS once no ingest has held anything for
// ingestIdleFree after a burst of at least ingestFreeMin bytes. Without it
// the heap the burst grew stays resident: an idle server allocates too
// little to start a GC cycle, and the runtime forces one only every two
// minutes (measured: 590 MB still resident a minute after 8 parallel
// 16 MiB ingests). One forced GC with a small live heap is cheap.
const (
	ingestIdleFree = 2 * time.Second
	ingestFreeMin  = 4 << 20
)

func newIngestBudget(bound int64) *ingestBudget {
	return &ingestBudget{sem: semaphore.NewWeighted(bound), bound: bound, chunk: max(1, min(ingestChunk, bound/8))}
}

func (b *ingestBudget) tryAcquire(n int64) bool {
	if !b.sem.TryAcquire(n) {
		return false
	}
	b.mu.Lock()
	b.inUse += n
	b.burst = max(b.burst, b.inUse)
	if b.freeAt != nil {
		b.freeAt.Stop()
	}
	b.mu.Unlock()
	return true
}

func (b *ingestBudget) release(n int64) {
	b.sem.Release(n)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inUse -= n
	if b.inUse > 0 || b.burst < ingestFreeMin {
		return
	}
	b.burst = 0
	if b.freeAt == nil {
		b.freeAt = time.AfterFunc(ingestIdleFree, debug.FreeOSMemory)
	} else {
		b.freeAt.Reset(ingestIdleFree)
	}
}

// fits says whether n more bytes are free now.
func (b *ingestBudget) fits(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inUse+n <= b.bound
}

// reader returns body, reserving by chunks as it is read, never more than
// limit (the body's own cap, which body enforces) or the length when it is
// known. A body whose known length does not fit now is refused at once,
// before anything is read; one that fits may still be refused part way if
// others took the room meanwhile. release gives back all that was
// reserved; it must be called once the request's entries are no longer
// held.
func (b *ingestBudget) reader(body io.Reader, length, limit int64) (r io.Reader, release func(), err error) {
	br := &budgetReader{b: b, r: body, limit: limit}
	if length > 0 {
		// The server stops the body at Content-Length: it never reads more.
		br.limit = min(length, limit)
		if !b.fits(br.limit) {
			return nil, func() {}, errOverBudget
		}
		// A small body (one event) reserves once, as it always did.
		first := min(br.limit, b.chunk)
		if !b.tryAcquire(first) {
			return nil, func() {}, errOverBudget
		}
		br.reserved = first
	}
	return br, br.release, nil
}

// budgetReader reserves ahead of what it reads, a chunk at a time.
type budgetReader struct {
	b        *ingestBudget
	r        io.Reader
	reserved int64 // bytes reserved
	read     int64 // bytes read
	limit    int64 // most bytes the body may have
}

func (r *budgetReader) Read(p []byte) (int, error) {
	switch {
	case r.read == r.reserved && r.reserved >= r.limit:
		// Body as large as it may be: one more byte tells its end from a
		// body too large (which body's own limit refuses), and reserving
		// a chunk for it could refuse a request that fits.
		p = p[:min(len(p), 1)]
	case r.read == r.reserved:
		n := min(r.b.chunk, r.limit-r.reserved)
		if !r.b.tryAcquire(n) {
			return 0, errOverBudget
		}
		r.reserved += n
		fallthrough
	default:
		p = p[:min(int64(len(p)), r.reserved-r.read)]
	}
	n, err := r.r.Read(p)
	r.read += int64(n)
	return n, err
}

func (r *budgetReader) release() {
	if r.reserved > 0 {
		r.b.release(r.reserved)
		r.reserved = 0
	}
}
