/*
 * pipeline.c - a pipeline's lifecycle, state and metrics (see pipeline.h).
 *
 * The state machine is the one /metrics shows in ingestd_pipeline_state:
 * starting -> running <-> idle, paused (backpressure), failed, stopping.
 * Every metric family of the design's contract is registered here, so a
 * dashboard built today keeps working as the engine fills the counters in.
 */
#include <stdlib.h>
#include <string.h>

#include "ingestd/engine.h"
#include "ingestd/error.h"
#include "ingestd/pipeline.h"
#include "ingestd/source.h"

static const char *const state_names[INGEST_PS_COUNT] = {
    "starting", "running", "idle", "paused", "failed", "stopping",
};

const char *ingest_pipeline_state_name(enum ingest_pipeline_state s)
{
    return (unsigned)s < INGEST_PS_COUNT ? state_names[s] : "unknown";
}

enum { C_READ, C_WRITTEN, C_BAD, C_RESCUED, C_FILTERED, C_QUARANTINED, C_BYTES_READ,
       C_FILES_READ, C_TABLE_BYTES, C_TABLE_FILES, G_TABLE_VERSION, G_LAST_COMMIT,
       G_BACKLOG_FILES, G_BACKLOG_BYTES, G_PAUSED, C_FILES_SKIPPED, N_SIMPLE };

static const struct {
    const char *name;
    enum ingest_metric_type type;
    const char *help;
} simple_metrics[N_SIMPLE] = {
    [C_READ] = { "ingestd_records_read_total", INGEST_METRIC_COUNTER,
                 "Records read from the source." },
    [C_WRITTEN] = { "ingestd_records_written_total", INGEST_METRIC_COUNTER,
                    "Records committed to the table." },
    [C_BAD] = { "ingestd_records_bad_total", INGEST_METRIC_COUNTER,
                "Bad records (malformed, unconvertible, missing not-null column)." },
    [C_RESCUED] = { "ingestd_records_rescued_total", INGEST_METRIC_COUNTER,
                    "Records with values kept in the rescued-data column." },
    [C_FILTERED] = { "ingestd_records_filtered_total", INGEST_METRIC_COUNTER,
                     "Records dropped by a where filter." },
    [C_QUARANTINED] = { "ingestd_records_quarantined_total", INGEST_METRIC_COUNTER,
                        "Records moved to the quarantine table." },
    [C_BYTES_READ] = { "ingestd_bytes_read_total", INGEST_METRIC_COUNTER,
                       "Input bytes read from the source." },
    [C_FILES_READ] = { "ingestd_files_read_total", INGEST_METRIC_COUNTER,
                       "Input files read completely." },
    [C_TABLE_BYTES] = { "ingestd_table_bytes_written_total", INGEST_METRIC_COUNTER,
                        "Bytes of Parquet data files written." },
    [C_TABLE_FILES] = { "ingestd_table_files_written_total", INGEST_METRIC_COUNTER,
                        "Parquet data files written." },
    [G_TABLE_VERSION] = { "ingestd_table_version", INGEST_METRIC_GAUGE,
                          "Delta table version of the last commit (-1 before the first)." },
    [G_LAST_COMMIT] = { "ingestd_last_commit_timestamp_seconds", INGEST_METRIC_GAUGE,
                        "Unix time of the last commit (0 before the first)." },
    [G_BACKLOG_FILES] = { "ingestd_source_backlog_files", INGEST_METRIC_GAUGE,
                          "Files discovered and not yet committed." },
    [G_BACKLOG_BYTES] = { "ingestd_source_backlog_bytes", INGEST_METRIC_GAUGE,
                          "Bytes discovered and not yet committed." },
    [C_FILES_SKIPPED] = { "ingestd_source_files_skipped_total", INGEST_METRIC_COUNTER,
                          "Files not ingested: changed after ingestion, unreadable, deleted "
                          "before reading, present at first start with include_existing = false." },
    [G_PAUSED] = { "ingestd_source_paused", INGEST_METRIC_GAUGE,
                   "1 while the source is paused by backpressure." },
};

static const char *const batch_status[] = { "committed", "skipped", "failed" };
static const char *const phases[] = { "plan", "read", "transform", "write", "commit" };
static const double duration_buckets[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
                                           5, 10, 30, 60, 120, 300 };

struct ingest_pipeline {
    uv_loop_t *loop;
    const struct ingest_pipeline_conf *pc;
    char *name;
    struct ingest_metrics *metrics;
    const struct ingest_log *log;
    enum ingest_pipeline_state state;
    int once, stopping;

    struct ingest_series *simple[N_SIMPLE];
    struct ingest_series *state_series[INGEST_PS_COUNT];
    struct ingest_series *batches[3];
    struct ingest_series *phase_seconds[5];
    struct ingest_series *batch_duration;

