//go:build !unix

package log

// allocBuffer returns n zeroed bytes on the Go heap (see membuf_unix.go).
func allocBuffer(n int) (b []byte, mapped bool) { return make([]byte, n), false }

func freeBuffer([]byte, bool) {}
