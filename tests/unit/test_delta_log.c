/*
 * test_delta_log.c - the Delta table as a reader and a second writer see
 * it: creation, put-if-absent commits, the exactly-once txn fence,
 * optimistic concurrency (blind appends retry, metadata changes abort),
 * exact 64-bit integers, replay from checkpoints, corrupt logs, schema
 * evolution, partitioned data files, and the golden tables Spark wrote.
 *
 * Each test works in its own table under a scratch directory; a "second
 * writer" is a second handle on the same path, which is exactly what
 * another process is to the log.
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

#include "ingestd/delta.h"
#include "ingestd/error.h"
#include "ingestd/parquet_reader.h"
#include "scratch.h"
#include "vecbuild.h"

static char root[4096];
static int counter;

static struct ingest_field ev_fields[] = {
    F("id", INGEST_TYPE_INT64, 0),
    F("region", INGEST_TYPE_STRING, 1),
    F("amount", INGEST_TYPE_DOUBLE, 1),
    F("extra", INGEST_TYPE_INT64, 1),
};
static struct ingest_schema schema3 = { ev_fields, 3 };
static struct ingest_schema schema4 = { ev_fields, 4 };

static void new_table_path(char *out, size_t len)
{
    snprintf(out, len, "%s/t%d", root, counter++);
}

static struct ingest_delta_table *create(const char *path, const char *part, int64_t interval)
{
    const char *pcols[1] = { part };
    char iv[32];
    snprintf(iv, sizeof iv, "%" PRId64, interval);
    struct ingest_delta_kv conf = { (char *)"delta.checkpointInterval", iv };
    struct ingest_delta_create_opts o = {
        .schema = &schema3, .partition_cols = pcols, .npartition_cols = part ? 1 : 0,
        .configuration = &conf, .nconfiguration = interval > 0,
    };
    struct ingest_delta_table *tbl = NULL;
    char err[512];
    int rc = ingest_delta_open_or_create(path, &o, &tbl, err, sizeof err);
    if (rc < 0)
        fail_msg("create %s: %s", path, err);
    return tbl;
}

static struct ingest_delta_table *reopen(const char *path)
{
    struct ingest_delta_table *tbl = NULL;
    char err[512];
    int rc = ingest_delta_open(path, &tbl, err, sizeof err);
    if (rc < 0)
        fail_msg("open %s: %s", path, err);
    return tbl;
}

/* One commit of n rows (ids from first), optionally with a txn. */
static int append(struct ingest_delta_table *tbl, int64_t first, int n, const char *app,
                  int64_t txn_version, int64_t *version, char *err, size_t errlen)
{
    static const char *regions[] = { "eu", "us/east", NULL, "", "a=b%" };
    struct vb_table t;
    vb_table_init(&t, ev_fields, tbl->schema.nfields);
    for (int i = 0; i < n; i++) {
        vb_i64(&t.cols[0], first + i);
        if (regions[(first + i) % 5])
            vb_str(&t.cols[1], regions[(first + i) % 5]);
        else
            vb_null(&t.cols[1]);
        vb_f64(&t.cols[2], (double)(first + i) / 4);
        if (tbl->schema.nfields > 3)
            vb_i64(&t.cols[3], first * 10);
    }
    vb_table_finish(&t);
    struct ingest_delta_writer *w = ingest_delta_writer_open(tbl, NULL, err, errlen);
    assert_non_null(w);
    int rc = ingest_delta_writer_write(w, &t.batch, err, errlen);
    assert_int_equal(rc, 0);
    struct ingest_delta_add *adds;
    size_t nadds;
    rc = ingest_delta_writer_finish(w, &adds, &nadds, err, errlen);
    assert_int_equal(rc, 0);
    struct ingest_delta_txn txn = { (char *)app, txn_version, -1 };
    struct ingest_delta_commit c = { .adds = adds, .nadds = nadds, .txns = app ? &txn : NULL,
                                     .ntxns = app ? 1 : 0 };
    rc = ingest_delta_commit(tbl, &c, version, err, errlen);
    for (size_t i = 0; i < nadds; i++)
        ingest_delta_add_free(&adds[i]);
    free(adds);
    vb_table_free(&t);
    return rc;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = calloc(1, (size_t)n + 1);
    if (fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    fclose(f);
    return s;
}

static void version_path(const char *table, int64_t v, const char *sfx, char *out, size_t len)
{
    char name[64];
    ingest_delta_version_name(v, sfx, name, sizeof name);
    snprintf(out, len, "%s/_delta_log/%s", table, name);
}

static int64_t live_rows(const struct ingest_delta_table *tbl)
{
    int64_t n = 0;
    for (size_t i = 0; i < tbl->snap.nfiles; i++)
        if (!tbl->snap.files[i].removed)
            n += tbl->snap.files[i].num_records;
    return n;
}

/* ---- tests ------------------------------------------------------------------ */

static void test_create_writes_protocol_and_metadata(void **state)
{
    (void)state;
    char path[4200], v0[4300];
    new_table_path(path, sizeof path);
    struct ingest_delta_table *tbl = create(path, "region", 0);
    assert_int_equal(tbl->snap.version, 0);
    ingest_delta_close(tbl);
    version_path(path, 0, ".json", v0, sizeof v0);
    char *text = slurp(v0);
    assert_non_null(text);
    assert_non_null(strstr(text, "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n"));
    assert_non_null(strstr(text, "\"partitionColumns\":[\"region\"]"));
    assert_non_null(strstr(text, "\"engineInfo\":\"ingestd/"));
    assert_non_null(strstr(text, "\\\"name\\\":\\\"id\\\",\\\"type\\\":\\\"long\\\",\\\"nullable\\\":false"));
    assert_int_equal(text[strlen(text) - 1], '\n');
    free(text);
    tbl = reopen(path);
    assert_int_equal(tbl->snap.protocol.min_reader, 1);
    assert_int_equal(tbl->snap.protocol.min_writer, 2);
    assert_int_equal(tbl->schema.nfields, 3);
    assert_string_equal(tbl->schema.fields[1].name, "region");
    assert_int_equal(tbl->snap.meta.npartition_cols, 1);
    assert_int_equal(tbl->snap.nlive, 0);
    ingest_delta_close(tbl);
}

static void test_open_missing_table_is_enoent(void **state)
{
    (void)state;
    char path[4200], err[512];
    struct ingest_delta_table *tbl = NULL;
    new_table_path(path, sizeof path);
    assert_int_equal(ingest_delta_open(path, &tbl, err, sizeof err), INGEST_ENOENT);
    assert_null(tbl);
    mkdir(path, 0755);
    char log[4300];
    snprintf(log, sizeof log, "%s/_delta_log", path);
    mkdir(log, 0755);
    assert_int_equal(ingest_delta_open(path, &tbl, err, sizeof err), INGEST_ENOENT);
}

static void test_commit_is_put_if_absent(void **state)
{
    (void)state;
    char path[4200], err[512], v1[4300];
    new_table_path(path, sizeof path);
    struct ingest_delta_table *tbl = create(path, NULL, 0);
    /* Another writer publishes version 1 behind our back. */
    const char *theirs = "{\"commitInfo\":{\"operation\":\"WRITE\"}}\n"
                         "{\"add\":{\"path\":\"other.parquet\",\"partitionValues\":{},"
                         "\"size\":10,\"modificationTime\":1,\"dataChange\":true,"
                         "\"stats\":\"{\\\"numRecords\\\":7}\"}}\n";
    version_path(path, 1, ".json", v1, sizeof v1);
    FILE *f = fopen(v1, "w");
    fputs(theirs, f);
    fclose(f);
    int64_t version = -1;
    assert_int_equal(append(tbl, 0, 10, NULL, 0, &version, err, sizeof err), 0);
    assert_int_equal(version, 2);
    char *now = slurp(v1);
    assert_string_equal(now, theirs);      /* never overwritten */
    free(now);
    assert_int_equal(live_rows(tbl), 17);  /* their 7 rows and our 10 */
    ingest_delta_close(tbl);
    tbl = reopen(path);
    assert_int_equal(tbl->snap.version, 2);
    assert_int_equal(live_rows(tbl), 17);
    ingest_delta_close(tbl);
}

static void test_txn_fence_skips_committed_batch(void **state)
{
    (void)state;
    char path[4200], err[512];
    int64_t v;
    new_table_path(path, sizeof path);
    struct ingest_delta_table *tbl = create(path, NULL, 0);
    struct ingest_delta_table *stale = reopen(path);
    assert_int_equal(append(tbl, 0, 3, "pipe-a", 5, &v, err, sizeof err), 0);
    assert_int_equal(append(tbl, 3, 3, "pipe-a", 5, &v, err, sizeof err), INGEST_EEXIST);
    assert_non_null(strstr(err, "already in the table"));
    assert_int_equal(append(tbl, 3, 3, "pipe-a", 4, &v, err, sizeof err), INGEST_EEXIST);
    assert_int_equal(append(tbl, 3, 3, "pipe-b", 5, &v, err, sizeof err), 0);
    /* A stale handle replaying batch 5 learns from the winner's txn. */
    assert_int_equal(append(stale, 100, 3, "pipe-a", 5, &v, err, sizeof err), INGEST_EEXIST);
    assert_int_equal(stale->snap.version, 2);
    assert_int_equal(ingest_delta_txn_version(stale, "pipe-a"), 5);
    assert_int_equal(ingest_delta_txn_version(stale, "pipe-b"), 5);
    assert_int_equal(ingest_delta_txn_version(stale, "nobody"), -1);
    assert_int_equal(live_rows(stale), 6);
    ingest_delta_close(stale);
    ingest_delta_close(tbl);
}

static void test_concurrent_blind_appends_retry(void **state)
{
    (void)state;
    char path[4200], err[512];
    int64_t v;
    new_table_path(path, sizeof path);
    struct ingest_delta_table *a = create(path, NULL, 0);
    struct ingest_delta_table *b = reopen(path);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(append(a, i * 10, 2, "a", i, &v, err, sizeof err), 0);
        assert_int_equal(append(b, i * 10 + 5, 3, "b", i, &v, err, sizeof err), 0);
    }
    assert_int_equal(v, 10);
    assert_int_equal(live_rows(b), 25);
    ingest_delta_close(a);
    ingest_delta_close(b);
    struct ingest_delta_table *t = reopen(path);
    assert_int_equal(t->snap.version, 10);
    assert_int_equal(live_rows(t), 25);
    ingest_delta_close(t);
}

