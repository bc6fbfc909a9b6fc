#!/usr/bin/env bash
# Bundles our server for Node: bench/.deps/node_modules/.bench/ours_node.mjs (inside a
# node_modules folder so that deno fmt, lint and check leave it alone). The bare `@std/http/status`
# (deno.json's import map) is aliased to the npm build installed under bench/.deps/node_modules.
set -euo pipefail
bench="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$bench/.deps/node_modules/.bench"
"$bench/.deps/node_modules/.bin/esbuild" "$bench/servers/ours_node.ts" "$bench/servers/ours_stream_node.ts" \
  --bundle --platform=node --format=esm --target=node20 --log-level=warning \
  --alias:@std/http/status="$bench/.deps/node_modules/deno-std/http/status.js" \
  --outdir="$bench/.deps/node_modules/.bench" --out-extension:.js=.mjs
