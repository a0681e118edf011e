#!/usr/bin/env bash
# Compares augflow's throughput on the standard workload with its Python peers (Keras' flow,
# albumentations, OpenCV by hand) and the numpy copy floor, measured one after the other in
# the same run, and prints the environment and ONE Markdown table. augflow is measured twice:
# the Rust bench, and the Python package (built as a wheel and installed into the peers'
# virtualenv) in the peers' Python process.
#
# Usage: scripts/compare-peers.sh [--small] [--skip-setup] [--repeats N]
#   --small        64x64 images instead of 224x224 (512 images, batches of 32 either way)
#   --skip-setup   do not (re)create the peers' virtualenv; use the one already there
#   --repeats N    timed epochs per row, the median is reported (default 5, same for both)
#
# Environment:
#   AUGFLOW_PEER_BENCH_DIR  folder with setup.sh and bench.py
#                           (default: ../shared/peer-bench relative to the repository root)
#   AUGFLOW_PEER_VENV       virtualenv for the peers (default: setup.sh's, ~/.cache/augflow-peer-bench)
#   AUGFLOW_PEER_PYTHON     with --skip-setup: the peers' python (default: $AUGFLOW_PEER_VENV/bin/python)
#   PIP_DEFAULT_TIMEOUT, PIP_RETRIES  passed to pip by setup.sh (defaults here: 20 s, 1 retry,
#                           so that an unreachable PyPI fails in under a minute)
#
# Exit status: 0 when every row was measured; 1 when the peers or augflow could not be set up
# or measured (what was measured is still printed, and why the rest is missing); 2 on bad usage.
# Progress and build output go to stderr; the report goes to stdout.
set -euo pipefail

usage() { sed -n '2,21s/^# \{0,1\}//p' "$0"; }

small=0
skip_setup=0
repeats=5
while [ $# -gt 0 ]; do
  case $1 in
    --small) small=1 ;;
    --skip-setup) skip_setup=1 ;;
    --repeats)
      [ $# -ge 2 ] || { echo "compare-peers: --repeats needs a value" >&2; exit 2; }
      repeats=$2
      shift
      ;;
    --repeats=*) repeats=${1#--repeats=} ;;
    -h | --help) usage; exit 0 ;;
    *) echo "compare-peers: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
case $repeats in
  '' | *[!0-9]* | 0) echo "compare-peers: --repeats wants an integer >= 1, got '$repeats'" >&2; exit 2 ;;
esac
command -v python3 >/dev/null || { echo "compare-peers: python3 is needed to read the results" >&2; exit 1; }

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$script_dir/.." && pwd)
peer_dir=${AUGFLOW_PEER_BENCH_DIR:-$root/../shared/peer-bench}
[ -d "$peer_dir" ] && peer_dir=$(cd "$peer_dir" && pwd)
venv=${AUGFLOW_PEER_VENV:-$HOME/.cache/augflow-peer-bench}
size_args=()
[ "$small" = 1 ] && size_args=(--small)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
peer_error=""
augflow_error=""
python_error=""
py=""

log() { echo "compare-peers: $*" >&2; }
# The last lines of a log file, indented, for an error message.
tail_of() { tail -n "${2:-15}" "$1" | sed 's/^/    /'; }

# 1. The peers' virtualenv (once; setup.sh keeps it when it already imports).
if [ ! -f "$peer_dir/setup.sh" ] || [ ! -f "$peer_dir/bench.py" ]; then
  peer_error="no setup.sh and bench.py in $peer_dir (set AUGFLOW_PEER_BENCH_DIR to the peer-bench folder)"
elif [ "$skip_setup" = 1 ]; then
  py=${AUGFLOW_PEER_PYTHON:-$venv/bin/python}
  if [ ! -x "$py" ]; then
    peer_error="--skip-setup, but there is no python at $py (run once without --skip-setup)"
  elif ! "$py" -c 'import albumentations, keras_preprocessing, cv2' 2>"$tmp/setup.log"; then
    peer_error="--skip-setup, but $py cannot import the peers (run once without --skip-setup):
$(tail_of "$tmp/setup.log" 5)"
  fi
else
  log "setting up the Python peers in $venv (about 20 s the first time; needs PyPI)"
  if PIP_DEFAULT_TIMEOUT=${PIP_DEFAULT_TIMEOUT:-20} PIP_RETRIES=${PIP_RETRIES:-1} \
    bash "$peer_dir/setup.sh" "$venv" >"$tmp/setup.out" 2>"$tmp/setup.log"; then
    py=$(tail -n 1 "$tmp/setup.out")
  else
    peer_error="the peers' setup failed ($peer_dir/setup.sh; is PyPI reachable?):
$(tail_of "$tmp/setup.log")"
  fi
fi

