/*
 * dl_commit.c - writing a commit: the JSON actions, put-if-absent, and the
 * optimistic-concurrency loop (specs/delta-parquet.md A2, A3, A11).
 *
 * One attempt: check the exactly-once fence against the snapshot (a txn
 * of ours already at or past its version means the batch is in the
 * table), render the actions for version snap.version + 1, and publish
 * the file with link(2) so an existing version is never replaced.  When
 * the name is taken, the winners' commits are read into the snapshot: a
 * protocol or metaData change ends the attempt (our files were written
 * for the old schema), a txn of ours is caught by the fence on the next
 * round, and anything else (blind appends of other writers) cannot
 * conflict with an append, so the same actions go to the next version.
 * Backoff is randomized and short: local contention resolves in
 * microseconds, and a long sleep only costs throughput.
 *
 * After a successful publish our own text is applied through the same
 * parser that replays the log, so the snapshot cannot drift from what a
 * reader sees.  Integers are written as text, never through a double.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ingestd/buf.h"
#include "ingestd/error.h"
#include "ingestd/json.h"
#include "dl_commit.h"
#include "dl_fs.h"
#include "dl_path.h"
#include "dl_replay.h"
#include "dl_schema.h"
#include "dl_state.h"

#ifndef INGEST_VERSION
#define INGEST_VERSION "0"
#endif

static void put_kv_obj(struct ingest_buf *b, const struct ingest_delta_kv *kv, size_t n)
{
    ingest_buf_putc(b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i)
            ingest_buf_putc(b, ',');
        ingest_buf_json_str(b, kv[i].key);
        ingest_buf_putc(b, ':');
        if (kv[i].value)
            ingest_buf_json_str(b, kv[i].value);
        else
            ingest_buf_puts(b, "null");
    }
    ingest_buf_putc(b, '}');
}

/* metaData for the table: the current one with `schema` (NULL: keep), or a
 * new one when the table has none. */
static int put_metadata(struct ingest_buf *b, const struct ingest_delta_metadata *m,
                        const struct ingest_schema *schema, int64_t now)
{
    struct ingest_buf sj = INGEST_BUF_INIT;
    if (schema) {
        int rc = dl_schema_to_json(schema, &sj);
        if (rc < 0) {
            ingest_buf_free(&sj);
            return rc;
        }
    }
    ingest_buf_puts(b, "{\"metaData\":{\"id\":");
    ingest_buf_json_str(b, m->id);
    if (m->name) {
        ingest_buf_puts(b, ",\"name\":");
        ingest_buf_json_str(b, m->name);
    }
    if (m->description) {
        ingest_buf_puts(b, ",\"description\":");
        ingest_buf_json_str(b, m->description);
    }
    ingest_buf_puts(b, ",\"format\":{\"provider\":");
    ingest_buf_json_str(b, m->format_provider ? m->format_provider : "parquet");
    ingest_buf_puts(b, ",\"options\":");
    put_kv_obj(b, m->format_options, m->nformat_options);
    ingest_buf_puts(b, "},\"schemaString\":");
    ingest_buf_json_str(b, schema ? sj.data : m->schema_string);
    ingest_buf_puts(b, ",\"partitionColumns\":[");
    for (size_t i = 0; i < m->npartition_cols; i++) {
        if (i)
            ingest_buf_putc(b, ',');
        ingest_buf_json_str(b, m->partition_cols[i]);
    }
    ingest_buf_puts(b, "],\"configuration\":");
    put_kv_obj(b, m->configuration, m->nconfiguration);
    ingest_buf_printf(b, ",\"createdTime\":%" PRId64 "}}\n",
                      m->created_time >= 0 ? m->created_time : now);
    ingest_buf_free(&sj);
    return b->oom ? INGEST_ENOMEM : 0;
}

