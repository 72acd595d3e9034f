/*
 * engine.c - the micro-batch engine's loop side (see engine.h and
 * engine_int.h for the jobs).
 *
 * Start-up order matters for exactly once: lock the checkpoint, open or
 * create the table, refuse an empty checkpoint against a table that already
 * holds this pipeline's commits, then replay an interrupted batch (offsets/N
 * without commits/N) before anything new is planned.  The file state
 * (SQLite) is only written here, on the loop thread; the listing thread of
 * the directory watcher reads it through its own handle to skip files it
 * already knows.
 *
 * Scheduling: one batch at a time.  With trigger = 0 a batch starts as soon
 * as a file is ready; otherwise at most one per trigger interval.  A failed
 * batch is retried with backoff (1 s doubling to 60 s) from its WAL entry;
 * with --once the run ends instead.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ingestd/ckpt.h"
#include "ingestd/dirwatch.h"
#include "ingestd/engine.h"
#include "ingestd/error.h"
#include "ingestd/filestate.h"
#include "ingestd/source.h"
#include "ingestd/strutil.h"
#include "engine_int.h"
#include "delta/dl_fs.h"

#define RECENT 10
#define MAX_CANDS 10000

struct recent {
    int64_t id, version, started_ms;
    int     status;             /* 0 committed, 1 skipped, 2 failed */
    uint64_t rows, bad, bytes, lines;
    double  duration;
    struct eng_phase ph;
    char  **files;
    size_t  nfiles, more_files;
};

struct ingest_engine {
    struct ingest_engine_opts o;
    const struct ingest_pipeline_conf *pc;
    const struct ingest_directory_conf *dc;
    struct eng_settings s;
    char   *bad_dir, *archive_dir;
    struct ingest_schema dschema;       /* decoder schema: [schema] + rescued column */
    struct ingest_schema evolved;       /* pending evolution, declared by the next commit */
    int     has_evolved;
    struct ingest_ckpt *ckpt;
    struct ingest_filestate *fs, *fs_list;
    struct ingest_delta_table *tbl;
    struct ingest_dirwatch *dw;
    int     fresh, skip_existing;       /* first start with include_existing = false */
    int64_t next_id;
    struct eng_job *job;                /* in flight */
    struct eng_job *replay;             /* recovered batch, queued at the end of start */
    int64_t retry_id;                   /* a failed batch to run again (its plan is durable); -1 */
    double  once_deadline;              /* --once: stop waiting for files still being written */
    int     stopping, stopped_dw, done, had_errors;
    int     failures;
    double  last_start;
    uv_timer_t timer;                   /* trigger / retry */
    uv_timer_t drain;
    int64_t pending_files, pending_bytes;
    struct recent recent[RECENT];
    size_t  nrecent, recent_head;
    uint64_t bad_total;
};

static void schedule(struct ingest_engine *e, int64_t delay_ms);
static void start_plan(struct ingest_engine *e);

static int64_t now_ms(void)
{
    return dl_now_ms(0);
}

/* ---- jobs ------------------------------------------------------------------ */

void eng_job_free(struct eng_job *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->ncands; i++)
        free(j->cands[i].path);
    free(j->cands);
    for (size_t i = 0; i < j->nskips; i++) {
        free(j->skips[i].path);
        free(j->skips[i].reason);
    }
    free(j->skips);
    ingest_ckpt_batch_free(&j->plan);
    free(j);
}

static struct eng_job *job_new(struct ingest_engine *e, int64_t id)
{
    struct eng_job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->e = e;
    j->id = id;
    j->req.data = j;
    j->tbl = e->tbl;
    j->ckpt = e->ckpt;
    j->t0 = eng_now();
    return j;
}

static void emit(struct ingest_engine *e, enum ingest_engine_event ev)
{
    if (e->o.cb)
        e->o.cb(e->o.ud, ev);
}

static void set_backlog(struct ingest_engine *e)
{
    if (e->pending_files < 0)
        e->pending_files = 0;
    if (e->pending_bytes < 0)
        e->pending_bytes = 0;
    ingest_series_set(e->o.m->backlog_files, (double)e->pending_files);
    ingest_series_set(e->o.m->backlog_bytes, (double)e->pending_bytes);
}

/* ---- the file state ---------------------------------------------------------- */

static void log_fs_error(struct ingest_engine *e, const char *what)
{
    INGEST_LOG_ERROR(e->o.log, e->pc->name, what,
                     INGEST_KV_STR("error", ingest_filestate_errmsg(e->fs)));
}

static void skip_file(struct ingest_engine *e, struct ingest_file_rec *r, const char *reason)
{
    ingest_series_add(e->o.m->files_skipped, 1);
    r->status = INGEST_FILE_SKIPPED;
    r->reason = (char *)reason;
    if (ingest_filestate_put(e->fs, r) < 0)
        log_fs_error(e, "cannot record a skipped file");
    r->reason = NULL;
}

