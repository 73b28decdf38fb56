#!/usr/bin/env bash
# verify.sh -- model-check the SPIN models (see README.md): reserve.pml
# (internal/log), pagecache.pml (internal/pagecache), cleaner.pml (log
# cleaning + epochs), tree.pml (internal/tree).
#
#   models/verify.sh            check every configuration, then check that
#                               every seeded bug is caught
#   models/verify.sh --no-bugs  skip the seeded-bug runs
#
# Exits non-zero if a check reports errors (or does not finish), or if a
# seeded bug is not caught. Works from any directory; generated pan* files
# live in a temporary directory that is removed on exit. The runs go two at
# a time (JOBS=1 models/verify.sh runs them one by one; PANOPT=-O2 compiles
# pan optimized).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bugs=1
[[ "${1:-}" == "--no-bugs" ]] && bugs=0

if ! command -v spin >/dev/null 2>&1; then
	if [[ "$(id -u)" == 0 ]]; then
		apt-get update && apt-get install -y spin
	else
		echo "verify.sh: spin is not installed (apt-get install spin)" >&2
		exit 1
	fi
fi
command -v gcc >/dev/null 2>&1 || { echo "verify.sh: gcc is required" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

fail=0
# pan is compiled with -O0: gcc -O2 takes 10..30 s per pan.c on the shared
# machine, more than -O0's slower search costs in any run here
PANOPT="${PANOPT:--O0}"

# run NAME MODEL MODE "SPIN_DEFINES" ; MODE is safety, np, or npf (non-progress
# cycles under weak fairness).
# Prints a one-line summary; leaves the full pan output in $tmp/NAME.out.
run() {
	local name="$1" model="$2" mode="$3" defs="$4"
	local dir="$tmp/$name" cflags="$PANOPT -DSAFETY" panflags="-m100000 -w26"
	if [[ "$mode" == np ]]; then
		cflags="$PANOPT -DNP"
		panflags="-m100000 -w26 -l"
	elif [[ "$mode" == npf ]]; then
		cflags="$PANOPT -DNP"
		panflags="-m100000 -w26 -l -f"
	fi
	mkdir -p "$dir"
	cp "$here/$model" "$dir/"
	(
		cd "$dir"
		# shellcheck disable=SC2086
		spin $defs -a "$model" >spin.out 2>&1 || { cat spin.out; exit 1; }
		# shellcheck disable=SC2086
		gcc $cflags -o pan pan.c 2>gcc.out || { cat gcc.out; exit 1; }
		# shellcheck disable=SC2086
		./pan $panflags >pan.out 2>&1 || true
	) || return 2
	cp "$dir/pan.out" "$tmp/$name.out"
	local errs states depth secs
	errs="$(awk 'match($0, /errors: [0-9]+/) {print substr($0, RSTART + 8, RLENGTH - 8); exit}' "$dir/pan.out")"
	states="$(awk '/states, stored/ {print $1; exit}' "$dir/pan.out")"
	depth="$(awk 'match($0, /depth reached [0-9]+/) {print substr($0, RSTART + 14, RLENGTH - 14); exit}' "$dir/pan.out")"
	secs="$(awk '/^pan: elapsed time/ {print $4; exit}' "$dir/pan.out")"
	printf '%-28s %-6s errors: %-3s states: %-10s depth: %-4s time: %ss\n' \
		"$name" "$mode" "${errs:-?}" "${states:-?}" "${depth:-?}" "${secs:-?}"
	if [[ "${errs:-}" == 0 ]] && grep -q "errors: 0" "$dir/pan.out" &&
		! grep -q "Search not completed" "$dir/pan.out"; then
		return 0
	fi
	return 1
}

# The runs are independent: they go in a queue and run two at a time (JOBS)
# in the background; their reports are printed in queue order at the end.
JOBS="${JOBS:-2}"
order=()
running=0

# job KIND NAME MODEL MODE DEFINES: KIND ok (expect 'errors: 0') or bug
# (a seeded bug: SPIN must report an error). Writes $tmp/NAME.res (report)
# and $tmp/NAME.st (0 if as expected).
job_body() {
	local kind="$1" name="$2" rc=0
	shift
	run "$@" || rc=$?
	if [[ "$kind" == ok ]]; then
		if [[ "$rc" != 0 ]]; then
			echo "FAIL: $name: expected 'errors: 0'"
			sed -n '1,20p' "$tmp/$name.out" 2>/dev/null || true
			echo 1 >"$tmp/$name.st"
			return
		fi
	elif [[ "$rc" == 0 ]]; then
		echo "FAIL: $name: the seeded bug was not found"
		echo 1 >"$tmp/$name.st"
		return
	elif [[ "$rc" == 2 ]]; then
		echo "FAIL: $name: spin/gcc failed"
		echo 1 >"$tmp/$name.st"
		return
	else
		grep -m1 -E "^pan:1: " "$tmp/$name.out" | sed 's/^/    found: /'
	fi
	echo 0 >"$tmp/$name.st"
}
job() {
	order+=("$2")
	( job_body "$@" >"$tmp/$2.res" 2>&1 || true ) &
	running=$((running + 1))
	if ((running >= JOBS)); then
		wait -n || true
		running=$((running - 1))
	fi
}
section() {
	local n="section$((${#order[@]}))"
	order+=("$n")
	echo "$1" >"$tmp/$n.res"
	echo 0 >"$tmp/$n.st"
}
expect_ok() { job ok "$@"; }
# expect_bug NAME MODEL DEFINES: a seeded bug must be found (errors > 0)
expect_bug() { job bug "$1" "$2" safety "$3"; }

start=$SECONDS
section "== reserve.pml: safety (assertions L1-L5, L9 + invalid end states = deadlock)"
# default: 3 writers (writer 0 reserves 1-2 times, aborts its first one and
# may Flush; writers 1, 2 reserve once), 2 buffers of 3 units, sizes 1..2
expect_ok reserve-default    reserve.pml safety ""
# 3 writers x 1 reservation, 4-unit buffers, sizes 1..3
expect_ok reserve-sizes3     reserve.pml safety "-DCAP=4 -DMAXS=3 -DMAXR=1"
# 2 writers x 1-2 reservations, any of them aborted, both may Flush
expect_ok reserve-2w-abort   reserve.pml safety "-DNW=2 -DMAXR1=2 -DANYABORT -DNFLUSH=2"
# 3 buffers in the ring, 2 writers x 1-2 reservations, 2-unit buffers
expect_ok reserve-ring3      reserve.pml safety "-DNB=3 -DNW=2 -DMAXR1=2 -DCAP=2"
section "== reserve.pml: non-progress cycles (no livelock in CAS retries / I/O loop)"
expect_ok reserve-ring3-np   reserve.pml np     "-DNB=3 -DNW=2 -DMAXR1=2 -DCAP=2"

section "== pagecache.pml: safety (A1-A6: P8 order, rollback, page-in, no lost update, recovery)"
# merge unlink (free V + update P) racing the cleaner's Relocate(V), an
# eviction of V and a snapshot
expect_ok pc-free            pagecache.pml safety "-DNU1=0"
# split (Alloc V + image of P, Release on a loss) racing a leaf update of P,
# an eviction and a snapshot
expect_ok pc-alloc           pagecache.pml safety "-DSCEN_ALLOC"
# eviction / page-in / two updates (P4) of P racing the split and a snapshot
expect_ok pc-evict           pagecache.pml safety "-DSCEN_ALLOC -DNU1=2 -DNEV=1 -DEVP=0"

section "== cleaner.pml: safety (K1-K4: no read of a removed segment, recovery at any step)"
expect_ok cl-merge           cleaner.pml   safety "-DNOWRITER -DNRD=2"
expect_ok cl-write           cleaner.pml   safety "-DNOMERGER -DNRD=2"

section "== tree.pml: safety (T1-T4, T6) and non-progress cycles under weak fairness (T5)"
# split + four-step merge (staged free read as its frozen prior, P16)
expect_ok tree               tree.pml      safety ""
expect_ok tree-np            tree.pml      npf    ""
# root growth of a full root leaf racing an insert and a reader
expect_ok tree-grow          tree.pml      safety "-DSCEN_GROW"
expect_ok tree-grow-np       tree.pml      npf    "-DSCEN_GROW"
# root collapse racing an insert and a reader (staged free, P16)
expect_ok tree-collapse      tree.pml      safety "-DSCEN_COLLAPSE"
expect_ok tree-collapse-np   tree.pml      npf    "-DSCEN_COLLAPSE"

if [[ "$bugs" == 1 ]]; then
	section "== seeded bugs (each must be found)"
	expect_bug bug-sealer-not-counted reserve.pml "-DBUG_SEALER_NOT_COUNTED"
	expect_bug bug-leave-no-sealed    reserve.pml "-DBUG_LEAVE_NO_SEALED"
	expect_bug bug-ring-no-wait       reserve.pml "-DBUG_RING_NO_WAIT"
	expect_bug bug-tryseal-waits      reserve.pml "-DBUG_TRYSEAL_WAITS"
	expect_bug pc-bug-alloc-no-prior  pagecache.pml "-DSCEN_ALLOC -DBUG_ALLOC_NO_PRIOR"
	expect_bug pc-bug-free-after-cas  pagecache.pml "-DNU1=0 -DBUG_FREE_AFTER_DECISIVE"
	expect_bug pc-bug-evict-unwritten pagecache.pml "-DSCEN_ALLOC -DNU1=2 -DNEV=1 -DEVP=0 -DBUG_EVICT_UNWRITTEN"
	expect_bug pc-bug-evict-store     pagecache.pml "-DSCEN_ALLOC -DNU1=2 -DNEV=1 -DEVP=0 -DBUG_EVICT_STORE"
	expect_bug cl-bug-no-wait-readers cleaner.pml   "-DNOWRITER -DBUG_NO_WAIT_READERS"
	expect_bug cl-bug-remove-early    cleaner.pml   "-DNOWRITER -DBUG_REMOVE_BEFORE_SNAPSHOT"
	expect_bug cl-bug-no-named        cleaner.pml   "-DNOWRITER -DBUG_NO_NAMED"
	expect_bug cl-bug-free-after-cas  cleaner.pml   "-DNOWRITER -DBUG_FREE_AFTER_DECISIVE"
	expect_bug tree-bug-no-move-right tree.pml      "-DBUG_NO_MOVE_RIGHT"
	expect_bug tree-bug-no-freeze     tree.pml      "-DBUG_NO_FREEZE"
	expect_bug tree-bug-no-help       tree.pml      "-DBUG_NO_HELP"
	expect_bug tree-bug-free-early    tree.pml      "-DBUG_FREE_BEFORE_ABSORB"
	expect_bug tree-bug-grow-root-first   tree.pml  "-DSCEN_GROW -DBUG_GROW_ROOT_FIRST"
	expect_bug tree-bug-collapse-free-first tree.pml "-DSCEN_COLLAPSE -DBUG_COLLAPSE_FREE_FIRST"
	expect_bug tree-bug-stage-unfrozen    tree.pml  "-DSCEN_COLLAPSE -DBUG_STAGE_UNFROZEN"
fi

wait
for n in "${order[@]}"; do
	cat "$tmp/$n.res" 2>/dev/null || echo "FAIL: $n: no report"
	if [[ "$(cat "$tmp/$n.st" 2>/dev/null)" != 0 ]]; then
		fail=1
	fi
done
echo "total time: $((SECONDS - start))s"
if [[ "$fail" != 0 ]]; then
	echo "verify.sh: FAILED" >&2
	exit 1
fi
echo "verify.sh: OK"
