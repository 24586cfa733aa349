package delivery

import (
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
)

// A batch body is one gzip member whose deflate stream is the chunks'
// streams joined (as pigz does): each chunk is deflated on its own by the
// worker that signed it, ending with a sync flush (an empty stored block,
// so the next chunk starts on a byte boundary and nothing refers back
// across chunks), and a final empty block closes the stream. Compression
// thus runs on every core alongside signing instead of on the dispatcher's
// goroutine after it: in bulk it was the longest step left on one core.
// The result is ordinary gzip (one member, RFC 1952) that any reader takes.

// gzipHeader is a gzip member header without name, comment or time; XFL 4
// says "fastest compression", OS 255 unknown (as compress/gzip writes at
// BestSpeed).
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255}

// finalBlock is an empty deflate block with BFINAL set (fixed Huffman,
// only the end-of-block code).
var finalBlock = []byte{0x03, 0x00}

// sliceWriter appends what is written to b.
type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// storeBelow is the size under which a chunk goes in stored (uncompressed)
// deflate blocks: building a Huffman code for a few lines cost 50-60 us,
// more than signing them, to save a few hundred bytes of a request that
// trickling entries send a few times a second.
const storeBelow = 4 << 10

// deflateInto appends p deflated at BestSpeed and sync-flushed to dst;
// below storeBelow, as stored blocks.
func (s *sender) deflateInto(dst, p []byte) []byte {
	if len(p) < storeBelow {
		return appendStored(dst, p)
	}
	out := &sliceWriter{b: dst}
	fw, _ := s.flatePool.Get().(*flate.Writer)
	if fw == nil {
		fw, _ = flate.NewWriter(out, flate.BestSpeed)
	} else {
		fw.Reset(out)
	}
	// Writes to a slice do not fail.
	_, _ = fw.Write(p)
	_ = fw.Flush()
	s.flatePool.Put(fw)
	return out.b
}

// deflateChunk deflates a chunk just rendered; last says it is the last of
// its batch, whose final newline the body leaves out.
func (s *sender) deflateChunk(c *chunk, last bool) {
	body := c.buf
	if last && len(body) > 0 {
		body = body[:len(body)-1]
	}
	c.z = s.deflateInto(c.z[:0], body)
	c.zLast = last
}

// gzip joins the longest run of lines that fits MaxBatchBytes (at least
// one), separated by \n, into one gzip member, from the chunks' deflated
// streams; a chunk the cut falls in (or one deflated as if it were not the
// last) is deflated again here, which the size estimate of fitting makes
// rare. It returns the body, its uncompressed size and the number of lines.
func (s *sender) gzip(chunks []*chunk) ([]byte, int, int, error) {
	size, n := 0, 0                     // size counts each line's newline
	take := make([]int, 0, len(chunks)) // bytes of each chunk in the body, newline included
	for _, c := range chunks {
		end := 0
		for _, e := range c.ends {
			if n > 0 && size+(e-end)-1 > s.cfg.MaxBatchBytes {
				break
			}
			size += e - end
			end = e
			n++
		}
		if end == 0 {
			break
		}
		take = append(take, end)
		if end < len(c.buf) {
			break
		}
	}
	zlen := len(gzipHeader) + len(finalBlock) + 8
	for i, c := range chunks[:len(take)] {
		zlen += len(c.z)
		if i == len(take)-1 {
			zlen += 64 // room should the last be deflated again
		}
	}
	out := make([]byte, 0, zlen)
	out = append(out, gzipHeader...)
	var crc uint32
	for i, c := range chunks[:len(take)] {
		last := i == len(take)-1
		body := c.buf[:take[i]]
		if last {
			body = body[:len(body)-1]
		}
		crc = crc32.Update(crc, crc32.IEEETable, body)
		if c.z != nil && take[i] == len(c.buf) && c.zLast == last {
			out = append(out, c.z...)
		} else {
			out = s.deflateInto(out, body)
		}
	}
	out = append(out, finalBlock...)
	out = binary.LittleEndian.AppendUint32(out, crc)
	out = binary.LittleEndian.AppendUint32(out, uint32(size-1))
	return out, size - 1, n, nil
}

// appendStored appends p as one stored deflate block that is not final
// (RFC 1951 3.2.4): like a sync flush, it ends on a byte boundary, so the
// next chunk's blocks follow it directly. p is shorter than 65,536 bytes.
func appendStored(dst, p []byte) []byte {
	n := uint16(len(p))
	dst = append(dst, 0x00) // BFINAL 0, BTYPE 00, padded to the byte
	dst = binary.LittleEndian.AppendUint16(dst, n)
	dst = binary.LittleEndian.AppendUint16(dst, ^n)
	return append(dst, p...)
}
