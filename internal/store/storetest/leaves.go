package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/sigtrail/sigtrail/internal/audit"
	"github.com/sigtrail/sigtrail/internal/store"
)

// testLeaves checks the Merkle leaf hashes: written with each entry, in
// sequence order, per stream; kept when retention deletes the entries;
// gone with a deleted portal's stream; and the destination's
// SequenceNumbers setting round trip.
func testLeaves(t *testing.T, b Backend) {
	open := b.Open
	t.Run("WrittenWithEntriesAndKeptPastRetention", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		st := store.StreamID(newID(t))
		other := store.StreamID(newID(t))
		var in []store.NewEntry
		for i := range 10 {
			in = append(in, entry(st, audit.KindAccess, at(time.Duration(i)*time.Hour), fmt.Sprint(i)))
			in = append(in, entry(other, audit.KindAuthorization, at(0), fmt.Sprint("o", i)))
		}
		_, err := s.Append(ctxT(t), in[:7])
		must(t, err, "Append")
		_, err = s.Append(ctxT(t), in[7:])
		must(t, err, "Append")
		var want [][32]byte
		for _, e := range in {
			if e.Stream == st {
				want = append(want, audit.LeafHash(&e.Entry))
			}
		}
		check := func(what string, from, to int64, want [][32]byte) {
			t.Helper()
			got, err := s.LeafHashes(ctxT(t), st, from, to)
			must(t, err, "LeafHashes")
			if len(got) != len(want) {
				t.Fatalf("%s: %d leaves, want %d", what, len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s: leaf %d differs", what, i)
				}
			}
		}
		check("all", 1, 10, want)
		check("a range", 3, 5, want[2:5])
		check("past the end", 9, 100, want[8:])
		got, err := s.LeafHashes(ctxT(t), store.StreamID(newID(t)), 1, 10)
		must(t, err, "LeafHashes of an unknown stream")
		if len(got) != 0 {
			t.Fatalf("unknown stream: %d leaves", len(got))
		}
		for {
			n, err := s.DeleteBefore(ctxT(t), at(100*time.Hour), 3)
			must(t, err, "DeleteBefore")
			if n == 0 {
				break
			}
		}
		if left, _ := s.Read(ctxT(t), st, 0, 100); len(left) != 0 {
			t.Fatalf("retention left %d entries", len(left))
		}
		check("after retention", 1, 10, want)
		// Numbers go on after retention emptied the stream, leaves too.
		more := entry(st, audit.KindAccess, at(200*time.Hour), "late")
		seqs, err := s.Append(ctxT(t), []store.NewEntry{more})
		must(t, err, "Append after retention")
		if seqs[0] != 11 {
			t.Fatalf("seq after retention = %d, want 11", seqs[0])
		}
		check("after a later append", 1, 11, append(want, audit.LeafHash(&more.Entry)))
	})

	t.Run("GoneWithTheirPortal", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o := mkOrg(t, s)
		p := mkPortal(t, s, o.ID)
		st := store.StreamID(p.ID)
		_, err := s.Append(ctxT(t), []store.NewEntry{entry(st, audit.KindAuthentication, at(0), "a"),
			entry(st, audit.KindAuthentication, at(0), "b")})
		must(t, err, "Append")
		must(t, s.DeletePortal(ctxT(t), o.ID, p.ID), "DeletePortal")
		got, err := s.LeafHashes(ctxT(t), st, 1, 10)
		must(t, err, "LeafHashes")
		if len(got) != 0 {
			t.Fatalf("deleted portal's stream keeps %d leaves", len(got))
		}
	})

	t.Run("DestinationSequenceNumbers", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		o := mkOrg(t, s)
		d := mkDestination(t, s, o.ID, "plain")
		if got, _ := s.GetDestination(ctxT(t), o.ID, d.ID); got.SequenceNumbers {
			t.Fatal("a destination has sequence numbers by default")
		}
		d.SequenceNumbers = true
		must(t, s.UpdateDestination(ctxT(t), d), "UpdateDestination")
		if got, _ := s.GetDestination(ctxT(t), o.ID, d.ID); !got.SequenceNumbers {
			t.Fatal("SequenceNumbers lost on update")
		}
		n := store.Destination{ID: newID(t), OrgID: o.ID, Name: "seq", Endpoint: "https://x.example.com",
			LogFormat: audit.FormatJSON, SequenceNumbers: true, CreatedAt: at(0), UpdatedAt: at(0)}
		must(t, s.CreateDestination(ctxT(t), n), "CreateDestination")
		if got, _ := s.GetDestination(ctxT(t), o.ID, n.ID); !got.SequenceNumbers {
			t.Fatal("SequenceNumbers lost on create")
		}
	})
}