    uv_idle_t idle;        /* defers callbacks out of start()/stop() */
    int idle_active;
    struct ingest_engine *engine;
    struct ingest_engine_metrics em;
    int reset_checkpoint, start_failed, idle_closed, engine_stopped;
    ingest_pipeline_cb done_cb, stop_cb;
    void *done_ud, *stop_ud;
};

static void set_state(struct ingest_pipeline *pl, enum ingest_pipeline_state s)
{
    if (pl->state != s)
        INGEST_LOG_DEBUG(pl->log, pl->name, "state change",
                         INGEST_KV_STR("from", state_names[pl->state]),
                         INGEST_KV_STR("to", state_names[s]));
    pl->state = s;
    for (int i = 0; i < INGEST_PS_COUNT; i++)
        ingest_series_set(pl->state_series[i], i == (int)s);
}

static int register_metrics(struct ingest_pipeline *pl)
{
    static const char *const by_pipeline[] = { "pipeline", NULL };
    const char *v1[] = { pl->name };
    struct ingest_metrics *m = pl->metrics;
    for (int i = 0; i < N_SIMPLE; i++) {
        struct ingest_metric *f = ingest_metrics_family(m, simple_metrics[i].name,
                                                        simple_metrics[i].type,
                                                        simple_metrics[i].help, by_pipeline,
                                                        NULL, 0);
        if (!(pl->simple[i] = ingest_metric_series(f, v1)))
            return INGEST_ENOMEM;
    }
    ingest_series_set(pl->simple[G_TABLE_VERSION], -1);

    static const char *const with_state[] = { "pipeline", "state", NULL };
    struct ingest_metric *f = ingest_metrics_family(m, "ingestd_pipeline_state",
        INGEST_METRIC_GAUGE, "1 for the pipeline's current state.", with_state, NULL, 0);
    for (int i = 0; i < INGEST_PS_COUNT; i++) {
        const char *v[] = { pl->name, state_names[i] };
        if (!(pl->state_series[i] = ingest_metric_series(f, v)))
            return INGEST_ENOMEM;
    }
    static const char *const with_status[] = { "pipeline", "status", NULL };
    f = ingest_metrics_family(m, "ingestd_batches_total", INGEST_METRIC_COUNTER,
                              "Micro-batches by outcome.", with_status, NULL, 0);
    for (int i = 0; i < 3; i++) {
        const char *v[] = { pl->name, batch_status[i] };
        if (!(pl->batches[i] = ingest_metric_series(f, v)))
            return INGEST_ENOMEM;
    }
    static const char *const with_phase[] = { "pipeline", "phase", NULL };
    f = ingest_metrics_family(m, "ingestd_batch_phase_seconds_total", INGEST_METRIC_COUNTER,
                              "Time spent in each phase of the micro-batches.", with_phase,
                              NULL, 0);
    for (int i = 0; i < 5; i++) {
        const char *v[] = { pl->name, phases[i] };
        if (!(pl->phase_seconds[i] = ingest_metric_series(f, v)))
            return INGEST_ENOMEM;
    }
    f = ingest_metrics_family(m, "ingestd_batch_duration_seconds", INGEST_METRIC_HISTOGRAM,
                              "Duration of micro-batches from plan to commit.", by_pipeline,
                              duration_buckets,
                              sizeof duration_buckets / sizeof duration_buckets[0]);
    if (!(pl->batch_duration = ingest_metric_series(f, v1)))
        return INGEST_ENOMEM;
    /* Families whose series appear with their labels' values later. */
    static const char *const with_expect[] = { "pipeline", "expectation", "action", "outcome",
                                               NULL };
    static const char *const with_partition[] = { "pipeline", "topic", "partition", NULL };
    static const char *const actions[] = { "warn", "drop", "fail", "quarantine" };
    f = ingest_metrics_family(m, "ingestd_expectation_records_total", INGEST_METRIC_COUNTER,
                              "Records checked by each expectation, by outcome.", with_expect,
                              NULL, 0);
    for (size_t i = 0; i < pl->pc->nexpects; i++) {
        const struct ingest_expect_conf *x = &pl->pc->expects[i];
        const char *act = (unsigned)x->action < 4 ? actions[x->action] : "warn";
        const char *passed[] = { pl->name, x->name, act, "passed" };
        const char *failed[] = { pl->name, x->name, act, "failed" };
        if (!ingest_metric_series(f, passed) || !ingest_metric_series(f, failed))
            return INGEST_ENOMEM;
    }
    if (!ingest_metrics_family(m, "ingestd_kafka_lag_messages", INGEST_METRIC_GAUGE,
                               "Messages between the committed offset and the partition's end.",
                               with_partition, NULL, 0))
        return INGEST_ENOMEM;
    return 0;
}

