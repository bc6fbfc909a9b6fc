#!/usr/bin/env bash
# Installs what the benchmarks need (idempotent): wrk, h2load and nghttpd from Debian, and esbuild, bun, undici and
# the npm build of deno-std under bench/.deps (gitignored); then bundles our server and our
# client benchmark process for Node.
set -euo pipefail
bench="$(cd "$(dirname "$0")" && pwd)"

if ! command -v wrk >/dev/null || ! command -v h2load >/dev/null || ! command -v nghttpd >/dev/null; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq wrk nghttp2-client nghttp2-server curl >/dev/null
fi

deps="$bench/.deps/node_modules"
if [ ! -x "$deps/.bin/esbuild" ] || [ ! -x "$deps/.bin/bun" ] || [ ! -f "$deps/deno-std/http/status.js" ] || [ ! -f "$deps/undici/package.json" ]; then
  # One install of everything: npm prunes what a later install without them would not name.
  npm install --prefix "$bench/.deps" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    esbuild@0.28.2 deno-std@1.4.0 bun@1.4.5 undici@7.30.2 >&2
fi

"$bench/servers/build.sh"

# Our client benchmark process for Node (bench/http1_client.ts runs it); undici stays external
# and is found in bench/.deps/node_modules next to the bundle.
"$deps/.bin/esbuild" "$bench/clients/h1_client.ts" \
  --bundle --platform=node --format=esm --target=node20 --log-level=warning --external:undici \
  --alias:@std/http/status="$deps/deno-std/http/status.js" \
  --outfile="$deps/.bench/h1_client.mjs"
