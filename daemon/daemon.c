/*
 * daemon.c - the process lifecycle on one libuv loop.
 *
 *   load config -> metrics server -> pipelines start -> READY=1
 *   SIGHUP: RELOADING=1, load the files again; a config that fails
 *           validation is rejected (logged, old one kept), else pipelines
 *           are added, removed or reconfigured by name; READY=1.
 *   SIGTERM/SIGINT: STOPPING=1, every pipeline finishes or abandons its
 *           batch (drain_timeout), the server closes, every handle closes,
 *           the loop ends, exit 0.  Further signals while stopping are
 *           logged; drain_timeout bounds the wait.
 *   --once: like SIGTERM as soon as every pipeline reports done.
 * The watchdog timer pings from the loop itself, so a wedged loop stops
 * the pings and systemd restarts us.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ingestd/config.h"
#include "ingestd/daemon.h"
#include "ingestd/error.h"
#include "ingestd/http.h"
#include "ingestd/metrics.h"
#include "ingestd/notify.h"
#include "ingestd/pipeline.h"

#define DEFAULT_LISTEN "127.0.0.1:9464"

struct daemon {
    uv_loop_t loop;
    const struct ingest_daemon_opts *opts;
    const struct ingest_log *log;
    struct ingest_conf *conf;
    struct ingest_metrics *metrics;
    struct ingest_http *http;
    char *listen;                  /* what the server was started with */

    struct ingest_pipeline **pipelines;
    size_t npipelines;
    size_t pending_stops;          /* pipelines still stopping */
    size_t pending_done;           /* --once: pipelines still running */

    uv_signal_t sigterm, sigint, sighup;
    uv_timer_t watchdog;
    int watchdog_on;
    int stopping;
    int exit_code;
    time_t started;
    /* A reload in progress: the config it replaced (still borrowed by the
     * pipelines it is stopping) and how many of those are still stopping. */
    struct ingest_conf *reload_old;
    size_t reload_pending;
    size_t reload_kept, reload_removed;
};

static void log_conf_errors(struct daemon *d, const char *msg, const struct ingest_conf_errors *e)
{
    const char *p = e->text.data ? e->text.data : "";
    while (*p) {
        size_t n = strcspn(p, "\n");
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), p);
        INGEST_LOG_ERROR(d->log, NULL, msg, INGEST_KV_STR("error", line));
        p += n;
        if (*p)
            p++;
    }
}

/* ---- HTTP endpoints ------------------------------------------------------ */

static int all_ready(const struct daemon *d)
{
    if (d->stopping)
        return 0;
    for (size_t i = 0; i < d->npipelines; i++) {
        enum ingest_pipeline_state s = ingest_pipeline_state(d->pipelines[i]);
        if (s == INGEST_PS_STARTING || s == INGEST_PS_FAILED || s == INGEST_PS_STOPPING)
            return 0;
    }
    return 1;
}

static void render_status(struct daemon *d, struct ingest_buf *out)
{
    ingest_buf_printf(out, "{\"version\":\"%s\",\"pid\":%ld,\"uptime_seconds\":%ld,"
                      "\"ready\":%s,\"stopping\":%s,\"metrics_listen\":",
                      INGEST_VERSION, (long)getpid(), (long)(time(NULL) - d->started),
                      all_ready(d) ? "true" : "false", d->stopping ? "true" : "false");
    if (d->listen)
        ingest_buf_json_str(out, d->listen);
    else
        ingest_buf_puts(out, "null");
    ingest_buf_puts(out, ",\"pipelines\":[");
    for (size_t i = 0; i < d->npipelines; i++) {
        if (i)
            ingest_buf_putc(out, ',');
        ingest_pipeline_status_json(d->pipelines[i], out);
    }
    ingest_buf_puts(out, "]}\n");
}

