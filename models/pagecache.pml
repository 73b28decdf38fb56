/*
 * pagecache.pml -- SPIN model of sled's page-state transitions racing on one
 * page: update, eviction, page-in by gathering fragments, free/tombstone,
 * allocation, relocation and the snapshot scan.
 *
 * Go code modeled:
 *   internal/pagecache/transition.go  apply (P8, P10..P13), swap
 *   internal/pagecache/pagecache.go   Load (page-in, materialize), Update
 *                                     (with Alloc / Freed extras), Release
 *   internal/pagecache/evict.go       evictSome (P6)
 *   internal/pagecache/recovery.go    SnapshotPages (settled, P13), Replay (P9)
 *   internal/pagecache/clean.go       Relocate (C1)
 *   internal/log/log.go               CompletePrefix (the snapshot's start)
 * Invariants cited as in internal/pagecache/doc.go: P1, P4, P5, P6, P7, P8,
 * P9, P10, P11, P12, P13 (and C1).
 *
 * What is modeled
 *   - Two pages: P (page 0, the page updated: a parent or a leaf) and V
 *     (page 1: the page a structure change allocates or frees).
 *   - Page states are immutable *Page values (typedef St): freed, resident
 *     (Node != nil), Locs (<= FPI LSNs), Frags, freeLSN, and an identity
 *     `ver` standing for the pointer (a fresh one per new *Page, per page;
 *     a rollback reinstalls the old *Page, so its old identity). Every CAS
 *     compares identities (no ABA: Go's GC). The prior mark (P13) is the
 *     pair (mk = identity of the marked state of V, pr = its prior state);
 *     only V's states are ever marked. The node's content is a bit set
 *     (val): each update ORs in its own bit, so a lost update is a missing
 *     bit; val is kept as a ghost on non-resident states so that a page-in
 *     can be checked against it.
 *   - The log: records 1..hwm with a status (RES(erved), DONE, CANC(eled))
 *     and, per page, one section (IMG with a value, DELTA with a bit, FREE).
 *     Records are written in LSN order once settled (L5): `written` is the
 *     written prefix (a proctype LogIO). Record 1 holds the initial images.
 *   - apply: reserve (LSN = ++hwm), CAS the rollback-able change (the Alloc
 *     or the Freed extra) marked with its prior state, then the decisive CAS
 *     on P; on a loss roll back in reverse and abort (CANC); on success clear
 *     the mark, then complete (DONE). Each step of the Go code that is a
 *     separate atomic operation is a separate transition.
 *   - Scenario SCEN_FREE (default): W0 is a merge's unlink, Update(P, image,
 *     Freed(V)), retried until it succeeds; Reloc is the cleaner's Relocate(V)
 *     (Load V, Update(V, image)); W1 makes NU1 leaf updates of P (deltas, and
 *     an image every FPI-th: P4).
 *     Scenario SCEN_ALLOC: V is reserved and initialized (Allocate + Init);
 *     W0 is a split, Update(P, image, Alloc(V)), one attempt, and on a loss
 *     Release(V) (an unlogged transition to a tombstone); W1 as above.
 *   - W1 runs when NU1 > 0. Evictor: up to NEV evictions of either page
 *     (-DEVP=x: only page x), each as in evictSome:
 *     load Written() first, then the state, skip it unless resident, logged,
 *     unmarked and wholly written, then CAS to a non-resident copy (P6).
 *   - Every Load (by W0, W1, Reloc, and NLD extra Loads by a Loader,
 *     -DLDP=x for page x only) pages in as Load does: materialize from the
 *     log, then CAS to a resident copy over the exact state read (P6).
 *   - Defaults: SCEN_FREE, NU1 = 1, NEV = 1, NLD = 0; verify.sh runs the
 *     configurations listed in README.md (the full default is too large).
 *   - Snap: one SnapshotPages: start = CompletePrefix (the largest LSN below
 *     which every record is settled), then one atomic load per page, each
 *     reported as settled() (the prior state while marked, P13).
 *   - init: once all is done and written, recovers twice -- from the
 *     snapshot + the log above its start, and from nothing + the whole log --
 *     with Replay's idempotence rule (P9), and compares with memory.
 *
 * Abstractions: one record per transition of at most two sections; the log's
 * buffers, sealing and segments are not modeled (reserve.pml does that);
 * CompletePrefix returns the largest admissible value (the worst case for a
 * snapshot); Load of a resident page and reads of a page's raw state are one
 * atomic load; epochs and id reuse are in cleaner.pml; the CLOCK reference
 * counts are abstracted by nondeterminism (any page may be chosen).
 *
 * Properties (assertions; all runs also report invalid end states):
 *   A1 (P8)  every forward CAS (a transition's, not a rollback or P6 change)
 *            replaces a state stamped below the record it installs: per page,
 *            log order is CAS order.
 *   A2 (P12) a rollback never loses its CAS.
 *   A3 (P6)  a page-in reads only records that are complete and written, and
 *            rebuilds exactly the content of the state it replaces (an
 *            evicted page reloads to its latest state).
 *   A4       no update lost: at the end P's content has the bit of every
 *            update whose decisive CAS succeeded, and of no other.
 *   A5 (P7, P9, P10, P13) recovery from the snapshot, and from the whole log,
 *            gives every page its in-memory final state (allocated or free,
 *            the same locations, the same content), and names no canceled or
 *            missing record.
 *   A6 (P5)  a freed page is never freed again; a tombstone is never changed
 *            except by its own rollback.
 *
 * Seeded bugs (each must make verification FAIL):
 *   -DBUG_ALLOC_NO_PRIOR      the old ordering of an allocation: the
 *                             published state of V is stored before the
 *                             decisive CAS without a prior mark, so a
 *                             snapshot may record an allocation whose record
 *                             is then canceled (SCEN_ALLOC)
 *   -DBUG_FREE_AFTER_DECISIVE the old ordering of a free: V is tombstoned
 *                             (a store) after the decisive CAS, so a cleaner
 *                             relocation of V can land between (SCEN_FREE)
 *   -DBUG_EVICT_UNWRITTEN     evictSome does not check that every fragment is
 *                             written (lastLoc < Written())
 *   -DBUG_EVICT_STORE         eviction stores the non-resident state instead
 *                             of CASing it over the state it judged
 */

