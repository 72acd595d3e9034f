/*
 * test_decode_json.c - the NDJSON decoder (decode.h): every column type
 * and each form it accepts or refuses (with the exact reason text), bad
 * records (malformed lines with their offsets, invalid UTF-8, not-null
 * violations, max_line), rescued data, duplicate and unknown keys,
 * rollback of a bad line in the middle of a row, BOM/CRLF/blank lines,
 * take() between feeds, and the decoder's constructor checks.
 *
 * Every input is fed from a heap copy of exactly its length, so ASan and
 * valgrind catch a read past the end of the caller's buffer (the string
 * scanner reads ahead sixteen bytes at a time).
 *
 * Doubles are compared bit for bit with strtod.  A randomized test
 * generates 10,000 lines (valid, invalid values, corrupted lines, escapes,
 * duplicates, case variants) and requires the decoder's batches to equal,
 * value for value, what a slow reference decoder written here builds from
 * json.h's DOM with independent conversions (timegm for dates, strtod,
 * digit strings for decimals).  Finally a decoded batch of every type goes
 * through the Parquet writer and reader unchanged, proving the vectors
 * are well formed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "canonical.h"
#include "ingestd/buf.h"
#include "ingestd/decode.h"
#include "ingestd/error.h"
#include "ingestd/json.h"
#include "ingestd/parquet.h"
#include "ingestd/parquet_reader.h"
#include "scratch.h"
#include "vecbuild.h"
#include "../../daemon/decode_int.h"

/* --- fixture ----------------------------------------------------------------------- */

/* Every type, plus the rescued-data column (used when rescue is on). */
static struct ingest_field all_fields[] = {
    F("id", INGEST_TYPE_INT64, 0),
    F("l", INGEST_TYPE_INT64, 1),
    F("i", INGEST_TYPE_INT32, 1),
    F("sh", INGEST_TYPE_INT16, 1),
    F("by", INGEST_TYPE_INT8, 1),
    F("d", INGEST_TYPE_DOUBLE, 1),
    F("f", INGEST_TYPE_FLOAT, 1),
    FD("dec", 12, 2, 1),
    FD("big", 38, 4, 1),
    F("b", INGEST_TYPE_BOOLEAN, 1),
    F("s", INGEST_TYPE_STRING, 1),
    F("bin", INGEST_TYPE_BINARY, 1),
    F("dt", INGEST_TYPE_DATE, 1),
    F("ts", INGEST_TYPE_TIMESTAMP, 1),
    F("_rescued", INGEST_TYPE_STRING, 1),
};
enum { C_ID, C_L, C_I, C_SH, C_BY, C_D, C_F, C_DEC, C_BIG, C_B, C_S, C_BIN, C_DT, C_TS, C_RESC };
#define NALL (sizeof all_fields / sizeof all_fields[0])

struct bad_rec {
    uint64_t line;
    char reason[256];
    char raw[512];
    size_t len;
};

static struct bad_rec bads[64];
static size_t nbad;

static void on_bad(void *ud, uint64_t line, const char *reason, const char *raw, size_t len)
{
    (void)ud;
    if (nbad < sizeof bads / sizeof bads[0]) {
        struct bad_rec *b = &bads[nbad];
        b->line = line;
        snprintf(b->reason, sizeof b->reason, "%s", reason);
        b->len = len;
        memcpy(b->raw, raw, len < sizeof b->raw ? len : sizeof b->raw);
    }
    nbad++;
}

struct fx {
    struct ingest_schema schema;
    struct ingest_decode_opts opts;
    struct ingest_decoder *d;
    struct ingest_batch b;
};

static struct fx g;

/* A fixture over the fields f with the default options: no rescue, epoch in seconds. */
static void fx_init(struct fx *x, struct ingest_field *f, size_t n)
{
    memset(x, 0, sizeof *x);
    x->schema.fields = f;
    x->schema.nfields = n;
    x->opts.schema = &x->schema;
    x->opts.rescued_col = -1;
    x->opts.epoch_unit = INGEST_EPOCH_S;
}

static void fx_start(struct fx *x)
{
    char err[256];
    ingest_batch_free(&x->b);
    ingest_decoder_free(x->d);
    x->d = ingest_decoder_new(&x->opts, err, sizeof err);
    if (!x->d)
        fail_msg("ingest_decoder_new: %s", err);
    nbad = 0;
}

/* Feeds a heap copy of exactly len bytes. */
static int fx_feed_n(struct fx *x, const char *text, size_t len, uint64_t first_line)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    int rc = ingest_decoder_feed(x->d, copy, len, first_line, on_bad, NULL);
    free(copy);
    return rc;
}

static void fx_take(struct fx *x)
{
    ingest_batch_free(&x->b);
    assert_int_equal(ingest_decoder_take(x->d, &x->b), 0);
    assert_ptr_equal(x->b.schema, &x->schema);
}

/* A fresh decoder, the whole text fed from line 1, the batch taken. */
static void fx_run(struct fx *x, const char *text)
{
    fx_start(x);
    assert_int_equal(fx_feed_n(x, text, strlen(text), 1), 0);
    fx_take(x);
}

static void fx_done(struct fx *x)
{
    ingest_batch_free(&x->b);
    ingest_decoder_free(x->d);
    x->d = NULL;
}

static int setup_all(void **state)
{
    (void)state;
    fx_init(&g, all_fields, NALL);
    return 0;
}

static int teardown_all(void **state)
{
    (void)state;
    fx_done(&g);
    return 0;
}

/* Each test starts from the default options, whatever the last one did. */
static int reset(void **state)
{
    fx_done(&g);
    return setup_all(state);
}

/* --- value access ------------------------------------------------------------------ */

static const struct ingest_vector *col(size_t c)
{
    assert_true(c < g.b.schema->nfields);
    return &g.b.columns[c];
}

static int is_null(size_t c, size_t row)
{
    assert_true(row < g.b.nrows);
    return !ingest_vector_valid(col(c), row);
}

static int64_t ival(size_t c, size_t row)
{
    const struct ingest_vector *v = col(c);
    assert_false(is_null(c, row));
    switch (v->field->type) {
    case INGEST_TYPE_BOOLEAN: return ((const uint8_t *)v->values)[row];
    case INGEST_TYPE_INT8: return ((const int8_t *)v->values)[row];
    case INGEST_TYPE_INT16: return ((const int16_t *)v->values)[row];
    case INGEST_TYPE_INT32: case INGEST_TYPE_DATE: return ((const int32_t *)v->values)[row];
    default: return ((const int64_t *)v->values)[row];
    }
}

static __int128 dec128(size_t c, size_t row)
{
    const struct ingest_vector *v = col(c);
    assert_false(is_null(c, row));
    if (v->field->precision <= 18)
        return ((const int64_t *)v->values)[row];
    const uint8_t *le = (const uint8_t *)v->values + row * 16;
    unsigned __int128 u = 0;
    for (int k = 15; k >= 0; k--)
        u = u << 8 | le[k];
    return (__int128)u;
}

static uint64_t dbits(size_t c, size_t row)
{
    uint64_t bits;
    assert_false(is_null(c, row));
    memcpy(&bits, (const double *)col(c)->values + row, 8);
    return bits;
}

static uint32_t fbits(size_t c, size_t row)
{
    uint32_t bits;
    assert_false(is_null(c, row));
    memcpy(&bits, (const float *)col(c)->values + row, 4);
    return bits;
}

