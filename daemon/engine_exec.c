/*
 * engine_exec.c - running one planned batch: read, decode, write, commit.
 *
 * Two threads share the work so a batch uses both cores: a decode thread
 * reads the ranges (pread in 4 MiB chunks, whole lines only) and turns
 * them into columnar sub-batches of up to 64k rows; this thread takes them
 * from a queue of two and writes them as Parquet.  The queue is what
 * bounds memory: at most two decoded sub-batches wait, plus the one being
 * decoded and the writers' row groups.
 *
 * Then, in order: the bad records file of the batch is made durable (so a
 * crash after the commit cannot lose it), the Delta commit carries
 * txn(pipeline id, N) with the lineage, commits/N is written, and fully
 * consumed files are deleted or archived when clean_source says so.  A
 * batch whose txn is already in the table writes nothing; one that fails
 * leaves offsets/N in place, to be replayed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingestd/buf.h"
#include "ingestd/error.h"
#include "engine_int.h"
#include "delta/dl_fs.h"

#define CHUNK (4 << 20)
#define QDEPTH 2
#define SUB_ROWS 65536
#define SUB_BYTES (32 << 20)

struct queue {
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    struct ingest_batch items[QDEPTH];
    int head, count;
    int done, cancel;
    /* Written batches on their way back to the decoder, whose next batches
     * reuse their buffers (see ingest_decoder_recycle). */
    struct ingest_batch ret[QDEPTH + 1];
    int nret;
};

/* Writer side: hand a written batch back (or free it when the way back is full). */
static void q_return(struct queue *q, struct ingest_batch *b)
{
    pthread_mutex_lock(&q->mu);
    int kept = q->nret < QDEPTH + 1;
    if (kept)
        q->ret[q->nret++] = *b;
    pthread_mutex_unlock(&q->mu);
    if (!kept)
        ingest_batch_free(b);
}

/* Decoder side: one returned batch, if any. */
static int q_take_return(struct queue *q, struct ingest_batch *b)
{
    pthread_mutex_lock(&q->mu);
    int got = q->nret > 0;
    if (got)
        *b = q->ret[--q->nret];
    pthread_mutex_unlock(&q->mu);
    return got;
}

static void q_free_returns(struct queue *q)
{
    for (int i = 0; i < q->nret; i++)
        ingest_batch_free(&q->ret[i]);
    q->nret = 0;
}

struct decode_ctx {
    struct eng_job *j;
    const struct eng_settings *s;
    struct queue *q;
    struct ingest_decoder *dec;
    const char *cur_path;
    FILE   *bad;                /* the batch's bad records, opened on the first */
    char    bad_tmp[4096];
    uint64_t bad_logged;
    int     rc;
    char    err[512];
    double  busy;
};

/* ---- the queue ---------------------------------------------------------- */

static int q_push(struct queue *q, struct ingest_batch *b)
{
    pthread_mutex_lock(&q->mu);
    while (q->count == QDEPTH && !q->cancel)
        pthread_cond_wait(&q->cv, &q->mu);
    int cancelled = q->cancel;
    if (!cancelled) {
        q->items[(q->head + q->count) % QDEPTH] = *b;
        q->count++;
        pthread_cond_broadcast(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
    if (cancelled)
        ingest_batch_free(b);
    return cancelled ? INGEST_ECANCELED : 0;
}

/* 1 with *b, 0 when the producer is done and the queue empty. */
static int q_pop(struct queue *q, struct ingest_batch *b)
{
    pthread_mutex_lock(&q->mu);
    while (q->count == 0 && !q->done)
        pthread_cond_wait(&q->cv, &q->mu);
    int got = q->count > 0;
    if (got) {
        *b = q->items[q->head];
        q->head = (q->head + 1) % QDEPTH;
        q->count--;
        pthread_cond_broadcast(&q->cv);
    }
    pthread_mutex_unlock(&q->mu);
    return got;
}

/* ---- bad records -------------------------------------------------------- */

static void json_bytes(struct ingest_buf *b, const char *p, size_t n)
{
    /* A JSON string of the raw line; bytes that are not valid UTF-8 become
     * U+FFFD so the file stays valid JSON (the reason says so). */
    ingest_buf_putc(b, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"' || c == '\\') {
            ingest_buf_putc(b, '\\');
            ingest_buf_putc(b, (char)c);
            i++;
        } else if (c < 0x20) {
            ingest_buf_printf(b, "\\u%04x", c);
            i++;
        } else if (c < 0x80) {
            ingest_buf_putc(b, (char)c);
            i++;
        } else {
            size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
            int ok = len && i + len <= n && (c < 0xf5);
            for (size_t k = 1; ok && k < len; k++)
                ok = ((unsigned char)p[i + k] & 0xc0) == 0x80;
            if (ok && len == 3) {
                unsigned c1 = (unsigned char)p[i + 1];
                ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);
            }
            if (ok && len == 4) {
                unsigned c1 = (unsigned char)p[i + 1];
                ok = !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
            }
            if (ok) {
                ingest_buf_append(b, p + i, len);
                i += len;
            } else {
                ingest_buf_puts(b, "\xef\xbf\xbd");
                i++;
            }
        }
    }
    ingest_buf_putc(b, '"');
}

