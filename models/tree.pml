/*
 * tree.pml -- SPIN model of sled's B-link structure changes: the two-phase
 * split with help-along (postSeparator), the four-step merge (mark, freeze,
 * absorb, unlink + free) with help-along (completeMerge), root growth
 * (growRoot) and root collapse (collapseRoot, finishCollapse), and readers
 * that read around unfinished changes (move right, readAround), with
 * concurrent inserters, removers and a reader on a few keys. A free staged
 * by an undecided transition reads as its prior (frozen) state (pagecache
 * P16).
 *
 * Go code modeled:
 *   internal/tree/tree.go   descendOnce (move right, help-along at a marked
 *                           entry / a frozen node / an unposted split),
 *                           readAround (also for a root collapse), Get,
 *                           Modify, afterWrite
 *   internal/tree/split.go  split (right half published with Alloc in the
 *                           same transition as the left half), growRoot (both
 *                           halves published with Alloc in the transition
 *                           that turns the root into an index node),
 *                           postSeparator (with the I8 check linkedAt)
 *   internal/tree/merge.go  tryMerge (candidates, I7, fits, an only child ->
 *                           collapseRoot), completeMerge (freeze, absorb,
 *                           unlink with Freed), collapseRoot, finishCollapse
 *   internal/pagecache      Load (P16: a staged free reads as its prior),
 *                           Update (a CAS from that prior loses; a writer
 *                           that meets a staged free yields and retries:
 *                           "pagecache.staged-free"), apply's steps for a
 *                           transition with an extra page
 * Invariants cited as in internal/tree/doc.go: I1..I12 (I2: the root page
 * id never changes), and pagecache P1, P12, P13, P16.
 *
 * What is modeled
 *   - Keys 1..5, node contents as bit sets; MAXLE = MaxLeafEntries (a leaf
 *     with more keys splits at the key of index count/2; a leaf with fewer
 *     than MAXLE/2 keys is too small).
 *   - The root R (page 0) is a leaf (rl; keys lk[0], range [0, INF)) or an
 *     index node of level 1 with up to 3 entries (key, child, marked); its
 *     identity for CAS is rv = lv[0] whichever it is, and descend loads it
 *     in one step. Leaves are pages 1..4 with (ver, Lo, Hi, Next, keys,
 *     frozen, freed, staged); INF is +infinity.
 *   - Every load of a node and every CAS (pagecache.Update) is one atomic
 *     step; a CAS compares the identity read and fails on a tombstone. A
 *     transition with extra pages is staged as in pagecache.apply, each a
 *     separate step: the extra pages (Alloc: allocated; Freed: a tombstone
 *     marked with its prior state, lst), then the decisive CAS, then either
 *     the mark is cleared (decided) or the extra pages are rolled back
 *     (P12). While a free is staged (until the mark is cleared), Load
 *     returns the prior state (P16); a writer whose Update meets the staged
 *     free retries, so it waits for the staging thread, which always
 *     proceeds.
 *   - Three configurations:
 *     default (split + merge, MAXLE 2): R = [0 -> A(1), 4 -> C(2)],
 *       A = {1,2} [0,4) -> C, C = {4} [4,INF). Ins: Modify(insert 3) -- A
 *       splits: B(3) = {2,3} [2,4) -> C is published with A = {1} [0,2)
 *       -> B, then the separator 2 -> B is posted -- then Modify(insert 5).
 *       Del: Modify(delete 4) -- C becomes empty -- then tryMerge(C): mark
 *       C's entry, freeze C, absorb it into its left sibling at the leaf
 *       level (A, or B once the split is published, posted or not), unlink
 *       and free C (staged). Rdr: Get(2) or Get(5).
 *     -DSCEN_GROW (root growth, MAXLE 3): R is the leaf {1,2,3}. Ins(4)
 *       and Ins(5) race; whichever insert leaves R with more than 3 keys
 *       grows the root (pages 1, 2 resp. 3, 4): R becomes [0 -> L,
 *       3 -> Rt] over L = {1,2} [0,3) and Rt = {3,..} [3,INF) in one
 *       transition (Alloc(L), Alloc(Rt), R's CAS); a growth that loses
 *       rolls back and releases both. Rdr: Get(2) or Get(3).
 *     -DSCEN_COLLAPSE (root collapse, MAXLE 6): R = [0 -> A], A = {2,3}
 *       [0,INF). Del: Modify(delete 2), then tryMerge: A is R's only child
 *       -> collapseRoot: freeze A, then finishCollapse: R takes A's
 *       content (becomes a leaf) and frees A (staged) in one transition.
 *       Ins: Modify(insert 1) racing it (it may land in A, help finish the
 *       collapse at the frozen A, wait at the staged free, or land in R).
 *       Rdr: Get(1) or Get(3), reading around the frozen A (while R still
 *       routes to it) and through its staged free.
 *   - Writers (help = true) complete a merge or a root collapse they meet
 *     (marked entry, frozen node) and post a separator for an unposted
 *     split they meet.
 *   - Inv: a monitor that, at any moment, checks the structure atomically.
 *
 * Abstractions: at most two levels; a split or growth that loses its CAS
 * gives up (a later write would retry), and afterMerge neither re-splits the
 * absorber nor collapses the root (the collapse runs in its own
 * configuration, from tryMerge); one page id per split, two per growth,
 * never reused (epochs: cleaner.pml); Get and Modify restart from the root
 * on a freed page (I10); maxRestarts is not modeled. In SCEN_COLLAPSE the
 * collapse's decisive CAS cannot lose (nothing else changes R while it has
 * one frozen child), so its rollback is unreachable there.
 *
 * Properties
 *   T1 (I5) no key lost or duplicated: at every moment (Inv), the leaf level
 *      (the chain from R's first child, or R itself when it is a leaf) holds
 *      exactly the present keys, each in the one leaf whose range covers it;
 *      at the end, too.
 *   T2 (I3) the chain is linked from Lo = 0 to Hi = INF with each Next's
 *      Lo == Hi, and no node in it is freed (except a collapsing only child
 *      whose free is staged); R's entries name no unallocated page and no
 *      freed page except one whose free is staged (I9, I12); R's entries
 *      are increasing and each names a child with that Lo (I4), no two
 *      adjacent marked and never the first (I7).
 *   T3 a reader finds a key that is present during its whole Get (and does
 *      not find one absent during its whole Get), moving right (B-link);
 *      the leaf it ends in covers the key.
 *   T4 no reader sees a freed node: a load of a freed page makes the
 *      operation restart from the root (I10); a staged free reads as its
 *      frozen prior, which the reader reads around (I11); no node of the
 *      chain, which every move right follows, is ever freed (Inv, T2), so a
 *      reader reaches a freed page only through a stale parent entry
 *      (checked by T3: it still finds its key after the restart).
 *   T5 every process terminates (no invalid end state), and with -DNP and
 *      weak fairness (pan -l -f) there is no non-progress cycle: no livelock
 *      of restarts, nor of a writer retrying at a staged free (without -f,
 *      pan finds that cycle: the staging thread never scheduled).
 *   T6 (P16's premise) whenever a load returns the prior of a staged free,
 *      that prior is a frozen node.
 *
 * Seeded bugs (each must make verification FAIL):
 *   -DBUG_NO_MOVE_RIGHT  descend does not follow Next when the key is at or
 *                        beyond Hi (no B-link): a reader between the split
 *                        and the post misses key 2
 *   -DBUG_NO_FREEZE      completeMerge absorbs the victim without freezing
 *                        it: an insert into the victim after the absorb read
 *                        it is lost (T1); SPIN first reports the unfrozen
 *                        prior of the staged free (T6)
 *   -DBUG_NO_HELP        skipping help-along: a writer that meets a marked
 *                        entry or a frozen node writes into it instead of
 *                        completing the merge (I6): the write is lost
 *   -DBUG_FREE_BEFORE_ABSORB  the unlink (with the free) runs before the
 *                        absorb: the left sibling still links to the freed
 *                        victim (I9)
 *   -DBUG_GROW_ROOT_FIRST (SCEN_GROW) growRoot publishes the new root
 *                        before its children are initialized and allocated
 *                        (not in one transition): R names an unallocated
 *                        page (T2, I12)
 *   -DBUG_COLLAPSE_FREE_FIRST (SCEN_COLLAPSE) the collapse frees the child
 *                        (decided) before the root takes its content: R
 *                        names a freed page (T2, I9)
 *   -DBUG_STAGE_UNFROZEN (SCEN_COLLAPSE) the collapse stages the child's
 *                        free without freezing it first: a load returns an
 *                        unfrozen prior (T6, P16); without T6, SPIN finds
 *                        the insert that lands in the child after the root
 *                        read it lost (T1)
 */

