"""sled for Python: a pure-ctypes binding of the sled C API (capi/sled.h).

    import sled
    with sled.Db("my.db") as db:
        db[b"apple"] = b"red"
        print(db.get(b"apple"))              # b'red'
        for k, v in db.prefix(b"app"):
            print(k, v)
        users = db.tree("users")
        users[b"u1"] = b"ada"
        with db.transaction() as tx:         # serializable, over any trees
            tx[b"apple"] = b"green"
            tx.tree(users)[b"u2"] = tx[b"apple"]
        db.flush()

Keys and values are bytes (any bytes-like object is accepted on input).
Errors raise SledError subclasses mapped from the C status codes. Every
object is safe to use from several threads (the C library releases no lock
of Python's: ctypes drops the GIL during each call), except iterators,
batches and transactions, which belong to one thread.

The library is found, in order, at $SLED_LIB, next to this file
(libsled.so), or in ../../capi/build/ of a source checkout; build it with
`go build -buildmode=c-shared -o capi/build/libsled.so ./capi`.
"""

import ctypes
import os
import random
import threading
import time
import weakref
from ctypes import (CFUNCTYPE, POINTER, byref, c_char_p, c_double, c_int,
                    c_int64, c_size_t, c_uint32, c_uint64, c_void_p)

__all__ = [
    "Db", "Tree", "Batch", "Transaction", "Snapshot", "SledError",
    "InvalidArgument", "Closed", "Corruption", "Locked", "Exists",
    "KeyTooLarge", "ValueTooLarge", "TreeNotFound", "NoMergeOperator",
    "CompareAndSwapError", "ConflictError", "Conflict", "TxTooLarge",
    "SledIOError", "InvalidConfig", "MergeFailed", "InternalError",
    "SnapshotExpired", "library_version", "LOW_SPACE", "HIGH_THROUGHPUT",
]

# ---- status codes (sled.h) ------------------------------------------------

OK, NOT_FOUND = 0, 1
LOW_SPACE, HIGH_THROUGHPUT = 0, 1
_MERGE_SET, _MERGE_DELETE, _MERGE_FAILED = 0, 1, 2


class SledError(Exception):
    """Base of every error of the library; .status is the C status code."""

    status = None

    def __init__(self, message, status=None):
        super().__init__(message)
        if status is not None:
            self.status = status


class InvalidArgument(SledError, ValueError):
    status = 2


class Closed(SledError):
    status = 3


class Corruption(SledError):
    status = 4


class Locked(SledError):
    status = 5


class Exists(SledError):
    status = 6


class KeyTooLarge(SledError, ValueError):
    status = 7


class ValueTooLarge(SledError, ValueError):
    status = 8


class TreeNotFound(SledError):
    status = 9


class NoMergeOperator(SledError):
    status = 10


class CompareAndSwapError(SledError):
    """compare_and_swap found another value: .current (None when absent)."""

    status = 11

    def __init__(self, message, current=None):
        super().__init__(message)
        self.current = current


class ConflictError(SledError):
    """A transaction's commit found that something it read had changed;
    nothing was written. Run the transaction again (Db.transact does)."""

    status = 12


Conflict = ConflictError  # the name in versions before 0.2


class TxTooLarge(SledError):
    """A transaction over the library's bound (512 MiB or 4Mi operations);
    it can only be aborted."""

    status = 13


class SledIOError(SledError, OSError):
    status = 14


class InvalidConfig(SledError, ValueError):
    status = 15


class MergeFailed(SledError):
    status = 16


class InternalError(SledError):
    status = 17


class SnapshotExpired(SledError):
    """The versions a snapshot needed exceeded the database's bound: take a
    new snapshot."""

    status = 18


_ERRORS = {cls.status: cls for cls in (
    InvalidArgument, Closed, Corruption, Locked, Exists, KeyTooLarge,
    ValueTooLarge, TreeNotFound, NoMergeOperator, CompareAndSwapError,
    ConflictError, TxTooLarge, SledIOError, InvalidConfig, MergeFailed,
    InternalError, SnapshotExpired)}

# ---- loading the library --------------------------------------------------


def _find_library():
    env = os.environ.get("SLED_LIB")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    for cand in (os.path.join(here, "libsled.so"),
                 os.path.join(here, "..", "..", "capi", "build", "libsled.so")):
        if os.path.exists(cand):
            return os.path.normpath(cand)
    raise ImportError("sled: libsled.so not found; set SLED_LIB or build it with "
                      "`go build -buildmode=c-shared -o capi/build/libsled.so ./capi`")


