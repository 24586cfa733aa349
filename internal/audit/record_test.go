package audit

import "testing"

func TestRecordRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range sampleEntries() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := AppendRecord(nil, &tc.entry)
			got, err := DecodeRecord(b)
			if err != nil {
				t.Fatal(err)
			}
			sameEntry(t, got, tc.entry)
			// Every strict prefix and an extra byte are refused, never misread.
			for n := range len(b) {
				if _, err := DecodeRecord(b[:n]); err == nil {
					t.Fatalf("truncated record of %d/%d bytes accepted", n, len(b))
				}
			}
			if _, err := DecodeRecord(append(b, 0)); err == nil {
				t.Fatal("record with a trailing byte accepted")
			}
		})
	}
}

func TestDecodeRecordRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rec  []byte
	}{
		{"empty", nil},
		{"unknown version", []byte{2, 1, 0, 0, 0}},
		{"unknown kind", []byte{1, 9, 0, 0, 0}},
		{"unknown flag", []byte{1, 1, 8, 0, 0}},
		{"status out of range", append([]byte{1, 3, 0, 0}, 0xe8, 0x07)}, // 1000
		{"string longer than the record", append([]byte{1, 1, 0, 0, 0}, 50, 'a')},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := DecodeRecord(tc.rec); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