static void on_http(void *ud, const char *path, const char *query, struct ingest_http_reply *r)
{
    struct daemon *d = ud;
    (void)query;
    if (strcmp(path, "/metrics") == 0) {
        r->content_type = "text/plain; version=0.0.4; charset=utf-8";
        ingest_buf_printf(&r->body, "# HELP ingestd_build_info Build information; always 1.\n"
                          "# TYPE ingestd_build_info gauge\n"
                          "ingestd_build_info{version=\"%s\"} 1\n", INGEST_VERSION);
        ingest_metrics_render(d->metrics, &r->body);
        ingest_metrics_render_process(&r->body);
    } else if (strcmp(path, "/healthz") == 0) {
        ingest_buf_puts(&r->body, "ok\n");
    } else if (strcmp(path, "/readyz") == 0) {
        int ready = all_ready(d);
        r->status = ready ? 200 : 503;
        ingest_buf_puts(&r->body, ready ? "ready\n" : "not ready\n");
    } else if (strcmp(path, "/status") == 0) {
        r->content_type = "application/json";
        render_status(d, &r->body);
    } else if (strcmp(path, "/") == 0) {
        ingest_buf_puts(&r->body, "ingestd " INGEST_VERSION
                        "\n/metrics /healthz /readyz /status\n");
    } else {
        r->status = 404;
        ingest_buf_puts(&r->body, "not found\n");
    }
}

/* ---- pipelines ------------------------------------------------------------ */

static void begin_shutdown(struct daemon *d, const char *why);

static void on_pipeline_done(struct ingest_pipeline *pl, void *ud)
{
    struct daemon *d = ud;
    if (ingest_pipeline_failed(pl))
        d->exit_code = 1;
    INGEST_LOG_INFO(d->log, ingest_pipeline_name(pl), "pipeline finished");
    if (d->pending_done > 0 && --d->pending_done == 0)
        begin_shutdown(d, "all pipelines done");
}

static int start_pipeline(struct daemon *d, const struct ingest_pipeline_conf *pc)
{
    char err[256];
    struct ingest_pipeline *pl = ingest_pipeline_new(&d->loop, pc, d->metrics, d->log, err,
                                                     sizeof err);
    if (!pl) {
        INGEST_LOG_ERROR(d->log, pc->name, "cannot create pipeline", INGEST_KV_STR("error", err));
        return INGEST_ENOMEM;
    }
    struct ingest_pipeline **p = realloc(d->pipelines, (d->npipelines + 1) * sizeof *p);
    if (!p) {
        ingest_pipeline_free(pl);
        return INGEST_ENOMEM;
    }
    d->pipelines = p;
    d->pipelines[d->npipelines++] = pl;
    if (d->opts->once)
        d->pending_done++;
    ingest_pipeline_set_reset_checkpoint(pl, d->opts->reset_checkpoint);
    int rc = ingest_pipeline_start(pl, d->opts->once, on_pipeline_done, d);
    if (rc < 0) {
        INGEST_LOG_ERROR(d->log, pc->name, "pipeline failed to start",
                         INGEST_KV_STR("error", ingest_strerror(rc)));
        d->exit_code = 1;
    }
    return rc;
}

static void on_stopped(struct ingest_pipeline *pl, void *ud)
{
    struct daemon *d = ud;
    (void)pl;
    if (--d->pending_stops == 0) {
        for (size_t i = 0; i < d->npipelines; i++)
            ingest_pipeline_free(d->pipelines[i]);
        d->npipelines = 0;
        if (d->http)
            ingest_http_stop(d->http, NULL, NULL);
        d->http = NULL;
        uv_close((uv_handle_t *)&d->sigterm, NULL);
        uv_close((uv_handle_t *)&d->sigint, NULL);
        uv_close((uv_handle_t *)&d->sighup, NULL);
        if (d->watchdog_on)
            uv_close((uv_handle_t *)&d->watchdog, NULL);
    }
}

