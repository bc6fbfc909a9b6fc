#!/usr/bin/env bash
# Installs what the benchmarks need (idempotent): wrk from Debian, and esbuild, bun and the
# npm build of deno-std under bench/.deps (gitignored); then bundles our server for Node.
set -euo pipefail
bench="$(cd "$(dirname "$0")" && pwd)"

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
  else
    sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null
  fi
fi

deps="$bench/.deps/node_modules"
if [ ! -x "$deps/.bin/esbuild" ] || [ ! -x "$deps/.bin/bun" ] || [ ! -f "$deps/deno-std/http/status.js" ]; then
  npm install --prefix "$bench/.deps" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    esbuild@0.28.2 deno-std@1.4.0 bun@1.4.5 >&2
fi

"$bench/servers/build.sh"
