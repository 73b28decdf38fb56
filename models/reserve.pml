/*
 * reserve.pml -- SPIN model of the lock-free reservation / seal / handoff
 * protocol of sled's write-ahead log (internal/log/reserve.go, io.go).
 * Invariants cited as in internal/log/doc.go (L1..L12).
 *
 * What is modeled
 *   - NB buffers in a ring; a buffer struct per generation g (never reused,
 *     L3: a stale pointer to g keeps seeing g's sealed header), whose memory
 *     is ring slot g % NB.
 *   - The packed 64-bit header word of each generation, as three fields
 *     off[g] | wr[g] | sealed[g]. A load of the word is one atomic step copying
 *     all three fields; each CAS is one d_step that compares all three with
 *     the loaded copy and writes all three; the leaving decrement
 *     (hdr.Add(-oneWriter)) is one d_step returning the new value.
 *   - NW writers; writer 0 makes 1..MAXR reservations, the others 1..MAXR1,
 *     each of 1..MAXS units (CAP units per buffer); each is Completed or
 *     Aborted (writer 0 aborts its first; -DANYABORT: any may be), then the
 *     writer leaves; writers 0..NFLUSH-1 may Flush at the end. The steps
 *     of the Go code that are separate (load of cur+hdr, CAS, copy, leave
 *     decrement, ready store+kick, install) are separate transitions.
 *   - The I/O goroutine (ioLoop): writeReady, trySeal of a partial buffer
 *     when a Flush waits, group-commit sync, wait on the kick channel
 *     (capacity 1, non-blocking sends).
 *   - init plays Open (generation 0 installed in slot 0) and, after every
 *     writer is done, Close (a final Flush), then checks the end state.
 *
 * Abstractions: one segment, no segment-end *record* (the sealer's work
 * between its sealing CAS and its leave -- writing the segment-end record
 * and b.segEnd -- is the ghost flag sealing[g]); no I/O errors (L10); no
 * blobs (L8); the ring mutex + condition variable are a blocking guard;
 * waitInstalled is "block until cur != b"; Tail() is one atomic step.
 *
 * Ghost state used only by assertions: unit[] (state of every unit of ring
 * memory: FREE / RES(erved) / DONE / CANC(eled)), hwm (end of the last
 * reservation, in LSN order), sealing[], iog.
 *
 * Bug variants (each must make verification FAIL):
 *   -DBUG_SEALER_NOT_COUNTED  the sealing CAS does not count the sealer as a
 *                             writer; the sealer hands the buffer off itself
 *                             if it had no writers, else the last leaver does
 *   -DBUG_LEAVE_NO_SEALED     leave hands off whenever the writer count hits
 *                             zero, without checking the sealed bit
 *   -DBUG_RING_NO_WAIT        install does not wait for the ring slot to be
 *                             written (L9)
 *   -DBUG_TRYSEAL_WAITS       trySeal seals without checking that the next
 *                             ring slot is free and then waits for it: the
 *                             I/O goroutine waits for itself (deadlock)
 */

#ifndef NW
#define NW   3      /* writer processes */
#endif
#ifndef NB
#define NB   2      /* buffers in the ring */
#endif
#ifndef CAP
#define CAP  3      /* units per buffer */
#endif
#ifndef MAXR
#define MAXR 2      /* reservations of writer 0: 1..MAXR */
#endif
#ifndef MAXR1
#define MAXR1 1     /* reservations per writer id >= 1: 1..MAXR1 */
#endif
#ifndef MAXS
#define MAXS 2      /* record sizes: 1..MAXS (<= CAP, <= 3) */
#endif
#ifndef NFLUSH
#define NFLUSH 1    /* writers 0..NFLUSH-1 may Flush at the end */
#endif
#define MAXG 8      /* generations; every sealed buffer holds >= 1 record,
                       so at most (reservations + 1) <= 7 are installed
                       (installLocked asserts the bound) */

#define FREE 0
#define RES  1
#define DONE 2
#define CANC 3

/* the header word of every generation: offset | writers | sealed */
byte off[MAXG];
byte wr[MAXG];
bit  sealed[MAXG];

byte base[MAXG];     /* LSN of data[0]; immutable after install */
bit  ready[MAXG];    /* b.ready: handed to the I/O goroutine (L4) */
bit  sealing[MAXG];  /* ghost: the sealer has not finished its writes */

byte cur;            /* l.cur: generation of the current buffer */
bit  busy[NB];       /* l.ring.busy */
bit  rl;             /* l.ring mutex, held by trySeal across steps */
bit  kick;           /* l.kick, chan struct{} of capacity 1 */

byte iog;            /* l.io.gen: next generation to write (L5) */
byte written;        /* l.written */
byte stable;         /* l.stable */
byte wanted;         /* l.wanted */

byte unit[NB * CAP]; /* ghost: state of every unit of ring memory */
byte hwm;            /* ghost: end LSN of the latest reservation */
byte ndone;          /* writers finished */

