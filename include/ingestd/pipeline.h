/*
 * pipeline.h - one pipeline: a source, the micro-batch engine, a table.
 *
 * The daemon owns the pipelines and their configs; a pipeline borrows its
 * struct ingest_pipeline_conf, which the daemon keeps alive until the
 * pipeline is freed or given a new one (SIGHUP).  All calls on the loop
 * thread.  The pipeline publishes its state and counters in the process's
 * metrics registry under the label pipeline="<name>".
 *
 * Today the pipeline has its lifecycle, state and metrics; the micro-batch
 * engine (plan, read, transform, write, commit) plugs in behind start().
 */
#ifndef INGESTD_PIPELINE_H
#define INGESTD_PIPELINE_H

#include <uv.h>

#include "ingestd/buf.h"
#include "ingestd/config.h"
#include "ingestd/log.h"
#include "ingestd/metrics.h"

enum ingest_pipeline_state {
    INGEST_PS_STARTING, INGEST_PS_RUNNING, INGEST_PS_IDLE, INGEST_PS_PAUSED, INGEST_PS_FAILED,
    INGEST_PS_STOPPING, INGEST_PS_COUNT
};

const char *ingest_pipeline_state_name(enum ingest_pipeline_state s);

struct ingest_pipeline;

/* Called when a pipeline has nothing left to do (--once) or has stopped. */
typedef void (*ingest_pipeline_cb)(struct ingest_pipeline *pl, void *ud);

struct ingest_pipeline *ingest_pipeline_new(uv_loop_t *loop, const struct ingest_pipeline_conf *pc,
                                            struct ingest_metrics *metrics,
                                            const struct ingest_log *log,
                                            char *errbuf, size_t errlen);
/* --reset-checkpoint: set before start. */
void ingest_pipeline_set_reset_checkpoint(struct ingest_pipeline *pl, int reset);
/* once: process what is available, then call done.  Returns 0 or INGEST_E*. */
int  ingest_pipeline_start(struct ingest_pipeline *pl, int once, ingest_pipeline_cb done, void *ud);
/* Finishes the batch in flight, then calls stopped.  may_abandon (process
 * shutdown): past drain_timeout the batch is abandoned (the WAL replays it
 * at the next start); a reload always waits.  Safe to call twice. */
void ingest_pipeline_stop(struct ingest_pipeline *pl, int may_abandon, ingest_pipeline_cb stopped,
                          void *ud);
/* Takes a new config of the same name and the same settings (SIGHUP; the
 * daemon restarts a pipeline whose settings changed).  The old one may be
 * freed after this returns. */
void ingest_pipeline_reconfigure(struct ingest_pipeline *pl, const struct ingest_pipeline_conf *pc);
/* Only after the stop callback; removes the pipeline's metric series. */
void ingest_pipeline_free(struct ingest_pipeline *pl);

const char *ingest_pipeline_name(const struct ingest_pipeline *pl);
const struct ingest_pipeline_conf *ingest_pipeline_conf(const struct ingest_pipeline *pl);
enum ingest_pipeline_state ingest_pipeline_state(const struct ingest_pipeline *pl);
int  ingest_pipeline_failed(const struct ingest_pipeline *pl);
/* Appends the pipeline's /status object (JSON). */
void ingest_pipeline_status_json(const struct ingest_pipeline *pl, struct ingest_buf *out);

#endif