static void test_winner_metadata_change_aborts(void **state)
{
    (void)state;
    char path[4200], err[512];
    int64_t v;
    new_table_path(path, sizeof path);
    struct ingest_delta_table *a = create(path, NULL, 0);
    struct ingest_delta_table *b = reopen(path);
    struct ingest_schema evolved = { 0 };
    assert_int_equal(ingest_delta_prepare_schema(b, &schema4, NULL, 0, 1, &evolved, err,
                                                 sizeof err), 1);
    struct ingest_delta_commit c = { .new_schema = &evolved, .operation = "ADD COLUMNS" };
    assert_int_equal(ingest_delta_commit(b, &c, &v, err, sizeof err), 0);
    ingest_schema_free(&evolved);
    assert_int_equal(b->schema.nfields, 4);
    assert_int_equal(append(a, 0, 2, NULL, 0, &v, err, sizeof err), INGEST_ECONFLICT);
    assert_non_null(strstr(err, "metadata"));
    /* After the conflict the handle has the new schema and can go on. */
    assert_int_equal(a->schema.nfields, 4);
    assert_int_equal(append(a, 0, 2, NULL, 0, &v, err, sizeof err), 0);
    assert_int_equal(v, 2);
    ingest_delta_close(a);
    ingest_delta_close(b);
}

