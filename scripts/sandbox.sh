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

# sandbox_start [--cacert FILE] NAME URL COMMAND...: runs COMMAND with output in
# $SANDBOX_LOGS/NAME.log and waits (up to 60 s) until URL answers. For an https URL, --cacert
# names the certificate curl trusts (the sandbox's own; verification is never turned off).
sandbox_start() {
  local curl_args=()
  if [ "$1" = --cacert ]; then
    curl_args=(--cacert "$2")
    shift 2
  fi
  local name=$1 url=$2
  shift 2
  if curl -fsS "${curl_args[@]}" -o /dev/null "$url" 2>/dev/null; then
    echo "[sandbox] something already answers at $url; stop it first (is scripts/dev running?)" >&2
    return 1
  fi
  mkdir -p "$SANDBOX_LOGS"
  "$@" >"$SANDBOX_LOGS/$name.log" 2>&1 &
  local pid=$!
  SANDBOX_PIDS+=("$pid")
  local i
  for i in $(seq 1 120); do
    if curl -fsS "${curl_args[@]}" -o /dev/null "$url" 2>/dev/null; then
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
  # dist/ on 8080, and behind nginx on 8085 (root) and 8086 (/nimbus/).
  sandbox_start api "http://127.0.0.1:5557/__sandbox/stats" \
    env CORS_ORIGINS=http://localhost:8080,http://localhost:8085,http://localhost:8086 \
    tests/sandbox/.venv/bin/python tests/sandbox/api/server.py
}

sandbox_start_spa() {
  sandbox_start spa "http://127.0.0.1:8080/config.json" node tests/e2e/serve-dist.mjs dist 8080
}

# --- The https pair: the identity provider over TLS on 5443 and a weather API on 5558 that trusts
# it, for the second Nimbus deployment (8081), the MSAL.js sample (8082) and the benchmark's peer
# pages (8082-8084, scripts/bench). The certificate is the one scripts/setup makes in
# tests/sandbox/.tls/ (see tests/sandbox/README.md).
SANDBOX_TLS_CERT=tests/sandbox/.tls/cert.pem

sandbox_need_tls() {
  if [ ! -s "$SANDBOX_TLS_CERT" ]; then
    echo "[sandbox] $SANDBOX_TLS_CERT is missing: run scripts/setup (it makes the sandbox's certificate)" >&2
    return 1
  fi
}

sandbox_start_idp_https() {
  sandbox_need_tls || return 1
  sandbox_start --cacert "$SANDBOX_TLS_CERT" idp-https \
    "https://127.0.0.1:5443/$TENANT/v2.0/.well-known/openid-configuration" \
    env IDP_HTTPS=1 IDP_PORT=5443 node_modules/.bin/node tests/sandbox/idp/server.mjs
}

sandbox_start_api_https() {
  sandbox_need_tls || return 1
  sandbox_start api-https "http://127.0.0.1:5558/__sandbox/stats" \
    env API_PORT=5558 \
    ISSUER="https://localhost:5443/$TENANT/v2.0" \
    JWKS_URL="https://localhost:5443/$TENANT/discovery/v2.0/keys" \
    JWKS_CA_FILE="$SANDBOX_TLS_CERT" \
    CORS_ORIGINS=http://localhost:8081,http://localhost:8082,http://localhost:8083,http://localhost:8084 \
    tests/sandbox/.venv/bin/python tests/sandbox/api/server.py
}

# The same dist/ deployed a second time: its own app registration, against the https pair.
# sandbox_start_spa_8081 [DIR]: serves DIR (default dist; scripts/bench serves a snapshot of it).
sandbox_start_spa_8081() {
  sandbox_start spa-8081 "http://127.0.0.1:8081/config.json" \
    node tests/e2e/serve-dist.mjs "${1:-dist}" 8081 --config tests/e2e/config.8081.json
}

