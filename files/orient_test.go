package files

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

// withOrientation is a JPEG of w×h, red in its top-left quarter, with an
// EXIF segment saying orientation o (big-endian TIFF).
func withOrientation(t *testing.T, w, h, o int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{B: 255, A: 255}
			if x < w/2 && y < h/2 {
				c = color.RGBA{R: 255, A: 255}
			}
			img.Set(x, y, c)
		}
	}
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	tiff := []byte("MM\x00\x2a\x00\x00\x00\x08\x00\x01")
	entry := make([]byte, 12)
	binary.BigEndian.PutUint16(entry[0:], 0x0112)
	binary.BigEndian.PutUint16(entry[2:], 3) // SHORT
	binary.BigEndian.PutUint32(entry[4:], 1)
	binary.BigEndian.PutUint16(entry[8:], uint16(o))
	tiff = append(append(tiff, entry...), 0, 0, 0, 0)
	seg := append([]byte("Exif\x00\x00"), tiff...)
	app1 := append([]byte{0xFF, 0xE1}, binary.BigEndian.AppendUint16(nil, uint16(len(seg)+2))...)
	b := enc.Bytes()
	return append(append(append([]byte{}, b[:2]...), append(app1, seg...)...), b[2:]...)
}

func TestOrientation(t *testing.T) {
	for _, c := range []struct {
		o          int
		w, h       int // of the thumbnail
		redX, redY int // a point of the red quarter, after turning
	}{
		{o: 1, w: 40, h: 20, redX: 5, redY: 5},
		{o: 3, w: 40, h: 20, redX: 35, redY: 15},
		{o: 6, w: 20, h: 40, redX: 15, redY: 5},
		{o: 8, w: 20, h: 40, redX: 5, redY: 35},
	} {
		data := withOrientation(t, 40, 20, c.o)
		if got := jpegOrientation(bytes.NewReader(data)); got != c.o {
			t.Errorf("orientation %d read as %d", c.o, got)
		}
		img, err := shrink(bytes.NewReader(data), "image/jpeg", 100, 100, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != c.w || b.Dy() != c.h {
			t.Errorf("orientation %d: %dx%d, want %dx%d", c.o, b.Dx(), b.Dy(), c.w, c.h)
			continue
		}
		if r, _, bl, _ := img.At(c.redX, c.redY).RGBA(); r < 0xC000 || bl > 0x4000 {
			t.Errorf("orientation %d: (%d,%d) is not red", c.o, c.redX, c.redY)
		}
	}
	if got := jpegOrientation(bytes.NewReader([]byte("not a jpeg"))); got != 1 {
		t.Errorf("no JPEG: orientation %d, want 1", got)
	}
}