static void on_bad(void *ud, uint64_t line_no, const char *reason, const char *line, size_t len)
{
    struct decode_ctx *c = ud;
    if (!c->bad && c->rc == 0) {
        char uuid[37];
        ingest_delta_uuid(uuid);
        snprintf(c->bad_tmp, sizeof c->bad_tmp, "%s/.tmp-%s.ndjson", c->s->bad_dir, uuid);
        if (dl_mkdirs(c->s->bad_dir, 0750) < 0 || !(c->bad = fopen(c->bad_tmp, "we"))) {
            c->rc = INGEST_EIO;
            snprintf(c->err, sizeof c->err, "%.300s: cannot write bad records: %s", c->bad_tmp,
                     strerror(errno));
            return;
        }
    }
    if (c->bad_logged < 5)
        INGEST_LOG_WARN(c->s->log, c->s->name, "bad record",
                        INGEST_KV_STR("file", c->cur_path), INGEST_KV_UINT("line", line_no),
                        INGEST_KV_STR("reason", reason), INGEST_KV_INT("batch", c->j->id));
    c->bad_logged++;
    if (!c->bad)
        return;
    struct ingest_buf b = INGEST_BUF_INIT;
    ingest_buf_puts(&b, "{\"file\":");
    ingest_buf_json_str(&b, c->cur_path);
    ingest_buf_printf(&b, ",\"line\":%" PRIu64 ",\"batch\":%" PRId64 ",\"reason\":", line_no,
                      c->j->id);
    ingest_buf_json_str(&b, reason);
    ingest_buf_puts(&b, ",\"raw\":");
    json_bytes(&b, line, len);
    ingest_buf_puts(&b, "}\n");
    if (b.oom || fwrite(b.data, 1, b.len, c->bad) != b.len) {
        c->rc = INGEST_EIO;
        snprintf(c->err, sizeof c->err, "%.300s: write: %s", c->bad_tmp, strerror(errno));
    }
    ingest_buf_free(&b);
}

/* ---- the decode thread -------------------------------------------------- */

static int flush_rows(struct decode_ctx *c)
{
    if (ingest_decoder_rows(c->dec) == 0)
        return 0;
    struct ingest_batch b, old;
    int rc = ingest_decoder_take(c->dec, &b);
    if (rc < 0)
        return rc;
    rc = q_push(c->q, &b);
    if (rc == 0 && q_take_return(c->q, &old))
        ingest_decoder_recycle(c->dec, &old);
    return rc;
}

static int feed(struct decode_ctx *c, const char *p, size_t n, uint64_t *line)
{
    uint64_t before = ingest_decoder_stats(c->dec)->lines;
    int rc = ingest_decoder_feed(c->dec, p, n, *line, on_bad, c);
    *line += ingest_decoder_stats(c->dec)->lines - before;
    if (rc < 0)
        return rc;
    /* Up to QDEPTH + 2 sub-batches exist at once (queued, being written,
     * being decoded): each gets a sixteenth of memory_limit. */
    size_t sub = (size_t)(c->s->memory_limit / 16);
    if (sub > SUB_BYTES)
        sub = SUB_BYTES;
    if (ingest_decoder_rows(c->dec) >= SUB_ROWS || ingest_decoder_memory(c->dec) >= sub)
        return flush_rows(c);
    return 0;
}

/* Reads one range and feeds its lines.  A line longer than max_line is
 * reported with its first KiB and skipped without being held in memory. */
