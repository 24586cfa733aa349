package content

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

const pngSig = "\x89PNG\r\n\x1a\n rest"

func TestParseImageDataURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		wantType string
		wantErr  error
	}{
		{"png", "data:image/png;base64," + b64(pngSig), "image/png", nil},
		{"png without ;base64, as Kong's pattern allows", "data:image/png," + b64(pngSig), "image/png", nil},
		{"jpeg", "data:image/jpeg;base64," + b64("\xff\xd8\xff\xe0jfif"), "image/jpeg", nil},
		{"gif", "data:image/gif;base64," + b64("GIF89a...."), "image/gif", nil},
		{"ico spelled vnd.microsoft.icon", "data:image/vnd.microsoft.icon;base64," + b64("\x00\x00\x01\x00\x01\x00"), "image/x-icon", nil},
		{"ico spelled ico", "data:image/ico;base64," + b64("\x00\x00\x01\x00\x01\x00"), "image/x-icon", nil},
		{"svg", "data:image/svg+xml;base64," + b64(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4" fill="#0a0"/><use href="#r"/></svg>`), "image/svg+xml", nil},

		{"not a data URL", "https://example.com/logo.png", "", ErrImageDataURL},
		{"webp is not Kong's", "data:image/webp;base64," + b64("RIFF"), "", ErrImageDataURL},
		{"text/html", "data:text/html;base64," + b64("<script>"), "", ErrImageDataURL},
		{"bad base64", "data:image/png;base64,abc", "", ErrImageDataURL},
		{"empty", "data:image/png;base64,", "", ErrImageSize},
		{"too large", "data:image/png;base64," + b64(pngSig+strings.Repeat("x", MaxImageBytes)), "", ErrImageSize},
		{"jpeg bytes named png", "data:image/png;base64," + b64("\xff\xd8\xff\xe0"), "", ErrImageContent},
		{"text named gif", "data:image/gif;base64," + b64("nice_looking_picture"), "", ErrImageContent},
		{"svg with script", "data:image/svg+xml;base64," + b64(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "", ErrImageSVG},
		{"svg with onload", "data:image/svg+xml;base64," + b64(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`), "", ErrImageSVG},
		{"svg with foreignObject", "data:image/svg+xml;base64," + b64(`<svg><foreignObject><p>x</p></foreignObject></svg>`), "", ErrImageSVG},
		{"svg with external href", "data:image/svg+xml;base64," + b64(`<svg><image href="https://example.com/x.png"/></svg>`), "", ErrImageSVG},
		{"svg with javascript href", "data:image/svg+xml;base64," + b64(`<svg><a xlink:href="javascript:alert(1)"><rect/></a></svg>`), "", ErrImageSVG},
		{"svg with doctype", "data:image/svg+xml;base64," + b64(`<!DOCTYPE svg [<!ENTITY x "y">]><svg>&x;</svg>`), "", ErrImageSVG},
		{"svg whose root is html", "data:image/svg+xml;base64," + b64(`<html><svg/></html>`), "", ErrImageSVG},
		{"svg not well formed", "data:image/svg+xml;base64," + b64(`<svg><g></svg>`), "", ErrImageSVG},
		{"svg empty document", "data:image/svg+xml;base64," + b64(` `), "", ErrImageSVG},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			img, err := ParseImageDataURL(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if img.ContentType != tt.wantType {
				t.Fatalf("type %q, want %q", img.ContentType, tt.wantType)
			}
			again, err := ParseImageDataURL(img.DataURL())
			if err != nil || again.ContentType != img.ContentType || !bytes.Equal(again.Data, img.Data) {
				t.Fatalf("DataURL does not round-trip: %v %+v", err, again)
			}
		})
	}
}

// FuzzParseImageDataURL: whatever is accepted round-trips, is within the
// size limit, and an accepted SVG has no script.
func FuzzParseImageDataURL(f *testing.F) {
	f.Add("data:image/png;base64," + b64(pngSig))
	f.Add("data:image/svg+xml;base64," + b64(`<svg><rect/></svg>`))
	f.Add("data:image/svg+xml;base64," + b64(`<svg><script/></svg>`))
	f.Add("data:image/x-icon," + b64("\x00\x00\x01\x00\x01\x00"))
	f.Fuzz(func(t *testing.T, s string) {
		img, err := ParseImageDataURL(s)
		if err != nil {
			return
		}
		if len(img.Data) == 0 || len(img.Data) > MaxImageBytes {
			t.Fatalf("accepted %d bytes", len(img.Data))
		}
		if img.ContentType == "image/svg+xml" && bytes.Contains(bytes.ToLower(img.Data), []byte("<script")) {
			t.Fatalf("accepted an SVG with a script: %q", img.Data)
		}
		if _, err := ParseImageDataURL(img.DataURL()); err != nil {
			t.Fatalf("DataURL of an accepted image is refused: %v", err)
		}
	})
}