#if !defined(SCEN_ALLOC)
#define SCEN_FREE
#endif
#ifndef NU1
#define NU1 1      /* updates of P by W1 */
#endif
#ifndef NEV
#define NEV 1      /* evictions */
#endif
#ifndef NLD
#define NLD 0      /* extra Loads (page-ins) by the Loader */
#endif
#define FPI  3     /* FragmentsPerImage: at most FPI-1 deltas after an image */
#define NP   2     /* pages */
#define PG_P 0
#define PG_V 1
#define MAXL 16    /* LSNs 1..MAXL-1 */

#define RES  1
#define DONE 2
#define CANC 3
#define S_NONE  0
#define S_IMG   1
#define S_DELTA 2
#define S_FREE  3
#define X_NONE  0
#define X_ALLOC 1
#define X_FREE  2

/* an immutable *Page; ver is its identity (the pointer) */
typedef St {
	bit  fr;        /* freed (a tombstone) */
	bit  rs;        /* resident: Node != nil */
	byte ver;       /* identity: every new *Page gets a fresh ver */
	byte val;       /* content (ghost when not resident) */
	byte n;         /* len(Locs) */
	byte frg;       /* Frags */
	byte fl;        /* freeLSN */
	byte loc[FPI]   /* Locs */
}

St   pg[NP];        /* the page table: the current state of each page */
byte nver[NP];      /* last identity handed out, per page */
byte mk;            /* ver of the state of V that carries a prior mark (P13) */
St   pr;            /* that mark: the prior state */

