/*
 * test_delta_checkpoint.c - classic Delta checkpoints: what we write reads
 * back as the same snapshot, has Spark's exact Parquet schema, and what
 * Spark wrote loads with the values its JSON commits hold; _last_checkpoint,
 * tombstone expiry, log cleanup (with faked mtimes and clock) and failed
 * writes.
 *
 * Snapshots are built by hand with dl_snap_put_*, written with
 * ingest_delta_checkpoint into a scratch table, and loaded into a fresh
 * snapshot with dl_checkpoint_load.  Spark's golden tables live in
 * ../shared (relative to $INGESTD_SRC or the working directory); tests
 * that need them skip when it is absent.  Expected golden values were read
 * from the tables' JSON commits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingestd/error.h"
#include "ingestd/parquet.h"
#include "ingestd/parquet_reader.h"
#include "scratch.h"
#include "vecbuild.h"
#include "../../daemon/delta/dl_checkpoint.h"
#include "../../daemon/delta/dl_fs.h"
#include "../../daemon/delta/dl_state.h"
#include "../../daemon/parquet/thrift_dec.h"

#define GOLDEN "data/delta-golden/"
#define DAY 86400000LL
#define NOW 1710072000000LL     /* 2024-03-10T12:00:00Z */

static char scratch[256];
static char shared_dir[4096];

static int find_shared(void)
{
    const char *src = getenv("INGESTD_SRC");
    struct stat st;
    snprintf(shared_dir, sizeof shared_dir, "%s/../shared", src && *src ? src : ".");
    return stat(shared_dir, &st) == 0 && S_ISDIR(st.st_mode);
}

static int setup(void **state)
{
    (void)state;
    return scratch_make(scratch, sizeof scratch, "test_delta_checkpoint");
}

static int teardown(void **state)
{
    (void)state;
    return scratch_remove(scratch);
}

/* ---- building snapshots ------------------------------------------------------- */

static char *xs(const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    assert_non_null(d);
    return d;
}

/* n pairs of key, value (value may be NULL). */
static struct ingest_delta_kv *kvs(size_t n, ...)
{
    if (n == 0)
        return NULL;
    struct ingest_delta_kv *kv = calloc(n, sizeof *kv);
    assert_non_null(kv);
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        kv[i].key = xs(va_arg(ap, const char *));
        kv[i].value = xs(va_arg(ap, const char *));
    }
    va_end(ap);
    return kv;
}

static char **strv(size_t n, ...)
{
    char **v = calloc(n + 1, sizeof *v);
    assert_non_null(v);
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        v[i] = xs(va_arg(ap, const char *));
    va_end(ap);
    return v;
}

static void put_protocol(struct ingest_delta_snapshot *s, int r, int w)
{
    struct ingest_delta_protocol p = { .min_reader = r, .min_writer = w };
    dl_snap_put_protocol(s, &p);
}

static void put_metadata(struct ingest_delta_snapshot *s)
{
    struct ingest_delta_metadata m = {
        .id = xs("5d2a6c3e-1111-4000-8000-00000000000a"),
        .name = xs("events"),
        .format_provider = xs("parquet"),
        .schema_string = xs("{\"type\":\"struct\",\"fields\":[{\"name\":\"v\",\"type\":\"long\","
                            "\"nullable\":true,\"metadata\":{}},{\"name\":\"date\",\"type\":"
                            "\"string\",\"nullable\":true,\"metadata\":{}},{\"name\":\"region\","
                            "\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}"),
        .partition_cols = strv(2, "date", "region"),
        .npartition_cols = 2,
        .configuration = kvs(2, "delta.appendOnly", "true", "delta.checkpointInterval", "10"),
        .nconfiguration = 2,
        .created_time = 1700000000000LL,
    };
    dl_snap_put_metadata(s, &m);
}

static void put_txn(struct ingest_delta_snapshot *s, const char *app, int64_t v, int64_t upd)
{
    struct ingest_delta_txn t = { .app_id = xs(app), .version = v, .last_updated = upd };
    assert_int_equal(dl_snap_put_txn(s, &t), 0);
}

static void put_add(struct ingest_delta_snapshot *s, const char *path,
                    struct ingest_delta_kv *part, size_t npart, int64_t size,
                    const char *stats, struct ingest_delta_kv *tags, size_t ntags)
{
    struct ingest_delta_file f = {
        .path = xs(path), .part = part, .npart = npart, .size = size,
        .modification_time = 1700000001000LL + size % 1000, .data_change = 1, .stats = xs(stats),
        .num_records = -1, .tags = tags, .ntags = ntags, .deletion_timestamp = -1,
    };
    assert_int_equal(dl_snap_put_file(s, &f), 0);
}

static void put_remove(struct ingest_delta_snapshot *s, const char *path, int64_t ts,
                       int extended, struct ingest_delta_kv *part, size_t npart, int64_t size)
{
    struct ingest_delta_file f = {
        .path = xs(path), .part = part, .npart = npart, .size = size,
        .modification_time = -1, .data_change = 1, .num_records = -1, .removed = 1,
        .deletion_timestamp = ts, .extended_file_metadata = extended,
    };
    assert_int_equal(dl_snap_put_file(s, &f), 0);
}

/* A table handle on a fresh directory <scratch>/<name> with protocol 1/2
 * and metaData in its snapshot at `version`. */
static void table_init(struct ingest_delta_table *tbl, const char *name, int64_t version)
{
    char p[512];
    memset(tbl, 0, sizeof *tbl);
    snprintf(p, sizeof p, "%s/%s", scratch, name);
    tbl->path = xs(p);
    snprintf(p, sizeof p, "%s/%s/_delta_log", scratch, name);
    tbl->log_dir = xs(p);
    assert_int_equal(dl_mkdirs(tbl->log_dir, 0755), 0);
    dl_snap_init(&tbl->snap);
    tbl->snap.version = version;
    tbl->checkpoint_interval = 10;
    tbl->log_retention_ms = 30 * DAY;
    tbl->tombstone_retention_ms = 7 * DAY;
    tbl->now_ms_override = NOW;
    put_protocol(&tbl->snap, 1, 2);
    put_metadata(&tbl->snap);
}

