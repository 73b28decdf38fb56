"""unittest suite of the Python binding (run by capi/ci.sh):

    SLED_LIB=capi/build/libsled.so python3 -m unittest discover -s bindings/python -v
"""

import gc
import os
import shutil
import tempfile
import threading
import unittest

import sled


class Base(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="sled-py-")
        self.db = sled.Db(os.path.join(self.dir, "db"))

    def tearDown(self):
        self.db.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class TestMapping(Base):
    def test_get_set_del_contains(self):
        db = self.db
        self.assertIsNone(db.get(b"k"))
        self.assertEqual(db.get(b"k", b"dflt"), b"dflt")
        with self.assertRaises(KeyError):
            db[b"k"]
        db[b"k"] = b"v"
        self.assertEqual(db[b"k"], b"v")
        self.assertIn(b"k", db)
        self.assertEqual(db.insert(b"k", b"w"), b"v")
        self.assertEqual(db.insert(b"new", b"x"), None)
        del db[b"k"]
        self.assertNotIn(b"k", db)
        with self.assertRaises(KeyError):
            del db[b"k"]
        self.assertEqual(db.remove(b"new"), b"x")
        self.assertIsNone(db.remove(b"new"))

    def test_empty_and_binary(self):
        db = self.db
        db[b""] = b""
        self.assertEqual(db.get(b""), b"")  # present and empty, not None
        self.assertIn(b"", db)
        db[bytearray(b"\x00\xff")] = memoryview(b"\x00\x00")
        self.assertEqual(db[b"\x00\xff"], b"\x00\x00")

    def test_types_and_limits(self):
        with self.assertRaises(TypeError):
            self.db["str key"] = b"v"
        with self.assertRaises(sled.KeyTooLarge) as cm:
            self.db[b"k" * (64 * 1024 + 1)] = b"v"
        self.assertIsInstance(cm.exception, ValueError)
        self.assertEqual(cm.exception.status, 7)
        self.db[b"k" * (64 * 1024)] = b"v"  # the limit itself is fine

    def test_compare_and_swap(self):
        db = self.db
        db.compare_and_swap(b"c", None, b"1")
        with self.assertRaises(sled.CompareAndSwapError) as cm:
            db.compare_and_swap(b"c", None, b"2")
        self.assertEqual(cm.exception.current, b"1")
        db.compare_and_swap(b"c", b"1", None)
        with self.assertRaises(sled.CompareAndSwapError) as cm:
            db.compare_and_swap(b"c", b"1", b"2")
        self.assertIsNone(cm.exception.current)

    def test_merge(self):
        db = self.db
        with self.assertRaises(sled.NoMergeOperator):
            db.merge(b"m", b"a")
        db.set_merge_operator(lambda k, old, op: (old or b"") + op)
        gc.collect()  # the callback must survive collection
        self.assertEqual(db.merge(b"m", b"a"), b"a")
        self.assertEqual(db.merge(b"m", b"b"), b"ab")

        def boom(k, old, op):
            raise RuntimeError("no")
        db.set_merge_operator(boom)
        with self.assertRaises(sled.MergeFailed):
            db.merge(b"m", b"c")
        self.assertEqual(db[b"m"], b"ab")
        db.set_merge_operator(lambda k, old, op: None)
        self.assertIsNone(db.merge(b"m", b"x"))
        self.assertNotIn(b"m", db)
        db.set_merge_operator(None)
        with self.assertRaises(sled.NoMergeOperator):
            db.merge(b"m", b"a")

    def test_ordered(self):
        db = self.db
        self.assertIsNone(db.first())
        for k in (b"a", b"b", b"c"):
            db[k] = k.upper()
        self.assertEqual(db.first(), (b"a", b"A"))
        self.assertEqual(db.last(), (b"c", b"C"))
        self.assertEqual(db.get_lt(b"b"), (b"a", b"A"))
        self.assertEqual(db.get_gt(b"b"), (b"c", b"C"))
        self.assertIsNone(db.get_gt(b"c"))
        self.assertEqual(db.pop_min(), (b"a", b"A"))
        self.assertEqual(db.pop_max(), (b"c", b"C"))
        self.assertEqual(len(db), 1)
        db.clear()
        self.assertEqual(len(db), 0)


