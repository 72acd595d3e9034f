/*
 * test_batch_take.c - ingest_batch_take: gathering rows of a batch by index.
 *
 * Each test builds a source batch with tests/support/vecbuild.h from a
 * row generator, takes some rows, and builds the expected batch with the
 * same generator called for exactly those rows.  The two are compared
 * buffer by buffer (validity present or NULL, null_count, every fixed-width
 * byte, offsets, string bytes, children), so the take must produce the
 * canonical layout of batch.h, not just equal values.  Taken batches are
 * also written with our Parquet writer and read back with our reader, which
 * reject ill-formed levels and offsets.
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
#include "ingestd/error.h"
#include "ingestd/parquet.h"
#include "ingestd/parquet_reader.h"
#include "scratch.h"
#include "vecbuild.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

/* --- comparison: exact layout ------------------------------------------------------------ */

static void assert_vec_equal(const struct ingest_vector *got, const struct ingest_vector *want,
                             const char *path)
{
    char sub[256];
    if (got->field != want->field)
        fail_msg("%s: field pointer not the input's", path);
    if (got->length != want->length)
        fail_msg("%s: length %zu, want %zu", path, got->length, want->length);
    if (got->null_count != want->null_count)
        fail_msg("%s: null_count %zu, want %zu", path, got->null_count, want->null_count);
    if (!got->validity != !want->validity)
        fail_msg("%s: validity %s, want %s", path, got->validity ? "present" : "NULL",
                 want->validity ? "present" : "NULL");
    size_t n = want->length;
    for (size_t i = 0; i < n; i++)
        if (ingest_vector_valid(got, i) != ingest_vector_valid(want, i))
            fail_msg("%s[%zu]: validity bit %d, want %d", path, i, ingest_vector_valid(got, i),
                     ingest_vector_valid(want, i));
    size_t w = ingest_type_width(want->field);
    if (w && n && memcmp(got->values, want->values, n * w) != 0) {
        for (size_t i = 0; i < n; i++)
            if (memcmp((const char *)got->values + i * w, (const char *)want->values + i * w, w))
                fail_msg("%s[%zu]: fixed-width value differs", path, i);
    }
    if (want->offsets) {
        assert_non_null(got->offsets);
        for (size_t i = 0; i <= n; i++)
            if (got->offsets[i] != want->offsets[i])
                fail_msg("%s: offsets[%zu] = %u, want %u", path, i, got->offsets[i],
                         want->offsets[i]);
    }
    if (want->field->type == INGEST_TYPE_STRING || want->field->type == INGEST_TYPE_BINARY) {
        size_t len = want->offsets[n];
        if (len && memcmp(got->data, want->data, len) != 0)
            fail_msg("%s: string bytes differ", path);
    }
    if (got->nchildren != want->nchildren)
        fail_msg("%s: %zu children, want %zu", path, got->nchildren, want->nchildren);
    for (size_t k = 0; k < want->nchildren; k++) {
        snprintf(sub, sizeof sub, "%s.%s", path, want->field->children[k].name);
        assert_vec_equal(&got->children[k], &want->children[k], sub);
    }
}

static void assert_batch_equal(const struct ingest_batch *got, const struct ingest_batch *want)
{
    assert_ptr_equal(got->schema->fields, want->schema->fields);
    assert_int_equal(got->nrows, want->nrows);
    assert_non_null(got->columns);
    for (size_t c = 0; c < want->schema->nfields; c++)
        assert_vec_equal(&got->columns[c], &want->columns[c], want->schema->fields[c].name);
}

/* --- flat rows: every primitive type ------------------------------------------------------ */

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
enum { FLAT_NF = NROWS(flat_fields), FLAT_NULLABLE = 14 };

/* Row r of the flat table: rows with r % 5 == 3 are null in every nullable
 * column. */
