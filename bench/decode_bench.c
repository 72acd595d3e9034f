/*
 * decode_bench.c - throughput of the NDJSON decoder (decode.h) on one core.
 *
 *   build/bench/decode_bench [MB [REPEAT]]     default 200 MB, best of 3
 *
 * Generates MB megabytes of event NDJSON in memory from a fixed seed
 * (splitmix64), the shape of a click stream: id long, ts ISO-8601 string
 * with a UTC offset, event_type string (12 values, skewed), user_id long,
 * country string (2 letters, 5% null), url string (~100 bytes, unique),
 * amount (cents, 10% null), is_mobile boolean, tags array of 0-3 strings
 * and ctx, a small nested object; both of the last land in string columns
 * as JSON text.  About 300 bytes and 10 fields a line.
 *
 * Then decodes it twice, once with amount as decimal(12,2) and once as
 * double, single-threaded, fed in 1 MiB chunks cut at line ends, taking
 * (and freeing) the batch every 100,000 rows, as the pipeline does.  Only
 * feed + take is timed (batch_free too: it is the pipeline's cost of
 * getting the memory back); generation is not.  Each configuration runs
 * REPEAT times with a fresh decoder and the fastest pass is printed, with
 * its thread CPU time, since the machine may be shared: MB/s of input and
 * rows/s.  Exits 1 if any line was a bad record.
 *
 * Everything runs twice: with glibc's malloc defaults, where every batch's
 * buffers are freshly mapped pages (the page faults cost more than the
 * decoding on a VM), and with the heap kept (mallopt), where a taken and
 * freed batch's memory is reused by the next one: the decoder's own speed.
 */
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingestd/batch.h"
#include "ingestd/buf.h"
#include "ingestd/decode.h"

#define CHUNK      ((size_t)1 << 20)
#define BATCH_ROWS 100000

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static unsigned below(unsigned n)
{
    return (unsigned)(rnd() % n);
}

static const char *const events[] = { "page_view", "page_view", "page_view", "click", "click",
                                      "scroll", "add_to_cart", "purchase", "search", "login",
                                      "logout", "video_play" };
static const char *const countries[] = { "US", "DE", "FR", "GB", "JP", "BR", "IN", "CA",
                                         "ES", "IT", "NL", "SE", "PL", "MX", "AU", "KR" };
static const char *const paths[] = { "products", "category/shoes", "cart", "checkout/step-2",
                                     "search", "blog/2024/spring-collection", "account/orders" };
static const char *const tagset[] = { "new", "sale", "promo", "returning", "vip", "mobile-app" };

