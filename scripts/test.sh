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

# tansu, a Kafka-compatible broker: the Kafka tests run against it.
bash scripts/broker.sh install

# s3s-fs, an S3-compatible server over a directory: the S3 checkpoint-store
# tests start it on 127.0.0.1 (tests/support/s3.rs). 0.14.1: later releases
# need Rust 1.96 or newer.
CARGO_BIN=${CARGO_HOME:-$HOME/.cargo}/bin
if ! command -v s3s-fs >/dev/null 2>&1 && [ ! -x "$CARGO_BIN/s3s-fs" ]; then
  echo "== installing s3s-fs (cargo install, about 2 minutes)"
  cargo install s3s-fs --version 0.14.1 --features binary --locked
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
# One broker for the whole test run (tests/support/broker.rs uses it), on a
# free port, stopped on exit whether the tests pass or not.
if [ -z "${POOLTRACE_TEST_BROKER:-}" ]; then
  BROKER_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  trap 'bash scripts/broker.sh stop "$BROKER_PORT"' EXIT
  bash scripts/broker.sh start "$BROKER_PORT"
  export POOLTRACE_TEST_BROKER="127.0.0.1:$BROKER_PORT"
fi

echo "== cargo test"
# The `ci` profile: release optimisations without LTO (Cargo.toml).
cargo test --workspace --profile ci
