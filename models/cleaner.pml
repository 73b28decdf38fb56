/*
 * cleaner.pml -- SPIN model of sled's log cleaner (segment GC) and epochs:
 * relocation of live pages, the durable snapshot, waiting for readers, and
 * segment removal, racing with a writer, a merge that frees the page (and
 * may roll back), a reader, and a crash at any step.
 *
 * Go code modeled:
 *   clean.go                          cleanRound: PagesIn, Relocate each,
 *                                     writeSnapshot, WaitReaders, Named +
 *                                     snapshot check (C2), RemoveSegment
 *   snapshot.go                       writeSnapshot: CompletePrefix as the
 *                                     replay start, scan (SnapshotPages),
 *                                     wait for in-flight reservations, Flush,
 *                                     write the file (atomic rename)
 *   internal/pagecache/clean.go       Relocate (C1), Named, PagesIn,
 *                                     WaitReaders
 *   internal/pagecache/epoch.go       pin (with its re-check), Unpin,
 *                                     tryAdvance
 *   internal/pagecache/transition.go  apply: the staged, marked free and its
 *                                     rollback (P12, P13)
 *   internal/pagecache/recovery.go    SnapshotPages (settled), Replay (P9)
 *   internal/log/segments.go          RemoveSegment
 *   open.go                           recovery: newest snapshot + replay of
 *                                     the durable log above its LSN
 * Invariants cited: C1, C2, P3 (epochs), P8, P9, P12, P13 of
 * internal/pagecache/doc.go.
 *
 * What is modeled
 *   - One data page X whose first fragment (record 1, its image) is in
 *     segment 0, the victim; every later record is in segment 1 (the
 *     segment being written). seg(l) = (l == 1 -> 0 : 1).
 *   - X's state: freed, Locs (<= 2), an identity (ver, for CAS), and the
 *     prior mark of P13 (mk, pr). Records 1..hwm with status RES / DONE /
 *     CANC and X's section (IMG, DELTA or FREE). `stable` is the durable
 *     prefix (Flush), removed[] the removed segment files.
 *   - Writer: one pinned update of X (a delta), reserve / CAS / complete,
 *     retried on a lost CAS, nothing if X is freed.
 *   - Merger: the unlink of a merge that frees X: reserve, stage the
 *     tombstone marked with its prior state, then the decisive CAS on the
 *     parent -- whose outcome is a nondeterministic choice (the parent is not
 *     modeled: a racing writer of the parent may win) -- then clear the mark
 *     and complete, or roll back and abort.
 *   - Reader: pinned (epochs), loads X's state and reads each fragment it
 *     names (a page-in) in a later step, then unpins; NRD times.
 *   - Cleaner: one cleanRound with victim {0}: PagesIn, Relocate (pinned,
 *     Load; skip if freed or no longer in the victim; image at the tail;
 *     retry on a lost CAS), writeSnapshot (CompletePrefix, scan of settled
 *     state, tail, wait for the prefix to reach tail, Flush, write the file
 *     in one atomic step: rename), WaitReaders (two epoch advances through
 *     tryAdvance), Named (current + prior state) and the snapshot's pages,
 *     then RemoveSegment(0) if nothing names it.
 *   - Crash: a monitor that, at any moment, atomically recovers from the
 *     newest durable snapshot and the durable records above it (Replay's
 *     rule P9, canceled records skipped) and checks the result.
 *   - Epochs exactly as epoch.go: three slots of pin counts (one shard),
 *     global epoch, pin with re-check, tryAdvance (check the previous slot,
 *     then CAS global).
 *
 * Abstractions: one page and two segments; a segment number is derived
 * from the LSN, so a removed segment is never reused (a new record never
 * lands in it); reads of records not yet written come from memory and are
 * always possible; the log's buffers and I/O are not modeled (reserve.pml);
 * the epoch shards are one counter per slot (the shards are only summed).
 *
 * Properties (assertions):
 *   K1 (C2, epochs) no reader reads a fragment in a removed segment.
 *   K2 (C2) no live page is left only in a removed segment: at the end, if
 *      X is allocated, no fragment it names is removed.
 *   K3 (C2, P9, P13) recovery after a crash at any step finds every page:
 *      the newest durable snapshot plus the durable log above its start
 *      give X a state all of whose fragments are durable, complete and in
 *      segments that exist.
 *   K4 (P8) per page, log order is CAS order (every forward CAS replaces a
 *      state stamped below its record); a rollback never loses (P12).
 * The Writer and the Merger together make the state space large (> 3*10^7
 * states); verify.sh runs -DNOWRITER and -DNOMERGER (each with -DNRD=2).
 *
 * Seeded bugs (each must make verification FAIL):
 *   -DBUG_NO_WAIT_READERS       the victim is removed without WaitReaders:
 *                               a reader pinned before still reads it
 *   -DBUG_REMOVE_BEFORE_SNAPSHOT the victim is removed before the new
 *                               snapshot is durable: a crash then recovers
 *                               from the old snapshot, which names it
 *   -DBUG_NO_NAMED              the Named and snapshot checks are skipped:
 *                               a page whose staged free Relocate skipped and
 *                               which then rolled back lives only in the
 *                               removed segment
 *   -DBUG_FREE_AFTER_DECISIVE   the old ordering of a free: tombstone X after
 *                               the decisive CAS, so the cleaner's
 *                               relocation can land after the free
 */

