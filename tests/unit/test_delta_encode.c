/*
 * test_delta_encode.c - how values and files are described in the Delta
 * log: partition values as text, Hive directory escaping, add.path URI
 * encoding/decoding (dl_path.h) and add.stats JSON (dl_stats.h).
 *
 * Test vectors marked GOLDEN are copied from delta-io/delta's golden tables
 * (connectors/golden-tables/.../golden/<table>/_delta_log), i.e. what
 * Spark wrote; our output must read the same to Delta readers.  Stats are
 * checked on real files: each test writes a Parquet file with our writer
 * and asserts the exact JSON built from the statistics it returned, and
 * that the JSON parses (strict json.h and cJSON) with the right numRecords.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cJSON.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingestd/buf.h"
#include "ingestd/error.h"
#include "ingestd/json.h"
#include "ingestd/parquet.h"
#include "scratch.h"
#include "vecbuild.h"
#include "../../daemon/delta/dl_path.h"
#include "../../daemon/delta/dl_stats.h"

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    return scratch_make(tmpdir, sizeof tmpdir, "test_delta_encode");
}

static int teardown_dir(void **state)
{
    (void)state;
    return scratch_remove(tmpdir);
}

/* --- Hive escaping ------------------------------------------------------------------- */

static void assert_hive(const char *in, size_t n, const char *want)
{
    struct ingest_buf b = INGEST_BUF_INIT;
    assert_int_equal(dl_hive_escape(in, n, &b), 0);
    if (strcmp(b.data ? b.data : "", want) != 0)
        fail_msg("hive escape of '%.*s': got '%s', want '%s'", (int)n, in, b.data, want);
    ingest_buf_free(&b);
}

#define HIVE(in, want) assert_hive((in), sizeof(in) - 1, (want))

static void test_hive_escapes_each_class_and_keeps_neighbours(void **state)
{
    (void)state;
    /* control bytes, and the bytes just outside the range */
    HIVE("\x01", "%01");
    HIVE("\x0a", "%0A");
    HIVE("\x1f", "%1F");
    HIVE(" ", " ");
    HIVE("\x7f", "%7F");
    HIVE("~", "~");
    /* the punctuation set, uppercase hex */
    HIVE("\"#%'*/:=?\\{[]^", "%22%23%25%27%2A%2F%3A%3D%3F%5C%7B%5B%5D%5E");
    /* punctuation that stays */
    HIVE("!$&()+,-.;<>@_`|}", "!$&()+,-.;<>@_`|}");
    /* UTF-8 and bytes >= 0x80 untouched */
    HIVE("\xc3\xa9t\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80", "\xc3\xa9t\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80");
    HIVE("\x80\xff", "\x80\xff");
    HIVE("", "");
    /* GOLDEN data-reader-escaped-chars: value "bar+%21" -> directory "_2=bar+%2521" */
    HIVE("bar+%21", "bar+%2521");
    /* GOLDEN data-reader-partition-values: "2021-09-08 11:11:11" */
    HIVE("2021-09-08 11:11:11", "2021-09-08 11%3A11%3A11");

    /* every byte: escaped exactly when it is in the spec's list */
    int escaped = 0;
    for (int c = 1; c < 256; c++) {
        char in = (char)c;
        struct ingest_buf b = INGEST_BUF_INIT;
        assert_int_equal(dl_hive_escape(&in, 1, &b), 0);
        int want = c <= 0x1f || c == 0x7f || strchr("\"#%'*/:=?\\{[]^", c);
        if (want) {
            char hex[4];
            snprintf(hex, sizeof hex, "%%%02X", c);
            assert_string_equal(b.data, hex);
            escaped++;
        } else {
            assert_int_equal(b.len, 1);
            assert_int_equal((unsigned char)b.data[0], c);
        }
        ingest_buf_free(&b);
    }
    assert_int_equal(escaped, 31 + 1 + 14);
}

static void test_partition_dir_null_and_empty_are_default_partition(void **state)
{
    (void)state;
    struct ingest_buf b = INGEST_BUF_INIT;
    assert_int_equal(dl_partition_dir("as_int", NULL, &b), 0);
    /* GOLDEN data-reader-partition-values */
    assert_string_equal(b.data, "as_int=__HIVE_DEFAULT_PARTITION__");
    ingest_buf_reset(&b);
    assert_int_equal(dl_partition_dir("as_string", "", &b), 0);
    assert_string_equal(b.data, "as_string=__HIVE_DEFAULT_PARTITION__");
    ingest_buf_reset(&b);
    /* the literal string "null" is a value, not a null (GOLDEN as_string_lit_null) */
    assert_int_equal(dl_partition_dir("as_string_lit_null", "null", &b), 0);
    assert_string_equal(b.data, "as_string_lit_null=null");
    ingest_buf_reset(&b);
    /* the column name is escaped too */
    assert_int_equal(dl_partition_dir("a=b/c", "x:y", &b), 0);
    assert_string_equal(b.data, "a%3Db%2Fc=x%3Ay");
    ingest_buf_reset(&b);
    /* GOLDEN data-reader-escaped-chars */
    assert_int_equal(dl_partition_dir("_2", "bar+%22", &b), 0);
    assert_string_equal(b.data, "_2=bar+%2522");
    ingest_buf_free(&b);
}

/* --- URI encoding --------------------------------------------------------------------- */

static void assert_uri(const char *in, const char *want)
{
    struct ingest_buf b = INGEST_BUF_INIT;
    assert_int_equal(dl_uri_encode(in, &b), 0);
    assert_string_equal(b.data ? b.data : "", want);
    ingest_buf_reset(&b);
    assert_int_equal(dl_uri_decode(want, &b), 0);
    assert_string_equal(b.data ? b.data : "", in);
    ingest_buf_free(&b);
}

static void test_uri_encode_matches_golden_paths(void **state)
{
    (void)state;
    /* GOLDEN log-replay-special-characters-a */
    assert_uri("special p@#h", "special%20p@%23h");
    /* GOLDEN data-reader-partition-values: directory -> add.path */
    assert_uri("as_timestamp=2021-09-08 11%3A11%3A11",
               "as_timestamp=2021-09-08%2011%253A11%253A11");
    /* GOLDEN data-reader-escaped-chars */
    assert_uri("_2=bar+%2521/part-00000-af08f887-922f-4c31-82a7-8e142c4280a6.c000.snappy.parquet",
               "_2=bar+%252521/part-00000-af08f887-922f-4c31-82a7-8e142c4280a6.c000.snappy.parquet");
    /* the kept set, and a few that are not kept */
    assert_uri("AZaz09-._~/=@:+,;$&!'()*", "AZaz09-._~/=@:+,;$&!'()*");
    assert_uri("a b\"#%<>?[]\\^`{|}", "a%20b%22%23%25%3C%3E%3F%5B%5D%5C%5E%60%7B%7C%7D");
    assert_uri("\xc3\xa9\x7f\x01", "%C3%A9%7F%01");
    assert_uri("", "");
}

static void test_partition_path_built_like_spark(void **state)
{
    (void)state;
    /* GOLDEN data-reader-partition-values: the timestamp partition directory
     * from its raw value, then the add.path segment */
    struct ingest_buf dir = INGEST_BUF_INIT, path = INGEST_BUF_INIT;
    assert_int_equal(dl_partition_dir("as_date", "2021-09-08", &dir), 0);
    assert_int_equal(ingest_buf_putc(&dir, '/'), 0);
    assert_int_equal(dl_partition_dir("as_timestamp", "2021-09-08 11:11:11", &dir), 0);
    assert_int_equal(dl_uri_encode(dir.data, &path), 0);
    assert_string_equal(path.data, "as_date=2021-09-08/as_timestamp=2021-09-08%2011%253A11%253A11");
    ingest_buf_free(&dir);
    ingest_buf_free(&path);
}

