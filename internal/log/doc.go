// Package log is the write-ahead log of sled: an append-only sequence of
// records in fixed-size segment files (sized whole, their blocks allocated
// as written), appended through reservable slots in a ring of in-memory
// buffers, made durable by group commit, and recovered by a validating
// scan.
//
// # Mental model
//
// An LSN is a byte position in the log. Segment s is the file seg-%016x (s
// in hex) of exactly SegmentSizeBytes bytes and holds the LSNs
// [s*SegmentSize, (s+1)*SegmentSize): the record at LSN l starts at offset
// l%SegmentSize of segment l/SegmentSize. Segment files have no header; the
// LSN in every record frame ties it to its file and position.
//
// A writer Reserves space for a record in the current buffer (one CAS),
// copies its record into the slot (Complete) or marks it canceled (Abort),
// and leaves. A buffer that cannot take a record is sealed and the next one
// of the ring installed; the last writer to leave a sealed buffer hands it to
// the I/O goroutine, which writes buffers in LSN order and syncs when a Flush
// waits (one sync for every waiter: group commit). Before a sync it waits
// (at most as long as the last sync took) until as many Flush calls have
// come since the last sync started as were waiting when it ended, so that
// the writers one sync wakes make the next one instead of the one after
// (gather, io.go); a lone writer never waits. Written and Stable are the
// ends of the written and of the durable (written and synced) prefixes.
// When a small write first reaches space of its segment that this process
// has not written, the I/O goroutine also writes zeros 256 KiB ahead
// (zeroAhead), so that the syncs of the writes that follow are data syncs
// of written space and not also journal commits of the file system's
// block allocations.
//
// # Record frame (little endian)
//
//	 0       4       8    9               17
//	+-------+-------+----+---------------+----------------+
//	| crc32c| length|kind| lsn           | body           |
//	|  u32  |  u32  | u8 | u64           | length bytes   |
//	+-------+-------+----+---------------+----------------+
//	crc32c (Castagnoli) covers bytes 4 .. 17+length (everything after it).
//
// Kind 0 is invalid (so zeroed space never decodes); 1..239 are the caller's;
// 251 blob pointer, 252 batch end, 253 batch start, 254 canceled (a zeroed
// body of the reserved size), 255 segment end (empty body). A record never
// ends later than SegmentSize-17 into its segment, so the segment-end record
// always fits; after it the rest of the segment is zero padding and the next
// record is at the start of the next segment.
//
// # Blobs
//
// A record whose frame would exceed BufferSizeBytes/2 goes out of line: its
// body is written to the file blob-%016x (the LSN of its pointer record),
//
//	+-------+-----------+----+-----------+-------------+
//	| crc32c| lsn u64   |kind| length u64| body        |
//	+-------+-----------+----+-----------+-------------+
//	crc32c covers bytes 4 .. end; 21-byte header.
//
// and the log holds a 13-byte KindBlob record: kind u8 | length u64 | the blob
// file's crc32c u32. Read and replay return the real kind and body. The body
// limit of one record is 1 GiB (MaxBodySize).
//
// # Recovery
//
// Open scans from replayFrom, validating every record (checksum, kind,
// length, LSN equal to its position, not crossing the segment limit). A
// segment-end record moves the scan to the next segment. The valid end is the
// first position without a valid record, or the start of a missing segment.
// It is then moved back to the start of a batch left open (a batch start with
// no batch end before it): an incomplete batch is dropped as a whole.
//
// The rule for damage that is not a torn tail: if any segment file after the
// one holding the invalid position has a valid record at its start, Open
// fails with an error wrapping ErrCorrupt. By L7 no byte of segment s+1 is
// written before segment s is synced complete with its segment-end record,
// so a crash can never leave that state; only media corruption (or a lost
// file) can. Damage inside the last segment cannot be told apart from a torn
// write and truncates the log there; blobs and records that replay must read
// (a missing or damaged blob of a valid pointer) also give ErrCorrupt.
//
// After replay, Open cleans the tail (L11) and appends continue at the end.
//
// # Invariants
//
// Cited as L1..L12 at the sites that keep them.
//
//	L1. LSNs are handed out in increasing order without overlap. A buffer
//	    covers [base, base+offset) of one segment only; the next buffer starts
//	    where it ends, or at the next segment when it ends with a
//	    segment-end record.
//	L2. A writer joins a buffer only by a CAS of its header word from an
//	    unsealed value that raises the offset by the record's size and the
//	    writer count by one; reservations never overlap and never pass the
//	    buffer's capacity.
//	L3. The sealed bit is set by exactly one CAS per buffer and never
//	    cleared; after it the offset is final. The sealing CAS also counts the
//	    sealer as a writer (so the buffer is not handed off before its
//	    segment-end record is in), and the sealer alone installs the next
//	    buffer. Buffer structs are never reused, so a stale pointer cannot
//	    reserve in a later generation (no ABA).
//	L4. A sealed buffer is handed to the I/O goroutine exactly once, by the
//	    goroutine whose leaving decrement makes the writer count zero.
//	L5. The I/O goroutine writes buffers strictly in generation (= LSN)
//	    order, and Written advances over a buffer only after its write
//	    returned without error.
//	L6. Stable is set only to a value of Written read before a successful
//	    sync of the only file with unsynced data; Stable <= Written.
//	L7. A segment (its segment-end record included) is synced before the
//	    first byte of the next segment is written, and a segment file is
//	    created full-size, synced, and its directory entry synced before it
//	    is written. Hence a valid record at the start of segment s+1 proves
//	    segment s was complete and durable.
//	L8. A blob file is written and synced, and its directory synced, before
//	    its pointer record is copied into a buffer.
//	L9. At most Buffers buffers exist; the buffer of generation g reuses the
//	    memory of generation g-Buffers only after that one was written.
//	    Reservers wait while the ring is full; the I/O goroutine never waits
//	    for a slot (trySeal only seals when the next slot is free), so the
//	    wait always ends.
//	L10. After the first failed write or sync, Written and Stable never
//	    advance again and every writing method returns an error wrapping the
//	    cause (the sticky error, Err).
//	L11. Before any append, Open removes the segment files after the valid
//	    end and the blobs at or after it (and syncs the directory), then
//	    zeroes the tail segment after the end and syncs it, in that order: a
//	    crash cannot resurrect stale records, nor leave a valid later segment
//	    behind a zeroed tail.
//	L12. Replay never delivers part of a batch: the valid end is moved back
//	    to an unmatched batch start.
//
// # Caveats
//
// A reservation must be completed or aborted promptly, and never by a
// goroutine that first waits on the log (Flush, Read of a later record):
// its buffer, and every Flush behind it, waits for it. The body given to
// replay is valid only during the call; Read returns a fresh slice. Batches
// must not nest, and only the batch's records may be appended between
// BeginBatch and EndBatch. Records are durable only once Flush returns (or
// Stable passes them); in a batch, once the batch end is durable.
package log