_lib = ctypes.CDLL(_find_library())
_libc = ctypes.CDLL(None)
_libc.malloc.restype = c_void_p
_libc.malloc.argtypes = [c_size_t]

_P = c_void_p            # handles and buffers
_PP = POINTER(c_void_p)  # out-parameters of pointers
_SZ = POINTER(c_size_t)
_ERR = POINTER(c_void_p)  # char **err, read as a pointer to free

MERGE_FN = CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t, c_void_p, c_size_t,
                     c_void_p, c_size_t, POINTER(c_void_p), POINTER(c_size_t))


class _Stats(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t)] + [
        (name, c_double if name.endswith(("ratio", "amplification")) else c_int64)
        for name in (
            "trees", "pages", "cache_bytes", "cache_hits", "cache_misses",
            "cache_hit_ratio", "evictions", "page_updates", "page_images",
            "page_fragments", "live_bytes", "disk_bytes", "space_amplification",
            "user_bytes_written", "engine_bytes_written", "write_amplification",
            "compression_ratio", "log_syncs", "segments_active",
            "segments_sealed", "segments_cleaned", "pages_relocated")]


def _sig(name, *args):
    f = getattr(_lib, name)
    f.restype = c_int
    f.argtypes = list(args)
    return f


_B = c_char_p  # const uint8_t * input (bytes passed without a copy)
_sig("sled_config_new", _PP)
_sig("sled_config_free", _P)
_sig("sled_config_set_path", _P, c_char_p)
_sig("sled_config_set_temporary", _P, c_int)
_sig("sled_config_set_create_new", _P, c_int)
_sig("sled_config_set_cache_capacity", _P, c_int64)
_sig("sled_config_set_flush_every_ms", _P, c_int64)
_sig("sled_config_set_compression", _P, c_int, c_int)
_sig("sled_config_set_mode", _P, c_int)
_sig("sled_config_set_segment_size", _P, c_int64)
_sig("sled_open", _P, _PP, _ERR)
_sig("sled_close", _P, _ERR)
_sig("sled_flush", _P, _ERR)
_sig("sled_generate_id", _P, POINTER(c_uint64), _ERR)
_sig("sled_size_on_disk", _P, POINTER(c_int64), _ERR)
_sig("sled_was_recovered", _P, POINTER(c_int), _ERR)
_sig("sled_checksum", _P, POINTER(c_uint32), _ERR)
_sig("sled_export", _P, c_char_p, _ERR)
_sig("sled_import", _P, c_char_p, _ERR)
_sig("sled_stats_get", _P, POINTER(_Stats), _ERR)
_sig("sled_default_tree", _P, _PP, _ERR)
_sig("sled_open_tree", _P, c_char_p, c_size_t, _PP, _ERR)
_sig("sled_drop_tree", _P, c_char_p, c_size_t, _ERR)
_sig("sled_tree_names", _P, POINTER(POINTER(c_char_p)), _SZ, _ERR)
_sig("sled_tree_close", _P)
_sig("sled_get", _P, _B, c_size_t, _PP, _SZ, _ERR)
_sig("sled_contains", _P, _B, c_size_t, POINTER(c_int), _ERR)
_sig("sled_insert", _P, _B, c_size_t, _B, c_size_t, _PP, _SZ, _ERR)
_sig("sled_remove", _P, _B, c_size_t, _PP, _SZ, _ERR)
_sig("sled_compare_and_swap", _P, _B, c_size_t, _B, c_size_t, _B, c_size_t, _PP, _SZ, _ERR)
_sig("sled_set_merge_operator", _P, MERGE_FN, c_void_p, _ERR)
_sig("sled_merge", _P, _B, c_size_t, _B, c_size_t, _PP, _SZ, _ERR)
for _n in ("sled_first", "sled_last", "sled_pop_min", "sled_pop_max"):
    _sig(_n, _P, _PP, _SZ, _PP, _SZ, _ERR)
for _n in ("sled_get_lt", "sled_get_gt"):
    _sig(_n, _P, _B, c_size_t, _PP, _SZ, _PP, _SZ, _ERR)
