package vfs

import (
	"errors"
	"fmt"
	"io"
	"math/bits"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
)

// Op is a kind of file system operation, as seen by an Injector.
type Op int

// The operations reported to an Injector. Close of files and locks is never
// reported and cannot fail by injection.
const (
	OpRead        Op = iota // File.Read, File.ReadAt
	OpWrite                 // File.Write, File.WriteAt
	OpSync                  // File.Sync
	OpCreate                // FS.Create
	OpOpen                  // FS.Open, FS.OpenReadWrite
	OpRemove                // FS.Remove, FS.RemoveAll
	OpRename                // FS.Rename (path is the old name)
	OpMkdir                 // FS.MkdirAll, FS.MkdirTemp
	OpList                  // FS.List
	OpStat                  // FS.Stat, File.Size
	OpSyncDir               // FS.SyncDir
	OpTruncate              // File.Truncate
	OpPreallocate           // File.Preallocate
	OpLock                  // FS.Lock, FS.LockShared

	numOps
)

var opNames = [numOps]string{
	OpRead:        "read",
	OpWrite:       "write",
	OpSync:        "sync",
	OpCreate:      "create",
	OpOpen:        "open",
	OpRemove:      "remove",
	OpRename:      "rename",
	OpMkdir:       "mkdir",
	OpList:        "list",
	OpStat:        "stat",
	OpSyncDir:     "syncdir",
	OpTruncate:    "truncate",
	OpPreallocate: "preallocate",
	OpLock:        "lock",
}

// String returns the lower-case name of the operation.
func (op Op) String() string {
	if op < 0 || op >= numOps {
		return fmt.Sprintf("Op(%d)", int(op))
	}
	return opNames[op]
}

// Mask returns the OpMask holding only op.
func (op Op) Mask() OpMask {
	if op < 0 || op >= numOps {
		return 0
	}
	return 1 << op
}

// Mutating reports whether op changes file system state.
func (op Op) Mutating() bool { return MutatingOps.Has(op) }

// OpMask is a set of Ops.
type OpMask uint64

// Predefined operation sets.
const (
	// AllOps holds every Op.
	AllOps OpMask = 1<<numOps - 1

	// MutatingOps holds the operations that change file system state:
	// write, sync, create, remove, rename, mkdir, syncdir, truncate and
	// preallocate. Syncs count because they change what survives a crash.
	MutatingOps OpMask = 1<<OpWrite | 1<<OpSync | 1<<OpCreate | 1<<OpRemove |
		1<<OpRename | 1<<OpMkdir | 1<<OpSyncDir | 1<<OpTruncate | 1<<OpPreallocate
)

// Ops returns the set of the given operations.
func Ops(ops ...Op) OpMask {
	var m OpMask
	for _, op := range ops {
		m |= op.Mask()
	}
	return m
}

// Has reports whether op is in m.
func (m OpMask) Has(op Op) bool { return m&op.Mask() != 0 }

// Len returns the number of operations in m.
func (m OpMask) Len() int { return bits.OnesCount64(uint64(m & AllOps)) }

// String lists the operations in m, e.g. "write|sync".
func (m OpMask) String() string {
	if m == 0 {
		return "none"
	}
	var names []string
	for op := Op(0); op < numOps; op++ {
		if m.Has(op) {
			names = append(names, op.String())
		}
	}
	if rest := m &^ AllOps; rest != 0 {
		names = append(names, fmt.Sprintf("%#x", uint64(rest)))
	}
	return strings.Join(names, "|")
}

// ErrInjected is matched (with errors.Is) by every error produced by the
// injectors of this package.
var ErrInjected = errors.New("vfs: injected error")

// InjectedError returns an error for an injected failure of op on path that
// matches ErrInjected and, if cause is non-nil, cause.
func InjectedError(op Op, path string, cause error) error {
	if cause == nil || cause == ErrInjected {
		return fmt.Errorf("%w: %s %s", ErrInjected, op, path)
	}
	return fmt.Errorf("%w: %s %s: %w", ErrInjected, op, path, cause)
}

