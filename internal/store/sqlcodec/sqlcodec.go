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
// comparison would. They work in milliseconds throughout: nanoseconds
// since the epoch overflow int64 after 2262, and a bound such as
// filter[ts][lte]=2300-01-01T00:00:00Z wrapped into the past and matched
// nothing.
func CeilMS(t time.Time) int64 {
	ms := t.UnixMilli() // rounds towards the past (time.Time's nanoseconds are never negative)
	if t.Nanosecond()%int(time.Millisecond) != 0 {
		ms++
	}
	return ms
}

// FloorMS: see CeilMS.
func FloorMS(t time.Time) int64 { return t.UnixMilli() }

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
