#!/usr/bin/env bash
# Installs the real OpenID Provider of the integration tests (tests/idp: oidc-provider,
# pinned in package.json and package-lock.json) with `npm ci`, when tests/idp/node_modules
# is missing or older than package-lock.json. Does nothing otherwise.
set -euo pipefail
cd "$(dirname "$0")/../tests/idp"
command -v node >/dev/null 2>&1 || { echo "idp-setup.sh: node not found (run scripts/deps.sh)" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "idp-setup.sh: npm not found (run scripts/deps.sh)" >&2; exit 1; }
stamp=node_modules/.package-lock.json   # written by npm ci / npm install
if [ -d node_modules/oidc-provider ] && [ -f "$stamp" ] && [ ! package-lock.json -nt "$stamp" ]; then
  exit 0
fi
echo "idp-setup.sh: npm ci in tests/idp"
npm ci --no-audit --no-fund
touch "$stamp"
