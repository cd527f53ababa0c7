#!/usr/bin/env bash
# Enforces STYLE.md's module rules:
#  1. every cross-module include follows the dependency table (arrows point down only);
#  2. nothing outside a module (its own unit tests and its fuzz targets, tests/fuzz/<module>_*,
#     aside) includes that module's internal/ headers;
#  3. no `throw` in primitives, vm, state, execution or consensus.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A allowed=(
  [primitives]="primitives"
  [vm]="primitives vm"
  [state]="primitives state"
  [execution]="primitives vm state execution"
  [net]="primitives net"
  [consensus]="primitives consensus"
)
modules="primitives vm state execution net consensus node"
status=0

while IFS= read -r file; do
  mod="${file%%/*}"
  while IFS= read -r inc; do
    target="${inc%%/*}"
    [[ " $modules " == *" $target "* ]] || continue
    if [[ -n "${allowed[$mod]:-}" && " ${allowed[$mod]} " != *" $target "* ]]; then
      echo "check_deps: $file includes $inc: $mod may not depend on $target" >&2
      status=1
    fi
    if [[ "$inc" == */internal/* && "$target" != "$mod" ]]; then
      case "$file" in
        tests/unit/"$target"/* | tests/fuzz/"$target"_*) ;;
        *) echo "check_deps: $file includes $target's private header $inc" >&2; status=1 ;;
      esac
    fi
  done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$file")
  if grep -q '\.\./' <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$file"); then
    echo "check_deps: $file includes with ../ (include from the repository root)" >&2
    status=1
  fi
done < <(git ls-files '*.cpp' '*.hpp')

if git grep -nE '(^|[^_[:alnum:]])throw([^_[:alnum:]]|$)' -- \
    'primitives/*' 'vm/*' 'state/*' 'execution/*' 'consensus/*' | grep -v '//.*throw'; then
  echo "check_deps: exceptions are not thrown in core modules (STYLE.md section 3)" >&2
  status=1
fi

((status == 0)) && echo "check_deps: module dependencies clean"
exit $status
