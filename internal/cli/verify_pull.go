package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// verifyPullBatch is how many items are verified in parallel at once: a
// full pull page, enough to keep every worker busy.
const verifyPullBatch = 1000

// verifyPulled verifies every item read from r (see eachPulledItem) on
// workers goroutines and reports the failures through fail in input order.
// Malformed input ends the file with a readError; the items before it are
// verified and counted.
func verifyPulled(ctx context.Context, r io.Reader, verify func(json.RawMessage) error, workers int,
	fail func(n int, item json.RawMessage, why error) error) (verifyCounts, error) {
	var counts verifyCounts
	var batch []json.RawMessage
	first := 1 // item number of batch[0]
	errs := make([]error, verifyPullBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		errs = errs[:len(batch)]
		var wg sync.WaitGroup
		for w := range min(workers, len(batch)) {
			wg.Go(func() {
				for i := w; i < len(batch); i += workers {
					errs[i] = verify(batch[i])
				}
			})
		}
		wg.Wait()
		for i, e := range errs {
			if e == nil {
				counts.ok++
				continue
			}
			counts.failed++
			if err := fail(first+i, batch[i], e); err != nil {
				return err
			}
		}
		first += len(batch)
		batch = batch[:0]
		return nil
	}
	err := eachPulledItem(ctx, r, func(_ int, item json.RawMessage) error {
		batch = append(batch, item)
		if len(batch) == verifyPullBatch {
			return flush()
		}
		return nil
	})
	// Items read before malformed input are still verified and reported.
	if ferr := flush(); ferr != nil {
		return counts, ferr
	}
	return counts, err
}

// eachPulledItem calls f with each item of r, numbered from 1 across the
// whole input. r holds JSON documents one after another (pretty-printed or
// not, as a paging loop of curl writes them): a pull API answer
// {"data":[item,...],"meta":...} gives its data items; an array is a list
// of items (as `jq .data` writes it); any other object is one item (NDJSON
// of items). Anything else is malformed and ends the input with a
// readError naming the document.
func eachPulledItem(ctx context.Context, r io.Reader, f func(n int, item json.RawMessage) error) error {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	n := 0
	each := func(items []json.RawMessage) error {
		for _, it := range items {
			n++
			if err := f(n, it); err != nil {
				return err
			}
		}
		return nil
	}
	for doc := 1; ; doc++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return &readError{fmt.Errorf("document %d is not JSON: %v at byte %d", doc, se, se.Offset)}
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return &readError{fmt.Errorf("document %d is cut short", doc)}
			}
			return &readError{fmt.Errorf("document %d: %w", doc, err)}
		}
		switch raw[0] { // Decode leaves no leading space
		case '[':
			var items []json.RawMessage
			if err := json.Unmarshal(raw, &items); err != nil {
				return &readError{fmt.Errorf("document %d: %v", doc, err)}
			}
			if err := each(items); err != nil {
				return err
			}
		case '{':
			var members map[string]json.RawMessage
			if err := json.Unmarshal(raw, &members); err != nil {
				return &readError{fmt.Errorf("document %d: %v", doc, err)}
			}
			data, ok := members["data"]
			if !ok { // a single item
				if err := each([]json.RawMessage{raw}); err != nil {
					return err
				}
				continue
			}
			var items []json.RawMessage
			if !bytes.HasPrefix(data, []byte("[")) || json.Unmarshal(data, &items) != nil {
				return &readError{fmt.Errorf("document %d: data is not an array of items", doc)}
			}
			if err := each(items); err != nil {
				return err
			}
		default:
			return &readError{fmt.Errorf("document %d is neither a pull API answer nor an item", doc)}
		}
	}
}

// itemLabel names a pulled item by its trace_id and ts, quoted because
// they come from the input, or "" when it has neither.
func itemLabel(item json.RawMessage) string {
	var m map[string]any
	if json.Unmarshal(item, &m) != nil {
		return ""
	}
	trace, _ := m["trace_id"].(string)
	ts, _ := m["ts"].(string)
	switch {
	case trace != "" && ts != "":
		return fmt.Sprintf(" (trace_id %q, ts %q)", trace, ts)
	case trace != "":
		return fmt.Sprintf(" (trace_id %q)", trace)
	case ts != "":
		return fmt.Sprintf(" (ts %q)", ts)
	}
	return ""
}
