#!/usr/bin/env bash
# Make an API token: prints the token (give it to the client) and its
# SHA-256 (put it in the configuration's tokens list). Usage:
#   scripts/token.sh            a new random token
#   scripts/token.sh TOKEN      the digest of a token you have
set -euo pipefail
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
    sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
token=${1:-cw_$(head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 32)}
digest=$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)
echo "token:  $token"
echo "sha256: $digest"