// An Injector decides which operations of an injecting FS fail. MaybeError is
// called before each operation; a non-nil result is returned to the caller
// instead of performing the operation (but see WithTornWrites). Injectors
// must be safe for concurrent use.
type Injector interface {
	MaybeError(op Op, path string) error
}

// InjectorFunc adapts a function to an Injector.
type InjectorFunc func(op Op, path string) error

// MaybeError implements Injector.
func (f InjectorFunc) MaybeError(op Op, path string) error { return f(op, path) }

// Chain returns an Injector that consults every injector in order (so that
// all of them count every operation) and returns the first error.
func Chain(injs ...Injector) Injector {
	return InjectorFunc(func(op Op, path string) error {
		var first error
		for _, inj := range injs {
			if err := inj.MaybeError(op, path); err != nil && first == nil {
				first = err
			}
		}
		return first
	})
}

// Always returns an Injector that fails every operation in ops with an error
// matching ErrInjected and, if non-nil, err.
func Always(ops OpMask, err error) Injector {
	return InjectorFunc(func(op Op, path string) error {
		if ops.Has(op) {
			return InjectedError(op, path, err)
		}
		return nil
	})
}

// Counter is an Injector that never fails and counts operations by kind.
// Run a workload once with a Counter to learn how many operations of a kind
// it performs, then run it again with FailNth or CrashAfter for each k.
type Counter struct {
	counts [numOps]atomic.Int64
}

// NewCounter returns a Counter with all counts zero.
func NewCounter() *Counter { return new(Counter) }

// MaybeError implements Injector.
func (c *Counter) MaybeError(op Op, path string) error {
	if op >= 0 && op < numOps {
		c.counts[op].Add(1)
	}
	return nil
}

// Count returns the number of operations in ops seen so far.
func (c *Counter) Count(ops OpMask) int64 {
	var n int64
	for op := Op(0); op < numOps; op++ {
		if ops.Has(op) {
			n += c.counts[op].Load()
		}
	}
	return n
}

// Reset sets all counts to zero.
func (c *Counter) Reset() {
	for i := range c.counts {
		c.counts[i].Store(0)
	}
}

// CountingInjector fails operations by their 1-based index among the
// operations of a set of kinds. It is created by FailNth, FailFrom and
// CrashAfter.
type CountingInjector struct {
	ops    OpMask
	n      int64
	sticky bool // fail every operation from the n-th on, not just the n-th
	err    error
	count  atomic.Int64
	failed atomic.Int64
}

// FailNth returns an injector that fails only the n-th (counting from 1)
// operation in ops; err may be nil. Operations are counted in the order in
// which they call MaybeError, so concurrent workloads are not deterministic.
func FailNth(ops OpMask, n int64, err error) *CountingInjector {
	return &CountingInjector{ops: ops, n: n, err: err}
}

// FailFrom returns an injector that fails the n-th (counting from 1)
// operation in ops and every later one; err may be nil.
func FailFrom(ops OpMask, n int64, err error) *CountingInjector {
	return &CountingInjector{ops: ops, n: n, sticky: true, err: err}
}

// CrashAfter returns an injector that lets n-1 mutating operations (see
// MutatingOps) succeed and fails the n-th and every later one, modelling a
// power cut just before the n-th. Once the workload has stopped, a crash
// clone of the underlying MemFS (MemFS.CrashClone) is the state after the
// cut. Non-mutating operations are never failed. n must be at least 1.
func CrashAfter(n int64) *CountingInjector {
	return FailFrom(MutatingOps, n, nil)
}

// MaybeError implements Injector.
func (c *CountingInjector) MaybeError(op Op, path string) error {
	if !c.ops.Has(op) {
		return nil
	}
	k := c.count.Add(1)
	if k == c.n || (c.sticky && k > c.n) {
		c.failed.Add(1)
		return InjectedError(op, path, c.err)
	}
	return nil
}

// Count returns the number of operations in the injector's set seen so far,
// including failed ones.
func (c *CountingInjector) Count() int64 { return c.count.Load() }

