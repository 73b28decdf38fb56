package vfs

import (
	"flag"
	"os"
	"strconv"
	"testing"
	"time"
)

var seedFlag = flag.Int64("vfs.seed", 0, "seed for randomized vfs tests (0: use $VFS_SEED, else the clock)")

// testSeed returns the seed for a randomized test: the -vfs.seed flag, else
// the VFS_SEED environment variable, else the clock. It logs the seed so a
// failure can be reproduced.
func testSeed(t testing.TB) int64 {
	t.Helper()
	seed := *seedFlag
	if seed == 0 {
		if s := os.Getenv("VFS_SEED"); s != "" {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				t.Fatalf("bad VFS_SEED %q: %v", s, err)
			}
			seed = v
		} else {
			seed = time.Now().UnixNano()
		}
	}
	t.Logf("seed %d (reproduce with -vfs.seed=%d or VFS_SEED=%d)", seed, seed, seed)
	return seed
}

// TestSeed exports testSeed to the external test package.
var TestSeed = testSeed
