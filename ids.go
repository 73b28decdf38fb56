package sled

// GenerateID: unique, increasing ids, reserved in durable blocks.

import (
	"github.com/sledgo/sled/internal/codec"
)

// GenerateID returns a unique, increasing id, also across restarts and
// crashes: ids are reserved in durable blocks.
func (db *DB) GenerateID() (uint64, error) {
	op, err := db.enterWrite()
	if err != nil {
		return 0, err
	}
	defer db.exit(op)
	for {
		n := db.ids.next.Load()
		if n < db.ids.high.Load() {
			if db.ids.next.CompareAndSwap(n, n+1) {
				return n, nil
			}
			continue
		}
		if err := db.reserveIDs(); err != nil {
			return 0, err
		}
	}
}

func (db *DB) reserveIDs() error {
	db.ids.mu.Lock()
	defer db.ids.mu.Unlock()
	if db.ids.next.Load() < db.ids.high.Load() {
		return nil
	}
	high := db.ids.high.Load() + idBlock
	// A snapshot taken while the reservation's record is in flight must
	// record the new high-water: its replay would start past the record.
	db.ids.pending.Store(high)
	_, err := db.pc.LogMeta(codec.Section{Kind: codec.SecIDReserve, Value: high})
	if err == nil {
		err = db.log.Flush()
	}
	if err != nil {
		return err
	}
	db.ids.high.Store(high)
	return nil
}
