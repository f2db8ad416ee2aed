#!/usr/bin/env bash
# refresh.sh re-fetches the vendored GraphiQL and React browser bundles from the npm registry with
# `npm pack`, checks them against assets/SHA256SUMS and copies them (with their LICENSE files) into
# assets/. The Go build never runs npm: the files in assets/ are committed and embedded.
#
#   ./refresh.sh      fetch, verify against SHA256SUMS, install into assets/ (fails on any mismatch)
#   ./refresh.sh -u   after changing a version below: fetch, install and rewrite SHA256SUMS;
#                     review the diff (and the new upstream release) before committing
#
# GraphiQL 5 ships no browser bundle; 4.1.2 + React 18.2.0 are the versions gqlgen's own playground
# loads from a CDN (the files are byte-identical to its SRI hashes).
set -euo pipefail

GRAPHIQL=graphiql@4.1.2
REACT=react@18.2.0
REACT_DOM=react-dom@18.2.0

update=false
case "${1:-}" in
  "") ;;
  -u) update=true ;;
  *) echo "usage: $0 [-u]" >&2; exit 2 ;;
esac

assets="$(cd "$(dirname "$0")" && pwd)/assets"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cd "$tmp"
for pkg in "$GRAPHIQL" "$REACT" "$REACT_DOM"; do
  name=${pkg%@*}
  tarball=$(npm pack --silent "$pkg")
  mkdir "$name"
  tar -xzf "$tarball" -C "$name"
done

mkdir out
cp graphiql/package/graphiql.min.js graphiql/package/graphiql.min.css out/
cp react/package/umd/react.production.min.js out/
cp react-dom/package/umd/react-dom.production.min.js out/
cp graphiql/package/LICENSE out/LICENSE.graphiql
cp react/package/LICENSE out/LICENSE.react
cp react-dom/package/LICENSE out/LICENSE.react-dom

cd out
if $update; then
  sha256sum graphiql.min.css graphiql.min.js react-dom.production.min.js react.production.min.js >SHA256SUMS
else
  cp "$assets/SHA256SUMS" SHA256SUMS
  sha256sum --check --strict SHA256SUMS
fi
cp -- * "$assets/"
echo "assets refreshed in $assets"
