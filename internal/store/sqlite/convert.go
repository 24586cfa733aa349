package sqlite

import (
	"errors"
	"strings"

	"github.com/sigtrail/sigtrail/internal/apperr"
	"modernc.org/sqlite"
)

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// nullable stores "" as NULL, for optional references and unique columns
// where empty means unset.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// SQLite extended result codes the store translates.
const (
	codeConstraintForeignKey = 787
	codeConstraintPrimaryKey = 1555
	codeConstraintUnique     = 2067
)

func isUnique(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == codeConstraintUnique || c == codeConstraintPrimaryKey ||
			strings.Contains(se.Error(), "UNIQUE constraint failed")
	}
	return false
}

func isForeignKey(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == codeConstraintForeignKey || strings.Contains(se.Error(), "FOREIGN KEY constraint failed")
	}
	return false
}

// constraint turns a constraint violation into the application error the
// store promises; what names the kind of row.
func constraint(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case isUnique(err):
		return apperr.New(apperr.Conflict, "%s already exists", what)
	case isForeignKey(err):
		return apperr.New(apperr.NotFound, "%s refers to something that does not exist", what)
	}
	return err
}

func notFound(what string) error { return apperr.New(apperr.NotFound, "%s not found", what) }