#define INF  9
#define PA   1
#define PC   2
#define PB   3
#define PD   4
#define NPG  5
/* configurations: MAXLE = MaxLeafEntries; the reader's keys RK1, RK2 */
#if defined(SCEN_GROW)
#define MAXLE 3
#define RK1   2
#define RK2   3
#elif defined(SCEN_COLLAPSE)
#define MAXLE 6
#define RK1   1
#define RK2   3
#else
#define MAXLE 2
#define RK1   2
#define RK2   5
#endif
#define bitk(k) (1 << (k))
#define below(k) (bitk(k) - 1)
#define pc(x) ((((x) >> 1) & 1) + (((x) >> 2) & 1) + (((x) >> 3) & 1) + (((x) >> 4) & 1) + (((x) >> 5) & 1))

/* the root R (page 0): a leaf (rl, keys lk[0], range [0, INF)) or an index
 * node of level 1; its identity for CAS is lv[0], whichever it is */
#define rv lv[0]
bit  rl;                 /* R is a leaf */
byte en;                 /* entries */
byte ek[3];              /* keys (Lo of each child, I4) */
byte ec[3];              /* children */
bit  em[3];              /* marked (merge step 1) */

/* pages (0: R; leaves 1..4) */
byte lv[NPG];            /* identity */
byte llo[NPG];
byte lhi[NPG];
byte lnx[NPG];
byte lk[NPG];            /* keys, as a bit set */
bit  lfz[NPG];           /* frozen */
bit  lfr[NPG];           /* freed (a tombstone) */
bit  lst[NPG];           /* the free is staged: the tombstone is marked
                            with its prior state (P13, P16) */