static void test_schema_evolution_rules(void **state)
{
    (void)state;
    char path[4200], err[512];
    new_table_path(path, sizeof path);
    struct ingest_delta_table *tbl = create(path, "region", 0);
    struct ingest_schema evolved = { 0 };
    const char *part[] = { "region" };
    assert_int_equal(ingest_delta_prepare_schema(tbl, &schema3, part, 1, 1, &evolved, err,
                                                 sizeof err), 0);
    assert_int_equal(ingest_delta_prepare_schema(tbl, &schema4, part, 1, 0, &evolved, err,
                                                 sizeof err), INGEST_ECONFLICT);
    assert_int_equal(ingest_delta_prepare_schema(tbl, &schema3, NULL, 0, 1, &evolved, err,
                                                 sizeof err), INGEST_ECONFLICT);
    assert_non_null(strstr(err, "partitioned by [region]"));
    struct ingest_field changed[] = { F("id", INGEST_TYPE_STRING, 0),
                                      F("region", INGEST_TYPE_STRING, 1),
                                      F("amount", INGEST_TYPE_DOUBLE, 1) };
    struct ingest_schema bad = { changed, 3 };
    assert_int_equal(ingest_delta_prepare_schema(tbl, &bad, part, 1, 1, &evolved, err,
                                                 sizeof err), INGEST_ECONFLICT);
    assert_non_null(strstr(err, "id"));
    ingest_delta_close(tbl);
}

static void test_int64_values_are_exact(void **state)
{
    (void)state;
    char path[4200], err[512];
    int64_t v;
    new_table_path(path, sizeof path);
    struct ingest_delta_table *tbl = create(path, NULL, 0);
    assert_int_equal(append(tbl, 0, 1, "big", 9007199254740993LL, &v, err, sizeof err), 0);
    assert_int_equal(append(tbl, 1, 1, "max", INT64_MAX - 1, &v, err, sizeof err), 0);
    ingest_delta_close(tbl);
    tbl = reopen(path);
    assert_true(ingest_delta_txn_version(tbl, "big") == 9007199254740993LL);
    assert_true(ingest_delta_txn_version(tbl, "max") == INT64_MAX - 1);
    /* and the fence compares exactly: one below is already committed */
    assert_int_equal(append(tbl, 2, 1, "big", 9007199254740992LL, &v, err, sizeof err),
                     INGEST_EEXIST);
    assert_int_equal(append(tbl, 2, 1, "big", 9007199254740994LL, &v, err, sizeof err), 0);
    ingest_delta_close(tbl);
}

