/*
 * test_parquet_roundtrip.c - files written by our Parquet writer read back
 * by our Parquet reader give the vectors that were written: every primitive
 * type under each codec, nested struct/list/map with nulls at every level,
 * many row groups, and zero rows.
 *
 * Vectors are compared slot by slot: validity per row, the value of valid
 * fixed-width slots (floats bit-exact), the offset-relative bytes of
 * strings/binary, and list/map/struct children recursively through each
 * row's element range (so the two sides may place children differently).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingestd/batch.h"
#include "ingestd/parquet.h"
#include "ingestd/parquet_reader.h"
#include "scratch.h"
#include "vecbuild.h"



/* --- temp dir --------------------------------------------------------------------------- */

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    return scratch_make(tmpdir, sizeof tmpdir, "test_parquet_roundtrip");
}

static int teardown_dir(void **state)
{
    (void)state;
    return scratch_remove(tmpdir);
}

static const char *tmp_path(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    unlink(p);
    return p;
}

/* --- comparison ------------------------------------------------------------------------ */

static void check_field(const struct ingest_field *want, const struct ingest_field *got,
                        const char *path)
{
    assert_non_null(got);
    if (want->type != got->type)
        fail_msg("%s: type %s read as %s", path, ingest_type_name(want->type),
                 ingest_type_name(got->type));
    if (want->type == INGEST_TYPE_DECIMAL &&
        (want->precision != got->precision || want->scale != got->scale))
        fail_msg("%s: decimal(%d,%d) read as decimal(%d,%d)", path, want->precision,
                 want->scale, got->precision, got->scale);
    if (want->nchildren != got->nchildren)
        fail_msg("%s: %zu children read as %zu", path, want->nchildren, got->nchildren);
    for (size_t k = 0; k < want->nchildren; k++) {
        char sub[512];
        snprintf(sub, sizeof sub, "%s.%s", path, want->children[k].name);
        check_field(&want->children[k], &got->children[k], sub);
    }
}

/* Slot i of a (written) equals slot j of b (read). */
static void cmp_slot(const struct ingest_vector *a, size_t i, const struct ingest_vector *b,
                     size_t j, const char *path)
{
    const struct ingest_field *f = a->field;
    if (i >= a->length || j >= b->length)
        fail_msg("%s: slot %zu/%zu out of range (lengths %zu/%zu)", path, i, j, a->length,
                 b->length);
    int va = ingest_vector_valid(a, i), vb = ingest_vector_valid(b, j);
    if (va != vb)
        fail_msg("%s[%zu]: written %s, read %s", path, i, va ? "valid" : "null",
                 vb ? "valid" : "null");
    if (!va)
        return;
    size_t w = ingest_type_width(f);
    char sub[512];
    switch (f->type) {
    case INGEST_TYPE_STRING:
    case INGEST_TYPE_BINARY: {
        size_t la = a->offsets[i + 1] - a->offsets[i], lb = b->offsets[j + 1] - b->offsets[j];
        if (la != lb || (la && memcmp(a->data + a->offsets[i], b->data + b->offsets[j], la)))
            fail_msg("%s[%zu]: written %zu bytes '%.*s', read %zu bytes '%.*s'", path, i, la,
                     (int)la, (const char *)a->data + a->offsets[i], lb, (int)lb,
                     b->data ? (const char *)b->data + b->offsets[j] : "");
        return;
    }
    case INGEST_TYPE_LIST:
    case INGEST_TYPE_MAP: {
        size_t la = a->offsets[i + 1] - a->offsets[i], lb = b->offsets[j + 1] - b->offsets[j];
        if (la != lb)
            fail_msg("%s[%zu]: written %zu entries, read %zu", path, i, la, lb);
        for (size_t k = 0; k < a->nchildren; k++) {
            snprintf(sub, sizeof sub, "%s[%zu].%s", path, i, f->children[k].name);
            for (size_t e = 0; e < la; e++)
                cmp_slot(&a->children[k], a->offsets[i] + e, &b->children[k],
                         b->offsets[j] + e, sub);
        }
        return;
    }
    case INGEST_TYPE_STRUCT:
        for (size_t k = 0; k < a->nchildren; k++) {
            snprintf(sub, sizeof sub, "%s.%s", path, f->children[k].name);
            cmp_slot(&a->children[k], i, &b->children[k], j, sub);
        }
        return;
    default:
        assert_true(w > 0);
        if (memcmp((const char *)a->values + i * w, (const char *)b->values + j * w, w)) {
            char ga[40] = "", gb[40] = "";
            for (size_t k = 0; k < w; k++) {
                sprintf(ga + 2 * k, "%02x", ((const uint8_t *)a->values)[i * w + k]);
                sprintf(gb + 2 * k, "%02x", ((const uint8_t *)b->values)[j * w + k]);
            }
            fail_msg("%s[%zu]: written %s, read %s (LE bytes)", path, i, ga, gb);
        }
        return;
    }
}