class TestIteration(Base):
    def setUp(self):
        super().setUp()
        for k in (b"a", b"ab", b"abc", b"b", b"c"):
            self.db[k] = k

    def test_range_prefix_reverse(self):
        db = self.db
        self.assertEqual([k for k, _ in db.range()], [b"a", b"ab", b"abc", b"b", b"c"])
        self.assertEqual([k for k, _ in db.range(b"ab", b"c")], [b"ab", b"abc", b"b"])
        self.assertEqual([k for k, _ in db.range(hi=b"ab", reverse=True)], [b"a"])
        self.assertEqual(list(db.prefix(b"ab")), [(b"ab", b"ab"), (b"abc", b"abc")])
        self.assertEqual([k for k, _ in db.prefix(b"a", reverse=True)], [b"abc", b"ab", b"a"])
        self.assertEqual(list(db), [b"a", b"ab", b"abc", b"b", b"c"])

    def test_early_break_closes_the_iterator(self):
        before = sled._live_iterators
        for k, _ in self.db.range():
            break
        gc.collect()
        self.assertEqual(sled._live_iterators, before)
        gen = self.db.prefix(b"a")
        next(gen)
        self.assertEqual(sled._live_iterators, before + 1)
        gen.close()
        self.assertEqual(sled._live_iterators, before)

    def test_iterator_after_close(self):
        gen = self.db.range()
        next(gen)
        self.db.close()
        with self.assertRaises(sled.Closed):
            next(gen)


class TestTreesAndBatches(Base):
    def test_trees(self):
        db = self.db
        users = db.tree("users")
        users[b"u1"] = b"ada"
        self.assertNotIn(b"u1", db)
        self.assertEqual(db.tree(b"users")[b"u1"], b"ada")
        self.assertIn(b"users", db.tree_names())
        self.assertIn(b"__sled__default", db.tree_names())
        db.drop_tree("users")
        with self.assertRaises(sled.TreeNotFound):
            users.get(b"u1")
        with self.assertRaises(sled.TreeNotFound):
            db.drop_tree("users")
        with self.assertRaises(sled.InvalidArgument):
            db.drop_tree("__sled__default")

    def test_batch(self):
        db = self.db
        db[b"gone"] = b"x"
        with db.batch() as b:
            b[b"x"] = b"1"
            b.insert(b"y", b"2")
            del b[b"gone"]
            self.assertEqual(len(b), 3)
        self.assertEqual((db[b"x"], db[b"y"], db.get(b"gone")), (b"1", b"2", None))
        with self.assertRaises(RuntimeError):
            with db.batch() as b:
                b[b"z"] = b"3"
                raise RuntimeError("abort")
        self.assertNotIn(b"z", db)  # not applied
        b = sled.Batch()
        b[b"q"] = b"1"
        users = db.tree("users")
        users.apply_batch(b)
        b.close()
        self.assertEqual(users[b"q"], b"1")
        with self.assertRaises(sled.Closed):
            users.apply_batch(b)


class TestDatabase(Base):
    def test_persistence_and_recovery(self):
        path = os.path.join(self.dir, "p")
        with sled.Db(path) as db:
            self.assertFalse(db.was_recovered)
            db[b"k"] = b"v"
            i = db.generate_id()
        with sled.Db(path) as db:
            self.assertTrue(db.was_recovered)
            self.assertEqual(db[b"k"], b"v")
            self.assertGreater(db.generate_id(), i)

    def test_errors(self):
        path = os.path.join(self.dir, "db")
        with self.assertRaises(sled.Locked):
            sled.Db(path)
        self.db.close()
        with self.assertRaises(sled.Exists):
            sled.Db(path, create_new=True)
        with self.assertRaises(sled.InvalidConfig):
            sled.Db(os.path.join(self.dir, "x"), mode=9)
        with self.assertRaises(sled.InvalidConfig):
            sled.Db()  # neither a path nor temporary
        with open(os.path.join(self.dir, "file"), "w") as f:
            f.write("x")
        with self.assertRaises(sled.SledIOError) as cm:
            sled.Db(os.path.join(self.dir, "file", "sub"))
        self.assertIsInstance(cm.exception, OSError)

    def test_closed(self):
        self.db[b"k"] = b"v"
        t = self.db.tree("t")
        self.db.close()
        self.db.close()  # idempotent
        for call in (lambda: self.db[b"k"], lambda: self.db.flush(),
                     lambda: t.get(b"k"), lambda: self.db.tree("u")):
            with self.assertRaises(sled.Closed):
                call()

    def test_misc(self):
        db = self.db
        db[b"k"] = b"v"
        db.flush()
        self.assertGreater(db.size_on_disk(), 0)
        st = db.stats()
        self.assertGreaterEqual(st["trees"], 1)
        self.assertGreater(st["disk_bytes"], 0)
        dump = os.path.join(self.dir, "dump")
        db.export(dump)
        with sled.Db(temporary=True) as other:
            other.import_(dump)
            self.assertEqual(other.checksum(), db.checksum())
            self.assertEqual(other[b"k"], b"v")
            with open(os.path.join(self.dir, "junk"), "wb") as f:
                f.write(b"not a dump" * 10)
            with self.assertRaises(sled.Corruption):
                other.import_(os.path.join(self.dir, "junk"))
        self.assertEqual(sled.library_version()[0], 0)

    def test_config_options(self):
        with sled.Db(os.path.join(self.dir, "cfg"), cache_capacity=8 << 20, flush_every_ms=-1,
                     compression=True, compression_level=3, mode=sled.HIGH_THROUGHPUT,
                     segment_size=1 << 20) as db:
            db[b"k"] = b"v" * 1000
            db.flush()
            self.assertEqual(len(db[b"k"]), 1000)

    def test_threads(self):
        db = self.db
        errors = []

        def work(n):
            try:
                for i in range(300):
                    k = b"t%d/%04d" % (n, i)
                    db[k] = k
                    assert db[k] == k
                assert len(list(db.prefix(b"t%d/" % n))) == 300
            except Exception as e:  # reported below
                errors.append(e)
        threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(db), 6 * 300)