static void table_free(struct ingest_delta_table *tbl)
{
    dl_snap_free(&tbl->snap);
    free(tbl->path);
    free(tbl->log_dir);
}

static void checkpoint_ok(struct ingest_delta_table *tbl)
{
    char err[512] = "";
    int rc = ingest_delta_checkpoint(tbl, err, sizeof err);
    if (rc != 0)
        fail_msg("checkpoint: %s (%s)", err, ingest_strerror(rc));
}

static char *log_path(const struct ingest_delta_table *tbl, const char *name)
{
    static char p[1024];
    snprintf(p, sizeof p, "%s/%s", tbl->log_dir, name);
    return p;
}

static char *ckpt_path(const struct ingest_delta_table *tbl, int64_t v)
{
    char name[96];
    ingest_delta_version_name(v, ".checkpoint.parquet", name, sizeof name);
    return log_path(tbl, name);
}

/* Loads checkpoint files into a fresh snapshot; returns the row count. */
static int64_t load_ok(struct ingest_delta_snapshot *s, const char *const *paths, size_t n)
{
    char err[512] = "";
    int64_t rows = -1;
    dl_snap_init(s);
    int rc = dl_checkpoint_load_rows(s, paths, n, &rows, err, sizeof err);
    if (rc != 0)
        fail_msg("load: %s (%s)", err, ingest_strerror(rc));
    return rows;
}

static int64_t load_one(struct ingest_delta_snapshot *s, const char *path)
{
    const char *paths[1] = { path };
    return load_ok(s, paths, 1);
}

/* ---- comparing snapshots -------------------------------------------------------- */

static void assert_str_or_null(const char *got, const char *want)
{
    if (!want)
        assert_null(got);
    else {
        assert_non_null(got);
        assert_string_equal(got, want);
    }
}

static void assert_kv_equal(const struct ingest_delta_kv *got, size_t ngot,
                            const struct ingest_delta_kv *want, size_t nwant)
{
    assert_int_equal(ngot, nwant);
    for (size_t i = 0; i < nwant; i++) {
        assert_string_equal(got[i].key, want[i].key);
        assert_str_or_null(got[i].value, want[i].value);
    }
}

static void assert_strv_equal(char **got, char **want)
{
    if (!want) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    size_t i = 0;
    for (; want[i]; i++)
        assert_str_or_null(got[i], want[i]);
    assert_null(got[i]);
}

static void assert_file_equal(const struct ingest_delta_file *got,
                              const struct ingest_delta_file *want)
{
    assert_string_equal(got->path, want->path);
    assert_int_equal(got->removed, want->removed);
    assert_int_equal(got->data_change, want->data_change);
    if (!want->removed) {
        assert_kv_equal(got->part, got->npart, want->part, want->npart);
        assert_int_equal(got->size, want->size);
        assert_int_equal(got->modification_time, want->modification_time);
        assert_str_or_null(got->stats, want->stats);
        assert_kv_equal(got->tags, got->ntags, want->tags, want->ntags);
        assert_int_equal(got->deletion_timestamp, -1);
    } else {
        assert_int_equal(got->deletion_timestamp, want->deletion_timestamp);
        assert_int_equal(got->extended_file_metadata, want->extended_file_metadata);
        if (want->extended_file_metadata) {
            assert_kv_equal(got->part, got->npart, want->part, want->npart);
            assert_int_equal(got->size, want->size);
        } else {
            assert_int_equal(got->npart, 0);
            assert_int_equal(got->size, -1);
        }
        assert_null(got->stats);
        assert_int_equal(got->ntags, 0);
    }
}

/* Everything in want is in got, the same; nothing else is. */
static void assert_snap_equal(const struct ingest_delta_snapshot *got,
                              const struct ingest_delta_snapshot *want)
{
    assert_true(got->has_protocol);
    assert_int_equal(got->protocol.min_reader, want->protocol.min_reader);
    assert_int_equal(got->protocol.min_writer, want->protocol.min_writer);
    assert_strv_equal(got->protocol.reader_features, want->protocol.reader_features);
    assert_strv_equal(got->protocol.writer_features, want->protocol.writer_features);
    const struct ingest_delta_metadata *gm = &got->meta, *wm = &want->meta;
    assert_true(got->has_metadata);
    assert_string_equal(gm->id, wm->id);
    assert_str_or_null(gm->name, wm->name);
    assert_str_or_null(gm->description, wm->description);
    assert_string_equal(gm->format_provider, wm->format_provider);
    assert_kv_equal(gm->format_options, gm->nformat_options, wm->format_options,
                    wm->nformat_options);
    assert_string_equal(gm->schema_string, wm->schema_string);
    assert_int_equal(gm->npartition_cols, wm->npartition_cols);
    for (size_t i = 0; i < wm->npartition_cols; i++)
        assert_string_equal(gm->partition_cols[i], wm->partition_cols[i]);
    assert_kv_equal(gm->configuration, gm->nconfiguration, wm->configuration,
                    wm->nconfiguration);
    assert_int_equal(gm->created_time, wm->created_time);
    assert_int_equal(got->ntxns, want->ntxns);
    for (size_t i = 0; i < want->ntxns; i++) {
        const struct ingest_delta_txn *t = dl_snap_find_txn(got, want->txns[i].app_id);
        assert_non_null(t);
        assert_true(t->version == want->txns[i].version);
        assert_true(t->last_updated == want->txns[i].last_updated);
    }
    assert_int_equal(got->nfiles, want->nfiles);
    assert_int_equal(got->nlive, want->nlive);
    for (size_t i = 0; i < want->nfiles; i++) {
        const struct ingest_delta_file *f = dl_snap_find_file(got, want->files[i].path);
        assert_non_null(f);
        assert_file_equal(f, &want->files[i]);
    }
}