static int decode_range(struct decode_ctx *c, const struct ingest_ckpt_range *r, char *buf,
                        struct ingest_buf *carry)
{
    const struct eng_settings *s = c->s;
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", s->root, r->path);
    c->cur_path = r->path;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    int64_t mtime = fd >= 0 && fstat(fd, &st) == 0
                        ? (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec : -1;
    if (fd < 0 || mtime < 0 || (uint64_t)st.st_ino != r->inode || st.st_size < r->end ||
        st.st_size < r->size || (st.st_size == r->size && mtime != r->mtime_ns)) {
        /* The batch's plan names this exact file (a replay must read the same
         * bytes): one replaced, truncated or rewritten since it was planned is
         * not read.  Growth past the planned size (an appended log) leaves
         * the planned bytes alone. */
        int e = errno;
        if (fd >= 0)
            close(fd);
        return eng_skip_add(c->j, r->path, fd < 0 ? "cannot read: %s"
                                                  : "changed after its batch was planned%s",
                            fd < 0 ? strerror(e) : "");
    }
    uint64_t line = (uint64_t)r->first_line;
    int64_t pos = r->start;
    int skipping = 0;
    int rc = 0;
    ingest_buf_reset(carry);
    while (pos < r->end && rc == 0) {
        size_t want = (size_t)(r->end - pos < CHUNK ? r->end - pos : CHUNK);
        ssize_t n = pread(fd, buf, want, pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = eng_skip_add(c->j, r->path, "read error at byte %lld: %s", (long long)pos,
                              n < 0 ? strerror(errno) : "unexpected end of file");
            break;
        }
        c->j->bytes += (uint64_t)n;
        pos += n;
        const char *p = buf, *lim = buf + n;
        while (p < lim && rc == 0) {
            const char *nl = memchr(p, '\n', (size_t)(lim - p));
            const char *stop = nl ? nl + 1 : lim;
            if (skipping) {
                if (nl) {
                    skipping = 0;
                    line++;
                }
                p = stop;
                continue;
            }
            if (carry->len == 0 && nl) {
                /* Fast path: every whole line in this chunk, in one call. */
                const char *last = memrchr(p, '\n', (size_t)(lim - p));
                rc = feed(c, p, (size_t)(last + 1 - p), &line);
                p = last + 1;
                continue;
            }
            ingest_buf_append(carry, p, (size_t)(stop - p));
            if (carry->oom) {
                rc = INGEST_ENOMEM;
                break;
            }
            if (nl) {
                rc = feed(c, carry->data, carry->len, &line);
                ingest_buf_reset(carry);
            } else if ((int64_t)carry->len > s->max_line) {
                char reason[96];
                snprintf(reason, sizeof reason, "line longer than max_line_size (%lld bytes)",
                         (long long)s->max_line);
                on_bad(c, line, reason, carry->data, 1024);
                c->j->bad++;
                ingest_buf_reset(carry);
                skipping = 1;
            }
            p = stop;
        }
    }
    if (rc == 0 && carry->len > 0 && !skipping) {
        rc = feed(c, carry->data, carry->len, &line);     /* last line, no newline */
        ingest_buf_reset(carry);
    }
    close(fd);
    if (rc == 0 && r->end == r->size)
        c->j->files_done++;
    return rc;
}

static void *decode_main(void *arg)
{
    struct decode_ctx *c = arg;
    const struct ingest_ckpt_batch *plan = &c->j->plan;
    char *buf = malloc(CHUNK);
    struct ingest_buf carry = INGEST_BUF_INIT;
    double t0 = eng_now();
    int rc = buf ? 0 : INGEST_ENOMEM;
    for (size_t i = 0; i < plan->nranges && rc == 0 && c->rc == 0; i++)
        rc = decode_range(c, &plan->ranges[i], buf, &carry);
    if (rc == 0 && c->rc == 0)
        rc = flush_rows(c);
    if (rc < 0 && c->rc == 0) {
        c->rc = rc;
        if (rc != INGEST_ECANCELED)
            snprintf(c->err, sizeof c->err, "decoding %s: %s", c->cur_path ? c->cur_path : "?",
                     ingest_strerror(rc));
    }
    free(buf);
    ingest_buf_free(&carry);
    c->busy = eng_now() - t0;
    pthread_mutex_lock(&c->q->mu);
    c->q->done = 1;
    pthread_cond_broadcast(&c->q->cv);
    pthread_mutex_unlock(&c->q->mu);
    return NULL;
}

/* ---- the writing side --------------------------------------------------- */

/* The decoder's columns rearranged into the table's schema: columns the
 * pipeline does not produce (kept from an older schema) are all null. */
static int to_table(const struct ingest_batch *in, const struct ingest_schema *ts,
                    struct ingest_batch *out, struct ingest_vector *cols, uint8_t **owned,
                    char *err, size_t errlen)
{
    const struct ingest_schema *ds = in->schema;
    out->schema = ts;
    out->nrows = in->nrows;
    out->columns = cols;
    for (size_t i = 0; i < ts->nfields; i++) {
        const struct ingest_field *tf = &ts->fields[i];
        size_t k = 0;
        while (k < ds->nfields && strcasecmp(ds->fields[k].name, tf->name) != 0)
            k++;
        if (k < ds->nfields) {
            cols[i] = in->columns[k];
            continue;
        }
        size_t w = ingest_type_width(tf);
        memset(&cols[i], 0, sizeof cols[i]);
        cols[i].field = tf;
        cols[i].length = in->nrows;
        cols[i].null_count = in->nrows;
        if (!w && tf->type != INGEST_TYPE_STRING && tf->type != INGEST_TYPE_BINARY) {
            snprintf(err, errlen, "table column %s is not produced by the pipeline and is "
                     "nested: cannot fill it with nulls", tf->name);
            return INGEST_ENOTSUP;
        }
        /* One zeroed block serves as validity (all null), values and
         * offsets (all empty). */
        size_t need = (in->nrows + 1) * (w > 4 ? w : 4) + in->nrows / 8 + 1;
        uint8_t *z = calloc(1, need);
        if (!z)
            return INGEST_ENOMEM;
        owned[i] = z;
        cols[i].validity = z;
        if (w)
            cols[i].values = z;
        else {
            cols[i].offsets = (uint32_t *)z;
            cols[i].data = z;
        }
    }
    return 0;
}

static int write_all(struct eng_job *j, const struct eng_settings *s, struct queue *q,
                     struct ingest_delta_writer *w, double *busy)
{
    struct ingest_batch b;
    int rc = 0;
    size_t nf = j->table_schema->nfields;
    struct ingest_vector *cols = calloc(nf ? nf : 1, sizeof *cols);
    uint8_t **owned = calloc(nf ? nf : 1, sizeof *owned);
    if (!cols || !owned)
        rc = INGEST_ENOMEM;
    while (q_pop(q, &b)) {
        double t0 = eng_now();
        if (rc == 0) {
            struct ingest_batch tb;
            rc = to_table(&b, j->table_schema, &tb, cols, owned, j->err, sizeof j->err);
            if (rc == 0) {
                rc = ingest_delta_writer_write(w, &tb, j->err, sizeof j->err);
                j->rows += tb.nrows;
            }
            for (size_t i = 0; i < nf; i++) {
                free(owned[i]);
                owned[i] = NULL;
            }
        }
        q_return(q, &b);
        *busy += eng_now() - t0;
        if (rc < 0) {
            /* Stop the producer; keep draining so it can finish. */
            pthread_mutex_lock(&q->mu);
            q->cancel = 1;
            pthread_cond_broadcast(&q->cv);
            pthread_mutex_unlock(&q->mu);
        }
    }
    (void)s;
    free(cols);
    free(owned);
    return rc;
}

static void lineage(struct ingest_buf *b, const struct eng_job *j, const struct eng_settings *s)
{
    ingest_buf_puts(b, "{\"pipeline\":");
    ingest_buf_json_str(b, s->name);
    ingest_buf_puts(b, ",\"pipeline_id\":");
    ingest_buf_json_str(b, s->pipeline_id);
    ingest_buf_printf(b, ",\"batch\":%" PRId64 ",\"source\":\"directory\",\"rows\":%" PRIu64
                         ",\"bad_records\":%" PRIu64 ",\"files\":[",
                      j->id, j->rows, j->bad);
    for (size_t i = 0; i < j->plan.nranges; i++) {
        const struct ingest_ckpt_range *r = &j->plan.ranges[i];
        ingest_buf_puts(b, i ? ",{\"path\":" : "{\"path\":");
        ingest_buf_json_str(b, r->path);
        ingest_buf_printf(b, ",\"start\":%" PRId64 ",\"end\":%" PRId64 "}", r->start, r->end);
    }
    ingest_buf_puts(b, "]}");
}

static void remove_files(const struct ingest_delta_table *tbl, struct ingest_delta_add *adds,
                         size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char p[8192];
        snprintf(p, sizeof p, "%s/%s", tbl->path, adds[i].path);
        unlink(p);
    }
}

