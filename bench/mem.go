package main

import (
	"bytes"
	"io"
	"os"
	"runtime/metrics"
	"time"
)

// MemStats is the memory of one engine run, from just before open to just
// before Close. RSS is the whole process's: the harness's value buffers and
// the Go runtime count too, which is what StartRSS (measured after settle,
// before open) shows. It also counts the file pages an engine has mmapped
// and touched (bbolt's file, badger's tables), but not the OS page cache
// behind read(2)/pread(2) (sled, pebble).
type MemStats struct {
	StartRSS  int64 // VmRSS before open
	PeakRSS   int64 // max of VmHWM (when HWM) and the sampled VmRSS; 0 when /proc is unavailable
	StartHeap int64 // Go heap objects before open
	PeakHeap  int64 // sampled peak of heapObjectsMetric
	// HWM: clear_refs reset the kernel's peak RSS before open, so VmHWM
	// covers the run and spikes between two samples count. Otherwise
	// PeakRSS is the peak of the samples only.
	HWM bool
}

// heapObjectsMetric is the Go heap in use by objects: live ones and dead ones
// the GC has not swept yet, i.e. what the heap holds, not what is reachable.
const heapObjectsMetric = "/memory/classes/heap/objects:bytes"

// memSampleEvery: short enough to catch the heap between two GC cycles of a
// busy engine (tens of ms apart), long enough to cost nothing measurable
// (a read of /proc/self/status and of one runtime metric).
const memSampleEvery = 20 * time.Millisecond

type memSampler struct {
	m      MemStats
	buf    []byte // for /proc/self/status: reused, so sampling allocates ~nothing
	sample []metrics.Sample
	stop   chan struct{}
	done   chan struct{}
	closed bool
}

// startMem starts measuring an engine run; call it right after settle and
// before open, and Stop before Close.
func startMem() *memSampler { return startMemSampler(memSampleEvery, true) }

// startMemSampler: resetHWM false forces the sampled-only fallback (the
// test covers both).
func startMemSampler(every time.Duration, resetHWM bool) *memSampler {
	s := &memSampler{
		buf:    make([]byte, 16<<10),
		sample: []metrics.Sample{{Name: heapObjectsMetric}},
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	if resetHWM {
		s.m.HWM = resetPeakRSS(s.buf)
	}
	rss, _ := procMem(s.buf)
	s.m.StartRSS, s.m.PeakRSS = rss, rss
	s.m.StartHeap = s.heap()
	s.m.PeakHeap = s.m.StartHeap
	go s.loop(every)
	return s
}

func (s *memSampler) loop(every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.sampleOnce()
		}
	}
}

// sampleOnce folds the current VmRSS and heap into the peaks and returns
// VmHWM. Only the sampler goroutine calls it until Stop has waited for it.
func (s *memSampler) sampleOnce() (hwm int64) {
	rss, hwm := procMem(s.buf)
	s.m.PeakRSS = max(s.m.PeakRSS, rss)
	s.m.PeakHeap = max(s.m.PeakHeap, s.heap())
	return hwm
}

func (s *memSampler) heap() int64 {
	metrics.Read(s.sample)
	if s.sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s.sample[0].Value.Uint64())
}

// Stop ends the measurement and returns it. A last sample is taken after the
// sampler goroutine has exited, so what is live at Stop counts even if the
// run was shorter than one interval. Stop may be called again (a deferred
// call on an error path): it returns the same stats.
func (s *memSampler) Stop() MemStats {
	if s.closed {
		return s.m
	}
	s.closed = true
	close(s.stop)
	<-s.done
	hwm := s.sampleOnce()
	if s.m.HWM {
		s.m.PeakRSS = max(s.m.PeakRSS, hwm)
	}
	return s.m
}

// resetPeakRSS writes "5" to /proc/self/clear_refs (Linux 4.0+), which sets
// the process's VmHWM to its current RSS, and reports whether that took
// effect: the write fails on other systems, and a VmHWM well above VmRSS
// right after it means the kernel (or a sandbox emulating /proc) ignored it.
// The slack covers RSS that drops between the write and the read.
func resetPeakRSS(buf []byte) bool {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return false
	}
	rss, hwm := procMem(buf)
	return rss > 0 && hwm > 0 && hwm <= rss+4*mib
}

var (
	vmRSS = []byte("VmRSS:")
	vmHWM = []byte("VmHWM:")
)

// procMem returns VmRSS and VmHWM of /proc/self/status in bytes, 0 when
// unavailable. Both are process-wide (the mm's counters), whichever thread
// reads them.
func procMem(buf []byte) (rss, hwm int64) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	n, _ := io.ReadFull(f, buf) // ErrUnexpectedEOF: the file is shorter than buf, as expected
	f.Close()
	return statusKB(buf[:n], vmRSS), statusKB(buf[:n], vmHWM)
}

// statusKB parses the "Field:   1234 kB" line of field in a
// /proc/<pid>/status text, in bytes; 0 when absent.
func statusKB(b, field []byte) int64 {
	i := bytes.Index(b, field)
	if i < 0 {
		return 0
	}
	b = bytes.TrimLeft(b[i+len(field):], " \t")
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		v = v*10 + int64(c-'0')
	}
	return v << 10
}

// rssGoal is sled's memory goal: peak RSS at most 1.25 x the cache budget
// plus 32 MiB (the Go runtime, the harness and whatever the cache does not
// account for).
func rssGoal(cacheBytes int64) int64 { return cacheBytes*5/4 + 32*mib }
