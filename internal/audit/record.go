package audit

import (
	"encoding/binary"
	"errors"
	"time"
)

// The record format is how the store keeps an entry: compact, versioned and
// cheap to decode, because every delivery decodes every entry it sends.
// Layout: version byte, kind byte, flags byte, rt (varint ms), status
// (uvarint), then the string fields in recordStrings order, each as a
// uvarint length and its bytes. A field added later is optional: a flag
// bit says it follows the string fields, so records stored before it
// existed decode unchanged and need no migration.
const recordVersion = 1

const (
	flagGranted       = 1 << 0
	flagKongInitiated = 1 << 1
	flagTokenID       = 1 << 2 // the token id follows the string fields
	knownFlags        = flagGranted | flagKongInitiated | flagTokenID
)

func recordStrings(e *Entry) [15]*string {
	return [15]*string{&e.Product, &e.ClassID, &e.Name, &e.Src, &e.OrgID, &e.PortalID,
		&e.PrincipalID, &e.PrincipalName, &e.TraceID, &e.UserAgent, &e.Request,
		&e.Action, &e.ActorID, &e.Query, &e.Act}
}

// AppendRecord appends the storage encoding of e to dst.
func AppendRecord(dst []byte, e *Entry) []byte {
	var flags byte
	if e.Granted {
		flags |= flagGranted
	}
	if e.KongInitiated {
		flags |= flagKongInitiated
	}
	if e.TokenID != "" {
		flags |= flagTokenID
	}
	dst = append(dst, recordVersion, byte(e.Kind), flags)
	dst = binary.AppendVarint(dst, e.Time.UnixMilli())
	dst = binary.AppendUvarint(dst, uint64(e.Status))
	for _, p := range recordStrings(e) {
		dst = binary.AppendUvarint(dst, uint64(len(*p)))
		dst = append(dst, *p...)
	}
	if e.TokenID != "" {
		dst = binary.AppendUvarint(dst, uint64(len(e.TokenID)))
		dst = append(dst, e.TokenID...)
	}
	return dst
}

var errBadRecord = errors.New("audit: malformed entry record")

// DecodeRecord is the inverse of AppendRecord.
func DecodeRecord(b []byte) (Entry, error) {
	var e Entry
	if len(b) < 3 || b[0] != recordVersion {
		return e, errBadRecord
	}
	e.Kind = Kind(b[1])
	flags := b[2]
	if !validKind(e.Kind) || flags&^knownFlags != 0 {
		return e, errBadRecord
	}
	e.Granted = flags&flagGranted != 0
	e.KongInitiated = flags&flagKongInitiated != 0
	b = b[3:]
	ms, n := binary.Varint(b)
	if n <= 0 {
		return e, errBadRecord
	}
	e.Time = time.UnixMilli(ms).UTC()
	b = b[n:]
	status, n := binary.Uvarint(b)
	if n <= 0 || status > 999 {
		return e, errBadRecord
	}
	e.Status = int(status)
	b = b[n:]
	var ok bool
	for _, p := range recordStrings(&e) {
		if b, ok = decodeString(b, p); !ok {
			return e, errBadRecord
		}
	}
	if flags&flagTokenID != 0 {
		if b, ok = decodeString(b, &e.TokenID); !ok || e.TokenID == "" {
			return e, errBadRecord
		}
	}
	if len(b) != 0 {
		return e, errBadRecord
	}
	return e, nil
}

// decodeString reads one length-prefixed string into p and returns the rest.
func decodeString(b []byte, p *string) ([]byte, bool) {
	l, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < l {
		return b, false
	}
	*p = string(b[n : n+int(l)])
	return b[n+int(l):], true
}