/* The string/binary value as a NUL-terminated copy in a static buffer. */
static const char *sval(size_t c, size_t row, size_t *len)
{
    static char buf[4096];
    const struct ingest_vector *v = col(c);
    assert_false(is_null(c, row));
    size_t n = v->offsets[row + 1] - v->offsets[row];
    assert_true(n < sizeof buf);
    memcpy(buf, v->data + v->offsets[row], n);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* The batch's rows in canonical JSON (canonical.h), one per line. */
static char *canon(const struct ingest_batch *b)
{
    struct ingest_buf o = INGEST_BUF_INIT;
    int first = 1;
    canon_rows(&o, b, &first);
    ingest_buf_putc(&o, '\0');
    char *s = ingest_buf_steal(&o);
    memmove(s, s + (s[0] == '\n'), strlen(s) + 1);
    return s;
}

static void assert_canon(const struct ingest_batch *b, const char *want)
{
    char *got = canon(b);
    if (strcmp(got, want) != 0)
        fail_msg("batch:\n got  %s\n want %s", got, want);
    free(got);
}

/* Decodes {"id":1,MEMBERS} alone in the all-types schema; 1 if it made a
 * row, 0 if it was a bad record (its reason in bads[0]). */
static int one(const char *members)
{
    char line[8192];
    snprintf(line, sizeof line, "{\"id\":1%s%s}", *members ? "," : "", members);
    fx_run(&g, line);
    assert_int_equal(g.b.nrows + nbad, 1);
    return g.b.nrows == 1;
}

#define expect_reason(members, want)                                                     \
    do {                                                                                 \
        if (one(members))                                                                \
            fail_msg("%s: decoded, want bad record \"%s\"", (members), (want));          \
        if (strcmp(bads[0].reason, (want)) != 0)                                         \
            fail_msg("%s:\n reason %s\n want   %s", (members), bads[0].reason, (want));  \
    } while (0)

/* --- integers ---------------------------------------------------------------------- */

static void test_integers_take_literals_over_their_whole_range(void **state)
{
    (void)state;
    assert_true(one("\"l\":9223372036854775807,\"i\":2147483647,\"sh\":32767,\"by\":127"));
    assert_true(ival(C_L, 0) == INT64_MAX);
    assert_int_equal(ival(C_I, 0), INT32_MAX);
    assert_int_equal(ival(C_SH, 0), INT16_MAX);
    assert_int_equal(ival(C_BY, 0), INT8_MAX);
    assert_true(one("\"l\":-9223372036854775808,\"i\":-2147483648,\"sh\":-32768,\"by\":-128"));
    assert_true(ival(C_L, 0) == INT64_MIN);
    assert_int_equal(ival(C_I, 0), INT32_MIN);
    assert_int_equal(ival(C_SH, 0), INT16_MIN);
    assert_int_equal(ival(C_BY, 0), INT8_MIN);
    assert_true(one("\"l\":0,\"i\":-0,\"sh\":7,\"by\":-1"));
    assert_int_equal(ival(C_L, 0), 0);
    assert_int_equal(ival(C_I, 0), 0);
    assert_int_equal(ival(C_SH, 0), 7);
    assert_int_equal(ival(C_BY, 0), -1);
}

static void test_integers_refuse_other_forms_and_overflow(void **state)
{
    (void)state;
    expect_reason("\"l\":1.0", "column l: not an integer");
    expect_reason("\"l\":1e3", "column l: not an integer");
    expect_reason("\"l\":\"5\"", "column l: not an integer");
    expect_reason("\"l\":true", "column l: not an integer");
    expect_reason("\"l\":[1]", "column l: not an integer");
    expect_reason("\"l\":9223372036854775808", "column l: out of range for long");
    expect_reason("\"l\":-9223372036854775809", "column l: out of range for long");
    expect_reason("\"l\":123456789012345678901234", "column l: out of range for long");
    expect_reason("\"i\":2147483648", "column i: out of range for int");
    expect_reason("\"sh\":-32769", "column sh: out of range for short");
    expect_reason("\"by\":128", "column by: out of range for byte");
    expect_reason("\"id\":2,\"l\":01", "offset 20: expected ',' or '}'");
}

/* --- doubles and floats ------------------------------------------------------------ */

static uint64_t strtod_bits(const char *lit)
{
    double x = strtod(lit, NULL);
    uint64_t bits;
    memcpy(&bits, &x, 8);
    return bits;
}

static void expect_double(const char *lit)
{
    char m[512];
    snprintf(m, sizeof m, "\"d\":%s", lit);
    if (!one(m))
        fail_msg("%s: %s", lit, bads[0].reason);
    if (dbits(C_D, 0) != strtod_bits(lit))
        fail_msg("%s: bits %016" PRIx64 ", strtod %016" PRIx64, lit, dbits(C_D, 0),
                 strtod_bits(lit));
}

static void test_doubles_equal_strtod_bit_for_bit(void **state)
{
    (void)state;
    static const char *const lits[] = {
        "0.1", "0.2", "0.3", "1e23", "9007199254740993", "9007199254740992",
        "2.2250738585072011e-308", "2.2250738585072014e-308", "4.9e-324", "5e-324",
        "2e-324", "1.7976931348623157e308", "0", "-0", "-0.0", "0e999999999", "1e-400",
        "123456789012345678901234567890", "0.000000000000000000000000000001",
        "3.14159265358979323846264338327950288", "1.5", "-2.5e-3", "1E22", "1e-22",
        "9007199254740991e22", "9007199254740993e-22", "123.456", "8.98846567431158e307",
        "1.00000000000000011102230246251565404236316680908203125",
        "1.00000000000000011102230246251565404236316680908203124",
        "1.00000000000000011102230246251565404236316680908203126",
        "7.2057594037927933e16", "1e+2", "1E-2", "0.0000001",
    };
    for (size_t i = 0; i < sizeof lits / sizeof lits[0]; i++)
        expect_double(lits[i]);
    assert_true(signbit(strtod("-0", NULL)));
    /* Random literals: the shortest round trip of random bits, and random
     * digit strings of every length and exponent. */
    uint64_t seed = 12345;
    for (int i = 0; i < 3000; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        char lit[64];
        if (i % 2) {
            uint64_t bits = seed;
            double x;
            memcpy(&x, &bits, 8);
            if (!isfinite(x))
                continue;
            snprintf(lit, sizeof lit, "%.*g", (int)(seed >> 60) + 2, x);
        } else {
            int nd = 1 + (int)(seed >> 59) % 20, e = (int)((seed >> 40) % 60) - 30;
            uint64_t digits = seed >> 3;
            int n = snprintf(lit, sizeof lit, "%s%" PRIu64, (seed & 1) ? "-" : "",
                             digits % (nd >= 19 ? UINT64_MAX : 1 + (uint64_t)pow(10, nd)));
            if (e)
                snprintf(lit + n, sizeof lit - (size_t)n, "e%d", e);
        }
        expect_double(lit);
    }
}

static void test_floats_round_from_the_double(void **state)
{
    (void)state;
    assert_true(one("\"f\":0.1"));
    assert_int_equal(fbits(C_F, 0), 0x3dcccccd);
    assert_true(one("\"f\":3.4028234663852886e38"));
    float max = 3.4028234663852886e38f;
    uint32_t mb;
    memcpy(&mb, &max, 4);
    assert_int_equal(fbits(C_F, 0), mb);
    expect_reason("\"f\":1e39", "column f: out of range for float");
}

static void test_numbers_refuse_quotes_overflow_and_nan(void **state)
{
    (void)state;
    expect_reason("\"d\":\"1.5\"", "column d: not a number");
    expect_reason("\"d\":true", "column d: not a number");
    expect_reason("\"d\":1e400", "column d: out of range for double");
    expect_reason("\"d\":-1e400", "column d: out of range for double");
    expect_reason("\"d\":NaN", "offset 12: expected a value");
    expect_reason("\"d\":Infinity", "offset 12: expected a value");
    expect_reason("\"d\":.5", "offset 12: expected a value");
    expect_reason("\"d\":1.", "offset 14: expected a digit after '.'");
    expect_reason("\"d\":1e", "offset 14: expected a digit in the exponent");
    expect_reason("\"d\":-", "offset 13: expected a digit");
    expect_reason("\"d\":+1", "offset 12: expected a value");
}

/* --- decimals ---------------------------------------------------------------------- */

static void test_decimals_take_numbers_and_plain_strings(void **state)
{
    (void)state;
    assert_true(one("\"dec\":12.5,\"big\":\"-3\""));
    assert_true(dec128(C_DEC, 0) == 1250);
    assert_true(dec128(C_BIG, 0) == -30000);
    assert_true(one("\"dec\":\"12.50\",\"big\":1e2"));
    assert_true(dec128(C_DEC, 0) == 1250);
    assert_true(dec128(C_BIG, 0) == 1000000);
    assert_true(one("\"dec\":1.25e1,\"big\":-0.0001"));
    assert_true(dec128(C_DEC, 0) == 1250);
    assert_true(dec128(C_BIG, 0) == -1);
    assert_true(one("\"dec\":-0,\"big\":\"007.5\""));
    assert_true(dec128(C_DEC, 0) == 0);
    assert_true(dec128(C_BIG, 0) == 75000);
}

static void test_decimals_at_their_limits(void **state)
{
    (void)state;
    /* p <= 18: decimal(12,2) holds 10 integer digits. */
    assert_true(one("\"dec\":9999999999.99"));
    assert_true(dec128(C_DEC, 0) == 999999999999LL);
    assert_true(one("\"dec\":-9999999999.99"));
    assert_true(dec128(C_DEC, 0) == -999999999999LL);
    expect_reason("\"dec\":10000000000",
                  "column dec: more than 10 integer digits for decimal(12,2)");
    expect_reason("\"dec\":1.234", "column dec: more than 2 fraction digits for decimal(12,2)");
    expect_reason("\"dec\":1.230", "column dec: more than 2 fraction digits for decimal(12,2)");
    expect_reason("\"dec\":12345e-3", "column dec: more than 2 fraction digits for decimal(12,2)");
    expect_reason("\"dec\":1e10", "column dec: more than 10 integer digits for decimal(12,2)");
    /* p > 18: decimal(38,4) holds 34 integer digits, 16 bytes little-endian. */
    assert_true(one("\"big\":9999999999999999999999999999999999.9999"));
    __int128 max38 = 0;
    for (int k = 0; k < 38; k++)
        max38 = max38 * 10 + 9;
    assert_true(dec128(C_BIG, 0) == max38);
    assert_true(one("\"big\":\"-9999999999999999999999999999999999.9999\""));
    assert_true(dec128(C_BIG, 0) == -max38);
    const uint8_t *le = (const uint8_t *)col(C_BIG)->values;
    assert_int_equal(le[15], 0xb4);             /* -(10^38 - 1): top byte of two's complement */
    assert_int_equal(le[0], 0x01);
    expect_reason("\"big\":99999999999999999999999999999999999",
                  "column big: more than 34 integer digits for decimal(38,4)");
    expect_reason("\"big\":1e34", "column big: more than 34 integer digits for decimal(38,4)");
    expect_reason("\"big\":1e999999999999",
                  "column big: more than 34 integer digits for decimal(38,4)");
    expect_reason("\"big\":0.00001", "column big: more than 4 fraction digits for decimal(38,4)");
    assert_true(one("\"big\":0e99999"));
    assert_true(dec128(C_BIG, 0) == 0);
}

/* 18 digits are the most an int64 holds; 19 take the 16-byte form. */
static void test_decimals_on_both_sides_of_the_int64_form(void **state)
{
    (void)state;
    static struct ingest_field f[] = { FD("p18", 18, 0, 1), FD("p19", 19, 0, 1),
                                       FD("s18", 18, 18, 1) };
    struct fx x;
    fx_init(&x, f, 3);
    fx_run(
        &x,
        "{\"p18\":999999999999999999,\"p19\":9999999999999999999,\"s18\":0.999999999999999999}\n"
        "{\"p18\":-999999999999999999,\"p19\":-9999999999999999999,\"s18\":-0.000000000000000001}\n"
        "{\"p18\":1000000000000000000}\n{\"p19\":10000000000000000000}\n{\"s18\":1}\n");
    assert_int_equal(x.b.nrows, 2);
    assert_int_equal(nbad, 3);
    assert_string_equal(bads[0].reason,
                        "column p18: more than 18 integer digits for decimal(18,0)");
    assert_string_equal(bads[1].reason,
                        "column p19: more than 19 integer digits for decimal(19,0)");
    assert_string_equal(bads[2].reason,
                        "column s18: more than 0 integer digits for decimal(18,18)");
    assert_canon(&x.b, "[{\"dec\":\"999999999999999999\"},{\"dec\":\"9999999999999999999\"},"
                       "{\"dec\":\"0.999999999999999999\"}],\n"
                       "[{\"dec\":\"-999999999999999999\"},{\"dec\":\"-9999999999999999999\"},"
                       "{\"dec\":\"-0.000000000000000001\"}]");
    const uint8_t *le = (const uint8_t *)x.b.columns[1].values + 16;
    static const uint8_t want[16] = { 0x01, 0x00, 0x18, 0x76, 0xfb, 0xdc, 0x38, 0x75, 0xff, 0xff,
                                      0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    assert_memory_equal(le, want, 16);          /* -(10^19 - 1), little-endian */
    fx_done(&x);
}

static void test_decimals_refuse_other_strings(void **state)
{
    (void)state;
    expect_reason("\"dec\":\"1e2\"", "column dec: not a decimal");
    expect_reason("\"dec\":\"12.\"", "column dec: not a decimal");
    expect_reason("\"dec\":\".5\"", "column dec: not a decimal");
    expect_reason("\"dec\":\" 1\"", "column dec: not a decimal");
    expect_reason("\"dec\":\"+1\"", "column dec: not a decimal");
    expect_reason("\"dec\":\"\"", "column dec: not a decimal");
    expect_reason("\"dec\":\"12x\"", "column dec: not a decimal");
    expect_reason("\"dec\":true", "column dec: not a decimal");
    expect_reason("\"dec\":\"1.234\"", "column dec: more than 2 fraction digits for decimal(12,2)");
}

/* --- booleans, strings, binary ----------------------------------------------------- */

static void test_booleans_are_true_or_false_only(void **state)
{
    (void)state;
    assert_true(one("\"b\":true"));
    assert_int_equal(ival(C_B, 0), 1);
    assert_true(one("\"b\":false"));
    assert_int_equal(ival(C_B, 0), 0);
    expect_reason("\"b\":\"true\"", "column b: not a boolean");
    expect_reason("\"b\":1", "column b: not a boolean");
    expect_reason("\"b\":tru", "offset 12: expected a value");
    expect_reason("\"b\":True", "offset 12: expected a value");
}

static void test_strings_take_scalars_as_their_literal_text(void **state)
{
    (void)state;
    static const char *const lits[] = { "42", "-1.50e+3", "true", "false", "0.000" };
    for (size_t i = 0; i < sizeof lits / sizeof lits[0]; i++) {
        char m[64];
        snprintf(m, sizeof m, "\"s\":%s", lits[i]);
        assert_true(one(m));
        assert_string_equal(sval(C_S, 0, NULL), lits[i]);
    }
    assert_true(one("\"s\":\"\""));
    assert_string_equal(sval(C_S, 0, NULL), "");
    assert_true(one("\"s\":null"));
    assert_true(is_null(C_S, 0));
}

static void test_nested_values_keep_their_exact_text(void **state)
{
    (void)state;
    const char *nested = "{ \"a\" : [1, 2 ,{\"b\":null}],\t\"c\":\"\\u00e9\\n\" ,\"d\":{} }";
    char m[256];
    snprintf(m, sizeof m, "\"s\":%s", nested);
    assert_true(one(m));
    assert_string_equal(sval(C_S, 0, NULL), nested);
    assert_true(one("\"s\":[]"));
    assert_string_equal(sval(C_S, 0, NULL), "[]");
    assert_true(one("\"s\":[ \"x\" , [ [ ] ] ]  "));
    assert_string_equal(sval(C_S, 0, NULL), "[ \"x\" , [ [ ] ] ]");
    expect_reason("\"s\":{\"a\":1,}", "offset 19: expected '\"' (member name)");
    expect_reason("\"s\":[1,2", "offset 16: expected ',' or ']'");
    expect_reason("\"s\":[1 2]", "offset 15: expected ',' or ']'");
    expect_reason("\"s\":{\"a\" 1}", "offset 17: expected ':' after member name");
    expect_reason("\"s\":{\"a\":1]", "offset 18: expected ',' or '}'");
    expect_reason("\"l\":{}", "column l: not an integer");
}

static void test_escapes_and_surrogate_pairs_are_unescaped(void **state)
{
    (void)state;
    assert_true(one("\"s\":\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\\u0041\\u00e9\\u20ac"
                    "\\ud83d\\ude00\\u0000z\""));
    size_t n;
    const char *v = sval(C_S, 0, &n);
    const char want[] = "a\"b\\c/d\be\ff\ng\rh\tiA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\0z";
    assert_int_equal(n, sizeof want - 1);
    assert_memory_equal(v, want, n);
    /* Raw UTF-8 passes as it is. */
    assert_true(one("\"s\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\""));
    assert_string_equal(sval(C_S, 0, NULL),
                        "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf");
    expect_reason("\"s\":\"\\ud83d\"", "offset 13: lone surrogate in \\u escape");
    expect_reason("\"s\":\"\\ud83dx\"", "offset 13: lone surrogate in \\u escape");
    expect_reason("\"s\":\"\\ud83d\\u0041\"", "offset 13: lone surrogate in \\u escape");
    expect_reason("\"s\":\"\\ude00\"", "offset 13: lone surrogate in \\u escape");
    expect_reason("\"s\":\"\\u12g4\"", "offset 13: invalid \\u escape");
    expect_reason("\"s\":\"\\x\"", "offset 13: invalid escape");
    expect_reason("\"s\":\"a\tb\"", "offset 14: control character in string");
    expect_reason("\"s\":\"abc", "offset 17: unterminated string");
    /* Escaped keys find their column. */
    assert_true(one("\"\\u0073\":\"x\""));
    assert_string_equal(sval(C_S, 0, NULL), "x");
}

static void test_invalid_utf8_anywhere_is_a_bad_record(void **state)
{
    (void)state;
    expect_reason("\"s\":\"a\xc3\"", "offset 14: invalid UTF-8");          /* truncated */
    expect_reason("\"s\":\"\xc0\x80\"", "offset 13: invalid UTF-8");        /* overlong NUL */
    expect_reason("\"s\":\"\xe0\x80\xaf\"", "offset 13: invalid UTF-8");    /* overlong '/' */
    expect_reason("\"s\":\"\xed\xa0\x80\"", "offset 13: invalid UTF-8");    /* surrogate */
    expect_reason("\"s\":\"\xf4\x90\x80\x80\"", "offset 13: invalid UTF-8"); /* past U+10FFFF */
    expect_reason("\"s\":\"\xf5\x80\x80\x80\"", "offset 13: invalid UTF-8");
    expect_reason("\"s\":\"\x80\"", "offset 13: invalid UTF-8");
    expect_reason("\"s\":\"\xff\"", "offset 13: invalid UTF-8");
    /* In a key, an unknown field's value, a nested value, and a binary column. */
    expect_reason("\"\xff\":1", "offset 9: invalid UTF-8");
    expect_reason("\"zz\":[\"\xc3\"]", "offset 15: invalid UTF-8");
    expect_reason("\"s\":{\"k\":\"\xe2\x82\"}", "offset 18: invalid UTF-8");
    expect_reason("\"bin\":\"\xc3\"", "offset 15: invalid UTF-8");
    /* Outside strings any byte >= 0x80 is out of place. */
    expect_reason("\"l\":\xc3\xa9", "offset 12: expected a value");
    /* Never rescued. */
    g.opts.rescued_col = C_RESC;
    g.opts.rescue_unknown = 1;
    expect_reason("\"s\":\"\xff\"", "offset 13: invalid UTF-8");
    g.opts.rescued_col = -1;
    g.opts.rescue_unknown = 0;
}

static void test_binary_takes_standard_base64_padded_or_not(void **state)
{
    (void)state;
    static const struct { const char *in; const char *hex; } ok[] = {
        { "aGVsbG8/Pg==", "68656c6c6f3f3e" }, { "aGVsbG8/Pg", "68656c6c6f3f3e" },
        { "+/+/", "fbffbf" }, { "", "" }, { "QQ==", "41" }, { "QUI=", "4142" },
        { "QUI", "4142" }, { "aGVsbG8\\/Pg==", "68656c6c6f3f3e" },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char m[128], hex[64] = "";
        snprintf(m, sizeof m, "\"bin\":\"%s\"", ok[i].in);
        if (!one(m))
            fail_msg("%s: %s", ok[i].in, bads[0].reason);
        size_t n;
        const char *v = sval(C_BIN, 0, &n);
        for (size_t k = 0; k < n; k++)
            sprintf(hex + 2 * k, "%02x", (uint8_t)v[k]);
        assert_string_equal(hex, ok[i].hex);
    }
    static const char *const bad[] = { "aGVsbG8-Pg==", "aGVsbG8_Pg", "Q", "QQ=", "Q===",
                                       "QQ==QQ==", "QU=I", "aGVs bG8=", "=" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char m[128];
        snprintf(m, sizeof m, "\"bin\":\"%s\"", bad[i]);
        expect_reason(m, "column bin: not a base64 string");
    }
    expect_reason("\"bin\":12", "column bin: not a base64 string");
}

/* --- dates and timestamps ---------------------------------------------------------- */

static void test_dates_are_yyyy_mm_dd_in_years_1_to_9999(void **state)
{
    (void)state;
    static const struct { const char *in; int32_t days; } ok[] = {
        { "1970-01-01", 0 }, { "2024-02-29", 19782 }, { "0001-01-01", -719162 },
        { "9999-12-31", 2932896 }, { "1969-12-31", -1 }, { "2000-02-29", 11016 },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char m[64];
        snprintf(m, sizeof m, "\"dt\":\"%s\"", ok[i].in);
        assert_true(one(m));
        assert_int_equal(ival(C_DT, 0), ok[i].days);
    }
    static const char *const bad[] = { "2023-02-29", "1900-02-29", "2024-13-01", "2024-00-10",
                                       "2024-04-31", "0000-01-01", "2024-1-01", "2024/01/01",
                                       "2024-01-01T00:00", "20240101", "" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char m[64];
        snprintf(m, sizeof m, "\"dt\":\"%s\"", bad[i]);
        expect_reason(m, "column dt: not a date (YYYY-MM-DD)");
    }
    expect_reason("\"dt\":20240101", "column dt: not a date (YYYY-MM-DD)");
}

static void test_timestamps_take_iso_forms_with_offsets(void **state)
{
    (void)state;
    static const struct { const char *in; int64_t us; } ok[] = {
        { "2024-01-02", 1704153600000000 },
        { "2024-01-02T03:04", 1704164640000000 },
        { "2024-01-02 03:04", 1704164640000000 },
        { "2024-01-02T03:04:05", 1704164645000000 },
        { "2024-01-02T03:04:05Z", 1704164645000000 },
        { "2024-01-02T03:04:05+01:00", 1704161045000000 },
        { "2024-01-02T03:04:05+0100", 1704161045000000 },
        { "2024-01-02T03:04:05+01", 1704161045000000 },
        { "2024-01-02T03:04:05-01:30", 1704170045000000 },
        { "2024-01-02T03:04:05+05", 1704146645000000 },
        { "2024-01-02T03:04Z", 1704164640000000 },
        { "2024-01-02T03:04:05.1Z", 1704164645100000 },
        { "2024-01-02T03:04:05.123456", 1704164645123456 },
        { "2024-01-02T03:04:05.123456789Z", 1704164645123456 },     /* ns truncated */
        { "1969-12-31T23:59:59.9999999Z", -1 },                     /* toward -inf */
        { "1969-12-31T23:59:59.999999", -1 },
        { "1900-01-01T00:00:00.123456-05:00", -2208970799876544 },
        { "0001-01-01T00:00:00Z", -62135596800000000 },
        { "9999-12-31T23:59:59.999999Z", 253402300799999999 },
        { "1583-10-15", -12187756800000000 },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char m[96];
        snprintf(m, sizeof m, "\"ts\":\"%s\"", ok[i].in);
        if (!one(m))
            fail_msg("%s: %s", ok[i].in, bads[0].reason);
        if (ival(C_TS, 0) != ok[i].us)
            fail_msg("%s: %" PRId64 ", want %" PRId64, ok[i].in, ival(C_TS, 0), ok[i].us);
    }
    static const char *const bad[] = {
        "2024-01-02T24:00", "2024-01-02T03:60", "2024-01-02T03:04:60", "2024-01-02T03",
        "2024-01-02T03:04:05.", "2024-01-02T03:04:05.1234567890", "2024-01-02T03:04:05z",
        "2024-01-02t03:04", "2024-01-02T03:04:05+24:00", "2024-01-02T03:04:05+01:60",
        "2024-01-02T03:04:05+1", "2024-01-02T03:04:05 +01:00", "2024-01-02T3:04",
        "2024-02-30T00:00", "2024-01-02T03:04:05+01:00:00", "2024-01-02X03:04", "",
        "now", "2024-01-02Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char m[96];
        snprintf(m, sizeof m, "\"ts\":\"%s\"", bad[i]);
        expect_reason(m, "column ts: not a timestamp");
    }
    expect_reason("\"ts\":true", "column ts: not a timestamp");
}

static int64_t epoch_of(int unit, const char *lit)
{
    char m[96];
    g.opts.epoch_unit = unit;
    snprintf(m, sizeof m, "\"ts\":%s", lit);
    int ok = one(m);
    g.opts.epoch_unit = INGEST_EPOCH_S;
    if (!ok)
        fail_msg("%s: %s", lit, bads[0].reason);
    return ival(C_TS, 0);
}

static void test_epoch_numbers_convert_exactly_in_each_unit(void **state)
{
    (void)state;
    assert_true(epoch_of(INGEST_EPOCH_S, "1700000000") == 1700000000000000);
    assert_true(epoch_of(INGEST_EPOCH_S, "1.5") == 1500000);
    assert_true(epoch_of(INGEST_EPOCH_S, "-1.5") == -1500000);
    assert_true(epoch_of(INGEST_EPOCH_S, "0.000001") == 1);
    assert_true(epoch_of(INGEST_EPOCH_S, "1.0000005") == 1000000);     /* truncated */
    assert_true(epoch_of(INGEST_EPOCH_S, "-1.0000005") == -1000001);   /* toward -inf */
    assert_true(epoch_of(INGEST_EPOCH_S, "-0.0000001") == -1);
    assert_true(epoch_of(INGEST_EPOCH_S, "1.7e9") == 1700000000000000);
    assert_true(epoch_of(INGEST_EPOCH_S, "17e-7") == 1);
    assert_true(epoch_of(INGEST_EPOCH_S, "1700000000.123456") == 1700000000123456);
    assert_true(epoch_of(INGEST_EPOCH_MS, "1700000000123") == 1700000000123000);
    assert_true(epoch_of(INGEST_EPOCH_MS, "1700000000123.456") == 1700000000123456);
    assert_true(epoch_of(INGEST_EPOCH_MS, "-0.5") == -500);
    assert_true(epoch_of(INGEST_EPOCH_MS, "0.0009") == 0);
    assert_true(epoch_of(INGEST_EPOCH_US, "1700000000123456") == 1700000000123456);
    assert_true(epoch_of(INGEST_EPOCH_US, "-9223372036854775808") == INT64_MIN);
    assert_true(epoch_of(INGEST_EPOCH_S, "-9223372036854.775808") == INT64_MIN);
    assert_true(epoch_of(INGEST_EPOCH_S, "9223372036854.775807") == INT64_MAX);
    /* Out of range, and fractions of a microsecond unit. */
    expect_reason("\"ts\":9223372036855", "column ts: out of range for timestamp");
    expect_reason("\"ts\":1e300", "column ts: out of range for timestamp");
    expect_reason("\"ts\":-9223372036854.7758081", "column ts: out of range for timestamp");
    g.opts.epoch_unit = INGEST_EPOCH_US;
    expect_reason("\"ts\":1.5", "column ts: not a timestamp");
    expect_reason("\"ts\":1e3", "column ts: not a timestamp");
    expect_reason("\"ts\":9223372036854775808", "column ts: out of range for timestamp");
    g.opts.epoch_unit = INGEST_EPOCH_S;
}

/* --- nulls, not null, duplicates, unknown keys ------------------------------------- */

static void test_null_and_missing_values_are_null_slots(void **state)
{
    (void)state;
    assert_true(one("\"l\":null,\"s\":null,\"d\":null"));
    for (size_t c = C_L; c < C_RESC; c++)
        assert_true(is_null(c, 0));
    assert_int_equal(col(C_L)->null_count, 1);
    /* A null slot holds 0 / an empty range. */
    assert_int_equal(((const int64_t *)col(C_L)->values)[0], 0);
    assert_int_equal(col(C_S)->offsets[0], col(C_S)->offsets[1]);
    assert_null(col(C_ID)->validity);           /* no nulls: no bitmap */
}

static void test_not_null_column_missing_or_null_is_bad(void **state)
{
    (void)state;
    fx_run(&g, "{\"l\":1}\n{\"id\":null}\n{\"id\":\"x\"}\n");
    assert_int_equal(g.b.nrows, 0);
    assert_int_equal(nbad, 3);
    assert_string_equal(bads[0].reason, "column id: no value in a not null column");
    assert_string_equal(bads[1].reason, "column id: null in a not null column");
    assert_string_equal(bads[2].reason, "column id: not an integer");
    /* Even with a rescued-data column: never rescued. */
    g.opts.rescued_col = C_RESC;
    g.opts.rescue_unknown = 1;
    fx_run(&g, "{\"l\":1}\n{\"id\":null}\n{\"id\":\"x\"}\n");
    assert_int_equal(g.b.nrows, 0);
    assert_int_equal(nbad, 3);
    assert_string_equal(bads[2].reason, "column id: not an integer");
    g.opts.rescued_col = -1;
    g.opts.rescue_unknown = 0;
}

static void test_duplicate_keys_last_one_wins(void **state)
{
    (void)state;
    fx_run(&g, "{\"id\":1,\"s\":\"a long first value\",\"l\":1,\"s\":\"x\",\"l\":2}\n"
               "{\"id\":2,\"l\":\"bad\",\"l\":3,\"s\":\"y\",\"s\":null}\n"
               "{\"id\":null,\"id\":3,\"l\":4,\"l\":\"bad\"}\n");
    assert_int_equal(g.b.nrows, 2);
    assert_int_equal(nbad, 1);
    assert_int_equal(bads[0].line, 3);
    assert_string_equal(bads[0].reason, "column l: not an integer");
    assert_string_equal(sval(C_S, 0, NULL), "x");
    assert_int_equal(ival(C_L, 0), 2);
    assert_int_equal(ival(C_L, 1), 3);
    assert_true(is_null(C_S, 1));
    assert_int_equal(col(C_S)->offsets[2], 1);  /* nothing left of the first value */
}

static void test_unknown_keys_are_validated_and_skipped(void **state)
{
    (void)state;
    assert_true(one("\"zz\":{\"a\":[1,{\"b\":\"\\u00e9\"}],\"c\":-1.5e3},\"yy\":null,\"s\":\"k\""));
    assert_string_equal(sval(C_S, 0, NULL), "k");
    expect_reason("\"zz\":[1,]", "offset 16: expected a value");
    expect_reason("\"zz\":tru", "offset 13: expected a value");
    expect_reason("\"zz\":\"\\q\"", "offset 14: invalid escape");
    expect_reason("\"zz\":01", "offset 14: expected ',' or '}'");
    /* The rescued column's name in the input is an unknown key. */
    g.opts.rescued_col = C_RESC;
    assert_true(one("\"_rescued\":\"not mine\""));
    assert_true(is_null(C_RESC, 0));
    g.opts.rescued_col = -1;
}

/* The decoder guesses each key from the previous line's key at the same
 * position; the guess must never match a prefix ("b" for "bin"). */
static void test_changing_key_order_finds_each_column(void **state)
{
    (void)state;
    fx_run(&g, "{\"id\":1,\"b\":true,\"big\":1,\"s\":\"a\"}\n"
               "{\"id\":2,\"bin\":\"QQ==\",\"b\":false,\"s\":\"b\"}\n"
               "{\"id\":3,\"big\":2,\"bin\":\"Qg==\",\"bx\":9}\n"
               "{\"s\":\"d\",\"id\":4,\"b\":true,\"B\":false}\n"
               "{\"id\":5,\"b\" :true,\"s\":\"e\"}\n");
    assert_int_equal(nbad, 0);
    assert_int_equal(g.b.nrows, 5);
    assert_int_equal(ival(C_B, 0), 1);
    assert_true(dec128(C_BIG, 0) == 10000);
    assert_true(is_null(C_BIN, 0));
    assert_string_equal(sval(C_BIN, 1, NULL), "A");
    assert_int_equal(ival(C_B, 1), 0);
    assert_true(dec128(C_BIG, 2) == 20000);
    assert_string_equal(sval(C_BIN, 2, NULL), "B");
    assert_true(is_null(C_B, 2));
    assert_string_equal(sval(C_S, 3, NULL), "d");
    assert_int_equal(ival(C_ID, 3), 4);
    assert_int_equal(ival(C_B, 3), 0);          /* "B" folds to b and comes last */
    assert_int_equal(ival(C_B, 4), 1);
    assert_string_equal(sval(C_S, 4, NULL), "e");
}

static void test_keys_fall_back_to_ascii_case_insensitive_match(void **state)
{
    (void)state;
    static struct ingest_field f[] = {
        F("userId", INGEST_TYPE_INT64, 1), F("userid", INGEST_TYPE_INT64, 1),
        F("Country", INGEST_TYPE_STRING, 1),
    };
    struct fx x;
    fx_init(&x, f, 3);
    fx_start(&x);
    const char *t = "{\"userId\":1,\"userid\":2,\"COUNTRY\":\"de\"}\n"
                    "{\"USERID\":3,\"country\":\"fr\"}\n"
                    "{\"UserID\":4,\"userid\":5,\"Country\":\"x\",\"country\":\"y\"}\n";
    assert_int_equal(fx_feed_n(&x, t, strlen(t), 1), 0);
    fx_take(&x);
    assert_canon(&x.b, "[\"1\",\"2\",\"de\"],\n"
                       "[\"3\",null,\"fr\"],\n"     /* folded: the first in schema order */
                       "[\"4\",\"5\",\"y\"]");      /* exact or folded, the last one wins */
    fx_done(&x);
}

/* --- rescued data ------------------------------------------------------------------ */

static void test_rescue_keeps_rows_with_failed_values_and_unknowns(void **state)
{
    (void)state;
    g.opts.rescued_col = C_RESC;
    g.opts.rescue_unknown = 1;
    fx_run(&g, "{\"id\":1,\"dec\":\"12x\", \"zz\" : { \"k\": [1, 2] },\"l\":5,"
               "\"dt\":\"2024-13-01\",\"\\u0061\":\"q\"}\n"
               "{\"id\":2,\"l\":6}\n"
               "{\"id\":3,\"b\":1,\"_rescued\":\"from input\"}\n");
    assert_int_equal(nbad, 0);
    assert_int_equal(g.b.nrows, 3);
    assert_string_equal(
        sval(C_RESC, 0, NULL),
        "{\"dec\":\"12x\",\"zz\":{ \"k\": [1, 2] },\"dt\":\"2024-13-01\",\"\\u0061\":\"q\"}");
    assert_true(is_null(C_DEC, 0));
    assert_true(is_null(C_DT, 0));
    assert_int_equal(ival(C_L, 0), 5);
    assert_true(is_null(C_RESC, 1));
    assert_int_equal(ival(C_L, 1), 6);
    assert_string_equal(sval(C_RESC, 2, NULL), "{\"b\":1,\"_rescued\":\"from input\"}");
    assert_int_equal(ingest_decoder_stats(g.d)->rescued, 2);
    assert_int_equal(ingest_decoder_stats(g.d)->rows, 3);

    /* Without rescue_unknown, unknown fields are dropped; failed values still rescued. */
    g.opts.rescue_unknown = 0;
    fx_run(&g, "{\"id\":1,\"zz\":1,\"l\":1.5}\n{\"id\":2,\"zz\":1}\n");
    assert_int_equal(g.b.nrows, 2);
    assert_string_equal(sval(C_RESC, 0, NULL), "{\"l\":1.5}");
    assert_true(is_null(C_RESC, 1));
    /* A superseded duplicate is not rescued; a malformed line is still bad. */
    fx_run(&g, "{\"id\":1,\"l\":\"x\",\"l\":2}\n{\"id\":2,\"l\":\"x\",}\n");
    assert_int_equal(g.b.nrows, 1);
    assert_true(is_null(C_RESC, 0));
    assert_int_equal(nbad, 1);
    assert_string_equal(bads[0].reason, "offset 16: expected '\"' (member name)");
    g.opts.rescued_col = -1;
}

/* --- bad lines --------------------------------------------------------------------- */

static void test_malformed_lines_report_precise_offsets(void **state)
{
    (void)state;
    static const struct { const char *line; const char *reason; } cases[] = {
        { "[1,2]", "offset 0: not a JSON object" },
        { "\"x\"", "offset 0: not a JSON object" },
        { "42", "offset 0: not a JSON object" },
        { "  null", "offset 2: not a JSON object" },
        { "{\"id\":1", "offset 7: expected ',' or '}'" },
        { "{\"id\":1}x", "offset 8: trailing characters after the object" },
        { "{\"id\":1} {}", "offset 9: trailing characters after the object" },
        { "{\"id\" 1}", "offset 6: expected ':' after member name" },
        { "{id:1}", "offset 1: expected '\"' (member name) or '}'" },
        { "{\"id\":1,}", "offset 8: expected '\"' (member name)" },
        { "{\"id\":}", "offset 6: expected a value" },
        { "{\"id\":1,,\"l\":2}", "offset 8: expected '\"' (member name)" },
        { "{\"id", "offset 4: unterminated string" },
        { "{", "offset 1: expected '\"' (member name) or '}'" },
        { "{\"id\":1 \"l\":2}", "offset 8: expected ',' or '}'" },
        { "{\"id\":1}\x01", "offset 8: trailing characters after the object" },
        { "{\"id\":", "offset 6: expected a value" },
        { "{\"zz\": ", "offset 7: expected a value" },
        { "{\"id\":1,\"s\":\"\\", "offset 14: unterminated string" },
        { "{\"id\":1,\"s\":\"\\u12", "offset 13: invalid \\u escape" },
        { "{\"id\":1,\"s\":t", "offset 12: expected a value" },
        { "{\"id\":1,\"s\":-", "offset 13: expected a digit" },
        { "{\"id\":1,\"s\":1e", "offset 14: expected a digit in the exponent" },
        { "{\"id\":1,\"s\":[", "offset 13: expected a value" },
        { "{\"id\":1,\"s\":{", "offset 13: expected '\"' (member name)" },
        { "{\"id\":1,\"s\":\"\xe2\x82", "offset 13: invalid UTF-8" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fx_run(&g, cases[i].line);
        assert_int_equal(g.b.nrows, 0);
        assert_int_equal(nbad, 1);
        if (strcmp(bads[0].reason, cases[i].reason) != 0)
            fail_msg("%s:\n reason %s\n want   %s", cases[i].line, bads[0].reason, cases[i].reason);
        assert_int_equal(bads[0].len, strlen(cases[i].line));
        assert_memory_equal(bads[0].raw, cases[i].line, bads[0].len);
    }
    /* Nesting: 512 levels inside a value are fine, 513 are not. */
    struct ingest_buf t = INGEST_BUF_INIT;
    ingest_buf_puts(&t, "{\"id\":1,\"s\":");
    for (int k = 0; k < 512; k++)
        ingest_buf_putc(&t, '[');
    for (int k = 0; k < 512; k++)
        ingest_buf_putc(&t, ']');
    ingest_buf_puts(&t, "}\n{\"id\":2,\"zz\":");
    for (int k = 0; k < 513; k++)
        ingest_buf_putc(&t, '[');
    ingest_buf_putc(&t, '}');
    fx_run(&g, t.data);
    assert_int_equal(g.b.nrows, 1);
    assert_int_equal(nbad, 1);
    assert_string_equal(bads[0].reason, "offset 525: nesting deeper than 512");
    ingest_buf_free(&t);
}

static void test_bad_record_mid_row_leaves_no_partial_row(void **state)
{
    (void)state;
    fx_run(&g,
           "{\"id\":1,\"s\":\"first\",\"l\":10,\"bin\":\"QQ==\"}\n"
           "{\"id\":2,\"s\":\"GARBAGE-GARBAGE\",\"bin\":\"QUJD\",\"l\":null,\"d\":1.5,\"b\":tru}\n"
           "{\"id\":3,\"s\":\"VALUE-NOT-KEPT\",\"l\":20,\"dec\":1.001}\n"
           "{\"id\":4,\"s\":\"ZZ\",\"l\":1e2}\n"
           "{\"s\":\"no id\",\"l\":5}\n"
           "{\"id\":5,\"s\":\"third\",\"bin\":\"Qg\"}\n");
    assert_int_equal(nbad, 4);
    assert_int_equal(bads[0].line, 2);
    assert_int_equal(bads[1].line, 3);
    assert_int_equal(bads[2].line, 4);
    assert_int_equal(bads[3].line, 5);
    assert_int_equal(g.b.nrows, 2);
    assert_canon(&g.b, "[\"1\",\"10\",null,null,null,null,null,null,null,null,"
                       "\"first\",{\"hex\":\"41\"},null,null,null],\n"
                       "[\"5\",null,null,null,null,null,null,null,null,null,"
                       "\"third\",{\"hex\":\"42\"},null,null,null]");
    /* Each vector is exactly two rows long, with its string bytes packed. */
    for (size_t c = 0; c < NALL; c++)
        assert_int_equal(col(c)->length, 2);
    assert_int_equal(col(C_S)->offsets[2], strlen("first") + strlen("third"));
    assert_int_equal(col(C_BIN)->offsets[2], 2);
    assert_int_equal(col(C_L)->null_count, 1);
    assert_int_equal(col(C_D)->null_count, 2);
    assert_null(col(C_ID)->validity);
    assert_int_equal(ingest_decoder_stats(g.d)->bad, 4);
    assert_int_equal(ingest_decoder_stats(g.d)->rows, 2);
    assert_int_equal(ingest_decoder_stats(g.d)->lines, 6);
}

static void test_blank_lines_bom_and_crlf(void **state)
{
    (void)state;
    fx_run(&g, "\xEF\xBB\xBF{\"id\":1,\"s\":\"a\"}\r\n\r\n   \t\n{\"id\":2,\"s\":\"b\" }\r\n\n");
    assert_int_equal(nbad, 0);
    assert_int_equal(g.b.nrows, 2);
    assert_string_equal(sval(C_S, 0, NULL), "a");
    assert_string_equal(sval(C_S, 1, NULL), "b");
    const struct ingest_decode_stats *st = ingest_decoder_stats(g.d);
    assert_int_equal(st->lines, 5);
    assert_int_equal(st->blank, 3);
    /* A BOM anywhere but at the start of line 1 is not JSON. */
    fx_run(&g, "{\"id\":1}\n\xEF\xBB\xBF{\"id\":2}\n");
    assert_int_equal(g.b.nrows, 1);
    assert_int_equal(nbad, 1);
    assert_int_equal(bads[0].line, 2);
    assert_string_equal(bads[0].reason, "offset 0: not a JSON object");
    fx_start(&g);
    const char *t = "\xEF\xBB\xBF{\"id\":7}\n";
    assert_int_equal(fx_feed_n(&g, t, strlen(t), 8), 0);
    assert_int_equal(nbad, 1);
    assert_int_equal(bads[0].line, 8);
    /* A lone CR at the end is stripped; the reported raw line has no CR. */
    fx_run(&g, "{\"id\":1}x\r\n{\"id\":2}\r");
    assert_int_equal(g.b.nrows, 1);
    assert_int_equal(bads[0].len, 9);
}

static void test_line_numbers_start_at_first_line_no(void **state)
{
    (void)state;
    fx_start(&g);
    const char *t = "{\"id\":1}\n\nnope\n{\"id\":2}\n[]";
    assert_int_equal(fx_feed_n(&g, t, strlen(t), 1000), 0);
    assert_int_equal(nbad, 2);
    assert_int_equal(bads[0].line, 1002);
    assert_int_equal(bads[1].line, 1004);
    assert_int_equal(ingest_decoder_rows(g.d), 2);
    assert_int_equal(ingest_decoder_stats(g.d)->lines, 5);
}

static void test_long_lines_are_bad_records_reported_whole(void **state)
{
    (void)state;
    g.opts.max_line = 20;
    const char *ok = "{\"id\":1,\"s\":\"12345\"}";      /* 20 bytes */
    const char *big = "{\"id\":2,\"s\":\"123456\"}";    /* 21 bytes */
    char t[128];
    snprintf(t, sizeof t, "%s\r\n%s\r\n", ok, big);
    fx_run(&g, t);
    assert_int_equal(g.b.nrows, 1);
    assert_int_equal(nbad, 1);
    assert_string_equal(bads[0].reason, "line too long (21 bytes, max_line 20)");
    assert_int_equal(bads[0].len, 21);
    assert_memory_equal(bads[0].raw, big, 21);
    g.opts.max_line = 0;
}

/* --- batches ----------------------------------------------------------------------- */

static void test_take_in_the_middle_starts_a_new_batch(void **state)
{
    (void)state;
    fx_start(&g);
    /* An empty batch is well formed. */
    fx_take(&g);
    assert_int_equal(g.b.nrows, 0);
    assert_int_equal(col(C_S)->length, 0);
    assert_int_equal(col(C_S)->offsets[0], 0);
    assert_non_null(col(C_S)->data);
    assert_non_null(col(C_L)->values);

    struct ingest_buf t = INGEST_BUF_INIT;
    for (int i = 0; i < 1000; i++)
        ingest_buf_printf(&t, "{\"id\":%d,\"s\":\"row %d\",\"l\":%s}\n", i, i,
                          i % 3 ? "1" : "null");
    size_t half = (size_t)(strstr(t.data, "{\"id\":600,") - t.data);
    assert_int_equal(fx_feed_n(&g, t.data, half, 1), 0);
    assert_int_equal(ingest_decoder_rows(g.d), 600);
    assert_true(ingest_decoder_memory(g.d) > 600 * 8);
    fx_take(&g);
    assert_int_equal(ingest_decoder_rows(g.d), 0);
    assert_int_equal(ingest_decoder_memory(g.d), 0);
    assert_int_equal(g.b.nrows, 600);
    assert_int_equal(ival(C_ID, 599), 599);
    assert_string_equal(sval(C_S, 599, NULL), "row 599");
    assert_int_equal(col(C_L)->null_count, 200);
    assert_int_equal(fx_feed_n(&g, t.data + half, t.len - half, 601), 0);
    fx_take(&g);
    assert_int_equal(g.b.nrows, 400);
    assert_int_equal(ival(C_ID, 0), 600);
    assert_string_equal(sval(C_S, 0, NULL), "row 600");
    assert_string_equal(sval(C_S, 399, NULL), "row 999");
    assert_true(is_null(C_L, 0));
    assert_int_equal(col(C_L)->null_count, 134);
    assert_int_equal(ingest_decoder_stats(g.d)->rows, 1000);
    ingest_buf_free(&t);
}

/* 4 GiB of string bytes in one batch cannot be fed in a unit test; the
 * guard that turns it into INGEST_ERANGE is checked directly. */
static void test_string_bytes_stop_at_4_gib(void **state)
{
    (void)state;
    struct dec_col c = { 0 };
    assert_int_equal(dec_grow_data(&c, (size_t)UINT32_MAX + 1), INGEST_ERANGE);
    assert_null(c.data);
    assert_int_equal(dec_grow_data(&c, 5000), 0);
    assert_true(c.dcap >= 5000 && c.dcap <= UINT32_MAX);
    assert_int_equal(dec_reserve(&c, 4000, 1000), 0);
    assert_int_equal(dec_reserve(&c, c.dcap, UINT32_MAX), INGEST_ERANGE);
    free(c.data);
}

static void test_constructor_refuses_what_it_cannot_decode(void **state)
{
    (void)state;
    static struct ingest_field kid[] = { F("x", INGEST_TYPE_INT32, 1) };
    static struct ingest_field nested[] = { F("a", INGEST_TYPE_INT64, 1),
                                            FG("st", INGEST_TYPE_STRUCT, 1, kid) };
    static struct ingest_field dup[] = { F("a", INGEST_TYPE_INT64, 1),
                                         F("a", INGEST_TYPE_STRING, 1) };
    static struct ingest_field baddec[] = { FD("d", 39, 2, 1) };
    static struct ingest_field resc[] = { F("a", INGEST_TYPE_INT64, 1),
                                          F("r", INGEST_TYPE_STRING, 0) };
    static const struct {
        struct ingest_field *f;
        size_t n;
        int rescued;
        const char *err;
    } cases[] = {
        { nested, 2, -1, "column st: nested type struct is not supported by the JSON decoder" },
        { dup, 2, -1, "column a appears twice" },
        { baddec, 1, -1, "column d: bad decimal(39,2)" },
        { resc, 2, 0, "the rescued-data column must be a nullable string column" },
        { resc, 2, 1, "the rescued-data column must be a nullable string column" },
        { resc, 2, 2, "the rescued-data column must be a nullable string column" },
        { resc, 0, -1, "the decoder needs a schema with at least one column" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fx x;
        char err[256] = "";
        fx_init(&x, cases[i].f, cases[i].n);
        x.opts.rescued_col = cases[i].rescued;
        assert_null(ingest_decoder_new(&x.opts, err, sizeof err));
        assert_string_equal(err, cases[i].err);
    }
    struct fx x;
    char err[256] = "";
    fx_init(&x, resc, 1);
    x.opts.epoch_unit = 7;
    assert_null(ingest_decoder_new(&x.opts, err, sizeof err));
    assert_string_equal(err, "bad epoch unit 7");
}

/* --- Parquet round trip ------------------------------------------------------------ */

static void test_decoded_batch_round_trips_through_parquet(void **state)
{
    (void)state;
    char dir[256], path[512], err[256];
    assert_int_equal(scratch_make(dir, sizeof dir, "test_decode_json"), 0);
    snprintf(path, sizeof path, "%s/t.parquet", dir);
    g.opts.rescued_col = C_RESC;
    g.opts.rescue_unknown = 1;
    struct ingest_buf t = INGEST_BUF_INIT;
    for (int i = 0; i < 3000; i++)
        ingest_buf_printf(&t,
                          "{\"id\":%d,\"l\":%s,\"i\":%d,\"sh\":%d,\"by\":%d,\"d\":%d.25,\"f\":%s,"
                          "\"dec\":%s,\"big\":\"%d12345678901234567890.%04d\",\"b\":%s,"
                          "\"s\":%s,\"bin\":\"%s\",\"dt\":\"2024-02-%02d\",\"ts\":%s%s}\n",
                          i, i % 7 ? "-9223372036854775808" : "null", i * 1000, i % 30000 - 15000,
                          i % 256 - 128, i, i % 5 ? "1.5" : "null", i % 11 ? "-12.34" : "\"x\"",
                          i % 9, i, i % 2 ? "true" : "false",
                          i % 4 ? "{\"nested\": [1, \"\\u00e9\"]}" : "\"plain\"",
                          i % 3 ? "aGVsbG8=" : "", 1 + i % 28,
                          i % 6 ? "\"1969-12-31T23:59:59.5-01:00\"" : "1700000000.25",
                          i % 13 ? "" : ",\"extra\":[true]");
    fx_run(&g, t.data);
    ingest_buf_free(&t);
    assert_int_equal(nbad, 0);
    assert_int_equal(g.b.nrows, 3000);

    struct ingest_parquet_opts po = { .page_bytes = 16384 };
    struct ingest_parquet_writer *w =
        ingest_parquet_writer_open(path, &g.schema, &po, err, sizeof err);
    if (!w)
        fail_msg("writer: %s", err);
    assert_int_equal(ingest_parquet_writer_write(w, &g.b), 0);
    assert_int_equal(ingest_parquet_writer_close(w, NULL), 0);
    struct ingest_parquet_reader *r = ingest_parquet_reader_open(path, err, sizeof err);
    if (!r)
        fail_msg("reader: %s", err);
    assert_int_equal(ingest_parquet_reader_num_rows(r), 3000);
    struct ingest_batch back;
    assert_int_equal(ingest_parquet_reader_read_row_group(r, 0, NULL, &back, err, sizeof err), 0);
    char *want = canon(&g.b), *got = canon(&back);
    assert_string_equal(got, want);
    free(want);
    free(got);
    ingest_batch_free(&back);
    ingest_parquet_reader_close(r);
    assert_int_equal(scratch_remove(dir), 0);
    g.opts.rescued_col = -1;
    g.opts.rescue_unknown = 0;
}

/* --- randomized comparison with a reference decoder --------------------------------- */

/* The reference works on json.h's DOM, one member at a time, with its own
 * conversions; it is slow and simple on purpose. */

static struct ingest_field rnd_fields[] = {
    F("id", INGEST_TYPE_INT64, 0),   F("i32", INGEST_TYPE_INT32, 1), F("i16", INGEST_TYPE_INT16, 1),
    F("i8", INGEST_TYPE_INT8, 1),    F("d", INGEST_TYPE_DOUBLE, 1),  F("f", INGEST_TYPE_FLOAT, 1),
    FD("dec", 10, 3, 1),             FD("big", 30, 5, 1),            F("b", INGEST_TYPE_BOOLEAN, 1),
    F("s", INGEST_TYPE_STRING, 1),   F("bin", INGEST_TYPE_BINARY, 1), F("dt", INGEST_TYPE_DATE, 1),
    F("ts", INGEST_TYPE_TIMESTAMP, 1), F("CamelKey", INGEST_TYPE_STRING, 1),
};
#define NRND (sizeof rnd_fields / sizeof rnd_fields[0])

static uint64_t rs;

static uint64_t rnd(void)
{
    uint64_t z = (rs += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static unsigned below(unsigned n)
{
    return (unsigned)(rnd() % n);
}

static int chance(unsigned pct)
{
    return below(100) < pct;
}

static void gen_digits(struct ingest_buf *o, unsigned n, int lead_nonzero)
{
    for (unsigned k = 0; k < n; k++)
        ingest_buf_putc(o, (char)('0' + (k == 0 && lead_nonzero ? 1 + below(9) : below(10))));
}

/* A JSON number literal: sign, up to `idig` integer digits, up to `fdig`
 * fraction digits, an exponent with probability `epct`. */
static void gen_number(struct ingest_buf *o, unsigned idig, unsigned fdig, unsigned epct, int emax)
{
    if (chance(40))
        ingest_buf_putc(o, '-');
    unsigned n = below(idig + 1);
    if (n == 0)
        ingest_buf_putc(o, '0');
    else
        gen_digits(o, n, 1);
    if (fdig && chance(60)) {
        ingest_buf_putc(o, '.');
        gen_digits(o, 1 + below(fdig), 0);
    }
    if (chance(epct)) {
        int e = (int)below((unsigned)emax * 2 + 1) - emax;
        ingest_buf_printf(o, e >= 0 && chance(50) ? "E+%d" : "e%d", e);
    }
}

static void gen_plain_text(struct ingest_buf *o)
{
    for (unsigned k = 0, n = below(6); k < n; k++)
        ingest_buf_putc(o, (char)('a' + below(26)));
}

static void gen_nested(struct ingest_buf *o, int depth)
{
    switch (below(depth > 2 ? 3 : 5)) {
    case 0: gen_number(o, 5, 3, 10, 5); break;
    case 1: ingest_buf_putc(o, '"'); gen_plain_text(o); ingest_buf_putc(o, '"'); break;
    case 2: ingest_buf_puts(o, chance(50) ? "true" : chance(50) ? "false" : "null"); break;
    case 3:
        ingest_buf_putc(o, '[');
        for (unsigned k = 0, n = below(4); k < n; k++) {
            if (k)
                ingest_buf_putc(o, ',');
            gen_nested(o, depth + 1);
        }
        ingest_buf_putc(o, ']');
        break;
    default:
        ingest_buf_putc(o, '{');
        for (unsigned k = 0, n = below(4); k < n; k++) {
            if (k)
                ingest_buf_putc(o, ',');
            ingest_buf_putc(o, '"');
            gen_plain_text(o);
            ingest_buf_puts(o, "\":");
            gen_nested(o, depth + 1);
        }
        ingest_buf_putc(o, '}');
        break;
    }
}

/* A JSON string of random characters, escaped in random ways. */
static void gen_string(struct ingest_buf *o)
{
    static const char *const raw[] = { "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", " ", "/" };
    ingest_buf_putc(o, '"');
    for (unsigned k = 0, n = below(12); k < n; k++) {
        switch (below(10)) {
        case 0: ingest_buf_puts(o, raw[below(5)]); break;
        case 1: ingest_buf_printf(o, "\\u%04x", 1 + below(0xd7ff)); break;
        case 2: ingest_buf_puts(o, "\\ud83d\\ude00"); break;
        case 3:
            ingest_buf_puts(
                o, (const char *[]){ "\\n", "\\\"", "\\\\", "\\/", "\\t", "\\b" }[below(6)]);
            break;
        default: {
            char c = (char)('A' + below(58));   /* 'A'..'z', but no backslash */
            ingest_buf_putc(o, c == '\\' ? '.' : c);
            break;
        }
        }
    }
    ingest_buf_putc(o, '"');
}

static void gen_date(struct ingest_buf *o, int with_time)
{
    unsigned y = chance(90) ? 1900 + below(200) : 1 + below(9999);
    unsigned m = chance(97) ? 1 + below(12) : below(14),
             d = chance(95) ? 1 + below(28) : 29 + below(3);
    ingest_buf_printf(o, "%04u-%02u-%02u", y, m, d);
    if (!with_time || chance(10))
        return;
    ingest_buf_printf(o, "%c%02u:%02u", chance(70) ? 'T' : ' ', below(chance(98) ? 24 : 25),
                      below(60));
    if (chance(80)) {
        ingest_buf_printf(o, ":%02u", below(chance(98) ? 60 : 61));
        if (chance(60)) {
            ingest_buf_putc(o, '.');
            gen_digits(o, 1 + below(chance(95) ? 9 : 11), 0);
        }
    }
    switch (below(5)) {
    case 0: break;
    case 1: ingest_buf_putc(o, 'Z'); break;
    case 2:
        ingest_buf_printf(o, "%c%02u:%02u", chance(50) ? '+' : '-', below(24), below(60));
        break;
    case 3: ingest_buf_printf(o, "%c%02u%02u", chance(50) ? '+' : '-', below(24), below(60)); break;
    default: ingest_buf_printf(o, "%c%02u", chance(50) ? '+' : '-', below(26)); break;
    }
}

static void gen_base64(struct ingest_buf *o)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned n = below(12), groups = n / 3, rest = n % 3;
    for (unsigned k = 0; k < groups * 4; k++) {
        char c = al[below(64)];
        if (c == '/' && chance(30))
            ingest_buf_putc(o, '\\');
        ingest_buf_putc(o, c);
    }
    /* A valid tail: the unused low bits zero. */
    if (rest == 1)
        ingest_buf_printf(o, "%c%c%s", al[below(64)], al[below(4) * 16], chance(50) ? "==" : "");
    else if (rest == 2)
        ingest_buf_printf(o, "%c%c%c%s", al[below(64)], al[below(64)], al[below(16) * 4],
                          chance(50) ? "=" : "");
    if (chance(5))
        ingest_buf_putc(o, "-_=. "[below(5)]);
}

static void gen_value(struct ingest_buf *o, size_t c)
{
    if (chance(4)) {
        ingest_buf_puts(o, "null");
        return;
    }
    int odd = chance(3);                /* a form the type may refuse */
    switch (rnd_fields[c].type) {
    case INGEST_TYPE_INT64: case INGEST_TYPE_INT32: case INGEST_TYPE_INT16: case INGEST_TYPE_INT8: {
        /* Digits that fit, and now and then one more (at the range's edge). */
        static const unsigned fit_by_width[9] = { [1] = 2, [2] = 4, [4] = 9, [8] = 18 };
        unsigned fit = fit_by_width[ingest_type_width(&rnd_fields[c])];
        if (odd)
            gen_number(o, 20, 2, 20, 3);
        else
            gen_number(o, chance(10) ? fit + 1 : fit, 0, 0, 0);
        break;
    }
    case INGEST_TYPE_DOUBLE: case INGEST_TYPE_FLOAT:
        if (odd) {
            ingest_buf_puts(
                o, (const char *[]){ "\"1.5\"", "1e400", "3.5e38", "-1e39", "true" }[below(5)]);
        } else if (chance(50) && rnd_fields[c].type == INGEST_TYPE_DOUBLE) {
            uint64_t bits = rnd();
            double x;
            memcpy(&x, &bits, 8);
            if (!isfinite(x))
                x = 1.0 / 3;
            ingest_buf_printf(o, "%.*g", 1 + (int)below(17), x);
        } else if (rnd_fields[c].type == INGEST_TYPE_DOUBLE) {
            gen_number(o, 25, 25, 30, 330);
        } else {
            gen_number(o, 20, 20, 30, 30);
        }
        break;
    case INGEST_TYPE_DECIMAL: {
        const struct ingest_field *f = &rnd_fields[c];
        unsigned idig = (unsigned)(f->precision - f->scale) + (chance(10) ? 1 : 0);
        unsigned fdig = (unsigned)f->scale + (chance(10) ? 1 : 0);
        if (chance(20)) {
            ingest_buf_putc(o, '"');
            if (odd)
                ingest_buf_puts(o, (const char *[]){ "1e2", "12.", "x", "", " 1" }[below(5)]);
            else
                gen_number(o, idig, fdig, 0, 0);
            ingest_buf_putc(o, '"');
        } else {
            gen_number(o, idig, fdig, odd ? 50 : 5, 3);
        }
        break;
    }
    case INGEST_TYPE_BOOLEAN:
        ingest_buf_puts(o, odd ? (chance(50) ? "\"true\"" : "1") : chance(50) ? "true" : "false");
        break;
    case INGEST_TYPE_STRING:
        switch (below(6)) {
        case 0: gen_number(o, 10, 5, 20, 20); break;
        case 1: gen_nested(o, 0); break;
        case 2: ingest_buf_puts(o, chance(50) ? "true" : "false"); break;
        default: gen_string(o); break;
        }
        break;
    case INGEST_TYPE_BINARY:
        ingest_buf_putc(o, '"');
        gen_base64(o);
        ingest_buf_putc(o, '"');
        break;
    case INGEST_TYPE_DATE:
        ingest_buf_putc(o, '"');
        gen_date(o, odd);
        ingest_buf_putc(o, '"');
        break;
    default:                            /* timestamp: ISO string or epoch ms */
        if (chance(25)) {
            gen_number(o, odd ? 19 : 13, 5, 0, 0);
        } else {
            ingest_buf_putc(o, '"');
            gen_date(o, !odd || chance(50));
            ingest_buf_putc(o, '"');
        }
        break;
    }
}

static void ws_maybe(struct ingest_buf *o)
{
    if (chance(15))
        ingest_buf_puts(o, chance(50) ? " " : " \t ");
}

static void gen_key(struct ingest_buf *o, size_t c)
{
    const char *name = rnd_fields[c].name;
    ingest_buf_putc(o, '"');
    if (c == NRND - 1 && chance(50))
        name = chance(50) ? "camelkey" : "CAMELKEY";
    for (const char *p = name; *p; p++) {
        if (chance(3))
            ingest_buf_printf(o, "\\u%04x", (unsigned char)*p);
        else
            ingest_buf_putc(o, *p);
    }
    ingest_buf_putc(o, '"');
}

static void gen_line(struct ingest_buf *o)
{
    size_t start = o->len;
    if (chance(2)) {
        ingest_buf_puts(o, chance(50) ? "" : "  \t");
        ingest_buf_putc(o, '\n');
        return;
    }
    size_t order[NRND];
    for (size_t c = 0; c < NRND; c++)
        order[c] = c;
    for (size_t c = NRND - 1; c > 0; c--) {
        size_t k = below((unsigned)c + 1), t = order[c];
        order[c] = order[k];
        order[k] = t;
    }
    ws_maybe(o);
    ingest_buf_putc(o, '{');
    int first = 1;
    for (size_t k = 0; k < NRND + 2; k++) {
        int unknown = k >= NRND;
        size_t c = unknown ? 0 : order[k];
        if (unknown ? !chance(20) : !chance(c == 0 ? 97 : 75))
            continue;
        for (int rep = 0; rep < 1 + (chance(3) ? 1 : 0); rep++) {
            if (!first)
                ingest_buf_putc(o, ',');
            first = 0;
            ws_maybe(o);
            if (unknown) {
                ingest_buf_puts(o, "\"extra\"");
            } else {
                gen_key(o, c);
            }
            ws_maybe(o);
            ingest_buf_putc(o, ':');
            ws_maybe(o);
            if (unknown)
                gen_nested(o, 0);
            else
                gen_value(o, c);
            ws_maybe(o);
        }
    }
    ingest_buf_putc(o, '}');
    ws_maybe(o);
    if (chance(3)) {                    /* corrupt the line */
        size_t n = o->len - start;
        size_t at = start + below((unsigned)n);
        switch (below(4)) {
        case 0: o->len = at; break;
        case 1: o->data[at] = "{}[]\",:x\x80\xff\x01\x00"[below(12)]; break;
        case 2: ingest_buf_puts(o, chance(50) ? " x" : "{}"); break;
        default: o->data[at] = "\xc3\xa9"[below(2)]; break;
        }
    }
    if (chance(10))
        ingest_buf_putc(o, '\r');
    ingest_buf_putc(o, '\n');
}

/* Reference conversions. */

static int ref_decimal(const char *lit, int is_number, int prec, int scale, __int128 *out)
{
    const char *p = lit;
    int neg = *p == '-';
    p += neg;
    char digits[512];
    size_t nd = 0, ndot = 0;
    int seen_dot = 0;
    long exp = 0;
    for (; *p && *p != 'e' && *p != 'E'; p++) {
        if (*p == '.') {
            if (seen_dot)
                return -1;
            seen_dot = 1;
            continue;
        }
        if (*p < '0' || *p > '9' || nd >= sizeof digits)
            return -1;
        digits[nd++] = *p;
        ndot += seen_dot;
    }
    if (!nd || (seen_dot && !ndot) || (!is_number && (p[0] || p[-1] == '.' || lit[neg] == '.')))
        return -1;
    if (*p)
        exp = strtol(p + 1, NULL, 10);
    if (exp > 100000 || exp < -100000)
        exp = exp > 0 ? 100000 : -100000;
    long frac = (long)ndot - exp;       /* fraction digits after the exponent */
    if (frac > scale)
        return -1;
    /* digits followed by (scale - frac) zeros, leading zeros dropped */
    size_t lead = 0;
    while (lead < nd && digits[lead] == '0')
        lead++;
    if (lead == nd) {
        *out = 0;
        return 0;
    }
    long len = (long)(nd - lead) + (scale - frac);
    if (len > prec)
        return -1;
    __int128 v = 0;
    for (size_t k = lead; k < nd; k++)
        v = v * 10 + (digits[k] - '0');
    for (long k = 0; k < scale - frac; k++)
        v *= 10;
    *out = neg ? -v : v;
    return 0;
}

static int ref_base64(const char *s, size_t n, uint8_t *out, size_t *outn)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t pad = 0;
    while (n > 0 && s[n - 1] == '=' && pad < 2) {
        n--;
        pad++;
    }
    if (pad && (n + pad) % 4)
        return -1;
    if (n % 4 == 1 || (pad && pad != (4 - n % 4) % 4))
        return -1;
    uint64_t bits = 0;
    int nbits = 0;
    *outn = 0;
    for (size_t k = 0; k < n; k++) {
        const char *q = s[k] ? strchr(al, s[k]) : NULL;
        if (!q)
            return -1;
        bits = bits << 6 | (uint64_t)(q - al);
        nbits += 6;
        if (nbits >= 8) {
            out[(*outn)++] = (uint8_t)(bits >> (nbits - 8));
            nbits -= 8;
        }
    }
    return 0;
}

/* "YYYY-MM-DD" through timegm, which normalises, so a round trip checks it. */
static int ref_ymd(const char *s, time_t *t)
{
    for (int k = 0; k < 10; k++)
        if (k == 4 || k == 7 ? s[k] != '-' : (s[k] < '0' || s[k] > '9'))
            return -1;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d }, back;
    if (y < 1)
        return -1;
    *t = timegm(&tm);                   /* normalises tm too: compare with y, m, d */
    gmtime_r(t, &back);
    return back.tm_year == y - 1900 && back.tm_mon == m - 1 && back.tm_mday == d ? 0 : -1;
}

static int two(const char *s)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return -1;
    return (s[0] - '0') * 10 + s[1] - '0';
}

static int ref_timestamp(const char *s, int64_t *us)
{
    size_t n = strlen(s);
    time_t day;
    if (n < 10 || ref_ymd(s, &day))
        return -1;
    if (n == 10) {
        *us = (int64_t)day * 1000000;
        return 0;
    }
    if ((s[10] != 'T' && s[10] != ' ') || n < 16 || s[13] != ':')
        return -1;
    int h = two(s + 11), m = two(s + 14), sec = 0;
    if (h < 0 || h > 23 || m < 0 || m > 59)
        return -1;
    const char *p = s + 16;
    int64_t frac = 0;
    if (*p == ':') {
        sec = two(p + 1);
        if (sec < 0 || sec > 59)
            return -1;
        p += 3;
        if (*p == '.') {
            p++;
            int k = 0;
            char f[7] = "000000";
            while (*p >= '0' && *p <= '9') {
                if (k < 6)
                    f[k] = *p;
                k++;
                p++;
            }
            if (k < 1 || k > 9)
                return -1;
            frac = atol(f);
        }
    }
    long off = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh = two(p + 1), om = 0;
        size_t rest = strlen(p);
        if (rest == 5)
            om = two(p + 3);
        else if (rest == 6)
            om = p[3] == ':' ? two(p + 4) : -1;
        else if (rest != 3)
            return -1;
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return -1;
        off = (p[0] == '-' ? -1 : 1) * (oh * 3600L + om * 60L);
        p += rest;
    }
    if (*p)
        return -1;
    *us = ((int64_t)day + h * 3600 + m * 60 + sec - off) * 1000000 + frac;
    return 0;
}

/* Epoch milliseconds: the literal's digits, exact (no exponent generated). */
static int ref_epoch_ms(const char *lit, int64_t *us)
{
    if (strpbrk(lit, "eE"))
        return -1;
    int neg = lit[0] == '-';
    const char *dot = strchr(lit, '.');
    __int128 v = 0;
    for (const char *p = lit + neg; *p && p != dot; p++)
        v = v * 10 + (*p - '0');
    int dropped = 0;
    for (int k = 0; k < 3; k++) {
        int dgt = dot && strlen(dot + 1) > (size_t)k ? dot[1 + k] - '0' : 0;
        v = v * 10 + dgt;
    }
    if (dot && strlen(dot + 1) > 3)
        dropped = strspn(dot + 4, "0") != strlen(dot + 4);
    if (neg)
        v = -v - dropped;
    if (v > INT64_MAX || v < INT64_MIN)
        return -1;
    *us = (int64_t)v;
    return 0;
}

static void ref_serialize(struct ingest_buf *o, const struct ingest_json *n)
{
    switch (n->type) {
    case INGEST_JSON_NULL: ingest_buf_puts(o, "null"); break;
    case INGEST_JSON_TRUE: ingest_buf_puts(o, "true"); break;
    case INGEST_JSON_FALSE: ingest_buf_puts(o, "false"); break;
    case INGEST_JSON_NUMBER: ingest_buf_append(o, n->str, n->len); break;
    case INGEST_JSON_STRING:
        ingest_buf_putc(o, '"');
        ingest_buf_append(o, n->str, n->len);
        ingest_buf_putc(o, '"');
        break;
    default: {
        int obj = n->type == INGEST_JSON_OBJECT;
        ingest_buf_putc(o, obj ? '{' : '[');
        for (const struct ingest_json *k = n->child; k; k = k->next) {
            if (k != n->child)
                ingest_buf_putc(o, ',');
            if (obj) {
                ingest_buf_putc(o, '"');
                ingest_buf_append(o, k->key, k->key_len);
                ingest_buf_puts(o, "\":");
            }
            ref_serialize(o, k);
        }
        ingest_buf_putc(o, obj ? '}' : ']');
        break;
    }
    }
}

static int fold_eq(const char *a, size_t an, const char *b)
{
    size_t bn = strlen(b);
    if (an != bn)
        return 0;
    for (size_t k = 0; k < an; k++) {
        char x = a[k], y = b[k];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (char)(y + 32);
        if (x != y)
            return 0;
    }
    return 1;
}

/* One value into the reference builder; -1 if it does not convert. */
static int ref_value(struct vb *b, const struct ingest_field *f, const struct ingest_json *n)
{
    int64_t i;
    double x;
    __int128 dec;
    if (n->type == INGEST_JSON_NULL) {
        if (!f->nullable)
            return -1;
        vb_null(b);
        return 0;
    }
    switch (f->type) {
    case INGEST_TYPE_INT64: case INGEST_TYPE_INT32: case INGEST_TYPE_INT16: case INGEST_TYPE_INT8: {
        int64_t lim = (int64_t)(((uint64_t)1 << (8 * ingest_type_width(f) - 1)) - 1);
        if (ingest_json_int64(n, &i) || i > lim || i < -lim - 1)
            return -1;
        vb_i64(b, i);
        return 0;
    }
    case INGEST_TYPE_DOUBLE: case INGEST_TYPE_FLOAT:
        if (n->type != INGEST_JSON_NUMBER || ingest_json_double(n, &x) || isinf(x) ||
            (f->type == INGEST_TYPE_FLOAT && isinf((float)x)))
            return -1;
        vb_f64(b, x);
        return 0;
    case INGEST_TYPE_DECIMAL:
        if ((n->type != INGEST_JSON_NUMBER && n->type != INGEST_JSON_STRING) ||
            ref_decimal(n->str, n->type == INGEST_JSON_NUMBER, f->precision, f->scale, &dec))
            return -1;
        if (f->precision <= 18)
            vb_i64(b, (int64_t)dec);
        else
            vb_dec128(b, dec);
        return 0;
    case INGEST_TYPE_BOOLEAN:
        if (ingest_json_bool(n) < 0)
            return -1;
        vb_i64(b, ingest_json_bool(n));
        return 0;
    case INGEST_TYPE_STRING: {
        struct ingest_buf t = INGEST_BUF_INIT;
        if (n->type == INGEST_JSON_STRING)
            ingest_buf_append(&t, n->str, n->len);
        else
            ref_serialize(&t, n);
        vb_bytes(b, t.data ? t.data : "", t.len);
        ingest_buf_free(&t);
        return 0;
    }
    case INGEST_TYPE_BINARY: {
        uint8_t out[64];
        size_t on;
        if (n->type != INGEST_JSON_STRING || n->len > 80 || ref_base64(n->str, n->len, out, &on))
            return -1;
        vb_bytes(b, out, on);
        return 0;
    }
    case INGEST_TYPE_DATE: {
        time_t t;
        if (n->type != INGEST_JSON_STRING || n->len != 10 || ref_ymd(n->str, &t))
            return -1;
        vb_i64(b, (int64_t)(t / 86400));
        return 0;
    }
    case INGEST_TYPE_TIMESTAMP:
        if (n->type == INGEST_JSON_NUMBER) {
            if (ref_epoch_ms(n->str, &i))
                return -1;
        } else if (n->type != INGEST_JSON_STRING || strlen(n->str) != n->len ||
                   ref_timestamp(n->str, &i)) {
            return -1;
        }
        vb_i64(b, i);
        return 0;
    default:
        return -1;
    }
}

/* Appends the line's row to t, or returns -1 for a bad record (t unchanged:
 * the row is built in a scratch table first). */
static int ref_line(struct vb_table *t, const char *line, size_t len)
{
    struct ingest_json_doc doc = { 0 };
    if (ingest_json_parse(line, len, &doc, NULL, 0))
        return -1;
    int rc = -1;
    const struct ingest_json *last[NRND] = { 0 };
    if (doc.root->type != INGEST_JSON_OBJECT)
        goto out;
    for (const struct ingest_json *m = doc.root->child; m; m = m->next) {
        int c = -1;
        for (size_t k = 0; k < NRND && c < 0; k++)
            if (strlen(rnd_fields[k].name) == m->key_len &&
                memcmp(rnd_fields[k].name, m->key, m->key_len) == 0)
                c = (int)k;
        for (size_t k = 0; k < NRND && c < 0; k++)
            if (fold_eq(m->key, m->key_len, rnd_fields[k].name))
                c = (int)k;
        if (c >= 0)
            last[c] = m;
    }
    /* Convert into a one-row scratch table, then copy the row over. */
    struct vb_table one_row;
    vb_table_init(&one_row, rnd_fields, NRND);
    static const struct ingest_json null_node = { .type = INGEST_JSON_NULL };
    for (size_t c = 0; c < NRND; c++)
        if (ref_value(&one_row.cols[c], &rnd_fields[c], last[c] ? last[c] : &null_node))
            goto out_row;
    for (size_t c = 0; c < NRND; c++) {
        const struct ingest_vector *v = one_row.cols[c].v;
        struct vb *b = &t->cols[c];
        const struct ingest_field *f = &rnd_fields[c];
        if (!ingest_vector_valid(v, 0)) {
            vb_null(b);
        } else if (f->type == INGEST_TYPE_STRING || f->type == INGEST_TYPE_BINARY) {
            vb_bytes(b, v->data + v->offsets[0], v->offsets[1] - v->offsets[0]);
        } else if (f->type == INGEST_TYPE_DOUBLE) {
            vb_f64(b, ((const double *)v->values)[0]);
        } else if (f->type == INGEST_TYPE_FLOAT) {
            uint32_t bits;
            memcpy(&bits, (const float *)v->values, 4);
            vb_f32_bits(b, bits);
        } else if (f->type == INGEST_TYPE_DECIMAL && f->precision > 18) {
            unsigned __int128 u = 0;
            for (int k = 15; k >= 0; k--)
                u = u << 8 | ((const uint8_t *)v->values)[k];
            vb_dec128(b, (__int128)u);
        } else {
            int64_t x;
            switch (ingest_type_width(f)) {
            case 1: x = f->type == INGEST_TYPE_BOOLEAN ? ((const uint8_t *)v->values)[0]
                                                      : ((const int8_t *)v->values)[0]; break;
            case 2: x = ((const int16_t *)v->values)[0]; break;
            case 4: x = ((const int32_t *)v->values)[0]; break;
            default: x = ((const int64_t *)v->values)[0]; break;
            }
            vb_i64(b, x);
        }
    }
    t->batch.nrows++;
    rc = 0;
out_row:
    vb_table_free(&one_row);
out:
    ingest_json_doc_free(&doc);
    return rc;
}

struct line_list {
    uint64_t *v;
    size_t n, cap;
};

static void on_bad_list(void *ud, uint64_t line, const char *reason, const char *raw, size_t len)
{
    (void)reason;
    (void)raw;
    (void)len;
    struct line_list *l = ud;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        assert_non_null(l->v);
    }
    l->v[l->n++] = line;
}

