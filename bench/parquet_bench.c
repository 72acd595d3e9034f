/*
 * parquet_bench - issue 3's benchmark driver (not a timed test).
 *
 *   parquet_bench OUTDIR [ROWS]      (or BENCH_ROWS=N; default 10000000)
 *
 * Generates a realistic event table in memory with a deterministic PRNG
 * (batches of BENCH_BATCH_ROWS rows, default 100000), then times only
 * ingest_parquet_writer_open..close over those batches (ZSTD level 3, one
 * thread, default row group/page sizes) into OUTDIR/ours.parquet.  Then,
 * untimed, writes the same rows as an uncompressed Parquet file
 * OUTDIR/source.parquet for DuckDB to load, and OUTDIR/ours.json with the
 * figures and the checksums computed from the batches themselves (an
 * independent walk over the vectors, not a read-back of either file).
 *
 * Input bytes = raw in-memory size of the batch data: value buffers,
 * string offsets and bytes, validity bitmaps.
 * Peak RSS: VmHWM after the timed part (includes the generated batches);
 * the writer's own share is VmHWM minus VmRSS just before it, with VmHWM
 * reset through /proc/self/clear_refs first.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ingestd/batch.h"
#include "ingestd/error.h"
#include "ingestd/parquet.h"

/* --- PRNG (splitmix64) ---------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint32_t rndn(uint32_t n) { return (uint32_t)(rnd() % n); }

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "parquet_bench: out of memory\n");
        exit(2);
    }
    return p;
}

/* --- schema ----------------------------------------------------------------- */

enum { C_ID, C_TS, C_EVENT, C_COUNTRY, C_URL, C_UA, C_USER, C_AMOUNT, C_LATENCY, C_MOBILE, NCOL };

static struct ingest_field fields[NCOL] = {
    [C_ID]      = { .name = "id", .type = INGEST_TYPE_INT64, .nullable = 0 },
    [C_TS]      = { .name = "ts", .type = INGEST_TYPE_TIMESTAMP, .nullable = 0 },
    [C_EVENT]   = { .name = "event_type", .type = INGEST_TYPE_STRING, .nullable = 0 },
    [C_COUNTRY] = { .name = "country", .type = INGEST_TYPE_STRING, .nullable = 1 },
    [C_URL]     = { .name = "url", .type = INGEST_TYPE_STRING, .nullable = 0 },
    [C_UA]      = { .name = "user_agent", .type = INGEST_TYPE_STRING, .nullable = 1 },
    [C_USER]    = { .name = "user_id", .type = INGEST_TYPE_INT64, .nullable = 1 },
    [C_AMOUNT]  = { .name = "amount", .type = INGEST_TYPE_DOUBLE, .nullable = 1 },
    [C_LATENCY] = { .name = "latency_ms", .type = INGEST_TYPE_DOUBLE, .nullable = 0 },
    [C_MOBILE]  = { .name = "is_mobile", .type = INGEST_TYPE_BOOLEAN, .nullable = 0 },
};
static struct ingest_schema schema = { fields, NCOL };

static const char *events[20] = {
    "page_view", "click", "scroll", "search", "add_to_cart", "remove_from_cart", "checkout_start",
    "purchase", "login", "logout", "signup", "video_play", "video_pause", "share", "like",
    "comment", "error", "impression", "form_submit", "session_start",
};
static const char *countries[40] = {
    "US", "DE", "FR", "GB", "JP", "BR", "IN", "CN", "CA", "AU", "ES", "IT", "NL", "SE",
    "PL", "MX", "KR", "RU", "TR", "AR", "ZA", "NG", "EG", "ID", "TH", "VN", "PH", "CH",
    "AT", "BE", "DK", "NO", "FI", "IE", "PT", "GR", "CZ", "HU", "RO", "IL",
};
static const char *sections[12] = {
    "electronics", "books", "home-garden", "fashion", "sports-outdoors", "toys", "beauty",
    "automotive", "grocery", "music", "office-supplies", "pet-care",
};
static const char *words[32] = {
    "wireless", "ultra", "premium", "classic", "organic", "smart", "portable", "deluxe",
    "compact", "vintage", "pro", "mini", "stainless", "bamboo", "leather", "cotton",
    "headphones", "lamp", "backpack", "kettle", "sneakers", "camera", "blender", "jacket",
    "charger", "novel", "puzzle", "speaker", "watch", "mug", "tent", "keyboard",
};
static const char *sources[6] = { "google", "newsletter", "facebook", "twitter", "partner", "direct" };
static const char *uas[8] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%u.0.%u.%u Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_%u) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.%u Safari/605.1.%u",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_%u like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.%u Mobile/15E%u Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel %u) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%u.0.%u.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:%u.0) Gecko/20100101 Firefox/%u.0 (build %u)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%u.0.%u.%u Safari/537.36 Edg/%u.0",
    "Mozilla/5.0 (Linux; Android 13; SM-S9%u1B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/%u.0 Chrome/%u.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html) build/%u.%u.%u",
};

