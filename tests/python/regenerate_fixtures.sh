#!/usr/bin/env bash
# Regenerate the committed reference fixtures (tests/fixtures/) from the independent
# references: TA-Lib, pandas, statsmodels and arch, pinned below, installed into their
# own virtual environment ($BOT4_REF_VENV, default ~/.cache/bot4/ref-venv). The Rust
# tests read the fixtures and need no Python.
#
# Usage: bash tests/python/regenerate_fixtures.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

venv="${BOT4_REF_VENV:-$HOME/.cache/bot4/ref-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  "ta-lib==0.8.2" "numpy>=2,<3" "pandas>=2.2,<3" "pyarrow>=17" "arch==8.0.0" "statsmodels==0.15.0"

cargo build --release -p bot4-pipeline --bin bot4
bot4="${CARGO_TARGET_DIR:-target}/release/bot4"
"$venv/bin/python" tests/python/make_indicator_fixtures.py --bot4 "$bot4" --out tests/fixtures/indicators
"$venv/bin/python" tests/python/make_stats_fixtures.py --bot4 "$bot4" --out tests/fixtures/stats
"$venv/bin/python" tests/python/make_garch_fixtures.py --out tests/fixtures/garch
"$venv/bin/python" tests/python/make_arima_fixtures.py --out tests/fixtures/arima