/* A complete file reported by the watcher. */
static void on_ready(void *ud, const struct ingest_dirwatch_file *f)
{
    struct ingest_engine *e = ud;
    struct ingest_file_rec r = { 0 };
    int rc = ingest_filestate_get(e->fs, f->relpath, &r);
    if (rc == INGEST_ENOENT) {
        struct ingest_file_rec n = {
            .path = (char *)f->relpath, .size = f->size, .mtime_ns = f->mtime_ns,
            .inode = f->inode, .discovered_ms = now_ms(), .status = INGEST_FILE_DISCOVERED,
            .offset = 0, .line = 1, .batch = -1, .version = -1, .committed_ms = -1,
        };
        if (e->skip_existing) {
            skip_file(e, &n, "present at the first start (include_existing = false)");
            return;
        }
        if (ingest_filestate_put(e->fs, &n) < 0) {
            log_fs_error(e, "cannot record a discovered file");
            return;
        }
        e->pending_files++;
        e->pending_bytes += f->size;
        set_backlog(e);
        INGEST_LOG_DEBUG(e->o.log, e->pc->name, "file discovered",
                         INGEST_KV_STR("file", f->relpath), INGEST_KV_INT("bytes", f->size));
        schedule(e, -1);
        return;
    }
    if (rc < 0) {
        log_fs_error(e, "cannot look up a file");
        return;
    }
    int same = r.size == f->size && r.mtime_ns == f->mtime_ns && r.inode == f->inode;
    if (r.status == INGEST_FILE_SKIPPED && r.reason && strncmp(r.reason, "cannot read", 11) == 0) {
        /* An unreadable file gets another chance each time it is found
         * (permissions fixed, disk back): from the start, it was never read. */
        struct ingest_file_rec n = {
            .path = r.path, .size = f->size, .mtime_ns = f->mtime_ns, .inode = f->inode,
            .discovered_ms = r.discovered_ms, .status = INGEST_FILE_DISCOVERED, .offset = 0,
            .line = 1, .batch = -1, .version = -1, .committed_ms = -1,
        };
        if (ingest_filestate_put(e->fs, &n) < 0)
            log_fs_error(e, "cannot record a file to retry");
        e->pending_files++;
        e->pending_bytes += f->size;
        set_backlog(e);
        ingest_file_rec_free(&r);
        schedule(e, -1);
        return;
    }
    if (same && r.status == INGEST_FILE_COMMITTED && e->s.clean) {
        /* Committed but still here: the process died between the commit
         * and clean_source.  Finish the job now. */
        eng_clean_file(&e->s, f->relpath);
        ingest_file_rec_free(&r);
        return;
    }
    if (same || r.status == INGEST_FILE_IN_BATCH) {
        /* Unchanged, or in the batch in flight: a later listing looks again. */
        ingest_file_rec_free(&r);
        return;
    }
    if (r.status == INGEST_FILE_DISCOVERED && r.offset > 0 && r.inode == f->inode &&
        f->size > r.size) {
        /* Partly ingested (it spans batches) and appended to since: the
         * rest, old and new, follows from where the last batch stopped. */
        e->pending_bytes += f->size - r.size;
        r.size = f->size;
        r.mtime_ns = f->mtime_ns;
        if (ingest_filestate_put(e->fs, &r) < 0)
            log_fs_error(e, "cannot update a growing file");
        set_backlog(e);
    } else if (r.status == INGEST_FILE_DISCOVERED && r.offset == 0) {
        e->pending_bytes += f->size - r.size;
        r.size = f->size;
        r.mtime_ns = f->mtime_ns;
        r.inode = f->inode;
        if (ingest_filestate_put(e->fs, &r) < 0)
            log_fs_error(e, "cannot update a discovered file");
        set_backlog(e);
    } else if (e->dc->allow_overwrites || (e->s.clean && r.status == INGEST_FILE_COMMITTED)) {
        /* A new file under an old name: ingested again from the start. */
        int was_pending = r.status == INGEST_FILE_DISCOVERED;
        struct ingest_file_rec n = {
            .path = r.path, .size = f->size, .mtime_ns = f->mtime_ns, .inode = f->inode,
            .discovered_ms = now_ms(), .status = INGEST_FILE_DISCOVERED, .offset = 0,
            .line = 1, .batch = -1, .version = -1, .committed_ms = -1,
        };
        if (ingest_filestate_put(e->fs, &n) < 0)
            log_fs_error(e, "cannot record a rewritten file");
        if (!was_pending)
            e->pending_files++;
        e->pending_bytes += f->size;
        set_backlog(e);
        INGEST_LOG_INFO(e->o.log, e->pc->name, "file rewritten: ingesting it again",
                        INGEST_KV_STR("file", f->relpath));
        schedule(e, -1);
    } else if (r.status != INGEST_FILE_SKIPPED) {
        if (r.status == INGEST_FILE_DISCOVERED) {
            e->pending_files--;
            e->pending_bytes -= r.size - r.offset;
            set_backlog(e);
        }
        skip_file(e, &r, "changed after ingestion (allow_overwrites = false)");
        INGEST_LOG_WARN(e->o.log, e->pc->name, "file changed after ingestion: skipped",
                        INGEST_KV_STR("file", f->relpath), INGEST_KV_INT("bytes", f->size),
                        INGEST_KV_INT("ingested_bytes", r.offset));
    }
    ingest_file_rec_free(&r);
}

/* Listing thread: is this exact file already tracked? */
static int on_known(void *ud, const struct ingest_dirwatch_file *f)
{
    struct ingest_engine *e = ud;
    struct ingest_file_rec r;
    if (ingest_filestate_get(e->fs_list, f->relpath, &r) < 0)
        return 0;
    int same = r.size == f->size && r.mtime_ns == f->mtime_ns && r.inode == f->inode;
    /* Committed files still present under clean_source are reported so
     * they get cleaned (a crash came between the commit and the cleaning). */
    if (r.status == INGEST_FILE_COMMITTED && e->s.clean && r.offset >= r.size)
        same = 0;
    /* Unreadable before: report it again, it may be readable now. */
    if (r.status == INGEST_FILE_SKIPPED && r.reason && strncmp(r.reason, "cannot read", 11) == 0)
        same = 0;
    ingest_file_rec_free(&r);
    return same;
}

