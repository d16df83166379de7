#!/usr/bin/env bash
# Renders an HTML report to a PNG in headless Chromium, so a person can look at it.
#
#   scripts/render-html.sh [REPORT.html] [OUT.png]
#
# Without REPORT.html it renders `etcd-autopsy demo --format html`. Needs Debian's chromium
# (`apt-get install -y chromium`); installs nothing itself. The report is self-contained, so
# Chromium runs with networking features off and a fresh profile.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
html=${1:-}
out=${2:-/tmp/etcd-autopsy-report.png}
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "render-html.sh: chromium not found: apt-get install -y chromium" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "$html" ]; then
  html=$work/demo.html
  cargo run --release --quiet --manifest-path "$repo/Cargo.toml" -- demo --format html --quiet --force --output-file "$html" || [ $? -eq 1 ]
fi
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/profile" --hide-scrollbars --window-size=1200,2400 \
  --screenshot="$out" "file://$(realpath "$html")" 2>/dev/null
echo "$out"