static int put_add(struct ingest_buf *b, const struct ingest_delta_add *a)
{
    struct ingest_buf enc = INGEST_BUF_INIT;
    int rc = dl_uri_encode(a->path, &enc);
    if (rc < 0)
        goto out;
    ingest_buf_puts(b, "{\"add\":{\"path\":");
    ingest_buf_json_str(b, enc.data);
    ingest_buf_puts(b, ",\"partitionValues\":");
    put_kv_obj(b, a->part, a->npart);
    ingest_buf_printf(b, ",\"size\":%" PRId64 ",\"modificationTime\":%" PRId64
                         ",\"dataChange\":true", a->size, a->modification_time);
    if (a->stats) {
        ingest_buf_puts(b, ",\"stats\":");
        ingest_buf_json_str(b, a->stats);
    }
    ingest_buf_puts(b, "}}\n");
    rc = b->oom ? INGEST_ENOMEM : 0;
out:
    ingest_buf_free(&enc);
    return rc;
}

/* The whole commit text for the next version. */
static int render(const struct ingest_delta_table *tbl, const struct ingest_delta_commit *c,
                  const struct ingest_delta_metadata *create, const char *txn_id,
                  int64_t read_version, struct ingest_buf *b)
{
    int64_t now = dl_now_ms(tbl->now_ms_override);
    int64_t rows = 0, bytes = 0;
    for (size_t i = 0; i < c->nadds; i++) {
        rows += c->adds[i].num_records > 0 ? c->adds[i].num_records : 0;
        bytes += c->adds[i].size;
    }
    int meta_change = create || c->new_schema;
    ingest_buf_reset(b);
    ingest_buf_printf(b, "{\"commitInfo\":{\"timestamp\":%" PRId64 ",\"operation\":", now);
    ingest_buf_json_str(b, c->operation ? c->operation : (create ? "CREATE TABLE"
                                                                 : "STREAMING UPDATE"));
    ingest_buf_puts(b, ",\"operationParameters\":");
    ingest_buf_puts(b, c->operation_params ? c->operation_params : "{}");
    if (read_version >= 0)
        ingest_buf_printf(b, ",\"readVersion\":%" PRId64, read_version);
    ingest_buf_printf(b, ",\"isolationLevel\":\"Serializable\",\"isBlindAppend\":%s",
                      meta_change ? "false" : "true");
    ingest_buf_printf(b, ",\"operationMetrics\":{\"numFiles\":\"%zu\",\"numOutputRows\":\"%"
                         PRId64 "\",\"numOutputBytes\":\"%" PRId64 "\"}",
                      c->nadds, rows, bytes);
    ingest_buf_puts(b, ",\"engineInfo\":\"ingestd/" INGEST_VERSION "\",\"txnId\":");
    ingest_buf_json_str(b, txn_id);
    if (c->lineage) {
        ingest_buf_puts(b, ",\"ingestd\":");
        ingest_buf_puts(b, c->lineage);
    }
    ingest_buf_puts(b, "}}\n");
    if (create)
        ingest_buf_puts(b, "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n");
    if (meta_change) {
        int rc = put_metadata(b, create ? create : &tbl->snap.meta, c->new_schema, now);
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < c->ntxns; i++) {
        ingest_buf_puts(b, "{\"txn\":{\"appId\":");
        ingest_buf_json_str(b, c->txns[i].app_id);
        ingest_buf_printf(b, ",\"version\":%" PRId64 ",\"lastUpdated\":%" PRId64 "}}\n",
                          c->txns[i].version, now);
    }
    for (size_t i = 0; i < c->nadds; i++) {
        int rc = put_add(b, &c->adds[i]);
        if (rc < 0)
            return rc;
    }
    return b->oom ? INGEST_ENOMEM : 0;
}

/*
 * The exactly-once fence.  Returns 0 when the commit may go ahead,
 * INGEST_EEXIST when every txn of the commit is already at or past its
 * version in the table (the batch is in), INGEST_ECONFLICT when only some
 * are, or when another writer moved one of our appIds since `base` (the
 * versions we started from): two writers are feeding the same appId.
 */