static void on_listed(void *ud, uint64_t n)
{
    struct ingest_engine *e = ud;
    if (e->once_deadline == 0)
        e->once_deadline = eng_now() + 2.0 * (double)e->dc->settle_time_ms / 1000 + 1.0;
    INGEST_LOG_DEBUG(e->o.log, e->pc->name, "listing done", INGEST_KV_UINT("files", n));
    if (e->skip_existing) {
        e->skip_existing = 0;
        INGEST_LOG_INFO(e->o.log, e->pc->name,
                        "files present at the first start were skipped (include_existing = false)");
    }
    schedule(e, -1);
}

struct cand_ctx {
    struct eng_job *j;
    size_t cap;
    int64_t bytes, budget;
};

static int collect(void *ud, const struct ingest_file_rec *r)
{
    struct cand_ctx *c = ud;
    struct eng_job *j = c->j;
    if (j->ncands == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 64;
        struct eng_cand *nc = realloc(j->cands, ncap * sizeof *nc);
        if (!nc)
            return 1;
        j->cands = nc;
        c->cap = ncap;
    }
    struct eng_cand *x = &j->cands[j->ncands];
    if (!(x->path = strdup(r->path)))
        return 1;
    x->size = r->size;
    x->mtime_ns = r->mtime_ns;
    x->inode = r->inode;
    x->offset = r->offset;
    x->line = r->line > 0 ? r->line : 1;
    j->ncands++;
    c->bytes += r->size - r->offset;
    return c->bytes >= c->budget;
}

/* ---- batch results ----------------------------------------------------------- */

static void remember(struct ingest_engine *e, const struct eng_job *j, int status)
{
    struct recent *r = &e->recent[e->recent_head];
    for (size_t i = 0; i < r->nfiles; i++)
        free(r->files[i]);
    free(r->files);
    memset(r, 0, sizeof *r);
    r->id = j->id;
    r->version = j->version;
    r->status = status;
    r->started_ms = now_ms() - (int64_t)((eng_now() - j->t0) * 1000);
    r->rows = j->rows;
    r->bad = j->bad;
    r->bytes = j->bytes;
    r->lines = j->lines;
    r->duration = eng_now() - j->t0;
    r->ph = j->ph;
    size_t n = j->plan.nranges < 20 ? j->plan.nranges : 20;
    r->files = calloc(n ? n : 1, sizeof *r->files);
    for (size_t i = 0; r->files && i < n; i++)
        if ((r->files[r->nfiles] = strdup(j->plan.ranges[i].path)))
            r->nfiles++;
    r->more_files = j->plan.nranges - r->nfiles;
    e->recent_head = (e->recent_head + 1) % RECENT;
    if (e->nrecent < RECENT)
        e->nrecent++;
}

static void mark_skips(struct ingest_engine *e, struct eng_job *j)
{
    for (size_t i = 0; i < j->nskips; i++) {
        struct ingest_file_rec r;
        if (ingest_filestate_get(e->fs, j->skips[i].path, &r) < 0)
            continue;
        if (r.status == INGEST_FILE_DISCOVERED) {
            e->pending_files--;
            e->pending_bytes -= r.size - r.offset;
        }
        skip_file(e, &r, j->skips[i].reason);
        ingest_file_rec_free(&r);
        e->had_errors = 1;
        INGEST_LOG_WARN(e->o.log, e->pc->name, "file skipped",
                        INGEST_KV_STR("file", j->skips[i].path),
                        INGEST_KV_STR("reason", j->skips[i].reason),
                        INGEST_KV_INT("batch", j->id));
    }
    set_backlog(e);
}

/* The batch's ranges as IN_BATCH records (after its plan is durable). */
static void mark_planned(struct ingest_engine *e, struct eng_job *j)
{
    if (ingest_filestate_begin(e->fs) < 0) {
        log_fs_error(e, "cannot record the batch plan");
        return;
    }
    for (size_t i = 0; i < j->plan.nranges; i++) {
        const struct ingest_ckpt_range *g = &j->plan.ranges[i];
        struct ingest_file_rec r;
        if (ingest_filestate_get(e->fs, g->path, &r) < 0)
            continue;
        if (r.status == INGEST_FILE_DISCOVERED) {
            e->pending_bytes -= g->end - r.offset;
            if (g->end >= g->size)
                e->pending_files--;
        }
        r.status = INGEST_FILE_IN_BATCH;
        r.batch = j->id;
        r.offset = g->end;
        if (g->lines >= 0)
            r.line = g->first_line + g->lines;
        r.size = g->size;
        r.mtime_ns = g->mtime_ns;
        r.inode = g->inode;
        ingest_filestate_put(e->fs, &r);
        ingest_file_rec_free(&r);
    }
    if (ingest_filestate_commit(e->fs) < 0)
        log_fs_error(e, "cannot record the batch plan");
    set_backlog(e);
}

static void on_exec_done(uv_work_t *req, int status);

static void start_exec(struct ingest_engine *e, struct eng_job *j)
{
    j->table_schema = e->has_evolved ? &e->evolved : &e->tbl->schema;
    j->evolve = e->has_evolved ? &e->evolved : NULL;
    e->job = j;
}

static void exec_work(uv_work_t *req)
{
    struct eng_job *j = req->data;
    eng_exec_work(j, &j->e->s);
}

static void plan_work(uv_work_t *req)
{
    struct eng_job *j = req->data;
    eng_plan_work(j, &j->e->s);
}