/* ---- round trip ------------------------------------------------------------------- */

static void fill_varied(struct ingest_delta_snapshot *s)
{
    put_txn(s, "pipe/topic/0", 9007199254740993LL, 1700000000123LL);
    put_txn(s, "pipe/topic/1", INT64_MAX, -1);
    put_txn(s, "pipe/topic/2", 0, INT64_MAX);
    put_add(s, "date=2024-01-01/region=eu/part-00000-a.zstd.parquet",
            kvs(2, "date", "2024-01-01", "region", "eu"), 2, 1234,
            "{\"numRecords\":3,\"minValues\":{\"v\":1},\"maxValues\":{\"v\":9},"
            "\"nullCount\":{\"v\":0}}", kvs(2, "INSERTION_TIME", "1700000001000000", "k", NULL), 2);
    put_add(s, "date=2024-01-01/region=__HIVE_DEFAULT_PARTITION__/part-00001-b.zstd.parquet",
            kvs(2, "date", "2024-01-01", "region", NULL), 2, 999, NULL, NULL, 0);
    put_add(s, "date=2024-01-02/region=us/part-00002-%C3%A9%20x.zstd.parquet",
            kvs(2, "date", "2024-01-02", "region", "us"), 2, INT64_MAX,
            "{\"numRecords\":9007199254740993}", NULL, 0);
    put_remove(s, "date=2023-12-31/region=eu/part-00009-c.zstd.parquet", NOW - DAY, 1,
               kvs(2, "date", "2023-12-31", "region", "eu"), 2, 4321);
    put_remove(s, "date=2023-12-30/region=eu/part-00010-d.zstd.parquet", -1, 0, NULL, 0, -1);
}

static void test_checkpoint_reads_back_as_the_same_snapshot(void **state)
{
    (void)state;
    struct ingest_delta_table tbl;
    struct ingest_delta_snapshot got;
    table_init(&tbl, "roundtrip", 7);
    fill_varied(&tbl.snap);
    tbl.checkpoint_pending = 1;
    tbl.checkpoint_last_err = INGEST_EIO;
    snprintf(tbl.checkpoint_msg, sizeof tbl.checkpoint_msg, "earlier failure");
    checkpoint_ok(&tbl);
    assert_int_equal(tbl.checkpoint_pending, 0);
    assert_int_equal(tbl.checkpoint_last_err, 0);
    assert_string_equal(tbl.checkpoint_msg, "");

    assert_int_equal(load_one(&got, ckpt_path(&tbl, 7)), 2 + 3 + 3 + 2);
    assert_snap_equal(&got, &tbl.snap);
    /* numRecords comes from the stats JSON, exactly */
    const struct ingest_delta_file *f =
        dl_snap_find_file(&got, "date=2024-01-02/region=us/part-00002-%C3%A9%20x.zstd.parquet");
    assert_true(f->num_records == 9007199254740993LL);
    f = dl_snap_find_file(&got, "date=2024-01-01/region=eu/part-00000-a.zstd.parquet");
    assert_int_equal(f->num_records, 3);
    f = dl_snap_find_file(&got,
                          "date=2024-01-01/region=__HIVE_DEFAULT_PARTITION__/part-00001-b.zstd.parquet");
    assert_int_equal(f->num_records, -1);
    assert_null(f->part[1].value);          /* a null partition value stays null */
    assert_true(dl_snap_find_txn(&got, "pipe/topic/1")->version == INT64_MAX);
    dl_snap_free(&got);
    table_free(&tbl);
}

static void test_thousands_of_files_span_several_batches(void **state)
{
    (void)state;
    struct ingest_delta_table tbl;
    struct ingest_delta_snapshot got;
    table_init(&tbl, "many", 12);
    for (int i = 0; i < 10000; i++) {
        char path[64], stats[64];
        snprintf(path, sizeof path, "part-%05d.parquet", i);
        snprintf(stats, sizeof stats, "{\"numRecords\":%d}", i);
        if (i % 10 == 9)
            put_remove(&tbl.snap, path, NOW - i, 1, NULL, 0, i);
        else
            put_add(&tbl.snap, path, NULL, 0, i, stats, NULL, 0);
    }
    checkpoint_ok(&tbl);
    assert_int_equal(load_one(&got, ckpt_path(&tbl, 12)), 2 + 10000);
    assert_snap_equal(&got, &tbl.snap);
    assert_int_equal(got.nlive, 9000);
    assert_int_equal(dl_snap_find_file(&got, "part-09998.parquet")->num_records, 9998);
    dl_snap_free(&got);
    table_free(&tbl);
}

static void test_multi_part_checkpoint_loads_every_part(void **state)
{
    (void)state;
    struct ingest_delta_table a, b;
    struct ingest_delta_snapshot got;
    table_init(&a, "part1", 3);
    table_init(&b, "part2", 3);
    put_add(&a.snap, "a.parquet", NULL, 0, 10, NULL, NULL, 0);
    put_txn(&b.snap, "app", 5, -1);
    put_add(&b.snap, "b.parquet", NULL, 0, 20, NULL, NULL, 0);
    checkpoint_ok(&a);
    checkpoint_ok(&b);
    char pa[1024];
    snprintf(pa, sizeof pa, "%s", ckpt_path(&a, 3));
    const char *paths[2] = { pa, ckpt_path(&b, 3) };
    assert_int_equal(load_ok(&got, paths, 2), 3 + 4);
    assert_int_equal(got.nlive, 2);
    assert_int_equal(dl_snap_find_file(&got, "b.parquet")->size, 20);
    assert_int_equal(dl_snap_find_txn(&got, "app")->version, 5);
    dl_snap_free(&got);
    table_free(&a);
    table_free(&b);
}

