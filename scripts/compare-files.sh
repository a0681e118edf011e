#!/usr/bin/env bash
# Compares augflow reading a folder of JPEGs with its Python peers (Keras, the PIL path,
# cv2 + albumentations, and libjpeg-turbo decode floors through simplejpeg), measured one
# after the other in the same run, and prints ONE table (peer-bench/files' summarize.py)
# plus the decode-only comparison of augflow's JPEG decoders with simplejpeg.
#
# Usage: scripts/compare-files.sh [--repeats N] [--rows LIST] [--skip-setup]
#   --repeats N    timed epochs per row, after one warm-up; the median is reported (default 3)
#   --rows LIST    the peers' rows, comma-separated (bench_files.py's names; default
#                  keras_aug,pil_aug,cv2_albu_aug,pil_decode,cv2_decode,sj_decode,sj_dct224,sj_resize)
#   --skip-setup   use the peers' virtualenv as it is (no pip)
#
# augflow's rows (`augflow bench --files`, 1 and 2 threads): the full workload
# (`flow_from_directory`, bilinear and nearest), decode + resize, and decode only with each
# JPEG decoder (decode_image: the pure-Rust `image` crate; decode_turbojpeg: libjpeg-turbo).
#
# Environment:
#   AUGFLOW_FILES_BENCH_DIR  peer-bench/files (default: ../shared/peer-bench/files from the repository root)
#   AUGFLOW_FILES_VENV       the peers' virtualenv (default ~/.cache/augflow-files-bench)
#   AUGFLOW_FILES_DATA       the generated data (default /tmp/files-bench-data; made when missing)
#   AUGFLOW_QUIET_WAIT       seconds each peer row waits for a quiet machine (default 5)
#
# The JSON lines stay in the run folder printed at the end. Exit status: 0 when every row was
# measured, 1 otherwise (what was measured is still printed), 2 on bad usage.
set -euo pipefail

usage() { sed -n '2,26s/^# \{0,1\}//p' "$0"; }
repeats=3
rows=keras_aug,pil_aug,cv2_albu_aug,pil_decode,cv2_decode,sj_decode,sj_dct224,sj_resize
skip_setup=0
while [ $# -gt 0 ]; do
  case $1 in
    --repeats) [ $# -ge 2 ] || { usage >&2; exit 2; }; repeats=$2; shift ;;
    --rows) [ $# -ge 2 ] || { usage >&2; exit 2; }; rows=$2; shift ;;
    --skip-setup) skip_setup=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "compare-files: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
case $repeats in
  '' | *[!0-9]* | 0) echo "compare-files: --repeats wants an integer >= 1, got '$repeats'" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench_dir=${AUGFLOW_FILES_BENCH_DIR:-$root/../shared/peer-bench/files}
venv=${AUGFLOW_FILES_VENV:-$HOME/.cache/augflow-files-bench}
data=${AUGFLOW_FILES_DATA:-/tmp/files-bench-data}
run=$(mktemp -d /tmp/augflow-compare-files.XXXXXX)
log() { echo "compare-files: $*" >&2; }
failed=0
lock=()
command -v flock >/dev/null && lock=(flock /tmp/cpu.lock)

[ -f "$bench_dir/bench_files.py" ] || { log "no bench_files.py in $bench_dir (set AUGFLOW_FILES_BENCH_DIR)"; exit 1; }
py=$venv/bin/python
if [ "$skip_setup" = 0 ] && ! "$py" -c 'import simplejpeg, cv2, albumentations, keras_preprocessing' 2>/dev/null; then
  log "setting up the peers in $venv (needs PyPI)"
  python3 -m venv "$venv" && "$py" -m pip install -q -r "$bench_dir/requirements.txt" >&2 \
    || { log "the peers' setup failed"; exit 1; }
fi
if [ ! -d "$data/imagenet" ]; then
  log "writing the benchmark files into $data (about 35 s)"
  "$py" "$bench_dir/gen_data.py" --out "$data" >&2 || { log "gen_data.py failed"; exit 1; }
fi