static void finish_stop(struct ingest_engine *e);

static void batch_failed(struct ingest_engine *e, struct eng_job *j)
{
    ingest_series_add(e->o.m->batches[2], 1);
    remember(e, j, 2);
    e->failures++;
    e->had_errors = 1;
    INGEST_LOG_ERROR(e->o.log, e->pc->name, "batch failed", INGEST_KV_INT("batch", j->id),
                     INGEST_KV_STR("error", j->err[0] ? j->err : ingest_strerror(j->rc)),
                     INGEST_KV_INT("attempt", e->failures));
    emit(e, INGEST_ENGINE_FAILED);
}

/* A batch failed: record it, free the job, then stop, end a --once run, or
 * try again with backoff (1 s doubling to 60 s) - the same batch when its
 * plan is durable (retry >= 0), else a new plan. */
static void after_failure(struct ingest_engine *e, struct eng_job *j, int64_t retry)
{
    batch_failed(e, j);
    eng_job_free(j);
    if (e->stopping) {
        finish_stop(e);
        return;
    }
    if (e->o.once) {
        e->done = 1;
        emit(e, INGEST_ENGINE_DONE);
        return;
    }
    e->retry_id = retry;
    int64_t delay = 1000LL << (e->failures < 7 ? e->failures - 1 : 6);
    schedule(e, delay > 60000 ? 60000 : delay);
}

static void on_exec_done(uv_work_t *req, int status)
{
    struct eng_job *j = req->data;
    struct ingest_engine *e = j->e;
    (void)status;
    e->job = NULL;
    if (j->rc < 0) {
        /* offsets/N stays: the same batch runs again (its plan is durable
         * and nothing after it may commit first). */
        after_failure(e, j, j->id);
        return;
    }
    e->failures = 0;
    e->retry_id = -1;
    if (j->version >= 0 && e->has_evolved) {
        ingest_schema_free(&e->evolved);
        e->has_evolved = 0;
    }
    if (ingest_filestate_mark_committed(e->fs, j->id, j->version >= 0 ? j->version : -1,
                                        now_ms()) < 0)
        log_fs_error(e, "cannot record the commit");
    mark_skips(e, j);
    const struct ingest_engine_metrics *m = e->o.m;
    ingest_series_add(m->read, (double)(j->rows + j->bad));
    ingest_series_add(m->written, (double)j->rows);
    ingest_series_add(m->bad, (double)j->bad);
    ingest_series_add(m->rescued, (double)j->rescued);
    ingest_series_add(m->bytes_read, (double)j->bytes);
    ingest_series_add(m->files_read, (double)j->files_done);
    ingest_series_add(m->table_bytes, (double)j->table_bytes);
    ingest_series_add(m->table_files, (double)j->table_files);
    ingest_series_add(m->phase[0], j->ph.plan);
    ingest_series_add(m->phase[1], j->ph.read);
    ingest_series_add(m->phase[2], j->ph.transform);
    ingest_series_add(m->phase[3], j->ph.write);
    ingest_series_add(m->phase[4], j->ph.commit);
    double dur = eng_now() - j->t0;
    ingest_series_observe(m->duration, dur);
    int committed = j->version >= 0;
    ingest_series_add(m->batches[committed || j->version == -2 ? 0 : 1], 1);
    if (committed) {
        ingest_series_set(m->version, (double)j->version);
        ingest_series_set(m->last_commit, (double)now_ms() / 1000.0);
    }
    e->bad_total += j->bad;
    remember(e, j, committed || j->version == -2 ? 0 : 1);
    INGEST_LOG_INFO(e->o.log, e->pc->name,
                    j->version == -1   ? "batch already in the table: skipped"
                    : j->version == -2 ? "batch had no rows: nothing to commit"
                                       : "batch committed",
                    INGEST_KV_INT("batch", j->id), INGEST_KV_INT("version", j->version),
                    INGEST_KV_UINT("rows", j->rows), INGEST_KV_UINT("bad", j->bad),
                    INGEST_KV_UINT("bytes", j->bytes),
                    INGEST_KV_UINT("files", j->plan.nranges),
                    INGEST_KV_DBL("seconds", dur),
                    INGEST_KV_DBL("rows_per_s", dur > 0 ? (double)j->rows / dur : 0));
    if (j->bad > 5)
        INGEST_LOG_WARN(e->o.log, e->pc->name, "bad records in batch",
                        INGEST_KV_INT("batch", j->id), INGEST_KV_UINT("count", j->bad),
                        INGEST_KV_STR("file", e->bad_dir));
    eng_job_free(j);
    if (e->stopping) {
        finish_stop(e);
        return;
    }
    schedule(e, -1);
}

static void on_plan_done(uv_work_t *req, int status)
{
    struct eng_job *j = req->data;
    struct ingest_engine *e = j->e;
    (void)status;
    e->job = NULL;
    if (j->rc < 0) {
        after_failure(e, j, -1);    /* no durable plan: plan again */
        return;
    }
    if (j->plan.nranges == 0) {
        /* Only unreadable or vanished files: record why, then look again. */
        mark_skips(e, j);
        eng_job_free(j);
        if (e->stopping)
            finish_stop(e);
        else
            schedule(e, -1);
        return;
    }
    e->next_id = j->id + 1;
    mark_planned(e, j);
    if (e->stopping) {
        /* The plan is durable; the next start replays it. */
        eng_job_free(j);
        finish_stop(e);
        return;
    }
    start_exec(e, j);
    uv_queue_work(e->o.loop, &j->req, exec_work, on_exec_done);
}

