package store

import "slices"

// AddRange returns the ascending union of rs and r, merging ranges that
// overlap or touch, so a range is never re-sent twice. Both
// backends keep failed ranges with it.
func AddRange(rs []SeqRange, r SeqRange) []SeqRange {
	all := append(slices.Clone(rs), r)
	slices.SortFunc(all, func(a, b SeqRange) int {
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

// SubtractRange returns rs without the sequence numbers in r.
func SubtractRange(rs []SeqRange, r SeqRange) []SeqRange {
	var out []SeqRange
	for _, x := range rs {
		if x.To < r.From || x.From > r.To {
			out = append(out, x)
			continue
		}
		if x.From < r.From {
			out = append(out, SeqRange{From: x.From, To: r.From - 1})
		}
		if x.To > r.To {
			out = append(out, SeqRange{From: r.To + 1, To: x.To})
		}
	}
	return out
}
