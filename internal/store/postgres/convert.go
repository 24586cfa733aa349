package postgres

import "time"

// Times are stored as UTC nanoseconds since the epoch; 0 is the zero time,
// so "never" and "unset" survive a round trip (as on SQLite).
func toNS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNS(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// Entry times are milliseconds (the precision of rt). Inclusive bounds are
// rounded inwards, so a bound between two milliseconds admits neither more
// nor less than the nanosecond comparison would.
func ceilMS(t time.Time) int64 {
	ns := t.UnixNano()
	ms := ns / 1e6
	if ms*1e6 < ns {
		ms++
	}
	return ms
}

func floorMS(t time.Time) int64 {
	ns := t.UnixNano()
	ms := ns / 1e6
	if ms*1e6 > ns {
		ms--
	}
	return ms
}

// nullable stores "" as NULL, for optional references and unique columns
// where empty means unset.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
