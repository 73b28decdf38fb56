package log

import (
	"fmt"
	"sync"
	"testing"

	"github.com/sledgo/sled/vfs"
)

func benchLog(b *testing.B) *Log {
	b.Helper()
	l, err := Open(Options{FS: vfs.Default, Dir: b.TempDir()}, 0, nil)
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// runParallel runs op b.N times in total, split over g goroutines.
func runParallel(b *testing.B, g int, op func() error) {
	var wg sync.WaitGroup
	for w := range g {
		n := b.N / g
		if w < b.N%g {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				if err := op(); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkAppend measures appends of 100-byte records (not made durable
// one by one; the background flush runs).
func BenchmarkAppend(b *testing.B) {
	body := make([]byte, 100)
	for _, g := range []int{1, 8} {
		b.Run(fmt.Sprintf("goroutines=%d", g), func(b *testing.B) {
			l := benchLog(b)
			defer l.Close()
			b.SetBytes(int64(len(body)))
			b.ResetTimer()
			runParallel(b, g, func() error {
				_, err := l.Append(1, body)
				return err
			})
		})
	}
}

// BenchmarkAppendFlush measures durable appends: every operation is an
// Append followed by a Flush, on the real file system.
func BenchmarkAppendFlush(b *testing.B) {
	body := make([]byte, 100)
	for _, g := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("goroutines=%d", g), func(b *testing.B) {
			l := benchLog(b)
			defer l.Close()
			before := l.Stats().Syncs
			b.ResetTimer()
			runParallel(b, g, func() error {
				if _, err := l.Append(1, body); err != nil {
					return err
				}
				return l.Flush()
			})
			b.StopTimer()
			b.ReportMetric(float64(l.Stats().Syncs-before)/float64(b.N), "syncs/op")
		})
	}
}
