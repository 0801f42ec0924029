#!/usr/bin/env bash
# Bundles the browser libraries from npm (pinned by bot/web/package-lock.json): socket.io-client
# for Bridge's widget, rasa-webchat for the compatibility test page, Chart.js for the review
# console's dashboard. Runs `npm ci` only when the lock file changed since the last run, then
# copies the bundles into bot/web/static/vendor/ (chat page) and bot/review/static/vendor/
# (console), both git-ignored, where they are served from: no CDN at run time.
set -euo pipefail

WEB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../bot/web" && pwd)"
VENDOR_DIR="$WEB_DIR/static/vendor"
CONSOLE_VENDOR_DIR="$WEB_DIR/../review/static/vendor"
STAMP="$WEB_DIR/node_modules/.bridge-lock-sha256"

if ! command -v npm >/dev/null; then
  echo "setup_web: npm is missing; install Node.js 18 or newer (Debian: apt-get install nodejs npm)." >&2
  exit 1
fi

lock_hash="$(sha256sum "$WEB_DIR/package-lock.json" | cut -d' ' -f1)"
if [[ ! -f "$STAMP" || "$(cat "$STAMP")" != "$lock_hash" ]]; then
  echo "setup_web: installing the widget's npm packages (package-lock.json changed) ..."
  (cd "$WEB_DIR" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
  echo "$lock_hash" > "$STAMP"
fi

mkdir -p "$VENDOR_DIR"
cp "$WEB_DIR/node_modules/socket.io-client/dist/socket.io.min.js" "$VENDOR_DIR/socket.io.min.js"
cp "$WEB_DIR/node_modules/rasa-webchat/lib/index.js" "$VENDOR_DIR/rasa-webchat.js"
mkdir -p "$CONSOLE_VENDOR_DIR"
cp "$WEB_DIR/node_modules/chart.js/dist/chart.umd.min.js" "$CONSOLE_VENDOR_DIR/chart.umd.min.js"
echo "setup_web: widget libraries in $VENDOR_DIR, console libraries in $(cd "$CONSOLE_VENDOR_DIR" && pwd)"