#ifndef NRD
#define NRD 1        /* reader operations */
#endif
#define MAXL 10
#define RES  1
#define DONE 2
#define CANC 3
#define S_IMG   1
#define S_DELTA 2
#define S_FREE  3
#define NL   2       /* Locs of X: image + one delta */
#define seg(l) ((l) == 1 -> 0 : 1)

/* X's state */
bit  xfr;            /* freed */
byte xn;             /* len(Locs) */
byte xloc[NL];
byte xfl;            /* freeLSN */
byte xver;           /* identity of the current *Page */
byte nver;
byte mk;             /* ver of the state carrying a prior mark (P13) */
byte prn;            /* the prior state (allocated): len(Locs), Locs */
byte prloc[NL];

/* the log */
byte recSt[MAXL];
byte sec[MAXL];
byte hwm;
byte stable;         /* records 1..stable are durable */
bit  removed[2];     /* segment files removed */

/* the durable snapshot file (initially: the one written after record 1) */
byte dsFrom;         /* replay records above */
bit  dsFree;
byte dsN;
byte dsLoc[NL];
byte dsFL;

/* epochs */
byte gep;            /* global epoch */
byte pins[3];        /* pin counts per slot */

byte ndone;
byte nrun;

#define stampX (xfr -> xfl : (xn > 0 -> xloc[xn - 1] : 0))
#define marked (mk != 0 && mk == xver)

inline newVer() { nver++; xver = nver }

inline pin(slot) {
	do
	:: true ->
		ge = gep;
		pins[ge % 3]++;
		if
		:: gep == ge -> slot = ge % 3; break
		:: else -> pins[ge % 3]--
		fi
	od;
	ge = 0
}
inline unpin(slot) { pins[slot]--; slot = 0 }

/* tryAdvance: the previous slot empty -> CAS global g -> g+1 */
inline tryAdvance() {
	ge = gep;
	if
	:: pins[(ge + 2) % 3] == 0 ->
		atomic { if :: gep == ge -> gep++ :: else fi }
	:: else
	fi;
	ge = 0
}

inline reserve(kind) {
	d_step { hwm++; assert(hwm < MAXL); lsn = hwm; recSt[lsn] = RES; sec[lsn] = kind }
}

/* ---- Writer: one update of X (a delta; an image when Locs is full) ---- */
proctype Writer() {
	byte ps, ge, lsn, sv, sn;
	bit ok;
	pin(ps);
	do
	:: true ->
		atomic { sv = xver; sn = xn; ok = !xfr };
		if
		:: !ok -> break                    /* freed: nothing to update */
		:: else
		fi;
		reserve((sn < NL -> S_DELTA : S_IMG));
		d_step {
			if
			:: xver == sv ->
				assert(stampX < lsn);      /* K4 (P8) */
				if
				:: sec[lsn] == S_DELTA -> xloc[xn] = lsn; xn++
				:: else -> xloc[0] = lsn; xloc[1] = 0; xn = 1
				fi;
				newVer(); ok = 1
			:: else -> ok = 0
			fi
		};
		if
		:: ok -> recSt[lsn] = DONE; break
		:: else -> recSt[lsn] = CANC
		fi
	od;
	unpin(ps);
	atomic { sv = 0; sn = 0; lsn = 0; ok = 0; ndone++ }
}

