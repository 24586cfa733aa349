package store

// Reads of the event log return up to a limit of entries, usually 1,000
// for a dispatcher, but a dispatcher that follows a trickling stream gets
// one or two. A StoredEntry is about 500 bytes, so sizing the result for
// the limit zeroed 0.5 MB per read (3 % of a server's CPU at 200 events/s,
// issue 14), and growing it by doubling from a few slots copies each entry
// about twice in a full read. EntriesFirst and AppendEntry do neither: a
// few slots first, then straight to the limit.

// entriesFirst is the capacity a read starts with.
const entriesFirst = 16

// EntriesFirst is the slice a read of up to limit entries starts with.
func EntriesFirst(limit int) []StoredEntry {
	if limit <= 0 {
		return nil
	}
	return make([]StoredEntry, 0, min(limit, entriesFirst))
}

// AppendEntry appends e to out, a read of up to limit entries: once the
// first few slots are full it grows to the limit (at most 1,024) at once.
func AppendEntry(out []StoredEntry, e StoredEntry, limit int) []StoredEntry {
	if len(out) == cap(out) && len(out) == entriesFirst && limit > entriesFirst {
		grown := make([]StoredEntry, len(out), min(limit, 1024))
		copy(grown, out)
		out = grown
	}
	return append(out, e)
}
