#!/usr/bin/env bash
# verify.sh -- model-check the SPIN models of internal/log (see README.md).
#
#   models/verify.sh            check every configuration, then check that
#                               every seeded bug is caught
#   models/verify.sh --no-bugs  skip the seeded-bug runs
#
# Exits non-zero if a check reports errors (or does not finish), or if a
# seeded bug is not caught. Works from any directory; generated pan* files
# live in a temporary directory that is removed on exit.
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

# run NAME MODEL MODE "SPIN_DEFINES" ; MODE is safety or np.
# Prints a one-line summary; leaves the full pan output in $tmp/NAME.out.
run() {
	local name="$1" model="$2" mode="$3" defs="$4"
	local dir="$tmp/$name" cflags="-O2 -DSAFETY" panflags="-m100000 -w26"
	if [[ "$mode" == np ]]; then
		cflags="-O2 -DNP"
		panflags="-m100000 -w26 -l"
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
	local errs states secs
	errs="$(awk 'match($0, /errors: [0-9]+/) {print substr($0, RSTART + 8, RLENGTH - 8); exit}' "$dir/pan.out")"
	states="$(awk '/states, stored/ {print $1; exit}' "$dir/pan.out")"
	secs="$(awk '/^pan: elapsed time/ {print $4; exit}' "$dir/pan.out")"
	printf '%-28s %-6s errors: %-3s states: %-10s time: %ss\n' \
		"$name" "$mode" "${errs:-?}" "${states:-?}" "${secs:-?}"
	if [[ "${errs:-}" == 0 ]] && grep -q "errors: 0" "$dir/pan.out" &&
		! grep -q "Search not completed" "$dir/pan.out"; then
		return 0
	fi
	return 1
}

# expect_ok NAME MODEL MODE DEFINES
expect_ok() {
	if ! run "$@"; then
		echo "FAIL: $1: expected 'errors: 0'" >&2
		sed -n '1,20p' "$tmp/$1.out" >&2 2>/dev/null || true
		fail=1
	fi
}

# expect_bug NAME MODEL DEFINES: a seeded bug must be found (errors > 0)
expect_bug() {
	local rc=0
	run "$1" "$2" safety "$3" || rc=$?
	if [[ "$rc" == 0 ]]; then
		echo "FAIL: $1: the seeded bug was not found" >&2
		fail=1
	elif [[ "$rc" == 2 ]]; then
		echo "FAIL: $1: spin/gcc failed" >&2
		fail=1
	else
		grep -m1 -E "^pan:1: " "$tmp/$1.out" | sed 's/^/    found: /'
	fi
}

start=$SECONDS
echo "== reserve.pml: safety (assertions L1-L5, L9 + invalid end states = deadlock)"
# default: 3 writers (writer 0 reserves 1-2 times, aborts its first one and
# may Flush; writers 1, 2 reserve once), 2 buffers of 3 units, sizes 1..2
expect_ok reserve-default    reserve.pml safety ""
# 3 writers x 1 reservation, 4-unit buffers, sizes 1..3
expect_ok reserve-sizes3     reserve.pml safety "-DCAP=4 -DMAXS=3 -DMAXR=1"
# 2 writers x 1-2 reservations, any of them aborted, both may Flush
expect_ok reserve-2w-abort   reserve.pml safety "-DNW=2 -DMAXR1=2 -DANYABORT -DNFLUSH=2"
# 3 buffers in the ring, 2 writers x 1-2 reservations, 2-unit buffers
expect_ok reserve-ring3      reserve.pml safety "-DNB=3 -DNW=2 -DMAXR1=2 -DCAP=2"
echo "== reserve.pml: non-progress cycles (no livelock in CAS retries / I/O loop)"
expect_ok reserve-ring3-np   reserve.pml np     "-DNB=3 -DNW=2 -DMAXR1=2 -DCAP=2"

if [[ "$bugs" == 1 ]]; then
	echo "== seeded bugs (each must be found)"
	expect_bug bug-sealer-not-counted reserve.pml "-DBUG_SEALER_NOT_COUNTED"
	expect_bug bug-leave-no-sealed    reserve.pml "-DBUG_LEAVE_NO_SEALED"
	expect_bug bug-ring-no-wait       reserve.pml "-DBUG_RING_NO_WAIT"
	expect_bug bug-tryseal-waits      reserve.pml "-DBUG_TRYSEAL_WAITS"
fi

echo "total time: $((SECONDS - start))s"
if [[ "$fail" != 0 ]]; then
	echo "verify.sh: FAILED" >&2
	exit 1
fi
echo "verify.sh: OK"