/* ---- Spark's layout ----------------------------------------------------------------- */

struct footer {
    uint8_t *buf;
    struct pq_arena arena;
    struct pq_file_meta fm;
};

static void read_footer(const char *path, struct footer *ft)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    assert_true(n > 12);
    ft->buf = malloc((size_t)n);
    assert_non_null(ft->buf);
    assert_int_equal(fread(ft->buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    assert_memory_equal(ft->buf + n - 4, "PAR1", 4);
    const uint8_t *e = ft->buf + n - 8;
    uint32_t len = (uint32_t)e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16 |
                   (uint32_t)e[3] << 24;
    assert_true(len < (uint32_t)n - 8);
    struct tc_in in = { e - len, e, 0 };
    memset(&ft->arena, 0, sizeof ft->arena);
    assert_int_equal(pq_decode_file_meta(&in, &ft->arena, &ft->fm), 0);
}

static void footer_free(struct footer *ft)
{
    pq_arena_free(&ft->arena);
    free(ft->buf);
}

static void test_schema_is_sparks_element_for_element(void **state)
{
    (void)state;
    char golden[8192];
    if (!find_shared())
        skip();
    snprintf(golden, sizeof golden, "%s/" GOLDEN "basic-with-inserts-deletes-checkpoint/"
             "_delta_log/00000000000000000010.checkpoint.parquet", shared_dir);
    struct ingest_delta_table tbl;
    table_init(&tbl, "schema", 1);
    checkpoint_ok(&tbl);
    struct footer ours, spark;
    read_footer(ckpt_path(&tbl, 1), &ours);
    read_footer(golden, &spark);
    assert_int_equal(ours.fm.nschema, spark.fm.nschema);
    int leaves = 0;
    for (uint32_t i = 0; i < spark.fm.nschema; i++) {
        const struct pq_schema_element *o = &ours.fm.schema[i], *s = &spark.fm.schema[i];
        if (i > 0) {
            if (strcmp(o->name, s->name) != 0)
                fail_msg("element %u: %s, Spark has %s", i, o->name, s->name);
            assert_int_equal(o->repetition, s->repetition);
        }
        assert_int_equal(o->num_children, s->num_children);
        if (s->num_children <= 0) {     /* absent (-1) on leaves */
            leaves++;
            assert_int_equal(o->type, s->type);
        }
        if (o->converted != s->converted || o->logical.kind != s->logical.kind)
            fail_msg("%s: converted %d logical %d, Spark %d/%d", s->name, o->converted,
                     o->logical.kind, s->converted, s->logical.kind);
    }
    assert_int_equal(leaves, 53);
    /* and the codec is one every reader takes */
    assert_int_equal(ours.fm.row_groups[0].columns[0].meta.codec, INGEST_PARQUET_ZSTD);
    footer_free(&ours);
    footer_free(&spark);
    table_free(&tbl);
}

/* Spark's file as our reader sees it: the same schema tree, field by field. */
static void assert_fields_equal(const struct ingest_field *a, const struct ingest_field *b)
{
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->nullable, b->nullable);
    assert_int_equal(a->nchildren, b->nchildren);
    for (size_t i = 0; i < a->nchildren; i++)
        assert_fields_equal(&a->children[i], &b->children[i]);
}

static void test_reader_sees_the_same_schema_as_sparks(void **state)
{
    (void)state;
    char golden[8192], err[256];
    if (!find_shared())
        skip();
    snprintf(golden, sizeof golden, "%s/" GOLDEN "basic-with-inserts-deletes-checkpoint/"
             "_delta_log/00000000000000000010.checkpoint.parquet", shared_dir);
    struct ingest_parquet_reader *r = ingest_parquet_reader_open(golden, err, sizeof err);
    assert_non_null(r);
    const struct ingest_schema *spark = ingest_parquet_reader_schema(r);
    const struct ingest_schema *ours = dl_ckpt_schema();
    assert_int_equal(ours->nfields, spark->nfields);
    for (size_t i = 0; i < spark->nfields; i++)
        assert_fields_equal(&ours->fields[i], &spark->fields[i]);
    ingest_parquet_reader_close(r);
}

/* ---- Spark's checkpoints load ------------------------------------------------------- */