/* ---- Merger: unlink + free X, decisive CAS on the parent --------------- */
proctype Merger() {
	byte ps, ge, lsn, sv, sn, l0, l1, staged;
	bit ok;
	pin(ps);
	d_step { sv = xver; sn = xn; l0 = xloc[0]; l1 = xloc[1]; ok = !xfr && !marked };
	if
	:: ok ->
		reserve(S_FREE);
#ifndef BUG_FREE_AFTER_DECISIVE
		/* staged: the tombstone, marked with its prior state (P12, P13) */
		d_step {
			if
			:: xver == sv ->
				assert(stampX < lsn);          /* K4 (P8) */
				mk = nver + 1; prn = sn; prloc[0] = l0; prloc[1] = l1;
				xfr = 1; xfl = lsn; xn = 0; xloc[0] = 0; xloc[1] = 0; newVer();
				staged = xver
			:: else -> ok = 0
			fi
		};
#endif
		if
		:: ok ->
			/* the decisive CAS on the parent: it may lose to a writer */
			if
			:: ok = 1
			:: ok = 0
			fi;
			if
			:: ok ->
#ifdef BUG_FREE_AFTER_DECISIVE
				/* the old ordering: tombstone after the decisive CAS */
				d_step {
					assert(stampX < lsn);      /* K4 (P8) */
					xfr = 1; xfl = lsn; xn = 0; xloc[0] = 0; xloc[1] = 0; newVer()
				};
#endif
				d_step { mk = 0; prn = 0; prloc[0] = 0; prloc[1] = 0 };  /* clear */
				recSt[lsn] = DONE
			:: else ->
#ifndef BUG_FREE_AFTER_DECISIVE
				/* roll back (P12): never loses */
				d_step {
					assert(xver == staged);
					xfr = 0; xfl = 0; xn = sn; xloc[0] = l0; xloc[1] = l1; xver = sv;
					mk = 0; prn = 0; prloc[0] = 0; prloc[1] = 0
				};
#endif
				recSt[lsn] = CANC
			fi
		:: else -> recSt[lsn] = CANC
		fi
	:: else
	fi;
	unpin(ps);
	atomic { sv = 0; sn = 0; l0 = 0; l1 = 0; lsn = 0; staged = 0; ok = 0; ndone++ }
}

/* ---- Reader: pinned; load X, then read the fragments it names --------- */
proctype Reader() {
	byte ps, ge, k, sn, l0, l1;
	do
	:: k < NRD ->
		pin(ps);
		d_step { sn = (xfr -> 0 : xn); l0 = xloc[0]; l1 = xloc[1] };
		if
		:: sn > 0 -> assert(!removed[seg(l0)])      /* K1 */
		:: else
		fi;
		if
		:: sn > 1 -> assert(!removed[seg(l1)])
		:: else
		fi;
		unpin(ps);
		d_step { sn = 0; l0 = 0; l1 = 0; k++ }
	:: else -> break
	od;
	ndone++
}