/* --- checksums (from the batches) ------------------------------------------ */

struct sums {
    int64_t rows;
    int64_t nulls[NCOL];
    __int128 sum_id, sum_ts, sum_user;
    int64_t len_event, len_country, len_url, len_ua;
    int64_t amount_cents, latency_us, mobile;
};

static void i128_str(__int128 v, char *out)
{
    char tmp[64];
    int n = 0, neg = v < 0;
    unsigned __int128 u = neg ? -(unsigned __int128)v : (unsigned __int128)v;
    do {
        tmp[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    if (neg)
        *out++ = '-';
    while (n)
        *out++ = tmp[--n];
    *out = 0;
}

/* --- generation ------------------------------------------------------------- */

static size_t input_bytes;

static void set_valid(struct ingest_vector *v, size_t i, int valid)
{
    if (valid)
        v->validity[i >> 3] |= (uint8_t)(1u << (i & 7));
    else
        v->null_count++;
}

static void str_put(struct ingest_vector *v, size_t i, const char *s, size_t len, size_t *cap)
{
    uint32_t off = v->offsets[i];
    if (off + len > *cap) {
        *cap = (*cap + len) * 2;
        v->data = realloc(v->data, *cap);
        if (!v->data) {
            fprintf(stderr, "parquet_bench: out of memory\n");
            exit(2);
        }
    }
    memcpy(v->data + off, s, len);
    v->offsets[i + 1] = off + (uint32_t)len;
}

static void gen_batch(struct ingest_batch *b, size_t n, int64_t first_row, struct sums *s)
{
    b->schema = &schema;
    b->nrows = n;
    b->columns = xmalloc(NCOL * sizeof *b->columns);
    size_t cap[NCOL] = { 0 };
    static const size_t guess[NCOL] = { [C_EVENT] = 12, [C_COUNTRY] = 2, [C_URL] = 150, [C_UA] = 130 };
    for (int c = 0; c < NCOL; c++) {
        struct ingest_vector *v = &b->columns[c];
        memset(v, 0, sizeof *v);
        v->field = &fields[c];
        v->length = n;
        if (fields[c].nullable)
            v->validity = calloc(n / 8 + 1, 1);
        if (fields[c].type == INGEST_TYPE_STRING) {
            v->offsets = xmalloc((n + 1) * sizeof *v->offsets);
            v->offsets[0] = 0;
            cap[c] = n * guess[c] + 256;
            v->data = xmalloc(cap[c]);
        } else {
            v->values = calloc(n, ingest_type_width(&fields[c]));
        }
        if ((fields[c].nullable && !v->validity) || (!v->offsets && !v->values)) {
            fprintf(stderr, "parquet_bench: out of memory\n");
            exit(2);
        }
    }
    struct ingest_vector *col = b->columns;
    char buf[512];
    for (size_t i = 0; i < n; i++) {
        int64_t r = first_row + (int64_t)i;
        /* id: sequential */
        int64_t id = r + 1;
        ((int64_t *)col[C_ID].values)[i] = id;
        s->sum_id += id;
        /* ts: ~250 us apart from 2026-11-01, jitter up to 1 s */
        int64_t ts = 1793491200000000LL + r * 250 + (int64_t)rndn(1000000);
        ((int64_t *)col[C_TS].values)[i] = ts;
        s->sum_ts += ts;
        /* event_type: 20 values, skewed (min of two uniforms) */
        uint32_t a = rndn(20), bb = rndn(20);
        const char *ev = events[a < bb ? a : bb];
        str_put(&col[C_EVENT], i, ev, strlen(ev), &cap[C_EVENT]);
        s->len_event += (int64_t)strlen(ev);
        /* country: 40 codes, ~10% null */
        if (rndn(10) == 0) {
            str_put(&col[C_COUNTRY], i, "", 0, &cap[C_COUNTRY]);
            set_valid(&col[C_COUNTRY], i, 0);
        } else {
            uint32_t k = rndn(40);
            k = k < 20 ? rndn(5) : k;   /* the first five are more common */
            str_put(&col[C_COUNTRY], i, countries[k], 2, &cap[C_COUNTRY]);
            set_valid(&col[C_COUNTRY], i, 1);
            s->len_country += 2;
        }
        /* url: high cardinality, ~80-200 bytes */
        int len = snprintf(buf, sizeof buf, "https://www.example-shop.com/%s/%s-%s",
                           sections[rndn(12)], words[rndn(32)], words[rndn(32)]);
        for (uint32_t w = rndn(3); w > 0; w--)
            len += snprintf(buf + len, sizeof buf - (size_t)len, "-%s", words[rndn(32)]);
        len += snprintf(buf + len, sizeof buf - (size_t)len, "-p%06u?utm_source=%s&sid=%016" PRIx64,
                        rndn(1000000), sources[rndn(6)], rnd());
        if (rndn(2))
            len += snprintf(buf + len, sizeof buf - (size_t)len, "&ref=%s&page=%u", words[rndn(32)],
                            rndn(50));
        if (len > 200)
            len = 200;
        str_put(&col[C_URL], i, buf, (size_t)len, &cap[C_URL]);
        s->len_url += len;
        /* user_agent: ~10% null, templates with version numbers */
        if (rndn(10) == 0) {
            str_put(&col[C_UA], i, "", 0, &cap[C_UA]);
            set_valid(&col[C_UA], i, 0);
        } else {
            len = snprintf(buf, sizeof buf, uas[rndn(8)], 100 + rndn(30), rndn(7000), rndn(200),
                           100 + rndn(30));
            str_put(&col[C_UA], i, buf, (size_t)len, &cap[C_UA]);
            set_valid(&col[C_UA], i, 1);
            s->len_ua += len;
        }
        /* user_id: ~10% null (anonymous) */
        if (rndn(10) == 0) {
            set_valid(&col[C_USER], i, 0);
        } else {
            int64_t u = 1 + (int64_t)rndn(5000000);
            ((int64_t *)col[C_USER].values)[i] = u;
            set_valid(&col[C_USER], i, 1);
            s->sum_user += u;
        }
        /* amount: ~10% null, cents */
        if (rndn(10) == 0) {
            set_valid(&col[C_AMOUNT], i, 0);
        } else {
            uint32_t cents = rndn(10) < 7 ? rndn(5000) : rndn(500000);
            ((double *)col[C_AMOUNT].values)[i] = cents / 100.0;
            set_valid(&col[C_AMOUNT], i, 1);
            s->amount_cents += cents;
        }
        /* latency_ms: microsecond resolution */
        uint32_t us = rndn(8) ? rndn(200000) : rndn(5000000);
        ((double *)col[C_LATENCY].values)[i] = us / 1000.0;
        s->latency_us += us;
        /* is_mobile */
        uint8_t m = rndn(100) < 45;
        ((uint8_t *)col[C_MOBILE].values)[i] = m;
        s->mobile += m;
    }
    for (int c = 0; c < NCOL; c++) {
        struct ingest_vector *v = &b->columns[c];
        s->nulls[c] += (int64_t)v->null_count;
        if (v->offsets) {
            input_bytes += (n + 1) * sizeof *v->offsets + v->offsets[n];
            v->data = realloc(v->data, v->offsets[n] ? v->offsets[n] : 1);
        } else {
            input_bytes += n * ingest_type_width(&fields[c]);
        }
        if (v->validity)
            input_bytes += n / 8 + 1;
    }
    s->rows += (int64_t)n;
}

/* --- measurement ------------------------------------------------------------- */

static long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t kl = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0 && line[kl] == ':')
            v = strtol(line + kl + 1, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int write_file(const char *path, struct ingest_batch *bs, size_t nb,
                      const struct ingest_parquet_opts *o, struct ingest_parquet_file_info *info)
{
    char err[256];
    unlink(path);
    struct ingest_parquet_writer *w = ingest_parquet_writer_open(path, &schema, o, err, sizeof err);
    if (!w) {
        fprintf(stderr, "parquet_bench: %s: %s\n", path, err);
        return 1;
    }
    for (size_t i = 0; i < nb; i++) {
        int rc = ingest_parquet_writer_write(w, &bs[i]);
        if (rc < 0) {
            fprintf(stderr, "parquet_bench: %s: write: %s\n", path, ingest_strerror(rc));
            ingest_parquet_writer_abort(w);
            return 1;
        }
    }
    int rc = ingest_parquet_writer_close(w, info);
    if (rc < 0) {
        fprintf(stderr, "parquet_bench: %s: close: %s\n", path, ingest_strerror(rc));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: parquet_bench OUTDIR [ROWS]   (BENCH_ROWS, BENCH_BATCH_ROWS)\n");
        return 2;
    }
    const char *outdir = argv[1];
    const char *rs = argc == 3 ? argv[2] : getenv("BENCH_ROWS");
    size_t rows = rs && *rs ? strtoull(rs, NULL, 10) : 10000000;
    const char *bsz = getenv("BENCH_BATCH_ROWS");
    size_t batch_rows = bsz && *bsz ? strtoull(bsz, NULL, 10) : 100000;
    if (!rows || !batch_rows) {
        fprintf(stderr, "parquet_bench: bad row counts\n");
        return 2;
    }
    size_t nb = (rows + batch_rows - 1) / batch_rows;
    struct ingest_batch *bs = xmalloc(nb * sizeof *bs);
    struct sums s;
    memset(&s, 0, sizeof s);

    double t0 = now();
    for (size_t i = 0; i < nb; i++) {
        size_t n = i + 1 < nb ? batch_rows : rows - i * batch_rows;
        gen_batch(&bs[i], n, (int64_t)(i * batch_rows), &s);
    }
    fprintf(stderr, "parquet_bench: generated %zu rows in %zu batches (%.1f MB) in %.1f s\n", rows,
            nb, input_bytes / 1e6, now() - t0);

    /* --- timed: ours, ZSTD level 3, one thread ------------------------------- */
    char path[4096], src[4096];
    snprintf(path, sizeof path, "%s/ours.parquet", outdir);
    snprintf(src, sizeof src, "%s/source.parquet", outdir);
    FILE *cr = fopen("/proc/self/clear_refs", "w");
    int hwm_reset = cr && fputs("5", cr) >= 0;
    if (cr && fclose(cr) != 0)
        hwm_reset = 0;
    long rss_before = status_kb("VmRSS");
    struct ingest_parquet_opts o = { .codec = INGEST_PARQUET_ZSTD, .zstd_level = 3 };
    struct ingest_parquet_file_info info;
    t0 = now();
    if (write_file(path, bs, nb, &o, &info))
        return 1;
    double secs = now() - t0;
    long hwm = status_kb("VmHWM");
    uint64_t out_bytes = info.file_size;
    size_t rgs = info.num_row_groups;
    ingest_parquet_file_info_free(&info);
    fprintf(stderr, "parquet_bench: ours.parquet: %.2f s, %" PRIu64 " bytes, %zu row groups\n", secs,
            out_bytes, rgs);

    /* --- untimed: the same rows, uncompressed, for DuckDB to load ---------- */
    struct ingest_parquet_opts so = { .codec = INGEST_PARQUET_UNCOMPRESSED, .no_dictionary = 1 };
    t0 = now();
    if (write_file(src, bs, nb, &so, &info))
        return 1;
    ingest_parquet_file_info_free(&info);
    fprintf(stderr, "parquet_bench: source.parquet (uncompressed) written in %.1f s\n", now() - t0);

    /* --- figures + expected checksums --------------------------------------- */
    char sid[64], sts[64], suser[64];
    i128_str(s.sum_id, sid);
    i128_str(s.sum_ts, sts);
    i128_str(s.sum_user, suser);
    snprintf(path, sizeof path, "%s/ours.json", outdir);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    fprintf(f, "{\"rows\":%zu,\"batches\":%zu,\"batch_rows\":%zu,\"input_bytes\":%zu,\n", rows, nb,
            batch_rows, input_bytes);
    fprintf(f, " \"seconds\":%.6f,\"output_bytes\":%" PRIu64 ",\"row_groups\":%zu,\n", secs,
            out_bytes, rgs);
    fprintf(f, " \"peak_rss_kb\":%ld,\"rss_before_kb\":%ld,\"hwm_reset\":%s,\n", hwm, rss_before,
            hwm_reset ? "true" : "false");
    fprintf(f, " \"expect\":{\"n\":\"%" PRId64 "\",\"sum_id\":\"%s\",\"sum_ts\":\"%s\","
               "\"sum_user\":\"%s\",\"len_event\":\"%" PRId64 "\",\"len_country\":\"%" PRId64 "\","
               "\"len_url\":\"%" PRId64 "\",\"len_ua\":\"%" PRId64 "\",\"amount_cents\":\"%" PRId64 "\","
               "\"latency_us\":\"%" PRId64 "\",\"mobile\":\"%" PRId64 "\"",
            s.rows, sid, sts, suser, s.len_event, s.len_country, s.len_url, s.len_ua,
            s.amount_cents, s.latency_us, s.mobile);
    for (int c = 0; c < NCOL; c++)
        fprintf(f, ",\"nulls_%s\":\"%" PRId64 "\"", fields[c].name, s.nulls[c]);
    fprintf(f, "}}\n");
    if (fclose(f) != 0) {
        perror(path);
        return 1;
    }
    for (size_t i = 0; i < nb; i++)
        ingest_batch_free(&bs[i]);
    free(bs);
    return 0;
}