// Failed returns the number of errors injected so far.
func (c *CountingInjector) Failed() int64 { return c.failed.Load() }

// Triggered reports whether an error has been injected.
func (c *CountingInjector) Triggered() bool { return c.failed.Load() > 0 }

// Random returns an injector that fails each operation in ops independently
// with the given probability. For a given seed and sequence of operations
// the failures are deterministic.
func Random(seed int64, probability float64, ops OpMask) Injector {
	r := &randomInjector{
		ops: ops,
		p:   probability,
		rng: rand.New(rand.NewPCG(uint64(seed), randomSeedStream)),
	}
	return r
}

const randomSeedStream = 0x5851f42d4c957f2d

type randomInjector struct {
	ops OpMask
	p   float64
	mu  sync.Mutex
	rng *rand.Rand // guarded by mu
}

func (r *randomInjector) MaybeError(op Op, path string) error {
	if !r.ops.Has(op) {
		return nil
	}
	r.mu.Lock()
	fail := r.rng.Float64() < r.p
	r.mu.Unlock()
	if fail {
		return InjectedError(op, path, nil)
	}
	return nil
}

// InjectOption configures NewInjecting.
type InjectOption func(*injectingFS)

// WithTornWrites makes writes that the Injector fails partial: a random
// prefix of the data (possibly empty, never all of it) is written before the
// error is returned, and Write and WriteAt report its length. The prefix
// lengths are deterministic for a given seed and sequence of failed writes.
func WithTornWrites(seed int64) InjectOption {
	return func(fs *injectingFS) {
		fs.tornRng = rand.New(rand.NewPCG(uint64(seed), tornSeedStream))
	}
}

const tornSeedStream = 0xda942042e4dd58b5

// NewInjecting returns an FS that forwards to fs, but first asks inj whether
// each operation should fail (see Op). A nil inj injects nothing.
func NewInjecting(fs FS, inj Injector, opts ...InjectOption) FS {
	if inj == nil {
		inj = InjectorFunc(func(Op, string) error { return nil })
	}
	ifs := &injectingFS{fs: fs, inj: inj}
	for _, opt := range opts {
		opt(ifs)
	}
	return ifs
}

type injectingFS struct {
	fs  FS
	inj Injector

	tornMu  sync.Mutex
	tornRng *rand.Rand // nil unless WithTornWrites; guarded by tornMu
}

// tornLen returns how many bytes of an n-byte failed write to perform.
func (fs *injectingFS) tornLen(n int) int {
	if fs.tornRng == nil || n == 0 {
		return 0
	}
	fs.tornMu.Lock()
	defer fs.tornMu.Unlock()
	return fs.tornRng.IntN(n)
}

func (fs *injectingFS) wrap(f File, err error) (File, error) {
	if err != nil {
		return nil, err
	}
	return &injectingFile{f: f, fs: fs}, nil
}

func (fs *injectingFS) Create(name string) (File, error) {
	if err := fs.inj.MaybeError(OpCreate, name); err != nil {
		return nil, err
	}
	return fs.wrap(fs.fs.Create(name))
}

func (fs *injectingFS) Open(name string) (File, error) {
	if err := fs.inj.MaybeError(OpOpen, name); err != nil {
		return nil, err
	}
	return fs.wrap(fs.fs.Open(name))
}

func (fs *injectingFS) OpenReadWrite(name string) (File, error) {
	if err := fs.inj.MaybeError(OpOpen, name); err != nil {
		return nil, err
	}
	return fs.wrap(fs.fs.OpenReadWrite(name))
}

func (fs *injectingFS) Remove(name string) error {
	if err := fs.inj.MaybeError(OpRemove, name); err != nil {
		return err
	}
	return fs.fs.Remove(name)
}

func (fs *injectingFS) RemoveAll(name string) error {
	if err := fs.inj.MaybeError(OpRemove, name); err != nil {
		return err
	}
	return fs.fs.RemoveAll(name)
}

func (fs *injectingFS) Rename(oldname, newname string) error {
	if err := fs.inj.MaybeError(OpRename, oldname); err != nil {
		return err
	}
	return fs.fs.Rename(oldname, newname)
}