struct ingest_pipeline *ingest_pipeline_new(uv_loop_t *loop, const struct ingest_pipeline_conf *pc,
                                            struct ingest_metrics *metrics,
                                            const struct ingest_log *log,
                                            char *errbuf, size_t errlen)
{
    struct ingest_pipeline *pl = calloc(1, sizeof *pl);
    if (!pl || !(pl->name = strdup(pc->name)))
        goto fail;
    pl->loop = loop;
    pl->pc = pc;
    pl->metrics = metrics;
    pl->log = log;
    if (register_metrics(pl) < 0)
        goto fail;
    pl->em = (struct ingest_engine_metrics){
        .read = pl->simple[C_READ], .written = pl->simple[C_WRITTEN], .bad = pl->simple[C_BAD],
        .rescued = pl->simple[C_RESCUED], .bytes_read = pl->simple[C_BYTES_READ],
        .files_read = pl->simple[C_FILES_READ], .table_bytes = pl->simple[C_TABLE_BYTES],
        .table_files = pl->simple[C_TABLE_FILES], .version = pl->simple[G_TABLE_VERSION],
        .last_commit = pl->simple[G_LAST_COMMIT], .backlog_files = pl->simple[G_BACKLOG_FILES],
        .backlog_bytes = pl->simple[G_BACKLOG_BYTES], .paused = pl->simple[G_PAUSED],
        .files_skipped = pl->simple[C_FILES_SKIPPED],
        .duration = pl->batch_duration,
    };
    for (int i = 0; i < 3; i++)
        pl->em.batches[i] = pl->batches[i];
    for (int i = 0; i < 5; i++)
        pl->em.phase[i] = pl->phase_seconds[i];
    set_state(pl, INGEST_PS_STARTING);
    uv_idle_init(loop, &pl->idle);
    pl->idle.data = pl;
    return pl;
fail:
    snprintf(errbuf, errlen, "out of memory creating pipeline %s", pc->name);
    if (pl) {
        if (pl->name)
            ingest_metrics_remove_label(metrics, "pipeline", pl->name);
        free(pl->name);
        free(pl);
    }
    return NULL;
}

/* Runs one loop iteration after start(): reports --once completion without
 * re-entering the caller. */
static void on_idle(uv_idle_t *h)
{
    struct ingest_pipeline *pl = h->data;
    uv_idle_stop(h);
    pl->idle_active = 0;
    if (pl->done_cb && !pl->stopping) {
        ingest_pipeline_cb cb = pl->done_cb;
        pl->done_cb = NULL;
        cb(pl, pl->done_ud);
    }
}

static void on_idle_closed(uv_handle_t *h);
#define on_idle_closed_cb on_idle_closed

static void on_engine(void *ud, enum ingest_engine_event ev)
{
    struct ingest_pipeline *pl = ud;
    switch (ev) {
    case INGEST_ENGINE_RUNNING:
        if (!pl->stopping)
            set_state(pl, INGEST_PS_RUNNING);
        break;
    case INGEST_ENGINE_IDLE:
        if (!pl->stopping)
            set_state(pl, INGEST_PS_IDLE);
        break;
    case INGEST_ENGINE_FAILED:
        if (!pl->stopping)
            set_state(pl, INGEST_PS_FAILED);
        break;
    case INGEST_ENGINE_DONE:
        if (ingest_engine_had_errors(pl->engine))
            set_state(pl, INGEST_PS_FAILED);
        else
            set_state(pl, INGEST_PS_IDLE);
        if (pl->done_cb && !pl->stopping) {
            ingest_pipeline_cb cb = pl->done_cb;
            pl->done_cb = NULL;
            cb(pl, pl->done_ud);
        }
        break;
    case INGEST_ENGINE_STOPPED:
        pl->engine_stopped = 1;
        uv_close((uv_handle_t *)&pl->idle, on_idle_closed_cb);
        break;
    }
}

void ingest_pipeline_set_reset_checkpoint(struct ingest_pipeline *pl, int reset)
{
    pl->reset_checkpoint = reset;
}

