package sled

// Clean runs one log cleaning round now (tests).
func (db *DB) Clean() error { return db.clean() }
