/*
 * engine_int.h - what the micro-batch engine's loop side (engine.c) shares
 * with its worker jobs (engine_plan.c, engine_exec.c).
 *
 * A batch is two jobs on libuv's thread pool, never two at once:
 *   plan    candidates (pending files from the file state, in discovery
 *           order) -> byte ranges cut at line boundaries within
 *           max_batch_bytes / max_batch_records -> checkpoint offsets/N
 *   exec    read + decode the ranges (a decode thread feeding a queue) ->
 *           Parquet data files (this thread) -> bad records file -> Delta
 *           commit with txn(pipeline id, N) -> commits/N -> clean_source
 * Between and after them the loop updates the file state, metrics and
 * /status.  The worker only touches the job, the immutable settings and
 * the table handle (which the loop leaves alone while a job runs).
 */
#ifndef INGESTD_ENGINE_INT_H
#define INGESTD_ENGINE_INT_H

#include <stdint.h>
#include <uv.h>

#include "ingestd/batch.h"
#include "ingestd/ckpt.h"
#include "ingestd/decode.h"
#include "ingestd/delta.h"
#include "ingestd/log.h"

/* Settings the jobs read; fixed for the engine's life. */
struct eng_settings {
    const char *name;           /* pipeline name */
    const char *pipeline_id;    /* the checkpoint's UUID: the txn appId */
    const char *root;           /* source directory */
    const char *bad_dir;        /* bad records directory */
    int64_t max_bytes, max_records, max_line;
    int64_t memory_limit;
    int     clean;              /* 0 off, 1 delete, 2 archive */
    const char *archive_dir;
    struct ingest_decode_opts dopts;        /* schema = decoder schema */
    /* One decoder for the engine's life, used by one batch at a time: its
     * buffers (recycled from written batches) carry over, so batches do not
     * fault in fresh pages. */
    struct ingest_decoder *dec;
    struct ingest_delta_writer_opts wopts;
    const struct ingest_log *log;
};

/* A pending file offered to the planner. */
struct eng_cand {
    char    *path;
    int64_t  size, mtime_ns, offset, line;
    uint64_t inode;
};

/* A file the batch could not take or read, and why. */
struct eng_skip {
    char *path;
    char *reason;
};

struct eng_phase { double plan, read, transform, write, commit; };

struct eng_job {
    uv_work_t req;
    struct ingest_engine *e;
    int64_t id;                 /* batch N */
    int     replay;             /* re-run of a planned, uncommitted batch */
    double  t0;                 /* monotonic start, seconds */
    /* plan */
    struct eng_cand *cands;
    size_t   ncands;
    struct ingest_ckpt_batch plan;
    struct eng_skip *skips;
    size_t   nskips, skipcap;
    /* exec */
    struct ingest_delta_table *tbl;
    struct ingest_ckpt *ckpt;
    const struct ingest_schema *table_schema;   /* what data files carry */
    const struct ingest_schema *evolve;         /* non-NULL: declare it in the commit */
    int      rc;
    char     err[768];
    int64_t  version;           /* committed version; -1 already in the table; -2 nothing */
    uint64_t rows, bad, rescued, lines, bytes, files_done;
    int64_t  table_bytes, table_files;
    struct eng_phase ph;
};

/* engine_plan.c: the plan work function (worker thread). */
void eng_plan_work(struct eng_job *j, const struct eng_settings *s);
/* engine_exec.c: the exec work function (worker thread). */
void eng_exec_work(struct eng_job *j, const struct eng_settings *s);

/* clean_source for one committed file (delete, or archive without
 * overwriting).  Failures are logged; any thread. */
void eng_clean_file(const struct eng_settings *s, const char *relpath);
int  eng_skip_add(struct eng_job *j, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void eng_job_free(struct eng_job *j);
double eng_now(void);

#endif
