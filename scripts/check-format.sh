#!/usr/bin/env bash
# Fails when a C file differs from the repo's .clang-format (clang-format 14, as pinned in
# STYLE). Skips (exit 77) when clang-format 14 is not installed.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null 2>&1 || { echo "check-format: clang-format not found, skipped"; exit 77; }
clang-format --version | grep -q 'version 14\.' || { echo "check-format: not clang-format 14, skipped"; exit 77; }
files=$(ls mod_validate_jwt.c httpd/*.[ch] src/*.c include/vjwt/*.h tools/*.c tests/unit/*.[ch] tests/fuzz/*.[ch])
if ! clang-format --dry-run -Werror $files; then
  echo "check-format: run clang-format -i on the files above"; exit 1
fi
echo "check-format: $(echo "$files" | wc -w) files formatted"
