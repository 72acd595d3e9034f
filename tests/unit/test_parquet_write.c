/*
 * test_parquet_write.c - the Parquet writer: Thrift compact bytes, the
 * RLE/bit-packed hybrid, dictionary and fallback, statistics order,
 * definition/repetition levels, and whole files.
 *
 * Golden bytes come from specs/delta-parquet.md section C (hand-checked
 * encodings that DuckDB, arrow-rs and hyparquet accepted).  The hybrid is
 * checked against a small reference decoder written here from the spec.
 * Files are checked by walking their page headers with a minimal compact
 * decoder (also here), so the tests need no reader from the tree.  What
 * other readers see is checked end to end with tests/tools/pqgen.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingestd/buf.h"
#include "ingestd/error.h"
#include "ingestd/parquet.h"
#include "scratch.h"
#include "../../daemon/parquet/pq_encode.h"
#include "../../daemon/parquet/thrift_enc.h"

/* --- helpers ---------------------------------------------------------------------- */

static void assert_bytes(const struct ingest_buf *b, const uint8_t *want, size_t n,
                         const char *what)
{
    if (b->len != n || (n && memcmp(b->data, want, n) != 0)) {
        char got[1024] = "", exp[1024] = "";
        for (size_t i = 0; i < b->len && i < 300; i++)
            sprintf(got + strlen(got), "%02x ", (uint8_t)b->data[i]);
        for (size_t i = 0; i < n && i < 300; i++)
            sprintf(exp + strlen(exp), "%02x ", want[i]);
        fail_msg("%s:\n got  %s\n want %s", what, got, exp);
    }
}

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    return scratch_make(tmpdir, sizeof tmpdir, "test_parquet_write");
}

static int teardown_dir(void **state)
{
    (void)state;
    return scratch_remove(tmpdir);
}

static char *tmp_path(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    unlink(p);
    return p;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n + 1);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* --- a minimal compact decoder for page headers ------------------------------------ */

struct rd { const uint8_t *p, *end; };

static uint64_t rd_varint(struct rd *r)
{
    uint64_t v = 0;
    int shift = 0;
    while (r->p < r->end) {
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
        shift += 7;
    }
    return v;
}