_sig("sled_len", _P, POINTER(c_uint64), _ERR)
_sig("sled_clear", _P, _ERR)
_sig("sled_batch_new", _PP)
_sig("sled_batch_free", _P)
_sig("sled_batch_insert", _P, _B, c_size_t, _B, c_size_t, _ERR)
_sig("sled_batch_remove", _P, _B, c_size_t, _ERR)
_sig("sled_batch_len", _P, _SZ)
_sig("sled_apply_batch", _P, _P, _ERR)
_sig("sled_iter_range", _P, _B, c_size_t, _B, c_size_t, c_int, _PP, _ERR)
_sig("sled_iter_prefix", _P, _B, c_size_t, c_int, _PP, _ERR)
_sig("sled_iter_next", _P, _PP, _SZ, _PP, _SZ, _ERR)
_sig("sled_iter_close", _P)
_sig("sled_tx_begin", _P, _PP, _ERR)
_sig("sled_tx_get", _P, _P, _B, c_size_t, _PP, _SZ, _ERR)
_sig("sled_tx_insert", _P, _P, _B, c_size_t, _B, c_size_t, _ERR)
_sig("sled_tx_remove", _P, _P, _B, c_size_t, _ERR)
_sig("sled_tx_iter_range", _P, _P, _B, c_size_t, _B, c_size_t, c_int, _PP, _ERR)
_sig("sled_tx_commit", _P, _ERR)
_sig("sled_tx_abort", _P)
_sig("sled_snapshot_open", _P, _PP, _ERR)
_sig("sled_snapshot_get", _P, _P, _B, c_size_t, _PP, _SZ, _ERR)
_sig("sled_snapshot_iter_range", _P, _P, _B, c_size_t, _B, c_size_t, c_int, _PP, _ERR)
_sig("sled_snapshot_close", _P)
_lib.sled_version.restype = c_uint32
_lib.sled_version.argtypes = []
_lib.sled_strerror.restype = c_char_p
_lib.sled_strerror.argtypes = [c_int]
_lib.sled_free.restype = None
_lib.sled_free.argtypes = [c_void_p]

# Iterators whose C handle is open (tests check that abandoned generators
# close theirs).
_live_iterators = 0
_live_lock = threading.Lock()


def library_version():
    """The loaded library's version as (major, minor, patch)."""
    v = _lib.sled_version()
    return (v >> 16, (v >> 8) & 0xFF, v & 0xFF)


def _raise(rc, err, current=None):
    """Raises the exception of status rc, with the message in err (freed)."""
    msg = sled_strerror(rc)
    if err is not None and err.value:
        msg = ctypes.string_at(err.value).decode("utf-8", "replace")
        _lib.sled_free(err.value)
    cls = _ERRORS.get(rc, SledError)
    if cls is CompareAndSwapError:
        raise CompareAndSwapError(msg, current)
    raise cls(msg, rc) if cls is SledError else cls(msg)


def sled_strerror(rc):
    return _lib.sled_strerror(rc).decode()


def _check(rc, err=None):
    if rc > NOT_FOUND:
        _raise(rc, err)
    return rc


def _take(p, n):
    """bytes of a returned buffer (None for NULL), which is then freed."""
    if not p.value:
        return None
    try:
        return ctypes.string_at(p.value, n.value)
    finally:
        _lib.sled_free(p.value)


def _bytes(b, what="key"):
    """A bytes-like argument as bytes (no copy for bytes)."""
    if isinstance(b, bytes):
        return b
    if isinstance(b, (bytearray, memoryview)):
        return bytes(b)
    raise TypeError(f"sled: {what} must be bytes-like, not {type(b).__name__}")


def _opt(b, what):
    return None if b is None else _bytes(b, what)


def _name(name):
    return name.encode("utf-8") if isinstance(name, str) else _bytes(name, "tree name")


# ---- trees -----------------------------------------------------------------


