package postgres

import (
	"slices"

	"github.com/sigtrail/sigtrail/internal/store"
)

// addRange returns the ascending union of rs and r, merging ranges that
// overlap or touch, so a range is never re-sent twice. (The same rule as
// the SQLite backend's.)
func addRange(rs []store.SeqRange, r store.SeqRange) []store.SeqRange {
	all := append(slices.Clone(rs), r)
	slices.SortFunc(all, func(a, b store.SeqRange) int {
		switch {
		case a.From < b.From:
			return -1
		case a.From > b.From:
			return 1
		}
		return 0
	})
	out := all[:0]
	for _, x := range all {
		if n := len(out); n > 0 && x.From <= out[n-1].To+1 {
			out[n-1].To = max(out[n-1].To, x.To)
			continue
		}
		out = append(out, x)
	}
	return out
}

// subtractRange returns rs without the sequence numbers in r.
func subtractRange(rs []store.SeqRange, r store.SeqRange) []store.SeqRange {
	var out []store.SeqRange
	for _, x := range rs {
		if x.To < r.From || x.From > r.To {
			out = append(out, x)
			continue
		}
		if x.From < r.From {
			out = append(out, store.SeqRange{From: x.From, To: r.From - 1})
		}
		if x.To > r.To {
			out = append(out, store.SeqRange{From: r.To + 1, To: x.To})
		}
	}
	return out
}
