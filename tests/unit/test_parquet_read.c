/*
 * test_parquet_read.c - the Parquet reader against files others wrote, and
 * against corrupt input.
 *
 * The files live in the shared directory next to the source tree
 * ($INGESTD_SRC/../shared, else ./../shared); tests that need them skip
 * when it is absent.  Expected values were read independently with DuckDB
 * 1.5 (read_parquet, hive_partitioning=false).  Every input is copied into
 * a heap block of exactly its length so an overread is caught by
 * ASan/valgrind.  The corruption tests truncate, flip and forge bytes and
 * only require a clean error (or a clean success) - the sanitizers do the
 * rest.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ingestd/error.h"
#include "ingestd/parquet_reader.h"
#include "../../daemon/parquet/pq_read.h"
#include "../../daemon/parquet/thrift_dec.h"

#define GOLDEN "data/delta-golden/"

static char shared_dir[4096];

static int find_shared(void)
{
    const char *src = getenv("INGESTD_SRC");
    struct stat st;
    snprintf(shared_dir, sizeof shared_dir, "%s/../shared", src && *src ? src : ".");
    return stat(shared_dir, &st) == 0 && S_ISDIR(st.st_mode);
}

static uint8_t *load(const char *rel, size_t *len)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", shared_dir, rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Opens a shared file from a buffer; skips the test when it is missing. */
struct opened {
    uint8_t *buf;
    size_t len;
    struct ingest_parquet_reader *r;
};

static void open_shared(const char *rel, struct opened *o)
{
    char err[256];
    if (!find_shared() || !(o->buf = load(rel, &o->len)))
        skip();
    o->r = ingest_parquet_reader_open_buf(o->buf, o->len, err, sizeof err);
    if (!o->r)
        fail_msg("%s: %s", rel, err);
}

static void close_shared(struct opened *o)
{
    ingest_parquet_reader_close(o->r);
    free(o->buf);
}

static void read_rg(struct opened *o, size_t rg, const char *const *cols, struct ingest_batch *b)
{
    char err[256];
    int rc = ingest_parquet_reader_read_row_group(o->r, rg, cols, b, err, sizeof err);
    if (rc)
        fail_msg("read: %s (%s)", err, ingest_strerror(rc));
}

/* --- vector accessors ------------------------------------------------------ */

static const struct ingest_vector *col(const struct ingest_batch *b, const char *name)
{
    for (size_t i = 0; i < b->schema->nfields; i++)
        if (!strcmp(b->schema->fields[i].name, name))
            return &b->columns[i];
    fail_msg("no column %s", name);
    return NULL;
}

static const struct ingest_vector *child(const struct ingest_vector *v, const char *name)
{
    for (size_t i = 0; i < v->nchildren; i++)
        if (!strcmp(v->children[i].field->name, name))
            return &v->children[i];
    fail_msg("no field %s", name);
    return NULL;
}

static int64_t i64(const struct ingest_vector *v, size_t i)
{
    assert_true(ingest_vector_valid(v, i));
    switch (ingest_type_width(v->field)) {
    case 1: return ((int8_t *)v->values)[i];
    case 2: return ((int16_t *)v->values)[i];
    case 4: return ((int32_t *)v->values)[i];
    default: return ((int64_t *)v->values)[i];
    }
}

/* Value i as a string ("" + asserted valid). */
static void assert_str(const struct ingest_vector *v, size_t i, const char *want)
{
    assert_true(ingest_vector_valid(v, i));
    size_t n = v->offsets[i + 1] - v->offsets[i];
    assert_int_equal(n, strlen(want));
    assert_memory_equal(v->data + v->offsets[i], want, n);
}

/* map entry k of row i: key, value (NULL want_value = null value) */
static void assert_map_entry(const struct ingest_vector *m, size_t i, size_t k,
                             const char *key, const char *value)
{
    assert_true(ingest_vector_valid(m, i));
    assert_true(m->offsets[i] + k < m->offsets[i + 1]);
    size_t e = m->offsets[i] + k;
    assert_str(&m->children[0], e, key);
    if (value)
        assert_str(&m->children[1], e, value);
    else
        assert_false(ingest_vector_valid(&m->children[1], e));
}

static size_t entries(const struct ingest_vector *v, size_t i)
{
    return v->offsets[i + 1] - v->offsets[i];
}

/* --- files ------------------------------------------------------------------- */