class Tree:
    """An ordered map of bytes to bytes inside a Db (dict-like).

    tree[k] raises KeyError when absent; tree.get(k) returns None."""

    def __init__(self, db, handle):
        self._db = db
        self._h = handle

    def _handle(self):
        if self._h is None:
            raise Closed("sled: tree handle closed")
        return self._h

    @property
    def name(self):
        return self._name_bytes().decode("utf-8", "replace")

    def _name_bytes(self):
        # Names are kept by Db.tree; the default tree's is fixed.
        return self.__dict__.get("_nm", b"__sled__default")

    # -- point operations
    def get(self, key, default=None):
        k = _bytes(key)
        v, n, err = c_void_p(), c_size_t(), c_void_p()
        rc = _lib.sled_get(self._handle(), k, len(k), byref(v), byref(n), byref(err))
        if rc == NOT_FOUND:
            return default
        _check(rc, err)
        return _take(v, n)

    def __getitem__(self, key):
        v = self.get(key)
        if v is None:
            raise KeyError(key)
        return v

    def insert(self, key, value):
        """Sets key to value; returns the previous value (None if absent)."""
        k, v = _bytes(key), _bytes(value, "value")
        p, n, err = c_void_p(), c_size_t(), c_void_p()
        _check(_lib.sled_insert(self._handle(), k, len(k), v, len(v), byref(p), byref(n), byref(err)), err)
        return _take(p, n)

    def __setitem__(self, key, value):
        k, v = _bytes(key), _bytes(value, "value")
        err = c_void_p()
        _check(_lib.sled_insert(self._handle(), k, len(k), v, len(v), None, None, byref(err)), err)

    def remove(self, key):
        """Removes key; returns the removed value (None if absent)."""
        k = _bytes(key)
        p, n, err = c_void_p(), c_size_t(), c_void_p()
        _check(_lib.sled_remove(self._handle(), k, len(k), byref(p), byref(n), byref(err)), err)
        return _take(p, n)

    def __delitem__(self, key):
        if self.remove(key) is None:
            raise KeyError(key)

    def __contains__(self, key):
        k = _bytes(key)
        found, err = c_int(), c_void_p()
        _check(_lib.sled_contains(self._handle(), k, len(k), byref(found), byref(err)), err)
        return bool(found.value)

    def compare_and_swap(self, key, old, new):
        """Sets key to new if its value is old (None: absent; new None deletes).
        Raises CompareAndSwapError (with .current) on a mismatch."""
        k, o, nv = _bytes(key), _opt(old, "old value"), _opt(new, "new value")
        cur, n, err = c_void_p(), c_size_t(), c_void_p()
        rc = _lib.sled_compare_and_swap(self._handle(), k, len(k), o, len(o or b""),
                                        nv, len(nv or b""), byref(cur), byref(n), byref(err))
        if rc != OK:
            _raise(rc, err, _take(cur, n))

    # -- merge
    def set_merge_operator(self, fn):
        """fn(key, old, operand) -> new value (bytes) or None to delete; old
        is None when absent. It may run more than once per merge and on
        several threads; an exception in it makes merge raise MergeFailed.
        fn=None unsets it."""
        err = c_void_p()
        if fn is None:
            _check(_lib.sled_set_merge_operator(self._handle(), MERGE_FN(), None, byref(err)), err)
            self._db._merge_refs.pop(self._name_bytes(), None)
            return

        def trampoline(_ctx, kp, kn, op, on, pp, pn, out, out_len):
            try:
                key = ctypes.string_at(kp, kn)
                old = ctypes.string_at(op, on) if op else None
                new = fn(key, old, ctypes.string_at(pp, pn))
                if new is None:
                    return _MERGE_DELETE
                new = _bytes(new, "merge result")
                if new:
                    buf = _libc.malloc(len(new))
                    if not buf:
                        return _MERGE_FAILED
                    ctypes.memmove(buf, new, len(new))
                    out[0] = buf
                out_len[0] = len(new)
                return _MERGE_SET
            except BaseException:  # never unwind into C
                return _MERGE_FAILED

        cb = MERGE_FN(trampoline)
        _check(_lib.sled_set_merge_operator(self._handle(), cb, None, byref(err)), err)
        # The C library calls cb until it is replaced: keep it alive with the Db.
        self._db._merge_refs[self._name_bytes()] = cb

    def merge(self, key, operand):
        """Applies the merge operator atomically; returns the new value."""
        k, o = _bytes(key), _bytes(operand, "operand")
        v, n, err = c_void_p(), c_size_t(), c_void_p()
        _check(_lib.sled_merge(self._handle(), k, len(k), o, len(o), byref(v), byref(n), byref(err)), err)
        return _take(v, n)

    # -- ordered reads
    def _entry(self, fn, *bound):
        k, kn, v, vn, err = c_void_p(), c_size_t(), c_void_p(), c_size_t(), c_void_p()
        rc = fn(self._handle(), *bound, byref(k), byref(kn), byref(v), byref(vn), byref(err))
        if rc == NOT_FOUND:
            return None
        _check(rc, err)
        return _take(k, kn), _take(v, vn)

    def first(self):
        """(key, value) of the smallest key, or None."""
        return self._entry(_lib.sled_first)

    def last(self):
        return self._entry(_lib.sled_last)

    def get_lt(self, key):
        """(key, value) with the greatest key < key, or None."""
        k = _bytes(key)
        return self._entry(_lib.sled_get_lt, k, len(k))

    def get_gt(self, key):
        k = _bytes(key)
        return self._entry(_lib.sled_get_gt, k, len(k))

    def pop_min(self):
        """Atomically removes and returns the smallest (key, value), or None."""
        return self._entry(_lib.sled_pop_min)

    def pop_max(self):
        return self._entry(_lib.sled_pop_max)

    def __len__(self):
        n, err = c_uint64(), c_void_p()
        _check(_lib.sled_len(self._handle(), byref(n), byref(err)), err)
        return n.value

    def clear(self):
        err = c_void_p()
        _check(_lib.sled_clear(self._handle(), byref(err)), err)

    # -- iteration
    def range(self, lo=None, hi=None, reverse=False):
        """A generator of (key, value) with lo <= key < hi (None: unbounded)."""
        lo, hi = _opt(lo, "lower bound"), _opt(hi, "upper bound")
        it, err = c_void_p(), c_void_p()
        _check(_lib.sled_iter_range(self._handle(), lo, len(lo or b""), hi, len(hi or b""),
                                    1 if reverse else 0, byref(it), byref(err)), err)
        return _iterate(it)

    def prefix(self, prefix, reverse=False):
        """A generator of (key, value) whose key starts with prefix."""
        p = _bytes(prefix, "prefix")
        it, err = c_void_p(), c_void_p()
        _check(_lib.sled_iter_prefix(self._handle(), p, len(p), 1 if reverse else 0,
                                     byref(it), byref(err)), err)
        return _iterate(it)

    def __iter__(self):
        """Iterates over the keys, like a dict."""
        return (k for k, _ in self.range())

    def items(self):
        return self.range()

    # -- batches
    def apply_batch(self, batch):
        err = c_void_p()
        _check(_lib.sled_apply_batch(self._handle(), batch._handle(), byref(err)), err)

    def batch(self):
        """A Batch applied atomically to this tree when the with block ends
        without an exception."""
        return Batch(self)

    def close(self):
        """Releases the handle (the tree and its data stay)."""
        if self._h is not None:
            _lib.sled_tree_close(self._h)  # CLOSED after Db.close is harmless
            self._h = None

    def __del__(self):
        if type(self) is Tree:
            self.close()