static void test_gap_in_versions_is_corrupt(void **state)
{
    (void)state;
    char path[4200], err[512], v1[4300];
    int64_t v;
    new_table_path(path, sizeof path);
    struct ingest_delta_table *tbl = create(path, NULL, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(append(tbl, i, 1, NULL, 0, &v, err, sizeof err), 0);
    ingest_delta_close(tbl);
    version_path(path, 1, ".json", v1, sizeof v1);
    unlink(v1);
    tbl = NULL;
    assert_int_equal(ingest_delta_open(path, &tbl, err, sizeof err), INGEST_ECORRUPT);
    assert_non_null(strstr(err, "version 1 is missing"));
}

static void test_malformed_action_names_file_and_line(void **state)
{
    (void)state;
    char path[4200], err[512], v1[4300];
    new_table_path(path, sizeof path);
    ingest_delta_close(create(path, NULL, 0));
    version_path(path, 1, ".json", v1, sizeof v1);
    FILE *f = fopen(v1, "w");
    fputs("{\"commitInfo\":{}}\n{\"add\":{\"path\":5,\"partitionValues\":{},\"size\":1,"
          "\"modificationTime\":1,\"dataChange\":true}}\n", f);
    fclose(f);
    struct ingest_delta_table *tbl = NULL;
    assert_int_equal(ingest_delta_open(path, &tbl, err, sizeof err), INGEST_ECORRUPT);
    assert_non_null(strstr(err, "00000000000000000001.json:2:"));
    assert_non_null(strstr(err, "path"));
    f = fopen(v1, "w");
    fputs("{\"add\":{\"path\":\"x\",", f);
    fclose(f);
    assert_int_equal(ingest_delta_open(path, &tbl, err, sizeof err), INGEST_ECORRUPT);
    assert_non_null(strstr(err, "00000000000000000001.json:1:"));
}

static void same_state(const struct ingest_delta_table *a, const struct ingest_delta_table *b)
{
    assert_int_equal(a->snap.version, b->snap.version);
    assert_int_equal(a->snap.nlive, b->snap.nlive);
    assert_int_equal(a->snap.ntxns, b->snap.ntxns);
    for (size_t i = 0; i < a->snap.nfiles; i++) {
        const struct ingest_delta_file *f = &a->snap.files[i];
        if (f->removed)
            continue;
        int found = 0;
        for (size_t k = 0; k < b->snap.nfiles; k++) {
            const struct ingest_delta_file *g = &b->snap.files[k];
            if (g->removed || strcmp(f->path, g->path) != 0)
                continue;
            found = 1;
            assert_int_equal(f->size, g->size);
            assert_int_equal(f->modification_time, g->modification_time);
            assert_int_equal(f->num_records, g->num_records);
            assert_string_equal(f->stats, g->stats);
            assert_int_equal(f->npart, g->npart);
            for (size_t p = 0; p < f->npart; p++) {
                assert_string_equal(f->part[p].key, g->part[p].key);
                if (f->part[p].value)
                    assert_string_equal(f->part[p].value, g->part[p].value);
                else
                    assert_null(g->part[p].value);
            }
        }
        assert_true(found);
    }
    for (size_t i = 0; i < a->snap.ntxns; i++)
        assert_int_equal(ingest_delta_txn_version(b, a->snap.txns[i].app_id),
                         a->snap.txns[i].version);
    assert_string_equal(a->snap.meta.schema_string, b->snap.meta.schema_string);
    assert_string_equal(a->snap.meta.id, b->snap.meta.id);
}

static void test_replay_after_checkpoint(void **state)
{
    (void)state;
    char path[4200], err[512], p[4300];
    int64_t v;
    new_table_path(path, sizeof path);
    struct ingest_delta_table *tbl = create(path, "region", 3);
    for (int i = 0; i < 7; i++)
        assert_int_equal(append(tbl, i * 10, 10, "app", i, &v, err, sizeof err), 0);
    assert_int_equal(tbl->checkpoint_last_err, 0);
    version_path(path, 3, ".checkpoint.parquet", p, sizeof p);
    assert_int_equal(access(p, F_OK), 0);
    version_path(path, 6, ".checkpoint.parquet", p, sizeof p);
    assert_int_equal(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/_delta_log/_last_checkpoint", path);
    char *last = slurp(p);
    assert_non_null(last);
    assert_non_null(strstr(last, "\"version\":6"));
    free(last);
    struct ingest_delta_table *from_ckpt = reopen(path);
    assert_int_equal(from_ckpt->snap.checkpoint_version, 6);
    assert_int_equal(from_ckpt->snap.version, 7);
    same_state(tbl, from_ckpt);
    /* Without checkpoints the JSON alone gives the same state. */
    version_path(path, 3, ".checkpoint.parquet", p, sizeof p);
    unlink(p);
    version_path(path, 6, ".checkpoint.parquet", p, sizeof p);
    unlink(p);
    struct ingest_delta_table *from_json = reopen(path);
    assert_int_equal(from_json->snap.checkpoint_version, -1);
    same_state(tbl, from_json);
    same_state(from_json, tbl);
    ingest_delta_close(from_ckpt);
    ingest_delta_close(from_json);
    ingest_delta_close(tbl);
}

static void test_failed_checkpoint_keeps_commit_and_retries(void **state)
{
    (void)state;
    char path[4200], err[512], p[4300];
    int64_t v;
    new_table_path(path, sizeof path);
    struct ingest_delta_table *tbl = create(path, NULL, 2);
    /* A directory where the checkpoint must go makes its rename fail. */
    version_path(path, 2, ".checkpoint.parquet", p, sizeof p);
    assert_int_equal(mkdir(p, 0755), 0);
    char inner[4400];
    snprintf(inner, sizeof inner, "%s/keep", p);
    close(open(inner, O_CREAT | O_WRONLY, 0644));
    assert_int_equal(append(tbl, 0, 1, NULL, 0, &v, err, sizeof err), 0);
    assert_int_equal(append(tbl, 1, 1, NULL, 0, &v, err, sizeof err), 0);
    assert_int_equal(v, 2);
    assert_true(tbl->checkpoint_pending);
    assert_true(tbl->checkpoint_last_err < 0);
    unlink(inner);
    rmdir(p);
    assert_int_equal(append(tbl, 2, 1, NULL, 0, &v, err, sizeof err), 0);
    assert_false(tbl->checkpoint_pending);
    version_path(path, 3, ".checkpoint.parquet", p, sizeof p);
    assert_int_equal(access(p, F_OK), 0);
    ingest_delta_close(tbl);
}

static void test_partitioned_files_and_encoded_paths(void **state)
{
    (void)state;
    char path[4200], err[512], p[8800];
    int64_t v;
    new_table_path(path, sizeof path);
    struct ingest_delta_table *tbl = create(path, "region", 0);
    assert_int_equal(append(tbl, 0, 10, NULL, 0, &v, err, sizeof err), 0);
    /* regions: eu, us/east, null, "" (null too), a=b% -> four directories */
    assert_int_equal(tbl->snap.nlive, 4);
    int seen_escaped = 0, seen_null = 0;
    for (size_t i = 0; i < tbl->snap.nfiles; i++) {
        const struct ingest_delta_file *f = &tbl->snap.files[i];
        assert_int_equal(f->npart, 1);
        assert_string_equal(f->part[0].key, "region");
        if (strncmp(f->path, "region=us%252Feast/", 19) == 0) {
            seen_escaped++;
            assert_string_equal(f->part[0].value, "us/east");
            snprintf(p, sizeof p, "%s/region=us%%2Feast", path);
            assert_int_equal(access(p, F_OK), 0);
        }
        if (strncmp(f->path, "region=a%253Db%2525/", 20) == 0)
            seen_escaped++;
        if (strncmp(f->path, "region=__HIVE_DEFAULT_PARTITION__/", 34) == 0) {
            seen_null++;
            assert_null(f->part[0].value);
            assert_int_equal(f->num_records, 4);
        }
        /* The data file holds no partition column. */
        const char *slash = strchr(f->path, '/');
        char dir[256];
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - f->path), f->path);
        for (char *q = dir; (q = strstr(q, "%25")); q++)
            memmove(q + 1, q + 3, strlen(q + 3) + 1);
        snprintf(p, sizeof p, "%s/%s%s", path, dir, slash);
        struct ingest_parquet_reader *r = ingest_parquet_reader_open(p, err, sizeof err);
        if (!r)
            fail_msg("%s (logged as %s): %s", p, f->path, err);
        const struct ingest_schema *fs = ingest_parquet_reader_schema(r);
        assert_int_equal(fs->nfields, 2);
        assert_string_equal(fs->fields[0].name, "id");
        assert_string_equal(fs->fields[1].name, "amount");
        ingest_parquet_reader_close(r);
    }
    assert_int_equal(seen_escaped, 2);
    assert_int_equal(seen_null, 1);
    ingest_delta_close(tbl);
}