static void begin_shutdown(struct daemon *d, const char *why)
{
    if (d->stopping)
        return;
    d->stopping = 1;
    INGEST_LOG_INFO(d->log, NULL, "shutting down", INGEST_KV_STR("reason", why));
    ingest_notify_stopping(why);
    /* +1: this function's own reference; pipelines a reload is stopping
     * report through on_reload_stopped, which counts them here too. */
    d->pending_stops = d->npipelines + d->reload_pending + 1;
    for (size_t i = 0; i < d->npipelines; i++)
        ingest_pipeline_stop(d->pipelines[i], 1, on_stopped, d);
    on_stopped(NULL, d);
}

/* ---- reload --------------------------------------------------------------- */

static char *resolve_listen(const struct daemon *d, const struct ingest_conf *conf)
{
    const char *l = d->opts->metrics_listen;
    if (!l)
        l = conf->metrics_listen;
    if (!l)
        l = d->opts->once ? NULL : DEFAULT_LISTEN;
    if (!l || strcmp(l, "off") == 0)
        return NULL;
    return strdup(l);
}

static const struct ingest_pipeline_conf *find_conf(const struct ingest_conf *c, const char *name)
{
    for (size_t i = 0; i < c->npipelines; i++)
        if (strcmp(c->pipelines[i]->name, name) == 0)
            return c->pipelines[i];
    return NULL;
}

static void swap_conf(struct ingest_conf *nc, struct ingest_conf *oc,
                      const struct ingest_pipeline_conf *npc,
                      const struct ingest_pipeline_conf *opc)
{
    size_t ni = 0, oi = 0;
    while (ni < nc->npipelines && nc->pipelines[ni] != npc)
        ni++;
    while (oi < oc->npipelines && oc->pipelines[oi] != opc)
        oi++;
    if (ni == nc->npipelines || oi == oc->npipelines)
        return;
    struct ingest_pipeline_conf *t = nc->pipelines[ni];
    nc->pipelines[ni] = oc->pipelines[oi];
    oc->pipelines[oi] = t;
}

/* Every pipeline the reload stopped is gone: start the new and changed
 * ones.  Waiting first means a restarted pipeline never shares its
 * checkpoint or its metric series with the instance it replaces. */
static void finish_reload(struct daemon *d)
{
    size_t added = 0;
    ingest_conf_free(d->reload_old);
    d->reload_old = NULL;
    for (size_t i = 0; i < d->conf->npipelines; i++) {
        int running = 0;
        for (size_t j = 0; j < d->npipelines; j++)
            running |= strcmp(ingest_pipeline_name(d->pipelines[j]), d->conf->pipelines[i]->name) == 0;
        if (!running) {
            start_pipeline(d, d->conf->pipelines[i]);
            added++;
        }
    }
    INGEST_LOG_INFO(d->log, NULL, "configuration reloaded",
                    INGEST_KV_UINT("pipelines", d->npipelines),
                    INGEST_KV_UINT("unchanged", d->reload_kept),
                    INGEST_KV_UINT("stopped", d->reload_removed), INGEST_KV_UINT("started", added));
    ingest_notify_ready("running");
}

static void on_reload_stopped(struct ingest_pipeline *pl, void *ud)
{
    struct daemon *d = ud;
    ingest_pipeline_free(pl);
    d->reload_pending--;
    if (d->stopping)
        on_stopped(NULL, d);
    else if (d->reload_pending == 0)
        finish_reload(d);
}