static int commit(struct eng_job *j, const struct eng_settings *s, struct ingest_delta_add *adds,
                  size_t nadds)
{
    struct ingest_buf lin = INGEST_BUF_INIT;
    lineage(&lin, j, s);
    if (lin.oom) {
        ingest_buf_free(&lin);
        return INGEST_ENOMEM;
    }
    struct ingest_delta_txn txn = { (char *)s->pipeline_id, j->id, -1 };
    char params[128];
    snprintf(params, sizeof params, "{\"batchId\":\"%" PRId64 "\",\"outputMode\":\"Append\"}",
             j->id);
    struct ingest_delta_commit c = {
        .adds = adds, .nadds = nadds, .txns = &txn, .ntxns = 1, .new_schema = j->evolve,
        .operation = "STREAMING UPDATE", .operation_params = params, .lineage = lin.data,
    };
    int rc = ingest_delta_commit(j->tbl, &c, &j->version, j->err, sizeof j->err);
    ingest_buf_free(&lin);
    if (rc == INGEST_EEXIST) {
        /* The batch is already in the table (a replay): our files are orphans
         * nobody references, so they go. */
        remove_files(j->tbl, adds, nadds);
        j->version = -1;
        return 0;
    }
    if (rc < 0)
        remove_files(j->tbl, adds, nadds);
    for (size_t i = 0; rc == 0 && i < nadds; i++) {
        j->table_bytes += adds[i].size;
        j->table_files++;
    }
    return rc;
}