static void test_spark_checkpoint_with_removes_loads(void **state)
{
    (void)state;
    char path[8192];
    struct ingest_delta_snapshot s;
    if (!find_shared())
        skip();
    snprintf(path, sizeof path, "%s/" GOLDEN "basic-with-inserts-deletes-checkpoint/"
             "_delta_log/00000000000000000010.checkpoint.parquet", shared_dir);
    assert_int_equal(load_one(&s, path), 13);   /* _last_checkpoint: "size":13 */
    assert_int_equal(s.nlive, 6);               /* "numOfAddFiles":6 */
    assert_int_equal(s.nfiles, 11);
    assert_int_equal(s.ntxns, 0);
    assert_int_equal(s.protocol.min_reader, 1);
    assert_int_equal(s.protocol.min_writer, 2);
    assert_null(s.protocol.reader_features);
    assert_string_equal(s.meta.id, "testId");
    assert_string_equal(s.meta.format_provider, "parquet");
    assert_string_equal(s.meta.schema_string,
                        "{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\","
                        "\"nullable\":true,\"metadata\":{}}]}");
    assert_int_equal(s.meta.npartition_cols, 0);
    assert_int_equal(s.meta.nconfiguration, 0);
    assert_int_equal(s.meta.created_time, 1691426730560LL);
    /* 00000000000000000005.json */
    const struct ingest_delta_file *f =
        dl_snap_find_file(&s, "part-00000-ca2d0b26-c15c-454f-a933-fc724e15e5f1-c000.snappy.parquet");
    assert_non_null(f);
    assert_false(f->removed);
    assert_int_equal(f->size, 500);
    assert_int_equal(f->modification_time, 1691426737139LL);
    assert_int_equal(f->npart, 0);
    assert_int_equal(f->num_records, 5);
    assert_string_equal(f->stats, "{\"numRecords\":5,\"minValues\":{\"id\":0},\"maxValues\":"
                                  "{\"id\":4},\"nullCount\":{\"id\":0}}");
    f = dl_snap_find_file(&s, "part-00000-b09fdf65-0ae3-44d0-96d0-1d85a121b76a-c000.snappy.parquet");
    assert_non_null(f);
    assert_true(f->removed);
    assert_int_equal(f->deletion_timestamp, 1691426737143LL);
    assert_int_equal(f->size, 539);
    assert_true(f->extended_file_metadata);
    /* 00000000000000000010.json */
    f = dl_snap_find_file(&s, "part-00000-da82aeb5-4edb-4cc1-91ef-970c75c965cc-c000.snappy.parquet");
    assert_non_null(f);
    assert_int_equal(f->num_records, 10);
    /* 00000000000000000011.json is after the checkpoint */
    assert_null(dl_snap_find_file(&s, "part-00000-26da113c-2e45-4aba-b1ce-6eb5e46c53f7-c000.snappy.parquet"));
    dl_snap_free(&s);
}

static void test_spark_checkpoint_with_plain_removes_loads(void **state)
{
    (void)state;
    char path[8192];
    struct ingest_delta_snapshot s;
    if (!find_shared())
        skip();
    snprintf(path, sizeof path, "%s/" GOLDEN "checkpoint/_delta_log/"
             "00000000000000000010.checkpoint.parquet", shared_dir);
    assert_int_equal(load_one(&s, path), 13);
    /* v0 adds "1"; each of v1..v10 removes "n" and adds "n+1" */
    assert_int_equal(s.nlive, 1);
    assert_int_equal(s.nfiles, 11);
    const struct ingest_delta_file *f = dl_snap_find_file(&s, "11");
    assert_non_null(f);
    assert_int_equal(f->size, 1);
    assert_int_equal(f->modification_time, 1);
    f = dl_snap_find_file(&s, "1");
    assert_true(f->removed);
    assert_int_equal(f->deletion_timestamp, 1697495759382LL);   /* 00..01.json */
    assert_false(f->extended_file_metadata);
    assert_int_equal(f->size, -1);
    assert_int_equal(f->npart, 0);
    f = dl_snap_find_file(&s, "10");
    assert_true(f->removed);
    assert_int_equal(f->deletion_timestamp, 1697495774314LL);   /* 00..10.json */
    assert_int_equal(s.meta.created_time, -1);                  /* absent in 00..00.json */
    assert_string_equal(s.meta.id, "testId");
    dl_snap_free(&s);
}

/* ---- _last_checkpoint and tombstones ------------------------------------------------ */

static void test_last_checkpoint_has_exact_counts(void **state)
{
    (void)state;
    struct ingest_delta_table tbl;
    char *text, want[256];
    size_t len;
    struct stat st;
    table_init(&tbl, "last", 9007199254740993LL);
    fill_varied(&tbl.snap);
    checkpoint_ok(&tbl);
    assert_int_equal(stat(ckpt_path(&tbl, 9007199254740993LL), &st), 0);
    assert_int_equal(dl_read_file(log_path(&tbl, "_last_checkpoint"), &text, &len), 0);
    snprintf(want, sizeof want,
             "{\"version\":9007199254740993,\"size\":10,\"sizeInBytes\":%lld,"
             "\"numOfAddFiles\":3}\n", (long long)st.st_size);
    assert_string_equal(text, want);
    free(text);
    table_free(&tbl);
}

static void test_newer_last_checkpoint_is_kept(void **state)
{
    (void)state;
    struct ingest_delta_table tbl;
    char *text;
    size_t len;
    static const char newer[] = "{\"version\":20,\"size\":2}";
    table_init(&tbl, "newer", 12);
    char err[256];
    assert_int_equal(dl_publish(tbl.log_dir, "_last_checkpoint", newer, strlen(newer), 0, err,
                                sizeof err), 0);
    checkpoint_ok(&tbl);
    assert_int_equal(dl_read_file(log_path(&tbl, "_last_checkpoint"), &text, &len), 0);
    assert_string_equal(text, newer);
    free(text);
    table_free(&tbl);
}

static void test_expired_tombstones_are_dropped(void **state)
{
    (void)state;
    struct ingest_delta_table tbl;
    struct ingest_delta_snapshot got;
    table_init(&tbl, "tombstones", 4);
    put_remove(&tbl.snap, "old", NOW - 7 * DAY - 1, 1, NULL, 0, 1);
    put_remove(&tbl.snap, "edge", NOW - 7 * DAY, 1, NULL, 0, 2);
    put_remove(&tbl.snap, "recent", NOW - DAY, 1, NULL, 0, 3);
    put_remove(&tbl.snap, "undated", -1, 0, NULL, 0, -1);
    put_add(&tbl.snap, "live", NULL, 0, 5, NULL, NULL, 0);
    checkpoint_ok(&tbl);
    assert_int_equal(load_one(&got, ckpt_path(&tbl, 4)), 2 + 4);
    assert_null(dl_snap_find_file(&got, "old"));
    assert_non_null(dl_snap_find_file(&got, "edge"));      /* not yet past the week */
    assert_non_null(dl_snap_find_file(&got, "recent"));
    assert_int_equal(dl_snap_find_file(&got, "undated")->deletion_timestamp, -1);
    assert_non_null(dl_snap_find_file(&got, "live"));
    dl_snap_free(&got);
    /* a shorter retention drops more */
    tbl.tombstone_retention_ms = DAY / 2;
    checkpoint_ok(&tbl);
    assert_int_equal(load_one(&got, ckpt_path(&tbl, 4)), 2 + 2);
    assert_null(dl_snap_find_file(&got, "recent"));
    assert_non_null(dl_snap_find_file(&got, "undated"));
    dl_snap_free(&got);
    table_free(&tbl);
}