static void test_crash_before_commit_leaves_orphans_only(void **state)
{
    (void)state;
    char path[4200], err[512];
    int64_t v;
    new_table_path(path, sizeof path);
    struct ingest_delta_table *tbl = create(path, NULL, 0);
    assert_int_equal(append(tbl, 0, 5, NULL, 0, &v, err, sizeof err), 0);
    struct vb_table t;
    vb_table_init(&t, ev_fields, 3);
    vb_i64(&t.cols[0], 99);
    vb_str(&t.cols[1], "x");
    vb_f64(&t.cols[2], 1);
    vb_table_finish(&t);
    struct ingest_delta_writer *w = ingest_delta_writer_open(tbl, NULL, err, sizeof err);
    assert_int_equal(ingest_delta_writer_write(w, &t.batch, err, sizeof err), 0);
    struct ingest_delta_add *adds;
    size_t nadds;
    assert_int_equal(ingest_delta_writer_finish(w, &adds, &nadds, err, sizeof err), 0);
    /* ... the process dies here: no version file. */
    char orphan[4400];
    snprintf(orphan, sizeof orphan, "%s/%s", path, adds[0].path);
    assert_int_equal(access(orphan, F_OK), 0);
    for (size_t i = 0; i < nadds; i++)
        ingest_delta_add_free(&adds[i]);
    free(adds);
    vb_table_free(&t);
    ingest_delta_close(tbl);
    tbl = reopen(path);
    assert_int_equal(tbl->snap.version, 1);
    assert_int_equal(live_rows(tbl), 5);
    ingest_delta_close(tbl);
}

