#!/bin/sh
# Vendor PortOne's browser SDK (@portone/browser-sdk, from the npm registry) into static/vendor/portone/,
# so the payment page loads it from this site, never from a CDN link of ours. See docs/payments.md.
#
# The version and the registry's integrity hash are pinned here; a different tarball is refused.
# The bundle is not committed: the npm package declares no licence (see docs/payments.md), so it is
# fetched at build time by this script (`make vendor-portone`), next to a VERSION file that says what it is.
set -eu

VERSION="0.1.11"
INTEGRITY="sha512-4rOvbBbVztIhHL2PeWWW0RwoxD00pJirchCXGpEeJs3hbyegzJxgGvxqJM/Eh6y5y0k6oLQUHJuDj4LH2173NA=="
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="$ROOT/static/vendor/portone"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cd "$WORK"
npm pack --silent "@portone/browser-sdk@$VERSION" >/dev/null
TARBALL="portone-browser-sdk-$VERSION.tgz"
ACTUAL="sha512-$(openssl dgst -sha512 -binary "$TARBALL" | openssl base64 -A)"
if [ "$ACTUAL" != "$INTEGRITY" ]; then
    echo "integrity mismatch for @portone/browser-sdk@$VERSION: $ACTUAL" >&2
    exit 1
fi
tar xzf "$TARBALL"
mkdir -p "$TARGET"
cp package/dist/v2.js "$TARGET/v2.js"
LICENSE_FIELD="$(node -e 'const p=require("./package/package.json");console.log(p.license||"(none declared)")')"
cat > "$TARGET/VERSION" <<INFO
@portone/browser-sdk $VERSION (dist/v2.js, the ES module build)
from https://registry.npmjs.org/@portone/browser-sdk/-/browser-sdk-$VERSION.tgz
integrity $INTEGRITY
licence in package.json: $LICENSE_FIELD
vendored by scripts/vendor-portone-browser-sdk.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ)
INFO
echo "vendored @portone/browser-sdk $VERSION into $TARGET"