/* ---- the log ----------------------------------------------------------- */
byte recSt[MAXL];
byte sec[MAXL * NP];    /* section kind of page x in record l */
byte secV[MAXL * NP];   /* its image value or delta bit */
byte hwm;               /* last LSN reserved */
byte written;           /* records 1..written are written (L5) */

byte want;              /* ghost: bits of P's successful updates (A4) */
byte ndone;             /* processes finished */
byte nrun;              /* processes started (but LogIO) */

/* ---- the snapshot ------------------------------------------------------ */
bit  snapTaken;
byte snapFrom;          /* replay records with LSN > snapFrom */
St   sn[NP];            /* the settled state reported for each page */

#define stampOf(a) (a.fr -> a.fl : (a.n > 0 -> a.loc[a.n - 1] : 0))

inline cp(a, b) {
	a.fr = b.fr; a.rs = b.rs; a.ver = b.ver; a.val = b.val; a.n = b.n;
	a.frg = b.frg; a.fl = b.fl; a.loc[0] = b.loc[0]; a.loc[1] = b.loc[1];
	a.loc[2] = b.loc[2]
}
inline clr(a) {
	a.fr = 0; a.rs = 0; a.ver = 0; a.val = 0; a.n = 0; a.frg = 0; a.fl = 0;
	a.loc[0] = 0; a.loc[1] = 0; a.loc[2] = 0
}
/* install a fresh *Page on page x: a copy of b with a new identity */
inline installCopy(x, b) { cp(pg[x], b); nver[x]++; pg[x].ver = nver[x] }
inline installTomb(x, lsn) { clr(pg[x]); pg[x].fr = 1; pg[x].fl = lsn; nver[x]++; pg[x].ver = nver[x] }

/* A1 (P8) and A6 (P5): a forward change of page x to a state stamped lsn */
inline checkForward(x, lsn, nfree) {
	assert(stampOf(pg[x]) < lsn);
	assert(!(nfree && pg[x].fr))
}

/* ---- Load(x): page-in by gathering fragments (P6) ---------------------- */
/* leaves the state read in s; s is resident unless freed / unpublished   */
inline load(x, s) {
	do
	:: true -> d_step { cp(s, pg[x]); ok = s.fr || s.rs || s.n == 0 };
		if
		:: ok -> break
		:: else
		fi;
		/* materialize: read the image and the deltas; the records are
		   immutable once complete, so the reads are one step */
		d_step {
			i = 0; v = 0;
			do
			:: i < s.n ->
				l = s.loc[i];
				assert(recSt[l] == DONE && l <= written);        /* A3 */
				if
				:: i == 0 -> assert(sec[l * NP + x] == S_IMG); v = secV[l * NP + x]
				:: else   -> assert(sec[l * NP + x] == S_DELTA); v = v | secV[l * NP + x]
				fi;
				i++
			:: else -> break
			od;
			assert(v == s.val);      /* A3: it reloads to its latest state */
			i = 0; l = 0; v = 0
		};
		d_step {
			if
			:: pg[x].ver == s.ver -> s.rs = 1; installCopy(x, s); s.ver = nver[x]; ok = 1
			:: else -> ok = 0
			fi
		};
		if
		:: ok -> break
		:: else
		fi
	od;
	ok = 0
}

/* ---- apply: one transition (P11). Decisive change: page x from state s
 *      (resident), an image (img) or a delta, OR-ing in bit b. Extra change
 *      xk on page V from state e. Sets ok. ------------------------------ */
