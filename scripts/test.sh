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
cargo test --workspace --release