bit  lal[NPG];           /* allocated (published or reserved) */

byte gk;                 /* ghost: the present keys */
byte chg[6];             /* ghost: changes of each key */
byte ndone;

/* ---- reading R ---------------------------------------------------------- */
/* child index for key: the last entry with ek <= key (before: ek < key) */
inline rIndex(key, before) {
	ri = 0;
	do
	:: ri + 1 < en && (ek[ri + 1] < key || (!before && ek[ri + 1] == key)) -> ri++
	:: else -> break
	od
}

/* ---- pagecache.Load of a leaf into the n* locals: nfr when it is free or
 *      not published (ErrFreed: restart, I10). P16: a free staged by an
 *      undecided transition reads as its prior state, which is the state
 *      the tombstone replaced: the fields are left as they were. ------- */
inline loadLeaf(id) {
	d_step {
		nid = id; nfr = (lfr[nid] && !lst[nid]) || !lal[nid];
		nv = lv[nid]; nlo = llo[nid]; nhi = lhi[nid]; nnx = lnx[nid]; nk = lk[nid]; nfz = lfz[nid];
		/* T6 (P16's premise): the prior of a staged free is a frozen node */
		assert(!(lfr[nid] && lst[nid]) || lfz[nid])
	}
}
inline clrN() { d_step { nid = 0; nfr = 0; nv = 0; nlo = 0; nhi = 0; nnx = 0; nk = 0; nfz = 0 } }

/* A CAS of leaf x from the state read: P1, and a tombstone (staged or not)
 * is never the state read, so a CAS from a staged free's prior loses */
#define leafCAS(x) (lv[x] == nv && !lfr[x])

/* moveRight(n, key, before) */
#define beyond(key, before) (nhi != INF && ((before && (key) > nhi) || (!before && (key) >= nhi)))

/* ---- postSeparator(sep -> right) into R (I4, I8) ----------------------- */
inline postSeparator() {	/* psep -> prt */
	do
	:: true ->
		d_step {
			assert(!rl);
			pf = 0; ri = 0;
			do
			:: ri < en -> pf = pf || ek[ri] == psep; ri++
			:: else -> break
			od;
			rIndex(psep, 1); pp = ri; prv = rv; plid = ec[ri]
		};
		if
		:: pf -> break                      /* already posted */
		:: else
		fi;
		/* I8: linkedAt(ec[pp], psep, prt), after loading R's state */
		pl = 0;
		do
		:: true ->
			loadLeaf(plid);
			if
			:: nfr -> break
			:: nhi != INF && nhi < psep -> plid = nnx
			:: nhi == psep ->
				if
				:: nnx == prt ->
					loadLeaf(prt);
					pl = !nfr && !nfz && nlo == psep
				:: else
				fi;
				break
			:: else -> break
			fi
		od;
		clrN();
		if
		:: !pl -> break
		:: else
		fi;
		d_step {
			if
			:: rv == prv ->
				assert(en < 3);
				ri = en;
				do
				:: ri > pp + 1 -> ek[ri] = ek[ri - 1]; ec[ri] = ec[ri - 1]; em[ri] = em[ri - 1]; ri--
				:: else -> break
				od;
				ek[pp + 1] = psep; ec[pp + 1] = prt; em[pp + 1] = 0; en++; rv++;
				pl = 1
			:: else -> pl = 0
			fi;
			ri = 0
		};
		if
		:: pl -> break
		:: else
		fi
	od;
	atomic { pf = 0; pl = 0; pp = 0; prv = 0; plid = 0; psep = 0; prt = 0 }
}

