package loadtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"image"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Files is Devices users sending each other chat files through the file
// API: Rate uploads per second in all for Duration, each of Size bytes;
// user i uploads to user i+1 (as MaxIM's SDKs do: upload URL, multipart
// POST), who downloads the file and checks its bytes.
type Files struct {
	Devices  int
	Size     int64
	Rate     float64
	Duration time.Duration
	// ImageSide, when positive, makes every file a JPEG image of
	// ImageSide×ImageSide pixels of noise (one image, made once; Size is
	// ignored) sent as an image message's file (file_type 102), so that
	// the server makes a thumbnail of each.
	ImageSide int
}

// FilesReport is what the files scenario measured.
type FilesReport struct {
	Planned   int64 `json:"planned"`
	Uploads   int64 `json:"uploads"`
	Downloads int64 `json:"downloads"`
	// Failed counts transfers refused, unanswered or read back wrong.
	Failed     int64   `json:"failed"`
	FirstError string  `json:"first_error,omitempty"`
	Seconds    float64 `json:"seconds"`
	// PerSecond is uploads (each downloaded once) per second; MiBPerSecond
	// the bytes moved both ways.
	PerSecond    float64  `json:"per_second"`
	MiBPerSecond float64  `json:"mib_per_second"`
	UploadMs     *Latency `json:"upload_ms"`   // upload URL, then the POST until its answer
	DownloadMs   *Latency `json:"download_ms"` // GET until the last byte
	// ServerRSSMiB is the server's resident memory before the transfers
	// and at its highest during them (sampled every 200 ms), with
	// --metrics-url; ServerCPUSeconds the CPU it spent on them.
	ServerRSSBeforeMiB float64 `json:"server_rss_before_mib,omitempty"`
	ServerRSSMaxMiB    float64 `json:"server_rss_max_mib,omitempty"`
	ServerCPUSeconds   float64 `json:"server_cpu_seconds,omitempty"`
}

// Files runs the files scenario.
func (r *Runner) Files(ctx context.Context, sc Files) (*Report, error) {
	if sc.Devices < 2 || (sc.Size < 1 && sc.ImageSide < 1) {
		return nil, fmt.Errorf("loadtest: files needs two devices or more and a positive size or image side")
	}
	if err := checkRate(sc.Rate, sc.Duration); err != nil {
		return nil, err
	}
	rep := &Report{Scenario: "files", Users: sc.Devices, Params: map[string]any{
		"devices": sc.Devices, "size": sc.Size, "rate": sc.Rate, "duration": sc.Duration.String()}}
	start := time.Now()
	us, err := r.users(ctx, sc.Devices)
	if err != nil {
		return nil, err
	}
	rep.SetupSeconds = time.Since(start).Seconds()
	if rep.Server, err = r.serverBefore(ctx); err != nil {
		return nil, err
	}
	var img []byte
	if sc.ImageSide > 0 {
		if img, err = noiseJPEG(sc.ImageSide); err != nil {
			return nil, err
		}
		sc.Size = int64(len(img))
		rep.Params["image_side"], rep.Params["size"] = sc.ImageSide, sc.Size
	}
	fr := &FilesReport{Planned: int64(sc.Rate * sc.Duration.Seconds())}
	rep.Files = fr
	stopRSS := r.watchRSS(ctx, rep.Server, fr)
	ft := &fileTransfers{up: newHistogram(), down: newHistogram()}
	began := time.Now()
	r.transferAll(ctx, sc, img, us, fr.Planned, ft)
	fr.Seconds = time.Since(began).Seconds()
	stopRSS()
	if ph := rep.Server.endPhase(ctx, "files"); ph != nil && ph.ServerCPUMicros != nil {
		fr.ServerCPUSeconds = ph.ServerCPUMicros.Total / 1e6
	}
	fr.Uploads, fr.Downloads, fr.Failed = ft.uploads.Load(), ft.downloads.Load(), ft.failed.Load()
	fr.FirstError = ft.firstError()
	fr.UploadMs, fr.DownloadMs = summarize(ft.up), summarize(ft.down)
	if fr.Seconds > 0 {
		fr.PerSecond = float64(fr.Downloads) / fr.Seconds
		fr.MiBPerSecond = float64(fr.Uploads+fr.Downloads) * float64(sc.Size) / (1 << 20) / fr.Seconds
	}
	rep.judge()
	return rep, nil
}

// fileTransfers collects the transfers' outcomes.
type fileTransfers struct {
	uploads, downloads, failed atomic.Int64
	mu                         sync.Mutex
	up, down                   *hdrhistogram.Histogram
	first                      error
}

func (ft *fileTransfers) fail(err error) {
	ft.failed.Add(1)
	ft.mu.Lock()
	if ft.first == nil {
		ft.first = err
	}
	ft.mu.Unlock()
}

func (ft *fileTransfers) record(h *hdrhistogram.Histogram, d time.Duration) {
	ft.mu.Lock()
	recordDuration(h, d)
	ft.mu.Unlock()
}

func (ft *fileTransfers) firstError() string {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	if ft.first == nil {
		return ""
	}
	return ft.first.Error()
}