/* ---- installLocked: make generation ng, at LSN nbase, current ----------- */
inline installLocked(ng, nbase) {
		ig = (ng);
		assert(ig < MAXG);
		assert(ig == cur + 1);             /* L3: only the sealer of cur installs */
		assert(!busy[ig % NB]);            /* L9: the slot is free ... */
		assert(ig < NB || iog > ig - NB);  /* ... because gen ig-NB was written */
		assert((nbase) == hwm);            /* L1: next buffer starts where cur ends */
		busy[ig % NB] = 1;
		base[ig] = (nbase);
		cur = ig;
		ig = 0
}

/* ---- leave: hdr.Add(-oneWriter); the last leaver of a sealed buffer hands
 *      it off (L4) ---------------------------------------------------------*/
inline leave(lg) {
	d_step {
		assert(wr[lg] > 0);
		wr[lg]--;
#ifdef BUG_LEAVE_NO_SEALED
		hl = (wr[lg] == 0)
#else
		hl = (sealed[lg] && wr[lg] == 0)
#endif
	};
	if
	:: hl ->
		/* b.ready.Store(true); then the non-blocking send on l.kick */
		d_step { assert(!ready[lg]); ready[lg] = 1; hl = 0; kick = 1 }
	:: else
	fi
}

/* ---- the sealing CAS: CAS(h, (h|sealedBit)+oneWriter) ----------------- */
inline sealCAS(sg, sl) {
	d_step {
		if
		:: off[sg] == ho && wr[sg] == hw && sealed[sg] == hs ->
			sealed[sg] = 1;
			sealing[sg] = sl;
#ifdef BUG_SEALER_NOT_COUNTED
			sh = (wr[sg] == 0);
#else
			wr[sg]++;
#endif
			ok = 1
		:: else -> ok = 0
		fi
	}
}

/* ---- sealer's hand-off in the buggy variant (it did not join) ---------- */
inline sealerDone(sg) {
#ifdef BUG_SEALER_NOT_COUNTED
	if
	:: sh -> d_step { assert(!ready[sg]); ready[sg] = 1; sh = 0; kick = 1 }
	:: else
	fi
#else
	leave(sg)
#endif
}

/* ---- writeReady: write every handed-off buffer, in order (L5) ---------- */
inline writeReady() {
	do
	:: iog < MAXG && ready[iog] ->
		d_step {                         /* the write reads data[:off] */
			assert(sealed[iog]);         /* L3: offset is final */
			assert(wr[iog] == 0);        /* L4: nobody is still in it */
			assert(!sealing[iog]);       /* the sealer's writes are in */
			assert(base[iog] == written);/* L5: in LSN order, no gap */
			i = 0;
			do
			:: i < off[iog] ->
				assert(unit[(iog % NB) * CAP + i] == DONE ||
				       unit[(iog % NB) * CAP + i] == CANC);
				unit[(iog % NB) * CAP + i] = FREE;
				i++
			:: i >= off[iog] && i < CAP ->
				assert(unit[(iog % NB) * CAP + i] == FREE);
				i++
			:: else -> break
			od;
			i = 0;
			e = base[iog] + off[iog]
		};
		d_step { busy[iog % NB] = 0; iog++ };   /* L9: slot may be reused */
		d_step { written = e; e = 0 }           /* L5: after the write */
	:: else -> break
	od
}

/* ---- Tail(): max(cur.base + cur.offset, written) ---------------------- */
inline tail(t) {
	d_step {
		t = base[cur] + off[cur];
		if :: written > t -> t = written :: else fi
	}
}

/* ---- Flush (waitStable) ---------------------------------------------- */
inline flush(t) {
	tail(t);
	if
	:: stable >= t
	:: else ->
		d_step { if :: wanted < t -> wanted = t :: else fi };  /* maxStore */
		kick = 1;
		(stable >= t)                    /* stableCond.Wait loop */
	fi
}