static void gen_line(struct ingest_buf *o, uint64_t id)
{
    unsigned sec = below(86400 * 28);
    int off = (int)below(5) - 2;
    ingest_buf_printf(o,
                      "{\"id\":%" PRIu64 ",\"ts\":\"2024-02-%02u"
                      "T%02u:%02u:%02u.%03u%+03d:00\",\"event_type\":\"%s\",\"user_id\":%" PRIu64,
                      id, 1 + sec / 86400, sec / 3600 % 24, sec / 60 % 60, sec % 60, below(1000),
                      off, events[below(12)], 1000000 + rnd() % 9000000);
    if (below(20))
        ingest_buf_printf(o, ",\"country\":\"%s\"", countries[below(16)]);
    else
        ingest_buf_puts(o, ",\"country\":null");
    ingest_buf_printf(o, ",\"url\":\"https://shop.example.com/%s/%08" PRIx64
                         "?utm_source=newsletter&utm_campaign=c%u&session=%016" PRIx64 "\"",
                      paths[below(7)], rnd() & 0xffffffff, below(500), rnd());
    if (below(10))
        ingest_buf_printf(o, ",\"amount\":%u.%02u", below(100000), below(100));
    ingest_buf_printf(o, ",\"is_mobile\":%s,\"tags\":[", below(3) ? "false" : "true");
    for (unsigned k = 0, n = below(4); k < n; k++)
        ingest_buf_printf(o, "%s\"%s\"", k ? "," : "", tagset[below(6)]);
    ingest_buf_printf(o, "],\"ctx\":{\"app\":\"web\",\"v\":%u,\"ab\":\"%c\"}}\n", below(40),
                      'A' + below(3));
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

struct result {
    double wall, cpu;           /* seconds */
    uint64_t rows, bad;
    size_t batches;
};

/* One pass over the text with a fresh decoder; 0 or -1. */
static int decode_once(const struct ingest_schema *schema, const char *text, size_t len,
                       struct result *res)
{
    struct ingest_decode_opts opts = { .schema = schema, .rescued_col = -1 };
    char err[256];
    struct ingest_decoder *d = ingest_decoder_new(&opts, err, sizeof err);
    if (!d) {
        fprintf(stderr, "decoder: %s\n", err);
        return -1;
    }
    size_t pos = 0;
    uint64_t line_no = 1;
    memset(res, 0, sizeof *res);
    double t0 = now(), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    while (pos < len) {
        size_t n = len - pos < CHUNK ? len - pos : CHUNK;
        if (pos + n < len)              /* cut after the last newline in the chunk */
            while (n && text[pos + n - 1] != '\n')
                n--;
        uint64_t before = ingest_decoder_stats(d)->lines;
        int rc = ingest_decoder_feed(d, text + pos, n, line_no, NULL, NULL);
        if (rc) {
            fprintf(stderr, "feed: %d\n", rc);
            goto fail;
        }
        line_no += ingest_decoder_stats(d)->lines - before;
        pos += n;
        if (ingest_decoder_rows(d) >= BATCH_ROWS || pos == len) {
            struct ingest_batch b;
            if (ingest_decoder_take(d, &b))
                goto fail;
            ingest_batch_free(&b);
            res->batches++;
        }
    }
    res->wall = now() - t0;
    res->cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
    res->rows = ingest_decoder_stats(d)->rows;
    res->bad = ingest_decoder_stats(d)->bad;
    ingest_decoder_free(d);
    return 0;
fail:
    ingest_decoder_free(d);
    return -1;
}

/* The best of `repeat` passes (the machine may be shared). */
static int run(const char *text, size_t len, int amount_type, const char *label, int repeat)
{
    struct ingest_field fields[] = {
        { .name = "id", .type = INGEST_TYPE_INT64, .nullable = 0 },
        { .name = "ts", .type = INGEST_TYPE_TIMESTAMP, .nullable = 1 },
        { .name = "event_type", .type = INGEST_TYPE_STRING, .nullable = 1 },
        { .name = "user_id", .type = INGEST_TYPE_INT64, .nullable = 1 },
        { .name = "country", .type = INGEST_TYPE_STRING, .nullable = 1 },
        { .name = "url", .type = INGEST_TYPE_STRING, .nullable = 1 },
        { .name = "amount", .type = amount_type, .precision = 12, .scale = 2, .nullable = 1 },
        { .name = "is_mobile", .type = INGEST_TYPE_BOOLEAN, .nullable = 1 },
        { .name = "tags", .type = INGEST_TYPE_STRING, .nullable = 1 },
        { .name = "ctx", .type = INGEST_TYPE_STRING, .nullable = 1 },
    };
    struct ingest_schema schema = { fields, sizeof fields / sizeof fields[0] };
    struct result best = { 0 }, r;
    for (int i = 0; i < repeat; i++) {
        if (decode_once(&schema, text, len, &r))
            return 1;
        if (i == 0 || r.wall < best.wall)
            best = r;
    }
    printf("%-22s %7.1f MB  best of %d: %6.3f s (cpu %6.3f s)  %7.1f MB/s  %10.0f rows/s  "
           "(%" PRIu64 " rows, %zu batches, %" PRIu64 " bad)\n",
           label, len / 1e6, repeat, best.wall, best.cpu, len / 1e6 / best.wall,
           best.rows / best.wall, best.rows, best.batches, best.bad);
    return best.bad != 0;
}

int main(int argc, char **argv)
{
    size_t mb = argc > 1 ? strtoul(argv[1], NULL, 10) : 200;
    struct ingest_buf text = INGEST_BUF_INIT;
    if (ingest_buf_reserve(&text, mb * 1000000 + 4096))
        return 1;
    double t0 = now();
    for (uint64_t id = 1; text.len < mb * 1000000; id++)
        gen_line(&text, id);
    fprintf(stderr, "generated %zu bytes in %.2f s\n", text.len, now() - t0);
    if (text.oom) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    int repeat = argc > 2 ? atoi(argv[2]) : 3;
    printf("glibc malloc defaults (each batch's buffers are fresh pages):\n");
    int rc = run(text.data, text.len, INGEST_TYPE_DECIMAL, "amount decimal(12,2)", repeat);
    rc |= run(text.data, text.len, INGEST_TYPE_DOUBLE, "amount double", repeat);
    /* A freed batch's memory stays in the heap and the next batch reuses
     * it, as in a long-running daemon that tunes malloc this way. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    printf("heap reuse (M_MMAP_THRESHOLD 32 MiB, M_TRIM_THRESHOLD 1 GiB):\n");
    rc |= run(text.data, text.len, INGEST_TYPE_DECIMAL, "amount decimal(12,2)", repeat);
    rc |= run(text.data, text.len, INGEST_TYPE_DOUBLE, "amount double", repeat);
    ingest_buf_free(&text);
    return rc;
}
