/*
 * delta_bench - the Delta log's costs: commits per second for small
 * appends, and the time to open a table with many commits.
 *
 *   delta_bench DIR [COMMITS] [OPEN_COMMITS]
 *
 * 1. Small appends: COMMITS (default 1000) commits of one 10-row data file
 *    each, with a txn per commit, as a pipeline with a short trigger does
 *    them: write + fsync the Parquet file, publish the version file
 *    (fsync, link, fsync of _delta_log), checkpoint every 10 commits.
 * 2. The same number of log-only commits (the add of an existing file, no
 *    data written): the cost of the commit protocol alone.
 * 3. Open: a table of OPEN_COMMITS (default 10000) commits, each one add
 *    and one txn, with a checkpoint at the last version; opened 5 times
 *    (best and mean), then again after removing the checkpoint (a replay
 *    of every JSON commit).
 * Every step is durable (fsync) as in production; the disk is the local
 * one, so figures depend on its fsync latency.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ingestd/batch.h"
#include "ingestd/delta.h"
#include "ingestd/error.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct ingest_field fields[] = {
    { .name = (char *)"id", .type = INGEST_TYPE_INT64, .nullable = 0 },
    { .name = (char *)"v", .type = INGEST_TYPE_DOUBLE, .nullable = 1 },
};
static struct ingest_schema schema = { fields, 2 };

static struct ingest_delta_table *create(const char *path, const char *interval)
{
    struct ingest_delta_kv conf = { (char *)"delta.checkpointInterval", (char *)interval };
    struct ingest_delta_create_opts o = { .schema = &schema, .configuration = &conf,
                                          .nconfiguration = 1 };
    struct ingest_delta_table *tbl = NULL;
    char err[512];
    if (ingest_delta_open_or_create(path, &o, &tbl, err, sizeof err) < 0) {
        fprintf(stderr, "delta_bench: %s\n", err);
        exit(1);
    }
    return tbl;
}

static void small_batch(struct ingest_batch *b, int64_t first)
{
    static int64_t ids[10];
    static double vs[10];
    static struct ingest_vector cols[2];
    for (int i = 0; i < 10; i++) {
        ids[i] = first + i;
        vs[i] = (double)(first + i) * 0.5;
    }
    cols[0] = (struct ingest_vector){ .field = &fields[0], .length = 10, .values = ids };
    cols[1] = (struct ingest_vector){ .field = &fields[1], .length = 10, .values = vs };
    *b = (struct ingest_batch){ .schema = &schema, .nrows = 10, .columns = cols };
}

static void commit_or_die(struct ingest_delta_table *tbl, struct ingest_delta_add *adds,
                          size_t nadds, int64_t n)
{
    struct ingest_delta_txn txn = { (char *)"bench", n, -1 };
    struct ingest_delta_commit c = { .adds = adds, .nadds = nadds, .txns = &txn, .ntxns = 1 };
    char err[512];
    if (ingest_delta_commit(tbl, &c, NULL, err, sizeof err) < 0) {
        fprintf(stderr, "delta_bench: commit: %s\n", err);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: delta_bench DIR [COMMITS] [OPEN_COMMITS]\n");
        return 2;
    }
    const char *dir = argv[1];
    int64_t commits = argc > 2 ? atoll(argv[2]) : 1000;
    int64_t open_commits = argc > 3 ? atoll(argv[3]) : 10000;
    char path[4096], err[512];

    /* 1. appends with data */
    snprintf(path, sizeof path, "%s/appends", dir);
    struct ingest_delta_table *tbl = create(path, "10");
    double t0 = now_s();
    for (int64_t n = 0; n < commits; n++) {
        struct ingest_batch b;
        small_batch(&b, n * 10);
        struct ingest_delta_writer_opts wo = { .parquet = { .codec = INGEST_PARQUET_ZSTD } };
        struct ingest_delta_writer *w = ingest_delta_writer_open(tbl, &wo, err, sizeof err);
        struct ingest_delta_add *adds;
        size_t nadds;
        if (!w || ingest_delta_writer_write(w, &b, err, sizeof err) < 0 ||
            ingest_delta_writer_finish(w, &adds, &nadds, err, sizeof err) < 0) {
            fprintf(stderr, "delta_bench: write: %s\n", err);
            return 1;
        }
        commit_or_die(tbl, adds, nadds, n);
        for (size_t i = 0; i < nadds; i++)
            ingest_delta_add_free(&adds[i]);
        free(adds);
    }
    double t_app = now_s() - t0;
    printf("small appends (10-row file + commit, checkpoint every 10): %" PRId64
           " commits in %.2f s = %.0f commits/s (%.2f ms each)\n",
           commits, t_app, (double)commits / t_app, t_app * 1000 / (double)commits);
    ingest_delta_close(tbl);

    /* 2. log-only commits */
    snprintf(path, sizeof path, "%s/logonly", dir);
    tbl = create(path, "10");
    struct ingest_delta_add add = { .path = (char *)"part-shared.parquet", .size = 1000,
                                    .modification_time = 1700000000000,
                                    .stats = (char *)"{\"numRecords\":10}", .num_records = 10 };
    t0 = now_s();
    for (int64_t n = 0; n < commits; n++)
        commit_or_die(tbl, &add, 1, n);
    double t_log = now_s() - t0;
    printf("log-only commits (one add + txn, checkpoint every 10): %" PRId64
           " commits in %.2f s = %.0f commits/s (%.2f ms each)\n",
           commits, t_log, (double)commits / t_log, t_log * 1000 / (double)commits);
    ingest_delta_close(tbl);

    /* 3. open a long log */
    snprintf(path, sizeof path, "%s/long", dir);
    tbl = create(path, "1000000000");
    t0 = now_s();
    for (int64_t n = 0; n < open_commits; n++) {
        char p[64];
        snprintf(p, sizeof p, "part-%08" PRId64 ".parquet", n);
        add.path = p;
        commit_or_die(tbl, &add, 1, n);
    }
    double t_build = now_s() - t0;
    t0 = now_s();
    if (ingest_delta_checkpoint(tbl, err, sizeof err) < 0) {
        fprintf(stderr, "delta_bench: checkpoint: %s\n", err);
        return 1;
    }
    double t_ckpt = now_s() - t0;
    int64_t version = tbl->snap.version;
    ingest_delta_close(tbl);
    printf("built %" PRId64 " commits in %.2f s; checkpoint of %" PRId64
           " adds written in %.3f s\n", open_commits, t_build, open_commits, t_ckpt);
    for (int pass = 0; pass < 2; pass++) {
        double best = 1e9, sum = 0;
        size_t nlive = 0;
        for (int i = 0; i < 5; i++) {
            t0 = now_s();
            if (ingest_delta_open(path, &tbl, err, sizeof err) < 0) {
                fprintf(stderr, "delta_bench: open: %s\n", err);
                return 1;
            }
            double t = now_s() - t0;
            nlive = tbl->snap.nlive;
            if (tbl->snap.version != version) {
                fprintf(stderr, "delta_bench: opened version %" PRId64 ", want %" PRId64 "\n",
                        tbl->snap.version, version);
                return 1;
            }
            ingest_delta_close(tbl);
            best = t < best ? t : best;
            sum += t;
        }
        printf("open version %" PRId64 " (%zu live files) %s: best %.1f ms, mean %.1f ms\n",
               version, nlive, pass ? "replaying every JSON commit (no checkpoint)"
                                    : "from the checkpoint",
               best * 1000, sum / 5 * 1000);
        if (pass == 0) {
            char ck[4200], name[64];
            ingest_delta_version_name(version, ".checkpoint.parquet", name, sizeof name);
            snprintf(ck, sizeof ck, "%s/_delta_log/%s", path, name);
            unlink(ck);
            snprintf(ck, sizeof ck, "%s/_delta_log/_last_checkpoint", path);
            unlink(ck);
        }
    }
    return 0;
}