static void start_plan(struct ingest_engine *e)
{
    struct eng_job *j = job_new(e, e->next_id);
    if (!j)
        return;
    struct cand_ctx c = { .j = j, .budget = e->s.max_bytes };
    long n = ingest_filestate_scan(e->fs, INGEST_FILE_DISCOVERED, INT64_MIN, NULL, MAX_CANDS,
                                   collect, &c);
    if (n < 0) {
        log_fs_error(e, "cannot read pending files");
        eng_job_free(j);
        schedule(e, 1000);
        return;
    }
    if (j->ncands == 0) {
        eng_job_free(j);
        e->pending_files = 0;
        e->pending_bytes = 0;
        set_backlog(e);
        return;
    }
    e->last_start = eng_now();
    e->job = j;
    emit(e, INGEST_ENGINE_RUNNING);
    uv_queue_work(e->o.loop, &j->req, plan_work, on_plan_done);
}

/* ---- scheduling ----------------------------------------------------------------- */

static int drained(struct ingest_engine *e)
{
    return e->pending_files <= 0 && (!e->dw || (ingest_dirwatch_unsettled(e->dw) == 0 &&
                                                !ingest_dirwatch_listing(e->dw)));
}

static void retry_batch(struct ingest_engine *e)
{
    struct eng_job *j = job_new(e, e->retry_id);
    char err[512];
    if (!j || ingest_ckpt_read_offsets(e->ckpt, e->retry_id, &j->plan, err, sizeof err) < 0) {
        INGEST_LOG_ERROR(e->o.log, e->pc->name, "cannot read the plan of a failed batch",
                         INGEST_KV_INT("batch", e->retry_id), INGEST_KV_STR("error", err));
        eng_job_free(j);
        schedule(e, 60000);
        return;
    }
    INGEST_LOG_INFO(e->o.log, e->pc->name, "retrying a failed batch",
                    INGEST_KV_INT("batch", e->retry_id), INGEST_KV_INT("attempt", e->failures + 1));
    e->last_start = eng_now();
    start_exec(e, j);
    emit(e, INGEST_ENGINE_RUNNING);
    uv_queue_work(e->o.loop, &j->req, exec_work, on_exec_done);
}

static void on_timer(uv_timer_t *t)
{
    struct ingest_engine *e = t->data;
    if (e->job || e->stopping || e->done)
        return;
    if (e->retry_id >= 0) {
        retry_batch(e);
        return;
    }
    start_plan(e);
    if (!e->job) {
        int late = e->o.once && e->pending_files <= 0 && e->dw && !ingest_dirwatch_listing(e->dw) &&
                   e->once_deadline > 0 && eng_now() > e->once_deadline;
        if (late && !drained(e))
            INGEST_LOG_WARN(e->o.log, e->pc->name, "--once: files still being written are left "
                            "for the next run", INGEST_KV_UINT("files", ingest_dirwatch_unsettled(e->dw)));
        if (e->o.once && (drained(e) || late)) {
            e->done = 1;
            emit(e, INGEST_ENGINE_DONE);
        } else {
            emit(e, INGEST_ENGINE_IDLE);
            if (e->o.once)
                uv_timer_start(&e->timer, on_timer, 100, 0);   /* settling files */
        }
    }
}

/* delay < 0: as the trigger allows. */
static void schedule(struct ingest_engine *e, int64_t delay)
{
    if (e->job || e->stopping || e->done)
        return;
    if (delay < 0 && e->o.once)
        delay = 0;              /* --once drains as fast as it can */
    if (delay < 0) {
        double since = (eng_now() - e->last_start) * 1000;
        delay = e->pc->trigger_ms > since ? (int64_t)(e->pc->trigger_ms - since) : 0;
    }
    if (uv_is_active((uv_handle_t *)&e->timer) && delay > 0)
        return;                 /* already due */
    uv_timer_start(&e->timer, on_timer, (uint64_t)delay, 0);
}

/* ---- start -------------------------------------------------------------------- */

static int build_schema(struct ingest_engine *e, char *err, size_t errlen)
{
    const struct ingest_pipeline_conf *pc = e->pc;
    size_t n = pc->ncolumns + (pc->rescued_column ? 1 : 0);
    e->dschema.fields = calloc(n ? n : 1, sizeof *e->dschema.fields);
    if (!e->dschema.fields)
        return INGEST_ENOMEM;
    for (size_t i = 0; i < pc->ncolumns; i++) {
        struct ingest_field *f = &e->dschema.fields[i];
        f->name = strdup(pc->columns[i].name);
        f->type = pc->columns[i].type;
        f->precision = pc->columns[i].precision;
        f->scale = pc->columns[i].scale;
        f->nullable = !pc->columns[i].not_null;
        e->dschema.nfields++;
        if (!f->name)
            return INGEST_ENOMEM;
    }
    if (pc->rescued_column) {
        struct ingest_field *f = &e->dschema.fields[e->dschema.nfields++];
        f->name = strdup(pc->rescued_column);
        f->type = INGEST_TYPE_STRING;
        f->nullable = 1;
        if (!f->name)
            return INGEST_ENOMEM;
    }
    if (e->dschema.nfields == 0) {
        snprintf(err, errlen, "%s: the pipeline has no [schema]; schema inference is not "
                 "supported yet, declare the columns", pc->file);
        return INGEST_ECONFIG;
    }
    return 0;
}

/* Does the table already hold commits of a pipeline with our name?  The
 * lineage of every JSON commit still in the log says which pipeline wrote it. */
