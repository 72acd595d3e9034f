/*
 * deltagen - appends generated rows to a Delta table through ingestd's
 * Delta writer, and writes what it committed as canonical JSON, so an
 * independent checker (tests/readers/deltacheck.mjs) can compare the table
 * with the input row by row.
 *
 *   deltagen TABLE [options]
 *     --commits N            commits to make (default 5)
 *     --rows N               rows per commit (default 1000)
 *     --partition-by COLS    comma-separated (region, day, flag, id, ...)
 *     --seed N               rows are a function of (seed, row number)
 *     --app ID               each commit carries txn(ID, batch number)
 *     --first-batch N        batch number of the first commit (default 0)
 *     --checkpoint-interval N  table property delta.checkpointInterval at creation
 *     --target-file-size B   roll data files at B bytes
 *     --evolve               from the middle commit on, rows carry a new column
 *                            `extra` (long), added by schema evolution
 *     --expect FILE          canonical rows committed by this run
 *     --crash-before-commit  write the last commit's data files, then _exit(3)
 *                            before its version file (a crash in between)
 *     --narrow               id + region + n only: small commits for concurrency tests
 * Prints "committed N skipped M version V" (skipped: batches whose txn was
 * already in the table, the exactly-once fence).  Exit 0, 1 on errors.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingestd/batch.h"
#include "ingestd/buf.h"
#include "ingestd/delta.h"
#include "ingestd/error.h"
#include "canonical.h"
#include "vecbuild.h"

static struct ingest_field tag_elem[] = { F("element", INGEST_TYPE_STRING, 1) };
static struct ingest_field info_fields[] = {
    F("source", INGEST_TYPE_STRING, 1),
    F("score", INGEST_TYPE_INT32, 1),
};
static struct ingest_field wide[] = {
    F("id", INGEST_TYPE_INT64, 0),
    F("customer", INGEST_TYPE_STRING, 1),
    FD("amount", 12, 2, 1),
    F("price", INGEST_TYPE_DOUBLE, 1),
    F("ts", INGEST_TYPE_TIMESTAMP, 1),
    F("day", INGEST_TYPE_DATE, 1),
    F("flag", INGEST_TYPE_BOOLEAN, 1),
    F("region", INGEST_TYPE_STRING, 1),
    FG("tags", INGEST_TYPE_LIST, 1, tag_elem),
    FG("info", INGEST_TYPE_STRUCT, 1, info_fields),
    F("small", INGEST_TYPE_INT16, 1),
    F("extra", INGEST_TYPE_INT64, 1),
};
#define NWIDE (sizeof wide / sizeof wide[0])
static struct ingest_field narrow[] = {
    F("id", INGEST_TYPE_INT64, 0),
    F("region", INGEST_TYPE_STRING, 1),
    F("n", INGEST_TYPE_INT64, 1),
};

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Partition values that need Hive escaping and URI encoding.  No empty
 * string: Delta cannot tell "" from null in a partition value (Spark
 * stores both as null), which test_delta_log checks on its own. */
static const char *regions[] = { "eu-west", "us-east", "ap/south", "sa=east", "zürich %20",
                                 "a b#c" };

