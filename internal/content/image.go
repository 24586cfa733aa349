package content

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"strings"
)

// MaxImageBytes caps a portal image once decoded. Kong states no limit; a
// logo or favicon above 512 KiB is a mistake, each is stored in the
// database and read for every request of it, and as base64 in JSON it
// still fits the API's default 1 MiB body limit.
const MaxImageBytes = 512 << 10

// ImageCSP is the Content-Security-Policy every served image carries: an
// SVG opened on its own runs nothing and loads nothing (only its own
// inline styles apply).
const ImageCSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"

// Image is a portal logo or favicon, decoded from Kong's data URL.
type Image struct {
	ContentType string // canonical: image/png, image/jpeg, image/gif, image/x-icon, image/svg+xml
	Data        []byte
}

// imageDataURL is the union of Kong's Image*DataUri patterns
// (portal-management-v3): the base64 payload is required in every case.
var imageDataURL = regexp.MustCompile(`^data:image/(png|jpeg|gif|x-icon|ico|icon|vnd\.microsoft\.icon|svg\+xml)(;base64)?,((?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)$`)

// canonicalType names each subtype Kong accepts by the type sigtrail
// serves it as (ICO has four spellings).
var canonicalType = map[string]string{
	"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif", "svg+xml": "image/svg+xml",
	"x-icon": "image/x-icon", "ico": "image/x-icon", "icon": "image/x-icon", "vnd.microsoft.icon": "image/x-icon",
}

// Errors of ParseImageDataURL; the API shows their text.
var (
	ErrImageDataURL = errors.New("must be a data URL with base64 PNG, JPEG, GIF, ICO or SVG image data, e.g. data:image/png;base64,<BASE64_IMAGE_DATA>")
	ErrImageSize    = errors.New("the image must not be empty nor larger than 512 KiB")
	ErrImageContent = errors.New("the image data is not an image of the type the data URL names")
	ErrImageSVG     = errors.New("an SVG image must be an <svg> document without scripts, event handlers, foreign objects, external references or a DOCTYPE")
)

// ParseImageDataURL decodes Kong's image data URL and checks the bytes
// are what it claims: PNG, JPEG, GIF and ICO by their signature, SVG by
// parsing it. An SVG with script, event-handler attributes, foreignObject,
// a DOCTYPE or a reference outside itself is refused, even though the
// portal serves images under a Content-Security-Policy that would stop them.
func ParseImageDataURL(s string) (Image, error) {
	if len(s) > base64.StdEncoding.EncodedLen(MaxImageBytes)+64 {
		return Image{}, ErrImageSize
	}
	m := imageDataURL.FindStringSubmatch(s)
	if m == nil {
		return Image{}, ErrImageDataURL
	}
	data, err := base64.StdEncoding.DecodeString(m[3])
	if err != nil {
		return Image{}, ErrImageDataURL
	}
	if len(data) == 0 || len(data) > MaxImageBytes {
		return Image{}, ErrImageSize
	}
	img := Image{ContentType: canonicalType[m[1]], Data: data}
	if !img.sniffs() {
		return Image{}, ErrImageContent
	}
	if img.ContentType == "image/svg+xml" {
		if err := checkSVG(data); err != nil {
			return Image{}, err
		}
	}
	return img, nil
}

// DataURL is the image as Kong's API returns it.
func (img Image) DataURL() string {
	return "data:" + img.ContentType + ";base64," + base64.StdEncoding.EncodeToString(img.Data)
}

// sniffs reports whether the bytes start as the content type says.
func (img Image) sniffs() bool {
	d := img.Data
	switch img.ContentType {
	case "image/png":
		return bytes.HasPrefix(d, []byte("\x89PNG\r\n\x1a\n"))
	case "image/jpeg":
		return bytes.HasPrefix(d, []byte{0xff, 0xd8, 0xff})
	case "image/gif":
		return bytes.HasPrefix(d, []byte("GIF87a")) || bytes.HasPrefix(d, []byte("GIF89a"))
	case "image/x-icon":
		return bytes.HasPrefix(d, []byte{0, 0, 1, 0}) && len(d) >= 6
	case "image/svg+xml":
		return true // checked by checkSVG
	}
	return false
}

// checkSVG parses the whole document: the root must be <svg>, and nothing
// in it may run code or fetch anything.
func checkSVG(data []byte) error {
	if bytes.Contains(bytes.ToLower(data), []byte("<script")) {
		return ErrImageSVG // also in a comment or CDATA: nothing to keep it for
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	root := true
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			if root {
				return ErrImageSVG // no element at all
			}
			return nil
		}
		if err != nil {
			return ErrImageSVG
		}
		switch t := tok.(type) {
		case xml.Directive: // DOCTYPE and entity declarations
			return ErrImageSVG
		case xml.ProcInst:
			if t.Target != "xml" {
				return ErrImageSVG // e.g. xml-stylesheet
			}
		case xml.StartElement:
			name := strings.ToLower(t.Name.Local)
			if root && name != "svg" {
				return ErrImageSVG
			}
			root = false
			if name == "script" || name == "foreignobject" || name == "iframe" || name == "embed" || name == "object" {
				return ErrImageSVG
			}
			for _, a := range t.Attr {
				if !safeSVGAttr(a) {
					return ErrImageSVG
				}
			}
		}
	}
}

// safeSVGAttr refuses event handlers and references to anything but a
// fragment of the document itself (or an embedded data: image).
func safeSVGAttr(a xml.Attr) bool {
	name := strings.ToLower(a.Name.Local)
	if strings.HasPrefix(name, "on") {
		return false
	}
	v := strings.ToLower(strings.TrimSpace(a.Value))
	if name == "href" || name == "src" {
		return strings.HasPrefix(v, "#") || strings.HasPrefix(v, "data:image/png") || strings.HasPrefix(v, "data:image/jpeg") || strings.HasPrefix(v, "data:image/gif")
	}
	return !strings.Contains(v, "javascript:") && !strings.Contains(v, "url(http") && !strings.Contains(v, "url(//")
}
