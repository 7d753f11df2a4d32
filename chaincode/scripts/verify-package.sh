#!/usr/bin/env bash
# Proves the chaincode folder installs and loads on its own, as a peer's node builder does it:
# build, copy package.json + package-lock.json + dist/ to an empty directory, `npm ci --omit=dev`
# there (from the npm registry), then let fabric-shim's own CLI load the contracts and print
# their metadata. Needs the npm registry; the offline equivalent is test/package.test.ts.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
node "$here/scripts/build.mjs"
cp "$here/package.json" "$here/package-lock.json" "$tmp/"
cp -r "$here/dist" "$tmp/dist"
cd "$tmp"
npm ci --omit=dev --no-audit --no-fund --loglevel=error
npx --no-install fabric-chaincode-node metadata generate --file metadata.json >/dev/null
node -e '
  const m = require("./metadata.json");
  const rows = Object.values(m.contracts).filter((c) => c.name !== "org.hyperledger.fabric")
    .map((c) => `${c.name}: ${c.transactions.map((t) => `${t.name}(${t.parameters.length})`).join(" ")}`);
  console.log(rows.join("\n"));
  console.log("contracts loaded:", require("./dist/index.js").contracts.length);
'