static void test_writes_refused_on_newer_protocol(void **state)
{
    (void)state;
    char path[4200], err[512], v0[4300];
    int64_t v;
    new_table_path(path, sizeof path);
    ingest_delta_close(create(path, NULL, 0));
    version_path(path, 1, ".json", v0, sizeof v0);
    FILE *f = fopen(v0, "w");
    fputs("{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,"
          "\"readerFeatures\":[\"deletionVectors\"],\"writerFeatures\":[\"deletionVectors\"]}}\n",
          f);
    fclose(f);
    struct ingest_delta_table *tbl = reopen(path);
    assert_int_equal(tbl->snap.protocol.min_reader, 3);
    assert_string_equal(tbl->snap.protocol.reader_features[0], "deletionVectors");
    assert_int_equal(append(tbl, 0, 1, NULL, 0, &v, err, sizeof err), INGEST_ENOTSUP);
    assert_non_null(strstr(err, "3/7"));
    ingest_delta_close(tbl);
}


static void test_hive_default_literal_is_not_null(void **state)
{
    (void)state;
    char path[4200], err[512];
    int64_t v;
    new_table_path(path, sizeof path);
    struct ingest_delta_table *tbl = create(path, "region", 0);
    struct vb_table t;
    vb_table_init(&t, ev_fields, 3);
    const char *vals[] = { "__HIVE_DEFAULT_PARTITION__", NULL, "" };
    for (int i = 0; i < 3; i++) {
        vb_i64(&t.cols[0], i);
        if (vals[i])
            vb_str(&t.cols[1], vals[i]);
        else
            vb_null(&t.cols[1]);
        vb_f64(&t.cols[2], 1);
    }
    vb_table_finish(&t);
    struct ingest_delta_writer *w = ingest_delta_writer_open(tbl, NULL, err, sizeof err);
    assert_int_equal(ingest_delta_writer_write(w, &t.batch, err, sizeof err), 0);
    struct ingest_delta_add *adds;
    size_t nadds;
    assert_int_equal(ingest_delta_writer_finish(w, &adds, &nadds, err, sizeof err), 0);
    /* The literal is its own partition; null and "" (null in Delta) share one. */
    assert_int_equal(nadds, 2);
    int literal = 0, nulls = 0;
    for (size_t i = 0; i < nadds; i++) {
        if (adds[i].part[0].value) {
            assert_string_equal(adds[i].part[0].value, "__HIVE_DEFAULT_PARTITION__");
            assert_int_equal(adds[i].num_records, 1);
            literal++;
        } else {
            assert_int_equal(adds[i].num_records, 2);
            nulls++;
        }
    }
    assert_int_equal(literal + nulls, 2);
    struct ingest_delta_commit c = { .adds = adds, .nadds = nadds };
    assert_int_equal(ingest_delta_commit(tbl, &c, &v, err, sizeof err), 0);
    for (size_t i = 0; i < nadds; i++)
        ingest_delta_add_free(&adds[i]);
    free(adds);
    vb_table_free(&t);
    ingest_delta_close(tbl);
}