inline apply(x, s, img, b, xk, e) {
	/* reserve the record (P8) */
	d_step {
		hwm++; assert(hwm < MAXL); lsn = hwm; recSt[lsn] = RES;
		sec[lsn * NP + x] = (img -> S_IMG : S_DELTA);
		secV[lsn * NP + x] = (img -> (s.val | b) : b);
		if
		:: xk == X_ALLOC -> sec[lsn * NP + PG_V] = S_IMG; secV[lsn * NP + PG_V] = e.val
		:: xk == X_FREE  -> sec[lsn * NP + PG_V] = S_FREE
		:: else
		fi
	};
	ok = 1; staged = 0;
	/* the rollback-able change, marked with its prior state (P12, P13) */
	if
	:: xk == X_ALLOC ->
		d_step {
			if
			:: pg[PG_V].ver == e.ver ->
				checkForward(PG_V, lsn, 0);
				installCopy(PG_V, e); pg[PG_V].loc[0] = lsn; pg[PG_V].n = 1; pg[PG_V].frg = 0;
#ifndef BUG_ALLOC_NO_PRIOR
				mk = nver[PG_V]; cp(pr, e);
#endif
				staged = nver[PG_V]
			:: else -> ok = 0
			fi
		}
#ifndef BUG_FREE_AFTER_DECISIVE
	:: xk == X_FREE ->
		d_step {
			if
			:: pg[PG_V].ver == e.ver ->
				checkForward(PG_V, lsn, 1);
				installTomb(PG_V, lsn); mk = nver[PG_V]; cp(pr, e);
				staged = nver[PG_V]
			:: else -> ok = 0
			fi
		}
#endif
	:: else
	fi;
	if
	:: !ok -> d_step { recSt[lsn] = CANC }           /* abort(0) */
	:: else ->
		/* the decisive CAS (P1) */
		d_step {
			if
			:: pg[x].ver == s.ver ->
				checkForward(x, lsn, 0);
				if
				:: img -> s.loc[0] = lsn; s.loc[1] = 0; s.loc[2] = 0; s.n = 1; s.frg = 0
				:: else -> assert(s.n < FPI); s.loc[s.n] = lsn; s.n++; s.frg++
				fi;
				s.val = s.val | b; s.rs = 1;
				installCopy(x, s);
				if :: x == PG_P -> want = want | b :: else fi
			:: else -> ok = 0
			fi
		};
		if
		:: !ok ->
			/* roll back in reverse (P12), then abort (P10) */
			if
			:: staged != 0 ->
				d_step { assert(pg[PG_V].ver == staged); cp(pg[PG_V], e); mk = 0; clr(pr) }  /* A2 */
			:: else
			fi;
			d_step { recSt[lsn] = CANC }
		:: else ->
#ifdef BUG_FREE_AFTER_DECISIVE
			if
			:: xk == X_FREE ->   /* the old ordering: tombstone after the CAS */
				d_step { checkForward(PG_V, lsn, 1); installTomb(PG_V, lsn) }
			:: else
			fi;
#endif
			/* decided: clear the marks, then complete the record */
			if
			:: staged != 0 && mk == staged -> d_step { mk = 0; clr(pr) }
			:: else
			fi;
			d_step { recSt[lsn] = DONE }
		fi
	fi;
	d_step { staged = 0; lsn = 0 }
}

proctype W0() {
	St s, e;
	byte lsn, staged, i, l, v;
	bit ok;
#ifdef SCEN_FREE
	/* merge step 4: unlink (the decisive change of the parent P), free V */
	do
	:: load(PG_P, s);
		d_step {
			cp(e, pg[PG_V]);         /* fs.p.Load() in Update */
			assert(!e.fr && !(mk != 0 && mk == e.ver))   /* only W0 frees V */
		};
		apply(PG_P, s, 1, 1, X_FREE, e);
		if
		:: ok -> break
		:: else -> d_step { clr(s); clr(e) }   /* lost: read again, retry */
		fi
	od;
#else
	/* split: publish V in the same record as P's new image (P7) */
	load(PG_P, s);
	d_step { cp(e, pg[PG_V]); assert(!e.fr && e.rs && e.n == 0) };
	apply(PG_P, s, 1, 1, X_ALLOC, e);
	if
	:: !ok ->
		/* Release(V): never published; an unlogged transition */
		d_step { assert(pg[PG_V].ver == e.ver); installTomb(PG_V, 0) }
	:: else
	fi;
#endif
	atomic { clr(s); clr(e); ndone++ }
}

