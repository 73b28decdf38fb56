package sled

// Clean runs one log cleaning round now (tests).
func (db *DB) Clean() error { return db.cleanRound() }

// SetCleaning turns the background log cleaner on or off (benchmarks
// measure foreground latency with and without it).
func (db *DB) SetCleaning(on bool) { db.clean.off.Store(!on) }

// WriteSnapshot writes a page-table snapshot now (tests).
func (db *DB) WriteSnapshot() error { return db.snapshot() }

// StallCleaning sets the cleaner's stall latch (C4) as a round that gained
// nothing would (tests).
func (db *DB) StallCleaning() {
	db.clean.mu.Lock()
	defer db.clean.mu.Unlock()
	db.clean.stalled, db.clean.stalledAt = true, db.log.Tail()
}
