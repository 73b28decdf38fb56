package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// diskWriteBytes returns write_bytes of /proc/self/io: the bytes this
// process (all its threads, so every engine running in it) caused to be
// sent to the storage layer, page-cache writeback and mmap writes included.
// 0 when unavailable.
func diskWriteBytes() int64 {
	f, err := os.Open("/proc/self/io")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "write_bytes:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}