static void test_uri_round_trips_every_byte(void **state)
{
    (void)state;
    char all[256];
    for (int c = 1; c < 256; c++)
        all[c - 1] = (char)c;
    all[255] = '\0';
    struct ingest_buf enc = INGEST_BUF_INIT, dec = INGEST_BUF_INIT;
    assert_int_equal(dl_uri_encode(all, &enc), 0);
    for (size_t i = 0; i < enc.len; i++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                    "-._~/=@:+,;$&!'()*%", enc.data[i]))
            fail_msg("byte 0x%02x left in an encoded path", (unsigned char)enc.data[i]);
    /* of the 255 bytes, 62 alphanumerics and 18 punctuation marks stay */
    assert_int_equal(enc.len, 80 + (255 - 80) * 3);
    assert_int_equal(dl_uri_decode(enc.data, &dec), 0);
    assert_int_equal(dec.len, 255);
    assert_memory_equal(dec.data, all, 255);
    ingest_buf_free(&enc);
    ingest_buf_free(&dec);
}

static void test_uri_decode_rejects_bad_escapes_and_schemes(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "%", "a%", "a%2", "%zz", "%G0", "%2g", "a%00b", "s3://bucket/t/part.parquet",
        "s3a://b/x", "http:x", "abfss://c@a.dfs.core.windows.net/x", "file://otherhost/tmp/x",
        "file:relative", "file:", "file://localhostx/y",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ingest_buf b = INGEST_BUF_INIT;
        assert_int_equal(ingest_buf_puts(&b, "keep"), 0);
        int rc = dl_uri_decode(bad[i], &b);
        if (rc != INGEST_EPARSE)
            fail_msg("'%s': rc %d, want EPARSE", bad[i], rc);
        assert_string_equal(b.data, "keep");
        ingest_buf_free(&b);
    }
}

static void test_uri_decode_file_uris_and_relative_paths(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        { "file:/tmp/t/a%20b.parquet", "/tmp/t/a b.parquet" },
        { "file:///tmp/t/x.parquet", "/tmp/t/x.parquet" },
        { "FILE:/x", "/x" },
        { "file://localhost/data/p%3Dq", "/data/p=q" },
        { "a=1/b%2a%2A.parquet", "a=1/b**.parquet" },
        { "/abs/path", "/abs/path" },
        { "dir/x:y", "dir/x:y" },          /* ':' after a '/' is no scheme */
        { "%25", "%" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ingest_buf b = INGEST_BUF_INIT;
        assert_int_equal(dl_uri_decode(cases[i][0], &b), 0);
        assert_string_equal(b.data, cases[i][1]);
        ingest_buf_free(&b);
    }
}

/* --- partition values ------------------------------------------------------------------ */

/* Text of row `row` of column `col` of t; NULL for a null. */
static char *pv(const struct vb_table *t, size_t col, size_t row)
{
    struct ingest_buf b = INGEST_BUF_INIT;
    int is_null = -1;
    int rc = dl_partition_value(&t->batch.columns[col], row, &b, &is_null);
    if (rc != 0)
        fail_msg("column %zu row %zu: rc %d", col, row, rc);
    assert_true(is_null == 0 || is_null == 1);
    if (is_null) {
        assert_int_equal(b.len, 0);
        ingest_buf_free(&b);
        return NULL;
    }
    return ingest_buf_steal(&b);
}

static void assert_pv(const struct vb_table *t, size_t col, size_t row, const char *want)
{
    char *got = pv(t, col, row);
    if (!want && got)
        fail_msg("column %zu row %zu: got '%s', want null", col, row, got);
    if (want && (!got || strcmp(got, want) != 0))
        fail_msg("column %zu row %zu: got '%s', want '%s'", col, row, got ? got : "(null)",
                 want);
    free(got);
}

static int pv_rc(const struct vb_table *t, size_t col, size_t row)
{
    struct ingest_buf b = INGEST_BUF_INIT;
    int is_null = -1;
    int rc = dl_partition_value(&t->batch.columns[col], row, &b, &is_null);
    if (rc != 0)
        assert_int_equal(b.len, 0);
    ingest_buf_free(&b);
    return rc;
}

static struct ingest_field pv_fields[] = {
    F("as_boolean", INGEST_TYPE_BOOLEAN, 1), F("as_byte", INGEST_TYPE_INT8, 1),
    F("as_short", INGEST_TYPE_INT16, 1),     F("as_int", INGEST_TYPE_INT32, 1),
    F("as_long", INGEST_TYPE_INT64, 1),      F("as_float", INGEST_TYPE_FLOAT, 1),
    F("as_double", INGEST_TYPE_DOUBLE, 1),   F("as_string", INGEST_TYPE_STRING, 1),
    F("as_date", INGEST_TYPE_DATE, 1),       F("as_timestamp", INGEST_TYPE_TIMESTAMP, 1),
    FD("as_big_decimal", 1, 0, 1),
};

