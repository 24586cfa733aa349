package cli

import (
	"context"
	"io"
	"sync"
)

// orderedLines runs work on every non-empty line of r on workers
// goroutines and hands each result to emit in input order, with its line
// number; after emit fails, it stops and returns that error. Lines travel
// in chunks of verifyChunkLines, reused through a pool (a chunk holds a few
// MB of lines).
func orderedLines[T any](ctx context.Context, r io.Reader, workers int, work func([]byte) T,
	emit func(n int, v T) error) error {
	type chunk struct {
		nums []int // line numbers (empty lines are skipped, so not always consecutive)
		ends []int // end offset of each line in buf
		buf  []byte
		out  []T
		done chan struct{}
	}
	pool := sync.Pool{New: func() any { return new(chunk) }}
	newChunk := func() *chunk {
		c := pool.Get().(*chunk)
		c.nums, c.ends, c.buf = c.nums[:0], c.ends[:0], c.buf[:0]
		c.done = make(chan struct{})
		return c
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan *chunk, workers)
	order := make(chan *chunk, 2*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for c := range jobs {
				start := 0
				for i, end := range c.ends {
					c.out[i] = work(c.buf[start:end])
					start = end
				}
				close(c.done)
			}
		})
	}
	readErr := make(chan error, 1)
	go func() {
		defer close(order)
		defer close(jobs)
		c := newChunk()
		send := func() bool {
			if cap(c.out) >= len(c.ends) {
				c.out = c.out[:len(c.ends)]
			} else {
				c.out = make([]T, len(c.ends))
			}
			select {
			case order <- c:
			case <-ctx.Done():
				return false
			}
			jobs <- c
			c = newChunk()
			return true
		}
		err := eachLine(ctx, r, func(n int, line []byte) error {
			if len(line) == 0 {
				return nil
			}
			c.buf = append(c.buf, line...)
			c.ends = append(c.ends, len(c.buf))
			c.nums = append(c.nums, n)
			if len(c.ends) == verifyChunkLines && !send() {
				return ctx.Err()
			}
			return nil
		})
		if err == nil && len(c.ends) > 0 {
			send()
		}
		readErr <- err
	}()
	var outErr error
	for c := range order {
		<-c.done
		if outErr != nil {
			continue
		}
		for i := range c.out {
			if outErr = emit(c.nums[i], c.out[i]); outErr != nil {
				cancel()
				break
			}
		}
		clear(c.out) // the results may hold memory; the chunk goes back to the pool
		pool.Put(c)
	}
	wg.Wait()
	if outErr != nil {
		return outErr
	}
	return <-readErr
}
