"""sled for Python: a pure-ctypes binding of the sled C API (capi/sled.h).

    import sled
    with sled.Db("my.db") as db:
        db[b"apple"] = b"red"
        print(db.get(b"apple"))              # b'red'
        for k, v in db.prefix(b"app"):
            print(k, v)
        users = db.tree("users")
        users[b"u1"] = b"ada"
        db.flush()

Keys and values are bytes (any bytes-like object is accepted on input).
Errors raise SledError subclasses mapped from the C status codes. Every
object is safe to use from several threads (the C library releases no lock
of Python's: ctypes drops the GIL during each call), except iterators and
batches, which belong to one thread.

The library is found, in order, at $SLED_LIB, next to this file
(libsled.so), or in ../../capi/build/ of a source checkout; build it with
`go build -buildmode=c-shared -o capi/build/libsled.so ./capi`.
"""

import ctypes
import os
import threading
import weakref
from ctypes import (CFUNCTYPE, POINTER, byref, c_char_p, c_double, c_int,
                    c_int64, c_size_t, c_uint32, c_uint64, c_void_p)

__all__ = [
    "Db", "Tree", "Batch", "SledError", "InvalidArgument", "Closed",
    "Corruption", "Locked", "Exists", "KeyTooLarge", "ValueTooLarge",
    "TreeNotFound", "NoMergeOperator", "CompareAndSwapError", "Conflict",
    "TxTooLarge", "SledIOError", "InvalidConfig", "MergeFailed",
    "InternalError", "library_version", "LOW_SPACE", "HIGH_THROUGHPUT",
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


class Conflict(SledError):
    """Reserved for transactions (not yet in the library)."""

    status = 12


class TxTooLarge(SledError):
    """Reserved for transactions (not yet in the library)."""

    status = 13


class SledIOError(SledError, OSError):
    status = 14


class InvalidConfig(SledError, ValueError):
    status = 15


class MergeFailed(SledError):
    status = 16


class InternalError(SledError):
    status = 17


_ERRORS = {cls.status: cls for cls in (
    InvalidArgument, Closed, Corruption, Locked, Exists, KeyTooLarge,
    ValueTooLarge, TreeNotFound, NoMergeOperator, CompareAndSwapError,
    Conflict, TxTooLarge, SledIOError, InvalidConfig, MergeFailed,
    InternalError)}

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

    def stats(self):
        """The database's counters as a dict."""
        st, err = _Stats(), c_void_p()
        st.struct_size = ctypes.sizeof(_Stats)
        _check(_lib.sled_stats_get(self._db_handle(), byref(st), byref(err)), err)
        return {name: getattr(st, name) for name, _ in _Stats._fields_[1:]}
