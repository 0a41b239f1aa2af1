#!/bin/sh
# Checks one Stockade webhook by hand: the raw body saved to a file, the Stockade-Signature value,
# the secret in STOCKADE_WEBHOOK_SECRET. Exit 0 when it verifies. For debugging: a shell string
# comparison is not constant-time, so a receiver in production uses a language's HMAC compare.
#   STOCKADE_WEBHOOK_SECRET=stk_whsec_… sh verify-webhook.sh 't=1748772280,v1=5d41…' body.json
set -eu
header=$1
body=$2
tolerance=${TOLERANCE_SECONDS:-300}

t=$(printf '%s\n' "$header" | tr ',' '\n' | sed -n 's/^ *t=\([0-9]\{1,12\}\)$/\1/p' | head -n 1)
[ -n "$t" ] || { echo 'malformed-signature'; exit 1; }

now=$(date +%s)
age=$((now - t))
[ "${age#-}" -le "$tolerance" ] || { echo 'timestamp-out-of-tolerance'; exit 1; }

expected=$({ printf '%s.' "$t"; cat "$body"; } | openssl dgst -sha256 -hmac "$STOCKADE_WEBHOOK_SECRET" -r | cut -d ' ' -f 1)
for v1 in $(printf '%s\n' "$header" | tr ',' '\n' | sed -n 's/^ *v1=\([0-9a-f]\{64\}\)$/\1/p'); do
  if [ "$v1" = "$expected" ]; then echo 'ok'; exit 0; fi
done
echo 'signature-mismatch'
exit 1
