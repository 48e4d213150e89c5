#!/usr/bin/env bash
# Build casewarden and run every test: the unit tests, the rule fixtures,
# the command-line tests, and the integration tests against private
# MariaDB servers (two at a time; the cluster, outage and load tests
# alone), first in a release build, then again under
# AddressSanitizer and UndefinedBehaviorSanitizer; the console in a real
# browser once (release); the API under ThreadSanitizer; the fuzz targets
# briefly (scripts/fuzz --suite). Ends with one "N passed, N failed" line.
set -uo pipefail
case ${1-} in
    --help|-h) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; echo "Usage: scripts/test.sh (no options)"; exit 0 ;;
    "") ;;
    *) echo "test.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
esac
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

"$top/scripts/deps.sh" || exit 1

passed=0
failed=0
count() {   # count cmocka's summary lines or our own "N passed, N failed"
    local out=$1 p f
    # cmocka writes to stdout and stderr, so its lines may be interleaved
    p=$(grep -o '\[  PASSED  \] [0-9]* test(s)\.' "$out" | awk '{s+=$4} END {print s+0}')
    f=$(grep -o '\[  FAILED  \] [0-9]* test(s)' "$out" | awk '{s+=$4} END {print s+0}')
    if [ "$p" = 0 ] && [ "$f" = 0 ]; then
        p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$out" | tail -n1)
        f=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$out" | tail -n1)
    fi
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
}

# report NAME OUT RC SECONDS: show a finished test's output, count its
# results; a crash counts as a failure
report() {
    local name=$1 out=$2 rc=$3
    cat "$out"
    echo "time: $name $4 s"
    count "$out"
    if [ "$rc" -ne 0 ] && ! grep -qE '\[  FAILED  \]|^[0-9]+ passed, [1-9][0-9]* failed$' "$out"; then
        echo "test: $name exited with status $rc"
        failed=$((failed + 1))
    fi
    rm -f "$out"
}

run() {   # run NAME CMD...
    local name=$1 out rc t0=$SECONDS
    shift
    out=$(mktemp)
    "$@" >"$out" 2>&1
    rc=$?
    report "$name" "$out" "$rc" $((SECONDS - t0))
}

# Two tests at a time: each has its own MariaDB, ports and directory, and
# most of their time is spent waiting on a server, so a second one uses
# the other core. run_bg LABEL NAME CMD... starts one in the background (after
# the oldest of two running is reported); run_wait reports the rest, in
# the order they started. A test that times itself against the machine
# (a cluster, an outage, a load) goes through run, alone.
bg_labels=() bg_names=() bg_outs=() bg_pids=() bg_t0=()
run_oldest() {
    local rc
    wait "${bg_pids[0]}"
    rc=$?
    echo "-- ${bg_labels[0]}"
    report "${bg_names[0]}" "${bg_outs[0]}" "$rc" "$(( $(cat "${bg_outs[0]}.end") - bg_t0[0] ))"
    rm -f "${bg_outs[0]}.end"
    bg_labels=("${bg_labels[@]:1}") bg_names=("${bg_names[@]:1}") bg_outs=("${bg_outs[@]:1}") bg_pids=("${bg_pids[@]:1}") bg_t0=("${bg_t0[@]:1}")
}
run_bg() {   # run_bg LABEL NAME CMD...
    local label=$1 name=$2 out
    shift 2
    [ "${#bg_pids[@]}" -ge 2 ] && run_oldest
    out=$(mktemp)
    ( "$@" >"$out" 2>&1 </dev/null; rc=$?; echo "$SECONDS" >"$out.end"; exit $rc ) &
    bg_labels+=("$label") bg_names+=("$name") bg_outs+=("$out") bg_pids+=($!) bg_t0+=("$SECONDS")
}
run_wait() {
    while [ "${#bg_pids[@]}" -gt 0 ]; do run_oldest; done
}

