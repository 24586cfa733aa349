package audit

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// A checkpoint line carries a signed checkpoint of its stream (a C2SP
// signed note, see package tlog) in the stream of a destination with
// sequence numbers. It is signed like every other line, so plain `sigtrail
// verify` accepts it; the note inside is signed on its own, so it can be
// checked apart from the line.
//
//	CEF:  <time> <host> CEF:0|<vendor>|sigtrail|1.0|checkpoint|Checkpoint|0|rt=<ms> stream=<id> size=<n> checkpoint=<note> sig=...
//	JSON: {"checkpoint":"<note>","rt":<ms>,"size":<n>,"stream":"<id>","sig":"..."}
//	CPS:  {"event":{"checkpoint":"<note>","rt":<ms>,"size":<n>,"stream":"<id>","sig":"..."}}
//
// The note's newlines are escaped as each format escapes them (\n).

// Checkpoint line constants.
const (
	CheckpointProduct = "sigtrail"
	CheckpointClassID = "checkpoint"
	CheckpointName    = "Checkpoint"
)

// CheckpointLine is what a checkpoint line states.
type CheckpointLine struct {
	Stream string
	Size   int64
	Time   time.Time
	Note   []byte
}

// AppendCheckpointSigned appends the signed checkpoint line c in format f.
func (r Renderer) AppendCheckpointSigned(dst []byte, f Format, c *CheckpointLine, s Signer) []byte {
	start := len(dst)
	switch f {
	case FormatJSON, FormatCPS:
		if f == FormatCPS {
			dst = append(dst, `{"event":`...)
		}
		dst = append(dst, `{"checkpoint":`...)
		dst = appendJSONString(dst, string(c.Note))
		dst = append(dst, `,"rt":`...)
		dst = strconv.AppendInt(dst, c.Time.UnixMilli(), 10)
		dst = append(dst, `,"size":`...)
		dst = strconv.AppendInt(dst, c.Size, 10)
		dst = append(dst, `,"stream":`...)
		dst = appendJSONString(dst, c.Stream)
		dst = append(dst, '}')
		if f == FormatCPS {
			dst = append(dst, '}')
		}
	default:
		dst = c.Time.UTC().Truncate(time.Second).AppendFormat(dst, tsLayout)
		dst = append(dst, ' ')
		dst = appendCEFHeader(dst, r.host())
		dst = append(dst, " CEF:0|"...)
		dst = appendCEFHeader(dst, r.vendor())
		dst = append(dst, "|"+CheckpointProduct+"|"+EventVersion+"|"+CheckpointClassID+"|"+CheckpointName+"|0|rt="...)
		dst = strconv.AppendInt(dst, c.Time.UnixMilli(), 10)
		dst = append(dst, " stream="...)
		dst = appendCEFValue(dst, c.Stream)
		dst = append(dst, " size="...)
		dst = strconv.AppendInt(dst, c.Size, 10)
		dst = append(dst, " checkpoint="...)
		dst = appendCEFValue(dst, string(c.Note))
	}
	return AttachSignature(dst, start, f, s)
}

// parseJSONCheckpoint reads a JSON or CPS checkpoint line's message; ok
// says whether msg is one at all.
func parseJSONCheckpoint(msg []byte) (note []byte, ok bool, err error) {
	obj := msg
	if bytes.HasPrefix(msg, []byte(`{"event":{"checkpoint":`)) {
		if !bytes.HasSuffix(msg, []byte("}}")) {
			return nil, true, errBadCP
		}
		obj = msg[len(`{"event":`) : len(msg)-1]
	} else if !bytes.HasPrefix(msg, []byte(`{"checkpoint":`)) {
		return nil, false, nil
	}
	var c struct {
		Checkpoint *string `json:"checkpoint"`
		RT         int64   `json:"rt"`
		Size       int64   `json:"size"`
		Stream     string  `json:"stream"`
	}
	dec := json.NewDecoder(bytes.NewReader(obj))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || c.Checkpoint == nil || dec.More() {
		return nil, true, errBadCP
	}
	return []byte(*c.Checkpoint), true, nil
}

// parseCEFCheckpoint reads a CEF checkpoint line's message; ok says
// whether msg is one at all.
func parseCEFCheckpoint(msg []byte) (note []byte, ok bool, err error) {
	if !bytes.Contains(msg, []byte("|"+CheckpointProduct+"|"+EventVersion+"|"+CheckpointClassID+"|")) {
		return nil, false, nil
	}
	l, err := ParseCEF(msg)
	if err != nil {
		return nil, true, err
	}
	if l.DeviceProduct != CheckpointProduct || l.DeviceEventClassID != CheckpointClassID {
		return nil, false, nil
	}
	v, found := l.Get("checkpoint")
	if !found {
		return nil, true, errBadCP
	}
	return []byte(v), true, nil
}