/* ---- Cleaner: one cleanRound with victim segment 0 --------------------- */
proctype Cleaner() {
	byte ps, ge, lsn, sv, i, target, from, tail;
	bit inv, ok, named;
	/* snapshot being written */
	bit sFree; byte sN, sL0, sL1, sFL;

	/* PagesIn */
	d_step { inv = !xfr && ((xn > 0 && seg(xloc[0]) == 0) || (xn > 1 && seg(xloc[1]) == 0)) };
	/* Relocate(X) (C1): an ordinary transition with a full image */
	if
	:: inv ->
		pin(ps);
		do
		:: true ->
			d_step {
				sv = xver;
				ok = !xfr && ((xn > 0 && seg(xloc[0]) == 0) || (xn > 1 && seg(xloc[1]) == 0))
			};
			if
			:: !ok -> break       /* freed meanwhile, or relocated by a writer */
			:: else
			fi;
			reserve(S_IMG);
			d_step {
				if
				:: xver == sv ->
					assert(stampX < lsn);      /* K4 (P8) */
					xloc[0] = lsn; xloc[1] = 0; xn = 1; newVer(); ok = 1
				:: else -> ok = 0
				fi
			};
			if
			:: ok -> recSt[lsn] = DONE; break
			:: else -> recSt[lsn] = CANC
			fi
		od;
		unpin(ps)
	:: else
	fi;
	inv = 0;

#ifdef BUG_REMOVE_BEFORE_SNAPSHOT
	removed[0] = 1;
#endif
	/* writeSnapshot: from = CompletePrefix() */
	d_step {
		i = stable;
		do
		:: i < hwm && recSt[i + 1] != RES -> i++
		:: else -> break
		od;
		from = i; i = 0
	};
	/* the scan reports the settled state (P13) */
	d_step {
		if
		:: marked -> sFree = 0; sN = prn; sL0 = prloc[0]; sL1 = prloc[1]
		:: else -> sFree = xfr; sN = xn; sL0 = xloc[0]; sL1 = xloc[1]; sFL = xfl
		fi
	};
	tail = hwm;
	/* wait for the reservations in flight, then Flush */
	do
	:: true ->
		d_step {
			i = 0;
			do
			:: i < tail && recSt[i + 1] != RES -> i++
			:: else -> break
			od;
			ok = (i >= tail); i = 0
		};
		if
		:: ok -> break
		:: else     /* time.Sleep, then look again */
		fi
	od;
	ok = 0;
	stable = hwm;        /* Flush: everything reserved so far is durable */
	/* write the file; the rename makes it the newest snapshot */
	d_step {
		dsFrom = from; dsFree = sFree; dsN = sN; dsLoc[0] = sL0; dsLoc[1] = sL1; dsFL = sFL
	};

#ifndef BUG_NO_WAIT_READERS
	/* WaitReaders: two epoch advances */
	target = gep + 2;
	do
	:: gep >= target -> break
	:: else -> tryAdvance()
	od;
	target = 0;
#endif
	/* C2: Named (current and prior states) and the snapshot's pages */
	d_step {
		named = (!xfr && ((xn > 0 && seg(xloc[0]) == 0) || (xn > 1 && seg(xloc[1]) == 0))) ||
		        (marked && ((prn > 0 && seg(prloc[0]) == 0) || (prn > 1 && seg(prloc[1]) == 0)))
	};
	named = named || (!sFree && ((sN > 0 && seg(sL0) == 0) || (sN > 1 && seg(sL1) == 0)));
#ifdef BUG_NO_NAMED
	named = 0;
#endif
	if
	:: !named -> removed[0] = 1    /* RemoveSegment(0) */
	:: else
	fi;
	ndone++
}

/* ---- Crash: recovery at any moment must find every page (K3) ---------- */
proctype Crash() {
	byte l, rn, rl0, rl1, rfl;
	bit rfr;
	d_step {
		rfr = dsFree; rn = dsN; rl0 = dsLoc[0]; rl1 = dsLoc[1]; rfl = dsFL;
		if :: rn == 0 -> rfr = 1 :: else fi;
		l = dsFrom + 1;
		do
		:: l <= stable ->
			if
			:: recSt[l] == DONE ->
				if
				:: (!rfr && ((rn == 1 && rl0 >= l) || (rn == 2 && rl1 >= l))) || (rfr && rfl >= l) -> skip
				:: else ->
					if
					:: sec[l] == S_IMG -> rfr = 0; rn = 1; rl0 = l; rl1 = 0
					:: sec[l] == S_DELTA -> assert(!rfr && rn == 1); rn = 2; rl1 = l
					:: sec[l] == S_FREE -> rfr = 1; rfl = l; rn = 0
					fi
				fi
			:: else
			fi;
			l++
		:: else -> break
		od;
		if
		:: !rfr ->
			assert(rn > 0);
			assert(!removed[seg(rl0)] && rl0 <= stable && recSt[rl0] == DONE);
			assert(rn < 2 || (!removed[seg(rl1)] && rl1 <= stable && recSt[rl1] == DONE))
		:: else
		fi;
		l = 0; rn = 0; rl0 = 0; rl1 = 0; rfl = 0; rfr = 0
	}
}

init {
	d_step {
		/* record 1 (segment 0): X's image; durable; the snapshot names it */
		hwm = 1; stable = 1; recSt[1] = DONE; sec[1] = S_IMG;
		xn = 1; xloc[0] = 1; nver = 1; xver = 1;
		dsFrom = 1; dsN = 1; dsLoc[0] = 1
	};
	atomic {
		run Reader(); run Cleaner(); run Crash(); nrun = 2
#ifndef NOWRITER
		; run Writer(); nrun++
#endif
#ifndef NOMERGER
		; run Merger(); nrun++
#endif
	};
	(ndone == nrun);
	d_step {
		/* K2: no live page left only in a removed segment */
		assert(xfr || ((xn < 1 || !removed[seg(xloc[0])]) && (xn < 2 || !removed[seg(xloc[1])])))
	}
}