/* ---- descendBefore(key): the leaf with Lo < key <= Hi, for the absorb
 *      (help: posts separators) and readAround (no help) --------------- */
inline descendBefore(key, help) {
	do
	:: true ->
		d_step { assert(!rl); rIndex(key, 1); bid = ec[ri]; bhi = (ri + 1 < en -> ek[ri + 1] : INF); ri = 0 };
		loadLeaf(bid);
		if
		:: nfr -> skip                       /* restart */
		:: else ->
			if
			:: help && !nfz && nnx != 0 && nhi < bhi ->
				d_step { psep = nhi; prt = nnx }; postSeparator(); loadLeaf(bid)
			:: else
			fi;
			do
			:: nfr -> break
			:: !nfr && beyond(key, 1) -> assert(!nfz); loadLeaf(nnx)
			:: else -> break
			od;
			if
			:: !nfr -> assert(!nfz); break   /* only the victim is ever frozen */
			:: else
			fi
		fi
	od;
	atomic { bid = 0; bhi = 0 }
}

/* step 4: remove the marked entry from R, freeing the victim in the same
 * transition (pagecache.apply): the free is staged (a tombstone marked with
 * its prior), then R's decisive CAS, then the mark is cleared -- or, if the
 * CAS lost, the tombstone is rolled back -- each a separate step. A helper
 * that meets the staged free yields and retries (Update:
 * "pagecache.staged-free"); the staging thread always proceeds. */
inline unlinkStep() {
	do
	:: true ->
		d_step {
			pf = 0; ri = 0;
			do
			:: ri < en -> if :: ek[ri] == clo && ec[ri] == cid -> pf = 1; pp = ri :: else fi; ri++
			:: else -> break
			od;
			prv = rv; ri = 0
		};
		if
		:: !pf -> break                      /* another helper unlinked it */
		:: else
		fi;
		/* staged free (Update checks: not being freed, not free) */
		d_step {
			if
			:: !lfr[cid] -> lfr[cid] = 1; lst[cid] = 1; cok = 1
			:: else -> cok = 0               /* staged by another: yield, retry */
			fi
		};
		if
		:: cok ->
			d_step {                         /* R's decisive CAS */
				if
				:: rv == prv ->
					ri = pp;
					do
					:: ri + 1 < en -> ek[ri] = ek[ri + 1]; ec[ri] = ec[ri + 1]; em[ri] = em[ri + 1]; ri++
					:: else -> break
					od;
					ek[ri] = 0; ec[ri] = 0; em[ri] = 0; en--; rv++; ri = 0; cok = 1
				:: else -> cok = 0
				fi
			};
			if
			:: cok -> d_step { lst[cid] = 0 }; break           /* decided */
			:: else -> d_step { lfr[cid] = 0; lst[cid] = 0 }   /* rolled back (P12) */
			fi
		:: else
		fi
	od;
	atomic { pf = 0; pp = 0; prv = 0; cok = 0 }
}

/* ---- finishCollapse(cid): steps 2 and 3 of a root collapse: R takes the
 *      frozen only child's content, freeing it in the same transition
 *      (staged, decisive CAS, clear or roll back, as in unlinkStep) ----- */
inline finishCollapse() {
	do
	:: true ->
		d_step { pf = !rl && en == 1 && ec[0] == cid; prv = rv };
		if
		:: !pf -> break                      /* done by another thread */
		:: else
		fi;
		loadLeaf(cid);
		if
		:: nfr -> break                      /* errRestart: done */
		:: else
		fi;
#ifdef BUG_COLLAPSE_FREE_FIRST
		/* the child is freed (decided) before R takes its content */
		d_step { if :: !lfr[cid] -> lfr[cid] = 1 :: else fi };
		d_step {
			if
			:: rv == prv -> lk[0] = nk; rl = 1; en = 0; ek[0] = 0; ec[0] = 0; em[0] = 0; rv++
			:: else
			fi
		};
		break;
#endif
		d_step {                             /* staged free of the child */
			if
			:: !lfr[cid] -> lfr[cid] = 1; lst[cid] = 1; cok = 1
			:: else -> cok = 0               /* staged by another: yield, retry */
			fi
		};
		if
		:: cok ->
			d_step {                         /* R's decisive CAS: C's content */
				if
				:: rv == prv ->
					assert(nlo == 0 && nhi == INF);
					lk[0] = nk; rl = 1; en = 0; ek[0] = 0; ec[0] = 0; em[0] = 0; rv++; cok = 1
				:: else -> cok = 0
				fi
			};
			if
			:: cok -> d_step { lst[cid] = 0 }; break
			:: else -> d_step { lfr[cid] = 0; lst[cid] = 0 }
			fi
		:: else
		fi
	od;
	clrN();
	atomic { pf = 0; prv = 0; cok = 0 }
}