/* Reads every row group of path and compares them, concatenated, with want. */
static void check_file(const char *path, const struct ingest_batch *want, size_t min_rgs)
{
    char err[256] = "";
    struct ingest_parquet_reader *r = ingest_parquet_reader_open(path, err, sizeof err);
    if (!r)
        fail_msg("open %s: %s", path, err);
    const struct ingest_schema *s = ingest_parquet_reader_schema(r);
    assert_non_null(s);
    assert_int_equal(s->nfields, want->schema->nfields);
    for (size_t c = 0; c < s->nfields; c++) {
        assert_string_equal(s->fields[c].name, want->schema->fields[c].name);
        check_field(&want->schema->fields[c], &s->fields[c], want->schema->fields[c].name);
    }
    assert_int_equal(ingest_parquet_reader_num_rows(r), want->nrows);
    size_t nrg = ingest_parquet_reader_num_row_groups(r);
    assert_true(nrg >= min_rgs);
    size_t row = 0;
    for (size_t rg = 0; rg < nrg; rg++) {
        struct ingest_batch got;
        memset(&got, 0, sizeof got);
        int rc = ingest_parquet_reader_read_row_group(r, rg, NULL, &got, err, sizeof err);
        if (rc != 0)
            fail_msg("%s: row group %zu: rc %d: %s", path, rg, rc, err);
        assert_int_equal(got.nrows, ingest_parquet_reader_row_group_rows(r, rg));
        assert_int_equal(got.schema->nfields, want->schema->nfields);
        for (size_t c = 0; c < want->schema->nfields; c++) {
            assert_int_equal(got.columns[c].length, got.nrows);
            for (size_t i = 0; i < got.nrows; i++)
                cmp_slot(&want->columns[c], row + i, &got.columns[c], i,
                         want->schema->fields[c].name);
        }
        row += got.nrows;
        ingest_batch_free(&got);
    }
    assert_int_equal(row, want->nrows);
    ingest_parquet_reader_close(r);
}

static void write_file(const char *path, const struct ingest_batch *b,
                       const struct ingest_parquet_opts *opts)
{
    char err[256] = "";
    struct ingest_parquet_writer *w =
        ingest_parquet_writer_open(path, b->schema, opts, err, sizeof err);
    if (!w)
        fail_msg("writer open %s: %s", path, err);
    assert_int_equal(ingest_parquet_writer_write(w, b), 0);
    struct ingest_parquet_file_info info;
    memset(&info, 0, sizeof info);
    assert_int_equal(ingest_parquet_writer_close(w, &info), 0);
    assert_int_equal(info.num_rows, (int64_t)b->nrows);
    ingest_parquet_file_info_free(&info);
}

/* --- flat: every primitive type --------------------------------------------------------- */

static struct ingest_field flat_fields[] = {
    F("b", INGEST_TYPE_BOOLEAN, 1),     F("i8", INGEST_TYPE_INT8, 1),
    F("i16", INGEST_TYPE_INT16, 1),     F("i32", INGEST_TYPE_INT32, 1),
    F("i64", INGEST_TYPE_INT64, 1),     F("f32", INGEST_TYPE_FLOAT, 1),
    F("f64", INGEST_TYPE_DOUBLE, 1),    F("s", INGEST_TYPE_STRING, 1),
    F("bin", INGEST_TYPE_BINARY, 1),    F("d", INGEST_TYPE_DATE, 1),
    F("ts", INGEST_TYPE_TIMESTAMP, 1),  FD("dec9", 9, 2, 1),
    FD("dec18", 18, 4, 1),              FD("dec38", 38, 10, 1),
    F("req_i64", INGEST_TYPE_INT64, 0), F("req_s", INGEST_TYPE_STRING, 0),
};
enum { FLAT_NF = sizeof flat_fields / sizeof flat_fields[0] };

