#!/usr/bin/env bash
# Lints payoutd's OpenAPI documents (docs/openapi/*.yaml; not the lanes' fragments in pending/)
# with Spectral's OpenAPI ruleset (.spectral.yaml here): any error or warning fails. The linter
# is the version package-lock.json pins, installed by `scripts/setup.sh test` (npm ci).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
spectral="$here/node_modules/.bin/spectral"
if [[ ! -x $spectral ]]; then
  echo "tools/openapi: the linter is not installed; run: bash scripts/setup.sh test" >&2
  exit 1
fi
cd "$root"
"$spectral" lint --ruleset "$here/.spectral.yaml" --fail-severity=warn --display-only-failures \
  docs/openapi/*.yaml
