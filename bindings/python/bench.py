"""Times get, insert and a one-key transaction (`with db.transaction() as
tx:` around a get and an insert: begin, get, insert, commit) through the
Python binding on the workload of capi/bench/bench.c (1000 keys of 16
bytes, 100-byte values, a fixed pseudo-random order, keys formatted before
timing). Prints ns/op. usage: bench.py [ops [tx_ops]]"""

import sys
import time

import sled

KEYS = 1000


def main():
    ops = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    tx_ops = int(sys.argv[2]) if len(sys.argv) > 2 else ops // 4
    keys = [b"key%013d" % i for i in range(KEYS)]
    order = [keys[(n * 7919) % KEYS] for n in range(ops)]
    val = b"v" * 100
    with sled.Db(temporary=True) as db:
        for k in keys:
            db[k] = val
        get = db.get
        start = time.perf_counter_ns()
        for k in order:
            if get(k) is None:
                raise SystemExit("bench: missing key")
        get_ns = (time.perf_counter_ns() - start) / ops
        start = time.perf_counter_ns()
        for k in order:
            db[k] = val
        insert_ns = (time.perf_counter_ns() - start) / ops
        start = time.perf_counter_ns()
        for k in order[:tx_ops]:
            with db.transaction() as tx:
                if tx.get(k) is None:
                    raise SystemExit("bench: missing key")
                tx[k] = val
        tx_ns = (time.perf_counter_ns() - start) / tx_ops
    print("python get %.0f\npython insert %.0f\npython tx %.0f" % (get_ns, insert_ns, tx_ns))


if __name__ == "__main__":
    main()
