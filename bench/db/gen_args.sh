# Shared by the bench/db scripts over generated, stored events (restart.sh,
# reload.sh): their arguments, then the events generated and the shipped
# rules copied for the run.
#
#   . gen_args.sh NAME DEFAULT_EVENTS QUICK_EVENTS "$@"
#       BUILD_DIR [--events N] [--seed N] [--quick]; sets build_arg, events,
#       seed (default 7); the caller defines usage(). Then sources lib.sh.
#   gen_events: bench/gen into $work/g, the rules into $work/rules (no
#       notify.yaml, no fixtures); sets now, n_lines

gen_name=$1 events=$2 gen_quick=$3
shift 3
build_arg=
seed=7
while [ $# -gt 0 ]; do
    case $1 in
        -h|--help) usage; exit 0 ;;
        --quick) events=$gen_quick ;;
        --events|--seed)
            [ $# -ge 2 ] || { usage >&2; exit 2; }
            [[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "$gen_name: $1 needs a positive number" >&2; exit 2; }
            if [ "$1" = --events ]; then events=$2; else seed=$2; fi
            shift ;;
        -*) usage >&2; exit 2 ;;
        *) [ -z "$build_arg" ] || { usage >&2; exit 2; }; build_arg=$1 ;;
    esac
    shift
done
[ -n "$build_arg" ] || { usage >&2; exit 2; }

# shellcheck source=bench/db/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "${gen_name%.sh}" "$build_arg"

gen_events() {
    cp -r "$top/rules" "$work/rules"
    rm -rf "$work/rules/notify.yaml" "$work/rules/tests"   # no receivers, no fixtures here
    say "generating $events events (seed $seed)"
    "$gen" --seed "$seed" --events "$events" --out "$work/g" --rules "$work/rules" >/dev/null 2>"$work/gen.log" ||
        { cat "$work/gen.log" >&2; die "bench/gen failed"; }
    now=$(<"$work/g/now.txt")
    n_lines=$(wc -l <"$work/g/events.jsonl")
}