proctype W1() {
	St s, e;
	byte lsn, staged, i, l, v, k;
	bit ok;
	do
	:: k < NU1 ->
		load(PG_P, s);
		/* P4: the FPI-th fragment is an image instead */
		apply(PG_P, s, (s.frg + 1 >= FPI), (k == 0 -> 2 : 4), X_NONE, e);
		if
		:: ok -> k++
		:: else
		fi;
		d_step { clr(s) }
	:: else -> break
	od;
	ndone++
}

#ifdef SCEN_FREE
/* the cleaner's Relocate(V) (C1): an ordinary transition with an image */
proctype Reloc() {
	St s, e;
	byte lsn, staged, i, l, v;
	bit ok;
	do
	:: load(PG_V, s);
		if
		:: s.fr -> break            /* freed meanwhile: nothing to do */
		:: else
		fi;
		apply(PG_V, s, 1, 0, X_NONE, e);
		if
		:: ok -> break
		:: else -> d_step { clr(s) }
		fi
	od;
	atomic { clr(s); ndone++ }
}
#endif

proctype Evictor() {
	St s;
	byte x, w, k;
	bit ok;
	do
	:: k < NEV ->
		w = written;                 /* written := c.log.Written() */
#ifdef EVP
		x = EVP;
#else
		if :: x = PG_P :: x = PG_V fi;
#endif
		d_step {
			cp(s, pg[x]);
			if
			:: s.fr || !s.rs || s.n == 0 || (x == PG_V && mk != 0 && mk == s.ver) -> ok = 0
#ifndef BUG_EVICT_UNWRITTEN
			:: s.loc[s.n - 1] > w -> ok = 0   /* a fragment is not written yet */
#endif
			:: else -> ok = 1
			fi
		};
		if
		:: ok ->
			d_step {
#ifndef BUG_EVICT_STORE
				if
				:: pg[x].ver == s.ver ->
#endif
					s.rs = 0; installCopy(x, s)
#ifndef BUG_EVICT_STORE
				:: else
				fi
#endif
			}
		:: else
		fi;
		d_step { k++; clr(s); x = 0; w = 0; ok = 0 }
	:: else -> break
	od;
	ndone++
}

proctype Loader() {
	St s;
	byte x, i, l, v, k;
	bit ok;
	do
	:: k < NLD ->
#ifdef LDP
		x = LDP;
#else
		if :: x = PG_P :: x = PG_V fi;
#endif
		load(x, s);
		d_step { k++; clr(s); x = 0 }
	:: else -> break
	od;
	ndone++
}

/* SnapshotPages from CompletePrefix */
proctype Snap() {
	byte x, i;
	d_step {
		i = written;
		do
		:: i < hwm && recSt[i + 1] != RES -> i++
		:: else -> break
		od;
		snapFrom = i; i = 0
	};
	x = 0;
	do
	:: x < NP ->
		d_step {
			if
			:: x == PG_V && mk != 0 && mk == pg[x].ver -> cp(sn[x], pr)   /* settled() */
			:: else -> cp(sn[x], pg[x])
			fi;
			sn[x].ver = 0; sn[x].rs = 0; sn[x].val = 0; sn[x].frg = 0;
			x++
		}
	:: else -> break
	od;
	snapTaken = 1;
	ndone++
}

proctype LogIO() {
end:
	do
	:: d_step { written < hwm && recSt[written + 1] != RES -> written++ }
	od
}

/* recover page x from r (a snapshot entry) + the complete records above
 * from, with Replay's rule (P9), and compare with memory (A5) */