for flavour in release asan; do
    echo "== $flavour build"
    if ! bdir=$("$top/scripts/build.sh" "$flavour"); then
        echo "test: the $flavour build failed"
        failed=$((failed + 1))
        continue
    fi
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    for t in "$bdir"/tests/unit/test_*; do
        [ -x "$t" ] || continue
        echo "-- $(basename "$t") ($flavour)"
        run "$(basename "$t")" "$t"
    done
    echo "-- rule fixtures ($flavour)"
    run "casewarden test" "$bdir/casewarden" test "$top/rules"
    echo "-- command-line tests ($flavour)"
    run "cli tests" "$top/tests/cli/run.sh" "$bdir/casewarden"
    for t in "$top"/tests/cli/*.sh; do
        [ "$t" = "$top/tests/cli/run.sh" ] && continue
        echo "-- $(basename "$t" .sh) ($flavour)"
        run "$(basename "$t")" "$t" "$bdir/casewarden"
    done
    echo "-- benchmark ground truth, small ($flavour)"
    run "bench smoke" "$top/tests/bench/smoke.sh" "$bdir/casewarden" "$bdir/bench/gen" "$bdir/bench/truth"
    echo "-- benchmark CLIPS peer against eval, small ($flavour)"
    run "bench clips" "$top/tests/bench/clips.sh" "$bdir/casewarden" "$bdir/bench/gen" \
        "$bdir/bench/clips/peer" "$bdir/bench/clips/compare"
    echo "-- suggestions followed to the letter ($flavour)"
    run "bench follow" "$top/tests/bench/follow.sh" "$bdir/casewarden" "$bdir/bench/gen"
    # against a private MariaDB each script starts, and always stops
    for t in "$top"/tests/integration/*.sh; do
        [ "$(basename "$t")" = lib.sh ] && continue
        case $(basename "$t" .sh) in
            galera|faults|load|serve-threads) continue ;;     # alone, below
        esac
        run_bg "integration: $(basename "$t" .sh) ($flavour)" "integration $(basename "$t")" "$t" "$bdir/casewarden"
    done
    run_wait
    for t in galera faults load serve-threads; do
        echo "-- integration: $t ($flavour, alone)"
        run "integration $t.sh" "$top/tests/integration/$t.sh" "$bdir/casewarden"
    done
    # the console in chromium, once: screenshots in _build/screenshots
    if [ "$flavour" = release ]; then
        echo "-- browser: the console (release)"
        run "browser" "$top/tests/browser/run.sh" "$bdir/casewarden"
    fi
done

# ThreadSanitizer where the HTTP threads meet the engine's loop: the API
# and the loop tests (streams, reloads, reviews while events arrive);
# serve's engine threads (serve --threads); and eval's threads
echo "== tsan build"
if bdir=$("$top/scripts/build.sh" tsan); then
    tsan_dir=$(mktemp -d)
    for t in api loop notify; do
        run_bg "integration: $t (tsan)" "tsan $t" env TSAN_OPTIONS="halt_on_error=0 log_path=$tsan_dir/report" \
            "$top/tests/integration/$t.sh" "$bdir/casewarden"
    done
    # eval --threads: the reader, the queues and N engines, on a smaller feed
    run_bg "cli: threads (tsan)" "tsan threads" env THREADS_EVENTS=12000 \
        TSAN_OPTIONS="halt_on_error=0 log_path=$tsan_dir/report" "$top/tests/cli/threads.sh" "$bdir/casewarden"
    run_wait
    # alone: its engines renew 1-second leases while they judge
    echo "-- integration: serve-threads (tsan, alone)"
    run "tsan serve-threads" env TSAN_OPTIONS="halt_on_error=0 log_path=$tsan_dir/report" \
        "$top/tests/integration/serve-threads.sh" "$bdir/casewarden"
    if ls "$tsan_dir"/report* >/dev/null 2>&1; then
        echo "FAIL: ThreadSanitizer reported:"; head -n 60 "$tsan_dir"/report*
        failed=$((failed + 1))
    else
        echo "tsan: no data race reported"
        passed=$((passed + 1))
    fi
    rm -rf "$tsan_dir"
else
    echo "test: the tsan build failed"
    failed=$((failed + 1))
fi

# the libFuzzer targets, bounded (8 s each with CI=true, else 5 s; an hour each by hand)
echo "-- fuzzing, bounded (scripts/fuzz --suite)"
run "fuzz" "$top/scripts/fuzz" --suite

# README's main command, run once through the commands it prints
echo "-- the served demo (scripts/demo.sh --check)"
demo_dir=$(mktemp -d)
run "demo" env CW_DEMO_DIR="$demo_dir" CW_DEMO_PORT=$((20000 + RANDOM % 12000)) CW_DEMO_HOOK_PORT=$((10000 + RANDOM % 10000)) \
    "$top/scripts/demo.sh" --check
rm -rf "$demo_dir"

echo
echo "time: all $SECONDS s"
echo "all: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
