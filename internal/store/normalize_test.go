package store

import "testing"

func TestEmailKeySafe(t *testing.T) {
	for _, c := range []struct {
		email string
		want  bool
	}{
		{"bob@bigcorp.com", true},
		{"Bob@BigCorp.COM", true},
		{"jörg@exämple.de", true},   // lower case already: its key is itself
		{"bob@bİgcorp.com", false},  // keyed bob@bigcorp.com, another DNS name
		{"bob@\u212Aey.com", false}, // the Kelvin sign, keyed as k
		{"JÖRG@example.de", false},
	} {
		if got := EmailKeySafe(c.email); got != c.want {
			t.Errorf("EmailKeySafe(%q) = %v, want %v", c.email, got, c.want)
		}
	}
}
