#!/usr/bin/env bash
# Rebuilds the widget bundles from the pinned packages (package-lock.json): Brigade's
# bot/assets/widget.js and the tests' tests/web/host-bundle.js. Both are committed, so building
# Brigade needs no Node.js; CI rebuilds them and fails if they differ from what is committed.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --ignore-scripts >/dev/null
bundle() {
  node_modules/.bin/esbuild "$1" --bundle --minify --format=iife --target=es2020 \
    --legal-comments=eof --log-level=warning --outfile="$2"
}
bundle widget.js ../widget.js
# The host lives with the tests; its imports resolve to these packages.
NODE_PATH="$PWD/node_modules" bundle ../../../tests/web/host.js ../../../tests/web/host-bundle.js
