#!/usr/bin/env bash
# `deno task bench`: every benchmark, one section after another. Each section is a script
# that prints a markdown section to stdout (progress goes to stderr); add a line to
# SECTIONS to add one. Run a subset with `bash bench/run.sh http1_server ...`.
set -euo pipefail
bench="$(cd "$(dirname "$0")" && pwd)"
cd "$bench/.."

section_http1_server() { deno run -A bench/http1_server.ts; }
section_http1_client() { deno run -A bench/http1_client.ts; }
section_ws_echo() {
  echo "WebSocket echo, $(date -u '+%Y-%m-%d %H:%M') UTC, commit $(git rev-parse --short HEAD)"
  echo
  deno run -A bench/ws_echo_bench.ts
}

section_http2_server() { deno run -A bench/http2_server.ts; }
section_http2_transfer() { deno run -A bench/http2_transfer.ts; }

section_ws_servers() { deno run -A bench/ws_servers.ts; }

SECTIONS=(http1_server http1_client ws_echo ws_servers http2_server http2_transfer)

bash "$bench/setup.sh"
for name in "${@:-${SECTIONS[@]}}"; do
  echo "## $name"
  echo
  "section_$name"
done