static void test_writer_refuses_columns_out_of_order(void **state)
{
    (void)state;
    char path[4200], err[512];
    new_table_path(path, sizeof path);
    struct ingest_delta_table *tbl = create(path, NULL, 0);
    struct ingest_field swapped[] = { F("region", INGEST_TYPE_STRING, 1),
                                      F("id", INGEST_TYPE_INT64, 0),
                                      F("amount", INGEST_TYPE_DOUBLE, 1) };
    struct vb_table t;
    vb_table_init(&t, swapped, 3);
    vb_str(&t.cols[0], "x");
    vb_i64(&t.cols[1], 1);
    vb_f64(&t.cols[2], 1);
    vb_table_finish(&t);
    struct ingest_delta_writer *w = ingest_delta_writer_open(tbl, NULL, err, sizeof err);
    assert_int_equal(ingest_delta_writer_write(w, &t.batch, err, sizeof err), INGEST_EINVAL);
    assert_non_null(strstr(err, "region"));
    ingest_delta_writer_abort(w);
    vb_table_free(&t);
    ingest_delta_close(tbl);
}

static void test_txn_moved_by_another_writer_conflicts(void **state)
{
    (void)state;
    char path[4200], err[512];
    int64_t v;
    new_table_path(path, sizeof path);
    struct ingest_delta_table *a = create(path, NULL, 0);
    struct ingest_delta_table *b = reopen(path);
    /* b takes kafka/t/3 to 150; stale a then tries 200 from its base -1. */
    assert_int_equal(append(b, 0, 1, "kafka/t/3", 150, &v, err, sizeof err), 0);
    assert_int_equal(append(a, 1, 1, "kafka/t/3", 200, &v, err, sizeof err), INGEST_ECONFLICT);
    assert_non_null(strstr(err, "another writer moved txn kafka/t/3"));
    /* With the handle caught up, 200 follows 150 normally. */
    assert_int_equal(append(a, 1, 1, "kafka/t/3", 200, &v, err, sizeof err), 0);
    ingest_delta_close(a);
    ingest_delta_close(b);
}

static void test_partially_fenced_commit_is_refused(void **state)
{
    (void)state;
    char path[4200], err[512];
    int64_t v;
    new_table_path(path, sizeof path);
    struct ingest_delta_table *tbl = create(path, NULL, 0);
    assert_int_equal(append(tbl, 0, 1, "t/3", 250, &v, err, sizeof err), 0);
    struct ingest_delta_txn txns[] = { { (char *)"t/3", 200, -1 }, { (char *)"t/4", 200, -1 } };
    struct ingest_delta_commit c = { .txns = txns, .ntxns = 2 };
    assert_int_equal(ingest_delta_commit(tbl, &c, &v, err, sizeof err), INGEST_ECONFLICT);
    assert_int_equal(ingest_delta_txn_version(tbl, "t/4"), -1);
    struct ingest_delta_txn only4 = { (char *)"t/4", 200, -1 };
    struct ingest_delta_commit c4 = { .txns = &only4, .ntxns = 1 };
    assert_int_equal(ingest_delta_commit(tbl, &c4, &v, err, sizeof err), 0);
    ingest_delta_close(tbl);
}

static void test_bad_lineage_is_refused_before_publishing(void **state)
{
    (void)state;
    char path[4200], err[512], v1[4300];
    int64_t v;
    new_table_path(path, sizeof path);
    struct ingest_delta_table *tbl = create(path, NULL, 0);
    struct ingest_delta_commit c = { .lineage = "{\"files\":[\"a.json\",\"b.js" };
    assert_int_equal(ingest_delta_commit(tbl, &c, &v, err, sizeof err), INGEST_EINVAL);
    assert_non_null(strstr(err, "lineage"));
    version_path(path, 1, ".json", v1, sizeof v1);
    assert_int_not_equal(access(v1, F_OK), 0);
    ingest_delta_close(tbl);
    ingest_delta_close(reopen(path));
}

/* ---- Spark's tables ---------------------------------------------------------- */

static const char *golden(const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "../shared/data/delta-golden/%s", name);
    return buf;
}