static void test_tiny_file_reads_required_ints(void **state)
{
    (void)state;
    struct opened o = { 0 };
    struct ingest_batch b;
    open_shared("specs/vectors/tiny.parquet", &o);
    assert_int_equal(ingest_parquet_reader_num_rows(o.r), 3);
    assert_int_equal(ingest_parquet_reader_num_row_groups(o.r), 1);
    assert_string_equal(ingest_parquet_reader_created_by(o.r), "scratch-writer version 0.1");
    const struct ingest_schema *s = ingest_parquet_reader_schema(o.r);
    assert_int_equal(s->nfields, 1);
    assert_string_equal(s->fields[0].name, "x");
    assert_int_equal(s->fields[0].type, INGEST_TYPE_INT32);
    assert_int_equal(s->fields[0].nullable, 0);
    read_rg(&o, 0, NULL, &b);
    assert_int_equal(b.nrows, 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(i64(&b.columns[0], i), (int64_t)i + 1);
    assert_null(b.columns[0].validity);
    ingest_batch_free(&b);
    close_shared(&o);
}

static void test_data_file_maps_logical_types(void **state)
{
    (void)state;
    struct opened o = { 0 };
    struct ingest_batch b;
    open_shared("specs/vectors/data.parquet", &o);
    read_rg(&o, 0, NULL, &b);
    assert_int_equal(b.nrows, 3);
    const struct ingest_vector *ts = col(&b, "ts"), *d = col(&b, "d"), *amt = col(&b, "amount");
    const struct ingest_vector *name = col(&b, "name"), *flag = col(&b, "flag");
    assert_int_equal(ts->field->type, INGEST_TYPE_TIMESTAMP);
    assert_int_equal(d->field->type, INGEST_TYPE_DATE);
    assert_int_equal(amt->field->type, INGEST_TYPE_DECIMAL);
    assert_int_equal(amt->field->precision, 10);
    assert_int_equal(amt->field->scale, 2);
    assert_int_equal(name->field->type, INGEST_TYPE_STRING);
    assert_int_equal(i64(col(&b, "id"), 2), 3);
    assert_int_equal(i64(ts, 0), 1704067200000000LL);
    assert_false(ingest_vector_valid(ts, 1));
    assert_int_equal(i64(ts, 2), 1704067200123456LL);
    assert_int_equal(i64(d, 0), 19723);
    assert_int_equal(i64(d, 2), 0);
    assert_int_equal(i64(amt, 0), 12345);
    assert_int_equal(i64(amt, 1), -5);
    assert_false(ingest_vector_valid(amt, 2));
    assert_str(name, 0, "a");
    assert_false(ingest_vector_valid(name, 1));
    assert_str(name, 2, "a");
    assert_int_equal(i64(flag, 0), 1);
    assert_false(ingest_vector_valid(flag, 1));
    assert_int_equal(i64(flag, 2), 0);
    assert_int_equal(flag->null_count, 1);
    ingest_batch_free(&b);
    close_shared(&o);
}

static void test_mini_checkpoint_reads_actions(void **state)
{
    (void)state;
    struct opened o = { 0 };
    struct ingest_batch b;
    open_shared("specs/vectors/mini.checkpoint.parquet", &o);
    read_rg(&o, 0, NULL, &b);
    assert_int_equal(b.nrows, 6);
    const struct ingest_vector *add = col(&b, "add"), *rm = col(&b, "remove");
    const struct ingest_vector *proto = col(&b, "protocol"), *txn = col(&b, "txn");
    const struct ingest_vector *md = col(&b, "metaData");
    assert_int_equal(i64(child(proto, "minReaderVersion"), 0), 1);
    assert_int_equal(i64(child(proto, "minWriterVersion"), 0), 2);
    assert_false(ingest_vector_valid(proto, 1));
    assert_str(child(md, "id"), 1, "5d2a6c3e-0000-4000-8000-000000000001");
    const struct ingest_vector *pc = child(md, "partitionColumns");
    assert_int_equal(entries(pc, 1), 1);
    assert_str(&pc->children[0], pc->offsets[1], "date");
    assert_map_entry(child(md, "configuration"), 1, 0, "delta.appendOnly", "true");
    assert_str(child(txn, "appId"), 2, "app-1");
    assert_int_equal(i64(child(txn, "version"), 2), 7);
    assert_str(child(add, "path"), 3, "date=2024-01-01/part-00000-a.zstd.parquet");
    assert_map_entry(child(add, "partitionValues"), 3, 0, "date", "2024-01-01");
    assert_map_entry(child(add, "partitionValues"), 4, 0, "date", NULL);
    assert_int_equal(i64(child(add, "size"), 4), 999);
    assert_str(child(add, "stats"), 3, "{\"numRecords\":3}");
    assert_false(ingest_vector_valid(child(add, "stats"), 4));
    assert_false(ingest_vector_valid(add, 0));
    assert_str(child(rm, "path"), 5, "date=2023-12-31/part-00009-c.zstd.parquet");
    assert_int_equal(i64(child(rm, "deletionTimestamp"), 5), 1700000000300LL);
    ingest_batch_free(&b);
    close_shared(&o);
}

static void test_spark_checkpoint_projects_actions(void **state)
{
    (void)state;
    struct opened o = { 0 };
    struct ingest_batch b;
    static const char *const want[] = { "add", "remove", "metaData", "protocol", "nope", NULL };
    open_shared(GOLDEN "basic-with-inserts-deletes-checkpoint/_delta_log/"
                "00000000000000000010.checkpoint.parquet", &o);
    assert_int_equal(ingest_parquet_reader_num_rows(o.r), 13);
    read_rg(&o, 0, want, &b);
    assert_int_equal(b.nrows, 13);
    assert_int_equal(b.schema->nfields, 4);    /* "nope" ignored, file order kept */
    assert_string_equal(b.schema->fields[0].name, "add");
    const struct ingest_vector *add = col(&b, "add"), *rm = col(&b, "remove");
    const struct ingest_vector *md = col(&b, "metaData"), *proto = col(&b, "protocol");
    assert_int_equal(i64(child(proto, "minReaderVersion"), 0), 1);
    assert_str(child(md, "id"), 1, "testId");
    assert_int_equal(i64(child(md, "createdTime"), 1), 1691426730560LL);
    assert_str(child(child(md, "format"), "provider"), 1, "parquet");
    assert_int_equal(entries(child(md, "partitionColumns"), 1), 0);
    assert_true(ingest_vector_valid(child(md, "partitionColumns"), 1));
    assert_str(child(rm, "path"), 2, "part-00000-0869ab64-e69d-407f-80d4-1a2ea1f69d11-c000.snappy.parquet");
    assert_int_equal(i64(child(rm, "deletionTimestamp"), 2), 1691426737813LL);
    assert_int_equal(i64(child(rm, "size"), 2), 527);
    assert_str(child(add, "path"), 4, "part-00000-ca2d0b26-c15c-454f-a933-fc724e15e5f1-c000.snappy.parquet");
    assert_int_equal(i64(child(add, "size"), 4), 500);
    assert_int_equal(i64(child(add, "modificationTime"), 4), 1691426737139LL);
    assert_int_equal(i64(child(add, "dataChange"), 4), 0);
    assert_str(child(add, "stats"), 4,
               "{\"numRecords\":5,\"minValues\":{\"id\":0},\"maxValues\":{\"id\":4},"
               "\"nullCount\":{\"id\":0}}");
    const struct ingest_vector *pv = child(add, "partitionValues");
    assert_true(ingest_vector_valid(pv, 4));      /* empty, not null */
    assert_int_equal(entries(pv, 4), 0);
    assert_false(ingest_vector_valid(child(add, "deletionVector"), 4));
    assert_false(ingest_vector_valid(add, 0));
    size_t adds = 0;
    for (size_t i = 0; i < b.nrows; i++)
        adds += ingest_vector_valid(add, i);
    assert_int_equal(adds, 6);   /* _last_checkpoint says numOfAddFiles 6 */
    ingest_batch_free(&b);
    /* the same projection again reuses the schema */
    const struct ingest_schema *first = b.schema;
    read_rg(&o, 0, want, &b);
    assert_ptr_equal(b.schema, first);
    ingest_batch_free(&b);
    close_shared(&o);
}

static void test_spark_checkpoint_with_null_maps(void **state)
{
    (void)state;
    struct opened o = { 0 };
    struct ingest_batch b;
    open_shared(GOLDEN "checkpoint/_delta_log/00000000000000000010.checkpoint.parquet", &o);
    read_rg(&o, 0, NULL, &b);
    assert_int_equal(b.nrows, 13);
    const struct ingest_vector *add = col(&b, "add"), *rm = col(&b, "remove");
    assert_str(child(rm, "path"), 2, "1");
    assert_int_equal(i64(child(rm, "deletionTimestamp"), 2), 1697495759382LL);
    assert_false(ingest_vector_valid(child(rm, "partitionValues"), 2));
    assert_false(ingest_vector_valid(child(rm, "size"), 2));
    assert_str(child(add, "path"), 7, "11");
    assert_int_equal(i64(child(add, "size"), 7), 1);
    assert_false(ingest_vector_valid(child(col(&b, "metaData"), "createdTime"), 1));
    ingest_batch_free(&b);
    close_shared(&o);
}

static void test_spark_all_types_file(void **state)
{
    (void)state;
    struct opened o = { 0 };
    struct ingest_batch b;
    open_shared(GOLDEN "parquet-all-types/part-00000-bf6680d4-5e83-4fce-8ebb-d2b60d7e69c9-c000.snappy.parquet", &o);
    read_rg(&o, 0, NULL, &b);
    assert_int_equal(b.nrows, 200);
    assert_int_equal(col(&b, "ByteType")->field->type, INGEST_TYPE_INT8);
    assert_int_equal(col(&b, "ShortType")->field->type, INGEST_TYPE_INT16);
    assert_int_equal(col(&b, "array_of_arrays")->field->type, INGEST_TYPE_LIST);
    assert_int_equal(col(&b, "map_of_rows")->field->type, INGEST_TYPE_MAP);
    for (size_t c = 0; c < b.schema->nfields; c++)
        assert_false(ingest_vector_valid(&b.columns[c], 0));
    assert_int_equal(i64(col(&b, "ByteType"), 149), -107);
    assert_int_equal(i64(col(&b, "ShortType"), 149), 149);
    assert_int_equal(i64(col(&b, "LongType"), 1), 2);
    assert_int_equal(i64(col(&b, "decimal"), 1), 12352);
    assert_int_equal(col(&b, "decimal")->field->scale, 2);
    assert_int_equal(i64(col(&b, "BooleanType"), 2), 1);
    assert_str(col(&b, "StringType"), 149, "149");
    assert_str(col(&b, "BinaryType"), 1, "1");
    assert_int_equal(i64(col(&b, "DateType"), 149), 34);
    assert_int_equal(i64(col(&b, "TimestampType"), 1), 23423523000LL);
    assert_int_equal(i64(col(&b, "TimestampNTZType"), 149), 34900866000200LL);
    assert_true(((double *)col(&b, "DoubleType")->values)[1] == 234234.23);
    const struct ingest_vector *ns = col(&b, "nested_struct");
    assert_str(child(ns, "aa"), 149, "149");
    assert_int_equal(i64(child(child(ns, "ac"), "aca"), 149), 149);
    ingest_batch_free(&b);
    close_shared(&o);
}

static void test_spark_stats_all_types_files(void **state)
{
    (void)state;
    struct opened o = { 0 };
    struct ingest_batch b;
    open_shared(GOLDEN "data-skipping-basic-stats-all-types/"
                "part-00001-93fc8b78-4b92-45c7-ad3f-bb766e6d2e28-c000.snappy.parquet", &o);
    read_rg(&o, 0, NULL, &b);
    assert_int_equal(b.nrows, 1);
    assert_int_equal(i64(col(&b, "as_date"), 0), 10957);
    assert_int_equal(i64(col(&b, "as_timestamp"), 0), 946713600000000LL);
    assert_str(col(&b, "as_string"), 0, "0");
    assert_int_equal(col(&b, "as_big_decimal")->field->type, INGEST_TYPE_DECIMAL);
    assert_int_equal(i64(col(&b, "as_big_decimal"), 0), 0);
    ingest_batch_free(&b);
    close_shared(&o);

    memset(&o, 0, sizeof o);
    open_shared(GOLDEN "data-skipping-basic-stats-all-types/"
                "part-00000-087fe319-d261-41b4-91b4-0e8412e60b9e-c000.snappy.parquet", &o);
    assert_int_equal(ingest_parquet_reader_num_rows(o.r), 0);
    for (size_t g = 0; g < ingest_parquet_reader_num_row_groups(o.r); g++) {
        read_rg(&o, g, NULL, &b);
        assert_int_equal(b.nrows, 0);
        ingest_batch_free(&b);
    }
    close_shared(&o);
}

static void test_spark_list_of_structs(void **state)
{
    (void)state;
    struct opened o = { 0 };
    struct ingest_batch b;
    open_shared(GOLDEN "data-reader-partition-values/as_int=__HIVE_DEFAULT_PARTITION__/"
                "as_long=__HIVE_DEFAULT_PARTITION__/as_byte=__HIVE_DEFAULT_PARTITION__/"
                "as_short=__HIVE_DEFAULT_PARTITION__/as_boolean=__HIVE_DEFAULT_PARTITION__/"
                "as_float=__HIVE_DEFAULT_PARTITION__/as_double=__HIVE_DEFAULT_PARTITION__/"
                "as_string=__HIVE_DEFAULT_PARTITION__/as_string_lit_null=__HIVE_DEFAULT_PARTITION__/"
                "as_date=__HIVE_DEFAULT_PARTITION__/as_timestamp=__HIVE_DEFAULT_PARTITION__/"
                "as_big_decimal=__HIVE_DEFAULT_PARTITION__/"
                "part-00001-9ee474eb-385b-43cf-9acb-0fbed63e011c.c000.snappy.parquet", &o);
    read_rg(&o, 0, NULL, &b);
    assert_int_equal(b.nrows, 1);
    const struct ingest_vector *l = col(&b, "as_list_of_records");
    assert_int_equal(entries(l, 0), 3);
    const struct ingest_vector *val = child(&l->children[0], "val");
    for (uint32_t k = l->offsets[0]; k < l->offsets[1]; k++)
        assert_int_equal(i64(val, k), 2);
    assert_int_equal(i64(child(child(col(&b, "as_nested_struct"), "ac"), "acb"), 0), 2);
    assert_str(col(&b, "value"), 0, "2");
    ingest_batch_free(&b);
    close_shared(&o);
}

static void test_spark_data_files_read(void **state)
{
    (void)state;
    static const struct { const char *file; size_t rows; int64_t first; } files[] = {
        { "part-00000-0869ab64-e69d-407f-80d4-1a2ea1f69d11-c000.snappy.parquet", 10, 10 },
        { "part-00000-ca2d0b26-c15c-454f-a933-fc724e15e5f1-c000.snappy.parquet", 5, 0 },
        { "part-00000-7d1a368c-74ea-42df-9527-2c9a7c8292b9-c000.snappy.parquet", 6, 60 },
    };
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char rel[512];
        struct opened o = { 0 };
        struct ingest_batch b;
        snprintf(rel, sizeof rel, GOLDEN "basic-with-inserts-deletes-checkpoint/%s", files[f].file);
        open_shared(rel, &o);
        read_rg(&o, 0, NULL, &b);
        assert_int_equal(b.nrows, files[f].rows);
        for (size_t i = 0; i < b.nrows; i++)
            assert_int_equal(i64(col(&b, "id"), i), files[f].first + (int64_t)i);
        ingest_batch_free(&b);
        close_shared(&o);
    }
}

