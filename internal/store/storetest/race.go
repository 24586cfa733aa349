package storetest

import (
	"sync"

	"github.com/sigtrail/sigtrail/internal/store"
)

// race runs n goroutines per handle, alternating a and b (goroutine i runs
// on a when i is even), releases them at once and waits for all. fn must
// report failures with t.Errorf, never t.Fatal.
func race(a, b store.Store, n int, fn func(s store.Store, i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 2 * n {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			<-start
			fn(s, i)
		})
	}
	close(start)
	wg.Wait()
}