static void test_partition_values_of_each_type(void **state)
{
    (void)state;
    struct vb_table t;
    vb_table_init(&t, pv_fields, 11);
    /* rows 0/1: GOLDEN data-reader-partition-values (its timestamp is in
     * Spark's legacy local form; ours is the ISO UTC form Kernel writes) */
    for (int r = 0; r < 2; r++) {
        vb_i64(&t.cols[0], r == 0);
        for (int c = 1; c <= 4; c++)
            vb_i64(&t.cols[c], r);
        vb_f64(&t.cols[5], r);
        vb_f64(&t.cols[6], r);
        vb_str(&t.cols[7], r ? "1" : "0");
        vb_i64(&t.cols[8], 18878);
        vb_i64(&t.cols[9], INT64_C(1631099471000000));
        vb_i64(&t.cols[10], r);
    }
    /* row 2: all null */
    for (int c = 0; c < 11; c++)
        vb_null(&t.cols[c]);
    /* row 3: extremes */
    vb_i64(&t.cols[0], 0);
    vb_i64(&t.cols[1], INT8_MIN);
    vb_i64(&t.cols[2], INT16_MIN);
    vb_i64(&t.cols[3], INT32_MIN);
    vb_i64(&t.cols[4], INT64_MIN);
    vb_f64(&t.cols[5], -2.5);
    vb_f64(&t.cols[6], -0.0);
    vb_str(&t.cols[7], "");
    vb_i64(&t.cols[8], -1);
    vb_i64(&t.cols[9], -1);
    vb_i64(&t.cols[10], -9);
    /* row 4: the other extremes */
    vb_i64(&t.cols[0], 1);
    vb_i64(&t.cols[1], INT8_MAX);
    vb_i64(&t.cols[2], INT16_MAX);
    vb_i64(&t.cols[3], INT32_MAX);
    vb_i64(&t.cols[4], INT64_MAX);
    vb_f64(&t.cols[5], 1e10);
    vb_f64(&t.cols[6], 123.456);
    vb_str(&t.cols[7], "a/b c\xc3\xa9=%");
    vb_i64(&t.cols[8], 11016);
    vb_i64(&t.cols[9], 951782400123456);
    vb_i64(&t.cols[10], 9);
    vb_table_finish(&t);

    static const char *const want[5][11] = {
        { "true", "0", "0", "0", "0", "0.0", "0.0", "0", "2021-09-08", "2021-09-08T11:11:11.000000Z", "0" },
        { "false", "1", "1", "1", "1", "1.0", "1.0", "1", "2021-09-08", "2021-09-08T11:11:11.000000Z", "1" },
        { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
        { "false", "-128", "-32768", "-2147483648", "-9223372036854775808", "-2.5", "-0.0", "",
          "1969-12-31", "1969-12-31T23:59:59.999999Z", "-9" },
        { "true", "127", "32767", "2147483647", "9223372036854775807", "10000000000.0", "123.456",
          "a/b c\xc3\xa9=%", "2000-02-29", "2000-02-29T00:00:00.123456Z", "9" },
    };
    for (size_t r = 0; r < 5; r++)
        for (size_t c = 0; c < 11; c++)
            assert_pv(&t, c, r, want[r][c]);
    assert_int_equal(pv_rc(&t, 0, 5), INGEST_EINVAL);      /* past the end */
    vb_table_free(&t);
}

static void test_partition_timestamps_floor_before_the_epoch(void **state)
{
    (void)state;
    static const struct { int64_t us; const char *want; } cases[] = {
        { 0, "1970-01-01T00:00:00.000000Z" },
        { -1, "1969-12-31T23:59:59.999999Z" },
        { -1000000, "1969-12-31T23:59:59.000000Z" },
        { -1000001, "1969-12-31T23:59:58.999999Z" },
        { -INT64_C(86400000000), "1969-12-31T00:00:00.000000Z" },
        { -INT64_C(86400000001), "1969-12-30T23:59:59.999999Z" },
        { INT64_C(1631099471000000), "2021-09-08T11:11:11.000000Z" },
        { -INT64_C(62135596800000000), "0001-01-01T00:00:00.000000Z" },
        { INT64_C(253402300799999999), "9999-12-31T23:59:59.999999Z" },
        { -INT64_C(2208988800000000), "1900-01-01T00:00:00.000000Z" },
    };
    static struct ingest_field f[] = { F("ts", INGEST_TYPE_TIMESTAMP, 1) };
    struct vb_table t;
    vb_table_init(&t, f, 1);
    size_t n = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < n; i++)
        vb_i64(&t.cols[0], cases[i].us);
    vb_i64(&t.cols[0], -INT64_C(62135596800000001));
    vb_i64(&t.cols[0], INT64_C(253402300800000000));
    vb_i64(&t.cols[0], INT64_MIN);
    vb_i64(&t.cols[0], INT64_MAX);
    vb_table_finish(&t);
    for (size_t i = 0; i < n; i++)
        assert_pv(&t, 0, i, cases[i].want);
    for (size_t i = n; i < n + 4; i++)
        assert_int_equal(pv_rc(&t, 0, i), INGEST_ERANGE);
    vb_table_free(&t);
}

static void test_partition_dates_cover_years_1_to_9999(void **state)
{
    (void)state;
    static const struct { int32_t days; const char *want; } cases[] = {
        { 0, "1970-01-01" },       { -1, "1969-12-31" },      { -719162, "0001-01-01" },
        { 2932896, "9999-12-31" }, { 11016, "2000-02-29" },   { 11017, "2000-03-01" },
        { -25508, "1900-03-01" },  { -25509, "1900-02-28" },  { 10957, "2000-01-01" },
        { 18878, "2021-09-08" },
    };
    static struct ingest_field f[] = { F("d", INGEST_TYPE_DATE, 1) };
    struct vb_table t;
    vb_table_init(&t, f, 1);
    size_t n = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < n; i++)
        vb_i64(&t.cols[0], cases[i].days);
    vb_i64(&t.cols[0], -719163);
    vb_i64(&t.cols[0], 2932897);
    vb_i64(&t.cols[0], INT32_MIN);
    vb_i64(&t.cols[0], INT32_MAX);
    vb_table_finish(&t);
    for (size_t i = 0; i < n; i++)
        assert_pv(&t, 0, i, cases[i].want);
    for (size_t i = n; i < n + 4; i++)
        assert_int_equal(pv_rc(&t, 0, i), INGEST_ERANGE);
    vb_table_free(&t);
}

static __int128 pow10_128(int n)
{
    __int128 p = 1;
    while (n-- > 0)
        p *= 10;
    return p;
}

static void test_partition_decimals_insert_the_scale(void **state)
{
    (void)state;
    static struct ingest_field f[] = {
        FD("d52", 5, 2, 1), FD("d184", 18, 4, 1), FD("d380", 38, 0, 1),
        FD("d3810", 38, 10, 1), FD("d3838", 38, 38, 1),
    };
    struct vb_table t;
    vb_table_init(&t, f, 5);
    __int128 max38 = pow10_128(38) - 1;
    static const int64_t d52[] = { -5, 12340, 0, 99999, -100 };
    static const int64_t d184[] = { -999999999999999999LL, 999999999999999999LL, 1, -10000, 0 };
    const __int128 d38[] = { max38, -max38, 0, -1, 10 };
    for (int r = 0; r < 5; r++) {
        vb_i64(&t.cols[0], d52[r]);
        vb_i64(&t.cols[1], d184[r]);
        vb_dec128(&t.cols[2], d38[r]);
        vb_dec128(&t.cols[3], d38[r]);
        vb_dec128(&t.cols[4], d38[r]);
    }
    vb_table_finish(&t);
    static const char *const want[5][5] = {
        { "-0.05", "-99999999999999.9999", "99999999999999999999999999999999999999",
          "9999999999999999999999999999.9999999999", "0.99999999999999999999999999999999999999" },
        { "123.40", "99999999999999.9999", "-99999999999999999999999999999999999999",
          "-9999999999999999999999999999.9999999999", "-0.99999999999999999999999999999999999999" },
        { "0.00", "0.0001", "0", "0.0000000000", "0.00000000000000000000000000000000000000" },
        { "999.99", "-1.0000", "-1", "-0.0000000001", "-0.00000000000000000000000000000000000001" },
        { "-1.00", "0.0000", "10", "0.0000000010", "0.00000000000000000000000000000000000010" },
    };
    for (size_t r = 0; r < 5; r++)
        for (size_t c = 0; c < 5; c++)
            assert_pv(&t, c, r, want[r][c]);
    vb_table_free(&t);
}