static int64_t rd_zz(struct rd *r)
{
    uint64_t u = rd_varint(r);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* Reads a struct; i32/i64 fields at depth 0 and in nested struct `sub` land
 * in top[id] / nested[id]; everything else is skipped. */
static void rd_struct(struct rd *r, int64_t *vals, int64_t *nested, int sub);

static void rd_skip(struct rd *r, int type)
{
    switch (type) {
    case 1: case 2: return;
    case 3: r->p++; return;
    case 4: case 5: case 6: rd_varint(r); return;
    case 7: r->p += 8; return;
    case 8: { uint64_t n = rd_varint(r); r->p += n; return; }
    case 9: case 10: {
        uint8_t h = *r->p++;
        uint64_t n = h >> 4;
        if (n == 15)
            n = rd_varint(r);
        for (uint64_t i = 0; i < n; i++)
            rd_skip(r, h & 15);
        return;
    }
    case 12: rd_struct(r, NULL, NULL, 0); return;
    default: fail_msg("compact type %d", type);
    }
}

static void rd_struct(struct rd *r, int64_t *vals, int64_t *nested, int sub)
{
    int16_t last = 0;
    for (;;) {
        uint8_t h = *r->p++;
        if (h == 0)
            return;
        int type = h & 15, delta = h >> 4;
        int16_t id = delta ? (int16_t)(last + delta) : (int16_t)rd_zz(r);
        last = id;
        if (vals && (type == 5 || type == 6) && id < 16)
            vals[id] = rd_zz(r);
        else if (vals && type == 12 && id == sub)
            rd_struct(r, nested, NULL, 0);
        else
            rd_skip(r, type);
    }
}

struct page_info { int type, encoding; int64_t nvalues, comp; };

/* Walks the pages from offset 4 up to the footer; returns how many. */
static size_t walk_pages(const uint8_t *f, size_t len, struct page_info *out, size_t max)
{
    uint32_t flen;
    memcpy(&flen, f + len - 8, 4);
    const uint8_t *end = f + len - 8 - flen;
    struct rd r = { f + 4, end };
    size_t n = 0;
    while (r.p < end && n < max) {
        int64_t h[16] = { 0 }, dp[16] = { 0 }, dict[16] = { 0 };
        /* data page header is field 5, dictionary page header field 7 */
        const uint8_t *save = r.p;
        rd_struct(&r, h, dp, 5);
        if (h[1] == 2) {
            r.p = save;
            rd_struct(&r, h, dict, 7);
            out[n].encoding = (int)dict[2];
            out[n].nvalues = dict[1];
        } else {
            out[n].encoding = (int)dp[2];
            out[n].nvalues = dp[1];
        }
        out[n].type = (int)h[1];
        out[n].comp = h[3];
        r.p += h[3];
        n++;
    }
    assert_ptr_equal(r.p, end);
    return n;
}

/* --- Thrift compact ------------------------------------------------------------------------ */

static void test_thrift_varint_and_zigzag_edges(void **state)
{
    (void)state;
    struct ingest_buf b = INGEST_BUF_INIT;
    static const struct { uint64_t v; uint8_t bytes[10]; size_t n; } cases[] = {
        { 0, { 0x00 }, 1 },
        { 1, { 0x01 }, 1 },
        { 127, { 0x7f }, 1 },
        { 128, { 0x80, 0x01 }, 2 },
        { 50399, { 0xdf, 0x89, 0x03 }, 3 },
        { UINT64_MAX, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, 10 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ingest_buf_reset(&b);
        tw_varint(&b, cases[i].v);
        assert_bytes(&b, cases[i].bytes, cases[i].n, "varint");
    }
    assert_int_equal(tw_zigzag32(0), 0);
    assert_int_equal(tw_zigzag32(-1), 1);
    assert_int_equal(tw_zigzag32(1), 2);
    assert_int_equal(tw_zigzag32(-2), 3);
    assert_int_equal(tw_zigzag32(INT32_MAX), 0xfffffffeu);
    assert_int_equal(tw_zigzag32(INT32_MIN), 0xffffffffu);
    assert_true(tw_zigzag64(INT64_MIN) == UINT64_MAX);
    assert_true(tw_zigzag64(INT64_MAX) == UINT64_MAX - 1);

    /* i64 INT64_MIN as a field: header then 10-byte varint */
    ingest_buf_reset(&b);
    struct tw t;
    tw_init(&t, &b);
    tw_struct_begin(&t);
    tw_field_i64(&t, 1, INT64_MIN);
    tw_struct_end(&t);
    static const uint8_t want[] = { 0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0x01, 0x00 };
    assert_bytes(&b, want, sizeof want, "i64 min field");
    ingest_buf_free(&b);
}

static void test_thrift_page_header_matches_digest(void **state)
{
    (void)state;
    struct ingest_buf b = INGEST_BUF_INIT;
    struct pqw_page_header ph = { .type = PQW_DATA_PAGE, .uncompressed_size = 6,
                                  .compressed_size = 8, .num_values = 13,
                                  .encoding = PQW_ENC_PLAIN };
    pqw_put_page_header(&b, &ph);
    static const uint8_t want[] = { 0x15, 0x00, 0x15, 0x0c, 0x15, 0x10, 0x2c, 0x15, 0x1a,
                                    0x15, 0x00, 0x15, 0x06, 0x15, 0x06, 0x00, 0x00 };
    assert_bytes(&b, want, sizeof want, "page header");
    ingest_buf_free(&b);
}

static void test_thrift_long_field_delta_bool_and_list(void **state)
{
    (void)state;
    struct ingest_buf b = INGEST_BUF_INIT;
    struct tw t;
    tw_init(&t, &b);
    tw_struct_begin(&t);
    tw_field_string(&t, 1, "ab");
    tw_field_i64(&t, 17, -2);
    tw_field_bool(&t, 18, 1);
    tw_field_list_begin(&t, 19, TW_BINARY, 2);
    tw_elem_binary(&t, "a", 1);
    tw_elem_binary(&t, "bc", 2);
    tw_struct_end(&t);
    static const uint8_t want[] = { 0x18, 0x02, 0x61, 0x62, 0x06, 0x22, 0x03, 0x11, 0x19,
                                    0x28, 0x01, 0x61, 0x02, 0x62, 0x63, 0x00 };
    assert_bytes(&b, want, sizeof want, "digest example 2");

    /* a list of 15 elements uses the long header; nested struct restores ids */
    ingest_buf_reset(&b);
    tw_init(&t, &b);
    tw_struct_begin(&t);
    tw_field_list_begin(&t, 1, TW_I32, 15);
    for (int i = 0; i < 15; i++)
        tw_elem_i32(&t, i);
    tw_field_struct_begin(&t, 2);
    tw_field_i32(&t, 1, 1);
    tw_struct_end(&t);
    tw_field_i32(&t, 3, -1);
    tw_struct_end(&t);
    static const uint8_t want2[] = { 0x19, 0xf5, 0x0f, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18,
                                     20, 22, 24, 26, 28, 0x1c, 0x15, 0x02, 0x00, 0x15, 0x01,
                                     0x00 };
    assert_bytes(&b, want2, sizeof want2, "long list and nested struct");
    ingest_buf_free(&b);
}

static void test_thrift_schema_elements_match_digest(void **state)
{
    (void)state;
    struct ingest_buf b = INGEST_BUF_INIT;
    struct tw t;
    tw_init(&t, &b);
    struct pqw_schema_element ts = { .type = PQW_INT64, .repetition = PQW_OPTIONAL,
                                     .name = "ts", .num_children = -1,
                                     .converted = PQW_CT_TIMESTAMP_MICROS,
                                     .logical = PQW_LT_TIMESTAMP };
    pqw_put_schema_element(&t, &ts);
    static const uint8_t want_ts[] = { 0x15, 0x04, 0x25, 0x02, 0x18, 0x02, 0x74, 0x73, 0x25,
                                       0x14, 0x4c, 0x8c, 0x11, 0x1c, 0x2c, 0x00, 0x00, 0x00,
                                       0x00, 0x00 };
    assert_bytes(&b, want_ts, sizeof want_ts, "timestamp element");

    ingest_buf_reset(&b);
    struct pqw_schema_element amt = { .type = PQW_INT64, .repetition = PQW_OPTIONAL,
                                      .name = "amt", .num_children = -1,
                                      .converted = PQW_CT_DECIMAL, .scale = 2, .precision = 10,
                                      .logical = PQW_LT_DECIMAL };
    pqw_put_schema_element(&t, &amt);
    static const uint8_t want_amt[] = { 0x15, 0x04, 0x25, 0x02, 0x18, 0x03, 0x61, 0x6d, 0x74,
                                        0x25, 0x0a, 0x15, 0x04, 0x15, 0x14, 0x2c, 0x5c, 0x15,
                                        0x04, 0x15, 0x14, 0x00, 0x00, 0x00 };
    assert_bytes(&b, want_amt, sizeof want_amt, "decimal element");

    ingest_buf_reset(&b);
    struct pqw_schema_element i16 = { .type = -1, .repetition = -1, .name = "",
                                      .num_children = -1, .converted = -1,
                                      .logical = PQW_LT_INTEGER, .lt_int_bits = 16 };
    pqw_put_schema_element(&t, &i16);
    /* name "" then the INT(16, signed) logical type of the digest */
    static const uint8_t want_i16[] = { 0x48, 0x00, 0x6c, 0xac, 0x13, 0x10, 0x11, 0x00, 0x00,
                                        0x00 };
    assert_bytes(&b, want_i16, sizeof want_i16, "INT(16) logical type");
    ingest_buf_free(&b);
}

/* --- RLE / bit-packed hybrid -------------------------------------------------------------- */

/* Reference decoder from Encodings.md; returns values decoded (whole groups). */
static size_t rle_decode(const uint8_t *p, size_t len, int w, uint32_t *out, size_t max,
                         size_t *padded_runs_before_end)
{
    struct rd r = { p, p + len };
    size_t n = 0;
    *padded_runs_before_end = 0;
    while (r.p < r.end) {
        uint64_t h = rd_varint(&r);
        if (h & 1) {
            size_t count = (size_t)(h >> 1) * 8;
            uint64_t acc = 0;
            int bits = 0;
            for (size_t i = 0; i < count; i++) {
                while (bits < w) {
                    acc |= (uint64_t)*r.p++ << bits;
                    bits += 8;
                }
                uint32_t v = (uint32_t)(acc & (w == 32 ? 0xffffffffu : ((1u << w) - 1)));
                acc >>= w;
                bits -= w;
                if (n < max)
                    out[n] = v;
                n++;
            }
        } else {
            size_t count = (size_t)(h >> 1);
            uint32_t v = 0;
            for (int i = 0; i < (w + 7) / 8; i++)
                v |= (uint32_t)*r.p++ << (8 * i);
            for (size_t i = 0; i < count; i++) {
                if (n < max)
                    out[n] = v;
                n++;
            }
        }
        if (n > max && r.p < r.end)
            (*padded_runs_before_end)++;
    }
    assert_ptr_equal(r.p, r.end);
    return n;
}

static void roundtrip_u32(const uint32_t *v, size_t n, int w)
{
    struct ingest_buf b = INGEST_BUF_INIT;
    pq_rle_encode_u32(&b, v, n, w);
    uint32_t *got = calloc(n + 8, sizeof *got);
    size_t pad;
    size_t m = rle_decode((const uint8_t *)b.data, b.len, w, got, n + 8, &pad);
    assert_true(m >= n && m < n + 8);
    assert_int_equal(pad, 0);
    for (size_t i = 0; i < n; i++)
        if (got[i] != v[i])
            fail_msg("w=%d n=%zu: value %zu is %u, want %u", w, n, i, got[i], v[i]);
    /* and the u8 flavour gives identical bytes for small widths */
    if (w <= 8) {
        uint8_t *v8 = malloc(n + 1);
        for (size_t i = 0; i < n; i++)
            v8[i] = (uint8_t)v[i];
        struct ingest_buf b8 = INGEST_BUF_INIT;
        pq_rle_encode_u8(&b8, v8, n, w);
        assert_bytes(&b8, (const uint8_t *)b.data, b.len, "u8 vs u32 encoder");
        ingest_buf_free(&b8);
        free(v8);
    }
    free(got);
    ingest_buf_free(&b);
}

static void test_rle_known_bytes(void **state)
{
    (void)state;
    struct ingest_buf b = INGEST_BUF_INIT;
    uint32_t v[16] = { 0, 1, 2, 3, 4, 5, 6, 7 };
    pq_rle_encode_u32(&b, v, 8, 3);
    static const uint8_t packed[] = { 0x03, 0x88, 0xc6, 0xfa };
    assert_bytes(&b, packed, sizeof packed, "Encodings.md bit-packing example");

    /* 13 zeros at width 2: one RLE run, as Spark's txn.appId levels */
    uint8_t z[13] = { 0 };
    ingest_buf_reset(&b);
    pq_rle_encode_u8(&b, z, 13, 2);
    static const uint8_t rle[] = { 0x1a, 0x00 };
    assert_bytes(&b, rle, sizeof rle, "RLE run");

    /* 3 literals then a run of 10: literals borrow 5 from the run, the
     * remaining 5 stay literal, as 8 + 5 values in bit-packed groups */
    uint32_t mix[13] = { 1, 2, 3, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7 };
    ingest_buf_reset(&b);
    pq_rle_encode_u32(&b, mix, 13, 3);
    assert_int_equal((uint8_t)b.data[0], 0x05);     /* 2 groups, bit-packed */
    roundtrip_u32(mix, 13, 3);
    /* 3 literals then a run of 20: 8 packed, then an RLE run of 15 */
    uint32_t mix2[23] = { 1, 2, 3 };
    for (int i = 3; i < 23; i++)
        mix2[i] = 5;
    ingest_buf_reset(&b);
    pq_rle_encode_u32(&b, mix2, 23, 3);
    static const uint8_t want2[] = { 0x03, 0xd1, 0xda, 0xb6, 0x1e, 0x05 };
    assert_bytes(&b, want2, sizeof want2, "literals + run");
    ingest_buf_free(&b);
}

static void test_rle_roundtrips_random_runs_at_every_width(void **state)
{
    (void)state;
    srand(1234);
    uint32_t *v = malloc(5000 * sizeof *v);
    for (int w = 0; w <= 32; w++) {
        uint64_t mask = w == 32 ? 0xffffffffu : (1ull << w) - 1;
        for (int trial = 0; trial < 20; trial++) {
            size_t n = (size_t)(rand() % 5000);
            size_t i = 0;
            while (i < n) {
                uint32_t x = (uint32_t)(((uint64_t)rand() << 16 ^ (uint64_t)rand()) & mask);
                size_t run = rand() % 3 == 0 ? (size_t)(rand() % 40) + 1 : 1;
                for (size_t k = 0; k < run && i < n; k++)
                    v[i++] = x;
            }
            roundtrip_u32(v, n, w);
        }
    }
    roundtrip_u32(v, 0, 1);
    free(v);
}

/* --- dictionary ------------------------------------------------------------------------------- */

static void test_dict_separates_signed_zeros_and_maps_repeats(void **state)
{
    (void)state;
    struct pq_dict d;
    pq_dict_init(&d, 8);
    double vals[] = { 0.0, -0.0, 1.5, 0.0, NAN, 1.5, -0.0, NAN };
    uint32_t idx[8];
    assert_int_equal(pq_dict_add_fixed(&d, vals, 8, idx), 0);
    uint32_t want[8] = { 0, 1, 2, 0, 3, 2, 1, 3 };
    assert_memory_equal(idx, want, sizeof want);
    assert_int_equal(d.n, 4);
    assert_int_equal(d.plain.len, 32);
    assert_memory_equal(d.plain.data + 8, &vals[1], 8);
    pq_dict_free(&d);

    /* byte arrays: many distinct values force rehashing; PLAIN body layout */
    pq_dict_init(&d, 0);
    char data[20000];
    uint32_t off[3001];
    size_t at = 0;
    for (int i = 0; i < 3000; i++) {
        off[i] = (uint32_t)at;
        at += (size_t)sprintf(data + at, "%d", i % 1500);
    }
    off[3000] = (uint32_t)at;
    uint32_t *ix = malloc(3000 * sizeof *ix);
    assert_int_equal(pq_dict_add_bytes(&d, off, (uint8_t *)data, NULL, 0, 3000, ix), 0);
    assert_int_equal(d.n, 1500);
    for (int i = 0; i < 3000; i++)
        assert_int_equal(ix[i], i % 1500);
    assert_memory_equal(d.plain.data, "\x01\x00\x00\x00" "0" "\x01\x00\x00\x00" "1", 10);
    free(ix);
    pq_dict_free(&d);
}

/* --- whole files ----------------------------------------------------------------------------------- */

static struct ingest_field f_str[] = { { .name = (char *)"s", .type = INGEST_TYPE_STRING } };
static struct ingest_schema sch_str = { f_str, 1 };

/* n strings "v<i % mod>" padded to width characters, in one batch */
static void str_batch(struct ingest_batch *b, struct ingest_vector *v, size_t n, size_t mod,
                      int width)
{
    memset(v, 0, sizeof *v);
    v->field = &f_str[0];
    v->length = n;
    v->offsets = malloc((n + 1) * sizeof *v->offsets);
    v->data = malloc(n * (size_t)(width + 12) + 1);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        v->offsets[i] = (uint32_t)at;
        at += (size_t)sprintf((char *)v->data + at, "v%0*zu", width, i % mod);
    }
    v->offsets[n] = (uint32_t)at;
    b->schema = &sch_str;
    b->nrows = n;
    b->columns = v;
}

static void test_dictionary_falls_back_to_plain_when_full(void **state)
{
    (void)state;
    struct ingest_batch b;
    struct ingest_vector v;
    /* 40% distinct: the dictionary stays worth it until it passes 4 KiB */
    str_batch(&b, &v, 20000, 8000, 10);
    const char *path = tmp_path("fallback.parquet");
    char err[128];
    struct ingest_parquet_opts o = { .dict_max_bytes = 4096, .page_bytes = 2048 };
    struct ingest_parquet_writer *w = ingest_parquet_writer_open(path, &sch_str, &o, err,
                                                                 sizeof err);
    assert_non_null(w);
    assert_int_equal(ingest_parquet_writer_write(w, &b), 0);
    assert_int_equal(ingest_parquet_writer_close(w, NULL), 0);
    size_t len;
    uint8_t *f = slurp(path, &len);
    struct page_info pages[4096];
    size_t n = walk_pages(f, len, pages, 4096);
    assert_int_equal(pages[0].type, 2);                 /* dictionary page first */
    assert_int_equal(pages[0].encoding, PQW_ENC_PLAIN);
    int64_t dict_entries = pages[0].nvalues;
    assert_true(dict_entries * 15 >= 4096 && dict_entries < 4096);
    size_t i = 1, ndict = 0, nplain = 0, total = 0;
    for (; i < n && pages[i].encoding == PQW_ENC_RLE_DICTIONARY; i++, ndict++)
        total += (size_t)pages[i].nvalues;
    for (; i < n && pages[i].encoding == PQW_ENC_PLAIN; i++, nplain++)
        total += (size_t)pages[i].nvalues;
    assert_int_equal(i, n);                             /* dictionary pages, then PLAIN */
    assert_true(ndict >= 1 && nplain >= 2);
    assert_int_equal(total, 20000);
    free(f);
    ingest_vector_free(&v);

    /* low cardinality: every data page stays dictionary-encoded */
    str_batch(&b, &v, 20000, 7, 3);
    path = tmp_path("lowcard.parquet");
    w = ingest_parquet_writer_open(path, &sch_str, &o, err, sizeof err);
    assert_non_null(w);
    assert_int_equal(ingest_parquet_writer_write(w, &b), 0);
    assert_int_equal(ingest_parquet_writer_close(w, NULL), 0);
    f = slurp(path, &len);
    n = walk_pages(f, len, pages, 4096);
    assert_int_equal(pages[0].type, 2);
    assert_int_equal(pages[0].nvalues, 7);
    for (i = 1; i < n; i++)
        assert_int_equal(pages[i].encoding, PQW_ENC_RLE_DICTIONARY);
    free(f);
    ingest_vector_free(&v);
}

static void test_tiny_file_has_the_digest_page_bytes(void **state)
{
    (void)state;
    static struct ingest_field fx[] = { { .name = (char *)"x", .type = INGEST_TYPE_INT32 } };
    static struct ingest_schema sx = { fx, 1 };
    int32_t vals[] = { 1, 2, 3 };
    struct ingest_vector v = { .field = &fx[0], .length = 3, .values = vals };
    struct ingest_batch b = { &sx, 3, &v };
    const char *path = tmp_path("tiny.parquet");
    char err[128];
    struct ingest_parquet_opts o = { .no_dictionary = 1 };
    struct ingest_parquet_writer *w = ingest_parquet_writer_open(path, &sx, &o, err, sizeof err);
    assert_non_null(w);
    assert_int_equal(ingest_parquet_writer_write(w, &b), 0);
    struct ingest_parquet_file_info info;
    assert_int_equal(ingest_parquet_writer_close(w, &info), 0);
    size_t len, tlen;
    uint8_t *f = slurp(path, &len);
    assert_memory_equal(f + len - 4, "PAR1", 4);
    assert_int_equal(info.file_size, len);
    assert_int_equal(info.num_rows, 3);
    assert_int_equal(info.ncolumns, 1);
    assert_int_equal(info.columns[0].min.i, 1);
    assert_int_equal(info.columns[0].max.i, 3);
    assert_string_equal(info.columns[0].path[0], "x");
    /* created_by parses as "<app> version <x.y.z> (build <b>)" */
    assert_non_null(memmem(f, len, "ingestd version ", 16));
    assert_non_null(memmem(f, len, " (build ", 8));
    ingest_parquet_file_info_free(&info);
    /* The digest's reference file, when ../shared is beside the source. */
    const char *src = getenv("INGESTD_SRC");
    char refpath[4096];
    struct stat st;
    snprintf(refpath, sizeof refpath, "%s/../shared/specs/vectors/tiny.parquet",
             src && *src ? src : ".");
    if (stat(refpath, &st) != 0) {
        free(f);
        skip();
    }
    uint8_t *ref = slurp(refpath, &tlen);
    assert_memory_equal(f, ref, 33);                    /* magic, page header, values */
    free(f);
    free(ref);
}

/* --- statistics ---------------------------------------------------------------------------------- */

static void test_stats_strings_compare_as_unsigned_bytes(void **state)
{
    (void)state;
    struct pq_stats s;
    pq_stats_init(&s, PQS_BYTES, 1, 64);
    const char data[] = "a" "\xc3\xa9" "z" "\x7f" "" "ab";
    uint32_t off[] = { 0, 1, 3, 4, 5, 5, 7 };
    pq_stats_bytes(&s, off, (const uint8_t *)data, NULL, 0, 6);
    assert_int_equal(s.bmin.len, 0);                    /* "" < everything */
    assert_int_equal(s.bmax.len, 2);
    assert_memory_equal(s.bmax.data, "\xc3\xa9", 2);    /* 0xc3 > 'z' unsigned */
    assert_true(s.min_exact && s.max_exact);

    /* long values: min is a prefix, max a prefix with its last byte bumped */
    char longv[200];
    memset(longv, 'a', 100);
    memcpy(longv + 100, "\xe2\x82\xac\xe2\x82\xac", 6);  /* euro signs */
    uint32_t off2[] = { 0, 106 };
    struct pq_stats t;
    pq_stats_init(&t, PQS_BYTES, 1, 101);
    pq_stats_bytes(&t, off2, (const uint8_t *)longv, NULL, 0, 1);
    assert_int_equal(t.bmin.len, 100);                  /* cut before the euro sign */
    assert_false(t.min_exact);
    assert_int_equal(t.bmax.len, 100);
    assert_int_equal(t.bmax.data[99], 'b');
    assert_false(t.max_exact);
    assert_true(pq_stats_has_minmax(&t));
    /* nothing to increment: min/max are dropped */
    struct pq_stats u;
    pq_stats_init(&u, PQS_BYTES, 1, 4);
    const char cjk[] = "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e";
    uint32_t off3[] = { 0, 9 };
    pq_stats_bytes(&u, off3, (const uint8_t *)cjk, NULL, 0, 1);
    assert_false(pq_stats_has_minmax(&u));
    pq_stats_free(&s);
    pq_stats_free(&t);
    pq_stats_free(&u);
}

static void test_stats_floats_skip_nan_and_sign_zeros(void **state)
{
    (void)state;
    struct pq_stats s;
    pq_stats_init(&s, PQS_FLOAT, 0, 0);
    double v[] = { NAN, 1.0, -2.0, NAN, INFINITY };
    pq_stats_f64(&s, v, 5);
    assert_int_equal(s.nan_count, 2);
    assert_true(s.dmin == -2.0 && s.dmax == INFINITY);

    struct pq_stats z;
    pq_stats_init(&z, PQS_FLOAT, 0, 0);
    float zs[] = { 0.0f, 0.0f };
    pq_stats_f32(&z, zs, 2);
    uint8_t mn[16], mx[16];
    const uint8_t *pmin, *pmax;
    size_t lmin, lmax;
    pq_stats_plain(&z, PQW_FLOAT, 0, mn, mx, &pmin, &lmin, &pmax, &lmax);
    float fmin, fmax;
    memcpy(&fmin, pmin, 4);
    memcpy(&fmax, pmax, 4);
    assert_true(fmin == 0 && signbit(fmin));            /* min zero is -0.0 */
    assert_true(fmax == 0 && !signbit(fmax));           /* max zero is +0.0 */

    struct pq_stats n;
    pq_stats_init(&n, PQS_FLOAT, 0, 0);
    double nans[] = { NAN, NAN };
    pq_stats_f64(&n, nans, 2);
    assert_false(pq_stats_has_minmax(&n));
    assert_int_equal(n.nan_count, 2);
}

static void test_stats_decimals_and_ints_are_signed(void **state)
{
    (void)state;
    struct pq_stats s;
    pq_stats_init(&s, PQS_DEC, 0, 0);
    /* 16-byte big-endian: -1, 5, -10^20 */
    uint8_t v[3][16];
    memset(v, 0, sizeof v);
    memset(v[0], 0xff, 16);
    v[1][15] = 5;
    __int128 big = -(__int128)100000000000000000LL * 1000;
    for (int k = 0; k < 16; k++)
        v[2][15 - k] = (uint8_t)((unsigned __int128)big >> (8 * k));
    pq_stats_dec_be(&s, &v[0][0], 16, 3);
    assert_true(s.qmin == big && s.qmax == 5);
    uint8_t mn[16], mx[16];
    const uint8_t *pmin, *pmax;
    size_t lmin, lmax;
    pq_stats_plain(&s, PQW_FLBA, 16, mn, mx, &pmin, &lmin, &pmax, &lmax);
    assert_memory_equal(pmin, v[2], 16);
    assert_memory_equal(pmax, v[1], 16);

    struct pq_stats i;
    pq_stats_init(&i, PQS_INT, 0, 0);
    int64_t iv[] = { 5, INT64_MIN, -1, INT64_MAX };
    pq_stats_i64(&i, iv, 4);
    assert_true(i.imin == INT64_MIN && i.imax == INT64_MAX);

    /* end to end: negative decimals through the writer's info */
    static struct ingest_field fd[] = {
        { .name = (char *)"d9", .type = INGEST_TYPE_DECIMAL, .precision = 9, .scale = 2, .nullable = 1 },
        { .name = (char *)"d38", .type = INGEST_TYPE_DECIMAL, .precision = 38, .scale = 0 },
    };
    static struct ingest_schema sd = { fd, 2 };
    int64_t d9[] = { -12345, 0, 99, 0 };
    uint8_t valid = 0x7;        /* row 3 null */
    uint8_t d38[4][16];
    memset(d38, 0, sizeof d38);
    memset(d38[0], 0xff, 16);                 /* -1 */
    d38[1][0] = 7;                            /* 7 */
    memset(d38[2], 0xff, 16);
    d38[2][0] = 0xf0;                         /* -16 */
    struct ingest_vector cols[2] = {
        { .field = &fd[0], .length = 4, .null_count = 1, .validity = &valid, .values = d9 },
        { .field = &fd[1], .length = 4, .values = d38 },
    };
    struct ingest_batch b = { &sd, 4, cols };
    char err[128];
    struct ingest_parquet_writer *w = ingest_parquet_writer_open(tmp_path("dec.parquet"), &sd,
                                                                 NULL, err, sizeof err);
    assert_non_null(w);
    assert_int_equal(ingest_parquet_writer_write(w, &b), 0);
    struct ingest_parquet_file_info info;
    assert_int_equal(ingest_parquet_writer_close(w, &info), 0);
    assert_int_equal(info.columns[0].min.i, -12345);
    assert_int_equal(info.columns[0].max.i, 99);
    assert_int_equal(info.columns[0].null_count, 1);
    assert_int_equal((int8_t)info.columns[1].min.dec[0], -16);
    assert_int_equal(info.columns[1].min.dec[15], 0xff);
    assert_int_equal(info.columns[1].max.dec[0], 7);
    ingest_parquet_file_info_free(&info);
}

/* --- levels ----------------------------------------------------------------------------------------- */

static void expect_levels(const struct pq_levels *lv, const uint8_t *rep, const uint8_t *def,
                          size_t n)
{
    assert_int_equal(lv->n, n);
    for (size_t i = 0; i < n; i++)
        if (lv->rep[i] != rep[i] || lv->def[i] != def[i])
            fail_msg("entry %zu: (%d,%d), want (%d,%d)", i, lv->rep[i], lv->def[i], rep[i],
                     def[i]);
}

static void test_levels_of_checkpoint_map_match_digest(void **state)
{
    (void)state;
    /* add (struct, optional) -> partitionValues (map, optional) -> key / value.
     * rows: add null; pv null; {}; {"date":"2024-01-01"}; {"a":"x","b":null} */
    uint8_t add_valid = 0x1e, pv_valid = 0x1c, val_valid = 0x3;   /* bits per row/entry */
    uint32_t pv_off[] = { 0, 0, 0, 0, 1, 3 };
    uint32_t k_off[] = { 0, 4, 5, 6 }, v_off[] = { 0, 10, 11, 11 };
    struct ingest_vector kv[2] = {
        { .length = 3, .offsets = k_off, .data = (uint8_t *)"dateab" },
        { .length = 3, .validity = &val_valid, .offsets = v_off, .data = (uint8_t *)"2024-01-01x" },
    };
    struct ingest_vector pv = { .length = 5, .validity = &pv_valid, .offsets = pv_off,
                                .children = kv, .nchildren = 2 };
    struct ingest_vector add = { .length = 5, .validity = &add_valid, .children = &pv,
                                 .nchildren = 1 };
    struct pq_step key[] = {
        { PQ_STEP_STRUCT, 0, 1, 0 }, { PQ_STEP_MAP, 0, 1, 1 }, { PQ_STEP_LEAF, 0, 0, 0 },
    };
    struct pq_step val[] = {
        { PQ_STEP_STRUCT, 0, 1, 0 }, { PQ_STEP_MAP, 1, 1, 1 }, { PQ_STEP_LEAF, 0, 1, 0 },
    };
    struct pq_levels lv = { 0 };
    assert_int_equal(pq_shred(key, 3, &add, 0, 5, &lv), 0);
    static const uint8_t krep[] = { 0, 0, 0, 0, 0, 1 }, kdef[] = { 0, 1, 2, 3, 3, 3 };
    expect_levels(&lv, krep, kdef, 6);
    assert_int_equal(lv.nv, 3);
    assert_int_equal(lv.vidx[2], 2);
    assert_int_equal(pq_shred(val, 3, &add, 0, 5, &lv), 0);
    static const uint8_t vrep[] = { 0, 0, 0, 0, 0, 1 }, vdef[] = { 0, 1, 2, 4, 4, 3 };
    expect_levels(&lv, vrep, vdef, 6);
    assert_int_equal(lv.nv, 2);

    /* a slice in the middle: rows 3..4 only */
    assert_int_equal(pq_shred(val, 3, &add, 3, 2, &lv), 0);
    expect_levels(&lv, vrep + 3, vdef + 3, 3);
    pq_levels_free(&lv);
}

static void test_levels_of_nested_lists_with_nulls_and_empties(void **state)
{
    (void)state;
    /* metaData (struct, opt) -> partitionColumns (list, opt) -> element (opt):
     * no metaData; null; []; ["date"]; [null] */
    uint8_t md_valid = 0x1e, pc_valid = 0x1c, el_valid = 0x1;
    uint32_t pc_off[] = { 0, 0, 0, 0, 1, 2 }, el_off[] = { 0, 4, 4 };
    struct ingest_vector el = { .length = 2, .validity = &el_valid, .offsets = el_off,
                                .data = (uint8_t *)"date" };
    struct ingest_vector pc = { .length = 5, .validity = &pc_valid, .offsets = pc_off,
                                .children = &el, .nchildren = 1 };
    struct ingest_vector md = { .length = 5, .validity = &md_valid, .children = &pc,
                                .nchildren = 1 };
    struct pq_step steps[] = {
        { PQ_STEP_STRUCT, 0, 1, 0 }, { PQ_STEP_LIST, 0, 1, 1 }, { PQ_STEP_LEAF, 0, 1, 0 },
    };
    struct pq_levels lv = { 0 };
    assert_int_equal(pq_shred(steps, 3, &md, 0, 5, &lv), 0);
    static const uint8_t rep[] = { 0, 0, 0, 0, 0 }, def[] = { 0, 1, 2, 4, 3 };
    expect_levels(&lv, rep, def, 5);

    /* list<list<int>> (all optional): [[1,2],[3]], [[],null], [] ; max_rep 2 */
    int32_t ints[] = { 1, 2, 3 };
    uint32_t in_off[] = { 0, 2, 3, 3, 3 }, out_off[] = { 0, 2, 4, 4 };
    uint8_t in_valid = 0x7;     /* inner list 3 is null */
    struct ingest_vector leaf = { .length = 3, .values = ints };
    struct ingest_vector inner = { .length = 4, .validity = &in_valid, .offsets = in_off,
                                   .children = &leaf, .nchildren = 1 };
    struct ingest_vector outer = { .length = 3, .offsets = out_off, .children = &inner,
                                   .nchildren = 1 };
    struct pq_step s2[] = {
        { PQ_STEP_LIST, 0, 1, 1 }, { PQ_STEP_LIST, 0, 1, 2 }, { PQ_STEP_LEAF, 0, 1, 0 },
    };
    assert_int_equal(pq_shred(s2, 3, &outer, 0, 3, &lv), 0);
    static const uint8_t rep2[] = { 0, 2, 1, 0, 1, 0 }, def2[] = { 5, 5, 5, 3, 2, 1 };
    expect_levels(&lv, rep2, def2, 6);
    assert_int_equal(lv.nv, 3);
    pq_levels_free(&lv);
}

/* --- files: edge cases and limits --------------------------------------------------------------- */

static void test_zero_row_file_is_valid(void **state)
{
    (void)state;
    const char *path = tmp_path("zero.parquet");
    char err[128];
    struct ingest_parquet_writer *w = ingest_parquet_writer_open(path, &sch_str, NULL, err,
                                                                 sizeof err);
    assert_non_null(w);
    struct ingest_parquet_file_info info;
    assert_int_equal(ingest_parquet_writer_close(w, &info), 0);
    size_t len;
    uint8_t *f = slurp(path, &len);
    assert_memory_equal(f, "PAR1", 4);
    assert_memory_equal(f + len - 4, "PAR1", 4);
    uint32_t flen;
    memcpy(&flen, f + len - 8, 4);
    assert_int_equal(flen + 12, len);                   /* no pages at all */
    assert_int_equal(info.num_rows, 0);
    assert_int_equal(info.num_row_groups, 0);
    assert_false(info.columns[0].has_min_max);
    ingest_parquet_file_info_free(&info);
    free(f);
}

static void test_writer_holds_about_one_row_group(void **state)
{
    (void)state;
    static struct ingest_field f2[] = {
        { .name = (char *)"id", .type = INGEST_TYPE_INT64 },
        { .name = (char *)"s", .type = INGEST_TYPE_STRING, .nullable = 1 },
    };
    static struct ingest_schema s2 = { f2, 2 };
    enum { N = 10000 };
    int64_t *ids = malloc(N * sizeof *ids);
    uint32_t *off = malloc((N + 1) * sizeof *off);
    uint8_t *data = malloc(N * 24);
    uint8_t *valid = malloc(N / 8 + 1);
    memset(valid, 0xef, N / 8 + 1);
    struct ingest_vector cols[2] = {
        { .field = &f2[0], .length = N, .values = ids },
        { .field = &f2[1], .length = N, .validity = valid, .offsets = off, .data = data },
    };
    struct ingest_batch b = { &s2, N, cols };
    const char *path = tmp_path("memory.parquet");
    char err[128];
    struct ingest_parquet_opts o = { .codec = INGEST_PARQUET_ZSTD, .row_group_bytes = 512 << 10,
                                     .page_bytes = 64 << 10 };
    struct ingest_parquet_writer *w = ingest_parquet_writer_open(path, &s2, &o, err, sizeof err);
    assert_non_null(w);
    size_t peak_early = 0, peak = 0;
    for (int round = 0; round < 200; round++) {     /* 2M rows, ~40 MB of input */
        size_t at = 0;
        for (size_t i = 0; i < N; i++) {
            ids[i] = (int64_t)(round * N + i) * 7919;
            off[i] = (uint32_t)at;
            at += (size_t)sprintf((char *)data + at, "user-%zu", (round * N + i) % 100003);
        }
        off[N] = (uint32_t)at;
        assert_int_equal(ingest_parquet_writer_write(w, &b), 0);
        size_t m = ingest_parquet_writer_buffered_bytes(w);
        if (round < 20 && m > peak_early)
            peak_early = m;
        if (m > peak)
            peak = m;
    }
    struct ingest_parquet_file_info info;
    assert_int_equal(ingest_parquet_writer_close(w, &info), 0);
    assert_true(info.num_row_groups >= 20);
    assert_int_equal(info.num_rows, 200 * N);
    assert_int_equal(info.columns[1].null_count, 200 * (N / 8 + (N % 8 > 4)));
    /* about one row group: bounded, and not growing with the file */
    if (peak > 4 * (size_t)(512 << 10))
        fail_msg("writer held %zu bytes for 512 KiB row groups", peak);
    assert_true(peak <= peak_early * 2);
    ingest_parquet_file_info_free(&info);
    free(ids);
    free(off);
    free(data);
    free(valid);
}

static void test_open_rejects_bad_input_and_cleans_up(void **state)
{
    (void)state;
    char err[128];
    struct ingest_parquet_opts bad = { .codec = 2 };
    const char *path = tmp_path("bad.parquet");
    assert_null(ingest_parquet_writer_open(path, &sch_str, &bad, err, sizeof err));
    assert_non_null(strstr(err, "codec"));
    assert_int_equal(access(path, F_OK), -1);

    static struct ingest_field empty[] = { { .name = (char *)"st", .type = INGEST_TYPE_STRUCT } };
    static struct ingest_schema se = { empty, 1 };
    assert_null(ingest_parquet_writer_open(path, &se, NULL, err, sizeof err));
    assert_non_null(strstr(err, "st"));
    assert_int_equal(access(path, F_OK), -1);

    /* never overwrites */
    int fd = open(path, O_CREAT | O_WRONLY, 0644);
    assert_true(write(fd, "keep", 4) == 4);
    close(fd);
    assert_null(ingest_parquet_writer_open(path, &sch_str, NULL, err, sizeof err));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 4);

    /* abort removes the partial file */
    path = tmp_path("aborted.parquet");
    struct ingest_parquet_writer *w = ingest_parquet_writer_open(path, &sch_str, NULL, err,
                                                                 sizeof err);
    assert_non_null(w);
    ingest_parquet_writer_abort(w);
    assert_int_equal(access(path, F_OK), -1);
}

