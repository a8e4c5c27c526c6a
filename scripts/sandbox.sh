# Sourced by scripts/dev and scripts/test: starts the sandbox servers in the background,
# waits until each answers, and stops them by PID when the calling script exits.
# shellcheck shell=bash

SANDBOX_PIDS=()
SANDBOX_LOGS=${SANDBOX_LOGS:-target/sandbox-logs}

sandbox_stop() {
  local pid
  for pid in "${SANDBOX_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${SANDBOX_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  SANDBOX_PIDS=()
}

# sandbox_start NAME URL COMMAND...: runs COMMAND with output in $SANDBOX_LOGS/NAME.log and
# waits (up to 60 s) until URL answers.
sandbox_start() {
  local name=$1 url=$2
  shift 2
  if curl -fsS -o /dev/null "$url" 2>/dev/null; then
    echo "[sandbox] something already answers at $url; stop it first (is scripts/dev running?)" >&2
    return 1
  fi
  mkdir -p "$SANDBOX_LOGS"
  "$@" >"$SANDBOX_LOGS/$name.log" 2>&1 &
  local pid=$!
  SANDBOX_PIDS+=("$pid")
  local i
  for i in $(seq 1 120); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then
      echo "[sandbox] $name ready ($url)"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "[sandbox] $name exited; its log:" >&2
      cat "$SANDBOX_LOGS/$name.log" >&2
      return 1
    fi
    sleep 0.5
  done
  echo "[sandbox] $name did not answer at $url within 60 s; its log:" >&2
  cat "$SANDBOX_LOGS/$name.log" >&2
  return 1
}

TENANT=3f8d0c2a-5b1e-4c7d-9a6f-2e4b8c1d7a90

sandbox_start_idp() {
  sandbox_start idp "http://127.0.0.1:5556/$TENANT/v2.0/.well-known/openid-configuration" \
    node_modules/.bin/node tests/sandbox/idp/server.mjs
}

sandbox_start_api() {
  sandbox_start api "http://127.0.0.1:5557/__sandbox/stats" \
    tests/sandbox/.venv/bin/python tests/sandbox/api/server.py
}

sandbox_start_spa() {
  sandbox_start spa "http://127.0.0.1:8080/config.json" node tests/e2e/serve-dist.mjs dist 8080
}

trap sandbox_stop EXIT
trap 'exit 130' INT TERM
