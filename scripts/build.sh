#!/usr/bin/env bash
# Builds the release binary, tests and benchmarks in DIR (default build),
# with profile-guided optimisation under GCC (CMakeLists.txt, CAIRN_PGO): the
# first time, or when DIR/pgo-trained is missing, `cairn` is built
# instrumented in DIR-pgo and trained on simulator data
# (scripts/pgo-train.sh), and its profile, a .gcda file beside each object,
# is copied to the same places in DIR. Then DIR is built with the profile.
# An import is 10-12% faster for it (docs/PERFORMANCE.md, "Profile-guided
# optimisation"). CAIRN_PGO=off builds without.
# Usage: build.sh [DIR [TARGET...]]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
jobs=${JOBS:-$(nproc)}
pgo=use
[[ ${CAIRN_PGO:-} == off ]] && pgo=
[[ $(${CXX:-c++} --version 2>/dev/null | head -1) == *clang* ]] && pgo=
if [[ -n $pgo && ! -f $dir/pgo-trained ]]; then
  gen=$dir-pgo
  echo "build.sh: cairn instrumented in $gen, for profile-guided optimisation (once)"
  cmake -S . -B "$gen" -DCMAKE_BUILD_TYPE=Release -DCAIRN_PGO=generate >/dev/null
  find "$gen" -name '*.gcda' -delete
  cmake --build "$gen" -j "$jobs" --target cairn
  echo "build.sh: training it (scripts/pgo-train.sh)"
  bash scripts/pgo-train.sh "$gen/cairn" "$gen/train"
  mkdir -p "$dir"
  to=$(cd "$dir" && pwd)
  # A new profile: the objects built with an older one (or none) go.
  find "$dir" -name '*.gcda' -delete
  find "$dir" -path '*/CMakeFiles/cairn_lib.dir/*.o' -delete -o -path '*/CMakeFiles/cairn.dir/*.o' -delete
  (cd "$gen" && find . -name '*.gcda' -exec cp --parents {} "$to/" \;)
  touch "$dir/pgo-trained"
fi
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DCAIRN_PGO="$pgo" >/dev/null
if [[ $# -gt 0 ]]; then
  cmake --build "$dir" -j "$jobs" --target "$@"
else
  cmake --build "$dir" -j "$jobs"
fi
