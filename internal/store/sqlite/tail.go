package sqlite

import (
	"sync"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
)

// The tail cache (issue 14) keeps copies of the records this process
// appended last, per stream, so that the dispatcher's read of what was
// just appended decodes them from memory instead of querying the file.
// At one event per request that read was the largest part of a webhook
// request's cost: a new read transaction that finds the WAL changed, reads
// its pages again and takes the file locks, about 190 us an event.
//
// What Read serves from it is exactly what the query would return: the
// same record bytes, written by this process's one writer connection and
// committed, decoded by the same function. A run is a contiguous range of
// one stream's sequence numbers; Read uses it only when the range it asks
// for starts inside the run, and otherwise (older entries, nothing newer
// cached) queries as before, so entries other processes appended are never
// missed, only read from the file. The cache is emptied when another
// connection committed (data_version moved), after retention deleted
// entries, and for a stream whose entries a job deleted (forget).
const (
	// tailRunMax bounds the records one stream's run holds: a dispatcher
	// that is further behind than this reads from the file anyway.
	tailRunMax = 4096
	// tailBudget bounds the record bytes all runs hold.
	tailBudget = 8 << 20
	// tailMaxAge is how long after its last append a run is served: a
	// dispatcher reads within milliseconds of an append, and the bound
	// limits what another process's deletion could leave visible.
	tailMaxAge = 5 * time.Second
	// tailAppendMax is the largest append (rows of one stream in one
	// commit) that is copied in; a larger one ends the stream's run. Large
	// appends come from bulk producers, whose dispatcher runs far behind
	// ingest and reads from the file anyway (in a 1,000,000-entry bench
	// the cache never answered): copying them would only feed the GC.
	tailAppendMax = 256
)

// tailCache is safe for concurrent use: the writer adds, readers read.
type tailCache struct {
	mu      sync.Mutex
	runs    map[store.StreamID]*tailRun
	held    int       // record bytes of all runs
	trimmed time.Time // when trim last walked the runs
}

// tailRun holds records first, first+1, ... of one stream.
type tailRun struct {
	first int64
	recs  [][]byte
	bytes int
	at    time.Time // of the last append
}

func newTailCache() *tailCache {
	return &tailCache{runs: make(map[store.StreamID]*tailRun)}
}

// tailRow is one committed row, as add takes them.
type tailRow struct {
	stream store.StreamID
	seq    int64
	record []byte
}

// add records rows just committed, in commit order. Records are copied
// (one allocation per stream and commit): they point into their request's
// encoding buffer, which a cached slice would keep alive whole.
func (c *tailCache) add(rows []tailRow, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := 0; i < len(rows); {
		s := rows[i].stream
		j, size := i, 0
		for j < len(rows) && rows[j].stream == s {
			size += len(rows[j].record)
			j++
		}
		c.addRun(s, rows[i:j], size, now)
		i = j
	}
	c.trim(now)
}

// addRun appends one stream's rows to its run, or starts a new run when
// they do not follow it (another process appended in between).
func (c *tailCache) addRun(s store.StreamID, rows []tailRow, size int, now time.Time) {
	r := c.runs[s]
	if len(rows) > tailAppendMax {
		c.dropLocked(s)
		return
	}
	if r == nil || r.first+int64(len(r.recs)) != rows[0].seq || now.Sub(r.at) > tailMaxAge {
		c.dropLocked(s)
		r = &tailRun{first: rows[0].seq}
		c.runs[s] = r
	}
	buf := make([]byte, 0, size)
	for k, row := range rows {
		if row.seq != rows[0].seq+int64(k) {
			// Not contiguous within one commit: cannot happen for one
			// stream, but a wrong run would serve wrong entries.
			c.dropLocked(s)
			return
		}
		start := len(buf)
		buf = append(buf, row.record...)
		r.recs = append(r.recs, buf[start:len(buf):len(buf)])
	}
	r.bytes += size
	c.held += size
	r.at = now
	if over := len(r.recs) - tailRunMax; over > 0 {
		c.dropFront(r, over)
	}
}

// dropFront forgets the oldest n records of r.
func (c *tailCache) dropFront(r *tailRun, n int) {
	for _, rec := range r.recs[:n] {
		r.bytes -= len(rec)
		c.held -= len(rec)
	}
	clear(r.recs[:n])
	r.recs = r.recs[n:]
	r.first += int64(n)
	if cap(r.recs) > 2*tailRunMax {
		r.recs = append(make([][]byte, 0, tailRunMax), r.recs...)
	}
}

// trim keeps the cache within its byte budget and, every tailMaxAge,
// drops stale runs (a walk over all runs, so not on every commit).
func (c *tailCache) trim(now time.Time) {
	if c.held <= tailBudget && now.Sub(c.trimmed) <= tailMaxAge {
		return
	}
	c.trimmed = now
	for s, r := range c.runs {
		if now.Sub(r.at) > tailMaxAge || c.held > tailBudget {
			c.dropLocked(s)
		}
	}
}

// read returns up to limit records after seq after, with the sequence
// number of the first; ok is false when the run cannot answer (the range
// does not start inside it), and the caller queries the file.
func (c *tailCache) read(s store.StreamID, after int64, limit int, now time.Time) (recs [][]byte, first int64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.runs[s]
	if r == nil || after < r.first-1 || after >= r.first+int64(len(r.recs))-1 || now.Sub(r.at) > tailMaxAge {
		return nil, 0, false
	}
	from := int(after + 1 - r.first)
	to := min(len(r.recs), from+limit)
	// The records are never changed once added, only dropped: the caller
	// may decode them after the lock is released.
	return append([][]byte(nil), r.recs[from:to]...), after + 1, true
}

// drop forgets the runs of streams.
func (c *tailCache) drop(streams []store.StreamID) {
	if len(streams) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range streams {
		c.dropLocked(s)
	}
}

func (c *tailCache) dropLocked(s store.StreamID) {
	if r := c.runs[s]; r != nil {
		c.held -= r.bytes
		delete(c.runs, s)
	}
}

// clear forgets every run.
func (c *tailCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.runs)
	c.held = 0
}
