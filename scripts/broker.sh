#!/usr/bin/env bash
# A local Kafka-compatible broker for the tests and for trying pooltrace out:
# tansu (a Rust, Kafka-compatible broker; cargo install) with its in-memory storage engine.
#
#   scripts/broker.sh install        install tansu with cargo (only when missing; ~10 min)
#   scripts/broker.sh start PORT     start it on 127.0.0.1:PORT in the background, wait until ready
#   scripts/broker.sh stop [PORT]    stop the one on PORT (default: every one this script started)
#
# State (pid and log files): $POOLTRACE_BROKER_DIR, default ${TMPDIR:-/tmp}/pooltrace-broker.
# Topics are not auto-created: `pooltrace topics --brokers 127.0.0.1:PORT` makes them.
set -euo pipefail

TANSU_VERSION=0.6.0
STATE_DIR=${POOLTRACE_BROKER_DIR:-${TMPDIR:-/tmp}/pooltrace-broker}
CARGO_BIN=${CARGO_HOME:-$HOME/.cargo}/bin

tansu_bin() {
  if command -v tansu >/dev/null 2>&1; then
    command -v tansu
  elif [ -x "$CARGO_BIN/tansu" ]; then
    echo "$CARGO_BIN/tansu"
  else
    return 1
  fi
}

install() {
  if bin=$(tansu_bin); then
    echo "tansu: $bin"
    return 0
  fi
  echo "== installing tansu $TANSU_VERSION (cargo install, about 10 minutes)"
  # dynostore: the memory:// storage engine.
  cargo install tansu --version "$TANSU_VERSION" --locked --features dynostore
  tansu_bin >/dev/null
}

is_our_tansu() { # PID: is it alive and a tansu?
  [ -n "$1" ] && [ "$(ps -p "$1" -o comm= 2>/dev/null || true)" = "tansu" ]
}

start() {
  local port=${1:?usage: broker.sh start PORT}
  local bin
  bin=$(tansu_bin) || { echo "tansu is not installed: run scripts/broker.sh install" >&2; exit 1; }
  mkdir -p "$STATE_DIR"
  local pidfile="$STATE_DIR/tansu-$port.pid" log="$STATE_DIR/tansu-$port.log"
  if [ -f "$pidfile" ] && is_our_tansu "$(cat "$pidfile")"; then
    echo "tansu already running on 127.0.0.1:$port (pid $(cat "$pidfile"))"
    return 0
  fi
  "$bin" broker \
    --listener-url "tcp://127.0.0.1:$port" \
    --advertised-listener-url "tcp://127.0.0.1:$port" \
    --storage-engine memory://tansu/ >"$log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$pidfile"
  for _ in $(seq 1 150); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "tansu exited at start; its log ($log):" >&2
      cat "$log" >&2
      rm -f "$pidfile"
      exit 1
    fi
    if grep -q "ready" "$log" 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "tansu ready on 127.0.0.1:$port (pid $pid, log $log)"
      return 0
    fi
    sleep 0.2
  done
  echo "tansu did not accept connections on 127.0.0.1:$port within 30 s; log ($log):" >&2
  cat "$log" >&2
  kill "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  exit 1
}

stop_one() { # PIDFILE
  local pid
  pid=$(cat "$1" 2>/dev/null || true)
  if is_our_tansu "$pid"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    echo "tansu stopped (pid $pid)"
  fi
  rm -f "$1"
}

stop() {
  if [ $# -ge 1 ]; then
    stop_one "$STATE_DIR/tansu-$1.pid"
  else
    for f in "$STATE_DIR"/tansu-*.pid; do
      [ -e "$f" ] && stop_one "$f"
    done
  fi
  return 0
}

cmd=${1:-}
shift || true
case "$cmd" in
  install) install ;;
  start) start "$@" ;;
  stop) stop "$@" ;;
  *) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
