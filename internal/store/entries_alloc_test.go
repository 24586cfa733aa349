package store

import "testing"

func TestAppendEntryGrowsOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		limit, n  int
		wantCaps  []int // distinct capacities seen while appending n entries
		wantFirst int
	}{
		{limit: 1000, n: 1000, wantCaps: []int{16, 1000}, wantFirst: 16},
		{limit: 1000, n: 3, wantCaps: []int{16}, wantFirst: 16},
		{limit: 5, n: 5, wantCaps: []int{5}, wantFirst: 5},
		{limit: 16, n: 16, wantCaps: []int{16}, wantFirst: 16},
		{limit: 5000, n: 1100, wantCaps: []int{16, 1024, 1280}, wantFirst: 16},
	}
	for _, tc := range tests {
		out := EntriesFirst(tc.limit)
		if cap(out) != tc.wantFirst {
			t.Errorf("limit %d: first capacity %d, want %d", tc.limit, cap(out), tc.wantFirst)
		}
		var caps []int
		for i := range tc.n {
			out = AppendEntry(out, StoredEntry{Seq: int64(i + 1)}, tc.limit)
			if len(caps) == 0 || caps[len(caps)-1] != cap(out) {
				caps = append(caps, cap(out))
			}
		}
		for i := range out {
			if out[i].Seq != int64(i+1) {
				t.Fatalf("limit %d: entry %d has seq %d", tc.limit, i, out[i].Seq)
			}
		}
		if len(caps) != len(tc.wantCaps) || caps[0] != tc.wantCaps[0] || caps[1%len(caps)] != tc.wantCaps[1%len(tc.wantCaps)] {
			t.Errorf("limit %d, %d entries: capacities %v, want %v", tc.limit, tc.n, caps, tc.wantCaps)
		}
	}
	if EntriesFirst(0) != nil {
		t.Error("EntriesFirst(0) allocates")
	}
}