static void test_write_error_is_reported_and_sticky(void **state)
{
    (void)state;
    int fd = open("/dev/full", O_WRONLY);
    if (fd < 0)
        skip();
    char err[128];
    assert_null(ingest_parquet_writer_open_fd(fd, &sch_str, NULL, err, sizeof err));
    assert_non_null(strstr(err, "space"));
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thrift_varint_and_zigzag_edges),
        cmocka_unit_test(test_thrift_page_header_matches_digest),
        cmocka_unit_test(test_thrift_long_field_delta_bool_and_list),
        cmocka_unit_test(test_thrift_schema_elements_match_digest),
        cmocka_unit_test(test_rle_known_bytes),
        cmocka_unit_test(test_rle_roundtrips_random_runs_at_every_width),
        cmocka_unit_test(test_dict_separates_signed_zeros_and_maps_repeats),
        cmocka_unit_test(test_dictionary_falls_back_to_plain_when_full),
        cmocka_unit_test(test_tiny_file_has_the_digest_page_bytes),
        cmocka_unit_test(test_stats_strings_compare_as_unsigned_bytes),
        cmocka_unit_test(test_stats_floats_skip_nan_and_sign_zeros),
        cmocka_unit_test(test_stats_decimals_and_ints_are_signed),
        cmocka_unit_test(test_levels_of_checkpoint_map_match_digest),
        cmocka_unit_test(test_levels_of_nested_lists_with_nulls_and_empties),
        cmocka_unit_test(test_zero_row_file_is_valid),
        cmocka_unit_test(test_writer_holds_about_one_row_group),
        cmocka_unit_test(test_open_rejects_bad_input_and_cleans_up),
        cmocka_unit_test(test_write_error_is_reported_and_sticky),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
