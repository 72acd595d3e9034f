#!/usr/bin/env bash
# tests/e2e/fuzz_parquet.sh - builds tests/fuzz/fuzz_parquet_read.c with
# clang's libFuzzer + ASan + UBSan straight from the reader's sources and
# runs it for a bounded time: 30 s, or 10 minutes with INGESTD_TEST_LONG=1
# (FUZZ_SECONDS overrides).  Seeds come from ../shared when it is there.
# Skips when clang or its fuzzer runtime is missing.
. "$(dirname "$0")/lib.sh"

secs=${FUZZ_SECONDS:-$([ -n "${INGESTD_TEST_LONG:-}" ] && echo 600 || echo 30)}
CLANG=${CLANG:-$(command -v clang || command -v clang-14 || true)}
fuzzer="$T/fuzz_parquet_read"
srcs="daemon/parquet/thrift_dec.c daemon/parquet/pq_read.c daemon/parquet/pq_read_schema.c
      daemon/parquet/pq_read_pages.c daemon/parquet/pq_read_values.c daemon/parquet/pq_read_levels.c
      daemon/parquet/pq_codec.c daemon/batch.c daemon/buf.c daemon/error.c
      tests/fuzz/fuzz_parquet_read.c"

if [ -z "$CLANG" ] || ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){(void)d;(void)n;return 0;}' |
        "$CLANG" -x c -fsanitize=fuzzer -o "$T/probe" - >/dev/null 2>&1; then
    skip "fuzz_parquet_read builds" "clang with libFuzzer runtime not available"
    done_testing
    exit
fi

(cd "$SRC" && "$CLANG" -std=gnu11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -Iinclude \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    $srcs -o "$fuzzer" $(pkg-config --libs libzstd snappy zlib 2>/dev/null || echo -lzstd -lsnappy -lz)) \
    >"$T/build.log" 2>&1
if [ -x "$fuzzer" ]; then ok "fuzz_parquet_read builds"; else nok "fuzz_parquet_read builds" "$(tail -5 "$T/build.log")"; done_testing; exit; fi

corpus="$T/corpus"
mkdir -p "$corpus"
cp "$SRC"/tests/fuzz/corpus_parquet/*.parquet "$corpus"/ 2>/dev/null
shared="$SRC/../shared"
if [ -d "$shared" ]; then
    i=0
    while IFS= read -r -d '' f; do
        i=$((i + 1)); cp "$f" "$corpus/seed$i.parquet"
    done < <(find "$shared/specs/vectors" "$shared/data" -name '*.parquet' -size -64k -print0 2>/dev/null)
fi
# a handful of hand-made seeds: empty, magic only, magic + bogus footer
printf 'PAR1PAR1' > "$corpus/magic"
printf 'PAR1\x15\x02\x19\x1c\x00\x00\x0b\x00\x00\x00PAR1' > "$corpus/tiny-footer"

ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 \
    "$fuzzer" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 -timeout=10 \
    -artifact_prefix="$T/" "$corpus" >"$T/fuzz.log" 2>&1
rc=$?
stats=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW)' "$T/fuzz.log" | tail -1)
if [ $rc -eq 0 ]; then
    ok "fuzz_parquet_read ran ${secs}s without findings ($stats)"
else
    crash=$(ls "$T"/crash-* "$T"/leak-* "$T"/oom-* "$T"/timeout-* 2>/dev/null | head -1)
    [ -n "$crash" ] && mkdir -p "$BUILD/fuzz-artifacts" && cp "$crash" "$BUILD/fuzz-artifacts/"
    nok "fuzz_parquet_read ran ${secs}s without findings" \
        "$(grep -E 'ERROR|SUMMARY|runtime error' "$T/fuzz.log" | head -5)" \
        "artifact: ${crash:+$BUILD/fuzz-artifacts/$(basename "$crash")}"
fi
done_testing
