#!/usr/bin/env bash
# The tree's format and lint, as `make test` checks them:
# - clang-format (.clang-format) over every C++ file of the tree: a file that is not formatted
#   fails, with the diff clang-format wants (`make format` applies it);
# - clang-tidy (.clang-tidy, warnings as errors) over the sources changed since LINT_BASE (default:
#   the previous commit), or every source with LINT_ALL=1. It reads the clang build's compile
#   commands (the fuzz build, build-fuzz/), since the g++ build's flags and precompiled headers
#   are not clang's;
# - Spectral's OpenAPI ruleset over docs/openapi/*.yaml (tools/openapi/lint.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_DIR=${FUZZ_DIR:-build-fuzz}
JOBS=${JOBS:-2}
mode=${1:-check}

mapfile -t files < <(git ls-files 'src/*.cc' 'src/*.h' 'tests/unit/*.cc' 'tests/unit/*.h' \
                                  'tests/fuzz/*.cc' 'bench/*.cc')
if [[ $mode == fix ]]; then
  clang-format -i "${files[@]}"
  exit 0
fi
clang-format --dry-run -Werror "${files[@]}"
# The OpenAPI documents (docs/openapi/*.yaml): Spectral's OpenAPI ruleset, warnings as errors
# (docs/openapi/README.md).
bash tools/openapi/lint.sh

if [[ ${LINT_ALL:-0} == 1 ]]; then
  mapfile -t sources < <(git ls-files 'src/*.cc')
else
  base=${LINT_BASE:-HEAD~1}
  if git rev-parse --verify -q "$base" >/dev/null; then
    mapfile -t sources < <(git diff --name-only --diff-filter=d "$base" -- 'src/*.cc')
  else
    mapfile -t sources < <(git ls-files 'src/*.cc')  # a shallow clone: no previous commit
  fi
fi
((${#sources[@]})) || exit 0
# .clang-tidy makes every warning an error; run-clang-tidy fails when one file does.
run-clang-tidy -quiet -p "$FUZZ_DIR" -j "$JOBS" -header-filter='src/.*' "${sources[@]/#/$PWD/}"