log "building augflow (cargo build --release -p augflow-cli)"
(cd "$root" && cargo build --quiet --release -p augflow-cli) >&2 || { log "the build failed"; exit 1; }

log "running the peers: bench_files.py --rows $rows --repeats $repeats"
if ! NO_ALBUMENTATIONS_UPDATE=1 "$py" "$bench_dir/bench_files.py" --data "$data/imagenet" \
  --rows "$rows" --repeats "$repeats" --max-quiet-wait "${AUGFLOW_QUIET_WAIT:-5}" \
  --json "$run/python.jsonl" >"$run/python.log" 2>&1 || grep -q FAILED "$run/python.log"; then
  log "some peer rows failed:"; grep -A5 FAILED "$run/python.log" >&2 || tail -5 "$run/python.log" >&2
  failed=1
fi
log "running augflow: augflow bench --files $data/imagenet --threads 1,2 --repeats $repeats"
if ! ${lock[@]+"${lock[@]}"} "$root/target/release/augflow" bench --files "$data/imagenet" \
  --threads 1,2 --repeats "$repeats" --jsonl "$run/augflow.jsonl" >"$run/augflow.log" 2>&1; then
  log "augflow's bench failed:"; tail -5 "$run/augflow.log" >&2
  failed=1
fi

echo "## augflow vs Python peers on JPEG files ($(date -u '+%Y-%m-%d %H:%M UTC'), git $(git -C "$root" rev-parse --short HEAD))"
echo
grep -m1 '^versions:' "$run/python.log" | sed 's/^/- /' || true
echo "- $(nproc) cores; $(rustc --version); data: $data/imagenet, median of $repeats epochs"
echo
"$py" "$bench_dir/summarize.py" "$run"
echo
# The decode-only rows summarize.py has no line for: each of augflow's decoders beside
# simplejpeg (libjpeg-turbo), the issue's "decode-only >= 1.0x simplejpeg".
"$py" - "$run" <<'EOF'
import json, os, statistics, sys
run = sys.argv[1]
rates, cpu_rates = {}, {}
for name in os.listdir(run):
    if name.endswith(".jsonl"):
        for line in open(os.path.join(run, name)):
            r = json.loads(line)
            key = (r["tool"], r["row"], r.get("mode") or f"t{r['threads']}")
            rates.setdefault(key, []).append(r["img_per_s"])
            if r.get("own_cores"):  # images per second of the process's own CPU time
                mean = r["n"] * len(r["times"]) / sum(r["times"])
                cpu_rates.setdefault(key, []).append(mean / r["own_cores"])
med = lambda d, *k: statistics.median(d[k]) if k in d else None
fmt = lambda v: "—" if v is None else f"{v:,.0f}"
ratio = lambda a, b: "—" if a is None or b is None else f"{a / b:.2f}×"
print("Decode only, full size, one thread. Wall: images per second; CPU: images per second of "
      "the process's own CPU time (less sensitive to other processes on a shared machine).")
print()
print("| decoder | wall img/s | CPU img/s | wall / simplejpeg | CPU / simplejpeg | 2 threads wall img/s |")
print("|---|---:|---:|---:|---:|---:|")
sj, sjc = med(rates, "python", "sj_decode", "t1"), med(cpu_rates, "python", "sj_decode", "t1")
for label, tool, row, two in (
        ("augflow, libjpeg-turbo (decode_turbojpeg)", "augflow", "decode_turbojpeg", "t2"),
        ("augflow, pure Rust: `image` crate / zune-jpeg (decode_image)", "augflow", "decode_image", "t2"),
        ("simplejpeg (libjpeg-turbo); 2: Pool(2)", "python", "sj_decode", "p2"),
        ("cv2.imread (libjpeg-turbo); 2: Pool(2)", "python", "cv2_decode", "p2")):
    w, c = med(rates, tool, row, "t1"), med(cpu_rates, tool, row, "t1")
    print(f"| {label} | {fmt(w)} | {fmt(c)} | {ratio(w, sj)} | {ratio(c, sjc)} | "
          f"{fmt(med(rates, tool, row, two))} |")
EOF
echo
echo "JSON lines and logs: $run"
exit "$failed"
