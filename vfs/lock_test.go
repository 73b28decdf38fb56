package vfs_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sledgo/sled/vfs"
)

const lockChildEnv = "VFS_TEST_LOCK_CHILD_PATH"

// TestLockChildProcess is the child half of TestLockAcrossProcesses: run by
// the parent with lockChildEnv set, it tries to take the lock and reports the
// outcome on stdout.
func TestLockChildProcess(t *testing.T) {
	path := os.Getenv(lockChildEnv)
	if path == "" {
		t.Skip("helper process for TestLockAcrossProcesses")
	}
	l, err := vfs.Default.Lock(path)
	switch {
	case err == nil:
		fmt.Println("LOCKRESULT=acquired")
		must(t, l.Close())
	case errors.Is(err, vfs.ErrLocked):
		fmt.Println("LOCKRESULT=locked")
	default:
		fmt.Printf("LOCKRESULT=error %v\n", err)
	}
}

func lockInChild(t *testing.T, path string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockChildProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), lockChildEnv+"="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child process: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if res, ok := strings.CutPrefix(strings.TrimSpace(line), "LOCKRESULT="); ok {
			return res
		}
	}
	t.Fatalf("child process printed no result:\n%s", out)
	return ""
}

func TestLockAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "LOCK")
	l, err := vfs.Default.Lock(path)
	must(t, err)
	if got := lockInChild(t, path); got != "locked" {
		t.Fatalf("child while parent holds the lock: %s, want locked", got)
	}
	must(t, l.Close())
	if got := lockInChild(t, path); got != "acquired" {
		t.Fatalf("child after parent released the lock: %s, want acquired", got)
	}
}

// TestOSLockSameProcess checks that flock conflicts between two descriptors
// of one process, which is why Default needs no in-process lock registry.
func TestOSLockSameProcess(t *testing.T) {
	testLock(t, vfs.Default, filepath.Join(t.TempDir(), "LOCK"))
}

func TestMemFSLockSurvivesRenameNotCrash(t *testing.T) {
	fs := vfs.NewMem()
	l, err := fs.Lock("/LOCK")
	must(t, err)
	defer l.Close()
	must(t, fs.Rename("/LOCK", "/LOCK2"))
	_, err = fs.Lock("/LOCK2")
	wantErrIs(t, err, vfs.ErrLocked)

	fs.SyncAll()
	clone := fs.CrashClone(vfs.CrashOptions{})
	l2, err := clone.Lock("/LOCK2")
	must(t, err) // locks are not carried over
	must(t, l2.Close())
}
