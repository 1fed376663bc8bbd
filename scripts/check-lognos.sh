#!/usr/bin/env bash
# Fails when a VJWT log tag is used twice or is not documented in docs/log-messages.md.
set -euo pipefail
cd "$(dirname "$0")/.."
used=$(grep -ohE 'VJWT_(LOGNO|TAG)\([0-9]{5}\)' mod_validate_jwt.c httpd/*.c src/*.c 2>/dev/null | grep -o '[0-9]\{5\}' | sort)
dups=$(echo "$used" | uniq -d)
status=0
if [ -n "$dups" ]; then
  echo "check-lognos: tags used more than once: $dups"; status=1
fi
for n in $used; do
  grep -q "VJWT$n" docs/log-messages.md || { echo "check-lognos: VJWT$n is not in docs/log-messages.md"; status=1; }
done
[ $status -eq 0 ] && echo "check-lognos: $(echo "$used" | wc -l) tags, all unique and documented"
exit $status