static void gen_row(struct vb_table *t, int is_narrow, int with_extra, uint64_t seed, int64_t row)
{
    uint64_t h = mix(seed * 1000003 + (uint64_t)row);
    struct vb *c = t->cols;
    char s[64];
    vb_i64(&c[0], row);
    if (is_narrow) {
        vb_str(&c[1], regions[h % 3]);
        vb_i64(&c[2], (int64_t)(h >> 8));
        return;
    }
    if (h % 7 == 0)
        vb_null(&c[1]);
    else {
        snprintf(s, sizeof s, "%s-%04" PRIu64, h % 5 ? "cust" : "kunde-ü", (h >> 4) % 5000);
        vb_str(&c[1], s);
    }
    if (h % 11 == 0)
        vb_null(&c[2]);
    else
        vb_i64(&c[2], (int64_t)((h >> 12) % 2000000) - 1000000);
    vb_f64(&c[3], h % 13 == 0 ? -0.0 : (double)((h >> 20) % 100000) / 7.0);
    /* Timestamps across 2020..2030 with microseconds, some before 1970. */
    int64_t ts = h % 17 == 0 ? -86400000000LL * 365 + (int64_t)(h % 1000003)
                             : 1577836800000000LL + (int64_t)((h >> 3) % 315360000000000ULL);
    vb_i64(&c[4], ts);
    vb_i64(&c[5], 18262 + (int64_t)(h % 4));      /* four days: small partitions */
    if (h % 19 == 0)
        vb_null(&c[6]);
    else
        vb_i64(&c[6], (h >> 5) & 1);
    if (h % 23 == 0)
        vb_null(&c[7]);
    else
        vb_str(&c[7], regions[(h >> 9) % 6]);
    if (h % 29 == 0)
        vb_null(&c[8]);
    else {
        for (uint64_t k = 0; k < (h >> 13) % 3; k++) {
            snprintf(s, sizeof s, "t%" PRIu64, (h >> (k * 4)) % 10);
            vb_str(&c[8].kids[0], s);
        }
        vb_close(&c[8]);
    }
    if (h % 31 == 0)
        vb_null(&c[9]);
    else {
        vb_str(&c[9].kids[0], h % 2 ? "web" : "app");
        if (h % 3 == 0)
            vb_null(&c[9].kids[1]);
        else
            vb_i64(&c[9].kids[1], (int64_t)(h % 100));
        vb_close(&c[9]);
    }
    vb_i64(&c[10], (int64_t)(h % 65536) - 32768);
    if (with_extra)
        vb_i64(&c[11], (int64_t)(h >> 1));
    else
        vb_null(&c[11]);
}

static int split_cols(char *s, const char **out, size_t max)
{
    size_t n = 0;
    for (char *tok = strtok(s, ","); tok && n < max; tok = strtok(NULL, ","))
        out[n++] = tok;
    return (int)n;
}

int main(int argc, char **argv)
{
    const char *table = NULL, *expect = NULL, *app = NULL;
    char *partition_by = NULL;
    int commits = 5, rows = 1000, evolve = 0, crash = 0, is_narrow = 0;
    int64_t first = 0, ckpt_interval = 0, target = 0;
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && v && ++i)
        if (ARG("--commits")) commits = atoi(v);
        else if (ARG("--rows")) rows = atoi(v);
        else if (ARG("--partition-by")) partition_by = strdup(v);
        else if (ARG("--seed")) seed = strtoull(v, NULL, 10);
        else if (ARG("--app")) app = v;
        else if (ARG("--first-batch")) first = strtoll(v, NULL, 10);
        else if (ARG("--checkpoint-interval")) ckpt_interval = strtoll(v, NULL, 10);
        else if (ARG("--target-file-size")) target = strtoll(v, NULL, 10);
        else if (ARG("--expect")) expect = v;
        else if (strcmp(a, "--evolve") == 0) evolve = 1;
        else if (strcmp(a, "--crash-before-commit") == 0) crash = 1;
        else if (strcmp(a, "--narrow") == 0) is_narrow = 1;
        else if (a[0] != '-' && !table) table = a;
        else {
            fprintf(stderr, "deltagen: bad argument '%s'\n", a);
            return 2;
        }