static void build_flat(struct vb_table *t, size_t nrows)
{
    static const int64_t ints[] = { 0, 1, -1, INT64_MIN, INT64_MAX, 42, -42, 127, -128, 1000000 };
    static const uint64_t f64bits[] = {
        0x0000000000000000ULL, 0x8000000000000000ULL, 0x7ff0000000000000ULL,
        0xfff0000000000000ULL, 0x7ff8000000000000ULL, 0xfff8000000000001ULL,
        0x000fffffffffffffULL, 0x3ff0000000000000ULL, 0xc00921fb54442d18ULL,
        0x7fefffffffffffffULL,
    };
    static const uint32_t f32bits[] = {
        0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001,
        0x007fffff, 0x3f800000, 0xc0490fdb, 0x7f7fffff,
    };
    static const char *strs[] = {
        "", "a", "hello world", "\xc3\xa9t\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
        "\xf0\x9f\x98\x80 emoji", "quote\" back\\slash", "tab\tnewline\n", "\x7f\xc2\x80", "zzz",
    };
    static const int64_t dec9[] = { 0, 1, -1, 999999999, -999999999, 12345, -12345, 100, -100, 7 };
    static const int64_t dec18[] = {
        0, 1, -1, 999999999999999999LL, -999999999999999999LL, 123456789012LL,
        -123456789012LL, 10000, -5, 42,
    };
    __int128 p38 = 1;
    for (int k = 0; k < 38; k++)
        p38 *= 10;
    const __int128 dec38[] = { 0, 1, -1, p38 - 1, -(p38 - 1), (__int128)INT64_MAX * 1000,
                               -(__int128)INT64_MAX * 1000 - 7, 255, -256, -((__int128)1 << 64) };
    vb_table_init(t, flat_fields, FLAT_NF);
    for (size_t r = 0; r < nrows; r++) {
        size_t k = r % 10;
        int null = r % 7 == 3 || r == 20;
        struct vb *c = t->cols;
        if (null) {
            for (int j = 0; j < 14; j++)
                vb_null(&c[j]);
        } else {
            vb_i64(&c[0], (int64_t)(k & 1));
            vb_i64(&c[1], ints[k]);
            vb_i64(&c[2], ints[k]);
            vb_i64(&c[3], ints[k]);
            vb_i64(&c[4], ints[k]);
            vb_f32_bits(&c[5], f32bits[k]);
            vb_f64_bits(&c[6], f64bits[k]);
            vb_str(&c[7], strs[k]);
            uint8_t bin[10];
            for (size_t j = 0; j < k; j++)
                bin[j] = (uint8_t)(0xff - j * 17);
            vb_bytes(&c[8], bin, k);
            vb_i64(&c[9], (int64_t)(k * 4000) - 20000);
            vb_i64(&c[10], ints[k] == INT64_MIN ? INT64_MIN + 1 : ints[k]);
            vb_i64(&c[11], dec9[k]);
            vb_i64(&c[12], dec18[k]);
            vb_dec128(&c[13], dec38[k]);
        }
        vb_i64(&c[14], (int64_t)r * (r & 1 ? -1 : 1));
        vb_str(&c[15], strs[(k + 3) % 10]);
    }
    vb_table_finish(t);
}

static void roundtrip_flat(int codec, const char *name, int no_dict)
{
    struct vb_table t;
    build_flat(&t, 60);
    struct ingest_parquet_opts o;
    memset(&o, 0, sizeof o);
    o.codec = codec;
    o.no_dictionary = no_dict;
    const char *p = tmp_path(name);
    write_file(p, &t.batch, &o);
    check_file(p, &t.batch, 1);
    vb_table_free(&t);
}

static void test_flat_primitives_roundtrip_uncompressed(void **state)
{
    (void)state;
    roundtrip_flat(INGEST_PARQUET_UNCOMPRESSED, "flat_none.parquet", 0);
    roundtrip_flat(INGEST_PARQUET_UNCOMPRESSED, "flat_none_plain.parquet", 1);
}

static void test_flat_primitives_roundtrip_snappy(void **state)
{
    (void)state;
    roundtrip_flat(INGEST_PARQUET_SNAPPY, "flat_snappy.parquet", 0);
    roundtrip_flat(INGEST_PARQUET_SNAPPY, "flat_snappy_plain.parquet", 1);
}

static void test_flat_primitives_roundtrip_zstd(void **state)
{
    (void)state;
    roundtrip_flat(INGEST_PARQUET_ZSTD, "flat_zstd.parquet", 0);
    roundtrip_flat(INGEST_PARQUET_ZSTD, "flat_zstd_plain.parquet", 1);
}

/* --- nested: struct { list<int64>, map<string,string> } ----------------------------------- */

static struct ingest_field n_elem[] = { F("element", INGEST_TYPE_INT64, 1) };
static struct ingest_field n_kv[] = { F("key", INGEST_TYPE_STRING, 0),
                                      F("value", INGEST_TYPE_STRING, 1) };
static struct ingest_field n_sf[] = { FG("l", INGEST_TYPE_LIST, 1, n_elem),
                                      FG("m", INGEST_TYPE_MAP, 1, n_kv) };
static struct ingest_field nested_fields[] = { F("id", INGEST_TYPE_INT64, 0),
                                               FG("s", INGEST_TYPE_STRUCT, 1, n_sf) };

