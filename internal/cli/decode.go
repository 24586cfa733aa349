package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/sigtrail/sigtrail/internal/audit"
)

// runDecode prints one JSON object per input line: the parsed CEF line, or
// {"error":"..."} for a line that is not valid CEF.
func runDecode(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet("decode", env.Stderr)
	// Usage writes to the flag set's output, which parsing silences, so
	// that a wrong flag prints the usage once, after its error line.
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: sigtrail decode [--typed] [FILE...]   (reads stdin when no file is given)")
		fs.PrintDefaults()
	}
	typed := fs.Bool("typed", false, "type values as Kong's JSON lines do: rt, status, severity integers; success, granted booleans; the rest strings")
	if err := parseFlags(fs, args, env.Getenv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(env.Stderr)
			fs.Usage()
			return err
		}
		fmt.Fprintf(env.Stderr, "sigtrail decode: %v (run 'sigtrail decode -h' for the flags)\n", err)
		return errUsage
	}
	out := bufio.NewWriterSize(env.Stdout, 64<<10)
	failed := false
	var buf []byte
	err := eachInput(env, fs.Args(), func(name string, r io.Reader) error {
		return eachLine(ctx, r, func(_ int, line []byte) error {
			l, err := audit.ParseCEF(line)
			buf = buf[:0]
			if err != nil {
				failed = true
				buf = append(buf, `{"error":`...)
				buf = appendJSONText(buf, err.Error())
				buf = append(buf, '}')
			} else if *typed {
				buf = l.AppendTypedJSON(buf)
			} else {
				buf = l.AppendDecodedJSON(buf)
			}
			buf = append(buf, '\n')
			_, err = out.Write(buf)
			return err
		})
	})
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	if failed {
		return errFailed
	}
	return nil
}

// appendJSONText appends s as a JSON string. Not json.Marshal: it writes
// <, > and & as \u003c..., which a person reading an error cannot read.
func appendJSONText(dst []byte, s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return append(dst, bytes.TrimSuffix(b.Bytes(), []byte("\n"))...)
}

// eachInput calls f for each named file, or for stdin when there is none
// ("-" also names stdin). A file that cannot be opened is reported in one
// line on stderr and skipped; the run then ends with exit status 1.
func eachInput(env *Env, files []string, f func(name string, r io.Reader) error) error {
	if len(files) == 0 {
		files = []string{"-"}
	}
	bad := false
	for _, name := range files {
		if name == "-" {
			if err := f("stdin", env.Stdin); err != nil {
				return err
			}
			continue
		}
		file, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(env.Stderr, "sigtrail: %s\n", oneLine(err.Error()))
			bad = true
			continue
		}
		err = f(name, file)
		file.Close()
		if err != nil {
			var re *readError
			if errors.As(err, &re) {
				fmt.Fprintf(env.Stderr, "sigtrail: %s: %s\n", name, oneLine(re.err.Error()))
				bad = true
				continue
			}
			return err
		}
	}
	if bad {
		return errFailed
	}
	return nil
}

// readError wraps a failure to read an input, as opposed to a failure to
// write the output.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }

// eachLine calls f with each line of r (1-based number, without its line
// break; a final line without one counts). Lines may be of any length. The
// slice is valid only during the call.
func eachLine(ctx context.Context, r io.Reader, f func(n int, line []byte) error) error {
	br := bufio.NewReaderSize(r, 256<<10)
	var long []byte
	for n := 1; ; n++ {
		if n&1023 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return &readError{err}
		}
		if len(line) == 0 && err != nil {
			return nil
		}
		if ferr := f(n, trimLineBreak(line)); ferr != nil {
			return ferr
		}
		if err != nil {
			return nil
		}
	}
}

func trimLineBreak(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}