/* ---- collapseRoot: while R is an index node with one child C: freeze C
 *      (unless it has an unposted split), then finishCollapse ---------- */
inline collapseRoot() {
	do
	:: true ->
		d_step { pf = !rl && en == 1; cid = (pf -> ec[0] : 0) };
		if
		:: !pf -> break
		:: else
		fi;
		loadLeaf(cid);
		cok = !nfr;
		if
		:: cok && !nfz && nhi != INF -> break   /* an unposted split */
		:: cok && !nfz ->
#ifndef BUG_STAGE_UNFROZEN
			d_step {                         /* freeze (I6) */
				if
				:: leafCAS(cid) -> lfz[cid] = 1; lv[cid]++
				:: else -> cok = 0
				fi
			}
#else
			skip                             /* the free is staged unfrozen */
#endif
		:: else
		fi;
		clrN();
		if
		:: cok -> finishCollapse()
		:: else
		fi
	od;
	atomic { pf = 0; cid = 0; cok = 0 }
}

/* ---- completeMerge(rid): freeze, absorb, unlink + free ----------------- */
inline completeMerge(rid) {
	cid = rid; cdone = 0;
	/* step 2: freeze (I6) */
	do
	:: true ->
		loadLeaf(cid);
		if
		:: nfr -> cdone = 1; break           /* unlinked and freed: done */
		:: nfz -> break
		:: else
		fi;
#ifdef BUG_NO_FREEZE
		break;
#endif
		d_step {
			if
			:: leafCAS(cid) -> lfz[cid] = 1; lv[cid]++; nfz = 1; cok = 1
			:: else -> cok = 0
			fi
		};
		if
		:: cok -> break
		:: else
		fi
	od;
	if
	:: !cdone && nlo == 0 ->
		/* a frozen node with the empty Lo: a root collapse */
		clrN(); finishCollapse()
	:: !cdone && nlo != 0 ->
		d_step { clo = nlo; chi = nhi; cnx = nnx; ck = nk };
#ifdef BUG_FREE_BEFORE_ABSORB
		unlinkStep();
#endif
		/* step 3: absorb into the left sibling (I3, I5) */
		do
		:: true ->
			descendBefore(clo, 1);
			if
			:: nhi != clo || nnx != cid -> break  /* already absorbed */
			:: else
			fi;
			d_step {
				if
				:: leafCAS(nid) ->
#ifdef BUG_NO_FREEZE
					ck = lk[cid];     /* the victim as read now */
#endif
					lk[nid] = nk | ck; lhi[nid] = chi; lnx[nid] = cnx; lv[nid]++; cok = 1
				:: else -> cok = 0
				fi
			};
			if
			:: cok -> break
			:: else
			fi
		od;
		clrN();
#ifndef BUG_FREE_BEFORE_ABSORB
		unlinkStep();
#endif
		skip
	:: else
	fi;
	clrN();
	d_step { cid = 0; cdone = 0; cok = 0; clo = 0; chi = 0; cnx = 0; ck = 0 }
}

/* ---- descend(key, before = 0, help) to a leaf into n*; sets nid ------- */
inline descend(key, help) {
	do
	:: true ->
		d_step {
			if
			:: rl ->                         /* R is a leaf: one load */
				nid = 0; nfr = 0; nv = rv; nlo = 0; nhi = INF; nnx = 0; nk = lk[0]; nfz = 0;
				did = 0; dmk = 0; dhi = INF; drt = 1
			:: else ->
				rIndex(key, 0); did = ec[ri]; dmk = em[ri];
				dhi = (ri + 1 < en -> ek[ri + 1] : INF); ri = 0; drt = 0
			fi
		};
		drs = 0;
		if
		:: drt -> skip
#ifndef BUG_NO_HELP
		:: help && dmk -> completeMerge(did); drs = 1   /* help along (I7) */
#endif
		:: else ->
			loadLeaf(did);
			if
			:: nfr -> drs = 1
			:: else ->
				if
				:: help && !nfz && nnx != 0 && nhi < dhi ->
					/* unfinished split: post the separator (help along) */
					d_step { psep = nhi; prt = nnx }; postSeparator();
					loadLeaf(did);
					if :: nfr -> drs = 1 :: else fi
				:: else
				fi
			fi
		fi;
		do
		:: drs -> break
		:: else ->
			if
#ifndef BUG_NO_HELP
			:: nfz && help -> completeMerge(nid); drs = 1   /* help along */
#endif
			:: nfz && !help && nlo == 0 ->
				/* readAround, root collapse: n is current while R still
				   routes to it (its only child), else restart */
				d_step { drs = !(!rl && en == 1 && ec[0] == nid) }
			:: nfz && !help && nlo != 0 ->
				/* readAround (I11): n is current while its left sibling
				   links to it, else the left sibling covers its range */
				d_step { dfz = nid; dlo = nlo };
				descendBefore(dlo, 0);
				if
				:: nnx == dfz && nhi == dlo ->
					loadLeaf(dfz);              /* n itself */
					if :: nfr -> drs = 1 :: else fi
				:: else                         /* the left sibling */
				fi;
				d_step { dfz = 0; dlo = 0 }
			:: else
			fi;
			if
			:: drs -> skip
			:: !drs && beyond(key, 0) ->
#ifdef BUG_NO_MOVE_RIGHT
				break;
#endif
				loadLeaf(nnx);              /* B-link: move right */
				if :: nfr -> drs = 1 :: else fi
			:: else -> break
			fi
		od;
		if
		:: !drs -> break
		:: else -> clrN()
		fi
	od;
	atomic { did = 0; dmk = 0; dhi = 0; drs = 0; drt = 0; dfz = 0; dlo = 0 }
}