static void test_golden_tables_open(void **state)
{
    (void)state;
    char p[512];
    struct stat st;
    if (stat(golden("", p, sizeof p), &st) != 0)
        skip();
    static const struct {
        const char *name;
        int64_t version, ckpt;
        size_t nlive, npart, nfields;
        int64_t rows;         /* from stats; -1: some files have none */
        const char *first_field, *a_path;
    } cases[] = {
        { "basic-with-inserts-deletes-checkpoint", 13, 10, 7, 0, 1, 41, "id",
          "part-00000-1b0098ea-c696-4470-84cc-d43bb7afb833-c000.snappy.parquet" },
        { "checkpoint", 14, 10, 1, 0, 1, -1, "intCol", "15" },
        { "data-reader-escaped-chars", 2, -1, 3, 1, 2, -1, "_1",
          "_2=bar+%252521/part-00000-af08f887-922f-4c31-82a7-8e142c4280a6.c000.snappy.parquet" },
        { "data-reader-partition-values", 0, -1, 3, 12, 0, -1, "as_int", NULL },
        { "data-skipping-basic-stats-all-types", 0, -1, 1, 0, 0, 1, "as_int",
          "part-00001-93fc8b78-4b92-45c7-ad3f-bb766e6d2e28-c000.snappy.parquet" },
        { "log-replay-special-characters-a", 1, -1, 0, 0, 1, 0, "intCol", NULL },
        { "parquet-all-types", 0, -1, 1, 0, 0, 200, "ByteType",
          "part-00000-bf6680d4-5e83-4fce-8ebb-d2b60d7e69c9-c000.snappy.parquet" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ingest_delta_table *tbl = NULL;
        char err[512];
        int rc = ingest_delta_open(golden(cases[i].name, p, sizeof p), &tbl, err, sizeof err);
        if (rc < 0)
            fail_msg("%s: %s", cases[i].name, err);
        assert_int_equal(tbl->snap.version, cases[i].version);
        assert_int_equal(tbl->snap.checkpoint_version, cases[i].ckpt);
        assert_int_equal(tbl->snap.nlive, cases[i].nlive);
        assert_int_equal(tbl->snap.meta.npartition_cols, cases[i].npart);
        assert_non_null(strstr(tbl->snap.meta.schema_string, cases[i].first_field));
        if (cases[i].nfields)
            assert_int_equal(tbl->schema.nfields, cases[i].nfields);
        if (cases[i].rows >= 0)
            assert_int_equal(live_rows(tbl), cases[i].rows);
        if (cases[i].a_path) {
            int found = 0;
            for (size_t k = 0; k < tbl->snap.nfiles; k++)
                found |= !tbl->snap.files[k].removed &&
                         strcmp(tbl->snap.files[k].path, cases[i].a_path) == 0;
            if (!found)
                fail_msg("%s: %s not live", cases[i].name, cases[i].a_path);
        }
        assert_int_equal(tbl->snap.ntxns, 0);
        ingest_delta_close(tbl);
    }
}

static void test_golden_partition_values_are_read_as_logged(void **state)
{
    (void)state;
    char p[512], err[512];
    struct stat st;
    if (stat(golden("data-reader-partition-values", p, sizeof p), &st) != 0)
        skip();
    struct ingest_delta_table *tbl = NULL;
    assert_int_equal(ingest_delta_open(p, &tbl, err, sizeof err), 0);
    int nulls = 0, ts = 0, lit = 0;
    for (size_t k = 0; k < tbl->snap.nfiles; k++) {
        const struct ingest_delta_file *f = &tbl->snap.files[k];
        for (size_t i = 0; i < f->npart; i++) {
            if (!f->part[i].value)
                nulls++;
            else if (strcmp(f->part[i].key, "as_timestamp") == 0 &&
                     strcmp(f->part[i].value, "2021-09-08 11:11:11") == 0)
                ts++;
            else if (strcmp(f->part[i].key, "as_string_lit_null") == 0 &&
                     strcmp(f->part[i].value, "null") == 0)
                lit++;      /* the string "null", not a null */
        }
    }
    assert_int_equal(nulls, 12);      /* one file has every partition value null */
    assert_int_equal(ts, 2);
    assert_int_equal(lit, 2);
    ingest_delta_close(tbl);
}

static int setup(void **state)
{
    (void)state;
    return scratch_make(root, sizeof root, "test_delta_log");
}

static int teardown(void **state)
{
    (void)state;
    return scratch_remove(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_writes_protocol_and_metadata),
        cmocka_unit_test(test_open_missing_table_is_enoent),
        cmocka_unit_test(test_commit_is_put_if_absent),
        cmocka_unit_test(test_txn_fence_skips_committed_batch),
        cmocka_unit_test(test_concurrent_blind_appends_retry),
        cmocka_unit_test(test_winner_metadata_change_aborts),
        cmocka_unit_test(test_schema_evolution_rules),
        cmocka_unit_test(test_int64_values_are_exact),
        cmocka_unit_test(test_gap_in_versions_is_corrupt),
        cmocka_unit_test(test_malformed_action_names_file_and_line),
        cmocka_unit_test(test_replay_after_checkpoint),
        cmocka_unit_test(test_failed_checkpoint_keeps_commit_and_retries),
        cmocka_unit_test(test_partitioned_files_and_encoded_paths),
        cmocka_unit_test(test_crash_before_commit_leaves_orphans_only),
        cmocka_unit_test(test_writes_refused_on_newer_protocol),
        cmocka_unit_test(test_hive_default_literal_is_not_null),
        cmocka_unit_test(test_writer_refuses_columns_out_of_order),
        cmocka_unit_test(test_txn_moved_by_another_writer_conflicts),
        cmocka_unit_test(test_partially_fenced_commit_is_refused),
        cmocka_unit_test(test_bad_lineage_is_refused_before_publishing),
        cmocka_unit_test(test_golden_tables_open),
        cmocka_unit_test(test_golden_partition_values_are_read_as_logged),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
