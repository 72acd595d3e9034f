/*
 * dl_table.c - table handles: open, create, the schema check before
 * writing, and small accessors (see delta.h).
 *
 * Creation is itself a commit at version 0 (protocol + metaData), made
 * with the same put-if-absent as every other commit, so two daemons
 * starting on an empty path at once end with one table: the loser reads
 * the winner's version 0 and goes on with its schema check.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "ingestd/error.h"
#include "dl_commit.h"
#include "dl_fs.h"
#include "dl_replay.h"
#include "dl_schema.h"
#include "dl_state.h"

static struct ingest_delta_table *table_new(const char *path)
{
    struct ingest_delta_table *tbl = calloc(1, sizeof *tbl);
    if (!tbl)
        return NULL;
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    tbl->path = malloc(n + 1);
    tbl->log_dir = malloc(n + sizeof "/_delta_log");
    if (!tbl->path || !tbl->log_dir) {
        ingest_delta_close(tbl);
        return NULL;
    }
    memcpy(tbl->path, path, n);
    tbl->path[n] = 0;
    snprintf(tbl->log_dir, n + sizeof "/_delta_log", "%s/_delta_log", tbl->path);
    dl_snap_init(&tbl->snap);
    dl_table_refresh_meta(tbl);
    return tbl;
}

void ingest_delta_close(struct ingest_delta_table *tbl)
{
    if (!tbl)
        return;
    dl_snap_free(&tbl->snap);
    ingest_schema_free(&tbl->schema);
    free(tbl->path);
    free(tbl->log_dir);
    free(tbl);
}

int ingest_delta_open(const char *path, struct ingest_delta_table **out, char *err,
                      size_t errlen)
{
    *out = NULL;
    struct ingest_delta_table *tbl = table_new(path);
    if (!tbl) {
        snprintf(err, errlen, "out of memory");
        return INGEST_ENOMEM;
    }
    struct stat st;
    int serr = stat(tbl->log_dir, &st) != 0 ? errno : (S_ISDIR(st.st_mode) ? 0 : ENOTDIR);
    if (serr) {
        int rc = serr == ENOENT || serr == ENOTDIR ? INGEST_ENOENT : ingest_err_from_errno(serr);
        if (rc == INGEST_ENOENT)
            snprintf(err, errlen, "%s: no Delta table here (no _delta_log directory)", path);
        else
            snprintf(err, errlen, "%s: %s", tbl->log_dir, strerror(serr));
        ingest_delta_close(tbl);
        return rc;
    }
    int rc = dl_replay(tbl, err, errlen);
    if (rc < 0) {
        ingest_delta_close(tbl);
        return rc;
    }
    *out = tbl;
    return 0;
}

int ingest_delta_update(struct ingest_delta_table *tbl, char *err, size_t errlen)
{
    return dl_update(tbl, NULL, err, errlen);
}

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* metaData for a new table from the options (owned by the caller). */
static int create_meta(const struct ingest_delta_create_opts *o, struct ingest_delta_metadata *m)
{
    char id[37];
    struct ingest_buf sj = INGEST_BUF_INIT;
    memset(m, 0, sizeof *m);
    ingest_delta_uuid(id);
    m->id = strdup(id);
    m->name = xstrdup(o->name);
    m->format_provider = strdup("parquet");
    m->created_time = -1;
    if (dl_schema_to_json(o->schema, &sj) < 0 || !sj.data)
        goto oom;
    m->schema_string = ingest_buf_steal(&sj);
    if (o->npartition_cols) {
        m->partition_cols = calloc(o->npartition_cols + 1, sizeof *m->partition_cols);
        if (!m->partition_cols)
            goto oom;
        for (size_t i = 0; i < o->npartition_cols; i++) {
            m->npartition_cols = i + 1;
            if (!(m->partition_cols[i] = strdup(o->partition_cols[i])))
                goto oom;
        }
    }
    if (o->nconfiguration) {
        m->configuration = calloc(o->nconfiguration, sizeof *m->configuration);
        if (!m->configuration)
            goto oom;
        for (size_t i = 0; i < o->nconfiguration; i++) {
            m->nconfiguration = i + 1;
            m->configuration[i].key = strdup(o->configuration[i].key);
            m->configuration[i].value = xstrdup(o->configuration[i].value);
            if (!m->configuration[i].key ||
                (o->configuration[i].value && !m->configuration[i].value))
                goto oom;
        }
    }
    if (!m->id || !m->format_provider || (o->name && !m->name))
        goto oom;
    return 0;
oom:
    ingest_buf_free(&sj);
    dl_metadata_free(m);
    return INGEST_ENOMEM;
}