void eng_clean_file(const struct eng_settings *s, const char *relpath)
{
    char src[8192];
    snprintf(src, sizeof src, "%s/%s", s->root, relpath);
    if (s->clean == 1) {
        if (unlink(src) != 0 && errno != ENOENT)
            INGEST_LOG_WARN(s->log, s->name, "clean_source: cannot delete",
                            INGEST_KV_STR("file", src), INGEST_KV_STR("error", strerror(errno)));
        return;
    }
    char dst[8192];
    snprintf(dst, sizeof dst, "%s/%s", s->archive_dir, relpath);
    char *slash = strrchr(dst, '/');
    *slash = 0;
    dl_mkdirs(dst, 0750);
    *slash = '/';
    /* Never overwrite an earlier file of the same name in the archive. */
    int arc = renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_NOREPLACE);
    for (int k = 1; arc != 0 && errno == EEXIST && k < 1000; k++) {
        char alt[8300];
        snprintf(alt, sizeof alt, "%s.%d", dst, k);
        arc = renameat2(AT_FDCWD, src, AT_FDCWD, alt, RENAME_NOREPLACE);
    }
    if (arc != 0 && errno != ENOENT)
        INGEST_LOG_WARN(s->log, s->name, "clean_source: cannot archive",
                        INGEST_KV_STR("file", src), INGEST_KV_STR("to", dst),
                        INGEST_KV_STR("error", strerror(errno)));
}

static void clean_sources(struct eng_job *j, const struct eng_settings *s)
{
    for (size_t i = 0; i < j->plan.nranges; i++) {
        const struct ingest_ckpt_range *r = &j->plan.ranges[i];
        int skipped = 0;
        for (size_t k = 0; k < j->nskips; k++)
            skipped |= strcmp(j->skips[k].path, r->path) == 0;
        if (!skipped && r->end == r->size)
            eng_clean_file(s, r->path);
    }
}