static void flat_row(struct vb *c, size_t r)
{
    static const char *strs[] = { "", "a", "hello world", "\xc3\xa9t\xc3\xa9", "zzz",
                                  "quote\" back\\slash", "\xf0\x9f\x98\x80", "tab\t" };
    if (r % 5 == 3) {
        for (int j = 0; j < FLAT_NULLABLE; j++)
            vb_null(&c[j]);
    } else {
        int64_t x = (int64_t)r * 7919 * (r & 1 ? -1 : 1);
        vb_i64(&c[0], (int64_t)(r & 1));
        vb_i64(&c[1], (int8_t)x);
        vb_i64(&c[2], (int16_t)x);
        vb_i64(&c[3], (int32_t)x);
        vb_i64(&c[4], x * 1000003);
        vb_f32_bits(&c[5], 0x3f800000u + (uint32_t)r);
        vb_f64_bits(&c[6], 0xc00921fb54442d18ULL ^ (uint64_t)r);
        vb_str(&c[7], strs[r % 8]);
        uint8_t bin[16];
        for (size_t j = 0; j < r % 16; j++)
            bin[j] = (uint8_t)(0xff - j * 17 - r);
        vb_bytes(&c[8], bin, r % 16);
        vb_i64(&c[9], (int64_t)r * 400 - 20000);
        vb_i64(&c[10], x * 1000000);
        vb_i64(&c[11], x % 999999999);
        vb_i64(&c[12], x * 100000007);
        /* Both halves of the 16 bytes vary, and the sign. */
        vb_dec128(&c[13], (__int128)x * ((__int128)1 << 64) + (__int128)(r * 0x0123456789abULL));
    }
    vb_i64(&c[14], -(int64_t)r);
    vb_str(&c[15], strs[(r + 3) % 8]);
}

/* --- nested rows ------------------------------------------------------------------------ */

/* items: list<struct<a int32, s string, dec decimal(38,4), tags list<string>>> */
static struct ingest_field tag_elem[] = { F("element", INGEST_TYPE_STRING, 1) };
static struct ingest_field item_fields[] = {
    F("a", INGEST_TYPE_INT32, 1), F("s", INGEST_TYPE_STRING, 1), FD("dec", 38, 4, 1),
    FG("tags", INGEST_TYPE_LIST, 1, tag_elem),
};
static struct ingest_field item_elem[] = { FG("element", INGEST_TYPE_STRUCT, 1, item_fields) };
/* attrs: map<string, list<int64>> */
static struct ingest_field attr_list_elem[] = { F("element", INGEST_TYPE_INT64, 1) };
static struct ingest_field attr_kv[] = { F("key", INGEST_TYPE_STRING, 0),
                                         FG("value", INGEST_TYPE_LIST, 1, attr_list_elem) };
/* st: struct<inner struct<x int64, y binary>, z decimal(20,0)> */
static struct ingest_field inner_fields[] = { F("x", INGEST_TYPE_INT64, 1),
                                              F("y", INGEST_TYPE_BINARY, 1) };
static struct ingest_field st_fields[] = { FG("inner", INGEST_TYPE_STRUCT, 1, inner_fields),
                                           FD("z", 20, 0, 1) };
static struct ingest_field nested_fields[] = {
    F("id", INGEST_TYPE_INT64, 0),
    FG("items", INGEST_TYPE_LIST, 1, item_elem),
    FG("attrs", INGEST_TYPE_MAP, 1, attr_kv),
    FG("st", INGEST_TYPE_STRUCT, 1, st_fields),
};
enum { NESTED_NF = NROWS(nested_fields) };

static void item(struct vb *el, size_t r, size_t j)
{
    struct vb *a = &el->kids[0], *s = &el->kids[1], *dec = &el->kids[2], *tags = &el->kids[3];
    if (j == 2) {                               /* the element itself null */
        vb_null(el);
        return;
    }
    if (j == 1) {                               /* every field null */
        vb_null(a);
        vb_null(s);
        vb_null(dec);
        vb_null(tags);
        vb_close(el);
        return;
    }
    char buf[32];
    vb_i64(a, (int64_t)(r * 10 + j));
    snprintf(buf, sizeof buf, "r%zu.%zu", r, j);
    vb_str(s, buf);
    __int128 big = (__int128)1000000000000000000LL * 1000000000000LL;  /* 10^30 */
    vb_dec128(dec, (r & 1 ? -big : big) + (__int128)j);
    for (size_t t = 0; t < (r + j) % 4; t++) {
        if (t == 1) {
            vb_null(&tags->kids[0]);
        } else {
            snprintf(buf, sizeof buf, "t%zu", t + r);
            vb_str(&tags->kids[0], buf);
        }
    }
    vb_close(tags);
    vb_close(el);
}

