package cli

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// days is a duration flag that also takes days ("7d", "1d12h"), the unit
// retention and replay windows are talked about in; time.ParseDuration
// stops at hours.
type days struct{ d *time.Duration }

func durationVar(fs *flag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fs.Var(days{p}, name, usage)
}

func durationFlag(fs *flag.FlagSet, name string, value time.Duration, usage string) *time.Duration {
	p := new(time.Duration)
	durationVar(fs, p, name, value, usage)
	return p
}

func (v days) String() string {
	if v.d == nil {
		return "0s"
	}
	return v.d.String()
}

func (v days) Set(s string) error {
	d, err := parseDays(s)
	if err != nil {
		return err
	}
	*v.d = d
	return nil
}

// parseDays reads a Go duration that may start with a whole number of
// days: "7d", "1d12h", "36h", "90m".
func parseDays(s string) (time.Duration, error) {
	sign := time.Duration(1)
	body := s
	if strings.HasPrefix(body, "-") {
		sign, body = -1, body[1:]
	}
	if n, rest, ok := strings.Cut(body, "d"); ok && n != "" && strings.Trim(n, "0123456789") == "" {
		nd, err := strconv.ParseInt(n, 10, 32)
		if err != nil || nd > 106751 { // beyond time.Duration's range
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		d := time.Duration(nd) * 24 * time.Hour
		if rest != "" {
			r, err := time.ParseDuration(rest)
			if err != nil || r < 0 {
				return 0, fmt.Errorf("invalid duration %q", s)
			}
			d += r
		}
		return sign * d, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (for example 90m, 36h or 7d)", s)
	}
	return d, nil
}