# 2. Build augflow's bench before anything is timed, so that compiling overlaps no measurement.
log "building augflow's bench (cargo build --release -p augflow-cli)"
if ! (cd "$root" && cargo build --release -p augflow-cli) >&2; then
  augflow_error="cargo build --release -p augflow-cli failed (output above)"
fi

# 3. The peers, then augflow: one after the other, never at the same time.
if [ -z "$peer_error" ]; then
  log "running the peers: $py $peer_dir/bench.py --json${size_args[*]+ ${size_args[*]}} --repeats $repeats"
  if NO_ALBUMENTATIONS_UPDATE=1 "$py" "$peer_dir/bench.py" --json "$tmp/peers.json" \
    ${size_args[@]+"${size_args[@]}"} --repeats "$repeats" >"$tmp/peers.log" 2>&1; then
    grep -E '^ +done ' "$tmp/peers.log" | sed 's/^ */  /' >&2 || true
  else
    peer_error="the peer bench failed:
$(tail_of "$tmp/peers.log")"
  fi
  if [ -z "$peer_error" ]; then
    log "running albumentations with masks: $py scripts/peer_rows.py --rows albu_mask"
    if ! NO_ALBUMENTATIONS_UPDATE=1 "$py" "$root/scripts/peer_rows.py" "$peer_dir" --rows albu_mask \
      --json "$tmp/peer_masks.json" ${size_args[@]+"${size_args[@]}"} --repeats "$repeats" \
      >>"$tmp/peers.log" 2>&1; then
      peer_error="the peers' mask row failed:
$(tail_of "$tmp/peers.log")"
    fi
  fi
  if [ -z "$peer_error" ]; then
    log "running albumentations' ImageNet recipes: $py scripts/peer_rows.py --rows albu_imagenet,albu_randaugment"
    if ! NO_ALBUMENTATIONS_UPDATE=1 "$py" "$root/scripts/peer_rows.py" "$peer_dir" \
      --rows albu_imagenet,albu_randaugment --json "$tmp/peer_recipes.json" \
      ${size_args[@]+"${size_args[@]}"} --repeats "$repeats" >>"$tmp/peers.log" 2>&1; then
      peer_error="the peers' recipe rows failed:
$(tail_of "$tmp/peers.log")"
    fi
  fi
  if [ -z "$peer_error" ] && grep -q 'FAILED' "$tmp/peers.log"; then
    # bench.py goes on after a failed row; the row is missing from the table.
    peer_error="some peer rows failed:
$(grep -A 8 'FAILED' "$tmp/peers.log" | sed 's/^/    /')"
  fi
fi
if [ -z "$augflow_error" ]; then
  log "running augflow: cargo run --release -p augflow-cli -- bench --json${size_args[*]+ ${size_args[*]}} --repeats $repeats"
  if ! (cd "$root" && cargo run --quiet --release -p augflow-cli -- bench --json \
    ${size_args[@]+"${size_args[@]}"} --repeats "$repeats") >"$tmp/augflow.json" 2>"$tmp/augflow.log"; then
    augflow_error="augflow's bench failed:
$(tail_of "$tmp/augflow.log")"
  fi
  log "running augflow's ImageNet recipes: cargo run --release -p augflow-cli -- bench-recipe --json --repeats $repeats"
  if [ -z "$augflow_error" ] && ! (cd "$root" && cargo run --quiet --release -p augflow-cli -- \
    bench-recipe --json --repeats "$repeats") >"$tmp/augflow_recipes.json" 2>>"$tmp/augflow.log"; then
    augflow_error="augflow's bench-recipe failed:
$(tail_of "$tmp/augflow.log")"
  fi
fi