class TestTransactions(Base):
    def test_commit(self):
        db = self.db
        db[b"gone"] = b"x"
        with db.transaction() as tx:
            self.assertTrue(tx.active)
            tx[b"a"] = b"1"
            tx.insert(b"b", b"2")
            del tx[b"gone"]
            tx.remove(b"never")  # absent is fine
            self.assertEqual(tx[b"a"], b"1")  # own writes are visible inside
            self.assertIsNone(tx.get(b"gone"))
            self.assertEqual(tx.get(b"none", b"dflt"), b"dflt")
            self.assertIn(b"b", tx)
            with self.assertRaises(KeyError):
                tx[b"none"]
            self.assertIsNone(db.get(b"a"))  # and to no one else before the commit
            self.assertEqual(db[b"gone"], b"x")
        self.assertFalse(tx.active)
        self.assertEqual((db[b"a"], db[b"b"], db.get(b"gone")), (b"1", b"2", None))

    def test_abort_on_exception(self):
        db = self.db
        db[b"k"] = b"old"
        with self.assertRaises(RuntimeError):
            with db.transaction() as tx:
                tx[b"k"] = b"new"
                tx[b"other"] = b"1"
                raise RuntimeError("abort")
        self.assertFalse(tx.active)
        self.assertEqual(db[b"k"], b"old")
        self.assertNotIn(b"other", db)
        # An explicit abort inside the block: nothing is written either.
        with db.transaction() as tx:
            tx[b"k"] = b"new"
            tx.abort()
        self.assertEqual(db[b"k"], b"old")

    def test_conflict(self):
        db = self.db
        db[b"n"] = b"1"
        with self.assertRaises(sled.ConflictError) as cm:
            with db.transaction() as tx:
                n = int(tx[b"n"])
                db[b"n"] = b"5"  # a plain write behind the transaction's back
                tx[b"n"] = b"%d" % (n + 1)
                tx[b"also"] = b"x"
        self.assertIsInstance(cm.exception, sled.SledError)
        self.assertEqual(cm.exception.status, 12)
        self.assertIs(sled.Conflict, sled.ConflictError)
        self.assertEqual(db[b"n"], b"5")  # nothing written
        self.assertNotIn(b"also", db)
        # Two transactions that read and write one key: the second commit loses.
        a, b = db.transaction(), db.transaction()
        a[b"n"] = a[b"n"] + b"a"
        b[b"n"] = b[b"n"] + b"b"
        b.commit()
        with self.assertRaises(sled.ConflictError):
            a.commit()
        self.assertEqual(db[b"n"], b"5b")

    def test_transact_retries(self):
        db = self.db
        calls = []

        def fn(tx):
            calls.append(1)
            v = tx.get(b"k", b"")
            if len(calls) == 1:
                db[b"k"] = b"interfering"  # makes the first run conflict
            tx[b"k"] = v + b"!"
            return len(calls)
        self.assertEqual(db.transact(fn), 2)
        self.assertEqual(db[b"k"], b"interfering!")

        def always(tx):
            calls.append(1)
            tx.get(b"k")
            db[b"k"] = b"again%d" % len(calls)  # a new value each time
            tx[b"k"] = b"never"
        del calls[:]
        with self.assertRaises(sled.ConflictError):
            db.transact(always, retries=3)
        self.assertEqual(len(calls), 4)
        self.assertEqual(db[b"k"], b"again4")
        with self.assertRaises(ZeroDivisionError):  # not retried
            db.transact(lambda tx: 1 / 0)

    def test_transact_threads_counter(self):
        db = self.db
        threads, per = 6, 40
        runs = []
        errors = []

        def increment(tx):
            runs.append(1)
            n = int(tx.get(b"ctr", b"0"))
            tx[b"ctr"] = b"%d" % (n + 1)

        def work():
            try:
                for _ in range(per):
                    db.transact(increment, retries=10_000)
            except Exception as e:  # reported below
                errors.append(e)
        ts = [threading.Thread(target=work) for _ in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(int(db[b"ctr"]), threads * per)  # no lost update
        self.assertGreaterEqual(len(runs), threads * per)

    def test_use_after_exit(self):
        db = self.db
        with db.transaction() as tx:
            tx[b"a"] = b"1"
        for call in (lambda: tx.get(b"a"), lambda: tx.insert(b"a", b"2"),
                     lambda: tx.__setitem__(b"a", b"2"), lambda: tx.remove(b"a"),
                     lambda: tx.range(), tx.commit):
            with self.assertRaises(sled.Closed):
                call()
        tx.abort()  # idempotent
        with self.assertRaises(ValueError):
            with db.transaction() as tx2:
                raise ValueError()
        with self.assertRaises(sled.Closed):
            tx2[b"a"] = b"2"
        self.assertEqual(db[b"a"], b"1")

    def test_trees(self):
        db = self.db
        users = db.tree("users")
        with db.transaction() as tx:
            tx.tree(users)[b"u1"] = b"ada"
            tx.insert(b"u2", b"bob", tree=users)
            tx.tree("users").insert(b"u3", b"cy")  # a name opens the tree
            self.assertEqual(tx.get(b"u1", tree=users), b"ada")
            self.assertEqual(tx.tree(users)[b"u2"], b"bob")
            self.assertNotIn(b"u1", tx)  # the default tree
            del tx.tree(users)[b"u3"]
            tx[b"count"] = b"2"
        self.assertEqual((users[b"u1"], users[b"u2"], users.get(b"u3")), (b"ada", b"bob", None))
        self.assertEqual(db[b"count"], b"2")
        with sled.Db(temporary=True) as other:
            with db.transaction() as tx:
                with self.assertRaises(sled.InvalidArgument):
                    tx.get(b"k", tree=other)
                with self.assertRaises(sled.InvalidArgument):
                    tx.tree(other)[b"k"] = b"v"
                tx[b"fine"] = b"1"  # the transaction goes on
            self.assertNotIn(b"k", other)
        self.assertEqual(db[b"fine"], b"1")

    def test_range(self):
        db = self.db
        for k in (b"a", b"b", b"c"):
            db[k] = k
        with db.transaction() as tx:
            tx[b"bb"] = b"new"
            del tx[b"c"]
            self.assertEqual([k for k, _ in tx.range()], [b"a", b"b", b"bb"])
            self.assertEqual(list(tx.range(b"b", reverse=True)), [(b"bb", b"new"), (b"b", b"b")])
            gen = tx.range()
            next(gen)
        with self.assertRaises(sled.Closed):  # the transaction ended
            next(gen)

    def test_errors(self):
        db = self.db
        with db.transaction() as tx:
            with self.assertRaises(sled.KeyTooLarge):
                tx[b"k" * (64 * 1024 + 1)] = b"v"
            with self.assertRaises(TypeError):
                tx["str"] = b"v"
            tx[b"ok"] = b"1"
        self.assertEqual(db[b"ok"], b"1")
        tx = db.transaction()
        tx[b"unfinished"] = b"1"
        db.close()
        with self.assertRaises(sled.Closed):
            tx.get(b"ok")
        with self.assertRaises(sled.Closed):
            tx.commit()
        with self.assertRaises(sled.Closed):
            db.transaction()


class TestSnapshots(Base):
    def test_snapshot(self):
        db = self.db
        users = db.tree("users")
        db[b"a"] = b"1"
        users[b"u"] = b"1"
        with db.snapshot() as snap:
            db[b"a"] = b"2"
            db[b"b"] = b"2"
            users[b"u"] = b"2"
            self.assertEqual(snap[b"a"], b"1")
            self.assertIsNone(snap.get(b"b"))
            self.assertNotIn(b"b", snap)
            self.assertEqual(snap.get(b"u", tree=users), b"1")
            self.assertEqual(list(snap.range()), [(b"a", b"1")])
            gen = snap.range(tree=users)
        with self.assertRaises(sled.Closed):
            snap.get(b"a")
        with self.assertRaises(sled.Closed):
            next(gen)
        self.assertEqual(db[b"a"], b"2")


if __name__ == "__main__":
    unittest.main()