static void test_partition_floats_are_shortest_round_trip(void **state)
{
    (void)state;
    static struct ingest_field f[] = { F("f", INGEST_TYPE_FLOAT, 1), F("d", INGEST_TYPE_DOUBLE, 1) };
    static const struct { float f; double d; const char *want_f, *want_d; } cases[] = {
        { 0.1f, 0.1, "0.1", "0.1" },
        { 1.0f / 3, 1.0 / 3, "0.33333334", "0.3333333333333333" },
        { 100, 100, "100.0", "100.0" },
        { 16777216, 16777217, "16777216.0", "16777217.0" },
        { 1e20f, 1e20, "100000000000000000000.0", "100000000000000000000.0" },
        { 1e21f, 1e21, "1e+21", "1e+21" },
        { 1e-6f, 1e-6, "0.000001", "0.000001" },
        { 1.5e-7f, 1.5e-7, "1.5e-07", "1.5e-07" },
        { -0.0f, -0.0, "-0.0", "-0.0" },
        { 1e-45f, 5e-324, "1e-45", "5e-324" },
        { FLT_MAX, DBL_MAX, "3.4028235e+38", "1.7976931348623157e+308" },
        { -INFINITY, -INFINITY, "-Infinity", "-Infinity" },
        { INFINITY, INFINITY, "Infinity", "Infinity" },
        { NAN, NAN, "NaN", "NaN" },
    };
    size_t n = sizeof cases / sizeof cases[0];
    struct vb_table t;
    vb_table_init(&t, f, 2);
    for (size_t i = 0; i < n; i++) {
        vb_f64(&t.cols[0], cases[i].f);
        vb_f64(&t.cols[1], cases[i].d);
    }
    /* pseudo-random bit patterns: every finite one must read back exactly */
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        vb_f32_bits(&t.cols[0], (uint32_t)(x >> 32));
        vb_f64_bits(&t.cols[1], x);
    }
    vb_table_finish(&t);
    for (size_t i = 0; i < n; i++) {
        assert_pv(&t, 0, i, cases[i].want_f);
        assert_pv(&t, 1, i, cases[i].want_d);
    }
    const float *fv = t.batch.columns[0].values;
    const double *dv = t.batch.columns[1].values;
    for (size_t i = n; i < t.batch.nrows; i++) {
        char *s = pv(&t, 0, i);
        if (isfinite(fv[i]) && strtof(s, NULL) != fv[i])
            fail_msg("float %a printed as %s", fv[i], s);
        free(s);
        s = pv(&t, 1, i);
        if (isfinite(dv[i]) && strtod(s, NULL) != dv[i])
            fail_msg("double %a printed as %s", dv[i], s);
        free(s);
    }
    vb_table_free(&t);
}

static void test_partition_refuses_binary_and_nested(void **state)
{
    (void)state;
    static struct ingest_field elem[] = { F("element", INGEST_TYPE_INT32, 1) };
    static struct ingest_field f[] = {
        F("bin", INGEST_TYPE_BINARY, 1),
        FG("l", INGEST_TYPE_LIST, 1, elem),
        FG("s", INGEST_TYPE_STRUCT, 1, elem),
    };
    struct vb_table t;
    vb_table_init(&t, f, 3);
    vb_str(&t.cols[0], "x");
    vb_i64(&t.cols[1].kids[0], 1);
    vb_close(&t.cols[1]);
    vb_i64(&t.cols[2].kids[0], 1);
    vb_close(&t.cols[2]);
    vb_null(&t.cols[0]);
    vb_null(&t.cols[1]);
    vb_null(&t.cols[2]);
    vb_table_finish(&t);
    for (size_t c = 0; c < 3; c++)
        for (size_t r = 0; r < 2; r++)
            assert_int_equal(pv_rc(&t, c, r), INGEST_ENOTSUP);
    vb_table_free(&t);
}

/* --- stats ------------------------------------------------------------------------------ */

/* Writes t to a file and returns the stats JSON built from the writer's
 * statistics (caller frees), after checking that it parses. */
static char *stats_of(const struct vb_table *t, size_t stats_max_bytes, int num_indexed)
{
    static int seq;
    char path[512];
    snprintf(path, sizeof path, "%s/s%d.parquet", tmpdir, seq++);
    struct ingest_parquet_opts o;
    memset(&o, 0, sizeof o);
    o.stats_max_bytes = stats_max_bytes;
    char err[256] = "";
    struct ingest_parquet_writer *w = ingest_parquet_writer_open(path, &t->schema, &o, err,
                                                                 sizeof err);
    if (!w)
        fail_msg("writer open: %s", err);
    if (t->batch.nrows)
        assert_int_equal(ingest_parquet_writer_write(w, &t->batch), 0);
    struct ingest_parquet_file_info info;
    assert_int_equal(ingest_parquet_writer_close(w, &info), 0);
    unlink(path);

    struct ingest_buf b = INGEST_BUF_INIT;
    assert_int_equal(dl_stats_json(&t->schema, &info, num_indexed, &b), 0);
    ingest_parquet_file_info_free(&info);

    struct ingest_json_doc doc;
    memset(&doc, 0, sizeof doc);
    if (ingest_json_parse(b.data, b.len, &doc, err, sizeof err) != 0)
        fail_msg("stats are not JSON (%s): %s", err, b.data);
    ingest_json_doc_free(&doc);
    cJSON *cj = cJSON_ParseWithLength(b.data, b.len);
    if (!cj)
        fail_msg("cJSON cannot parse: %s", b.data);
    cJSON_Delete(cj);
    int64_t n = -1;
    assert_int_equal(dl_stats_num_records(b.data, b.len, &n), 0);
    assert_int_equal(n, (int64_t)t->batch.nrows);
    return ingest_buf_steal(&b);
}

static void assert_stats(const struct vb_table *t, size_t stats_max_bytes, int num_indexed,
                         const char *want)
{
    char *got = stats_of(t, stats_max_bytes, num_indexed);
    if (strcmp(got, want) != 0)
        fail_msg("stats (num_indexed %d)\n got  %s\n want %s", num_indexed, got, want);
    free(got);
}

static struct ingest_field all_fields[] = {
    F("b", INGEST_TYPE_BOOLEAN, 1),     F("i8", INGEST_TYPE_INT8, 1),
    F("i16", INGEST_TYPE_INT16, 1),     F("i32", INGEST_TYPE_INT32, 1),
    F("i64", INGEST_TYPE_INT64, 1),     F("f32", INGEST_TYPE_FLOAT, 1),
    F("f64", INGEST_TYPE_DOUBLE, 1),    F("s", INGEST_TYPE_STRING, 1),
    F("bin", INGEST_TYPE_BINARY, 1),    F("d", INGEST_TYPE_DATE, 1),
    F("ts", INGEST_TYPE_TIMESTAMP, 1),  FD("dec9", 9, 2, 1),
    FD("dec18", 18, 4, 1),              FD("dec38", 38, 10, 1),
};

