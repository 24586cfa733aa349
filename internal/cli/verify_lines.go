package cli

import (
	"context"
	"io"
	"sync"
)

// orderedLines runs work on every non-empty line of r on workers
// goroutines and hands each result to emit in input order, with its line
// number. It is verifyStream's pipeline with a result per line instead of
// an error.
func orderedLines[T any](ctx context.Context, r io.Reader, workers int, work func([]byte) T,
	emit func(n int, v T) error) error {
	type chunk struct {
		nums []int
		ends []int
		buf  []byte
		out  []T
		done chan struct{}
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
		c := &chunk{done: make(chan struct{})}
		send := func() bool {
			c.out = make([]T, len(c.ends))
			select {
			case order <- c:
			case <-ctx.Done():
				return false
			}
			jobs <- c
			c = &chunk{done: make(chan struct{})}
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
	}
	wg.Wait()
	if outErr != nil {
		return outErr
	}
	return <-readErr
}
