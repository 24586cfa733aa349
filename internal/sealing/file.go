package sealing

import (
	"log/slog"

	"github.com/sigtrail/sigtrail/internal/store"
)

// WrapFile wraps st with the keys of the key file at path; with no path
// it returns st unchanged, so secrets stay as they are stored today.
func WrapFile(st store.Store, path string, log *slog.Logger) (store.Store, error) {
	if path == "" {
		return st, nil
	}
	keys, err := LoadKeyFile(path)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return Wrap(st, keys, log), nil
}
