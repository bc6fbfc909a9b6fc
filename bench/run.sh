#!/usr/bin/env bash
# `deno task bench`: every benchmark, one section after another. Each section is a script
# that prints a markdown section to stdout (progress goes to stderr); add a line to
# SECTIONS to add one. Run a subset with `bash bench/run.sh http1_server ...`.
set -euo pipefail
bench="$(cd "$(dirname "$0")" && pwd)"
cd "$bench/.."

section_http1_server() { deno run -A bench/http1_server.ts; }
section_http1_client() { deno run -A bench/http1_client.ts; }

SECTIONS=(http1_server http1_client)

bash "$bench/setup.sh"
for name in "${@:-${SECTIONS[@]}}"; do
  echo "## $name"
  echo
  "section_$name"
done