static void nested_row(struct vb *c, size_t r)
{
    vb_i64(&c[0], (int64_t)r);

    struct vb *items = &c[1];
    switch (r % 7) {
    case 0: vb_null(items); break;
    case 1: vb_close(items); break;                                 /* [] */
    case 2: item(&items->kids[0], r, 2); vb_close(items); break;    /* [null] */
    default:
        for (size_t j = 0; j < r % 4 + 1; j++)
            item(&items->kids[0], r, j);
        vb_close(items);
    }

    struct vb *attrs = &c[2], *key = &attrs->kids[0], *val = &attrs->kids[1];
    switch (r % 5) {
    case 0: vb_null(attrs); break;
    case 1: vb_close(attrs); break;                                 /* {} */
    default:
        for (size_t j = 0; j < r % 5 - 1; j++) {
            char k[32];
            snprintf(k, sizeof k, "k%zu", j);
            vb_str(key, k);
            if (j == 0) {
                vb_null(val);
            } else if (j == 1) {
                vb_close(val);                                      /* [] */
            } else {
                vb_i64(&val->kids[0], (int64_t)r);
                vb_null(&val->kids[0]);
                vb_i64(&val->kids[0], -(int64_t)r);
                vb_close(val);
            }
        }
        vb_close(attrs);
    }

    struct vb *st = &c[3], *inner = &st->kids[0], *z = &st->kids[1];
    switch (r % 6) {
    case 0: vb_null(st); break;
    case 1: vb_null(inner); vb_null(z); vb_close(st); break;
    default:
        if (r % 3 == 0)
            vb_null(&inner->kids[0]);
        else
            vb_i64(&inner->kids[0], (int64_t)r * -31);
        vb_bytes(&inner->kids[1], "\x00\x01\x02\xff", r % 5);
        vb_close(inner);
        vb_dec128(z, -((__int128)r * ((__int128)1 << 58)));  /* beyond int64, within 20 digits */
        vb_close(st);
    }
}

/* --- helpers ------------------------------------------------------------------------------- */

typedef void (*row_fn)(struct vb *c, size_t r);

struct table_def {
    struct ingest_field *fields;
    size_t nf;
    row_fn row;
};

static const struct table_def flat = { flat_fields, FLAT_NF, flat_row };
static const struct table_def nested = { nested_fields, NESTED_NF, nested_row };

/* A table of the generator's rows rows[0..n), or rows 0..n-1 when rows is
 * NULL. */
static void build(struct vb_table *t, const struct table_def *def, const uint32_t *rows,
                  size_t n)
{
    vb_table_init(t, def->fields, def->nf);
    for (size_t i = 0; i < n; i++)
        def->row(t->cols, rows ? rows[i] : i);
    vb_table_finish(t);
}

/* Takes rows[0..n) from a source of nsrc rows and checks the result
 * against the generator's rows; the taken batch is left in *out. */
static void check_take(const struct table_def *def, size_t nsrc, const uint32_t *rows, size_t n,
                       struct vb_table *src, struct ingest_batch *out)
{
    struct vb_table want;
    build(src, def, NULL, nsrc);
    build(&want, def, rows, n);
    assert_int_equal(ingest_batch_take(&src->batch, rows, n, out), 0);
    assert_batch_equal(out, &want.batch);
    vb_table_free(&want);
}

static void take_and_check(const struct table_def *def, size_t nsrc, const uint32_t *rows,
                           size_t n)
{
    struct vb_table src;
    struct ingest_batch out;
    check_take(def, nsrc, rows, n, &src, &out);
    ingest_batch_free(&out);
    vb_table_free(&src);
}

/* --- Parquet round trip ------------------------------------------------------------------- */

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    return scratch_make(tmpdir, sizeof tmpdir, "test_batch_take");
}

static int teardown_dir(void **state)
{
    (void)state;
    return scratch_remove(tmpdir);
}

/* Slot i of a (taken) equals slot j of b (read back), children through
 * each row's element range. */
