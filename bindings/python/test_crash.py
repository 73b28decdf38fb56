"""A process writing through the C API and killed with SIGKILL after a flush
loses nothing: every key a flush acknowledged is there after reopening, and
what survives is a prefix of the writes.

The writer is capi/test/crash_child.c (path in $SLED_CRASH_CHILD, built by
capi/ci.sh) and, always, a Python child writing through this binding.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

import sled

PY_CHILD = r"""
import sys, sled
db = sled.Db(sys.argv[1])
for i in range(10_000_000):
    db[b"key%08d" % i] = b"val%08d" % i
    if i % 100 == 99:
        db.flush()
        print(i, flush=True)
"""


class TestSigkill(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="sled-crash-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_child(self, argv, min_acked):
        path = os.path.join(self.dir, "db")
        child = subprocess.Popen(argv + [path], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        acked = -1
        try:
            for line in child.stdout:
                acked = int(line)
                if acked >= min_acked:
                    break
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
            child.stdout.close()
        self.assertEqual(child.returncode, -signal.SIGKILL)
        self.assertGreaterEqual(acked, min_acked, "the child stopped early")
        with sled.Db(path) as db:
            self.assertTrue(db.was_recovered)
            for i in range(acked + 1):
                self.assertEqual(db.get(b"key%08d" % i), b"val%08d" % i, "acked key %d lost" % i)
            # Writes after the last flush may or may not survive, but only
            # as a prefix: keys 0..n with no gap.
            keys = [k for k, _ in db.prefix(b"key")]
            self.assertEqual(keys, [b"key%08d" % i for i in range(len(keys))])
            self.assertGreater(len(keys), acked)

    def test_c_child(self):
        child = os.environ.get("SLED_CRASH_CHILD")
        if not child:
            self.skipTest("SLED_CRASH_CHILD not set (capi/ci.sh sets it)")
        self.run_child([child], 3000)

    def test_python_child(self):
        here = os.path.dirname(os.path.abspath(__file__))
        env_path = here + os.pathsep + os.environ.get("PYTHONPATH", "")
        os.environ["PYTHONPATH"] = env_path
        self.run_child([sys.executable, "-c", PY_CHILD], 2000)


if __name__ == "__main__":
    unittest.main()
