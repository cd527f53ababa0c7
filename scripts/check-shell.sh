#!/usr/bin/env bash
# Runs shellcheck on every tracked shell script: the *.sh files, and any other tracked file whose
# first line is a sh/bash shebang (such as .ci/run). Fails on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v shellcheck >/dev/null; then
  echo "check-shell: shellcheck is not installed (scripts/setup.sh installs it: apt-get install shellcheck)" >&2
  exit 1
fi

files=()
while IFS= read -r -d '' f; do
  [[ -f "$f" && ! -L "$f" ]] || continue
  if [[ "$f" == *.sh ]]; then
    files+=("$f")
    continue
  fi
  first=""
  IFS= read -r first <"$f" || true
  if [[ "$first" =~ ^\#!.*/(env[[:space:]]+)?(ba)?sh([[:space:]]|$) ]]; then
    files+=("$f")
  fi
done < <(git ls-files -z)

((${#files[@]} == 0)) && {
  echo "check-shell: no shell scripts tracked"
  exit 0
}
if ! shellcheck "${files[@]}"; then
  echo "check-shell: fix the findings above (or disable one with a reason on the line before it)" >&2
  exit 1
fi
echo "check-shell: ${#files[@]} scripts clean"
