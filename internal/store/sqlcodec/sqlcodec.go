// Package sqlcodec holds how both SQL backends encode store values in
// columns and shape list pages, so SQLite and PostgreSQL store the same
// numbers and page the same way. It does no I/O.
package sqlcodec

import (
	"slices"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
)

// ToNS encodes a time as UTC nanoseconds since the epoch; the zero time is
// 0, so "never" and "unset" survive a round trip.
func ToNS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// FromNS decodes ToNS.
func FromNS(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// CeilMS and FloorMS turn inclusive time bounds into entry times, which are
// milliseconds (the precision of rt), rounding inwards, so a bound between
// two milliseconds admits neither more nor less than the nanosecond
// comparison would.
func CeilMS(t time.Time) int64 {
	ns := t.UnixNano()
	ms := ns / 1e6
	if ms*1e6 < ns {
		ms++
	}
	return ms
}

// FloorMS: see CeilMS.
func FloorMS(t time.Time) int64 {
	ns := t.UnixNano()
	ms := ns / 1e6
	if ms*1e6 > ns {
		ms--
	}
	return ms
}

// PageResult trims the look-ahead row a page query asks for (Size+1) and
// restores ascending order after a query that walked backwards (Before);
// the bool says whether more items lie beyond the page.
func PageResult[T any](items []T, p store.Page) ([]T, bool) {
	more := false
	if p.Size > 0 && len(items) > p.Size {
		items = items[:p.Size]
		more = true
	}
	if p.After == "" && p.Before != "" {
		slices.Reverse(items)
	}
	return items, more
}