static void reload(struct daemon *d)
{
    struct ingest_conf_errors errs;
    struct ingest_conf *nc = NULL;
    if (d->reload_old) {
        INGEST_LOG_WARN(d->log, NULL, "SIGHUP ignored: the previous reload is still stopping "
                        "pipelines", INGEST_KV_UINT("stopping", d->reload_pending));
        return;
    }
    ingest_notify_reloading();
    INGEST_LOG_INFO(d->log, NULL, "reloading configuration");
    ingest_conf_errors_init(&errs);
    if (ingest_conf_load(d->opts->configs, d->opts->nconfigs, NULL, &nc, &errs) < 0) {
        log_conf_errors(d, "config reload rejected", &errs);
        INGEST_LOG_WARN(d->log, NULL, "keeping the running configuration",
                        INGEST_KV_UINT("errors", errs.count));
        ingest_conf_errors_free(&errs);
        ingest_notify_ready("reload rejected; running the previous configuration");
        return;
    }
    ingest_conf_errors_free(&errs);

    char *listen = resolve_listen(d, nc);
    if ((listen == NULL) != (d->listen == NULL) || (listen && strcmp(listen, d->listen) != 0))
        INGEST_LOG_WARN(d->log, NULL, "metrics listen address changed; it takes effect at restart",
                        INGEST_KV_STR("running", d->listen ? d->listen : "off"),
                        INGEST_KV_STR("configured", listen ? listen : "off"));
    free(listen);

    /* Unchanged pipelines keep running on the new (identical) settings;
     * removed and changed ones stop; finish_reload starts the rest. */
    d->reload_old = d->conf;
    d->conf = nc;
    d->reload_kept = d->reload_removed = 0;
    size_t kept = 0;
    struct ingest_pipeline **stop = calloc(d->npipelines + 1, sizeof *stop);
    size_t nstop = 0;
    for (size_t i = 0; i < d->npipelines; i++) {
        struct ingest_pipeline *pl = d->pipelines[i];
        const struct ingest_pipeline_conf *pc = find_conf(nc, ingest_pipeline_name(pl));
        if (pc && pc->fingerprint == ingest_pipeline_conf(pl)->fingerprint) {
            /* The running engine holds pointers into its settings, so the
             * settings object it runs on moves into the new config and the
             * identical new one goes out with the old config. */
            swap_conf(nc, d->reload_old, pc, ingest_pipeline_conf(pl));
            d->pipelines[kept++] = pl;
            d->reload_kept++;
        } else if (stop) {
            stop[nstop++] = pl;
        } else {
            d->pipelines[kept++] = pl;   /* out of memory: leave it running */
        }
    }
    d->npipelines = kept;
    d->reload_removed = nstop;
    d->reload_pending = nstop;
    for (size_t i = 0; i < nstop; i++)
        ingest_pipeline_stop(stop[i], 0, on_reload_stopped, d);   /* a reload waits */
    free(stop);
    if (d->reload_pending == 0)
        finish_reload(d);
}

/* ---- signals, watchdog ------------------------------------------------------ */

static void on_signal(uv_signal_t *h, int signum)
{
    struct daemon *d = h->data;
    if (signum == SIGHUP) {
        if (d->opts->once || d->stopping)
            INGEST_LOG_INFO(d->log, NULL, "SIGHUP ignored", INGEST_KV_STR("reason",
                            d->stopping ? "stopping" : "--once"));
        else
            reload(d);
        return;
    }
    if (d->stopping) {
        INGEST_LOG_INFO(d->log, NULL, "already stopping", INGEST_KV_STR("signal",
                        strsignal(signum)));
        return;
    }
    begin_shutdown(d, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void on_watchdog(uv_timer_t *h)
{
    (void)h;
    ingest_notify_watchdog();
}

static void start_signals(struct daemon *d)
{
    uv_signal_t *hs[] = { &d->sigterm, &d->sigint, &d->sighup };
    int sigs[] = { SIGTERM, SIGINT, SIGHUP };
    for (int i = 0; i < 3; i++) {
        uv_signal_init(&d->loop, hs[i]);
        hs[i]->data = d;
        uv_signal_start(hs[i], on_signal, sigs[i]);
    }
    /* main() blocked these until now: pending ones are delivered here. */
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < 3; i++)
        sigaddset(&set, sigs[i]);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    uint64_t usec = ingest_notify_watchdog_usec();
    if (usec) {
        uint64_t every = usec / 2000;
        if (every == 0)
            every = 1;
        uv_timer_init(&d->loop, &d->watchdog);
        uv_timer_start(&d->watchdog, on_watchdog, every, every);
        d->watchdog_on = 1;
        INGEST_LOG_DEBUG(d->log, NULL, "systemd watchdog enabled",
                         INGEST_KV_UINT("ping_ms", every));
    }
}

/* ---- run ------------------------------------------------------------------- */

static int load_initial(struct daemon *d)
{
    struct ingest_conf_errors errs;
    ingest_conf_errors_init(&errs);
    int rc = ingest_conf_load(d->opts->configs, d->opts->nconfigs, NULL, &d->conf, &errs);
    if (rc < 0) {
        /* Plain FILE:LINE: reason lines, as --check prints them: editors and
         * people read these; one log line records the outcome. */
        fputs(errs.text.data ? errs.text.data : "", stderr);
        INGEST_LOG_ERROR(d->log, NULL, "invalid configuration", INGEST_KV_UINT("errors", errs.count));
    }
    ingest_conf_errors_free(&errs);
    return rc;
}

static void close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void teardown(struct daemon *d)
{
    /* Handles left by an early failure are closed and the loop drained. */
    uv_walk(&d->loop, close_any, NULL);
    uv_run(&d->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&d->loop) != 0)
        INGEST_LOG_WARN(d->log, NULL, "event loop closed with handles still open");
    ingest_conf_free(d->reload_old);
    free(d->pipelines);
    ingest_conf_free(d->conf);
    ingest_metrics_free(d->metrics);
    free(d->listen);
}

