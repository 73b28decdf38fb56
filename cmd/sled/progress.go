package main

import (
	"flag"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progressInterval is how often a progress bar redraws at most, and how
// often progress.poll samples its counter.
const progressInterval = 100 * time.Millisecond

// isTerminal reports whether w is a terminal; only then do long commands
// draw progress on it.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// quietFlag registers -q, which silences the progress bar of a long
// command.
func quietFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("q", false, "quiet: draw no progress bar on stderr")
}

// progressUnit is what a progress bar counts.
type progressUnit struct {
	name  string // per second, e.g. "entries" in "(120 entries/s)"; "": no count
	bytes bool   // count bytes: print sizes and a byte rate ("1.2 MB/s")
}

var (
	unitNone    = progressUnit{} // a spinner and the time spent only
	unitBytes   = progressUnit{name: "B", bytes: true}
	unitEntries = progressUnit{name: "entries"}
	unitKeys    = progressUnit{name: "keys"}
)

// progress shows how far a long command has come, on stderr: a bar with
// the count, the rate and the time left when the total is known (total >
// 0), else a spinner with the count, the rate and the time spent. A nil
// *progress shows nothing, and all its methods are no-ops, so commands call
// them without checking.
type progress struct {
	bar  *progressbar.ProgressBar
	stop chan struct{} // closed by done, to end poll's goroutine
	wg   sync.WaitGroup
}

// progress returns the progress of an operation described by desc, or nil
// (show nothing) when quiet or when stderr is not a terminal: progress
// never goes to stdout, which may carry a dump or results, and a log file
// or a pipe should not fill with redraws.
func (e *env) progress(quiet bool, desc string, total int64, unit progressUnit) *progress {
	if !e.showsProgress(quiet) {
		return nil
	}
	return newProgress(e.stderr, desc, total, unit)
}

// showsProgress reports whether e.progress(quiet, ...) would draw, so that
// a command computes a costly total only for a bar that shows.
func (e *env) showsProgress(quiet bool) bool {
	return !quiet && e.stderrTerminal
}

func newProgress(w io.Writer, desc string, total int64, unit progressUnit) *progress {
	if total <= 0 {
		total = -1 // progressbar's "unknown": a spinner
	}
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowTotalBytes(total > 0),
		progressbar.OptionSetPredictTime(total > 0),
		progressbar.OptionThrottle(progressInterval),
		progressbar.OptionSetSpinnerChangeInterval(progressInterval),
		// The bar is gone when the command prints its result.
		progressbar.OptionClearOnFinish(),
	}
	switch {
	case unit.bytes:
		opts = append(opts, progressbar.OptionShowCount(), progressbar.OptionShowBytes(true))
	case unit.name != "":
		opts = append(opts, progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString(unit.name))
	}
	p := &progress{bar: progressbar.NewOptions64(total, opts...), stop: make(chan struct{})}
	// Draw at once (a spinner then turns by itself): a command that makes
	// no progress for a while still shows that it is working.
	p.bar.RenderBlank()
	return p
}

// add counts n more units done. Errors of drawing are ignored: progress is
// a courtesy, never a reason to fail the command.
func (p *progress) add(n int64) {
	if p != nil {
		p.bar.Add64(n)
	}
}

// poll sets the count to count() every progressInterval until done, for
// work whose hot loop should not take the bar's lock (bench's workers).
// count must be safe to call from another goroutine.
func (p *progress) poll(count func() int64) {
	if p == nil {
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(progressInterval)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.bar.Set64(count())
			}
		}
	}()
}

// done erases the bar, whether the work succeeded or not, and stops its
// goroutines. Call it once, before printing the command's result.
func (p *progress) done() {
	if p == nil {
		return
	}
	close(p.stop)
	p.wg.Wait()
	p.bar.Finish() // with OptionClearOnFinish, clears the line
}

// reader returns r counting what is read from it.
func (p *progress) reader(r io.Reader) io.Reader {
	if p == nil {
		return r
	}
	return &progressReader{r: r, p: p}
}

type progressReader struct {
	r io.Reader
	p *progress
}

func (r *progressReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.p.add(int64(n))
	return n, err
}

// writer returns w counting what is written to it.
func (p *progress) writer(w io.Writer) io.Writer {
	if p == nil {
		return w
	}
	return &progressWriter{w: w, p: p}
}

type progressWriter struct {
	w io.Writer
	p *progress
}

func (w *progressWriter) Write(b []byte) (int, error) {
	n, err := w.w.Write(b)
	w.p.add(int64(n))
	return n, err
}
