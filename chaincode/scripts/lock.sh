#!/usr/bin/env bash
# Writes chaincode/package-lock.json for the chaincode folder on its own (outside the
# workspace), so that a peer's node builder can run `npm ci --omit=dev` in the package.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp "$here/package.json" "$tmp/"
(cd "$tmp" && npm install --package-lock-only --omit=dev --ignore-scripts --no-audit --no-fund --workspaces=false >/dev/null)
cp "$tmp/package-lock.json" "$here/package-lock.json"
echo "wrote $here/package-lock.json"