/* ---- log cleanup ---------------------------------------------------------------------- */

static void touch(const struct ingest_delta_table *tbl, const char *name, int64_t mtime_ms)
{
    const char *p = log_path(tbl, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{}\n", 3), 3);
    close(fd);
    struct timespec ts[2] = {
        { .tv_sec = mtime_ms / 1000, .tv_nsec = (mtime_ms % 1000) * 1000000 },
        { .tv_sec = mtime_ms / 1000, .tv_nsec = (mtime_ms % 1000) * 1000000 },
    };
    assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
}

static void touch_v(const struct ingest_delta_table *tbl, int64_t v, const char *suffix,
                    int64_t mtime_ms)
{
    char name[96];
    ingest_delta_version_name(v, suffix, name, sizeof name);
    touch(tbl, name, mtime_ms);
}

static int exists_v(const struct ingest_delta_table *tbl, int64_t v, const char *suffix)
{
    char name[96];
    struct stat st;
    ingest_delta_version_name(v, suffix, name, sizeof name);
    return stat(log_path(tbl, name), &st) == 0;
}

static int exists(const struct ingest_delta_table *tbl, const char *name)
{
    struct stat st;
    return stat(log_path(tbl, name), &st) == 0;
}

/* Commits 0..12 (0..8 written `old_ms`, the rest yesterday), checkpoints
 * at 2 and 5, checksums, and one unrelated file. */
static void make_log(struct ingest_delta_table *tbl, const char *name, int64_t old_ms)
{
    table_init(tbl, name, 12);
    for (int v = 0; v <= 12; v++) {
        int64_t t = v <= 8 ? old_ms + v * 1000 : NOW - DAY;
        touch_v(tbl, v, ".json", t);
        touch_v(tbl, v, ".crc", t);
    }
    touch_v(tbl, 2, ".checkpoint.parquet", old_ms);
    touch_v(tbl, 5, ".checkpoint.parquet", old_ms);
    touch(tbl, ".00000000000000000001.json.crc", old_ms);
    touch(tbl, "00000000000000000000.00000000000000000003.compacted.json", old_ms);
    touch(tbl, "notes.txt", old_ms);
}

static void test_cleanup_deletes_only_behind_an_expired_checkpoint(void **state)
{
    (void)state;
    struct ingest_delta_table tbl;
    make_log(&tbl, "cleanup", NOW - 40 * DAY);
    checkpoint_ok(&tbl);
    /* newest expired commit 8 -> newest checkpoint <= 8 is 5 */
    for (int v = 0; v < 5; v++) {
        assert_false(exists_v(&tbl, v, ".json"));
        assert_false(exists_v(&tbl, v, ".crc"));
    }
    assert_false(exists_v(&tbl, 2, ".checkpoint.parquet"));
    assert_false(exists(&tbl, ".00000000000000000001.json.crc"));
    for (int v = 5; v <= 12; v++) {
        assert_true(exists_v(&tbl, v, ".json"));
        assert_true(exists_v(&tbl, v, ".crc"));
    }
    assert_true(exists_v(&tbl, 5, ".checkpoint.parquet"));
    assert_true(exists_v(&tbl, 12, ".checkpoint.parquet"));
    assert_true(exists(&tbl, "_last_checkpoint"));
    assert_true(exists(&tbl, "notes.txt"));
    assert_true(exists(&tbl, "00000000000000000000.00000000000000000003.compacted.json"));
    table_free(&tbl);
}

static void test_cleanup_stops_at_a_late_commit(void **state)
{
    (void)state;
    struct ingest_delta_table tbl;
    make_log(&tbl, "late", NOW - 40 * DAY);
    /* commit 3 was written recently: commits after it count as recent too */
    touch_v(&tbl, 3, ".json", NOW - DAY);
    checkpoint_ok(&tbl);
    assert_false(exists_v(&tbl, 0, ".json"));
    assert_false(exists_v(&tbl, 1, ".json"));
    for (int v = 2; v <= 12; v++)
        assert_true(exists_v(&tbl, v, ".json"));
    assert_true(exists_v(&tbl, 2, ".checkpoint.parquet"));
    table_free(&tbl);
}

static void test_cleanup_cutoff_is_midnight_utc(void **state)
{
    (void)state;
    struct ingest_delta_table tbl;
    /* NOW - 30 days is 12:00 UTC; a commit at 06:00 that day is older than
     * the retention but after the cutoff (midnight) */
    make_log(&tbl, "midnight", NOW - 30 * DAY - 6 * 3600000LL);
    checkpoint_ok(&tbl);
    for (int v = 0; v <= 12; v++)
        assert_true(exists_v(&tbl, v, ".json"));
    table_free(&tbl);
    make_log(&tbl, "midnight2", NOW - 30 * DAY - 13 * 3600000LL);   /* 23:00 the day before */
    checkpoint_ok(&tbl);
    assert_false(exists_v(&tbl, 4, ".json"));
    assert_true(exists_v(&tbl, 5, ".json"));
    table_free(&tbl);
}

static void test_cleanup_can_be_disabled(void **state)
{
    (void)state;
    struct ingest_delta_table tbl;
    make_log(&tbl, "disabled", NOW - 40 * DAY);
    struct ingest_delta_metadata *m = &tbl.snap.meta;
    free(m->configuration[1].key);
    free(m->configuration[1].value);
    m->configuration[1].key = xs("delta.enableExpiredLogCleanup");
    m->configuration[1].value = xs("FALSE");
    checkpoint_ok(&tbl);
    for (int v = 0; v <= 12; v++)
        assert_true(exists_v(&tbl, v, ".json"));
    assert_true(exists_v(&tbl, 2, ".checkpoint.parquet"));
    table_free(&tbl);
}

static void test_cleanup_never_passes_the_checkpoint_written(void **state)
{
    (void)state;
    struct ingest_delta_table tbl;
    make_log(&tbl, "ahead", NOW - 40 * DAY);
    /* another writer is ahead: commits up to 14 and a checkpoint at 14, all old */
    for (int v = 9; v <= 14; v++)
        touch_v(&tbl, v, ".json", NOW - 40 * DAY + v * 1000);
    touch_v(&tbl, 14, ".checkpoint.parquet", NOW - 40 * DAY);
    tbl.snap.version = 7;
    checkpoint_ok(&tbl);
    assert_false(exists_v(&tbl, 6, ".json"));
    for (int v = 7; v <= 14; v++)
        assert_true(exists_v(&tbl, v, ".json"));
    assert_true(exists_v(&tbl, 7, ".checkpoint.parquet"));
    assert_true(exists_v(&tbl, 14, ".checkpoint.parquet"));
    table_free(&tbl);
}

/* ---- failures ---------------------------------------------------------------------------- */

static int count_temp_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    assert_non_null(d);
    for (struct dirent *de; (de = readdir(d));)
        n += strncmp(de->d_name, ".tmp-", 5) == 0;
    closedir(d);
    return n;
}