static void test_random_lines_match_the_reference_decoder(void **state)
{
    (void)state;
    const size_t nlines = 10000;
    rs = 20240501;
    struct ingest_buf text = INGEST_BUF_INIT;
    for (size_t k = 0; k < nlines; k++)
        gen_line(&text);

    /* The reference: line by line. */
    struct vb_table ref;
    vb_table_init(&ref, rnd_fields, NRND);
    struct line_list ref_bad = { 0 }, our_bad = { 0 };
    const char *p = text.data, *end = text.data + text.len;
    for (uint64_t ln = 1; p < end; ln++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)(nl - p);
        if (len && p[len - 1] == '\r')
            len--;
        if (strspn(p, " \t") < len && ref_line(&ref, p, len))
            on_bad_list(&ref_bad, ln, NULL, NULL, 0);
        p = nl + 1;
    }
    ref.batch.nrows = ref.cols[0].v->length;
    vb_table_finish(&ref);

    /* Ours: random chunks cut at line ends, batches taken at random points. */
    struct fx x;
    fx_init(&x, rnd_fields, NRND);
    x.opts.epoch_unit = INGEST_EPOCH_MS;
    fx_start(&x);
    struct ingest_buf got = INGEST_BUF_INIT;
    int first = 1;
    uint64_t ln = 1;
    size_t pos = 0;
    while (pos < text.len) {
        size_t n = 1 + below(20000);
        if (pos + n >= text.len)
            n = text.len - pos;
        while (text.data[pos + n - 1] != '\n')
            n++;
        uint64_t before = ingest_decoder_stats(x.d)->lines;
        /* Now and then the chunk's last line ends the buffer without its
         * newline, as at the end of an input: the same line. */
        size_t feed_n = chance(30) ? n - 1 : n;
        char *copy = malloc(n);
        memcpy(copy, text.data + pos, feed_n);
        assert_int_equal(ingest_decoder_feed(x.d, copy, feed_n, ln, on_bad_list, &our_bad), 0);
        free(copy);
        ln += ingest_decoder_stats(x.d)->lines - before;
        pos += n;
        if (chance(30) || pos == text.len) {
            fx_take(&x);
            canon_rows(&got, &x.b, &first);
        }
    }
    assert_int_equal(ln - 1, nlines);
    struct ingest_buf want = INGEST_BUF_INIT;
    first = 1;
    canon_rows(&want, &ref.batch, &first);
    ingest_buf_putc(&got, '\0');
    ingest_buf_putc(&want, '\0');
    /* Bad lines first: a difference there explains a difference in rows. */
    for (size_t k = 0; k < ref_bad.n || k < our_bad.n; k++) {
        uint64_t a = k < our_bad.n ? our_bad.v[k] : 0, b = k < ref_bad.n ? ref_bad.v[k] : 0;
        if (a != b) {
            uint64_t l = a && (!b || a < b) ? a : b;
            const char *q = text.data;
            for (uint64_t j = 1; j < l; j++)
                q = strchr(q, '\n') + 1;
            fail_msg("bad lines differ at line %" PRIu64 " (ours %s): %.*s", l,
                     l == a ? "bad" : "good", (int)(strchr(q, '\n') - q), q);
        }
    }
    if (strcmp(got.data, want.data) != 0) {
        size_t k = 0;
        while (got.data[k] == want.data[k])
            k++;
        size_t from = k > 200 ? k - 200 : 0;
        fail_msg("rows differ at byte %zu:\n ours %.300s\n ref  %.300s", k, got.data + from,
                 want.data + from);
    }
    print_message("%zu rows, %zu bad lines\n", ref.batch.nrows, ref_bad.n);
    assert_true(ref.batch.nrows > nlines / 2);
    assert_true(ref_bad.n > 500);
    assert_int_equal(ingest_decoder_stats(x.d)->rows, ref.batch.nrows);
    assert_int_equal(ingest_decoder_stats(x.d)->bad, ref_bad.n);
    ingest_buf_free(&got);
    ingest_buf_free(&want);
    ingest_buf_free(&text);
    free(ref_bad.v);
    free(our_bad.v);
    vb_table_free(&ref);
    fx_done(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_integers_take_literals_over_their_whole_range, reset),
        cmocka_unit_test_setup(test_integers_refuse_other_forms_and_overflow, reset),
        cmocka_unit_test_setup(test_doubles_equal_strtod_bit_for_bit, reset),
        cmocka_unit_test_setup(test_floats_round_from_the_double, reset),
        cmocka_unit_test_setup(test_numbers_refuse_quotes_overflow_and_nan, reset),
        cmocka_unit_test_setup(test_decimals_take_numbers_and_plain_strings, reset),
        cmocka_unit_test_setup(test_decimals_at_their_limits, reset),
        cmocka_unit_test_setup(test_decimals_on_both_sides_of_the_int64_form, reset),
        cmocka_unit_test_setup(test_decimals_refuse_other_strings, reset),
        cmocka_unit_test_setup(test_booleans_are_true_or_false_only, reset),
        cmocka_unit_test_setup(test_strings_take_scalars_as_their_literal_text, reset),
        cmocka_unit_test_setup(test_nested_values_keep_their_exact_text, reset),
        cmocka_unit_test_setup(test_escapes_and_surrogate_pairs_are_unescaped, reset),
        cmocka_unit_test_setup(test_invalid_utf8_anywhere_is_a_bad_record, reset),
        cmocka_unit_test_setup(test_binary_takes_standard_base64_padded_or_not, reset),
        cmocka_unit_test_setup(test_dates_are_yyyy_mm_dd_in_years_1_to_9999, reset),
        cmocka_unit_test_setup(test_timestamps_take_iso_forms_with_offsets, reset),
        cmocka_unit_test_setup(test_epoch_numbers_convert_exactly_in_each_unit, reset),
        cmocka_unit_test_setup(test_null_and_missing_values_are_null_slots, reset),
        cmocka_unit_test_setup(test_not_null_column_missing_or_null_is_bad, reset),
        cmocka_unit_test_setup(test_duplicate_keys_last_one_wins, reset),
        cmocka_unit_test_setup(test_unknown_keys_are_validated_and_skipped, reset),
        cmocka_unit_test_setup(test_changing_key_order_finds_each_column, reset),
        cmocka_unit_test_setup(test_keys_fall_back_to_ascii_case_insensitive_match, reset),
        cmocka_unit_test_setup(test_rescue_keeps_rows_with_failed_values_and_unknowns, reset),
        cmocka_unit_test_setup(test_malformed_lines_report_precise_offsets, reset),
        cmocka_unit_test_setup(test_bad_record_mid_row_leaves_no_partial_row, reset),
        cmocka_unit_test_setup(test_blank_lines_bom_and_crlf, reset),
        cmocka_unit_test_setup(test_line_numbers_start_at_first_line_no, reset),
        cmocka_unit_test_setup(test_long_lines_are_bad_records_reported_whole, reset),
        cmocka_unit_test_setup(test_take_in_the_middle_starts_a_new_batch, reset),
        cmocka_unit_test_setup(test_string_bytes_stop_at_4_gib, reset),
        cmocka_unit_test_setup(test_constructor_refuses_what_it_cannot_decode, reset),
        cmocka_unit_test_setup(test_decoded_batch_round_trips_through_parquet, reset),
        cmocka_unit_test_setup(test_random_lines_match_the_reference_decoder, reset),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