static void cmp_slot(const struct ingest_vector *a, size_t i, const struct ingest_vector *b,
                     size_t j, const char *path)
{
    const struct ingest_field *f = a->field;
    char sub[256];
    assert_true(i < a->length && j < b->length);
    if (ingest_vector_valid(a, i) != ingest_vector_valid(b, j))
        fail_msg("%s[%zu]: validity differs after the round trip", path, i);
    if (!ingest_vector_valid(a, i))
        return;
    switch (f->type) {
    case INGEST_TYPE_STRING:
    case INGEST_TYPE_BINARY:
    case INGEST_TYPE_LIST:
    case INGEST_TYPE_MAP: {
        size_t la = a->offsets[i + 1] - a->offsets[i], lb = b->offsets[j + 1] - b->offsets[j];
        if (la != lb)
            fail_msg("%s[%zu]: length %zu read back as %zu", path, i, la, lb);
        if (!a->nchildren) {
            if (la && memcmp(a->data + a->offsets[i], b->data + b->offsets[j], la))
                fail_msg("%s[%zu]: bytes differ after the round trip", path, i);
            return;
        }
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
    default: {
        size_t w = ingest_type_width(f);
        if (memcmp((const char *)a->values + i * w, (const char *)b->values + j * w, w))
            fail_msg("%s[%zu]: value differs after the round trip", path, i);
    }
    }
}

static void roundtrip(const struct ingest_batch *b, const char *name)
{
    char path[512], err[256] = "";
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    unlink(path);
    struct ingest_parquet_opts o;
    memset(&o, 0, sizeof o);
    o.codec = INGEST_PARQUET_ZSTD;
    struct ingest_parquet_writer *w = ingest_parquet_writer_open(path, b->schema, &o, err,
                                                                 sizeof err);
    if (!w)
        fail_msg("writer open: %s", err);
    assert_int_equal(ingest_parquet_writer_write(w, b), 0);
    assert_int_equal(ingest_parquet_writer_close(w, NULL), 0);

    struct ingest_parquet_reader *r = ingest_parquet_reader_open(path, err, sizeof err);
    if (!r)
        fail_msg("reader open: %s", err);
    assert_int_equal(ingest_parquet_reader_num_rows(r), b->nrows);
    size_t row = 0;
    for (size_t rg = 0; rg < ingest_parquet_reader_num_row_groups(r); rg++) {
        struct ingest_batch got;
        memset(&got, 0, sizeof got);
        if (ingest_parquet_reader_read_row_group(r, rg, NULL, &got, err, sizeof err) != 0)
            fail_msg("read row group %zu: %s", rg, err);
        for (size_t c = 0; c < b->schema->nfields; c++)
            for (size_t i = 0; i < got.nrows; i++)
                cmp_slot(&b->columns[c], row + i, &got.columns[c], i,
                         b->schema->fields[c].name);
        row += got.nrows;
        ingest_batch_free(&got);
    }
    assert_int_equal(row, b->nrows);
    ingest_parquet_reader_close(r);
}

/* --- tests ------------------------------------------------------------------------------- */

static void test_every_primitive_type_is_gathered_exactly(void **state)
{
    (void)state;
    static const uint32_t rows[] = { 5, 0, 3, 12, 9, 1, 7, 2, 4, 11, 6, 10, 8, 13 };
    take_and_check(&flat, 14, rows, NROWS(rows));
}

static void test_repeated_and_reordered_indices(void **state)
{
    (void)state;
    static const uint32_t rows[] = { 8, 8, 8, 0, 3, 3, 1, 8, 2, 0 };
    take_and_check(&flat, 9, rows, NROWS(rows));
    take_and_check(&nested, 9, rows, NROWS(rows));
    uint32_t rev[50];
    for (uint32_t i = 0; i < 50; i++)
        rev[i] = 49 - i;
    take_and_check(&flat, 50, rev, 50);
    take_and_check(&nested, 50, rev, 50);
}

static void test_nested_list_of_struct_map_struct_with_nulls_at_each_level(void **state)
{
    (void)state;
    /* 0..83 covers every combination of r % 7, r % 5, r % 6 and r % 4 the
     * generator switches on; take them all, shuffled, and a few twice. */
    uint32_t rows[100];
    for (uint32_t i = 0; i < 84; i++)
        rows[i] = (i * 37) % 84;
    for (uint32_t i = 84; i < 100; i++)
        rows[i] = (i * 5) % 84;
    take_and_check(&nested, 84, rows, NROWS(rows));
}

static void test_rows_without_nulls_give_no_validity(void **state)
{
    (void)state;
    static const uint32_t valid_rows[] = { 4, 0, 2 };     /* flat nulls are r % 5 == 3 */
    struct vb_table src;
    struct ingest_batch out;
    check_take(&flat, 10, valid_rows, NROWS(valid_rows), &src, &out);
    assert_non_null(src.batch.columns[7].validity);
    for (size_t c = 0; c < FLAT_NF; c++) {
        assert_null(out.columns[c].validity);
        assert_int_equal(out.columns[c].null_count, 0);
    }
    ingest_batch_free(&out);
    vb_table_free(&src);

    static const uint32_t null_rows[] = { 8, 3, 8 };
    check_take(&flat, 10, null_rows, NROWS(null_rows), &src, &out);
    for (size_t c = 0; c < FLAT_NULLABLE; c++)
        assert_int_equal(out.columns[c].null_count, 3);
    assert_null(out.columns[14].validity);
    ingest_batch_free(&out);
    vb_table_free(&src);
}

static void test_zero_rows(void **state)
{
    (void)state;
    struct vb_table src;
    struct ingest_batch out;
    check_take(&nested, 20, NULL, 0, &src, &out);
    assert_int_equal(out.nrows, 0);
    assert_int_equal(out.columns[1].offsets[0], 0);
    assert_int_equal(out.columns[1].children[0].length, 0);
    roundtrip(&out, "zero.parquet");
    ingest_batch_free(&out);
    vb_table_free(&src);
}

static void test_index_out_of_range_is_einval_and_out_empty(void **state)
{
    (void)state;
    struct vb_table src;
    build(&src, &flat, NULL, 10);
    static const uint32_t rows[] = { 0, 9, 10 };
    struct ingest_batch out;
    memset(&out, 0xab, sizeof out);
    assert_int_equal(ingest_batch_take(&src.batch, rows, NROWS(rows), &out), INGEST_EINVAL);
    assert_null(out.columns);
    assert_int_equal(out.nrows, 0);
    static const uint32_t big[] = { UINT32_MAX };
    assert_int_equal(ingest_batch_take(&src.batch, big, 1, &out), INGEST_EINVAL);
    vb_table_free(&src);

    build(&src, &flat, NULL, 0);
    static const uint32_t zero[] = { 0 };
    assert_int_equal(ingest_batch_take(&src.batch, zero, 1, &out), INGEST_EINVAL);
    vb_table_free(&src);
}

static void test_null_slot_with_a_range_comes_out_empty(void **state)
{
    (void)state;
    /* batch.h says null list/string slots have empty ranges; an input that
     * breaks that (Arrow allows it) must not leak the range into the output. */
    static struct ingest_field el[] = { F("element", INGEST_TYPE_INT64, 1) };
    static struct ingest_field fields[] = { FG("l", INGEST_TYPE_LIST, 1, el),
                                            F("s", INGEST_TYPE_STRING, 1) };
    struct vb_table src;
    vb_table_init(&src, fields, 2);
    for (int r = 0; r < 3; r++) {
        for (int e = 0; e <= r; e++)
            vb_i64(&src.cols[0].kids[0], r * 10 + e);
        vb_close(&src.cols[0]);
        vb_str(&src.cols[1], r == 1 ? "hidden" : "shown");
    }
    vb_table_finish(&src);
    for (int c = 0; c < 2; c++) {           /* row 1 becomes null, keeping its range */
        struct ingest_vector *v = &src.batch.columns[c];
        v->validity = calloc(1, 1);
        v->validity[0] = 0x5;
        v->null_count = 1;
    }
    static const uint32_t rows[] = { 1, 2, 1 };
    struct ingest_batch out;
    assert_int_equal(ingest_batch_take(&src.batch, rows, 3, &out), 0);
    const struct ingest_vector *l = &out.columns[0], *s = &out.columns[1];
    assert_int_equal(l->null_count, 2);
    assert_int_equal(l->offsets[1], 0);
    assert_int_equal(l->offsets[2], 3);
    assert_int_equal(l->offsets[3], 3);
    assert_int_equal(l->children[0].length, 3);
    assert_int_equal(((int64_t *)l->children[0].values)[0], 20);
    assert_int_equal(((int64_t *)l->children[0].values)[2], 22);
    assert_int_equal(s->offsets[1], 0);
    assert_int_equal(s->offsets[3], 5);
    assert_memory_equal(s->data, "shown", 5);
    ingest_batch_free(&out);
    vb_table_free(&src);
}

static void test_string_bytes_past_4gib_are_erange(void **state)
{
    (void)state;
    /* One 1 MiB string taken 4097 times would need offsets past 2^32 - 1;
     * the sum is checked before the 4 GiB buffer is allocated. */
    static struct ingest_field fields[] = { F("s", INGEST_TYPE_STRING, 0) };
    struct vb_table src;
    vb_table_init(&src, fields, 1);
    size_t len = 1 << 20;
    char *big = malloc(len);
    memset(big, 'x', len);
    vb_bytes(&src.cols[0], big, len);
    vb_str(&src.cols[0], "small");
    vb_table_finish(&src);
    free(big);
    uint32_t *rows = calloc(4097, sizeof *rows);
    struct ingest_batch out;
    assert_int_equal(ingest_batch_take(&src.batch, rows, 4097, &out), INGEST_ERANGE);
    assert_null(out.columns);
    /* 4095 MiB fits in principle; 4096 MiB is 2^32 bytes and does not. */
    assert_int_equal(ingest_batch_take(&src.batch, rows, 4096, &out), INGEST_ERANGE);
    free(rows);
    vb_table_free(&src);
}

static void test_list_entries_past_uint32_are_erange(void **state)
{
    (void)state;
    static struct ingest_field el[] = { F("element", INGEST_TYPE_BOOLEAN, 0) };
    static struct ingest_field fields[] = { FG("l", INGEST_TYPE_LIST, 0, el) };
    struct vb_table src;
    vb_table_init(&src, fields, 1);
    for (size_t e = 0; e < (1u << 20); e++)
        vb_i64(&src.cols[0].kids[0], (int64_t)(e & 1));
    vb_close(&src.cols[0]);
    vb_table_finish(&src);
    uint32_t *rows = calloc(4096, sizeof *rows);
    struct ingest_batch out;
    assert_int_equal(ingest_batch_take(&src.batch, rows, 4096, &out), INGEST_ERANGE);
    assert_null(out.columns);
    /* A few copies are fine and share nothing with the input. */
    assert_int_equal(ingest_batch_take(&src.batch, rows, 3, &out), 0);
    assert_int_equal(out.columns[0].offsets[3], 3u << 20);
    assert_int_equal(out.columns[0].children[0].length, 3u << 20);
    assert_int_equal(((uint8_t *)out.columns[0].children[0].values)[(2u << 20) + 1], 1);
    assert_ptr_not_equal(out.columns[0].children[0].values,
                         src.batch.columns[0].children[0].values);
    ingest_batch_free(&out);
    free(rows);
    vb_table_free(&src);
}

static void test_taken_batches_roundtrip_through_parquet(void **state)
{
    (void)state;
    /* Split like the pipeline does: one batch per "partition" (r % 3). */
    for (int def = 0; def < 2; def++) {
        const struct table_def *d = def ? &nested : &flat;
        struct vb_table src;
        build(&src, d, NULL, 90);
        for (uint32_t part = 0; part < 3; part++) {
            uint32_t rows[30];
            for (uint32_t i = 0; i < 30; i++)
                rows[i] = i * 3 + part;
            struct ingest_batch out;
            assert_int_equal(ingest_batch_take(&src.batch, rows, 30, &out), 0);
            char name[64];
            snprintf(name, sizeof name, "part_%d_%u.parquet", def, part);
            roundtrip(&out, name);
            ingest_batch_free(&out);
        }
        vb_table_free(&src);
    }
}

static void test_taken_batch_outlives_its_input(void **state)
{
    (void)state;
    static const uint32_t rows[] = { 4, 5, 6, 3 };
    struct vb_table src, want;
    struct ingest_batch out;
    build(&src, &nested, NULL, 7);
    assert_int_equal(ingest_batch_take(&src.batch, rows, NROWS(rows), &out), 0);
    vb_table_free(&src);            /* frees every input buffer */
    build(&want, &nested, rows, NROWS(rows));
    assert_batch_equal(&out, &want.batch);
    vb_table_free(&want);
    ingest_batch_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_primitive_type_is_gathered_exactly),
        cmocka_unit_test(test_repeated_and_reordered_indices),
        cmocka_unit_test(test_nested_list_of_struct_map_struct_with_nulls_at_each_level),
        cmocka_unit_test(test_rows_without_nulls_give_no_validity),
        cmocka_unit_test(test_zero_rows),
        cmocka_unit_test(test_index_out_of_range_is_einval_and_out_empty),
        cmocka_unit_test(test_null_slot_with_a_range_comes_out_empty),
        cmocka_unit_test(test_string_bytes_past_4gib_are_erange),
        cmocka_unit_test(test_list_entries_past_uint32_are_erange),
        cmocka_unit_test(test_taken_batches_roundtrip_through_parquet),
        cmocka_unit_test(test_taken_batch_outlives_its_input),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