static void test_failed_publish_leaves_no_temp_file(void **state)
{
    (void)state;
    struct ingest_delta_table tbl;
    char err[512] = "", sub[1100];
    table_init(&tbl, "blocked", 3);
    /* a non-empty directory where the checkpoint goes: rename(2) fails */
    assert_int_equal(mkdir(ckpt_path(&tbl, 3), 0755), 0);
    snprintf(sub, sizeof sub, "%s/x", ckpt_path(&tbl, 3));
    assert_int_equal(mkdir(sub, 0755), 0);
    int rc = ingest_delta_checkpoint(&tbl, err, sizeof err);
    assert_true(rc < 0);
    assert_non_null(strstr(err, "checkpoint.parquet"));
    assert_int_equal(count_temp_files(tbl.log_dir), 0);
    assert_false(exists(&tbl, "_last_checkpoint"));
    table_free(&tbl);
}

static void test_read_only_log_fails_cleanly(void **state)
{
    (void)state;
    struct ingest_delta_table tbl;
    char err[512] = "";
    if (geteuid() == 0)
        skip();     /* root writes anyway */
    table_init(&tbl, "readonly", 3);
    assert_int_equal(chmod(tbl.log_dir, 0555), 0);
    int rc = ingest_delta_checkpoint(&tbl, err, sizeof err);
    chmod(tbl.log_dir, 0755);
    assert_int_equal(rc, INGEST_EACCES);
    assert_true(err[0] != 0);
    assert_int_equal(count_temp_files(tbl.log_dir), 0);
    assert_false(exists_v(&tbl, 3, ".checkpoint.parquet"));
    table_free(&tbl);
}

static void test_checkpoint_refuses_an_empty_snapshot(void **state)
{
    (void)state;
    struct ingest_delta_table tbl;
    char err[256] = "";
    table_init(&tbl, "empty", -1);
    assert_int_equal(ingest_delta_checkpoint(&tbl, err, sizeof err), INGEST_EINVAL);
    tbl.snap.version = 0;
    dl_metadata_free(&tbl.snap.meta);
    tbl.snap.has_metadata = 0;
    assert_int_equal(ingest_delta_checkpoint(&tbl, err, sizeof err), INGEST_EINVAL);
    assert_false(exists_v(&tbl, 0, ".checkpoint.parquet"));
    table_free(&tbl);
}

/* ---- malformed checkpoints ------------------------------------------------------------- */

static struct ingest_field kv_f[] = { F("key", INGEST_TYPE_STRING, 0),
                                      F("value", INGEST_TYPE_STRING, 1) };
static struct ingest_field add_f[] = {
    F("path", INGEST_TYPE_STRING, 1), FG("partitionValues", INGEST_TYPE_MAP, 1, kv_f),
    F("size", INGEST_TYPE_INT64, 1), F("modificationTime", INGEST_TYPE_INT64, 1),
    F("dataChange", INGEST_TYPE_BOOLEAN, 1),
};
static struct ingest_field small_f[] = {
    FG("add", INGEST_TYPE_STRUCT, 1, add_f), F("extra", INGEST_TYPE_INT64, 1),
};

/* rows: an add (path NULL: a null path), or NULL for a row with no action */
static void write_small(const char *path, const char *const *paths, const int *has_add,
                        size_t n)
{
    struct vb_table t;
    char err[256];
    vb_table_init(&t, small_f, 2);
    for (size_t i = 0; i < n; i++) {
        struct vb *add = &t.cols[0];
        if (!has_add[i]) {
            vb_null(add);
        } else {
            if (paths[i])
                vb_str(&add->kids[0], paths[i]);
            else
                vb_null(&add->kids[0]);
            vb_close(&add->kids[1]);            /* empty partitionValues */
            vb_i64(&add->kids[2], 10);
            vb_i64(&add->kids[3], 20);
            vb_i64(&add->kids[4], 1);
            vb_close(add);
        }
        vb_i64(&t.cols[1], 5);
    }
    vb_table_finish(&t);
    struct ingest_parquet_writer *w = ingest_parquet_writer_open(path, &t.schema, NULL, err,
                                                                 sizeof err);
    assert_non_null(w);
    assert_int_equal(ingest_parquet_writer_write(w, &t.batch), 0);
    assert_int_equal(ingest_parquet_writer_close(w, NULL), 0);
    vb_table_free(&t);
}

