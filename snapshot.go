package sled

// Snapshots of the page table (what Open reads instead of the whole log),
// and the background work that writes them and cleans the log.

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sledgo/sled/internal/codec"
	"github.com/sledgo/sled/internal/log"
	"github.com/sledgo/sled/internal/node"
	"github.com/sledgo/sled/internal/pagecache"
)

// background cleans the log and writes snapshots. It runs when the log
// creates a segment (at once every second segment, else once the database
// is quiet for cleanQuietDelay), and sleeps otherwise: an idle database uses
// no CPU.
func (db *DB) background() {
	defer db.bg.wg.Done()
	var quiet <-chan time.Time
	pending := 0
	for {
		select {
		case <-db.bg.stop:
			return
		case <-db.clean.events:
			pending++
			if pending < 2 {
				quiet = time.After(cleanQuietDelay)
				continue
			}
		case <-quiet:
		}
		quiet, pending = nil, 0
		if db.log.Err() != nil {
			continue // the log's sticky error already reaches every writer
		}
		if !db.clean.off.Load() {
			if err := db.cleanRound(); err != nil {
				db.backgroundFailed(err)
				continue
			}
		}
		if !db.cfg.Temporary && uint64(db.log.Tail())-db.snap.lsn.Load() >= snapshotEveryBytes {
			// A failure leaves the older snapshot in place.
			db.backgroundFailed(db.snapshot())
		}
	}
}

// consolidator rewrites, as one image each, the pages whose page-ins keep
// gathering several fragments (pagecache C3), so that their next cold read
// is one read. Each rewrite runs as a writer, like the cleaner's
// relocations; a rewrite costs about one page of log, once per page until
// writers scatter it again.
func (db *DB) consolidator() {
	defer db.bg.wg.Done()
	ids := db.pc.Consolidations()
	for {
		select {
		case <-db.bg.stop:
			return
		case sc := <-ids:
			if db.log.Err() != nil || db.poisoned.Load() != nil {
				continue // the log's or the poison's error already reaches every writer
			}
			err := db.pc.Consolidate(sc)
			db.backgroundFailed(err)
		}
	}
}

// backgroundFailed records an error of background work (cleaning, the
// periodic snapshot) so that it is never lost: Stats reports it, Check
// returns it, and when it means the database can no longer be trusted
// (corruption) or written (the log failed), every later call fails with it.
// A transient failure (a snapshot file that could not be written) is retried
// by the next round.
func (db *DB) backgroundFailed(err error) {
	if err == nil || errors.Is(err, errClosing) {
		return
	}
	err = fmt.Errorf("sled: background work failed: %w", db.Tree.mapErr(err))
	db.bg.err.Store(&err)
	db.bg.errors.Add(1)
	if errors.Is(err, ErrCorruption) || db.log.Err() != nil {
		db.poison(err)
	}
}

// snapshot writes the page table's locations to a new snapshot file. The
// scan runs as a writer (no batch is half applied), from the LSN below which
// every reservation is complete; the records it names are made durable
// before the file is, and replay from that LSN is idempotent (pagecache P9).
func (db *DB) snapshot() error {
	_, err := db.writeSnapshot()
	return err
}

// writeSnapshot is snapshot, returning what it wrote.
func (db *DB) writeSnapshot() (*codec.Snapshot, error) {
	db.snap.mu.Lock()
	defer db.snap.mu.Unlock()
	snap := &codec.Snapshot{}
	from := db.log.CompletePrefix()
	// T7: replay starts at or before the redo record of every multi-key
	// commit in flight (one registering later logs its redo after from).
	if lo, ok := db.tx.reg.minLSN(); ok && lo < from {
		from = lo
	}
	snap.LSN = uint64(from)
	snap.NextPage = db.pc.SnapshotPages(func(id node.PageID, locs []pagecache.Loc) {
		e := codec.PageEntry{ID: id, Locs: make([]uint64, len(locs)), Sizes: make([]uint32, len(locs))}
		for i, l := range locs {
			e.Locs[i], e.Sizes[i] = uint64(l.LSN), l.Size
		}
		snap.Pages = append(snap.Pages, e)
	}, func(id node.PageID, lsn log.LSN) {
		snap.Free = append(snap.Free, codec.FreeEntry{ID: id, LSN: uint64(lsn)})
	})
	db.mu.Lock()
	for name, t := range db.mu.trees {
		snap.Trees = append(snap.Trees, codec.TreeEntry{Name: name, Root: t.t.Root(), CreatedLSN: uint64(db.mu.created[name])})
	}
	db.mu.Unlock()
	snap.IDHigh = max(db.ids.high.Load(), db.ids.pending.Load())
	tail := db.log.Tail()
	// Every record the scan saw is below tail; wait for the reservations
	// in flight to complete, then make them durable.
	for db.log.CompletePrefix() < tail && db.log.Err() == nil {
		time.Sleep(50 * time.Microsecond)
	}
	if err := db.log.Flush(); err != nil {
		return nil, err
	}
	name := fmt.Sprintf("%s%016x", snapPrefix, snap.LSN)
	err := db.writeFileAtomic(name, func(w io.Writer) error {
		cw := &countingWriter{w: w}
		err := codec.WriteSnapshot(cw, snap)
		db.snap.bytes.Add(cw.n)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sled: writing snapshot: %w", err)
	}
	db.snap.lsn.Store(snap.LSN)
	if names, err := db.fs.List(db.dir); err == nil {
		for _, n := range names {
			if strings.HasPrefix(n, snapPrefix) && n != name {
				db.fs.Remove(db.fs.PathJoin(db.dir, n))
			}
		}
	}
	return snap, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
