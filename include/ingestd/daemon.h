/*
 * daemon.h - the process: one libuv loop hosting every pipeline, the
 * metrics server, signals and systemd notification.
 */
#ifndef INGESTD_DAEMON_H
#define INGESTD_DAEMON_H

#include <stddef.h>

#include "ingestd/log.h"

struct ingest_daemon_opts {
    const char *const *configs;   /* --config files, in order */
    size_t      nconfigs;
    int         once;             /* --once: drain what is there, commit, exit */
    const char *metrics_listen;   /* --metrics-listen override, or NULL */
    const struct ingest_log *log;
    int         reset_checkpoint; /* --reset-checkpoint */
};

/*
 * Runs until SIGTERM/SIGINT (or, with once, until every pipeline is done).
 * Returns the process exit code: 0 ok, 1 runtime failure, 2 config error.
 * Main thread; installs its own signal handlers on the loop.
 */
int ingest_daemon_run(const struct ingest_daemon_opts *opts);

#endif