func (fs *injectingFS) MkdirAll(dir string, perm os.FileMode) error {
	if err := fs.inj.MaybeError(OpMkdir, dir); err != nil {
		return err
	}
	return fs.fs.MkdirAll(dir, perm)
}

func (fs *injectingFS) List(dir string) ([]string, error) {
	if err := fs.inj.MaybeError(OpList, dir); err != nil {
		return nil, err
	}
	return fs.fs.List(dir)
}

func (fs *injectingFS) Stat(name string) (os.FileInfo, error) {
	if err := fs.inj.MaybeError(OpStat, name); err != nil {
		return nil, err
	}
	return fs.fs.Stat(name)
}

func (fs *injectingFS) SyncDir(dir string) error {
	if err := fs.inj.MaybeError(OpSyncDir, dir); err != nil {
		return err
	}
	return fs.fs.SyncDir(dir)
}

func (fs *injectingFS) Lock(name string) (io.Closer, error) {
	if err := fs.inj.MaybeError(OpLock, name); err != nil {
		return nil, err
	}
	return fs.fs.Lock(name)
}

func (fs *injectingFS) LockShared(name string) (io.Closer, error) {
	if err := fs.inj.MaybeError(OpLock, name); err != nil {
		return nil, err
	}
	return fs.fs.LockShared(name)
}

func (fs *injectingFS) PathJoin(elem ...string) string { return fs.fs.PathJoin(elem...) }

func (fs *injectingFS) MkdirTemp(dir, pattern string) (string, error) {
	if err := fs.inj.MaybeError(OpMkdir, fs.fs.PathJoin(dir, pattern)); err != nil {
		return "", err
	}
	return fs.fs.MkdirTemp(dir, pattern)
}

// injectingFile wraps a File of an injectingFS.
type injectingFile struct {
	f  File
	fs *injectingFS
}

func (f *injectingFile) Read(p []byte) (int, error) {
	if err := f.fs.inj.MaybeError(OpRead, f.f.Name()); err != nil {
		return 0, err
	}
	return f.f.Read(p)
}

func (f *injectingFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.fs.inj.MaybeError(OpRead, f.f.Name()); err != nil {
		return 0, err
	}
	return f.f.ReadAt(p, off)
}

func (f *injectingFile) Write(p []byte) (int, error) {
	if err := f.fs.inj.MaybeError(OpWrite, f.f.Name()); err != nil {
		if k := f.fs.tornLen(len(p)); k > 0 {
			n, werr := f.f.Write(p[:k])
			if werr != nil {
				return n, werr
			}
			return n, err
		}
		return 0, err
	}
	return f.f.Write(p)
}

func (f *injectingFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.fs.inj.MaybeError(OpWrite, f.f.Name()); err != nil {
		if k := f.fs.tornLen(len(p)); k > 0 {
			n, werr := f.f.WriteAt(p[:k], off)
			if werr != nil {
				return n, werr
			}
			return n, err
		}
		return 0, err
	}
	return f.f.WriteAt(p, off)
}

func (f *injectingFile) Sync() error {
	if err := f.fs.inj.MaybeError(OpSync, f.f.Name()); err != nil {
		return err
	}
	return f.f.Sync()
}

func (f *injectingFile) Truncate(size int64) error {
	if err := f.fs.inj.MaybeError(OpTruncate, f.f.Name()); err != nil {
		return err
	}
	return f.f.Truncate(size)
}

func (f *injectingFile) Size() (int64, error) {
	if err := f.fs.inj.MaybeError(OpStat, f.f.Name()); err != nil {
		return 0, err
	}
	return f.f.Size()
}

func (f *injectingFile) Preallocate(size int64) error {
	if err := f.fs.inj.MaybeError(OpPreallocate, f.f.Name()); err != nil {
		return err
	}
	return f.f.Preallocate(size)
}

func (f *injectingFile) Close() error { return f.f.Close() }
func (f *injectingFile) Name() string { return f.f.Name() }