def _iterate(it):
    """Walks the C iterator it; closes it at the end, on an error, and when
    the generator is closed or collected early (GeneratorExit runs finally)."""
    global _live_iterators
    with _live_lock:
        _live_iterators += 1
    try:
        k, kn, v, vn, err = c_void_p(), c_size_t(), c_void_p(), c_size_t(), c_void_p()
        while True:
            rc = _lib.sled_iter_next(it, byref(k), byref(kn), byref(v), byref(vn), byref(err))
            if rc == NOT_FOUND:
                return
            _check(rc, err)
            yield _take(k, kn), _take(v, vn)
    finally:
        _lib.sled_iter_close(it)
        with _live_lock:
            _live_iterators -= 1


class Batch:
    """Writes applied atomically: all or none, also across a crash.

        with db.batch() as b:
            b[b"x"] = b"1"
            del b[b"y"]
    """

    def __init__(self, tree=None):
        self._tree = tree
        h = c_void_p()
        _check(_lib.sled_batch_new(byref(h)))
        self._h = h

    def _handle(self):
        if self._h is None:
            raise Closed("sled: batch freed")
        return self._h

    def insert(self, key, value):
        k, v = _bytes(key), _bytes(value, "value")
        err = c_void_p()
        _check(_lib.sled_batch_insert(self._handle(), k, len(k), v, len(v), byref(err)), err)

    __setitem__ = insert

    def remove(self, key):
        k = _bytes(key)
        err = c_void_p()
        _check(_lib.sled_batch_remove(self._handle(), k, len(k), byref(err)), err)

    __delitem__ = remove

    def __len__(self):
        n = c_size_t()
        _check(_lib.sled_batch_len(self._handle(), byref(n)))
        return n.value

    def close(self):
        if self._h is not None:
            _lib.sled_batch_free(self._h)
            self._h = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None and self._tree is not None:
                self._tree.apply_batch(self)
        finally:
            self.close()
        return False


# ---- transactions and snapshots --------------------------------------------