static int fenced(const struct ingest_delta_table *tbl, const struct ingest_delta_commit *c,
                  const int64_t *base, char *err, size_t errlen)
{
    size_t done = 0;
    for (size_t i = 0; i < c->ntxns; i++) {
        int64_t have = ingest_delta_txn_version(tbl, c->txns[i].app_id);
        if (have >= c->txns[i].version) {
            done++;
            snprintf(err, errlen,
                     "txn %s version %" PRId64 " is already in the table (it has %" PRId64
                     " at version %" PRId64 ")",
                     c->txns[i].app_id, c->txns[i].version, have, tbl->snap.version);
        } else if (have != base[i]) {
            snprintf(err, errlen,
                     "another writer moved txn %s from %" PRId64 " to %" PRId64
                     " while this commit (version %" PRId64 ") was prepared",
                     c->txns[i].app_id, base[i], have, c->txns[i].version);
            return INGEST_ECONFLICT;
        }
    }
    if (done == 0)
        return 0;
    if (done == c->ntxns)
        return INGEST_EEXIST;
    snprintf(err + strlen(err), errlen - strlen(err),
             "; %zu of the commit's %zu txns are not: refusing a partial commit", done,
             c->ntxns);
    return INGEST_ECONFLICT;
}

/* A caller's JSON object text must parse before it goes into the log: one
 * bad lineage string would otherwise make every later open fail. */
static int valid_object(const char *text, const char *what, char *err, size_t errlen)
{
    if (!text)
        return 0;
    struct ingest_json_doc doc = { 0 };
    char jerr[128];
    int rc = ingest_json_parse(text, strlen(text), &doc, jerr, sizeof jerr);
    int obj = rc == 0 && doc.root->type == INGEST_JSON_OBJECT;
    ingest_json_doc_free(&doc);
    if (obj)
        return 0;
    snprintf(err, errlen, "%s is not a JSON object%s%s", what, rc < 0 ? ": " : "",
             rc < 0 ? jerr : "");
    return INGEST_EINVAL;
}

static void backoff(int attempt)
{
    unsigned cap_us = attempt < 6 ? 200u << attempt : 12800u;   /* up to 12.8 ms */
    uint8_t r[4];
    unsigned x = 0;
    if (getentropy(r, sizeof r) == 0)
        x = (unsigned)r[0] | (unsigned)r[1] << 8 | (unsigned)r[2] << 16;
    struct timespec ts = { 0, (long)(x % cap_us + 50) * 1000 };
    nanosleep(&ts, NULL);
}