static int table_has_pipeline(struct ingest_engine *e)
{
    char needle[512];
    snprintf(needle, sizeof needle, "\"ingestd\":{\"pipeline\":");
    struct ingest_buf want = INGEST_BUF_INIT;
    ingest_buf_puts(&want, needle);
    ingest_buf_json_str(&want, e->pc->name);
    int found = 0;
    for (int64_t v = e->tbl->snap.version; v >= 0 && !found && want.data; v--) {
        char name[64], path[4200], *text;
        size_t len;
        ingest_delta_version_name(v, ".json", name, sizeof name);
        snprintf(path, sizeof path, "%s/%s", e->tbl->log_dir, name);
        if (dl_read_file(path, &text, &len) < 0)
            break;              /* cleaned up behind a checkpoint */
        found = strstr(text, want.data) != NULL;
        free(text);
    }
    /* A txn of a directory pipeline also marks it, even once its JSON
     * commits are gone: the ids are ours only if the lineage said so, but
     * any txn in a table we did not create is reason enough to ask. */
    ingest_buf_free(&want);
    return found;
}

static int open_table(struct ingest_engine *e, char *err, size_t errlen)
{
    const struct ingest_pipeline_conf *pc = e->pc;
    char iv[32];
    snprintf(iv, sizeof iv, "%lld", (long long)pc->sink.checkpoint_interval);
    struct ingest_delta_kv conf[] = { { (char *)"delta.checkpointInterval", iv } };
    struct ingest_delta_create_opts co = {
        .schema = &e->dschema, .partition_cols = (const char *const *)pc->sink.partition_cols,
        .npartition_cols = pc->sink.npartition_cols, .configuration = conf,
        .nconfiguration = 1, .name = pc->name,
    };
    int rc = ingest_delta_open_or_create(pc->sink.path, &co, &e->tbl, err, errlen);
    if (rc < 0)
        return rc;
    e->tbl->checkpoint_interval = pc->sink.checkpoint_interval;
    rc = ingest_delta_prepare_schema(e->tbl, &e->dschema,
                                     (const char *const *)pc->sink.partition_cols,
                                     pc->sink.npartition_cols, pc->evolution != INGEST_EVOLVE_FAIL,
                                     &e->evolved, err, errlen);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        e->has_evolved = 1;
        INGEST_LOG_INFO(e->o.log, pc->name,
                        "the table gains the pipeline's new columns with the next commit",
                        INGEST_KV_STR("table", pc->sink.path));
    }
    if (e->fresh && !e->o.reset_checkpoint && e->tbl->snap.version > 0 && table_has_pipeline(e)) {
        snprintf(err, errlen, "checkpoint %s is empty but table %s already holds commits of "
                 "pipeline '%s': starting over would ingest every file again. Restore the "
                 "checkpoint, or pass --reset-checkpoint to start over on purpose",
                 pc->checkpoint, pc->sink.path, pc->name);
        return INGEST_EEXIST;
    }
    return 0;
}

/* offsets/N without commits/N: run batch N again, exactly as planned. */
static int recover(struct ingest_engine *e, char *err, size_t errlen)
{
    int64_t planned = ingest_ckpt_last_planned(e->ckpt);
    int64_t committed = ingest_ckpt_last_committed(e->ckpt);
    e->next_id = (planned > committed ? planned : committed) + 1;
    /* The file state may lag the WAL by the last committed batch. */
    if (committed >= 0) {
        struct eng_job *j = job_new(e, committed);
        int64_t version;
        if (j && ingest_ckpt_read_offsets(e->ckpt, committed, &j->plan, err, errlen) == 0 &&
            ingest_ckpt_read_commit(e->ckpt, committed, &version) == 0) {
            mark_planned(e, j);
            ingest_filestate_mark_committed(e->fs, committed, version, now_ms());
        }
        eng_job_free(j);
        err[0] = 0;
    }
    if (planned <= committed)
        return 0;
    struct eng_job *j = job_new(e, planned);
    if (!j)
        return INGEST_ENOMEM;
    int rc = ingest_ckpt_read_offsets(e->ckpt, planned, &j->plan, err, errlen);
    if (rc < 0) {
        eng_job_free(j);
        return rc;
    }
    j->replay = 1;
    INGEST_LOG_INFO(e->o.log, e->pc->name, "replaying a batch planned before a restart",
                    INGEST_KV_INT("batch", planned), INGEST_KV_UINT("ranges", j->plan.nranges));
    mark_planned(e, j);
    e->replay = j;              /* queued once start-up succeeded */
    return 0;
}

