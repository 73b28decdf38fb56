// Package vfs is the file system abstraction through which the database
// performs all of its file I/O, so that tests can crash, tear and corrupt
// writes deterministically.
//
// # Implementations
//
// Default is the operating system's file system, a thin wrapper around
// package os. File.Sync uses fdatasync(2), File.Preallocate uses
// fallocate(2) with FALLOC_FL_KEEP_SIZE (silently skipped where unsupported)
// and FS.Lock uses flock(2), which excludes other processes as well as other
// Lock calls in the same process.
//
// MemFS (NewMem) is an in-memory file system that models durability, and
// NewInjecting wraps any FS to make chosen operations fail.
//
// # Durability model
//
// MemFS follows the POSIX rules a careful storage engine must assume:
//
//   - File contents (writes, truncations, size changes) become durable when
//     the file is synced (File.Sync). Until then they are tracked as an
//     ordered list of unsynced operations on top of the durable contents.
//   - Directory entries (creating a file or directory, removing, renaming)
//     become durable when their parent directory is synced (FS.SyncDir).
//     SyncDir does not make the directory's own entry in its parent durable,
//     and File.Sync does not make the file's entry durable: a newly created
//     file survives a crash only if it was synced AND its directory was
//     synced. A rename within a directory is atomic; a rename across
//     directories is a removal and an addition, each made durable by syncing
//     its own directory.
//   - The root directory always exists and is durable.
//
// MemFS.CrashClone returns the state after a simulated power loss as a new
// MemFS. With DropAllUnsynced it keeps exactly the durable state. With
// KeepRandomUnsyncedPrefix it additionally keeps, for every file and every
// directory, a random prefix of its unsynced operations, and the last kept
// write of a file may be torn; the choices are deterministic for a seed.
// Open files and held locks are not carried over.
//
// # Fault injection
//
// NewInjecting consults an Injector before every operation (see Op). The
// injectors provided here (Always, FailNth, FailFrom, CrashAfter, Random)
// return errors matching ErrInjected; WithTornWrites makes failed writes
// partial. A Counter counts operations, so a test can learn how many
// mutating operations a workload performs and then cut the power before each
// of them in turn:
//
//	counter := vfs.NewCounter()
//	run(vfs.NewInjecting(vfs.NewMem(), counter))
//	n := counter.Count(vfs.MutatingOps)
//	for k := int64(1); k <= n; k++ {
//		mem := vfs.NewMem()
//		run(vfs.NewInjecting(mem, vfs.CrashAfter(k))) // ops k, k+1, ... fail
//		after := mem.CrashClone(vfs.CrashOptions{
//			Mode: vfs.KeepRandomUnsyncedPrefix,
//			Seed: seed + k,
//		})
//		check(after) // recovery must succeed on the post-crash state
//	}
//
// MemFS.Corrupt and MemFS.Truncate damage durable data directly, for testing
// checksums and the handling of truncated files.
package vfs
