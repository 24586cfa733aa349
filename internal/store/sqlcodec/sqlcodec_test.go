package sqlcodec

import (
	"slices"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/store"
)

func TestTimes(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 14, 15, 9, 26, 535_897_932, time.FixedZone("x", 3600))
	if got := FromNS(ToNS(at)); !got.Equal(at) || got.Location() != time.UTC {
		t.Errorf("round trip of %v gave %v", at, got)
	}
	if ToNS(time.Time{}) != 0 || !FromNS(0).IsZero() {
		t.Error("the zero time is not 0 both ways")
	}
	cases := []struct {
		t           time.Time
		ceil, floor int64
	}{
		{time.UnixMilli(1000), 1000, 1000},
		{time.UnixMilli(1000).Add(time.Nanosecond), 1001, 1000},
		{time.UnixMilli(1000).Add(-time.Nanosecond), 1000, 999},
		{time.UnixMilli(-5).Add(time.Nanosecond), -4, -5},
		{time.UnixMilli(-5).Add(-time.Nanosecond), -5, -6},
		// Past 2262 nanoseconds since the epoch overflow int64.
		{time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), 10413792000000, 10413792000000},
		{time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC), 253402300800000, 253402300799999},
		{time.Date(1600, 1, 1, 0, 0, 0, 1, time.UTC), -11676096000000 + 1, -11676096000000},
	}
	for _, c := range cases {
		if got := CeilMS(c.t); got != c.ceil {
			t.Errorf("CeilMS(%v) = %d, want %d", c.t, got, c.ceil)
		}
		if got := FloorMS(c.t); got != c.floor {
			t.Errorf("FloorMS(%v) = %d, want %d", c.t, got, c.floor)
		}
	}
}

func TestPageResult(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		items []int
		page  store.Page
		want  []int
		more  bool
	}{
		{"fits", []int{1, 2}, store.Page{Size: 3}, []int{1, 2}, false},
		{"look-ahead row trimmed", []int{1, 2, 3, 4}, store.Page{Size: 3}, []int{1, 2, 3}, true},
		{"walked backwards", []int{9, 8, 7, 6}, store.Page{Size: 3, Before: "x"}, []int{7, 8, 9}, true},
		{"forwards after", []int{4, 5}, store.Page{Size: 3, After: "x"}, []int{4, 5}, false},
	}
	for _, c := range cases {
		got, more := PageResult(slices.Clone(c.items), c.page)
		if !slices.Equal(got, c.want) || more != c.more {
			t.Errorf("%s: %v, %v; want %v, %v", c.name, got, more, c.want, c.more)
		}
	}
}
