package signing

import (
	"bytes"
	"encoding/base64"
	"io"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