#define LOCALS \
	byte nid, nv, nlo, nhi, nnx, nk; bit nfr, nfz; \
	byte ri, pp, prv, plid, psep, prt; bit pf, pl; \
	byte bid, bhi; \
	byte cid, clo, chi, cnx, ck; bit cdone, cok; \
	byte did, dhi, dfz, dlo; bit dmk, drs, drt

/* Modify(key, insert?) then afterWrite; w: ok */
inline modify(key, ins) {
	do
	:: true ->
		descend(key, 1);
		d_step {
			if
			:: leafCAS(nid) ->
				assert(key >= nlo && (nhi == INF || key < nhi));   /* I1 */
				if
				:: ins -> lk[nid] = nk | bitk(key); gk = gk | bitk(key)
				:: else -> lk[nid] = nk & ~bitk(key); gk = gk & ~bitk(key)
				fi;
				chg[key]++; lv[nid]++; nk = lk[nid]; nv = lv[nid]; w = 1
			:: else -> w = 0
			fi
		};
		if
		:: w -> break
		:: else -> clrN()
		fi
	od
}

/* growRoot: R (a leaf with too many keys, state nv) splits in place: its
 * halves go to the fresh pages gl, gr and R becomes an index node over them
 * in ONE transition: Alloc(gl), Alloc(gr) staged, then R's decisive CAS
 * (I2, I12); on a loss both are rolled back and released. */
inline growRoot(gl, gr) {
	d_step {
		/* split point: the key at index count/2 */
		sep = 0; v = 0; j = 1;
		do
		:: j <= 5 ->
			if
			:: (nk & bitk(j)) && sep == 0 -> if :: v == pc(nk) / 2 -> sep = j :: else -> v++ fi
			:: else
			fi;
			j++
		:: else -> break
		od;
		v = 0; j = 0
	};
#ifdef BUG_GROW_ROOT_FIRST
	/* R is published over its children before they are initialized and
	   allocated */
	d_step {
		if
		:: rv == nv -> rl = 0; en = 2; ek[0] = 0; ec[0] = gl; ek[1] = sep; ec[1] = gr; em[0] = 0; em[1] = 0; lk[0] = 0; rv++; w = 1
		:: else -> w = 0
		fi
	};
	if
	:: w ->
		d_step {
			llo[gl] = 0; lhi[gl] = sep; lnx[gl] = gr; lk[gl] = nk & below(sep); lv[gl] = 1;
			llo[gr] = sep; lhi[gr] = INF; lnx[gr] = 0; lk[gr] = nk & ~below(sep); lv[gr] = 1
		};
		d_step { lal[gl] = 1; lal[gr] = 1 }
	:: else
	fi;
#else
	d_step {	/* Allocate + Init: reachable by nobody yet (P3) */
		assert(!lal[gl] && !lal[gr]);
		llo[gl] = 0; lhi[gl] = sep; lnx[gl] = gr; lk[gl] = nk & below(sep); lv[gl] = 1;
		llo[gr] = sep; lhi[gr] = INF; lnx[gr] = 0; lk[gr] = nk & ~below(sep); lv[gr] = 1
	};
	d_step { lal[gl] = 1; lal[gr] = 1 };      /* staged Alloc of both */
	d_step {                                  /* R's decisive CAS */
		if
		:: rv == nv ->
			assert(rl);
			rl = 0; en = 2; ek[0] = 0; ec[0] = gl; ek[1] = sep; ec[1] = gr; em[0] = 0; em[1] = 0;
			lk[0] = 0; rv++; w = 1
		:: else -> w = 0
		fi
	};
	if
	:: !w -> d_step { lal[gl] = 0; lal[gr] = 0 }   /* rolled back, released */
	:: else
	fi;
#endif
	sep = 0
}