St r;
inline recoverAndCheck(x, from) {
	if :: r.n == 0 -> r.fr = 1 :: else fi;        /* reported as free */
	l = from + 1;
	do
	:: l <= hwm ->
		if
		:: recSt[l] == DONE && sec[l * NP + x] != S_NONE ->
			if
			:: (!r.fr && r.loc[r.n - 1] >= l) || (r.fr && r.fl >= l) -> skip  /* P9: reflected */
			:: else ->
			if
			:: sec[l * NP + x] == S_IMG -> r.fr = 0; r.n = 1; r.loc[0] = l
			:: sec[l * NP + x] == S_DELTA ->
				assert(!r.fr && r.n < FPI); r.loc[r.n] = l; r.n++
			:: sec[l * NP + x] == S_FREE -> r.fr = 1; r.fl = l
			fi
			fi
		:: else
		fi;
		l++
	:: else -> break
	od;
	assert(mk == 0);
	if
	:: pg[x].fr || pg[x].n == 0 -> assert(r.fr)
	:: else ->
		assert(!r.fr && r.n == pg[x].n);
		i = 0; v = 0;
		do
		:: i < r.n ->
			assert(r.loc[i] == pg[x].loc[i]);
			assert(recSt[r.loc[i]] == DONE);
			v = (i == 0 -> secV[r.loc[i] * NP + x] : v | secV[r.loc[i] * NP + x]);
			i++
		:: else -> break
		od;
		assert(v == pg[x].val)
	fi
}

init {
	byte x, i, l, v;
	d_step {
		/* record 1: the initial image of P (and of V, SCEN_FREE) */
		hwm = 1; written = 1; recSt[1] = DONE;
		sec[1 * NP + PG_P] = S_IMG; secV[1 * NP + PG_P] = 0;
		pg[PG_P].rs = 1; pg[PG_P].loc[0] = 1; pg[PG_P].n = 1; pg[PG_P].ver = 1;
		pg[PG_V].rs = 1; pg[PG_V].val = 8; pg[PG_V].ver = 1; nver[PG_P] = 1; nver[PG_V] = 1;
#ifdef SCEN_FREE
		sec[1 * NP + PG_V] = S_IMG; secV[1 * NP + PG_V] = 8;
		pg[PG_V].loc[0] = 1; pg[PG_V].n = 1
#endif
	};
	atomic {
		run LogIO(); run W0(); nrun = 1;
		if :: NU1 > 0 -> run W1(); nrun++ :: else fi;
		if :: NEV > 0 -> run Evictor(); nrun++ :: else fi;
		if :: NLD > 0 -> run Loader(); nrun++ :: else fi;
		run Snap(); nrun++
#if defined(SCEN_FREE) && !defined(NORELOC)
		; run Reloc(); nrun++
#endif
	};
	(ndone == nrun);
	(written == hwm);
	d_step {
		/* A4: no update lost (P's content is exactly the successful bits) */
		assert(pg[PG_P].val == want);
		assert(NU1 < 1 || (want & 2));     /* W1's updates went in */
		assert(NU1 < 2 || (want & 4));
#ifdef SCEN_FREE
		assert((want & 1) && pg[PG_V].fr); /* the merge completed */
#endif
		/* A5: recovery from the snapshot */
		assert(snapTaken);
		x = 0;
		do
		:: x < NP ->
			cp(r, sn[x]);
			i = 0;
			do
			:: !r.fr && i < r.n -> assert(recSt[r.loc[i]] == DONE); i++  /* no canceled record named */
			:: else -> break
			od;
			recoverAndCheck(x, snapFrom);
			x++
		:: else -> break
		od;
		/* A5: recovery from nothing (the whole log) */
		x = 0;
		do
		:: x < NP -> clr(r); recoverAndCheck(x, 0); x++
		:: else -> break
		od
	}
}