class Transaction:
    """A serializable read-write transaction over the trees of a Db, from
    Db.transaction(). Use it as a context manager: the block's writes are
    committed when it ends normally, all or none; an exception aborts them
    (nothing is written) and propagates.

        with db.transaction() as tx:
            n = int(tx.get(b"n", b"0"))
            tx[b"n"] = b"%d" % (n + 1)            # the default tree
            tx.tree(users)[b"u1"] = b"ada"        # another tree: a view...
            tx.insert(b"u2", b"bob", tree=users)  # ...or the tree= keyword

    The commit raises ConflictError when something the transaction read
    changed before it (nothing is written then): run it again, as
    Db.transact(fn) does. Reads see the transaction's own writes. `del
    tx[k]` and tx.remove(k) do not read: removing an absent key is fine (as
    in a Batch). After the commit or abort every method raises Closed. A
    transaction belongs to one thread; any number may run at once.
    """

    def __init__(self, db):
        self._db = db
        self._h = None
        # The default tree's handle: should the Db close, it goes stale and
        # the library reports SLED_ERR_CLOSED (numbers are never reused).
        self._th = db._handle()
        h, err = c_void_p(), c_void_p()
        rc = _lib.sled_tx_begin(db._db_handle(), byref(h), byref(err))
        if rc:
            _raise(rc, err)
        self._h = h

    def _handle(self):
        if self._h is None:
            raise Closed("sled: the transaction was committed or aborted")
        return self._h

    def _tree(self, tree):
        return self._th if tree is None else tree._handle()

    @property
    def active(self):
        """True until the commit or abort."""
        return self._h is not None

    def get(self, key, default=None, *, tree=None):
        """key's value in tree (default: the Db's default tree) as the
        transaction sees it, or default when absent."""
        k = _bytes(key)
        v, n, err = c_void_p(), c_size_t(), c_void_p()
        rc = _lib.sled_tx_get(self._h or self._handle(), self._th if tree is None else tree._handle(),
                              k, len(k), byref(v), byref(n), byref(err))
        if rc == OK:
            return _take(v, n)
        if rc == NOT_FOUND:
            return default
        _raise(rc, err)

    def __getitem__(self, key):
        v = self.get(key)
        if v is None:
            raise KeyError(key)
        return v

    def __contains__(self, key):
        return self.get(key) is not None

    def insert(self, key, value, *, tree=None):
        """Sets key to value in tree when the transaction commits."""
        k, v = _bytes(key), _bytes(value, "value")
        err = c_void_p()
        rc = _lib.sled_tx_insert(self._h or self._handle(), self._th if tree is None else tree._handle(),
                                 k, len(k), v, len(v), byref(err))
        if rc:
            _raise(rc, err)

    def __setitem__(self, key, value):
        self.insert(key, value)

    def remove(self, key, *, tree=None):
        """Removes key from tree when the transaction commits (absent is fine)."""
        k = _bytes(key)
        err = c_void_p()
        _check(_lib.sled_tx_remove(self._handle(), self._tree(tree), k, len(k), byref(err)), err)

    def __delitem__(self, key):
        self.remove(key)

    def range(self, lo=None, hi=None, reverse=False, *, tree=None):
        """A generator of (key, value) with lo <= key < hi as the transaction
        sees it (its writes merged in); what it reads joins the read set."""
        lo, hi = _opt(lo, "lower bound"), _opt(hi, "upper bound")
        it, err = c_void_p(), c_void_p()
        _check(_lib.sled_tx_iter_range(self._handle(), self._tree(tree), lo, len(lo or b""), hi,
                                       len(hi or b""), 1 if reverse else 0, byref(it), byref(err)), err)
        return _iterate(it)

    def tree(self, tree):
        """A view of this transaction on another tree (a Tree, or a name to
        open): tx.tree(users)[k] = v is tx.insert(k, v, tree=users)."""
        if not isinstance(tree, Tree):
            tree = self._db.tree(tree)
        return _TxTree(self, tree)

    def commit(self):
        """Commits; raises ConflictError (nothing written) when what the
        transaction read changed. Ends the transaction either way."""
        h = self._handle()
        self._h = None
        err = c_void_p()
        rc = _lib.sled_tx_commit(h, byref(err))
        if rc:
            _raise(rc, err)

    def abort(self):
        """Ends the transaction without writing anything. Idempotent."""
        if self._h is not None:
            h, self._h = self._h, None
            _lib.sled_tx_abort(h)  # CLOSED after Db.close is harmless

    rollback = abort

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None and self._h is not None:
            self.commit()
        else:
            self.abort()
        return False

    def __del__(self):
        self.abort()


