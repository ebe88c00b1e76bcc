package files

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/bmp"
	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

// errTooManyPixels refuses an image whose header promises more pixels
// than MaxPixels: decoding it would take that much memory whatever the
// size of the file (a decompression bomb).
var errTooManyPixels = errors.New("image has too many pixels")

type codec struct {
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

// codecs are the decoders by sniffed content type, called directly rather
// than through image.Decode's global registry.
var codecs = map[string]codec{
	"image/jpeg": {jpeg.DecodeConfig, jpeg.Decode},
	"image/png":  {png.DecodeConfig, png.Decode},
	"image/gif":  {gif.DecodeConfig, gif.Decode},
	"image/webp": {webp.DecodeConfig, webp.Decode},
	"image/bmp":  {bmp.DecodeConfig, bmp.Decode},
}

// decodeBounded decodes the image of the content type from r, after
// checking from its header that it has at most maxPixels pixels.
func decodeBounded(r io.ReadSeeker, ct string, maxPixels int) (image.Image, error) {
	c, ok := codecs[ct]
	if !ok {
		return nil, fmt.Errorf("no decoder for %s", ct)
	}
	cfg, err := c.config(r)
	if err != nil {
		return nil, fmt.Errorf("decode %s header: %w", ct, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return nil, fmt.Errorf("%dx%d: %w", cfg.Width, cfg.Height, errTooManyPixels)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	img, err := c.decode(r)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", ct, err)
	}
	return img, nil
}

// fit scales img down to fit in w×h, keeping its aspect ratio; an image
// that fits already is only flattened. Transparent parts become white, as
// the result is a JPEG.
func fit(img image.Image, w, h int) *image.RGBA {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	dw, dh := sw, sh
	if dw > w {
		dw, dh = w, max(1, sh*w/sw)
	}
	if dh > h {
		dw, dh = max(1, sw*h/sh), h
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	xdraw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, b, draw.Over, nil)
	return dst
}

// shrink decodes the image of the content type from r (bounded by
// maxPixels) and fits it in w×h, turned upright as a JPEG's EXIF
// orientation says.
func shrink(r io.ReadSeeker, ct string, w, h, maxPixels int) (*image.RGBA, error) {
	o := 1
	if ct == "image/jpeg" {
		o = jpegOrientation(r)
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
	}
	img, err := decodeBounded(r, ct, maxPixels)
	if err != nil {
		return nil, err
	}
	if o >= 5 { // lying on its side: the box turns with it
		w, h = h, w
	}
	return orient(fit(img, w, h), o), nil
}

// encodeJPEG writes img as a JPEG of good enough quality for previews.
func encodeJPEG(w io.Writer, img image.Image) error {
	return jpeg.Encode(w, img, &jpeg.Options{Quality: 82})
}