proctype Writer(byte id) {
	byte g, ho, hw, n, k, i, t, myend, ig;
	bit hs, ok, hl, sh, ab;

	do
	:: (id == 0 && k < MAXR) || (id > 0 && k < MAXR1) ->
		atomic {
			if :: n = 1 :: n = 2 :: n = 3 fi;
			if :: n > MAXS -> n = 1 :: else fi;
#ifdef ANYABORT
			if :: ab = 0 :: ab = 1 fi  /* any reservation may be aborted */
#else
			ab = (id == 0 && k == 0)   /* writer 0 aborts its first one */
#endif
		};
retry:
		/* b := l.cur.Load(); h := b.hdr.Load() -- merged into one step: the
		   header of b can be seen unsealed only while b is still current,
		   so a later read of cur changes nothing */
		atomic { g = cur; ho = off[g]; hw = wr[g]; hs = sealed[g] };
		if
		:: hs ->                                     /* waitInstalled(b) */
			d_step { ho = 0; hw = 0; hs = 0 };
			(cur != g);
			goto retry
		:: !hs && ho + n <= CAP ->
			/* L2: CAS(h, h+rec+oneWriter) */
			d_step {
				if
				:: off[g] == ho && wr[g] == hw && sealed[g] == hs ->
					assert(!sealed[g]);          /* never in a sealed buffer */
					assert(ho + n <= CAP);       /* L2: within capacity */
					assert(base[g] + ho == hwm); /* L1: contiguous, in order */
					i = 0;
					do
					:: i < n ->
						assert(unit[(g % NB) * CAP + ho + i] == FREE); /* no overlap, L9 */
						unit[(g % NB) * CAP + ho + i] = RES;
						i++
					:: else -> break
					od;
					i = 0;
					hwm = hwm + n;
					myend = hwm;
					off[g] = ho + n;
					wr[g]++;
					ok = 1
				:: else -> ok = 0
				fi
			};
			if
			:: ok -> d_step { ok = 0; hw = 0 }
			:: else -> d_step { ho = 0; hw = 0 }; goto retry
			fi
		:: !hs && ho + n > CAP ->
			/* L3: seal and join as a writer */
			sealCAS(g, 1);
			if
			:: ok ->
				ok = 0;
				/* sealed(b, off, segEnd): the segment-end record would be
				   written here, before the sealer leaves */
				sealing[g] = 0;
				sealerDone(g);
				/* install(gen+1, next): waits for the ring slot (L9) */
				d_step {
#ifndef BUG_RING_NO_WAIT
					!rl && !busy[(g + 1) % NB] ->
#else
					!rl ->
#endif
					installLocked(g + 1, base[g] + ho)
				}
			:: else
			fi;
			d_step { ho = 0; hw = 0 };
			goto retry
		fi;
		/* Complete (copy the record) or Abort (write a canceled record) */
		d_step {
			i = 0;
			do
			:: i < n ->
				assert(unit[(g % NB) * CAP + ho + i] == RES);
				unit[(g % NB) * CAP + ho + i] = (ab -> CANC : DONE);
				i++
			:: else -> break
			od;
			i = 0; ab = 0
		};
		leave(g);
		d_step { g = 0; ho = 0; hw = 0; n = 0; k++ }
	:: k > 0 -> break
	od;
	/* optionally Flush: everything completed before it is stable after it */
	/* writers id < NFLUSH may Flush at the end */
	if
	:: id < NFLUSH -> flush(t); assert(myend <= stable); t = 0
	:: skip
	fi;
	ndone++
}

proctype IO() {
	byte i, e, tg, want, ho, hw, ig;
	bit hs, ok, hl, sh;
loop:
	writeReady();
	if
	:: wanted > written ->
		want = wanted;
		/* trySeal(want): under the ring mutex, so cur cannot change */
		atomic { !rl -> rl = 1 };
ts:
		atomic { tg = cur; ho = off[tg]; hw = wr[tg]; hs = sealed[tg] };
		if
#ifndef BUG_TRYSEAL_WAITS
		:: hs || ho == 0 || base[tg] >= want || busy[(tg + 1) % NB] -> skip
#else
		:: hs || ho == 0 || base[tg] >= want -> skip
#endif
		:: else ->
			sealCAS(tg, 0);
			if
			:: ok ->
				ok = 0;
				sealerDone(tg);
#ifndef BUG_TRYSEAL_WAITS
				d_step { installLocked(tg + 1, base[tg] + ho) }
#else
				/* install() instead of installLocked(): waits for the slot,
				   which only this goroutine can free */
				d_step { !busy[(tg + 1) % NB] -> installLocked(tg + 1, base[tg] + ho) }
#endif
			:: else -> goto ts
			fi
		fi;
		d_step { rl = 0; tg = 0; ho = 0; hw = 0; hs = 0; want = 0 };
		writeReady()
	:: else
	fi;
	if
	:: wanted > stable && written > stable ->
		stable = written;       /* syncNow: one sync for every waiter (L6) */
		goto loop
	:: else
	fi;
end_idle:
	atomic { kick -> kick = 0 };   /* <-l.kick */
	goto loop
}

init {
	byte t, i;
	atomic {
		busy[0] = 1;            /* Open: generation 0 in slot 0 */
		run IO();
		i = 0;
		do
		:: i < NW -> run Writer(i); i++
		:: else -> break
		od;
		i = 0
	};
	(ndone == NW);
	/* Close: a final Flush; it must return (else: invalid end state) */
	flush(t);
	d_step {
		assert(stable == hwm && written == hwm);
		assert(iog == cur);             /* every sealed buffer was written */
		assert(off[cur] == 0 && wr[cur] == 0 && !sealed[cur]);
		i = 0;
		do
		:: i < cur ->
			assert(sealed[i] && ready[i] && wr[i] == 0);  /* L4: handed off */
			i++
		:: else -> break
		od;
		i = 0;
		do
		:: i < NB * CAP -> assert(unit[i] == FREE); i++
		:: else -> break
		od
	}
}