static void test_stats_for_every_eligible_type(void **state)
{
    (void)state;
    struct vb_table t;
    vb_table_init(&t, all_fields, 14);
    struct vb *c = t.cols;
    __int128 max38 = pow10_128(38) - 1;
    /* row 0 */
    vb_i64(&c[0], 1);
    vb_i64(&c[1], INT8_MIN);
    vb_i64(&c[2], INT16_MIN);
    vb_i64(&c[3], INT32_MIN);
    vb_i64(&c[4], INT64_MIN);
    vb_f64(&c[5], -1.5);
    vb_f64(&c[6], 0.1);
    vb_str(&c[7], "b\xc3\xa9ta");
    vb_bytes(&c[8], "\x00\xff", 2);
    vb_i64(&c[9], 18878);
    vb_i64(&c[10], INT64_C(1631099471000000));
    vb_i64(&c[11], -5);
    vb_i64(&c[12], -999999999999999999LL);
    vb_dec128(&c[13], -max38);
    /* row 1: nulls */
    for (int k = 0; k < 14; k++)
        vb_null(&c[k]);
    /* row 2 */
    vb_i64(&c[0], 0);
    vb_i64(&c[1], INT8_MAX);
    vb_i64(&c[2], INT16_MAX);
    vb_i64(&c[3], INT32_MAX);
    vb_i64(&c[4], INT64_MAX);
    vb_f64(&c[5], 3.25);
    vb_f64(&c[6], 1e300);
    vb_str(&c[7], "alpha");
    vb_str(&c[8], "x");
    vb_i64(&c[9], -719162);
    vb_i64(&c[10], -1);
    vb_i64(&c[11], 12340);
    vb_i64(&c[12], 5);
    vb_dec128(&c[13], max38);
    vb_table_finish(&t);
    assert_stats(&t, 0, -1,
                 "{\"numRecords\":3,"
                 "\"minValues\":{\"i8\":-128,\"i16\":-32768,\"i32\":-2147483648,"
                 "\"i64\":-9223372036854775808,\"f32\":-1.5,\"f64\":0.1,\"s\":\"alpha\","
                 "\"d\":\"0001-01-01\",\"ts\":\"1969-12-31T23:59:59.999Z\",\"dec9\":-0.05,"
                 "\"dec18\":-99999999999999.9999,"
                 "\"dec38\":-9999999999999999999999999999.9999999999},"
                 "\"maxValues\":{\"i8\":127,\"i16\":32767,\"i32\":2147483647,"
                 "\"i64\":9223372036854775807,\"f32\":3.25,\"f64\":1e+300,"
                 "\"s\":\"b\xc3\xa9ta\",\"d\":\"2021-09-08\","
                 "\"ts\":\"2021-09-08T11:11:11.000Z\",\"dec9\":123.40,\"dec18\":0.0005,"
                 "\"dec38\":9999999999999999999999999999.9999999999},"
                 "\"nullCount\":{\"b\":1,\"i8\":1,\"i16\":1,\"i32\":1,\"i64\":1,\"f32\":1,"
                 "\"f64\":1,\"s\":1,\"bin\":1,\"d\":1,\"ts\":1,\"dec9\":1,\"dec18\":1,"
                 "\"dec38\":1}}");
    vb_table_free(&t);
}

static void test_stats_like_golden_all_types(void **state)
{
    (void)state;
    /* GOLDEN data-skipping-basic-stats-all-types, one row of zeros:
     * {"numRecords":1,"minValues":{"as_int":0,"as_long":0,"as_byte":0,"as_short":0,
     *  "as_float":0.0,"as_double":0.0,"as_string":"0","as_date":"2000-01-01",
     *  "as_timestamp":"2000-01-01T00:00:00.000-08:00","as_big_decimal":0},...}
     * Two deliberate differences: timestamps are written in UTC with Z (the
     * same instant), and a zero float minimum is -0.0 (the Parquet writer
     * widens a zero min to -0.0 so it bounds both zeros). */
    static struct ingest_field f[] = {
        F("as_int", INGEST_TYPE_INT32, 1),     F("as_long", INGEST_TYPE_INT64, 1),
        F("as_byte", INGEST_TYPE_INT8, 1),     F("as_short", INGEST_TYPE_INT16, 1),
        F("as_float", INGEST_TYPE_FLOAT, 1),   F("as_double", INGEST_TYPE_DOUBLE, 1),
        F("as_string", INGEST_TYPE_STRING, 1), F("as_date", INGEST_TYPE_DATE, 1),
        F("as_timestamp", INGEST_TYPE_TIMESTAMP, 1), FD("as_big_decimal", 1, 0, 1),
    };
    struct vb_table t;
    vb_table_init(&t, f, 10);
    for (int k = 0; k < 4; k++)
        vb_i64(&t.cols[k], 0);
    vb_f64(&t.cols[4], 0);
    vb_f64(&t.cols[5], 0);
    vb_str(&t.cols[6], "0");
    vb_i64(&t.cols[7], 10957);
    vb_i64(&t.cols[8], INT64_C(946713600000000));   /* 2000-01-01T00:00:00-08:00 */
    vb_i64(&t.cols[9], 0);
    vb_table_finish(&t);
    assert_stats(&t, 0, -1,
                 "{\"numRecords\":1,\"minValues\":{\"as_int\":0,\"as_long\":0,\"as_byte\":0,"
                 "\"as_short\":0,\"as_float\":-0.0,\"as_double\":-0.0,\"as_string\":\"0\","
                 "\"as_date\":\"2000-01-01\",\"as_timestamp\":\"2000-01-01T08:00:00.000Z\","
                 "\"as_big_decimal\":0},\"maxValues\":{\"as_int\":0,\"as_long\":0,"
                 "\"as_byte\":0,\"as_short\":0,\"as_float\":0.0,\"as_double\":0.0,"
                 "\"as_string\":\"0\",\"as_date\":\"2000-01-01\","
                 "\"as_timestamp\":\"2000-01-01T08:00:00.000Z\",\"as_big_decimal\":0},"
                 "\"nullCount\":{\"as_int\":0,\"as_long\":0,\"as_byte\":0,\"as_short\":0,"
                 "\"as_float\":0,\"as_double\":0,\"as_string\":0,\"as_date\":0,"
                 "\"as_timestamp\":0,\"as_big_decimal\":0}}");
    vb_table_free(&t);
}

static void test_stats_all_null_column_has_only_null_count(void **state)
{
    (void)state;
    static struct ingest_field f[] = { F("a", INGEST_TYPE_INT32, 1), F("s", INGEST_TYPE_STRING, 1),
                                       F("k", INGEST_TYPE_INT64, 0) };
    struct vb_table t;
    vb_table_init(&t, f, 3);
    for (int r = 0; r < 2; r++) {
        vb_null(&t.cols[0]);
        vb_null(&t.cols[1]);
        vb_i64(&t.cols[2], 7 - r);
    }
    vb_table_finish(&t);
    assert_stats(&t, 0, -1,
                 "{\"numRecords\":2,\"minValues\":{\"k\":6},\"maxValues\":{\"k\":7},"
                 "\"nullCount\":{\"a\":2,\"s\":2,\"k\":0}}");
    vb_table_free(&t);
}

static void test_stats_zero_rows(void **state)
{
    (void)state;
    static struct ingest_field f[] = { F("a", INGEST_TYPE_INT32, 1) };
    struct vb_table t;
    vb_table_init(&t, f, 1);
    vb_table_finish(&t);
    assert_stats(&t, 0, -1,
                 "{\"numRecords\":0,\"minValues\":{},\"maxValues\":{},\"nullCount\":{\"a\":0}}");
    vb_table_free(&t);
}

static void test_stats_floats_with_nan_or_infinity_have_no_bounds(void **state)
{
    (void)state;
    static struct ingest_field f[] = {
        F("nan", INGEST_TYPE_DOUBLE, 1),  F("allnan", INGEST_TYPE_FLOAT, 1),
        F("inf", INGEST_TYPE_FLOAT, 1),   F("ninf", INGEST_TYPE_DOUBLE, 1),
        F("zero", INGEST_TYPE_DOUBLE, 1), F("fine", INGEST_TYPE_FLOAT, 1),
    };
    struct vb_table t;
    vb_table_init(&t, f, 6);
    struct vb *c = t.cols;
    vb_f64(&c[0], 1.0);  vb_f64(&c[1], NAN); vb_f64(&c[2], INFINITY);
    vb_f64(&c[3], -INFINITY); vb_f64(&c[4], 0.0); vb_f64(&c[5], 0.1);
    vb_f64(&c[0], NAN);  vb_f64(&c[1], NAN); vb_f64(&c[2], 1.0);
    vb_f64(&c[3], 2.0);  vb_f64(&c[4], 2.5); vb_f64(&c[5], 16777216.0);
    for (int k = 0; k < 6; k++)
        vb_null(&c[k]);
    vb_table_finish(&t);
    assert_stats(&t, 0, -1,
                 "{\"numRecords\":3,\"minValues\":{\"zero\":-0.0,\"fine\":0.1},"
                 "\"maxValues\":{\"zero\":2.5,\"fine\":16777216.0},"
                 "\"nullCount\":{\"nan\":1,\"allnan\":1,\"inf\":1,\"ninf\":1,\"zero\":1,"
                 "\"fine\":1}}");
    vb_table_free(&t);
}

