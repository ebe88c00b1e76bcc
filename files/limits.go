package files

import (
	"bytes"
	"net/http"
	"strings"
)

// Class is a kind of file with its own size limit and content types.
type Class int

// The classes of files.
const (
	ClassFile Class = iota
	ClassAudio
	ClassImage
	ClassVideo
	ClassAvatar
)

var classNames = [...]string{"file", "audio", "image", "video", "avatar"}

func (c Class) String() string { return classNames[c] }

// ClassOf returns the class of MaxIM's file_type of chat and shared files:
// 100 file, 101 voice (amr), 102 image, 103 video, 104 voice (mp3), and
// 200 to 203 for the group-shared equivalents.
func ClassOf(fileType int) (Class, bool) {
	switch fileType {
	case 100, 200:
		return ClassFile, true
	case 101, 104, 201:
		return ClassAudio, true
	case 102, 202:
		return ClassImage, true
	case 103, 203:
		return ClassVideo, true
	}
	return 0, false
}

// Limits are the largest file of each class, in bytes. A zero field takes
// the default.
type Limits struct {
	File   int64 // default 100 MiB
	Audio  int64 // default 10 MiB
	Image  int64 // default 20 MiB
	Video  int64 // default 200 MiB
	Avatar int64 // default 5 MiB
}

// WithDefaults returns the limits with zero fields set to the defaults.
func (l Limits) WithDefaults() Limits {
	for _, f := range []struct {
		v   *int64
		def int64
	}{{&l.File, 100 << 20}, {&l.Audio, 10 << 20}, {&l.Image, 20 << 20}, {&l.Video, 200 << 20}, {&l.Avatar, 5 << 20}} {
		if *f.v <= 0 {
			*f.v = f.def
		}
	}
	return l
}

// Of returns the limit of the class.
func (l Limits) Of(c Class) int64 {
	return [...]int64{l.File, l.Audio, l.Image, l.Video, l.Avatar}[c]
}

// Sniff returns the content type of a file from its first bytes (up to
// 512), never from what the client claims: net/http's sniffing, plus AMR
// voice, which MaxIM's SDKs record and net/http does not know.
func Sniff(head []byte) string {
	if bytes.HasPrefix(head, []byte("#!AMR")) {
		return "audio/amr"
	}
	ct, _, _ := strings.Cut(http.DetectContentType(head), ";")
	if ct == "application/octet-stream" {
		ct = sniffMedia(head)
	}
	return ct
}

// sniffMedia recognizes what phones and browsers record and net/http does
// not: MP3 and AAC streams without a tag (by their frame sync), and ISO
// media files whose brand is not mp4 (QuickTime, 3GP, M4A).
func sniffMedia(head []byte) string {
	if len(head) >= 2 && head[0] == 0xFF {
		switch {
		case head[1]&0xF6 == 0xF0: // ADTS: sync, layer 0
			return "audio/aac"
		case head[1]&0xE0 == 0xE0 && head[1]&0x06 != 0: // MPEG audio: sync, a layer
			return "audio/mpeg"
		}
	}
	if len(head) >= 12 && string(head[4:8]) == "ftyp" {
		switch brand := string(head[8:12]); {
		case brand == "qt  ":
			return "video/quicktime"
		case strings.HasPrefix(brand, "3gp") || strings.HasPrefix(brand, "3g2"):
			return "video/3gpp"
		case brand == "M4A " || brand == "M4B ":
			return "audio/mp4"
		}
	}
	return "application/octet-stream"
}

// imageTypes are the image formats imgate decodes for thumbnails.
var imageTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true, "image/bmp": true}

// Allowed reports whether a file of the class may have the sniffed
// content type. Files of ClassFile may be anything; the other classes
// take their own media (MP4 and WebM containers count as audio too, for
// AAC and Opus voice).
func Allowed(c Class, ct string) bool {
	switch c {
	case ClassImage, ClassAvatar:
		return imageTypes[ct]
	case ClassAudio:
		return strings.HasPrefix(ct, "audio/") || ct == "application/ogg" || ct == "video/mp4" || ct == "video/webm"
	case ClassVideo:
		return strings.HasPrefix(ct, "video/")
	}
	return true
}

// Inline reports whether a download of the content type may be shown by
// the browser; anything else is served as an attachment of type
// application/octet-stream, so that an uploaded page never runs in
// imgate's origin.
func Inline(ct string) bool {
	return imageTypes[ct] || strings.HasPrefix(ct, "audio/") || strings.HasPrefix(ct, "video/") || ct == "application/ogg"
}