int ingest_delta_open_or_create(const char *path, const struct ingest_delta_create_opts *o,
                                struct ingest_delta_table **out, char *err, size_t errlen)
{
    int rc = ingest_delta_open(path, out, err, errlen);
    if (rc != INGEST_ENOENT)
        return rc;
    struct ingest_delta_table *tbl = table_new(path);
    struct ingest_delta_metadata m = { 0 };
    if (!tbl || create_meta(o, &m) < 0) {
        snprintf(err, errlen, "out of memory");
        rc = INGEST_ENOMEM;
        goto fail;
    }
    rc = dl_mkdirs(tbl->log_dir, 0755);
    if (rc < 0) {
        snprintf(err, errlen, "%s: cannot create: %s", tbl->log_dir, ingest_strerror(rc));
        goto fail;
    }
    /* The parent of the table must know about the new directory too. */
    char parent[4096];
    snprintf(parent, sizeof parent, "%s/..", tbl->path);
    dl_fsync_dir(parent);
    dl_fsync_dir(tbl->path);
    struct ingest_delta_commit c = { .operation = "CREATE TABLE" };
    rc = dl_commit(tbl, &c, &m, NULL, err, errlen);
    if (rc == INGEST_EEXIST || rc == 0) {
        /* Ours or the winner's version 0: from here the log is the truth. */
        ingest_delta_close(tbl);
        dl_metadata_free(&m);
        return ingest_delta_open(path, out, err, errlen);
    }
fail:
    dl_metadata_free(&m);
    ingest_delta_close(tbl);
    return rc;
}

int ingest_delta_prepare_schema(const struct ingest_delta_table *tbl,
                                const struct ingest_schema *want,
                                const char *const *partition_cols, size_t npartition_cols,
                                int allow_add, struct ingest_schema *evolved, char *err,
                                size_t errlen)
{
    const struct ingest_delta_metadata *m = &tbl->snap.meta;
    if (tbl->schema_err) {
        snprintf(err, errlen, "%s: the table's schema cannot be written by ingestd: %s",
                 tbl->path, tbl->schema_msg);
        return INGEST_ECONFLICT;
    }
    if (m->schema_string && strstr(m->schema_string, "\"delta.invariants\"")) {
        snprintf(err, errlen, "%s: the table has column invariants (delta.invariants), which "
                 "ingestd does not enforce: refusing to write", tbl->path);
        return INGEST_ECONFLICT;
    }
    int same = m->npartition_cols == npartition_cols;
    for (size_t i = 0; same && i < npartition_cols; i++)
        same = strcasecmp(m->partition_cols[i], partition_cols[i]) == 0;
    if (!same) {
        char have[512] = "", wanted[512] = "";
        for (size_t i = 0; i < m->npartition_cols; i++)
            snprintf(have + strlen(have), sizeof have - strlen(have), "%s%s", i ? "," : "",
                     m->partition_cols[i]);
        for (size_t i = 0; i < npartition_cols; i++)
            snprintf(wanted + strlen(wanted), sizeof wanted - strlen(wanted), "%s%s",
                     i ? "," : "", partition_cols[i]);
        snprintf(err, errlen, "%s: the table is partitioned by [%s], the pipeline by [%s]",
                 tbl->path, have, wanted);
        return INGEST_ECONFLICT;
    }
    char merr[384];
    int rc = dl_schema_merge(&tbl->schema, want, evolved, merr, sizeof merr);
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", tbl->path, merr);
        return INGEST_ECONFLICT;
    }
    if (rc == 1 && !allow_add) {
        ingest_schema_free(evolved);
        snprintf(err, errlen, "%s: the pipeline's schema has columns the table lacks and "
                 "schema evolution is off", tbl->path);
        return INGEST_ECONFLICT;
    }
    return rc;
}

int64_t ingest_delta_txn_version(const struct ingest_delta_table *tbl, const char *app_id)
{
    const struct ingest_delta_txn *t = dl_snap_find_txn(&tbl->snap, app_id);
    return t ? t->version : -1;
}

void ingest_delta_add_free(struct ingest_delta_add *a)
{
    if (!a)
        return;
    free(a->path);
    dl_kv_free(a->part, a->npart);
    free(a->stats);
    memset(a, 0, sizeof *a);
}