static void test_stats_structs_nest_and_drop_empty_objects(void **state)
{
    (void)state;
    static struct ingest_field tf[] = { F("c", INGEST_TYPE_STRING, 1), F("raw", INGEST_TYPE_BINARY, 1) };
    static struct ingest_field sf[] = { F("a", INGEST_TYPE_INT64, 1), F("flag", INGEST_TYPE_BOOLEAN, 1),
                                        FG("t", INGEST_TYPE_STRUCT, 1, tf) };
    static struct ingest_field of[] = { F("flag2", INGEST_TYPE_BOOLEAN, 0) };
    static struct ingest_field f[] = { F("id", INGEST_TYPE_INT32, 0), FG("s", INGEST_TYPE_STRUCT, 1, sf),
                                       FG("o", INGEST_TYPE_STRUCT, 0, of), F("e", INGEST_TYPE_INT32, 1) };
    struct vb_table t;
    vb_table_init(&t, f, 4);
    struct vb *id = &t.cols[0], *s = &t.cols[1], *o = &t.cols[2], *e = &t.cols[3];
    /* row 0: everything set */
    vb_i64(id, 1);
    vb_i64(&s->kids[0], 10);
    vb_i64(&s->kids[1], 1);
    vb_str(&s->kids[2].kids[0], "x");
    vb_str(&s->kids[2].kids[1], "r");
    vb_close(&s->kids[2]);
    vb_close(s);
    vb_i64(&o->kids[0], 0);
    vb_close(o);
    vb_i64(e, 5);
    /* row 1: s null */
    vb_i64(id, 2);
    vb_null(s);
    vb_i64(&o->kids[0], 1);
    vb_close(o);
    vb_null(e);
    /* row 2: s set, s.t null */
    vb_i64(id, 3);
    vb_i64(&s->kids[0], -4);
    vb_null(&s->kids[1]);
    vb_null(&s->kids[2]);
    vb_close(s);
    vb_i64(&o->kids[0], 1);
    vb_close(o);
    vb_i64(e, 9);
    vb_table_finish(&t);
    assert_stats(&t, 0, -1,
                 "{\"numRecords\":3,"
                 "\"minValues\":{\"id\":1,\"s\":{\"a\":-4,\"t\":{\"c\":\"x\"}},\"e\":5},"
                 "\"maxValues\":{\"id\":3,\"s\":{\"a\":10,\"t\":{\"c\":\"x\"}},\"e\":9},"
                 "\"nullCount\":{\"id\":0,\"s\":{\"a\":1,\"flag\":2,\"t\":{\"c\":2,\"raw\":2}},"
                 "\"o\":{\"flag2\":0},\"e\":1}}");
    vb_table_free(&t);
}

static void test_stats_num_indexed_cuts_inside_a_struct(void **state)
{
    (void)state;
    static struct ingest_field sf[] = { F("b", INGEST_TYPE_INT32, 1), F("c", INGEST_TYPE_INT32, 1) };
    static struct ingest_field f[] = { F("a", INGEST_TYPE_INT32, 1), FG("s", INGEST_TYPE_STRUCT, 1, sf),
                                       F("d", INGEST_TYPE_INT32, 1) };
    struct vb_table t;
    vb_table_init(&t, f, 3);
    vb_i64(&t.cols[0], 1);
    vb_i64(&t.cols[1].kids[0], 2);
    vb_i64(&t.cols[1].kids[1], 3);
    vb_close(&t.cols[1]);
    vb_i64(&t.cols[2], 4);
    vb_table_finish(&t);
    assert_stats(&t, 0, 2,
                 "{\"numRecords\":1,\"minValues\":{\"a\":1,\"s\":{\"b\":2}},"
                 "\"maxValues\":{\"a\":1,\"s\":{\"b\":2}},\"nullCount\":{\"a\":0,\"s\":{\"b\":0}}}");
    assert_stats(&t, 0, 1,
                 "{\"numRecords\":1,\"minValues\":{\"a\":1},\"maxValues\":{\"a\":1},"
                 "\"nullCount\":{\"a\":0}}");
    assert_stats(&t, 0, 0,
                 "{\"numRecords\":1,\"minValues\":{},\"maxValues\":{},\"nullCount\":{}}");
    const char *all = "{\"numRecords\":1,\"minValues\":{\"a\":1,\"s\":{\"b\":2,\"c\":3},\"d\":4},"
                      "\"maxValues\":{\"a\":1,\"s\":{\"b\":2,\"c\":3},\"d\":4},"
                      "\"nullCount\":{\"a\":0,\"s\":{\"b\":0,\"c\":0},\"d\":0}}";
    assert_stats(&t, 0, -1, all);
    assert_stats(&t, 0, 4, all);
    assert_stats(&t, 0, 32, all);
    vb_table_free(&t);
}

static void test_stats_list_and_map_count_as_one_column(void **state)
{
    (void)state;
    static struct ingest_field le[] = { F("element", INGEST_TYPE_INT32, 1) };
    static struct ingest_field kv[] = { F("key", INGEST_TYPE_STRING, 0), F("value", INGEST_TYPE_INT32, 1) };
    static struct ingest_field sel[] = { F("v", INGEST_TYPE_INT32, 1), F("w", INGEST_TYPE_STRING, 1) };
    static struct ingest_field lse[] = { FG("element", INGEST_TYPE_STRUCT, 1, sel) };
    static struct ingest_field f[] = {
        F("id", INGEST_TYPE_INT32, 0), FG("l", INGEST_TYPE_LIST, 1, le),
        FG("m", INGEST_TYPE_MAP, 1, kv), FG("ls", INGEST_TYPE_LIST, 1, lse),
        F("x", INGEST_TYPE_INT32, 1),
    };
    struct vb_table t;
    vb_table_init(&t, f, 5);
    struct vb *c = t.cols;
    vb_i64(&c[0], 1);
    vb_i64(&c[1].kids[0], 7);
    vb_close(&c[1]);
    vb_str(&c[2].kids[0], "k");
    vb_i64(&c[2].kids[1], 8);
    vb_close(&c[2]);
    vb_i64(&c[3].kids[0].kids[0], 9);
    vb_str(&c[3].kids[0].kids[1], "w");
    vb_close(&c[3].kids[0]);
    vb_close(&c[3]);
    vb_i64(&c[4], 5);
    vb_table_finish(&t);
    /* id, l, m, ls are four indexed columns although they hold six leaves */
    assert_stats(&t, 0, 4,
                 "{\"numRecords\":1,\"minValues\":{\"id\":1},\"maxValues\":{\"id\":1},"
                 "\"nullCount\":{\"id\":0}}");
    const char *all = "{\"numRecords\":1,\"minValues\":{\"id\":1,\"x\":5},"
                      "\"maxValues\":{\"id\":1,\"x\":5},\"nullCount\":{\"id\":0,\"x\":0}}";
    assert_stats(&t, 0, 5, all);
    assert_stats(&t, 0, -1, all);
    vb_table_free(&t);
}

