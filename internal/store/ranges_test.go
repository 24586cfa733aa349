package store

import (
	"slices"
	"testing"
)

func TestAddAndSubtractRanges(t *testing.T) {
	t.Parallel()
	rs := func(pairs ...int64) []SeqRange {
		var out []SeqRange
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, SeqRange{From: pairs[i], To: pairs[i+1]})
		}
		return out
	}
	adds := []struct {
		name string
		have []SeqRange
		add  SeqRange
		want []SeqRange
	}{
		{"into nothing", nil, SeqRange{From: 5, To: 9}, rs(5, 9)},
		{"before, apart", rs(10, 20), SeqRange{From: 1, To: 5}, rs(1, 5, 10, 20)},
		{"touching merges", rs(10, 20), SeqRange{From: 21, To: 30}, rs(10, 30)},
		{"overlap merges", rs(10, 20), SeqRange{From: 15, To: 25}, rs(10, 25)},
		{"inside", rs(10, 20), SeqRange{From: 12, To: 13}, rs(10, 20)},
		{"bridges two", rs(1, 5, 10, 20), SeqRange{From: 6, To: 9}, rs(1, 20)},
	}
	for _, c := range adds {
		if got := AddRange(c.have, c.add); !slices.Equal(got, c.want) {
			t.Errorf("add %s: %v, want %v", c.name, got, c.want)
		}
	}
	subs := []struct {
		name string
		have []SeqRange
		sub  SeqRange
		want []SeqRange
	}{
		{"whole", rs(10, 20), SeqRange{From: 10, To: 20}, nil},
		{"more than whole", rs(10, 20, 30, 40), SeqRange{From: 5, To: 35}, rs(36, 40)},
		{"middle splits", rs(10, 20), SeqRange{From: 13, To: 15}, rs(10, 12, 16, 20)},
		{"disjoint", rs(10, 20), SeqRange{From: 21, To: 25}, rs(10, 20)},
	}
	for _, c := range subs {
		if got := SubtractRange(c.have, c.sub); !slices.Equal(got, c.want) {
			t.Errorf("subtract %s: %v, want %v", c.name, got, c.want)
		}
	}
}

// FuzzRanges checks addRange and subtractRange against a set of sequence
// numbers: the results cover exactly the right numbers and stay sorted,
// disjoint and non-touching after adds.
func FuzzRanges(f *testing.F) {
	f.Add([]byte{3, 9, 12, 20, 5, 14})
	f.Add([]byte{1, 1, 2, 2, 0, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		var rs []SeqRange
		model := map[int64]bool{}
		for i := 0; i+2 < len(ops); i += 3 {
			a, b := int64(ops[i+1]%64)+1, int64(ops[i+2]%64)+1
			if a > b {
				a, b = b, a
			}
			r := SeqRange{From: a, To: b}
			add := ops[i]%2 == 0
			if add {
				rs = AddRange(rs, r)
			} else {
				rs = SubtractRange(rs, r)
			}
			for n := a; n <= b; n++ {
				model[n] = add
			}
			covered := map[int64]bool{}
			for j, x := range rs {
				if x.From > x.To || (j > 0 && x.From <= rs[j-1].To) {
					t.Fatalf("ranges not sorted and disjoint: %v", rs)
				}
				for n := x.From; n <= x.To; n++ {
					covered[n] = true
				}
			}
			for n := int64(1); n <= 64; n++ {
				if covered[n] != model[n] {
					t.Fatalf("after op %d, %d covered=%v want %v (ranges %v)", i/3, n, covered[n], model[n], rs)
				}
			}
		}
	})
}