int ingest_daemon_run(const struct ingest_daemon_opts *opts)
{
    struct daemon d;
    memset(&d, 0, sizeof d);
    d.opts = opts;
    d.log = opts->log;
    d.started = time(NULL);
    if (load_initial(&d) < 0)
        return 2;
    if (uv_loop_init(&d.loop) != 0 || !(d.metrics = ingest_metrics_new())) {
        INGEST_LOG_ERROR(d.log, NULL, "cannot initialise the event loop");
        ingest_conf_free(d.conf);
        return 1;
    }
    d.listen = resolve_listen(&d, d.conf);
    if (d.listen) {
        char err[256];
        d.http = ingest_http_start(&d.loop, d.listen, NULL, on_http, &d, d.log, err, sizeof err);
        if (!d.http) {
            INGEST_LOG_ERROR(d.log, NULL, "cannot start the metrics server",
                             INGEST_KV_STR("listen", d.listen), INGEST_KV_STR("error", err));
            teardown(&d);
            return 1;
        }
        INGEST_LOG_INFO(d.log, NULL, "metrics server listening", INGEST_KV_STR("listen", d.listen),
                        INGEST_KV_INT("port", ingest_http_port(d.http)));
    }
    start_signals(&d);
    INGEST_LOG_INFO(d.log, NULL, "ingestd started", INGEST_KV_STR("version", INGEST_VERSION),
                    INGEST_KV_UINT("pipelines", d.conf->npipelines),
                    INGEST_KV_STR("mode", opts->once ? "once" : "continuous"));
    int failed = 0;
    for (size_t i = 0; i < d.conf->npipelines; i++)
        failed |= start_pipeline(&d, d.conf->pipelines[i]) < 0;
    if (failed && !opts->once) {
        /* A pipeline that cannot start (checkpoint locked, table
         * incompatible) is a deployment error: fail fast so the operator
         * (or systemd) sees it, rather than run half the config. */
        d.exit_code = 1;
        begin_shutdown(&d, "a pipeline cannot start");
    }
    char status[128];
    snprintf(status, sizeof status, "running %zu pipeline%s", d.npipelines,
             d.npipelines == 1 ? "" : "s");
    ingest_notify_ready(status);
    uv_run(&d.loop, UV_RUN_DEFAULT);
    INGEST_LOG_INFO(d.log, NULL, "ingestd stopped", INGEST_KV_INT("exit_code", d.exit_code));
    int code = d.exit_code;
    teardown(&d);
    return code;
}