#define A10 "abcdefghij"
#define E10 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
#define MAXCH "\xf4\x8f\xbf\xbf"

static void test_stats_strings_keep_32_characters(void **state)
{
    (void)state;
    static struct ingest_field f[] = {
        F("ascii", INGEST_TYPE_STRING, 1), F("multi", INGEST_TYPE_STRING, 1),
        F("exact", INGEST_TYPE_STRING, 1), F("tie", INGEST_TYPE_STRING, 1),
    };
    struct vb_table t;
    vb_table_init(&t, f, 4);
    /* 40 characters; the multi-byte column is 80 bytes (the writer keeps it
     * whole with stats_max_bytes 200) */
    vb_str(&t.cols[0], A10 A10 A10 A10);
    vb_str(&t.cols[1], E10 E10 E10 E10);
    vb_str(&t.cols[2], A10 A10 A10 "ab");
    /* the 33rd character is U+10FFFF itself: it joins the prefix */
    vb_str(&t.cols[3], A10 A10 A10 "ab" MAXCH "z");
    vb_str(&t.cols[0], "b");
    vb_str(&t.cols[1], "\xc3\xa9");
    vb_str(&t.cols[2], "a");
    vb_str(&t.cols[3], "a");
    vb_table_finish(&t);
    assert_stats(&t, 200, -1,
                 "{\"numRecords\":2,\"minValues\":{"
                 "\"ascii\":\"" A10 A10 A10 "ab\","
                 "\"multi\":\"\xc3\xa9\","
                 "\"exact\":\"a\","
                 "\"tie\":\"a\"},"
                 "\"maxValues\":{"
                 "\"ascii\":\"b\","
                 "\"multi\":\"" E10 E10 E10 "\xc3\xa9\xc3\xa9" MAXCH "\","
                 "\"exact\":\"" A10 A10 A10 "ab\","
                 "\"tie\":\"" A10 A10 A10 "ab" MAXCH MAXCH "\"},"
                 "\"nullCount\":{\"ascii\":0,\"multi\":0,\"exact\":0,\"tie\":0}}");
    vb_table_free(&t);

    /* a 40-character minimum is cut to its 32-character prefix, a 40-character
     * maximum gets U+10FFFF after its prefix */
    vb_table_init(&t, f, 1);
    vb_str(&t.cols[0], "0123456789" A10 "0123456789" A10);
    vb_str(&t.cols[0], "1123456789" A10 "0123456789" A10);
    vb_table_finish(&t);
    assert_stats(&t, 0, -1,
                 "{\"numRecords\":2,\"minValues\":{\"ascii\":\"0123456789" A10 "0123456789ab\"},"
                 "\"maxValues\":{\"ascii\":\"1123456789" A10 "0123456789ab" MAXCH "\"},"
                 "\"nullCount\":{\"ascii\":0}}");
    vb_table_free(&t);
}

static void test_stats_strings_cut_by_the_writer(void **state)
{
    (void)state;
    static struct ingest_field f[] = { F("s", INGEST_TYPE_STRING, 1) };
    struct vb_table t;
    /* stats_max_bytes 8: the writer keeps "aaaaaaaa" and raises its cut max
     * to "zzzzzzz{"; both are at most 32 characters, so they go as they are */
    vb_table_init(&t, f, 1);
    vb_str(&t.cols[0], "aaaaaaaaaaaa");
    vb_str(&t.cols[0], "zzzzzzzzzzzzzz");
    vb_table_finish(&t);
    assert_stats(&t, 8, -1,
                 "{\"numRecords\":2,\"minValues\":{\"s\":\"aaaaaaaa\"},"
                 "\"maxValues\":{\"s\":\"zzzzzzz{\"},\"nullCount\":{\"s\":0}}");
    vb_table_free(&t);

    /* stats_max_bytes 40 with 50-character values: the writer's 40-byte
     * bounds are cut again to 32 characters (+ U+10FFFF for the max) */
    vb_table_init(&t, f, 1);
    vb_str(&t.cols[0], "0123456789" "0123456789" "0123456789" "0123456789" "0123456789");
    vb_str(&t.cols[0], "1123456789" "0123456789" "0123456789" "0123456789" "0123456789");
    vb_table_finish(&t);
    assert_stats(&t, 40, -1,
                 "{\"numRecords\":2,"
                 "\"minValues\":{\"s\":\"0123456789" "0123456789" "0123456789" "01\"},"
                 "\"maxValues\":{\"s\":\"1123456789" "0123456789" "0123456789" "01" MAXCH "\"},"
                 "\"nullCount\":{\"s\":0}}");
    vb_table_free(&t);
}

static void test_stats_escape_strings_and_names(void **state)
{
    (void)state;
    static struct ingest_field f[] = { F("we\"ird\\name", INGEST_TYPE_STRING, 1) };
    struct vb_table t;
    vb_table_init(&t, f, 1);
    vb_bytes(&t.cols[0], "a\0b", 3);
    vb_str(&t.cols[0], "q\"b\\s\n\x01\x1f\t\r\x7f");
    vb_table_finish(&t);
    assert_stats(&t, 0, -1,
                 "{\"numRecords\":2,\"minValues\":{\"we\\\"ird\\\\name\":\"a\\u0000b\"},"
                 "\"maxValues\":{\"we\\\"ird\\\\name\":\"q\\\"b\\\\s\\n\\u0001\\u001f\\t\\r\x7f\"},"
                 "\"nullCount\":{\"we\\\"ird\\\\name\":0}}");
    vb_table_free(&t);
}

static void test_stats_timestamps_truncate_down_to_ms(void **state)
{
    (void)state;
    static struct ingest_field f[] = { F("ts", INGEST_TYPE_TIMESTAMP, 1) };
    struct vb_table t;
    vb_table_init(&t, f, 1);
    vb_i64(&t.cols[0], -1500);
    vb_i64(&t.cols[0], 1999);
    vb_table_finish(&t);
    assert_stats(&t, 0, -1,
                 "{\"numRecords\":2,\"minValues\":{\"ts\":\"1969-12-31T23:59:59.998Z\"},"
                 "\"maxValues\":{\"ts\":\"1970-01-01T00:00:00.001Z\"},\"nullCount\":{\"ts\":0}}");
    vb_table_free(&t);
}

static void test_stats_unwritable_bounds_leave_null_count(void **state)
{
    (void)state;
    static struct ingest_field f[] = { F("bad", INGEST_TYPE_STRING, 1), F("far", INGEST_TYPE_DATE, 1),
                                       F("farts", INGEST_TYPE_TIMESTAMP, 1), F("ok", INGEST_TYPE_INT8, 1) };
    struct vb_table t;
    vb_table_init(&t, f, 4);
    vb_str(&t.cols[0], "\xff\xfe");             /* not UTF-8 */
    vb_i64(&t.cols[1], 2932897);                /* 10000-01-01 */
    vb_i64(&t.cols[2], INT64_MIN);
    vb_i64(&t.cols[3], 3);
    vb_str(&t.cols[0], "ok");
    vb_i64(&t.cols[1], 0);
    vb_i64(&t.cols[2], 0);
    vb_i64(&t.cols[3], 4);
    vb_table_finish(&t);
    assert_stats(&t, 0, -1,
                 "{\"numRecords\":2,\"minValues\":{\"ok\":3},\"maxValues\":{\"ok\":4},"
                 "\"nullCount\":{\"bad\":0,\"far\":0,\"farts\":0,\"ok\":0}}");
    vb_table_free(&t);
}

