package sqlcodec

import (
	"github.com/sigtrail/sigtrail/internal/apperr"
	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

// Row is an entry as both SQL backends store it: its stream, its time in
// milliseconds (the precision of rt), its kind and its encoded record.
type Row struct {
	Stream store.StreamID
	TsMS   int64
	Kind   audit.Kind
	Record []byte
	// Leaf is the entry's Merkle leaf hash, computed here on the caller's
	// goroutine so the writer's commit only stores it.
	Leaf [32]byte
}

// EncodeEntries checks and encodes the entries of an Append, on the
// caller's goroutine: each needs a stream and a known kind, or the whole
// append is Invalid. The records share one buffer, one allocation for a
// typical batch.
func EncodeEntries(entries []store.NewEntry) ([]Row, error) {
	rows := make([]Row, len(entries))
	buf := make([]byte, 0, 384*len(entries))
	for i := range entries {
		e := &entries[i]
		if e.Stream == "" {
			return nil, apperr.New(apperr.Invalid, "entry %d has no stream", i)
		}
		switch e.Entry.Kind {
		case audit.KindAuthentication, audit.KindAuthorization, audit.KindAccess:
		default:
			return nil, apperr.New(apperr.Invalid, "entry %d has unknown kind %d", i, e.Entry.Kind)
		}
		start := len(buf)
		buf = audit.AppendRecord(buf, &e.Entry)
		rows[i] = Row{Stream: e.Stream, TsMS: e.Entry.Time.UnixMilli(), Kind: e.Entry.Kind, Record: buf[start:len(buf):len(buf)],
			Leaf: audit.LeafHash(&e.Entry)}
	}
	return rows, nil
}
