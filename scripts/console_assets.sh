#!/usr/bin/env bash
# The console's and /docs' browser assets, from npm packages pinned in
# api/console/assets.json (no CDN: the service serves them, so the pages work offline).
# Fetches each package once (`npm pack`, checked against the registry's integrity) into
# .run/npm/, then copies the files the manifest names, licences included, into the
# git-ignored api/console/vendor/<name>/. Does nothing when they are already there.
set -euo pipefail
cd "$(dirname "$0")/.."
manifest=api/console/assets.json
vendor=api/console/vendor
cache=.run/npm
stamp="$vendor/.manifest-sha256"
want="$(sha256sum "$manifest" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  echo "console assets: npm and node are needed (Debian: apt-get install npm)" >&2
  exit 1
fi
mkdir -p "$cache"
rm -rf "$vendor.tmp" && mkdir -p "$vendor.tmp"
# name<TAB>package<TAB>version<TAB>from<TAB>to, one line per file.
node -e '
  const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  for (const [name, a] of Object.entries(m))
    for (const [from, to] of Object.entries(a.files))
      console.log([name, a.package, a.version, from, to].join("\t"));
' "$manifest" | while IFS=$'\t' read -r name package version from to; do
  tarball="$cache/$package-$version.tgz"
  if [ ! -f "$tarball" ]; then
    echo "console assets: fetching $package@$version from the npm registry" >&2
    (cd "$cache" && npm pack --silent "$package@$version" >/dev/null)
  fi
  mkdir -p "$vendor.tmp/$name"
  tar -xzf "$tarball" -O "package/$from" > "$vendor.tmp/$name/$to"
done
echo "$want" > "$vendor.tmp/.manifest-sha256"
rm -rf "$vendor" && mv "$vendor.tmp" "$vendor"
echo "console assets: $vendor ready" >&2