#undef ARG
    }
    if (!table) {
        fprintf(stderr, "usage: deltagen TABLE [--commits N] [--rows N] ...\n");
        return 2;
    }
    const char *pcols[16];
    int npcols = partition_by ? split_cols(partition_by, pcols, 16) : 0;
    struct ingest_field *fields = is_narrow ? narrow : wide;
    size_t nfields = is_narrow ? 3 : (evolve ? NWIDE - 1 : NWIDE);
    struct ingest_schema schema0 = { fields, nfields };
    struct ingest_schema schema_full = { fields, is_narrow ? 3 : NWIDE };
    char ival[32];
    snprintf(ival, sizeof ival, "%" PRId64, ckpt_interval);
    struct ingest_delta_kv conf[1] = { { (char *)"delta.checkpointInterval", ival } };
    struct ingest_delta_create_opts co = {
        .schema = &schema0, .partition_cols = pcols, .npartition_cols = (size_t)npcols,
        .configuration = conf, .nconfiguration = ckpt_interval > 0,
    };
    struct ingest_delta_table *tbl = NULL;
    char err[1024];
    int rc = ingest_delta_open_or_create(table, &co, &tbl, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "deltagen: %s\n", err);
        return 1;
    }
    struct ingest_buf exp = INGEST_BUF_INIT;
    int exp_first = 1, committed = 0, skipped = 0, code = 1;
    for (int k = 0; k < commits; k++) {
        int with_extra = !is_narrow && (!evolve || k >= commits / 2);
        struct ingest_schema *want = with_extra || is_narrow ? &schema_full : &schema0;
        struct ingest_schema evolved = { 0 };
        rc = ingest_delta_prepare_schema(tbl, want, pcols, (size_t)npcols, 1, &evolved, err,
                                         sizeof err);
        if (rc < 0) {
            fprintf(stderr, "deltagen: %s\n", err);
            goto out;
        }
        /* Batches carry the table's schema: the evolved one once it exists. */
        /* Rows are built with every column (extra null before the
         * evolution) so the expected rows have the final table's shape;
         * the writer gets a view with the columns the table has. */
        struct vb_table t;
        vb_table_init(&t, fields, schema_full.nfields);
        for (int r = 0; r < rows; r++)
            gen_row(&t, is_narrow, with_extra, seed, (first + k) * (int64_t)rows + r);
        vb_table_finish(&t);
        struct ingest_delta_writer_opts wo = { .parquet = { .codec = INGEST_PARQUET_ZSTD },
                                               .target_file_size = target };
        struct ingest_delta_add *adds = NULL;
        size_t nadds = 0;
        struct ingest_delta_writer *w = NULL;
        /* After evolution the files carry the new schema, declared by the
         * same commit that adds them. */
        if (rc == 1)
            wo.schema = &evolved;
        w = ingest_delta_writer_open(tbl, &wo, err, sizeof err);
        if (!w) {
            fprintf(stderr, "deltagen: %s\n", err);
            vb_table_free(&t);
            goto out;
        }
        struct ingest_batch view = t.batch;
        view.schema = rc == 1 ? &evolved : (tbl->schema.nfields < schema_full.nfields ? &schema0
                                                                                 : &schema_full);
        rc = ingest_delta_writer_write(w, &view, err, sizeof err);
        if (rc == 0)
            rc = ingest_delta_writer_finish(w, &adds, &nadds, err, sizeof err);
        else
            ingest_delta_writer_abort(w);
        if (rc < 0) {
            fprintf(stderr, "deltagen: write: %s\n", err);
            vb_table_free(&t);
            goto out;
        }
        if (crash && k == commits - 1) {
            fprintf(stdout, "crashing with %zu data files written\n", nadds);
            fflush(stdout);
            _exit(3);
        }
        struct ingest_delta_txn txn = { (char *)app, first + k, -1 };
        char lineage[256];
        snprintf(lineage, sizeof lineage, "{\"pipeline\":\"deltagen\",\"batch\":%" PRId64 "}",
                 first + k);
        struct ingest_delta_commit c = {
            .adds = adds, .nadds = nadds, .txns = app ? &txn : NULL, .ntxns = app ? 1 : 0,
            .lineage = lineage, .max_attempts = 10000,
            .new_schema = wo.schema,
        };
        int64_t version;
        rc = ingest_delta_commit(tbl, &c, &version, err, sizeof err);
        for (size_t i = 0; i < nadds; i++)
            ingest_delta_add_free(&adds[i]);
        free(adds);
        ingest_schema_free(&evolved);
        if (rc == INGEST_EEXIST) {
            skipped++;
        } else if (rc < 0) {
            fprintf(stderr, "deltagen: commit: %s\n", err);
            vb_table_free(&t);
            goto out;
        } else {
            committed++;
            if (expect) {
                struct ingest_buf one = INGEST_BUF_INIT;
                int f1 = exp_first;
                canon_rows(&one, &t.batch, &f1);
                ingest_buf_append(&exp, one.data, one.len);
                exp_first = 0;
                ingest_buf_free(&one);
            }
        }
        if (tbl->checkpoint_last_err)
            fprintf(stderr, "deltagen: checkpoint failed: %s\n", tbl->checkpoint_msg);
        vb_table_free(&t);
    }
    if (expect) {
        FILE *f = fopen(expect, "w");
        struct ingest_buf head = INGEST_BUF_INIT;
        canon_begin(&head, &schema_full);
        if (!f) {
            perror(expect);
            goto out;
        }
        fputs(head.data, f);
        if (exp.data)
            fputs(exp.data, f);
        fputs("\n]}\n", f);
        fclose(f);
        ingest_buf_free(&head);
    }
    printf("committed %d skipped %d version %" PRId64 "\n", committed, skipped,
           tbl->snap.version);
    code = 0;
out:
    ingest_buf_free(&exp);
    ingest_delta_close(tbl);
    free(partition_by);
    return code;
}