class _TxTree:
    """A Transaction's view of one tree (Transaction.tree)."""

    def __init__(self, tx, tree):
        self._tx, self._t = tx, tree

    def get(self, key, default=None):
        return self._tx.get(key, default, tree=self._t)

    def __getitem__(self, key):
        v = self.get(key)
        if v is None:
            raise KeyError(key)
        return v

    def __contains__(self, key):
        return self.get(key) is not None

    def insert(self, key, value):
        self._tx.insert(key, value, tree=self._t)

    __setitem__ = insert

    def remove(self, key):
        self._tx.remove(key, tree=self._t)

    __delitem__ = remove

    def range(self, lo=None, hi=None, reverse=False):
        return self._tx.range(lo, hi, reverse, tree=self._t)


class Snapshot:
    """A consistent read-only view of every tree as of Db.snapshot(); safe
    for several threads. Close it when done (or use it as a context
    manager): while it is open, writes keep what they overwrite in memory,
    and past the database's bound its reads raise SnapshotExpired.

        with db.snapshot() as snap:
            snap.get(b"k"); snap.get(b"u1", tree=users); list(snap.range())
    """

    def __init__(self, db):
        self._db = db
        self._h = None
        h, err = c_void_p(), c_void_p()
        _check(_lib.sled_snapshot_open(db._db_handle(), byref(h), byref(err)), err)
        self._h = h

    def _handle(self):
        if self._h is None:
            raise Closed("sled: snapshot closed")
        return self._h

    def get(self, key, default=None, *, tree=None):
        k = _bytes(key)
        v, n, err = c_void_p(), c_size_t(), c_void_p()
        rc = _lib.sled_snapshot_get(self._handle(), (self._db if tree is None else tree)._handle(),
                                    k, len(k), byref(v), byref(n), byref(err))
        if rc == NOT_FOUND:
            return default
        _check(rc, err)
        return _take(v, n)

    def __getitem__(self, key):
        v = self.get(key)
        if v is None:
            raise KeyError(key)
        return v

    def __contains__(self, key):
        return self.get(key) is not None

    def range(self, lo=None, hi=None, reverse=False, *, tree=None):
        lo, hi = _opt(lo, "lower bound"), _opt(hi, "upper bound")
        it, err = c_void_p(), c_void_p()
        _check(_lib.sled_snapshot_iter_range(self._handle(), (self._db if tree is None else tree)._handle(),
                                             lo, len(lo or b""), hi, len(hi or b""),
                                             1 if reverse else 0, byref(it), byref(err)), err)
        return _iterate(it)

    def close(self):
        if self._h is not None:
            h, self._h = self._h, None
            _lib.sled_snapshot_close(h)  # CLOSED after Db.close is harmless

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        self.close()


def _backoff(attempt):
    """Waits a little more after every conflict, with jitter, so that
    transactions fighting over keys take turns."""
    if attempt < 3:
        time.sleep(0)  # lets another thread run
    else:
        time.sleep(random.uniform(0, min(attempt, 20) * 50e-6))


# ---- databases -------------------------------------------------------------


