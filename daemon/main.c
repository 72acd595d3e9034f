/*
 * main.c - ingestd's command line.  The daemon is a library
 * (build/libingestd.a) so tests link the real code; this file only parses
 * arguments, owns the process-wide logger and maps outcomes to exit codes:
 * 0 ok, 1 runtime failure, 2 usage or configuration error.
 */
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingestd/config.h"
#include "ingestd/daemon.h"
#include "ingestd/log.h"
#include "ingestd/files_cli.h"
#include "ingestd/table_cli.h"

/* The process's one logger: the only global state, owned here. */
static struct ingest_log process_log = { INGEST_LEVEL_INFO, 2 };

static void usage(FILE *out)
{
    fputs("usage: ingestd --config FILE [--config FILE ...] [options]\n"
          "       ingestd --check --config FILE ...\n"
          "       ingestd table info|history PATH [--json]\n"
          "       ingestd files --config FILE [--json] [--status S]\n"
          "       ingestd --version | --help | --help-config\n"
          "\n"
          "Streaming ingestion into Delta Lake tables: watches landing directories and\n"
          "Kafka topics, commits every record exactly once.\n"
          "\n"
          "  -c, --config FILE         pipeline config (INI); repeat to run several pipelines\n"
          "      --once                process everything available now, commit, exit\n"
          "      --check               validate the config and what it names; print ok or\n"
          "                            every error as FILE:LINE: reason (exit 2)\n"
          "      --metrics-listen ADDR serve /metrics on ADDR (HOST:PORT or off), overriding\n"
          "                            [metrics] listen\n"
          "      --log-level LEVEL     error, warn, info (default) or debug\n"
          "      --reset-checkpoint    allow an empty checkpoint against a table that already\n"
          "                            holds commits of this pipeline\n"
          "      --help-config         reference of every config section and key\n"
          "  -V, --version             print the version\n"
          "  -h, --help                this text\n"
          "\n"
          "Signals: SIGTERM/SIGINT stop after the batch in flight; SIGHUP reloads the config.\n"
          "Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.\n", out);
}

static int run_check(const char *const *configs, size_t n)
{
    struct ingest_conf_errors errs;
    struct ingest_conf *conf = NULL;
    ingest_conf_errors_init(&errs);
    if (ingest_conf_load(configs, n, NULL, &conf, &errs) == 0)
        ingest_conf_probe(conf, &errs);
    int code = errs.count ? 2 : 0;
    if (errs.count)
        fputs(errs.text.data, stderr);
    else
        puts("ok");
    ingest_conf_free(conf);
    ingest_conf_errors_free(&errs);
    return code;
}

int main(int argc, char **argv)
{
    enum { OPT_ONCE = 256, OPT_CHECK, OPT_METRICS, OPT_LOGLEVEL, OPT_RESET, OPT_HELPCONF };
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "once", no_argument, NULL, OPT_ONCE },
        { "check", no_argument, NULL, OPT_CHECK },
        { "metrics-listen", required_argument, NULL, OPT_METRICS },
        { "log-level", required_argument, NULL, OPT_LOGLEVEL },
        { "reset-checkpoint", no_argument, NULL, OPT_RESET },
        { "help-config", no_argument, NULL, OPT_HELPCONF },
        { "version", no_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    /* Batches are big, short-lived columnar buffers handed between threads.
     * glibc's defaults mmap such blocks and unmap them on free, so every
     * batch pays a page fault per 4 KiB (measured: decoding 3x slower).
     * Keeping them on the heap lets the next batch reuse the pages; the
     * memory retained is bounded by the batch sizes memory_limit allows, and
     * two arenas keep it from multiplying across worker threads. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_ARENA_MAX, 1);
    /* Subcommands that read tables need neither a config nor a loop. */
    if (argc >= 2 && strcmp(argv[1], "table") == 0)
        return ingest_table_cli(argc - 2, argv + 2, stdout, stderr);
    if (argc >= 2 && strcmp(argv[1], "files") == 0)
        return ingest_files_cli(argc - 1, argv + 1, stdout, stderr);
    const char **configs = calloc((size_t)argc + 1, sizeof *configs);
    size_t nconfigs = 0;
    int once = 0, check = 0, reset = 0, code = 2;
    const char *metrics_listen = NULL;
    if (!configs)
        return 1;
    signal(SIGPIPE, SIG_IGN);   /* a vanished HTTP client must not kill us */
    /* Until the loop's handlers are installed, a SIGTERM or SIGHUP must wait
     * rather than kill us with the default action; the daemon unblocks them.
     * Threads created later inherit the mask, so signals reach the loop. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    /* Test hook: widens the start-up window so tests/e2e/signals.sh can
     * deliver a signal inside it every time. */
    const char *delay = getenv("INGESTD_TEST_STARTUP_DELAY_MS");
    if (delay)
        usleep((useconds_t)atoi(delay) * 1000);
    int c;
    while ((c = getopt_long(argc, argv, "c:Vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': configs[nconfigs++] = optarg; break;
        case OPT_ONCE: once = 1; break;
        case OPT_CHECK: check = 1; break;
        case OPT_RESET: reset = 1; break;
        case OPT_METRICS: {
            char err[256];
            if (ingest_conf_parse_listen(optarg, err, sizeof err) < 0) {
                fprintf(stderr, "ingestd: --metrics-listen: %s\n", err);
                goto out;
            }
            metrics_listen = optarg;
            break;
        }
        case OPT_LOGLEVEL:
            process_log.level = ingest_log_level_parse(optarg);
            if (process_log.level < 0) {
                fprintf(stderr, "ingestd: --log-level: '%s' is not error, warn, info or debug\n",
                        optarg);
                goto out;
            }
            break;
        case OPT_HELPCONF: {
            struct ingest_buf b = INGEST_BUF_INIT;
            ingest_conf_help(&b);
            fputs(b.data, stdout);
            ingest_buf_free(&b);
            code = 0;
            goto out;
        }
        case 'V': printf("ingestd %s\n", INGEST_VERSION); code = 0; goto out;
        case 'h': usage(stdout); code = 0; goto out;
        default: usage(stderr); goto out;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ingestd: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        goto out;
    }
    if (nconfigs == 0) {
        fprintf(stderr, "ingestd: --config FILE is required\n");
        usage(stderr);
        goto out;
    }
    if (check) {
        pthread_sigmask(SIG_UNBLOCK, &stop_signals, NULL);
        code = run_check(configs, nconfigs);
        goto out;
    }
    struct ingest_daemon_opts opts = { configs, nconfigs, once, metrics_listen, &process_log,
                                       reset };
    code = ingest_daemon_run(&opts);
out:
    free(configs);
    return code;
}
