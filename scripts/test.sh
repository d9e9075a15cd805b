#!/usr/bin/env bash
# The whole test suite on a fresh machine with only the Rust toolchain:
# installs what the tests need, then runs every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

# DuckDB's Python package: the analyst test reads our Parquet with it.
if ! python3 -c "import duckdb" 2>/dev/null; then
  echo "== installing duckdb (Python) for the Parquet test"
  python3 -m pip install --quiet duckdb || python3 -m pip install --quiet --break-system-packages duckdb
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== cargo test"
cargo test --workspace --release