static int settings(struct ingest_engine *e, char *err, size_t errlen)
{
    const struct ingest_pipeline_conf *pc = e->pc;
    const struct ingest_directory_conf *dc = e->dc;
    struct eng_settings *s = &e->s;
    s->name = pc->name;
    s->pipeline_id = ingest_ckpt_id(e->ckpt);
    s->root = dc->path;
    e->bad_dir = dc->bad_records_path ? strdup(dc->bad_records_path)
                                      : ingest_path_join(pc->checkpoint, "bad_records");
    if (!e->bad_dir)
        return INGEST_ENOMEM;
    s->bad_dir = e->bad_dir;
    s->max_bytes = pc->max_batch_bytes;
    s->max_records = pc->max_batch_records;
    s->max_line = dc->max_line_size;
    s->memory_limit = pc->memory_limit;
    if (strcmp(dc->clean_source, "delete") == 0)
        s->clean = 1;
    else if (strncmp(dc->clean_source, "archive:", 8) == 0) {
        s->clean = 2;
        s->archive_dir = dc->clean_source + 8;
    }
    s->dopts.schema = &e->dschema;
    s->dopts.rescued_col = pc->rescued_column ? (int)e->dschema.nfields - 1 : -1;
    s->dopts.rescue_unknown = pc->evolution == INGEST_EVOLVE_RESCUE;
    s->dopts.epoch_unit = dc->timestamp_epoch_unit;
    s->dopts.max_line = (size_t)dc->max_line_size;
    struct ingest_parquet_opts *po = &s->wopts.parquet;
    po->codec = pc->sink.compression == INGEST_COMP_ZSTD     ? INGEST_PARQUET_ZSTD
                : pc->sink.compression == INGEST_COMP_SNAPPY ? INGEST_PARQUET_SNAPPY
                                                             : INGEST_PARQUET_UNCOMPRESSED;
    po->zstd_level = (int)pc->sink.compression_level;
    /* A row group is buffered compressed in memory until it is written:
     * keep it well inside the memory limit. */
    int64_t rg = pc->sink.row_group_size, cap = pc->memory_limit / 8;
    po->row_group_bytes = (size_t)(rg < cap ? rg : cap);
    s->wopts.target_file_size = pc->sink.target_file_size;
    s->log = e->o.log;
    if (dc->format != INGEST_FMT_JSON) {
        snprintf(err, errlen, "%s: format csv/text is not supported yet; use format = json",
                 pc->file);
        return INGEST_ENOTSUP;
    }
    return 0;
}

struct ingest_engine *ingest_engine_start(const struct ingest_engine_opts *o, char *err,
                                          size_t errlen)
{
    struct ingest_engine *e = calloc(1, sizeof *e);
    const struct ingest_pipeline_conf *pc = o->pc;
    int rc;
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->o = *o;
    e->pc = pc;
    e->retry_id = -1;
    uv_timer_init(o->loop, &e->timer);
    uv_timer_init(o->loop, &e->drain);
    e->timer.data = e->drain.data = e;
    if (!pc->source.ops || strcmp(pc->source.ops->name, "directory") != 0) {
        snprintf(err, errlen, "%s: the %s source is not supported by the engine yet", pc->file,
                 pc->source.ops ? pc->source.ops->name : "?");
        goto fail;
    }
    e->dc = pc->source.conf;
    if ((rc = build_schema(e, err, errlen)) < 0)
        goto fail;
    if (pc->ntransforms || pc->nexpects)
        INGEST_LOG_WARN(o->log, pc->name, "[transform] and [expect] are not applied yet: "
                        "rows are written as decoded");
    if (pc->evolution == INGEST_EVOLVE_ADD_COLUMNS || pc->evolution == INGEST_EVOLVE_FAIL)
        INGEST_LOG_WARN(o->log, pc->name, "evolution = add-columns and fail are not supported "
                        "yet: unknown fields are ignored");
    if ((rc = ingest_ckpt_open(pc->checkpoint, pc->name, &e->ckpt, &e->fresh, err, errlen)) < 0)
        goto fail;
    if (o->reset_checkpoint && !e->fresh) {
        if ((rc = ingest_ckpt_reset(e->ckpt, err, errlen)) < 0)
            goto fail;
        e->fresh = 1;
        INGEST_LOG_WARN(o->log, pc->name, "checkpoint reset: every file is ingested again",
                        INGEST_KV_STR("checkpoint", pc->checkpoint));
    }
    if ((rc = settings(e, err, errlen)) < 0)
        goto fail;
    if (!(e->s.dec = ingest_decoder_new(&e->s.dopts, err, errlen)))
        goto fail;
    if (!(e->fs = ingest_filestate_open(pc->checkpoint, err, errlen)) ||
        !(e->fs_list = ingest_filestate_open(pc->checkpoint, err, errlen)))
        goto fail;
    if ((rc = open_table(e, err, errlen)) < 0)
        goto fail;
    e->skip_existing = e->fresh && !e->dc->include_existing;
    ingest_series_set(o->m->version, (double)e->tbl->snap.version);
    {
        /* The last commit's time survives restarts: the version file's mtime. */
        char name[64], path[4200];
        struct stat st;
        ingest_delta_version_name(e->tbl->snap.version, ".json", name, sizeof name);
        snprintf(path, sizeof path, "%s/%s", e->tbl->log_dir, name);
        if (e->tbl->snap.version > 0 && stat(path, &st) == 0)
            ingest_series_set(o->m->last_commit, (double)st.st_mtim.tv_sec +
                                                 (double)st.st_mtim.tv_nsec / 1e9);
    }
    if ((rc = recover(e, err, errlen)) < 0)
        goto fail;
    ingest_filestate_count(e->fs, INGEST_FILE_DISCOVERED, &e->pending_files, &e->pending_bytes);
    set_backlog(e);
    struct ingest_dirwatch_opts wo = {
        .root = e->dc->path, .pattern = e->dc->pattern, .recursive = e->dc->recursive,
        .settle_ms = e->dc->settle_time_ms, .backfill_ms = o->once ? 0 : e->dc->backfill_interval_ms,
        .list_at_start = 1, .pipeline = pc->name, .log = o->log, .ready = on_ready,
        .known = on_known, .listed = on_listed, .ud = e,
    };
    if (!(e->dw = ingest_dirwatch_start(o->loop, &wo, err, errlen)))
        goto fail;
    INGEST_LOG_INFO(o->log, pc->name, "engine started", INGEST_KV_STR("pipeline_id", e->s.pipeline_id),
                    INGEST_KV_INT("table_version", e->tbl->snap.version),
                    INGEST_KV_INT("next_batch", e->next_id),
                    INGEST_KV_INT("pending_files", e->pending_files));
    if (e->replay) {
        struct eng_job *j = e->replay;
        e->replay = NULL;
        e->last_start = eng_now();
        start_exec(e, j);
        emit(e, INGEST_ENGINE_RUNNING);
        uv_queue_work(o->loop, &j->req, exec_work, on_exec_done);
    } else
        schedule(e, -1);
    return e;
fail:
    /* Nothing runs yet (no job queued, no watcher): free what exists. */
    eng_job_free(e->replay);
    e->replay = NULL;
    ingest_engine_free(e);
    return NULL;
}