static void test_malformed_rows_are_corruption_with_file_and_row(void **state)
{
    (void)state;
    char p[512], err[512];
    struct ingest_delta_snapshot s;
    const char *paths[1] = { p };
    static const char *const ok_paths[] = { "a", "b" };
    static const int both[] = { 1, 1 };
    snprintf(p, sizeof p, "%s/ok.parquet", scratch);
    write_small(p, ok_paths, both, 2);
    assert_int_equal(load_ok(&s, paths, 1), 2);     /* missing columns, extra one: fine */
    assert_int_equal(s.nlive, 2);
    assert_false(s.has_protocol);
    dl_snap_free(&s);

    static const char *const no_path[] = { "a", NULL };
    snprintf(p, sizeof p, "%s/nopath.parquet", scratch);
    write_small(p, no_path, both, 2);
    dl_snap_init(&s);
    assert_int_equal(dl_checkpoint_load(&s, paths, 1, err, sizeof err), INGEST_ECORRUPT);
    assert_non_null(strstr(err, "nopath.parquet: row 1: add.path is missing"));
    dl_snap_free(&s);

    static const int hole[] = { 1, 0 };
    snprintf(p, sizeof p, "%s/noaction.parquet", scratch);
    write_small(p, ok_paths, hole, 2);
    dl_snap_init(&s);
    assert_int_equal(dl_checkpoint_load(&s, paths, 1, err, sizeof err), INGEST_ECORRUPT);
    assert_non_null(strstr(err, "noaction.parquet: row 1: no action"));
    dl_snap_free(&s);

    snprintf(p, sizeof p, "%s/absent.parquet", scratch);
    dl_snap_init(&s);
    assert_int_equal(dl_checkpoint_load(&s, paths, 1, err, sizeof err), INGEST_ENOENT);
    assert_non_null(strstr(err, "absent.parquet"));
    dl_snap_free(&s);

    snprintf(p, sizeof p, "%s/garbage.parquet", scratch);
    char e2[256];
    assert_int_equal(dl_publish(scratch, "garbage.parquet", "PAR1 not really PAR1", 20, 0, e2,
                                sizeof e2), 0);
    dl_snap_init(&s);
    assert_int_equal(dl_checkpoint_load(&s, paths, 1, err, sizeof err), INGEST_ECORRUPT);
    assert_non_null(strstr(err, "garbage.parquet"));
    dl_snap_free(&s);
}

static struct ingest_field bad_add_f[] = { F("path", INGEST_TYPE_STRING, 1),
                                           F("size", INGEST_TYPE_STRING, 1) };
static struct ingest_field bad_f[] = { FG("add", INGEST_TYPE_STRUCT, 1, bad_add_f) };

static void test_column_of_wrong_type_is_corruption(void **state)
{
    (void)state;
    char p[512], err[512];
    struct vb_table t;
    struct ingest_delta_snapshot s;
    const char *paths[1] = { p };
    snprintf(p, sizeof p, "%s/badtype.parquet", scratch);
    vb_table_init(&t, bad_f, 1);
    vb_str(&t.cols[0].kids[0], "a");
    vb_str(&t.cols[0].kids[1], "10");
    vb_close(&t.cols[0]);
    vb_table_finish(&t);
    struct ingest_parquet_writer *w = ingest_parquet_writer_open(p, &t.schema, NULL, err,
                                                                 sizeof err);
    assert_non_null(w);
    assert_int_equal(ingest_parquet_writer_write(w, &t.batch), 0);
    assert_int_equal(ingest_parquet_writer_close(w, NULL), 0);
    vb_table_free(&t);
    dl_snap_init(&s);
    assert_int_equal(dl_checkpoint_load(&s, paths, 1, err, sizeof err), INGEST_ECORRUPT);
    assert_non_null(strstr(err, "add.size has type string"));
    dl_snap_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checkpoint_reads_back_as_the_same_snapshot),
        cmocka_unit_test(test_thousands_of_files_span_several_batches),
        cmocka_unit_test(test_multi_part_checkpoint_loads_every_part),
        cmocka_unit_test(test_schema_is_sparks_element_for_element),
        cmocka_unit_test(test_reader_sees_the_same_schema_as_sparks),
        cmocka_unit_test(test_spark_checkpoint_with_removes_loads),
        cmocka_unit_test(test_spark_checkpoint_with_plain_removes_loads),
        cmocka_unit_test(test_last_checkpoint_has_exact_counts),
        cmocka_unit_test(test_newer_last_checkpoint_is_kept),
        cmocka_unit_test(test_expired_tombstones_are_dropped),
        cmocka_unit_test(test_cleanup_deletes_only_behind_an_expired_checkpoint),
        cmocka_unit_test(test_cleanup_stops_at_a_late_commit),
        cmocka_unit_test(test_cleanup_cutoff_is_midnight_utc),
        cmocka_unit_test(test_cleanup_can_be_disabled),
        cmocka_unit_test(test_cleanup_never_passes_the_checkpoint_written),
        cmocka_unit_test(test_failed_publish_leaves_no_temp_file),
        cmocka_unit_test(test_read_only_log_fails_cleanly),
        cmocka_unit_test(test_checkpoint_refuses_an_empty_snapshot),
        cmocka_unit_test(test_malformed_rows_are_corruption_with_file_and_row),
        cmocka_unit_test(test_column_of_wrong_type_is_corruption),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
