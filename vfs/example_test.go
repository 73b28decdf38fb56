package vfs_test

import (
	"fmt"

	"github.com/sledgo/sled/vfs"
)

// The file's data was synced, but its directory was not, so the power loss
// takes the file with it.
func ExampleMemFS_CrashClone() {
	fs := vfs.NewMem()
	_ = fs.MkdirAll("/db", 0o755)
	_ = fs.SyncDir("/")

	f, _ := fs.Create("/db/000001.log")
	_, _ = f.Write([]byte("record"))
	_ = f.Sync()
	_ = f.Close()

	after := fs.CrashClone(vfs.CrashOptions{Mode: vfs.DropAllUnsynced})
	names, _ := after.List("/db")
	fmt.Println("without SyncDir:", names)

	_ = fs.SyncDir("/db")
	after = fs.CrashClone(vfs.CrashOptions{Mode: vfs.DropAllUnsynced})
	names, _ = after.List("/db")
	data, _ := after.ReadFile("/db/000001.log")
	fmt.Println("with SyncDir:", names, string(data))
	// Output:
	// without SyncDir: []
	// with SyncDir: [000001.log] record
}

func ExampleCrashAfter() {
	workload := func(fs vfs.FS) {
		f, err := fs.Create("/data")
		if err != nil {
			return
		}
		defer f.Close()
		if _, err := f.Write([]byte("hello")); err != nil {
			return
		}
		if err := f.Sync(); err != nil {
			return
		}
		_ = fs.SyncDir("/")
	}

	counter := vfs.NewCounter()
	workload(vfs.NewInjecting(vfs.NewMem(), counter))
	n := counter.Count(vfs.MutatingOps)
	for k := int64(1); k <= n+1; k++ { // k = n+1: no power cut
		mem := vfs.NewMem()
		workload(vfs.NewInjecting(mem, vfs.CrashAfter(k)))
		after := mem.CrashClone(vfs.CrashOptions{Mode: vfs.DropAllUnsynced})
		data, err := after.ReadFile("/data")
		fmt.Printf("power cut before op %d: %q %v\n", k, data, err)
	}
	// Output:
	// power cut before op 1: "" open /data: file does not exist
	// power cut before op 2: "" open /data: file does not exist
	// power cut before op 3: "" open /data: file does not exist
	// power cut before op 4: "" open /data: file does not exist
	// power cut before op 5: "hello" <nil>
}
