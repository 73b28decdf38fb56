package vfs

import (
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// MemFS is an in-memory FS that models durability, for crash testing.
//
// Every file has current contents, which reads observe, and durable contents
// as of its last Sync, plus the ordered list of writes and truncations made
// since then. Every directory has its current entries and its durable entries
// as of its last SyncDir, plus the ordered list of entry changes (creations,
// removals, renames) made since then. CrashClone derives from this the state
// that a power loss could leave behind. See the package documentation for the
// full model.
//
// Relative names are resolved against the root directory "/", so "a/b" and
// "/a/b" name the same file. The root always exists and is durable.
//
// MemFS is safe for concurrent use.
type MemFS struct {
	// mu guards the directory tree: every directory node's fields, the
	// modTime of directories, locks and tempSeq. It is acquired before any
	// file node's mu.
	mu      sync.Mutex
	root    *memNode
	locks   map[*memNode]int // -1: held exclusively; n > 0: n shared holders
	tempSeq uint64
}

var _ FS = (*MemFS)(nil)

// NewMem returns an empty MemFS containing only the root directory.
func NewMem() *MemFS {
	return &MemFS{
		root:  newMemDir(0o755),
		locks: make(map[*memNode]int),
	}
}

// memNode is a file or a directory (an inode). A file node may be reachable
// from several names only transiently, through the durable entries of
// directories involved in an unsynced rename.
type memNode struct {
	isDir bool
	mode  os.FileMode // immutable

	// Directory state, guarded by MemFS.mu.
	children        map[string]*memNode // current entries
	durableChildren map[string]*memNode // entries as of the last SyncDir
	dirOps          []dirOp             // entry changes since the last SyncDir

	// File state, guarded by mu. For directories, modTime is guarded by
	// MemFS.mu instead.
	mu      sync.RWMutex
	data    []byte   // current contents
	durable []byte   // contents as of the last Sync
	pending []fileOp // mutations since the last Sync, in order
	modTime time.Time
}

func newMemDir(perm os.FileMode) *memNode {
	return &memNode{
		isDir:           true,
		mode:            os.ModeDir | perm&os.ModePerm,
		children:        make(map[string]*memNode),
		durableChildren: make(map[string]*memNode),
		modTime:         time.Now(),
	}
}

func newMemFile() *memNode {
	return &memNode{mode: 0o644, modTime: time.Now()}
}

// dirOp is one atomic change to a directory's entries: it removes the entry
// named remove (if non-empty), then sets the entry name to node (if non-nil).
// A rename within one directory is a single dirOp.
type dirOp struct {
	remove string
	name   string
	node   *memNode
}

func (op dirOp) apply(entries map[string]*memNode) {
	if op.remove != "" {
		delete(entries, op.remove)
	}
	if op.node != nil {
		entries[op.name] = op.node
	}
}

// setEntry, removeEntry and renameEntry change a directory's current entries
// and record the change for SyncDir and CrashClone. MemFS.mu must be held.
func (d *memNode) setEntry(name string, n *memNode) {
	d.applyDirOp(dirOp{name: name, node: n})
}

func (d *memNode) removeEntry(name string) {
	d.applyDirOp(dirOp{remove: name})
}

func (d *memNode) renameEntry(oldname, newname string, n *memNode) {
	d.applyDirOp(dirOp{remove: oldname, name: newname, node: n})
}

func (d *memNode) applyDirOp(op dirOp) {
	op.apply(d.children)
	d.dirOps = append(d.dirOps, op)
	d.modTime = time.Now()
}

// syncDirLocked makes d's current entries durable. MemFS.mu must be held.
func (d *memNode) syncDirLocked() {
	for _, op := range d.dirOps {
		op.apply(d.durableChildren)
	}
	d.dirOps = nil
}

// fileOp is one mutation of a file's contents: a write of data at off, or,
// if trunc is set, a truncation to size off.
type fileOp struct {
	off   int64
	data  []byte
	trunc bool
}

// apply applies op to buf, possibly reallocating it, and returns the result.
func (op fileOp) apply(buf []byte) []byte {
	if op.trunc {
		return resize(buf, op.off)
	}
	if end := op.off + int64(len(op.data)); end > int64(len(buf)) {
		buf = resize(buf, end)
	}
	copy(buf[op.off:], op.data)
	return buf
}

// resize returns buf with length size; bytes beyond the old length are zero.
func resize(buf []byte, size int64) []byte {
	n := int(size)
	if n <= len(buf) {
		return buf[:n]
	}
	old := len(buf)
	buf = slices.Grow(buf, n-old)[:n]
	clear(buf[old:]) // the spare capacity may hold stale bytes
	return buf
}

// writeLocked, truncateLocked and syncLocked require n.mu to be held.
func (n *memNode) writeLocked(off int64, p []byte) {
	if len(p) == 0 {
		return
	}
	op := fileOp{off: off, data: slices.Clone(p)}
	n.data = op.apply(n.data)
	n.pending = append(n.pending, op)
	n.modTime = time.Now()
}

func (n *memNode) truncateLocked(size int64) {
	op := fileOp{off: size, trunc: true}
	n.data = op.apply(n.data)
	n.pending = append(n.pending, op)
	n.modTime = time.Now()
}

func (n *memNode) syncLocked() {
	for _, op := range n.pending {
		n.durable = op.apply(n.durable)
	}
	n.pending = nil
}

func pathErr(op, name string, err error) error {
	return &os.PathError{Op: op, Path: name, Err: err}
}

// memPath returns the components of name, resolved against the root.
func memPath(name string) []string {
	sep := string(filepath.Separator)
	p := filepath.Clean(sep + name)
	if p == sep {
		return nil
	}
	return strings.Split(p[1:], sep)
}

// walk resolves comps starting at the root. fs.mu must be held.
func (fs *MemFS) walk(op, name string, comps []string) (*memNode, error) {
	n := fs.root
	for _, c := range comps {
		if !n.isDir {
			return nil, pathErr(op, name, syscall.ENOTDIR)
		}
		child, ok := n.children[c]
		if !ok {
			return nil, pathErr(op, name, os.ErrNotExist)
		}
		n = child
	}
	return n, nil
}

// lookup resolves name. fs.mu must be held.
func (fs *MemFS) lookup(op, name string) (*memNode, error) {
	if name == "" {
		return nil, pathErr(op, name, os.ErrNotExist)
	}
	return fs.walk(op, name, memPath(name))
}

// lookupParent resolves the directory holding name's entry and returns it
// with the entry's name. fs.mu must be held.
func (fs *MemFS) lookupParent(op, name string) (*memNode, string, error) {
	if name == "" {
		return nil, "", pathErr(op, name, os.ErrNotExist)
	}
	comps := memPath(name)
	if len(comps) == 0 {
		return nil, "", pathErr(op, name, syscall.EINVAL) // the root
	}
	dir, err := fs.walk(op, name, comps[:len(comps)-1])
	if err != nil {
		return nil, "", err
	}
	if !dir.isDir {
		return nil, "", pathErr(op, name, syscall.ENOTDIR)
	}
	return dir, comps[len(comps)-1], nil
}

// Create implements FS.
func (fs *MemFS) Create(name string) (File, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	dir, base, err := fs.lookupParent("open", name)
	if err != nil {
		return nil, err
	}
	if n, ok := dir.children[base]; ok {
		if n.isDir {
			return nil, pathErr("open", name, syscall.EISDIR)
		}
		// Like O_TRUNC: the same file, truncated.
		n.mu.Lock()
		n.truncateLocked(0)
		n.mu.Unlock()
		return newMemFileHandle(n, name, true), nil
	}
	n := newMemFile()
	dir.setEntry(base, n)
	return newMemFileHandle(n, name, true), nil
}

// Open implements FS. Directories cannot be opened.
func (fs *MemFS) Open(name string) (File, error) {
	return fs.open(name, false)
}

// OpenReadWrite implements FS.
func (fs *MemFS) OpenReadWrite(name string) (File, error) {
	return fs.open(name, true)
}

func (fs *MemFS) open(name string, writable bool) (File, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.lookup("open", name)
	if err != nil {
		return nil, err
	}
	if n.isDir {
		return nil, pathErr("open", name, syscall.EISDIR)
	}
	return newMemFileHandle(n, name, writable), nil
}

// Remove implements FS.
func (fs *MemFS) Remove(name string) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	dir, base, err := fs.lookupParent("remove", name)
	if err != nil {
		return err
	}
	n, ok := dir.children[base]
	if !ok {
		return pathErr("remove", name, os.ErrNotExist)
	}
	if n.isDir && len(n.children) > 0 {
		return pathErr("remove", name, syscall.ENOTEMPTY)
	}
	dir.removeEntry(base)
	return nil
}