/* Ins: Modify(insert k1); afterWrite (split or root growth with the fresh
 * pages gl, gr); then Modify(insert k2) if k2 != 0 */
proctype Ins(byte k1, k2, gl, gr) {
	LOCALS;
	bit w;
	byte sep, j, v;
	modify(k1, 1);
	/* afterWrite: too big -> split (a frozen node is never split) */
	if
	:: !nfz && pc(nk) > MAXLE && nid == 0 -> growRoot(gl, gr)
	:: !nfz && pc(nk) > MAXLE && nid != 0 ->
		/* split at the middle key 2: B = {2,3} [2, Hi) -> Next; Init(B) */
		d_step {
			assert(nk == (bitk(1) | bitk(2) | bitk(3)) && !lal[PB]);
			llo[PB] = 2; lhi[PB] = nhi; lnx[PB] = nnx; lk[PB] = bitk(2) | bitk(3); lv[PB] = 1
		};
		/* one transition: Alloc(B) staged, then the decisive CAS of A (I12) */
		d_step { lal[PB] = 1 };
		d_step {
			if
			:: leafCAS(nid) -> lk[nid] = bitk(1); lhi[nid] = 2; lnx[nid] = PB; lv[nid]++; w = 1
			:: else -> lal[PB] = 0; w = 0     /* lost: B was never reachable */
			fi
		};
		if
		:: w -> clrN(); d_step { psep = 2; prt = PB }; postSeparator()
		:: else
		fi
	:: else
	fi;
	clrN();
	if
	:: k2 != 0 -> modify(k2, 1); clrN()
	:: else
	fi;
	d_step { k1 = 0; k2 = 0; gl = 0; gr = 0; ndone++ }
}

/* Del: Modify(delete k); afterWrite: too small -> tryMerge (a merge with a
 * sibling, or, for the root's only child, collapseRoot) */
proctype Del(byte k) {
	LOCALS;
	bit w, col;
	byte j, v, l0, r0;
	modify(k, 0);
	/* afterWrite: too small -> tryMerge(n) (n is not the root) */
	if
	:: !nfz && nid != 0 && pc(nk) < MAXLE / 2 ->
		d_step {
			/* findFrom: R; the entry of n */
			j = 0; pf = 0; col = 0;
			do
			:: j < en -> if :: ek[j] == nlo && ec[j] == nid -> pf = 1; break :: else -> j++ fi
			:: else -> break
			od;
			prv = rv; v = 0;
			/* an only child: collapseRoot; else the candidates j (into
			   j-1), then j+1 (into j); I7 */
			if
			:: !rl && pf && en == 1 -> col = 1
			:: !rl && pf && en > 1 && j >= 1 && !em[j - 1] && !em[j] && !(j + 1 < en && em[j + 1]) -> v = j
			:: else ->
				if
				:: !rl && pf && en > 1 && j + 1 < en && !em[j] && !em[j + 1] && !(j + 2 < en && em[j + 2]) -> v = j + 1
				:: else
				fi
			fi;
			if :: v > 0 -> l0 = ec[v - 1]; r0 = ec[v] :: else fi;
			j = 0; pf = 0
		};
		if
		:: col -> clrN(); collapseRoot()
		:: v > 0 ->
			/* fits: both fit in one leaf (an empty node always fits) */
			loadLeaf(l0); w = !nfr; j = nk; loadLeaf(r0); w = w && !nfr;
			d_step { w = w && (pc(j) + pc(nk) <= MAXLE) };
			clrN();
			if
			:: w ->
				/* step 1: mark (CAS R from the state judged) */
				d_step {
					if
					:: rv == prv -> em[v] = 1; rv++; w = 1
					:: else -> w = 0
					fi
				};
				if
				:: w -> completeMerge(r0)
				:: else
				fi
			:: else
			fi
		:: else
		fi
	:: else
	fi;
	clrN();
	d_step { k = 0; j = 0; v = 0; l0 = 0; r0 = 0; prv = 0; w = 0; col = 0 };
	ndone++
}