static int finish_bad(struct decode_ctx *c)
{
    if (!c->bad)
        return 0;
    int rc = 0;
    char name[160];
    /* Named by pipeline and batch: pipelines may share the directory, and a
     * reset checkpoint (new pipeline id) restarts the batch numbers. */
    snprintf(name, sizeof name, "%.60s-%.8s-batch-%" PRId64 ".ndjson", c->s->name,
             c->s->pipeline_id, c->j->id);
    if (fflush(c->bad) != 0 || fsync(fileno(c->bad)) != 0)
        rc = INGEST_EIO;
    fclose(c->bad);
    c->bad = NULL;
    if (rc == 0)
        rc = dl_publish_file(c->bad_tmp, c->s->bad_dir, name, 0, c->err, sizeof c->err);
    else
        unlink(c->bad_tmp);
    return rc;
}

void eng_exec_work(struct eng_job *j, const struct eng_settings *s)
{
    double t0 = eng_now();
    struct queue q = { .head = 0 };
    struct decode_ctx dc = { .j = j, .s = s, .q = &q };
    struct ingest_delta_writer *w = NULL;
    struct ingest_delta_add *adds = NULL;
    size_t nadds = 0;
    int rc = 0;
    j->version = -2;
    if (ingest_delta_txn_version(j->tbl, s->pipeline_id) >= j->id) {
        j->version = -1;        /* committed before a crash: only commits/N is missing */
        goto wal;
    }
    pthread_mutex_init(&q.mu, NULL);
    pthread_cond_init(&q.cv, NULL);
    dc.dec = s->dec;
    struct ingest_decode_stats before = *ingest_decoder_stats(dc.dec);
    struct ingest_delta_writer_opts wo = s->wopts;
    wo.schema = j->table_schema;
    if (!(w = ingest_delta_writer_open(j->tbl, &wo, j->err, sizeof j->err))) {
        rc = INGEST_EIO;
        goto out_sync;
    }
    pthread_t th;
    if (pthread_create(&th, NULL, decode_main, &dc) != 0) {
        rc = INGEST_ESYS;
        snprintf(j->err, sizeof j->err, "cannot start the decode thread");
        goto out_sync;
    }
    double wbusy = 0;
    rc = write_all(j, s, &q, w, &wbusy);
    pthread_join(th, NULL);
    const struct ingest_decode_stats *st = ingest_decoder_stats(dc.dec);
    j->bad += st->bad - before.bad;
    j->rescued = st->rescued - before.rescued;
    j->lines = st->lines - before.lines;
    j->ph.read = dc.busy;
    if (rc == 0 && dc.rc < 0) {
        rc = dc.rc;
        snprintf(j->err, sizeof j->err, "%s", dc.err);
    }
    double tw = eng_now();
    if (rc == 0)
        rc = ingest_delta_writer_finish(w, &adds, &nadds, j->err, sizeof j->err);
    else
        ingest_delta_writer_abort(w);
    w = NULL;
    j->ph.write = wbusy + (eng_now() - tw);
    if (rc == 0) {
        rc = finish_bad(&dc);
        if (rc < 0)
            snprintf(j->err, sizeof j->err, "bad records: %s", dc.err);
    }
    if (rc == 0 && nadds > 0) {
        double tc = eng_now();
        rc = commit(j, s, adds, nadds);
        j->ph.commit = eng_now() - tc;
    }
out_sync:
    if (dc.bad) {
        fclose(dc.bad);
        unlink(dc.bad_tmp);
    }
    ingest_delta_writer_abort(w);
    if (dc.dec) {
        /* A failed batch may leave rows behind: drop them. */
        struct ingest_batch rest;
        if (ingest_decoder_rows(dc.dec) && ingest_decoder_take(dc.dec, &rest) == 0)
            ingest_batch_free(&rest);
        struct ingest_batch old;
        if (q_take_return(&q, &old))
            ingest_decoder_recycle(dc.dec, &old);
    }
    q_free_returns(&q);
    pthread_mutex_destroy(&q.mu);
    pthread_cond_destroy(&q.cv);
    for (size_t i = 0; i < nadds; i++)
        ingest_delta_add_free(&adds[i]);
    free(adds);
    if (rc < 0) {
        j->rc = rc;
        if (!j->err[0])
            snprintf(j->err, sizeof j->err, "%s", ingest_strerror(rc));
        return;
    }
wal:
    rc = ingest_ckpt_write_commit(j->ckpt, j->id, j->version, j->err, sizeof j->err);
    if (rc < 0) {
        j->rc = rc;
        return;
    }
    if (s->clean)
        clean_sources(j, s);
    j->rc = 0;
    (void)t0;
}
