#!/usr/bin/env bash
# The whole test suite, from a fresh Debian/Ubuntu machine with a Rust toolchain:
# installs what it needs (PostgreSQL among it), checks formatting and lints, runs every
# Rust test (cargo test --workspace, release profile: unit, property, reference and
# end-to-end tests, and the SQL tests against a throwaway PostgreSQL), builds
# the benchmarks, runs the demo, and reads its Parquet with pyarrow, polars and duckdb.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n== %s\n' "$*"; }

if ! command -v cargo >/dev/null 2>&1; then
  echo "tests/run.sh: cargo not found; install a Rust toolchain (1.89+) with rustup first" >&2
  exit 1
fi

need=()
command -v python3 >/dev/null 2>&1 || need+=(python3)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)
command -v cc >/dev/null 2>&1 || need+=(gcc)
# PostgreSQL's server programs: the SQL tests (tests/sql_queries.rs) start a throwaway
# server of their own with them, as the `postgres` user when run as root.
if ! command -v initdb >/dev/null 2>&1 && ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  need+=(postgresql)
fi
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi

target="${CARGO_TARGET_DIR:-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

say "format"
cargo fmt --all -- --check

say "clippy"
cargo clippy --workspace --all-targets --release -- -D warnings
# The hardware kill switch cannot run here, but it must build.
cargo clippy -p bot4-pipeline --release --features gpio -- -D warnings

say "build"
cargo build --release -p bot4-pipeline
# Absolute: the tests run from their own package folder.
export BOT4_BIN="$(cd "$target/release" && pwd)/bot4"

say "tests"
cargo test --workspace --release

say "benchmarks build"
cargo bench -p bot4-benches --no-run

say "demo, and its Parquet read by pyarrow, polars and duckdb"
venv="${BOT4_VENV:-$HOME/.cache/bot4/venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check pyarrow polars duckdb
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$BOT4_BIN" demo --out "$work/demo" --quiet
"$venv/bin/python" tests/python/read_outputs.py "$work/demo"

say "all tests passed"