class Db(Tree):
    """An open database; also its default tree (db[k], db.get(k), ...).

    Db(path, temporary=False, create_new=False, cache_capacity=0,
       flush_every_ms=0, compression=False, compression_level=0,
       mode=LOW_SPACE, segment_size=0); 0 selects the documented default."""

    def __init__(self, path=None, *, temporary=False, create_new=False,
                 cache_capacity=0, flush_every_ms=0, compression=False,
                 compression_level=0, mode=LOW_SPACE, segment_size=0):
        self._db = self
        self._h = None
        self._dbh = None
        self._merge_refs = {}
        self._trees = weakref.WeakSet()  # tree objects to mark closed
        cfg = c_void_p()
        _check(_lib.sled_config_new(byref(cfg)))
        try:
            if path is not None:
                _check(_lib.sled_config_set_path(cfg, os.fsencode(path)))
            _check(_lib.sled_config_set_temporary(cfg, int(bool(temporary))))
            _check(_lib.sled_config_set_create_new(cfg, int(bool(create_new))))
            _check(_lib.sled_config_set_cache_capacity(cfg, cache_capacity))
            _check(_lib.sled_config_set_flush_every_ms(cfg, flush_every_ms))
            _check(_lib.sled_config_set_compression(cfg, int(bool(compression)), compression_level))
            _check(_lib.sled_config_set_mode(cfg, mode))
            _check(_lib.sled_config_set_segment_size(cfg, segment_size))
            db, err = c_void_p(), c_void_p()
            _check(_lib.sled_open(cfg, byref(db), byref(err)), err)
        finally:
            _lib.sled_config_free(cfg)
        self._dbh = db
        t, err = c_void_p(), c_void_p()
        _check(_lib.sled_default_tree(db, byref(t), byref(err)), err)
        self._h = t

    def _db_handle(self):
        if self._dbh is None:
            raise Closed("sled: database closed")
        return self._dbh

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        """Flushes and closes; every tree, iterator and this object then
        raise Closed. Idempotent."""
        if self._dbh is None:
            return
        h, self._dbh, self._h = self._dbh, None, None
        for t in self._trees:
            t._h = None
        err = c_void_p()
        _check(_lib.sled_close(h, byref(err)), err)
        self._merge_refs.clear()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def tree(self, name):
        """The tree called name (str or bytes), created if absent."""
        n = _name(name)
        t, err = c_void_p(), c_void_p()
        _check(_lib.sled_open_tree(self._db_handle(), n, len(n), byref(t), byref(err)), err)
        tree = Tree(self, t)
        tree._nm = n
        self._trees.add(tree)
        return tree

    def drop_tree(self, name):
        n = _name(name)
        err = c_void_p()
        _check(_lib.sled_drop_tree(self._db_handle(), n, len(n), byref(err)), err)
        self._merge_refs.pop(n, None)

    def tree_names(self):
        """Names of all trees (bytes), sorted, the default tree included."""
        names, count, err = POINTER(c_char_p)(), c_size_t(), c_void_p()
        _check(_lib.sled_tree_names(self._db_handle(), byref(names), byref(count), byref(err)), err)
        try:
            return [names[i] for i in range(count.value)]
        finally:
            _lib.sled_free(ctypes.cast(names, c_void_p))

    def flush(self):
        """Makes every write that returned before this call durable."""
        err = c_void_p()
        _check(_lib.sled_flush(self._db_handle(), byref(err)), err)

    def generate_id(self):
        n, err = c_uint64(), c_void_p()
        _check(_lib.sled_generate_id(self._db_handle(), byref(n), byref(err)), err)
        return n.value

    def size_on_disk(self):
        n, err = c_int64(), c_void_p()
        _check(_lib.sled_size_on_disk(self._db_handle(), byref(n), byref(err)), err)
        return n.value

    @property
    def was_recovered(self):
        r, err = c_int(), c_void_p()
        _check(_lib.sled_was_recovered(self._db_handle(), byref(r), byref(err)), err)
        return bool(r.value)

    def checksum(self):
        n, err = c_uint32(), c_void_p()
        _check(_lib.sled_checksum(self._db_handle(), byref(n), byref(err)), err)
        return n.value

    def export(self, path):
        """Writes a portable dump of every tree to the file path."""
        err = c_void_p()
        _check(_lib.sled_export(self._db_handle(), os.fsencode(path), byref(err)), err)

    def import_(self, path):
        """Inserts the entries of a dump written by export."""
        err = c_void_p()
        _check(_lib.sled_import(self._db_handle(), os.fsencode(path), byref(err)), err)

    def transaction(self):
        """A Transaction: `with db.transaction() as tx:` commits at the end
        of the block (ConflictError: run it again) and aborts on an
        exception."""
        return Transaction(self)

    def transact(self, fn, retries=100):
        """Runs fn(tx) in a transaction and commits it, running fn again in
        a new transaction after each ConflictError, at most retries more
        times (then the ConflictError propagates); returns fn's result. An
        exception from fn aborts and propagates. fn may run more than once:
        it must have no effects besides its writes through tx.

            db.transact(lambda tx: tx.insert(b"n", b"%d" % (int(tx.get(b"n", b"0")) + 1)))
        """
        attempt = 0
        while True:
            try:
                with Transaction(self) as tx:
                    return fn(tx)
            except ConflictError:
                if attempt >= retries:
                    raise
                attempt += 1
                _backoff(attempt)

    def snapshot(self):
        """A Snapshot of every tree as of now; close it when done."""
        return Snapshot(self)

    def stats(self):
        """The database's counters as a dict."""
        st, err = _Stats(), c_void_p()
        st.struct_size = ctypes.sizeof(_Stats)
        _check(_lib.sled_stats_get(self._db_handle(), byref(st), byref(err)), err)
        return {name: getattr(st, name) for name, _ in _Stats._fields_[1:]}
