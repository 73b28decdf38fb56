package sled

// Clean runs one log cleaning round now (tests).
func (db *DB) Clean() error { return db.cleanRound() }

// SetCleaning turns the background log cleaner on or off (benchmarks
// measure foreground latency with and without it).
func (db *DB) SetCleaning(on bool) { db.clean.off.Store(!on) }

// WriteSnapshot writes a page-table snapshot now (tests).
func (db *DB) WriteSnapshot() error { return db.snapshot() }