// RemoveAll implements FS. Entries are removed depth-first, one directory
// change at a time, as a real file system would.
func (fs *MemFS) RemoveAll(name string) error {
	if name == "" {
		return nil // like os.RemoveAll
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	dir, base, err := fs.lookupParent("unlinkat", name)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	n, ok := dir.children[base]
	if !ok {
		return nil
	}
	removeTree(n)
	dir.removeEntry(base)
	return nil
}

func removeTree(d *memNode) {
	if !d.isDir {
		return
	}
	for _, name := range slices.Sorted(maps.Keys(d.children)) {
		removeTree(d.children[name])
		d.removeEntry(name)
	}
}

// Rename implements FS. A rename within one directory is a single atomic
// directory change. A rename across directories is two changes, one in each
// directory, each made durable by SyncDir of its own directory.
func (fs *MemFS) Rename(oldname, newname string) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	linkErr := func(err error) error {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	odir, obase, err := fs.lookupParent("rename", oldname)
	if err != nil {
		return linkErr(errors.Unwrap(err))
	}
	src, ok := odir.children[obase]
	if !ok {
		return linkErr(os.ErrNotExist)
	}
	ndir, nbase, err := fs.lookupParent("rename", newname)
	if err != nil {
		return linkErr(errors.Unwrap(err))
	}
	if odir == ndir && obase == nbase {
		return nil
	}
	if dst, ok := ndir.children[nbase]; ok {
		switch {
		case src.isDir && !dst.isDir:
			return linkErr(syscall.ENOTDIR)
		case !src.isDir && dst.isDir:
			return linkErr(syscall.EISDIR)
		case dst.isDir && len(dst.children) > 0:
			return linkErr(syscall.ENOTEMPTY)
		}
	}
	if src.isDir {
		// Refuse to move a directory into its own subtree.
		comps := memPath(newname)
		n := fs.root
		for _, c := range comps[:len(comps)-1] {
			if n == src {
				return linkErr(syscall.EINVAL)
			}
			n = n.children[c]
		}
		if n == src {
			return linkErr(syscall.EINVAL)
		}
	}
	if odir == ndir {
		odir.renameEntry(obase, nbase, src)
	} else {
		odir.removeEntry(obase)
		ndir.setEntry(nbase, src)
	}
	return nil
}

// MkdirAll implements FS.
func (fs *MemFS) MkdirAll(dir string, perm os.FileMode) error {
	if dir == "" {
		return pathErr("mkdir", dir, os.ErrNotExist)
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := fs.root
	for _, c := range memPath(dir) {
		child, ok := n.children[c]
		if !ok {
			child = newMemDir(perm)
			n.setEntry(c, child)
		} else if !child.isDir {
			return pathErr("mkdir", dir, syscall.ENOTDIR)
		}
		n = child
	}
	return nil
}

// mkdirLocked creates the single directory name. fs.mu must be held.
func (fs *MemFS) mkdirLocked(op, name string, perm os.FileMode) error {
	dir, base, err := fs.lookupParent(op, name)
	if err != nil {
		return err
	}
	if _, ok := dir.children[base]; ok {
		return pathErr(op, name, os.ErrExist)
	}
	dir.setEntry(base, newMemDir(perm))
	return nil
}

// MkdirTemp implements FS. If dir is empty, "/tmp" is used (and created).
// Names are generated from a per-FS counter, so they are deterministic.
func (fs *MemFS) MkdirTemp(dir, pattern string) (string, error) {
	if dir == "" {
		dir = string(filepath.Separator) + "tmp"
		if err := fs.MkdirAll(dir, 0o777); err != nil {
			return "", err
		}
	}
	if strings.ContainsRune(pattern, filepath.Separator) {
		return "", pathErr("mkdirtemp", pattern, errors.New("pattern contains path separator"))
	}
	prefix, suffix := pattern, ""
	if i := strings.LastIndexByte(pattern, '*'); i >= 0 {
		prefix, suffix = pattern[:i], pattern[i+1:]
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for {
		fs.tempSeq++
		name := filepath.Join(dir, prefix+strconv.FormatUint(fs.tempSeq, 10)+suffix)
		err := fs.mkdirLocked("mkdirtemp", name, 0o700)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		return name, nil
	}
}

// List implements FS.
func (fs *MemFS) List(dir string) ([]string, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.lookup("open", dir)
	if err != nil {
		return nil, err
	}
	if !n.isDir {
		return nil, pathErr("readdirent", dir, syscall.ENOTDIR)
	}
	return slices.Sorted(maps.Keys(n.children)), nil
}

// Stat implements FS.
func (fs *MemFS) Stat(name string) (os.FileInfo, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.lookup("stat", name)
	if err != nil {
		return nil, err
	}
	fi := &memFileInfo{name: filepath.Base(filepath.Clean(string(filepath.Separator) + name)), mode: n.mode}
	if n.isDir {
		fi.modTime = n.modTime
	} else {
		n.mu.RLock()
		fi.size, fi.modTime = int64(len(n.data)), n.modTime
		n.mu.RUnlock()
	}
	return fi, nil
}

// SyncDir implements FS: it makes dir's current entries durable.
func (fs *MemFS) SyncDir(dir string) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.lookup("sync", dir)
	if err != nil {
		return err
	}
	if !n.isDir {
		return pathErr("sync", dir, syscall.ENOTDIR)
	}
	n.syncDirLocked()
	return nil
}

// Lock implements FS. Locks belong to files, not names: a lock file that is
// renamed stays locked. Locks are not carried over by CrashClone.
func (fs *MemFS) Lock(name string) (io.Closer, error) { return fs.lock(name, false) }

// LockShared implements FS.
func (fs *MemFS) LockShared(name string) (io.Closer, error) { return fs.lock(name, true) }

func (fs *MemFS) lock(name string, shared bool) (io.Closer, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	dir, base, err := fs.lookupParent("open", name)
	if err != nil {
		return nil, err
	}
	n, ok := dir.children[base]
	switch {
	case !ok && shared:
		return nil, pathErr("open", name, os.ErrNotExist)
	case !ok:
		n = newMemFile()
		dir.setEntry(base, n)
	case n.isDir:
		return nil, pathErr("open", name, syscall.EISDIR)
	}
	held := fs.locks[n]
	if held < 0 || (held > 0 && !shared) {
		return nil, pathErr("lock", name, ErrLocked)
	}
	if shared {
		fs.locks[n] = held + 1
	} else {
		fs.locks[n] = -1
	}
	return &memLock{fs: fs, n: n, name: name}, nil
}

type memLock struct {
	fs   *MemFS
	n    *memNode // nil once released; guarded by fs.mu
	name string
}

func (l *memLock) Close() error {
	l.fs.mu.Lock()
	defer l.fs.mu.Unlock()
	if l.n == nil {
		return pathErr("unlock", l.name, os.ErrClosed)
	}
	if c := l.fs.locks[l.n]; c > 1 {
		l.fs.locks[l.n] = c - 1
	} else {
		delete(l.fs.locks, l.n)
	}
	l.n = nil
	return nil
}

// PathJoin implements FS.
func (*MemFS) PathJoin(elem ...string) string { return filepath.Join(elem...) }

// SyncAll makes the whole current state durable, as if every file and every
// directory had been synced. It is useful to establish a baseline before the
// part of a test that exercises crashes.
func (fs *MemFS) SyncAll() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var walk func(n *memNode)
	walk = func(n *memNode) {
		if !n.isDir {
			n.mu.Lock()
			n.syncLocked()
			n.mu.Unlock()
			return
		}
		n.syncDirLocked()
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(fs.root)
}

// lookupFile resolves name to a file node. fs.mu must be held.
func (fs *MemFS) lookupFile(op, name string) (*memNode, error) {
	n, err := fs.lookup(op, name)
	if err != nil {
		return nil, err
	}
	if n.isDir {
		return nil, pathErr(op, name, syscall.EISDIR)
	}
	return n, nil
}

// ReadFile returns the current contents of the named file.
func (fs *MemFS) ReadFile(name string) ([]byte, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.lookupFile("open", name)
	if err != nil {
		return nil, err
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	return slices.Clone(n.data), nil
}

// WriteFile creates or truncates the named file and writes data to it, like
// os.WriteFile. Neither the data nor the directory entry is synced.
func (fs *MemFS) WriteFile(name string, data []byte) error {
	f, err := fs.Create(name)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Truncate simulates losing or gaining bytes at the end of the named file on
// the storage medium: it sets both the current and the durable size of the
// file to size (extending with zeros). Unsynced writes made before the call
// that reach beyond size are cut off as well.
func (fs *MemFS) Truncate(name string, size int64) error {
	if size < 0 {
		return pathErr("truncate", name, syscall.EINVAL)
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n, err := fs.lookupFile("truncate", name)
	if err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.durable = resize(n.durable, size)
	n.truncateLocked(size)
	return nil
}

// Corrupt simulates media corruption: it inverts every bit of the n bytes at
// offset off of the named file, in both its current and its durable contents
// (where they are long enough). The range must lie within the file's current
// size. If the file has unsynced operations, a KeepRandomUnsyncedPrefix crash
// clone applies a prefix of them on top of the corrupted durable contents, so
// unsynced writes may overwrite the corruption.
func (fs *MemFS) Corrupt(name string, off int64, n int) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	node, err := fs.lookupFile("corrupt", name)
	if err != nil {
		return err
	}
	node.mu.Lock()
	defer node.mu.Unlock()
	if off < 0 || n < 0 || off+int64(n) > int64(len(node.data)) {
		return pathErr("corrupt", name, syscall.EINVAL)
	}
	end := off + int64(n)
	flip := func(buf []byte, bufOff int64) {
		lo, hi := max(off, bufOff), min(end, bufOff+int64(len(buf)))
		for i := lo; i < hi; i++ {
			buf[i-bufOff] ^= 0xff
		}
	}
	flip(node.data, 0)
	flip(node.durable, 0)
	if len(node.pending) > 0 && n > 0 {
		// Keep replaying the unsynced operations on the durable contents
		// equal to the current contents.
		node.pending = append(node.pending, fileOp{off: off, data: slices.Clone(node.data[off:end])})
	}
	return nil
}

// memFileHandle is an open MemFS file.
type memFileHandle struct {
	n        *memNode
	name     string
	writable bool
	closed   atomic.Bool

	posMu sync.Mutex
	pos   int64 // offset for Read and Write; guarded by posMu
}

var _ File = (*memFileHandle)(nil)

func newMemFileHandle(n *memNode, name string, writable bool) *memFileHandle {
	return &memFileHandle{n: n, name: name, writable: writable}
}

func (f *memFileHandle) check(op string, write bool) error {
	if f.closed.Load() {
		return pathErr(op, f.name, os.ErrClosed)
	}
	if write && !f.writable {
		return pathErr(op, f.name, syscall.EBADF)
	}
	return nil
}

// ReadAt implements io.ReaderAt.
func (f *memFileHandle) ReadAt(p []byte, off int64) (int, error) {
	if err := f.check("read", false); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, pathErr("read", f.name, syscall.EINVAL)
	}
	f.n.mu.RLock()
	defer f.n.mu.RUnlock()
	if off >= int64(len(f.n.data)) {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := copy(p, f.n.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// WriteAt implements io.WriterAt.
func (f *memFileHandle) WriteAt(p []byte, off int64) (int, error) {
	if err := f.check("write", true); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, pathErr("write", f.name, syscall.EINVAL)
	}
	f.n.mu.Lock()
	defer f.n.mu.Unlock()
	f.n.writeLocked(off, p)
	return len(p), nil
}

// Read implements io.Reader. Like *os.File, it returns io.EOF only with
// n == 0.
func (f *memFileHandle) Read(p []byte) (int, error) {
	f.posMu.Lock()
	defer f.posMu.Unlock()
	if len(p) == 0 {
		return 0, f.check("read", false)
	}
	n, err := f.ReadAt(p, f.pos)
	f.pos += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// Write implements io.Writer.
func (f *memFileHandle) Write(p []byte) (int, error) {
	f.posMu.Lock()
	defer f.posMu.Unlock()
	n, err := f.WriteAt(p, f.pos)
	f.pos += int64(n)
	return n, err
}

// Sync implements File: it makes the file's current contents durable.
func (f *memFileHandle) Sync() error {
	if err := f.check("sync", false); err != nil {
		return err
	}
	f.n.mu.Lock()
	defer f.n.mu.Unlock()
	f.n.syncLocked()
	return nil
}

// Truncate implements File.
func (f *memFileHandle) Truncate(size int64) error {
	if err := f.check("truncate", true); err != nil {
		return err
	}
	if size < 0 {
		return pathErr("truncate", f.name, syscall.EINVAL)
	}
	f.n.mu.Lock()
	defer f.n.mu.Unlock()
	f.n.truncateLocked(size)
	return nil
}

// Size implements File.
func (f *memFileHandle) Size() (int64, error) {
	if err := f.check("stat", false); err != nil {
		return 0, err
	}
	f.n.mu.RLock()
	defer f.n.mu.RUnlock()
	return int64(len(f.n.data)), nil
}

// Preallocate implements File. MemFS allocates on demand, so it only
// validates its arguments; like the OS implementation it never changes the
// file's size.
func (f *memFileHandle) Preallocate(size int64) error {
	if err := f.check("fallocate", true); err != nil {
		return err
	}
	if size < 0 {
		return pathErr("fallocate", f.name, syscall.EINVAL)
	}
	return nil
}

// Close implements io.Closer. Closing does not sync.
func (f *memFileHandle) Close() error {
	if f.closed.Swap(true) {
		return pathErr("close", f.name, os.ErrClosed)
	}
	return nil
}

// Name implements File.
func (f *memFileHandle) Name() string { return f.name }

// memFileInfo implements os.FileInfo.
type memFileInfo struct {
	name    string
	size    int64
	mode    os.FileMode
	modTime time.Time
}

func (fi *memFileInfo) Name() string       { return fi.name }
func (fi *memFileInfo) Size() int64        { return fi.size }
func (fi *memFileInfo) Mode() os.FileMode  { return fi.mode }
func (fi *memFileInfo) ModTime() time.Time { return fi.modTime }
func (fi *memFileInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi *memFileInfo) Sys() any           { return nil }