static void test_open_by_path_and_missing_file(void **state)
{
    (void)state;
    char path[8192], err[256];
    if (!find_shared())
        skip();
    snprintf(path, sizeof path, "%s/specs/vectors/tiny.parquet", shared_dir);
    struct ingest_parquet_reader *r = ingest_parquet_reader_open(path, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(ingest_parquet_reader_row_group_rows(r, 0), 3);
    struct ingest_batch b;
    assert_int_equal(ingest_parquet_reader_read_row_group(r, 1, NULL, &b, err, sizeof err),
                     INGEST_EINVAL);
    ingest_parquet_reader_close(r);
    assert_null(ingest_parquet_reader_open("/nonexistent/x.parquet", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/x.parquet"));
}

/* --- decoders ----------------------------------------------------------------- */

static void test_thrift_skips_unknown_fields_of_every_type(void **state)
{
    (void)state;
    /* spec C example 2 inside an unknown field 9 of a KeyValue-shaped struct */
    static const uint8_t b[] = {
        0x18, 0x01, 'k',                                   /* 1: "k" */
        0x8c,                                              /* 9: struct */
        0x18, 0x02, 0x61, 0x62, 0x06, 0x22, 0x03, 0x11,
        0x19, 0x28, 0x01, 0x61, 0x02, 0x62, 0x63,
        0x1b, 0x01, 0x85, 0x01, 'a', 0x05,                 /* map<string,i32> */
        0x17, 1, 2, 3, 4, 5, 6, 7, 8,                      /* double */
        0x00,
        0x00,
    };
    struct tc_in in = { b, b + sizeof b, 0 };
    struct pq_arena a = { 0 };
    int16_t last = 0, id;
    int type;
    assert_int_equal(tc_field(&in, &last, &type, &id), 0);
    assert_int_equal(id, 1);
    assert_int_equal(tc_skip(&in, type), 0);
    assert_int_equal(tc_field(&in, &last, &type, &id), 0);
    assert_int_equal(id, 9);
    assert_int_equal(tc_skip(&in, type), 0);
    assert_int_equal(tc_field(&in, &last, &type, &id), 0);
    assert_int_equal(type, TC_STOP);
    assert_ptr_equal(in.p, in.end);
    pq_arena_free(&a);
}

static void test_thrift_rejects_deep_nesting(void **state)
{
    (void)state;
    size_t n = 100000;
    uint8_t *b = malloc(n);
    assert_non_null(b);
    memset(b, 0x1c, n);         /* field +1, struct, forever */
    struct tc_in in = { b, b + n, 0 };
    struct pq_arena a = { 0 };
    struct pq_file_meta fm;
    assert_int_equal(pq_decode_file_meta(&in, &a, &fm), INGEST_ECORRUPT);
    pq_arena_free(&a);
    memset(b, 0x19, n);         /* lists of lists */
    b[0] = 0x29;
    in = (struct tc_in){ b, b + n, 0 };
    assert_int_equal(tc_skip(&in, TC_LIST), INGEST_ECORRUPT);
    free(b);
}

static void test_rle_hybrid_decodes_spec_example(void **state)
{
    (void)state;
    /* bit-packed run of one group at w=3: 0..7 (spec B6), then RLE 5 x 6 */
    static const uint8_t b[] = { 0x03, 0x88, 0xc6, 0xfa, 0x0a, 0x06 };
    uint8_t out[13];
    struct pq_rle rle;
    pq_rle_init(&rle, b, sizeof b, 3);
    assert_int_equal(pq_rle_get8(&rle, out, 13), 0);
    for (int i = 0; i < 8; i++)
        assert_int_equal(out[i], i);
    for (int i = 8; i < 13; i++)
        assert_int_equal(out[i], 6);
    assert_int_equal(pq_rle_get8(&rle, out, 1), INGEST_ECORRUPT);
}

/* --- corruption -------------------------------------------------------------- */

/* Opens and reads everything; returns 0 or the first error.  Never crashes. */
static int read_all(const uint8_t *src, size_t len)
{
    char err[256];
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len)
        memcpy(copy, src, len);
    int rc = 0;
    struct ingest_parquet_reader *r = ingest_parquet_reader_open_buf(copy, len, err, sizeof err);
    if (!r) {
        assert_true(err[0] != 0);
        rc = INGEST_ECORRUPT;
    } else {
        ingest_parquet_reader_set_max_values(r, 1 << 20);
        for (size_t g = 0; g < ingest_parquet_reader_num_row_groups(r) && rc == 0; g++) {
            struct ingest_batch b;
            rc = ingest_parquet_reader_read_row_group(r, g, NULL, &b, err, sizeof err);
            if (rc == 0)
                ingest_batch_free(&b);
            else
                assert_true(err[0] != 0 && b.columns == NULL);
        }
        ingest_parquet_reader_close(r);
    }
    free(copy);
    return rc;
}

static void test_truncated_files_fail_cleanly(void **state)
{
    (void)state;
    static const char *const files[] = {
        "specs/vectors/tiny.parquet", "specs/vectors/data.parquet",
        "specs/vectors/mini.checkpoint.parquet",
    };
    if (!find_shared())
        skip();
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t len;
        uint8_t *b = load(files[f], &len);
        assert_non_null(b);
        assert_int_equal(read_all(b, len), 0);
        for (size_t n = 0; n < len; n++)
            assert_int_not_equal(read_all(b, n), 0);
        free(b);
    }
}

static void test_flipped_bytes_never_crash(void **state)
{
    (void)state;
    static const char *const files[] = {
        "specs/vectors/tiny.parquet", "specs/vectors/data.parquet",
        "specs/vectors/mini.checkpoint.parquet",
        GOLDEN "checkpoint/_delta_log/00000000000000000010.checkpoint.parquet",
    };
    static const uint8_t xors[] = { 0x01, 0x80, 0xff, 0x10 };
    if (!find_shared())
        skip();
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t len;
        uint8_t *b = load(files[f], &len);
        assert_non_null(b);
        size_t step = len > 6000 ? 7 : 1;
        for (size_t i = 0; i < len; i += step)
            for (size_t x = 0; x < sizeof xors; x++) {
                b[i] ^= xors[x];
                (void)read_all(b, len);
                b[i] ^= xors[x];
            }
        free(b);
    }
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void test_forged_sizes_are_rejected(void **state)
{
    (void)state;
    size_t len;
    if (!find_shared())
        skip();
    uint8_t *b = load("specs/vectors/tiny.parquet", &len);
    assert_non_null(b);
    assert_int_equal(len, 155);
    /* footer length: huge, one past the file, zero */
    static const uint32_t flens[] = { 0xffffffffu, 155 - 12 + 1, 0, 0x80000000u };
    for (size_t i = 0; i < sizeof flens / sizeof flens[0]; i++) {
        uint8_t save[4];
        memcpy(save, b + len - 8, 4);
        put_le32(b + len - 8, flens[i]);
        assert_int_not_equal(read_all(b, len), 0);
        memcpy(b + len - 8, save, 4);
    }
    /* page header: uncompressed size -12 (zigzag 0x17), compressed size huge */
    static const struct { size_t off; uint8_t v; } patches[] = {
        { 7, 0x17 },      /* uncompressed_page_size = -12 */
        { 9, 0x17 },      /* compressed_page_size = -12 */
        { 9, 0x7e },      /* compressed_page_size = 63: past the chunk */
        { 12, 0x7f },     /* num_values = -64 */
        { 12, 0x7e },     /* num_values = 63 */
        { 36, 0x7c },     /* schema list: 7 elements, 2 present */
    };
    for (size_t i = 0; i < sizeof patches / sizeof patches[0]; i++) {
        uint8_t save = b[patches[i].off];
        b[patches[i].off] = patches[i].v;
        assert_int_not_equal(read_all(b, len), 0);
        b[patches[i].off] = save;
    }
    assert_int_equal(read_all(b, len), 0);
    free(b);
}

static void test_huge_counts_fail_before_allocating(void **state)
{
    (void)state;
    /* FileMetaData whose schema list claims 2^32-1 elements */
    uint8_t b[64] = "PAR1";
    size_t n = 4;
    const uint8_t meta[] = { 0x15, 0x02, 0x19, 0xfc, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00 };
    memcpy(b + n, meta, sizeof meta);
    n += sizeof meta;
    put_le32(b + n, sizeof meta);
    n += 4;
    memcpy(b + n, "PAR1", 4);
    n += 4;
    assert_int_equal(read_all(b, n), INGEST_ECORRUPT);
    assert_int_equal(read_all((const uint8_t *)"PAR1PAR1", 8), INGEST_ECORRUPT);
    assert_int_equal(read_all((const uint8_t *)"", 0), INGEST_ECORRUPT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tiny_file_reads_required_ints),
        cmocka_unit_test(test_data_file_maps_logical_types),
        cmocka_unit_test(test_mini_checkpoint_reads_actions),
        cmocka_unit_test(test_spark_checkpoint_projects_actions),
        cmocka_unit_test(test_spark_checkpoint_with_null_maps),
        cmocka_unit_test(test_spark_all_types_file),
        cmocka_unit_test(test_spark_stats_all_types_files),
        cmocka_unit_test(test_spark_list_of_structs),
        cmocka_unit_test(test_spark_data_files_read),
        cmocka_unit_test(test_open_by_path_and_missing_file),
        cmocka_unit_test(test_thrift_skips_unknown_fields_of_every_type),
        cmocka_unit_test(test_thrift_rejects_deep_nesting),
        cmocka_unit_test(test_rle_hybrid_decodes_spec_example),
        cmocka_unit_test(test_truncated_files_fail_cleanly),
        cmocka_unit_test(test_flipped_bytes_never_crash),
        cmocka_unit_test(test_forged_sizes_are_rejected),
        cmocka_unit_test(test_huge_counts_fail_before_allocating),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