# --- dist/ behind a real web server: Debian's nginx, unprivileged, on loopback, with its own
# prefix (config, logs, temp folders) under target/nginx/NAME/ and a main config that `include`s
# the nginx.conf the build ships -- deployed the way the README's "Deploy" section says: a copy
# of dist/ at <root><base>, config.json replaced, then `node scripts/csp.mjs <copy> --base <base>`.
# sandbox_start_nginx NAME PORT BASE CONFIG [DIST]
sandbox_start_nginx() {
  local name=$1 port=$2 base=$3 config=$4 dist=${5:-dist}
  local nginx=${NGINX:-/usr/sbin/nginx}
  if [ ! -x "$nginx" ]; then
    echo "[sandbox] $nginx is missing: run scripts/setup (it installs Debian's nginx-light)" >&2
    return 1
  fi
  # Unprivileged: run as root (CI), the whole server runs as `nobody` from a world-traversable
  # folder of its own in /tmp (a checkout may sit under a 0700 temp folder nobody can enter);
  # target/nginx/NAME points at it. Otherwise it runs as the caller, inside target/.
  local link=$PWD/target/nginx/$name prefix run=()
  if [ -L "$link" ]; then rm -rf "$(readlink "$link")"; fi
  rm -rf "$link"
  mkdir -p "$PWD/target/nginx"
  if [ "$(id -u)" = 0 ]; then
    prefix=$(mktemp -d /tmp/nimbus-nginx-"$name".XXXXXX) || return 1
    chmod 755 "$prefix"
    ln -s "$prefix" "$link"
    run=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  else
    prefix=$link
  fi
  local site=$prefix/www${base%/}
  mkdir -p "$prefix/logs" "$prefix/temp" "$site"
  cp -R "$dist"/. "$site"/
  cp "$config" "$site/config.json"
  node scripts/csp.mjs "$site" --base "$base" >"$prefix/logs/csp.log" || return 1
  cat >"$prefix/nginx.conf" <<EOF
# Generated by scripts/sandbox.sh: nginx as an unprivileged test server.
daemon off;
worker_processes 1;
pid $prefix/nginx.pid;
error_log stderr warn;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log $prefix/logs/access.log;
    client_body_temp_path $prefix/temp/body;
    proxy_temp_path $prefix/temp/proxy;
    fastcgi_temp_path $prefix/temp/fastcgi;
    uwsgi_temp_path $prefix/temp/uwsgi;
    scgi_temp_path $prefix/temp/scgi;
    server {
        listen 127.0.0.1:$port;
        listen [::1]:$port;
        server_name localhost;
        root $prefix/www;
        include $site/nginx.conf;
    }
}
EOF
  if ((${#run[@]})); then chown -R nobody:nogroup "$prefix"; fi
  sandbox_start "nginx-$name" "http://127.0.0.1:$port${base}config.json" \
    "${run[@]}" "$nginx" -p "$prefix" -c "$prefix/nginx.conf" -e stderr
}

# The same dist/ behind nginx at the site root (8085) and under /nimbus/ (8086), against the
# http sandbox, with the "Nimbus behind nginx" registration (tests/e2e/config.808[56].json).
sandbox_start_nginx_root() {
  sandbox_start_nginx root 8085 / tests/e2e/config.8085.json "${1:-dist}"
}

sandbox_start_nginx_subpath() {
  sandbox_start_nginx subpath 8086 /nimbus/ tests/e2e/config.8086.json "${1:-dist}"
}

# The MSAL.js sample page (tests/e2e/msal/), built into target/msal-page/.
sandbox_build_msal_page() {
  node tests/e2e/msal/build.mjs
}

sandbox_start_msal_page() {
  sandbox_start msal-page "http://127.0.0.1:8082/" node tests/e2e/serve-dist.mjs target/msal-page 8082
}

# The benchmark's peer pages (tests/bench/pages/), built into target/bench-pages/ after the release
# build (they copy its stylesheet): msal-browser on 8082 (in place of the MSAL.js sample, same
# client), oidc-client-ts on 8083 and React + msal-react on 8084 (their own clients).
# sandbox_build_bench_pages [DIST]: the build to take the stylesheet from (default dist).
sandbox_build_bench_pages() {
  node tests/bench/pages/build.mjs "${1:-dist}"
}

sandbox_start_bench_page() {
  local name=$1 port=$2
  sandbox_start "bench-$name" "http://127.0.0.1:$port/" \
    node tests/e2e/serve-dist.mjs "target/bench-pages/$name" "$port"
}

sandbox_start_bench_pages() {
  sandbox_start_bench_page msal-browser 8082 &&
    sandbox_start_bench_page oidc-client-ts 8083 &&
    sandbox_start_bench_page msal-react 8084
}

trap sandbox_stop EXIT
trap 'exit 130' INT TERM