static void build_nested(struct vb_table *t, int nrows)
{
    vb_table_init(t, nested_fields, 2);
    struct vb *id = &t->cols[0], *s = &t->cols[1];
    struct vb *l = &s->kids[0], *le = &l->kids[0], *m = &s->kids[1];
    struct vb *mk = &m->kids[0], *mv = &m->kids[1];
    for (int r = 0; r < nrows; r++) {
        vb_i64(id, r);
        int c = r % 9;
        if (c == 0) {                       /* s null */
            vb_null(s);
            continue;
        }
        /* list */
        switch (c) {
        case 1: vb_null(l); break;                          /* l null */
        case 2: vb_close(l); break;                         /* l [] */
        case 3: vb_null(le); vb_close(l); break;            /* [null] */
        default:
            for (int j = 0; j < c; j++) {
                if (j == 2)
                    vb_null(le);
                else
                    vb_i64(le, j == 1 ? INT64_MIN : (int64_t)r * 1000 + j);
            }
            vb_close(l);
        }
        /* map */
        switch ((c + 3) % 9) {
        case 0: case 1: vb_null(m); break;                  /* m null */
        case 2: vb_close(m); break;                         /* m {} */
        case 3: vb_str(mk, ""); vb_null(mv); vb_close(m); break;   /* {"": null} */
        default: {
            int n = (c + 3) % 9 - 2;
            for (int j = 0; j < n; j++) {
                char kb[32], vbuf[32];
                snprintf(kb, sizeof kb, "k%d\xc3\xa9", j);
                vb_str(mk, kb);
                if (j == 1) {
                    vb_null(mv);
                } else if (j == 2) {
                    vb_str(mv, "");
                } else {
                    snprintf(vbuf, sizeof vbuf, "v%d-%d \xe2\x82\xac", r, j);
                    vb_str(mv, vbuf);
                }
            }
            vb_close(m);
        }
        }
        vb_close(s);
    }
    vb_table_finish(t);
}

static void test_nested_struct_list_map_roundtrip(void **state)
{
    (void)state;
    static const int codecs[] = { INGEST_PARQUET_UNCOMPRESSED, INGEST_PARQUET_SNAPPY,
                                  INGEST_PARQUET_ZSTD };
    for (size_t ci = 0; ci < 3; ci++) {
        struct vb_table t;
        build_nested(&t, 45);
        struct ingest_parquet_opts o;
        memset(&o, 0, sizeof o);
        o.codec = codecs[ci];
        char name[64];
        snprintf(name, sizeof name, "nested_%d.parquet", codecs[ci]);
        const char *p = tmp_path(name);
        write_file(p, &t.batch, &o);
        check_file(p, &t.batch, 1);
        vb_table_free(&t);
    }
}

/* --- many rows, several row groups --------------------------------------------------------- */

static void test_many_rows_span_row_groups(void **state)
{
    (void)state;
    /* make test-long: the 10-million-row round trip. */
    const char *env = getenv("ROUNDTRIP_ROWS");
    size_t nrows = env ? strtoul(env, NULL, 10) : getenv("INGESTD_TEST_LONG") ? 10000000 : 300000;
    struct vb_table t;
    build_flat(&t, nrows);
    struct ingest_parquet_opts o;
    memset(&o, 0, sizeof o);
    o.codec = INGEST_PARQUET_SNAPPY;
    o.row_group_bytes = 1 << 20;
    o.page_bytes = 64 << 10;
    const char *p = tmp_path("many.parquet");
    write_file(p, &t.batch, &o);
    check_file(p, &t.batch, nrows >= 100000 ? 3 : 1);
    vb_table_free(&t);

    struct vb_table n;
    build_nested(&n, (int)(nrows / 3));
    o.codec = INGEST_PARQUET_ZSTD;
    p = tmp_path("many_nested.parquet");
    write_file(p, &n.batch, &o);
    check_file(p, &n.batch, nrows >= 100000 ? 2 : 1);
    vb_table_free(&n);
}

/* --- zero rows ------------------------------------------------------------------------------ */

static void test_zero_rows_roundtrip(void **state)
{
    (void)state;
    struct vb_table t;
    build_flat(&t, 0);
    struct ingest_parquet_opts o;
    memset(&o, 0, sizeof o);
    const char *p = tmp_path("zero_flat.parquet");
    write_file(p, &t.batch, &o);
    check_file(p, &t.batch, 0);
    vb_table_free(&t);

    build_nested(&t, 0);
    p = tmp_path("zero_nested.parquet");
    write_file(p, &t.batch, &o);
    check_file(p, &t.batch, 0);
    vb_table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flat_primitives_roundtrip_uncompressed),
        cmocka_unit_test(test_flat_primitives_roundtrip_snappy),
        cmocka_unit_test(test_flat_primitives_roundtrip_zstd),
        cmocka_unit_test(test_nested_struct_list_map_roundtrip),
        cmocka_unit_test(test_many_rows_span_row_groups),
        cmocka_unit_test(test_zero_rows_roundtrip),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
