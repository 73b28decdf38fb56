//go:build unix

package log

import "syscall"

// allocBuffer returns n zeroed bytes outside the Go heap (an anonymous
// private mapping), for the log's long-lived I/O buffers: the collector
// neither scans them nor counts them in its heap target, so they cost the
// process their size once, not (1 + GOGC/100) times. It falls back to the
// heap when the mapping fails; freeBuffer knows which is which.
func allocBuffer(n int) (b []byte, mapped bool) {
	if n <= 0 {
		return nil, false
	}
	m, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]byte, n), false
	}
	return m, true
}

// freeBuffer returns a mapped buffer to the system. Nothing may use b
// afterwards: an access faults.
func freeBuffer(b []byte, mapped bool) {
	if mapped {
		_ = syscall.Munmap(b)
	}
}
