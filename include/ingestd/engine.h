/*
 * engine.h - the micro-batch engine of one pipeline (directory source to
 * Delta), driven by pipeline.c on the loop thread.
 *
 * start() takes the checkpoint's lock, opens or creates the table, replays
 * an interrupted batch from the WAL, and starts discovery; batches then
 * run one at a time on the thread pool (see daemon/engine_int.h).  With
 * `once`, everything available is drained and `done` is called; otherwise
 * the engine runs until stop().  All calls on the loop thread.
 */
#ifndef INGESTD_ENGINE_H
#define INGESTD_ENGINE_H

#include <uv.h>

#include "ingestd/buf.h"
#include "ingestd/config.h"
#include "ingestd/log.h"
#include "ingestd/metrics.h"

/* The pipeline's metric series the engine updates (owned by pipeline.c). */
struct ingest_engine_metrics {
    struct ingest_series *read, *written, *bad, *rescued, *bytes_read, *files_read;
    struct ingest_series *table_bytes, *table_files, *version, *last_commit;
    struct ingest_series *backlog_files, *backlog_bytes, *paused, *files_skipped;
    struct ingest_series *batches[3];       /* committed, skipped, failed */
    struct ingest_series *phase[5];         /* plan, read, transform, write, commit */
    struct ingest_series *duration;
};

enum ingest_engine_event {
    INGEST_ENGINE_RUNNING,      /* a batch started */
    INGEST_ENGINE_IDLE,         /* nothing to do */
    INGEST_ENGINE_FAILED,       /* the last batch failed; it will be retried */
    INGEST_ENGINE_DONE,         /* --once: everything drained (or a fatal error) */
    INGEST_ENGINE_STOPPED,      /* after stop(): safe to free */
};

typedef void (*ingest_engine_cb)(void *ud, enum ingest_engine_event ev);

struct ingest_engine_opts {
    uv_loop_t *loop;
    const struct ingest_pipeline_conf *pc;
    const struct ingest_log *log;
    const struct ingest_engine_metrics *m;
    int once;
    int reset_checkpoint;
    ingest_engine_cb cb;
    void *ud;
};

struct ingest_engine;

/* Starts the engine.  NULL with a reason in err when the pipeline cannot
 * run (checkpoint locked, table incompatible, unreadable directory...). */
struct ingest_engine *ingest_engine_start(const struct ingest_engine_opts *o, char *err,
                                          size_t errlen);
/* Finishes the batch in flight (with may_abandon, abandons it after
 * drain_timeout: the WAL replays it at the next start), stops discovery,
 * then reports INGEST_ENGINE_STOPPED. */
void ingest_engine_stop(struct ingest_engine *e, int may_abandon);
/* Frees the engine; only after INGEST_ENGINE_STOPPED. */
void ingest_engine_free(struct ingest_engine *e);

/* 1 when a --once run could not read some files (exit status 1). */
int ingest_engine_had_errors(const struct ingest_engine *e);
/* Appends ,"recent_batches":[...] and the source's counters to /status. */
void ingest_engine_status_json(const struct ingest_engine *e, struct ingest_buf *out);

#endif