int ingest_pipeline_start(struct ingest_pipeline *pl, int once, ingest_pipeline_cb done, void *ud)
{
    const struct ingest_pipeline_conf *pc = pl->pc;
    char err[1024];
    pl->once = once;
    pl->done_cb = done;
    pl->done_ud = ud;
    INGEST_LOG_INFO(pl->log, pl->name, "pipeline started",
                    INGEST_KV_STR("source", pc->source.ops ? pc->source.ops->name : "?"),
                    INGEST_KV_STR("table", pc->sink.path),
                    INGEST_KV_STR("checkpoint", pc->checkpoint),
                    INGEST_KV_STR("mode", once ? "once" : "continuous"));
    struct ingest_engine_opts eo = {
        .loop = pl->loop, .pc = pc, .log = pl->log, .m = &pl->em, .once = once,
        .reset_checkpoint = pl->reset_checkpoint, .cb = on_engine, .ud = pl,
    };
    pl->engine = ingest_engine_start(&eo, err, sizeof err);
    if (!pl->engine) {
        INGEST_LOG_ERROR(pl->log, pl->name, "pipeline cannot start", INGEST_KV_STR("error", err));
        set_state(pl, INGEST_PS_FAILED);
        pl->start_failed = 1;
        /* Report the failure from the loop, never from inside start(). */
        if (once) {
            pl->idle_active = 1;
            uv_idle_start(&pl->idle, on_idle);
        }
        return INGEST_EIO;
    }
    set_state(pl, INGEST_PS_IDLE);
    return 0;
}

static void on_idle_closed(uv_handle_t *h)
{
    struct ingest_pipeline *pl = h->data;
    ingest_pipeline_cb cb = pl->stop_cb;
    pl->stop_cb = NULL;
    if (cb)
        cb(pl, pl->stop_ud);
}

void ingest_pipeline_stop(struct ingest_pipeline *pl, int may_abandon, ingest_pipeline_cb stopped,
                          void *ud)
{
    if (pl->stopping)
        return;
    pl->stopping = 1;
    pl->stop_cb = stopped;
    pl->stop_ud = ud;
    set_state(pl, INGEST_PS_STOPPING);
    INGEST_LOG_INFO(pl->log, pl->name, "pipeline stopping");
    if (pl->engine)
        ingest_engine_stop(pl->engine, may_abandon);    /* closes the idle handle when stopped */
    else
        uv_close((uv_handle_t *)&pl->idle, on_idle_closed);
}

void ingest_pipeline_reconfigure(struct ingest_pipeline *pl, const struct ingest_pipeline_conf *pc)
{
    pl->pc = pc;
    INGEST_LOG_DEBUG(pl->log, pl->name, "pipeline settings unchanged by reload");
}

void ingest_pipeline_free(struct ingest_pipeline *pl)
{
    if (!pl)
        return;
    ingest_engine_free(pl->engine);
    ingest_metrics_remove_label(pl->metrics, "pipeline", pl->name);
    free(pl->name);
    free(pl);
}

const char *ingest_pipeline_name(const struct ingest_pipeline *pl)
{
    return pl->name;
}

const struct ingest_pipeline_conf *ingest_pipeline_conf(const struct ingest_pipeline *pl)
{
    return pl->pc;
}

enum ingest_pipeline_state ingest_pipeline_state(const struct ingest_pipeline *pl)
{
    return pl->state;
}

int ingest_pipeline_failed(const struct ingest_pipeline *pl)
{
    return pl->state == INGEST_PS_FAILED || pl->start_failed ||
           (pl->engine && pl->once && ingest_engine_had_errors(pl->engine));
}

void ingest_pipeline_status_json(const struct ingest_pipeline *pl, struct ingest_buf *out)
{
    const struct ingest_pipeline_conf *pc = pl->pc;
    ingest_buf_puts(out, "{\"name\":");
    ingest_buf_json_str(out, pl->name);
    ingest_buf_puts(out, ",\"state\":");
    ingest_buf_json_str(out, state_names[pl->state]);
    ingest_buf_puts(out, ",\"config\":");
    ingest_buf_json_str(out, pc->file);
    ingest_buf_puts(out, ",\"source\":");
    ingest_buf_json_str(out, pc->source.ops ? pc->source.ops->name : "?");
    ingest_buf_puts(out, ",\"table\":");
    ingest_buf_json_str(out, pc->sink.path);
    ingest_buf_puts(out, ",\"checkpoint\":");
    ingest_buf_json_str(out, pc->checkpoint);
    ingest_buf_printf(out, ",\"trigger_ms\":%lld", (long long)pc->trigger_ms);
    ingest_buf_printf(out, ",\"records_read\":%.0f,\"records_written\":%.0f,\"records_bad\":%.0f",
                      ingest_series_get(pl->simple[C_READ]),
                      ingest_series_get(pl->simple[C_WRITTEN]),
                      ingest_series_get(pl->simple[C_BAD]));
    ingest_buf_printf(out, ",\"table_version\":%.0f",
                      ingest_series_get(pl->simple[G_TABLE_VERSION]));
    if (pl->engine)
        ingest_engine_status_json(pl->engine, out);
    else
        ingest_buf_puts(out, ",\"recent_batches\":[]");
    ingest_buf_putc(out, '}');
}
