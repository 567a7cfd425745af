#!/bin/sh
# Builds the config fuzzer with clang (libFuzzer + ASan/LSan/UBSan) and runs
# it for a bounded time over a corpus seeded from the runtime-spec samples.
#   run.sh SOURCE_DIR BUILD_DIR SECONDS
# Exit status: 0 clean, 77 (ctest "skipped") without clang, else the
# fuzzer's failure (a crash, leak or timeout leaves its input in BUILD_DIR).
set -eu
src=$1 out=$2 secs=${3:-60}
cxx=$(command -v clang++ || command -v clang++-14 || true)
if [ -z "$cxx" ]; then echo "clang++ not found: fuzzer skipped"; exit 77; fi
mkdir -p "$out/corpus"
bin=$out/config_fuzzer
# Rebuild only when a source is newer than the binary.
if [ ! -x "$bin" ] || [ -n "$(find "$src/src/spec" "$src/src/common" "$src/tests/fuzz" -newer "$bin" -name '*.[ch]pp' | head -1)" ]; then
  "$cxx" -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -DBERTH_VERSION='"fuzz"' -I"$src/src" \
    "$src/tests/fuzz/config_fuzzer.cpp" "$src"/src/spec/*.cpp "$src"/src/common/*.cpp -luring -o "$bin.tmp"
  mv "$bin.tmp" "$bin"
fi
# Seeds: every sample config the repository has.
find "$src/tests/data" -name '*.json' -size -64k -exec cp {} "$out/corpus/" \; 2>/dev/null || true
cd "$out"
exec "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 corpus
