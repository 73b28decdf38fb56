package main

import (
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMemSamplerCountsAllocation allocates and touches 64 MiB between start
// and Stop: the measured peak RSS and peak heap must rise by about that much,
// with the kernel's VmHWM and with samples only. A bound on counted
// quantities: Stop's last sample sees the buffer live, whatever the timing.
func TestMemSamplerCountsAllocation(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc/self/status:", err)
	}
	const size = 64 * mib
	for _, c := range []struct {
		name     string
		resetHWM bool
	}{{"hwm", true}, {"sampled", false}} {
		t.Run(c.name, func(t *testing.T) {
			settle()
			s := startMemSampler(memSampleEvery, c.resetHWM)
			buf := make([]byte, size)
			for i := 0; i < len(buf); i += 4096 {
				buf[i] = 1 // fault every page in: fresh heap memory is not resident until written
			}
			m := s.Stop()
			runtime.KeepAlive(buf)
			if c.resetHWM && !m.HWM {
				t.Log("clear_refs did not reset VmHWM here: the sampled fallback is what was measured")
			}
			if !c.resetHWM && m.HWM {
				t.Error("HWM set although the reset was not asked for")
			}
			t.Logf("start RSS %d MiB, peak RSS %d MiB, start heap %d MiB, peak heap %d MiB",
				m.StartRSS/mib, m.PeakRSS/mib, m.StartHeap/mib, m.PeakHeap/mib)
			if d := m.PeakRSS - m.StartRSS; d < size-4*mib {
				t.Errorf("peak RSS - start RSS = %.1f MiB, want >= %d MiB", float64(d)/mib, (size-4*mib)/mib)
			}
			if d := m.PeakHeap - m.StartHeap; d < size-4*mib {
				t.Errorf("peak heap - start heap = %.1f MiB, want >= %d MiB", float64(d)/mib, (size-4*mib)/mib)
			}
			if m2 := s.Stop(); m2 != m {
				t.Errorf("second Stop = %+v, want %+v", m2, m)
			}
		})
	}
}

// TestMemHWMCatchesSpikeBetweenSamples: with no sample taken during the run
// (an interval of an hour), only the kernel's VmHWM can see 64 MiB touched
// and returned to the OS (FreeOSMemory: madvise, which updates the high-water
// mark first) before Stop.
func TestMemHWMCatchesSpikeBetweenSamples(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc/self/status:", err)
	}
	const size = 64 * mib
	settle()
	s := startMemSampler(time.Hour, true)
	buf := make([]byte, size)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	runtime.KeepAlive(buf) // dead from here: settle returns its pages
	settle()
	m := s.Stop()
	if !m.HWM {
		t.Skip("clear_refs does not reset VmHWM here")
	}
	t.Logf("start RSS %d MiB, peak RSS %d MiB", m.StartRSS/mib, m.PeakRSS/mib)
	if d := m.PeakRSS - m.StartRSS; d < size-4*mib {
		t.Errorf("peak RSS - start RSS = %.1f MiB, want >= %d MiB", float64(d)/mib, (size-4*mib)/mib)
	}
}

func TestStatusKB(t *testing.T) {
	st := []byte("Name:\tbench\nVmPeak:\t  999 kB\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\nVmData:\t 7 kB\n")
	if got := statusKB(st, vmRSS); got != 1024<<10 {
		t.Errorf("VmRSS = %d", got)
	}
	if got := statusKB(st, vmHWM); got != 2048<<10 {
		t.Errorf("VmHWM = %d", got)
	}
	if got := statusKB(st, []byte("VmSwap:")); got != 0 {
		t.Errorf("absent field = %d", got)
	}
}

func TestRSSGoal(t *testing.T) {
	if got := rssGoal(16 * mib); got != 52*mib {
		t.Errorf("rssGoal(16 MiB) = %d MiB, want 52", got/mib)
	}
}

func TestMemNote(t *testing.T) {
	hwm := MemStats{PeakRSS: mib, HWM: true}
	if got := memNote(hwm, MemStats{}); got != memMethod {
		t.Errorf("memNote with VmHWM = %q", got)
	}
	if got := memNote(hwm, MemStats{PeakRSS: mib}); !strings.Contains(got, "samples only") {
		t.Errorf("memNote of a sampled-only run = %q", got)
	}
}