// transferAll starts planned transfers on schedule, at most Concurrency
// at once, and waits for them.
func (r *Runner) transferAll(ctx context.Context, sc Files, img []byte, us []user, planned int64, ft *fileTransfers) {
	bar := r.bars.bar(planned, "files", "files")
	defer end(bar)
	sem := make(chan struct{}, r.cfg.Concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range planned {
		at := start.Add(time.Duration(float64(i) / sc.Rate * float64(time.Second)))
		select {
		case <-time.After(time.Until(at)):
		case <-ctx.Done():
			wg.Wait()
			return
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			from, to := us[int(i)%len(us)], us[(int(i)+1)%len(us)]
			if err := r.transfer(ctx, from, to, uint64(i), sc.Size, img, ft); err != nil {
				ft.fail(err)
			}
			bar.Add(1)
		})
	}
	wg.Wait()
}

// transfer uploads a file of size bytes from one user to another and
// downloads it as the other, checking its digest.
// An image (img not nil) is sent as an image's file instead of generated
// bytes.
func (r *Runner) transfer(ctx context.Context, from, to user, seed uint64, size int64, img []byte, ft *fileTransfers) error {
	began := time.Now()
	var dto struct {
		UploadURL   string `json:"upload_url"`
		DownloadURL string `json:"download_url"`
	}
	fileType, src := "100", io.Reader(io.LimitReader(&pattern{state: seed | 1}, size))
	if img != nil {
		fileType, src = "102", bytes.NewReader(img)
	}
	path := "/file/upload/chat?file_type=" + fileType + "&to_type=1&to_id=" + strconv.FormatUint(to.id, 10)
	if err := r.api.call(ctx, http.MethodGet, path, from.id, nil, &dto); err != nil {
		return err
	}
	sum, err := r.uploadFile(ctx, dto.UploadURL, src)
	if err != nil {
		return err
	}
	ft.uploads.Add(1)
	ft.record(ft.up, time.Since(began))
	began = time.Now()
	if err := r.downloadFile(ctx, dto.DownloadURL, to.id, size, sum); err != nil {
		return err
	}
	ft.downloads.Add(1)
	ft.record(ft.down, time.Since(began))
	return nil
}

// uploadFile posts what src reads as the web SDK does, streamed through
// a pipe, and returns its digest.
func (r *Runner) uploadFile(ctx context.Context, url string, src io.Reader) ([]byte, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	h := sha256.New()
	go func() {
		part, err := mw.CreateFormFile("file", "load.bin")
		if err == nil {
			_, err = io.Copy(io.MultiWriter(part, h), src)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, pr)
	if err != nil {
		return nil, fmt.Errorf("loadtest: upload: %w", err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if _, err := r.api.do(req, nil); err != nil {
		pr.CloseWithError(err)
		return nil, err
	}
	return h.Sum(nil), nil
}

// downloadFile reads the file as the user and checks its size and digest.
func (r *Runner) downloadFile(ctx context.Context, url string, as uint64, size int64, sum []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("loadtest: download: %w", err)
	}
	req.Header.Set("app_id", r.api.app)
	req.Header.Set("access-token", r.api.token)
	req.Header.Set("user_id", strconv.FormatUint(as, 10))
	resp, err := r.api.hc.Do(req)
	if err != nil {
		return fmt.Errorf("loadtest: download: %w", err)
	}
	defer resp.Body.Close()
	var h hash.Hash = sha256.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil {
		return fmt.Errorf("loadtest: download: %w", err)
	}
	if resp.StatusCode != http.StatusOK || n != size || string(h.Sum(nil)) != string(sum) {
		return fmt.Errorf("loadtest: download: HTTP %d, %d bytes, want the %d uploaded", resp.StatusCode, n, size)
	}
	return nil
}

// pattern is a cheap endless stream of pseudo-random bytes (xorshift64),
// so that files differ and no layer can compress them away.
type pattern struct{ state uint64 }

func (p *pattern) Read(b []byte) (int, error) {
	var word [8]byte
	for n := 0; n < len(b); n += 8 {
		p.state ^= p.state << 13
		p.state ^= p.state >> 7
		p.state ^= p.state << 17
		binary.LittleEndian.PutUint64(word[:], p.state)
		copy(b[n:], word[:])
	}
	return len(b), nil
}

// watchRSS samples the server's resident memory every 200 ms until the
// returned function is called, keeping the highest in the report.
func (r *Runner) watchRSS(ctx context.Context, srv *Server, fr *FilesReport) func() {
	if srv == nil || len(srv.probe.urls) == 0 {
		return func() {}
	}
	fr.ServerRSSBeforeMiB = srv.Before.RSSBytes / (1 << 20)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			if found, err := srv.probe.scrape(ctx); err == nil {
				fr.ServerRSSMaxMiB = max(fr.ServerRSSMaxMiB, sampleOf(found).RSSBytes/(1<<20))
			}
			select {
			case <-t.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() { cancel(); <-done }
}

// noiseJPEG is a side×side JPEG of noise: about the size of a photo of
// that many pixels, which compresses poorly too.
func noiseJPEG(side int) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	p := pattern{state: 42}
	p.Read(img.Pix)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		return nil, fmt.Errorf("loadtest: make an image: %w", err)
	}
	return buf.Bytes(), nil
}