static void test_stats_refuse_info_of_another_schema(void **state)
{
    (void)state;
    static struct ingest_field f1[] = { F("a", INGEST_TYPE_INT32, 1) };
    static struct ingest_field f2[] = { F("a", INGEST_TYPE_INT32, 1), F("b", INGEST_TYPE_INT32, 1) };
    static struct ingest_field f3[] = { F("a", INGEST_TYPE_STRING, 1) };
    struct vb_table t;
    vb_table_init(&t, f1, 1);
    vb_i64(&t.cols[0], 1);
    vb_table_finish(&t);
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/mismatch.parquet", tmpdir);
    struct ingest_parquet_opts o;
    memset(&o, 0, sizeof o);
    struct ingest_parquet_writer *w = ingest_parquet_writer_open(path, &t.schema, &o, err,
                                                                 sizeof err);
    assert_non_null(w);
    assert_int_equal(ingest_parquet_writer_write(w, &t.batch), 0);
    struct ingest_parquet_file_info info;
    assert_int_equal(ingest_parquet_writer_close(w, &info), 0);
    unlink(path);
    struct ingest_schema s2 = { f2, 2 }, s3 = { f3, 1 };
    struct ingest_buf b = INGEST_BUF_INIT;
    assert_int_equal(ingest_buf_puts(&b, "prefix"), 0);
    assert_int_equal(dl_stats_json(&s2, &info, -1, &b), INGEST_EINVAL);
    assert_string_equal(b.data, "prefix");
    assert_int_equal(dl_stats_json(&s3, &info, -1, &b), INGEST_EINVAL);
    assert_string_equal(b.data, "prefix");
    /* the budget ends before the missing column: nothing to mismatch */
    assert_int_equal(dl_stats_json(&s2, &info, 1, &b), 0);
    assert_string_equal(b.data, "prefix{\"numRecords\":1,\"minValues\":{\"a\":1},"
                                "\"maxValues\":{\"a\":1},\"nullCount\":{\"a\":0}}");
    ingest_buf_free(&b);
    ingest_parquet_file_info_free(&info);
    vb_table_free(&t);
}

static void test_stats_num_records_reads_back(void **state)
{
    (void)state;
    static const struct { const char *text; int rc; int64_t n; } cases[] = {
        { "{\"numRecords\":12,\"minValues\":{}}", 0, 12 },
        { " {\"minValues\":{\"a\":1},\"numRecords\":9007199254740993} ", 0, 9007199254740993LL },
        { "{\"numRecords\":0}", 0, 0 },
        { "{}", INGEST_ENOENT, -1 },
        { "{\"minValues\":{\"numRecords\":3}}", INGEST_ENOENT, -1 },
        { "[1]", INGEST_ENOENT, -1 },
        { "{", INGEST_EPARSE, -1 },
        { "", INGEST_EPARSE, -1 },
        { "{\"numRecords\":\"12\"}", INGEST_EPARSE, -1 },
        { "{\"numRecords\":1.5}", INGEST_EPARSE, -1 },
        { "{\"numRecords\":-1}", INGEST_EPARSE, -1 },
        { "{\"numRecords\":99999999999999999999}", INGEST_EPARSE, -1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t n = -1;
        int rc = dl_stats_num_records(cases[i].text, strlen(cases[i].text), &n);
        if (rc != cases[i].rc)
            fail_msg("'%s': rc %d, want %d", cases[i].text, rc, cases[i].rc);
        assert_int_equal(n, cases[i].n);
    }
    /* the length is honoured: trailing bytes past len are not read */
    int64_t n = 0;
    assert_int_equal(dl_stats_num_records("{\"numRecords\":5}garbage", 16, &n), 0);
    assert_int_equal(n, 5);
}

/* A buffer whose earlier append failed (buf.h's sticky flag) makes every
 * function report ENOMEM rather than hand back a text with a hole. */
static void test_failed_append_is_reported_as_enomem(void **state)
{
    (void)state;
    static struct ingest_field f[] = { F("a", INGEST_TYPE_INT32, 1) };
    struct vb_table t;
    vb_table_init(&t, f, 1);
    vb_i64(&t.cols[0], 1);
    vb_table_finish(&t);
    struct ingest_parquet_file_info info;
    memset(&info, 0, sizeof info);
    struct ingest_parquet_column_info col;
    memset(&col, 0, sizeof col);
    col.field = &f[0];
    info.columns = &col;
    info.ncolumns = 1;

    struct ingest_buf b = INGEST_BUF_INIT;
    int is_null;
    b.oom = 1;
    assert_int_equal(dl_partition_value(&t.batch.columns[0], 0, &b, &is_null), INGEST_ENOMEM);
    assert_int_equal(dl_hive_escape("a:b", 3, &b), INGEST_ENOMEM);
    assert_int_equal(dl_partition_dir("a", "b", &b), INGEST_ENOMEM);
    assert_int_equal(dl_uri_encode("a b", &b), INGEST_ENOMEM);
    assert_int_equal(dl_uri_decode("a%20b", &b), INGEST_ENOMEM);
    assert_int_equal(dl_stats_json(&t.schema, &info, -1, &b), INGEST_ENOMEM);
    ingest_buf_free(&b);
    vb_table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hive_escapes_each_class_and_keeps_neighbours),
        cmocka_unit_test(test_partition_dir_null_and_empty_are_default_partition),
        cmocka_unit_test(test_uri_encode_matches_golden_paths),
        cmocka_unit_test(test_partition_path_built_like_spark),
        cmocka_unit_test(test_uri_round_trips_every_byte),
        cmocka_unit_test(test_uri_decode_rejects_bad_escapes_and_schemes),
        cmocka_unit_test(test_uri_decode_file_uris_and_relative_paths),
        cmocka_unit_test(test_partition_values_of_each_type),
        cmocka_unit_test(test_partition_timestamps_floor_before_the_epoch),
        cmocka_unit_test(test_partition_dates_cover_years_1_to_9999),
        cmocka_unit_test(test_partition_decimals_insert_the_scale),
        cmocka_unit_test(test_partition_floats_are_shortest_round_trip),
        cmocka_unit_test(test_partition_refuses_binary_and_nested),
        cmocka_unit_test(test_stats_for_every_eligible_type),
        cmocka_unit_test(test_stats_like_golden_all_types),
        cmocka_unit_test(test_stats_all_null_column_has_only_null_count),
        cmocka_unit_test(test_stats_zero_rows),
        cmocka_unit_test(test_stats_floats_with_nan_or_infinity_have_no_bounds),
        cmocka_unit_test(test_stats_structs_nest_and_drop_empty_objects),
        cmocka_unit_test(test_stats_num_indexed_cuts_inside_a_struct),
        cmocka_unit_test(test_stats_list_and_map_count_as_one_column),
        cmocka_unit_test(test_stats_strings_keep_32_characters),
        cmocka_unit_test(test_stats_strings_cut_by_the_writer),
        cmocka_unit_test(test_stats_escape_strings_and_names),
        cmocka_unit_test(test_stats_timestamps_truncate_down_to_ms),
        cmocka_unit_test(test_stats_unwritable_bounds_leave_null_count),
        cmocka_unit_test(test_stats_refuse_info_of_another_schema),
        cmocka_unit_test(test_stats_num_records_reads_back),
        cmocka_unit_test(test_failed_append_is_reported_as_enomem),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
