# The "Using sled from Python" example of the README (CI runs it).
import tempfile

import sled

with tempfile.TemporaryDirectory() as d, sled.Db(d + "/my.db") as db:
    db[b"apple"] = b"red"
    db[b"apricot"] = b"orange"
    db[b"banana"] = b"yellow"
    assert db[b"apple"] == b"red" and db.get(b"cherry") is None
    assert b"banana" in db
    del db[b"banana"]

    for key, value in db.prefix(b"ap"):       # apple, apricot
        print(key.decode(), value.decode())
    print([k for k, _ in db.range(b"a", b"b", reverse=True)])

    users = db.tree("users")                   # a separate keyspace
    users[b"u1"] = b"ada"

    with db.batch() as b:                      # atomic: all or nothing
        b[b"x"] = b"1"
        del b[b"apple"]

    try:
        db.compare_and_swap(b"x", b"0", b"2")
    except sled.CompareAndSwapError as e:
        print("cas failed, current value:", e.current)

    with db.transaction() as tx:               # serializable, all or nothing
        n = int(tx.get(b"visits", b"0"))       # reads see the tx's own writes
        tx[b"visits"] = b"%d" % (n + 1)
        tx.tree(users)[b"u2"] = b"bob"         # any tree of the database
    # A conflicting write makes the with block raise sled.ConflictError;
    # db.transact(fn) runs fn(tx) in a new transaction until it commits.

    def visit(tx):                             # may run more than once
        tx[b"visits"] = b"%d" % (int(tx.get(b"visits", b"0")) + 1)
    db.transact(visit)
    print(db[b"visits"], users[b"u2"])         # b'2' b'bob'

    db.set_merge_operator(lambda key, old, op: (old or b"") + op)
    db.merge(b"log", b"a")
    print(db.merge(b"log", b"b"))              # b'ab'
    db.flush()                                 # durable from here on
