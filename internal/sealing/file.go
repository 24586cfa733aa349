package sealing

import (
	"log/slog"

	"github.com/sigtrail/sigtrail/internal/store"
)

// WrapFile wraps st with the keys of the key file at path. With no path
// secrets are stored and read in plaintext as before, and only a value
// sealed earlier (the key file was forgotten) is refused, clearly.
func WrapFile(st store.Store, path string, log *slog.Logger) (store.Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if path == "" {
		return Wrap(st, nil, log), nil
	}
	keys, err := LoadKeyFile(path)
	if err != nil {
		return nil, err
	}
	return Wrap(st, keys, log), nil
}