/* Commit with an optional create metadata (version 0). */
int dl_commit(struct ingest_delta_table *tbl, const struct ingest_delta_commit *c,
              const struct ingest_delta_metadata *create, int64_t *version, char *err,
              size_t errlen)
{
    struct ingest_buf text = INGEST_BUF_INIT;
    char txn_id[37], name[64];
    int max = c->max_attempts > 0 ? c->max_attempts : 200;
    int rc = INGEST_ECONFLICT;
    int64_t *base = calloc(c->ntxns + 1, sizeof *base);
    int64_t read_version = tbl->snap.version;
    if (!base)
        return INGEST_ENOMEM;
    for (size_t i = 0; i < c->ntxns; i++)
        base[i] = ingest_delta_txn_version(tbl, c->txns[i].app_id);
    ingest_delta_uuid(txn_id);
    if ((rc = valid_object(c->lineage, "lineage", err, errlen)) < 0 ||
        (rc = valid_object(c->operation_params, "operationParameters", err, errlen)) < 0)
        goto out;
    for (int attempt = 0; attempt < max; attempt++) {
        rc = fenced(tbl, c, base, err, errlen);
        if (rc < 0)
            goto out;
        if (create && tbl->snap.version >= 0) {
            rc = INGEST_EEXIST;
            snprintf(err, errlen, "%s: the table was created by another writer", tbl->path);
            goto out;
        }
        int64_t v = tbl->snap.version + 1;
        rc = render(tbl, c, create, txn_id, read_version, &text);
        if (rc < 0) {
            snprintf(err, errlen, "%s: out of memory rendering a commit", tbl->path);
            goto out;
        }
        ingest_delta_version_name(v, ".json", name, sizeof name);
        rc = dl_publish(tbl->log_dir, name, text.data, text.len, 1, err, errlen);
        if (rc == 0) {
            /* Published: from here the commit stands whatever happens. */
            if (dl_apply_commit(&tbl->snap, text.data, text.len, name, NULL, err, errlen) < 0) {
                /* Only memory can fail here; rebuild the snapshot from the log. */
                char uerr[256];
                dl_snap_free(&tbl->snap);
                ingest_schema_free(&tbl->schema);
                if (dl_replay(tbl, uerr, sizeof uerr) < 0) {
                    rc = INGEST_ENOMEM;
                    snprintf(err, errlen, "version %" PRId64 " was committed, but the table "
                             "handle could not be rebuilt: %s", v, uerr);
                    goto out;
                }
            }
            tbl->snap.version = v > tbl->snap.version ? v : tbl->snap.version;
            if (tbl->snap.oldest_version < 0)
                tbl->snap.oldest_version = v;
            if (create || c->new_schema)
                dl_table_refresh_meta(tbl);
            if (version)
                *version = v;
            goto out;
        }
        if (rc != INGEST_EEXIST)
            goto out;
        /* Lost the race for v: catch up and look at what the winners did. */
        struct dl_seen seen = { 0 };
        rc = dl_update(tbl, &seen, err, errlen);
        if (rc < 0)
            goto out;
        if (!create && (seen.protocol || seen.metadata)) {
            rc = INGEST_ECONFLICT;
            snprintf(err, errlen,
                     "%s: a concurrent commit (up to version %" PRId64 ") changed the table's "
                     "%s; the batch must be planned again",
                     tbl->path, tbl->snap.version, seen.protocol ? "protocol" : "metadata");
            goto out;
        }
        rc = INGEST_ECONFLICT;
        snprintf(err, errlen, "%s: gave up after %d attempts: other writers kept taking the "
                 "next version", tbl->path, max);
        backoff(attempt);
    }
out:
    free(base);
    ingest_buf_free(&text);
    return rc;
}

int ingest_delta_commit(struct ingest_delta_table *tbl, const struct ingest_delta_commit *c,
                        int64_t *version, char *err, size_t errlen)
{
    int64_t v = -1;
    if (tbl->snap.version < 0 || !tbl->snap.has_metadata) {
        snprintf(err, errlen, "%s: the table does not exist yet", tbl->path);
        return INGEST_EINVAL;
    }
    if (tbl->snap.protocol.min_writer > 2 || tbl->snap.protocol.min_reader > 1) {
        snprintf(err, errlen,
                 "%s: protocol %d/%d: ingestd writes only to reader 1 / writer 2 tables",
                 tbl->path, tbl->snap.protocol.min_reader, tbl->snap.protocol.min_writer);
        return INGEST_ENOTSUP;
    }
    int rc = dl_commit(tbl, c, NULL, &v, err, errlen);
    if (rc < 0)
        return rc;
    if (version)
        *version = v;
    if ((v > 0 && tbl->checkpoint_interval > 0 && v % tbl->checkpoint_interval == 0) ||
        tbl->checkpoint_pending) {
        char cerr[256];
        int crc = ingest_delta_checkpoint(tbl, cerr, sizeof cerr);
        if (crc < 0) {
            tbl->checkpoint_pending = 1;
            tbl->checkpoint_last_err = crc;
            snprintf(tbl->checkpoint_msg, sizeof tbl->checkpoint_msg, "%s", cerr);
        } else {
            tbl->checkpoint_pending = 0;
            tbl->checkpoint_last_err = 0;
            tbl->checkpoint_msg[0] = 0;
        }
    }
    return 0;
}
