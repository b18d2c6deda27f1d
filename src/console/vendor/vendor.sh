#!/usr/bin/env bash
# The console's map and chart libraries, from the npm registry at the versions package-lock.json pins.
#
#   bash src/console/vendor/vendor.sh          refresh dist/ (the files the binary embeds)
#   bash src/console/vendor/vendor.sh --check  fail unless every file in dist/ is byte-identical
#                                              to the installed package's (CI runs this)
#
# Either way `npm ci` installs exactly the lock file's packages into node_modules/ (ignored by
# git); no install scripts run.
set -euo pipefail
cd "$(dirname "$0")"

# package file (under node_modules/) : embedded file (under dist/)
FILES=(
  "leaflet/dist/leaflet.js:leaflet.js"
  "leaflet/dist/leaflet.css:leaflet.css"
  "leaflet/dist/images/marker-icon.png:images/marker-icon.png"
  "leaflet/dist/images/marker-icon-2x.png:images/marker-icon-2x.png"
  "leaflet/dist/images/marker-shadow.png:images/marker-shadow.png"
  "leaflet/dist/images/layers.png:images/layers.png"
  "leaflet/dist/images/layers-2x.png:images/layers-2x.png"
  "leaflet/LICENSE:LICENSE-leaflet"
  "@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.min.js:leaflet-geoman.min.js"
  "@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css:leaflet-geoman.css"
  "@geoman-io/leaflet-geoman-free/LICENSE:LICENSE-leaflet-geoman"
  "uplot/dist/uPlot.iife.min.js:uPlot.iife.min.js"
  "uplot/dist/uPlot.min.css:uPlot.min.css"
  "uplot/LICENSE:LICENSE-uplot"
)

check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null

failed=0
expected=()
for entry in "${FILES[@]}"; do
  src="node_modules/${entry%%:*}"
  dst="dist/${entry#*:}"
  expected+=("$dst")
  if [ ! -f "$src" ]; then
    echo "vendor: $src is not in the installed package" >&2
    failed=1
    continue
  fi
  if [ "$check" = 1 ]; then
    if ! cmp -s "$src" "$dst"; then
      echo "vendor: $dst differs from $src (run: bash src/console/vendor/vendor.sh)" >&2
      failed=1
    fi
  else
    mkdir -p "$(dirname "$dst")"
    cp "$src" "$dst"
  fi
done

# Nothing embedded that does not come from a package.
while IFS= read -r f; do
  found=0
  for e in "${expected[@]}"; do [ "$e" = "$f" ] && found=1 && break; done
  if [ "$found" = 0 ]; then
    if [ "$check" = 1 ]; then
      echo "vendor: $f is in dist/ but comes from no package" >&2
      failed=1
    else
      rm -f "$f"
    fi
  fi
done < <(find dist -type f | sort)

if [ "$failed" = 1 ]; then
  exit 1
fi
if [ "$check" = 1 ]; then
  echo "vendor: ${#expected[@]} embedded files match package-lock.json's packages"
else
  echo "vendor: copied ${#expected[@]} files into $(pwd)/dist"
fi