/* ---- stop ----------------------------------------------------------------------- */

static void on_dw_closed(void *ud)
{
    struct ingest_engine *e = ud;
    e->dw = NULL;
    e->stopped_dw = 1;
    finish_stop(e);
}

static void finish_stop(struct ingest_engine *e)
{
    if (e->job || !e->stopped_dw)
        return;
    uv_timer_stop(&e->drain);
    emit(e, INGEST_ENGINE_STOPPED);
}

static void on_drain_timeout(uv_timer_t *t)
{
    struct ingest_engine *e = t->data;
    if (!e->job)
        return;
    /* The batch's WAL entry is durable: the next start replays it.  A
     * worker thread cannot be recalled, so the process leaves now. */
    INGEST_LOG_WARN(e->o.log, e->pc->name, "drain timeout: abandoning the batch in flight",
                    INGEST_KV_INT("batch", e->job->id));
    _exit(0);
}

void ingest_engine_stop(struct ingest_engine *e, int may_abandon)
{
    if (e->stopping)
        return;
    e->stopping = 1;
    uv_timer_stop(&e->timer);
    if (e->job && may_abandon)
        uv_timer_start(&e->drain, on_drain_timeout, (uint64_t)e->pc->drain_timeout_ms, 0);
    if (e->dw)
        ingest_dirwatch_stop(e->dw, on_dw_closed, e);
    else {
        e->stopped_dw = 1;
        finish_stop(e);
    }
}

static void on_timer_closed(uv_handle_t *h)
{
    struct ingest_engine *e = h->data;
    if (h == (uv_handle_t *)&e->timer)
        uv_close((uv_handle_t *)&e->drain, on_timer_closed);
    else
        free(e);
}

void ingest_engine_free(struct ingest_engine *e)
{
    if (!e)
        return;
    ingest_delta_close(e->tbl);
    ingest_filestate_close(e->fs);
    ingest_filestate_close(e->fs_list);
    ingest_ckpt_close(e->ckpt);
    ingest_decoder_free(e->s.dec);
    ingest_schema_free(&e->dschema);
    if (e->has_evolved)
        ingest_schema_free(&e->evolved);
    for (size_t i = 0; i < RECENT; i++) {
        for (size_t k = 0; k < e->recent[i].nfiles; k++)
            free(e->recent[i].files[k]);
        free(e->recent[i].files);
    }
    free(e->bad_dir);
    uv_close((uv_handle_t *)&e->timer, on_timer_closed);
}

int ingest_engine_had_errors(const struct ingest_engine *e)
{
    return e->had_errors;
}

void ingest_engine_status_json(const struct ingest_engine *e, struct ingest_buf *out)
{
    ingest_buf_printf(out, ",\"pipeline_id\":\"%s\",\"next_batch\":%" PRId64
                           ",\"backlog_files\":%" PRId64 ",\"backlog_bytes\":%" PRId64
                           ",\"unsettled_files\":%zu,\"batch_in_flight\":%s",
                      e->s.pipeline_id ? e->s.pipeline_id : "", e->next_id, e->pending_files,
                      e->pending_bytes, e->dw ? ingest_dirwatch_unsettled(e->dw) : (size_t)0,
                      e->job ? "true" : "false");
    ingest_buf_puts(out, ",\"recent_batches\":[");
    for (size_t k = 0; k < e->nrecent; k++) {
        const struct recent *r = &e->recent[(e->recent_head + RECENT - 1 - k) % RECENT];
        static const char *const st[] = { "committed", "skipped", "failed" };
        ingest_buf_printf(out, "%s{\"batch\":%" PRId64 ",\"status\":\"%s\",\"version\":%" PRId64
                               ",\"started_ms\":%" PRId64 ",\"duration_s\":%.6f"
                               ",\"input_rows\":%" PRIu64 ",\"rows_written\":%" PRIu64
                               ",\"bad_records\":%" PRIu64 ",\"input_bytes\":%" PRIu64
                               ",\"rows_per_second\":%.1f,\"phases_s\":{\"plan\":%.6f,"
                               "\"read\":%.6f,\"transform\":%.6f,\"write\":%.6f,"
                               "\"commit\":%.6f},\"files\":[",
                          k ? "," : "", r->id, st[r->status], r->version, r->started_ms,
                          r->duration, r->rows + r->bad, r->rows, r->bad, r->bytes,
                          r->duration > 0 ? (double)r->rows / r->duration : 0.0, r->ph.plan,
                          r->ph.read, r->ph.transform, r->ph.write, r->ph.commit);
        for (size_t i = 0; i < r->nfiles; i++) {
            if (i)
                ingest_buf_putc(out, ',');
            ingest_buf_json_str(out, r->files[i]);
        }
        ingest_buf_printf(out, "],\"more_files\":%zu}", r->more_files);
    }
    ingest_buf_putc(out, ']');
}