# 4. augflow's Python package in the peers' process: a release wheel (maturin, from the
# workspace's target/ so a rebuild is incremental), installed into the peers' virtualenv.
if [ -n "$py" ] && [ -z "$peer_error" ]; then
  log "building augflow's Python wheel (maturin build --release) into the peers' virtualenv"
  if ! { "$py" -m pip install -q maturin && (cd "$root" && "$py" -m maturin build --release \
    -m python/Cargo.toml -i "$py" --out "$tmp/wheel") &&
    "$py" -m pip install -q --force-reinstall --no-deps "$tmp"/wheel/*.whl; } >"$tmp/wheel.log" 2>&1; then
    python_error="building or installing augflow's wheel failed:
$(tail_of "$tmp/wheel.log")"
  else
    rows=augflow_python,augflow_python_keras,augflow_python_exact
    log "running augflow's Python rows: $py scripts/peer_rows.py --rows $rows"
    if ! "$py" "$root/scripts/peer_rows.py" "$peer_dir" --rows "$rows" --json "$tmp/python_rows.json" \
      ${size_args[@]+"${size_args[@]}"} --repeats "$repeats" >"$tmp/python_rows.log" 2>&1; then
      python_error="augflow's Python rows failed:
$(tail_of "$tmp/python_rows.log")"
    fi
  fi
else
  python_error="needs the peers' virtualenv"
fi

# 5. The environment and the table.
export CP_ROOT=$root CP_TMP=$tmp CP_PY=$py CP_SMALL=$small CP_REPEATS=$repeats
export CP_PEER_ERROR=$peer_error CP_AUGFLOW_ERROR=$augflow_error CP_PYTHON_ERROR=$python_error
python3 - <<'EOF'
import datetime, json, os, platform, re, subprocess

root, tmp = os.environ["CP_ROOT"], os.environ["CP_TMP"]
peer_error, augflow_error = os.environ["CP_PEER_ERROR"], os.environ["CP_AUGFLOW_ERROR"]
python_error = os.environ["CP_PYTHON_ERROR"]


def run(*cmd, cwd=None):
    try:
        return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def load(name):
    try:
        with open(os.path.join(tmp, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def lock_versions(names):
    out, name = {}, None
    try:
        text = open(os.path.join(root, "Cargo.lock")).read()
    except OSError:
        return out
    for line in text.splitlines():
        m = re.match(r'(name|version) = "(.*)"$', line)
        if not m:
            continue
        if m.group(1) == "name":
            name = m.group(2)
        elif name in names:
            out.setdefault(name, []).append(m.group(2))
    return {k: "/".join(v) for k, v in out.items()}


def cpu():
    model, count = "?", 0
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name") and model == "?":
                model = line.split(":", 1)[1].strip()
            if line.startswith("processor"):
                count += 1
    except OSError:
        pass
    return model, count


peers, aug = load("peers.json"), load("augflow.json")
peer_masks, python_rows = load("peer_masks.json"), load("python_rows.json")
recipes = [load("peer_recipes.json"), load("augflow_recipes.json")]
if aug is None and not augflow_error:
    augflow_error = "augflow's bench printed no JSON"
if peers is None and not peer_error:
    peer_error = "the peer bench wrote no JSON"

# ---- environment -------------------------------------------------------------------------
size = 64 if os.environ["CP_SMALL"] == "1" else 224
reps = os.environ["CP_REPEATS"]
model, count = cpu()
lock = lock_versions({"augflow", "image", "ndarray", "rayon", "rand_chacha"})
commit = run("git", "rev-parse", "--short", "HEAD", cwd=root)
if commit != "?" and run("git", "status", "--porcelain", "--untracked-files=no", cwd=root):
    commit += "-dirty"
print("## augflow vs Python peers: standard workload")
print()
print(f"- date: {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}")
print(f"- cpu: {model}; {count} logical cores in /proc/cpuinfo, {os.cpu_count()} usable "
      f"({len(os.sched_getaffinity(0))} in this process's affinity); {platform.machine()}, "
      f"Linux {platform.release()}")
print(f"- rust: {run('rustc', '--version')}; {run('cargo', '--version')}")
kernel = aug.get("kernel", "?") if aug else "?"
print(f"- augflow {lock.get('augflow', '?')} (git {commit}, kernel build {kernel}); "
      + ", ".join(f"{k} {lock.get(k, '?')}" for k in ("image", "ndarray", "rayon", "rand_chacha")))
if peers:
    v = peers["versions"]
    print(f"- python {v['python']}; numpy {v['numpy']}, opencv {v['opencv']}, "
          f"albumentations {v['albumentations']}, keras_preprocessing {v['keras_preprocessing']}, "
          f"scipy {v['scipy']}")
else:
    print(f"- python: {run('python3', '--version')} (system); peers not measured")
print(f"- workload: 512 random u8 images {size}x{size}x3 -> f32 batches of 32; rotation ±20°, "
      f"width/height shift ±10 %, shear ±10°, zoom ±10 %, horizontal flip, nearest fill, ×1/255; "
      f"bilinear; median img/s of {reps} timed epoch{'s' if reps != '1' else ''}; peers then augflow, "
      f"one after the other")
print("- mask rows: the same workload with one `u8` `(H, W)` mask per image (1 where the first "
      "channel > 127) moved with its image by nearest sampling, stacked into a `u8` batch")
print("- recipe rows: 512 random u8 images 375x500x3 -> f32 batches of 32 of 224x224: "
      "RandomResizedCrop(224) + horizontal flip + ColorJitter(0.4, 0.4, 0.4) + ImageNet "
      "normalize; RandAugment rows: RandomResizedCrop(224) + RandAugment(num_ops=2) "
      "(albumentations: SomeOf(2) of affine and colour ops) + normalize")
print()

# ---- table -------------------------------------------------------------------------------
rate = {}  # (row, threads) -> img/s
if aug:
    for r in aug["rows"]:
        rate[("augflow", r["threads"])] = r["augflow"]
        rate[("augflow_floor", r["threads"])] = r["floor"]
        rate[("augflow_mask", r["threads"])] = r.get("with_mask")
        rate[("augflow_uint8", r["threads"])] = r.get("uint8")
for p in (peers, peer_masks, python_rows, *recipes):
    for r in (p or {}).get("results", []):
        rate[(r["row"], r["threads"])] = r["images_per_s"]
threads = sorted({t for _, t in rate}) or [1, 2]

ROWS = [
    ("augflow", "augflow (`NumpyArrayIterator`)"),
    ("augflow_uint8", "augflow, `uint8` batches (`output::<u8>()`, no ×1/255: the model normalizes)"),
    ("augflow_python", "augflow (Python): `augflow.ImageDataGenerator(...).flow(x)`"),
    ("augflow_python_keras", "augflow (Python), Keras drop-in: Keras' geometry, fast kernel"),
    ("augflow_python_exact", "augflow (Python), Keras drop-in, `kernel=\"exact\"` (Keras' bits)"),
    ("augflow_floor", "augflow floor (u8 → f32 ×1/255 copy, rayon)"),
    ("floor", "numpy floor (u8 → f32 ×1/255 copy)"),
    ("albu_div255", "albumentations `Affine` + `HorizontalFlip`, ÷255"),
    ("albu_normalize", "albumentations, with `Normalize`"),
    ("cv2_direct", "OpenCV by hand (`warpAffine` + `flip`)"),
    ("keras_flow", "Keras `ImageDataGenerator.flow()`"),
    ("augflow_mask", "augflow, with a `u8` mask per image (`flow(x).masks(m)`)"),
    ("albu_mask", "albumentations, with `mask=`"),
    ("augflow_imagenet", "ImageNet recipe: augflow (`flow(x).pipeline(..)`)"),
    ("albu_imagenet", "ImageNet recipe: albumentations"),
    ("augflow_randaugment", "RRC + RandAugment(2): augflow"),
    ("albu_randaugment", "RRC + SomeOf(2) (RandAugment's nearest): albumentations"),
]
RATIOS = [
    ("augflow / albumentations", "augflow", "albu_div255"),
    ("augflow / OpenCV by hand", "augflow", "cv2_direct"),
    ("augflow / Keras", "augflow", "keras_flow"),
    ("augflow (Python) / augflow (Rust)", "augflow_python", "augflow"),
    ("augflow (Python) / albumentations", "augflow_python", "albu_div255"),
    ("Keras drop-in / albumentations", "augflow_python_keras", "albu_div255"),
    ("Keras drop-in / Keras", "augflow_python_keras", "keras_flow"),
    ("augflow floor / augflow", "augflow_floor", "augflow"),
    ("augflow uint8 / f32 batches", "augflow_uint8", "augflow"),
    ("numpy floor / augflow", "floor", "augflow"),
    ("with masks: augflow / albumentations", "augflow_mask", "albu_mask"),
    ("augflow's time with a mask / without", "augflow", "augflow_mask"),
    ("albumentations' time with a mask / without", "albu_div255", "albu_mask"),
    ("ImageNet recipe: augflow / albumentations", "augflow_imagenet", "albu_imagenet"),
    ("RandAugment: augflow / albumentations", "augflow_randaugment", "albu_randaugment"),
]


def img(v):
    return "—" if v is None else f"{v:,.0f}"


def x(v):
    return "—" if v is None else f"{v:.2f}×"


def div(a, b):
    return None if a is None or b is None or b == 0 else a / b


def scaling(row):
    if 1 in threads and 2 in threads:
        return x(div(rate.get((row, 2)), rate.get((row, 1))))
    return "—"


head = ["img/s"] + [f"{t} thread{'s' if t > 1 else ''}" for t in threads] + ["1 → 2 threads"]
print("| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
for key, label in ROWS:
    print(f"| {label} | " + " | ".join(img(rate.get((key, t))) for t in threads)
          + f" | {scaling(key)} |")
for label, a, b in RATIOS:
    print(f"| **{label}** | "
          + " | ".join(x(div(rate.get((a, t)), rate.get((b, t)))) for t in threads) + " | |")
print()
print("augflow's 1 → 2 thread scaling: " + scaling("augflow"))
print("augflow's ImageNet recipe 1 → 2 thread scaling: " + scaling("augflow_imagenet"))

failed = False
for what, err in (("peers", peer_error), ("augflow", augflow_error),
                  ("augflow's Python package", python_error)):
    if err:
        failed = True
        print(f"\nNOT MEASURED ({what}): {err}")
raise SystemExit(1 if failed else 0)
EOF