proctype Rdr() {
	LOCALS;
	byte k, c0;
	bit p0, found;
	if :: k = RK1 :: k = RK2 fi;
	d_step { c0 = chg[k]; p0 = (gk & bitk(k)) != 0 };
	descend(k, 0);
	d_step {
		found = (nk & bitk(k)) != 0;
		assert(k >= nlo && (nhi == INF || k < nhi));          /* the leaf covers k */
		if
		:: chg[k] == c0 -> assert(found == p0)              /* T3 */
		:: else
		fi
	};
	clrN();
	d_step { k = 0; c0 = 0; p0 = 0; found = 0 };
	ndone++
}

/* T1, T2 at any moment */
inline checkStructure() {
	if
	:: rl ->
		/* R is the only leaf, over [0, INF) */
		assert(en == 0 && lal[0] && !lfr[0]);
		assert(lk[0] == gk)                                /* T1 */
	:: else ->
		i = ec[0]; seen = 0; prevhi = 0; steps = 0;
		do
		:: true ->
			/* T2: nothing freed linked (a root collapse's child, whose
			   free is staged, is still the root's only child) */
			assert(lal[i] && (!lfr[i] || (lst[i] && en == 1 && ec[0] == i)));
			assert(llo[i] == prevhi);                      /* I3 */
			assert((lk[i] & seen) == 0);                   /* T1: no duplicate */
			j = 1;
			do
			:: j <= 5 ->
				if
				:: lk[i] & bitk(j) -> assert(j >= llo[i] && (lhi[i] == INF || j < lhi[i]))  /* I1 */
				:: else
				fi;
				j++
			:: else -> break
			od;
			seen = seen | lk[i];
			steps++; assert(steps <= 3);
			if
			:: lhi[i] == INF -> break
			:: else -> prevhi = lhi[i]; i = lnx[i]
			fi
		od;
		assert(seen == gk);                                /* T1: no key lost */
		/* R: entries increasing, each names a live child with that Lo (I4);
		   marks never first, never adjacent (I7) */
		assert(en >= 1 && ek[0] == 0 && !em[0]);
		j = 0;
		do
		:: j < en ->
			assert(lal[ec[j]] && (!lfr[ec[j]] || lst[ec[j]]));   /* I9 */
			assert(llo[ec[j]] == ek[j]);
			if :: j > 0 -> assert(ek[j - 1] < ek[j] && !(em[j - 1] && em[j])) :: else fi;
			j++
		:: else -> break
		od
	fi;
	i = 0; j = 0; seen = 0; prevhi = 0; steps = 0
}

proctype Inv() {
	byte i, j, seen, prevhi, steps;
	d_step { checkStructure() }
}

init {
	byte i, j, seen, prevhi, steps;
	d_step {
		lal[0] = 1; llo[0] = 0; lhi[0] = INF; rv = 1;
#if defined(SCEN_GROW)
		/* R is a full leaf {1,2,3} (MAXLE 3) */
		rl = 1; lk[0] = bitk(1) | bitk(2) | bitk(3);
		gk = lk[0]
#elif defined(SCEN_COLLAPSE)
		/* R = [0 -> A], A = {2,3} [0, INF) (MAXLE 6: A is too small after the delete) */
		en = 1; ek[0] = 0; ec[0] = PA;
		lal[PA] = 1; llo[PA] = 0; lhi[PA] = INF; lnx[PA] = 0; lk[PA] = bitk(2) | bitk(3); lv[PA] = 1;
		gk = lk[PA]
#else
		en = 2; ek[0] = 0; ec[0] = PA; ek[1] = 4; ec[1] = PC;
		lal[PA] = 1; llo[PA] = 0; lhi[PA] = 4; lnx[PA] = PC; lk[PA] = bitk(1) | bitk(2); lv[PA] = 1;
		lal[PC] = 1; llo[PC] = 4; lhi[PC] = INF; lnx[PC] = 0; lk[PC] = bitk(4); lv[PC] = 1;
		gk = bitk(1) | bitk(2) | bitk(4)
#endif
	};
	atomic {
#if defined(SCEN_GROW)
		run Ins(4, 0, PA, PC); run Ins(5, 0, PB, PD);
#elif defined(SCEN_COLLAPSE)
		run Ins(1, 0, 0, 0); run Del(2);
#else
		run Ins(3, 5, 0, 0); run Del(4);
#endif
		run Rdr(); run Inv()
	};
	(ndone == 3);
	d_step {
		checkStructure();
#if defined(SCEN_GROW)
		assert(gk == (bitk(1) | bitk(2) | bitk(3) | bitk(4) | bitk(5)) && !rl)
#elif defined(SCEN_COLLAPSE)
		assert(gk == (bitk(1) | bitk(3)) && rl)
#else
		assert(gk == (bitk(1) | bitk(2) | bitk(3) | bitk(5)))
#endif
	}
}
