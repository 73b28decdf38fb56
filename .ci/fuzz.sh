#!/usr/bin/env bash
# Go native fuzzing with a time budget: every fuzz target of the repository
# (every `func FuzzX` in a _test.go file, root module and nested modules such
# as raftstore alike), one after the other, for FUZZTIME each. The committed
# corpora (testdata/fuzz/FuzzX) already replay under plain `go test ./...`;
# this script searches for new inputs. A failing input is written by the Go
# tool to the package's testdata/fuzz/FuzzX/ and shown below: commit it with
# the fix so that plain `go test` replays it from then on.
#
# Environment:
#   FUZZTIME      time per target (go test -fuzztime), default 8s; with 13
#                 targets that is about 2.5 minutes on 2 cores, builds
#                 included.
#   FUZZPARALLEL  fuzzing workers per target (go test -parallel), default 2.
#   FUZZTARGETS   a regexp; only targets whose name matches run (default all).
#   FUZZMINIMIZETIME  go test -fuzzminimizetime, default 1s. The Go default
#                 (60s) lets the minimization of each new interesting input
#                 eat a whole short budget of the slow targets (FuzzOps,
#                 FuzzRecover); minimized inputs only matter for the corpus,
#                 which CI throws away.
#
# Go 1.26's fuzzing coordinator can fail a target that found nothing, with a
# bare "context deadline exceeded" right at the -fuzztime deadline (a race
# between the deadline's parent and child contexts: golang/go#75804, fixed in
# Go 1.27). A real finding always writes its input first ("Failing input
# written to"), so a failure with that message and without a written input
# is run again, up to twice, and reported as "retry" when it then passes.
#
# -fuzz takes one target of one package per invocation, so each target is
# its own `go test` run from its package's directory (which selects the
# module). Every target runs even after a failure; the script fails at the
# end if any did.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
fuzztime="${FUZZTIME:-8s}"
parallel="${FUZZPARALLEL:-2}"
minimize="${FUZZMINIMIZETIME:-1s}"
only="${FUZZTARGETS:-.}"

# "dir name" for every fuzz target, sorted. bench/ and examples/ hold no
# engine code; they are searched too, so a target added there is not missed.
mapfile -t targets < <(
	grep -rE --include='*_test.go' -o '^func Fuzz[A-Za-z0-9_]*\(' . |
		sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\($#\1 \2#' |
		grep -v '/testdata/' | sort -u
)
if [ "${#targets[@]}" -eq 0 ]; then
	echo "fuzz: no fuzz targets found" >&2
	exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
failed=()
start=$SECONDS
echo "== fuzzing ${#targets[@]} targets, ${fuzztime} each, ${parallel} workers"
for t in "${targets[@]}"; do
	dir=${t% *}
	name=${t#* }
	if ! [[ $name =~ $only ]]; then
		continue
	fi
	t0=$SECONDS
	status=FAIL
	for attempt in 1 2 3; do
		if (cd "$dir" && go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" \
			-fuzzminimizetime "$minimize" -parallel "$parallel" .) >"$log" 2>&1; then
			status=ok
			[ "$attempt" -gt 1 ] && status=retry
			break
		fi
		# Only the coordinator's spurious deadline is retried (see above).
		if ! grep -q 'context deadline exceeded' "$log" || grep -q 'Failing input written to' "$log"; then
			break
		fi
	done
	if [ "$status" = FAIL ]; then
		failed+=("$dir $name")
	fi
	# The last progress line carries the total: "execs: N (M/sec)".
	execs=$(grep -oE 'execs: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
	printf 'fuzz %-5s %-40s %-16s %4ss  %s execs\n' "$status" "$name" "${dir#./}" $((SECONDS - t0)) "${execs:-?}"
	if [ "$status" = FAIL ]; then
		sed 's/^/    /' "$log"
	fi
done
echo "== fuzzing took $((SECONDS - start))s"
if [ "${#failed[@]}" -gt 0 ]; then
	echo "fuzz: ${#failed[@]} target(s) failed:"
	printf '  %s\n' "${failed[@]}"
	exit 1
fi
