/*
 * files_cli.c - `ingestd files --config F [--json] [--status S]`: the
 * directory source's tracked files and their state, like Auto Loader's
 * cloud_files_state.  Reads the checkpoint's file state without taking the
 * checkpoint's lock, so it works while the daemon runs (SQLite lets a
 * reader in beside the writer).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ingestd/buf.h"
#include "ingestd/strutil.h"
#include "ingestd/config.h"
#include "ingestd/filestate.h"
#include "ingestd/files_cli.h"
#include "ingestd/source.h"

struct listing {
    FILE   *out;
    int     json, first;
    const char *pipeline;
    int64_t n;
};

static void state_text(const struct ingest_file_rec *r, char *buf, size_t len)
{
    switch (r->status) {
    case INGEST_FILE_DISCOVERED:
        if (r->offset > 0)
            snprintf(buf, len, "discovered (%" PRId64 " of %" PRId64 " bytes in version %"
                     PRId64 ")", r->offset, r->size, r->version);
        else
            snprintf(buf, len, "discovered");
        break;
    case INGEST_FILE_IN_BATCH:
        snprintf(buf, len, "in batch %" PRId64, r->batch);
        break;
    case INGEST_FILE_COMMITTED:
        if (r->version >= 0)
            snprintf(buf, len, "committed in version %" PRId64 " (batch %" PRId64 ")",
                     r->version, r->batch);
        else
            snprintf(buf, len, "committed (batch %" PRId64 ", no rows)", r->batch);
        break;
    default:
        snprintf(buf, len, "skipped: %s", r->reason ? r->reason : "?");
    }
}

static int print_rec(void *ud, const struct ingest_file_rec *r)
{
    struct listing *l = ud;
    l->n++;
    if (l->json) {
        struct ingest_buf b = INGEST_BUF_INIT;
        ingest_buf_puts(&b, l->first ? "\n" : ",\n");
        l->first = 0;
        ingest_buf_puts(&b, "{\"pipeline\":");
        ingest_buf_json_str(&b, l->pipeline);
        ingest_buf_puts(&b, ",\"path\":");
        ingest_buf_json_str(&b, r->path);
        ingest_buf_printf(&b, ",\"size\":%" PRId64 ",\"mtime_ns\":%" PRId64 ",\"inode\":%" PRIu64
                              ",\"discovered_ms\":%" PRId64 ",\"state\":\"%s\",\"bytes_ingested\":%"
                              PRId64, r->size, r->mtime_ns, r->inode, r->discovered_ms,
                          ingest_file_status_name(r->status), r->offset);
        if (r->batch >= 0)
            ingest_buf_printf(&b, ",\"batch\":%" PRId64, r->batch);
        if (r->version >= 0)
            ingest_buf_printf(&b, ",\"version\":%" PRId64, r->version);
        if (r->committed_ms >= 0)
            ingest_buf_printf(&b, ",\"committed_ms\":%" PRId64, r->committed_ms);
        if (r->reason) {
            ingest_buf_puts(&b, ",\"reason\":");
            ingest_buf_json_str(&b, r->reason);
        }
        ingest_buf_putc(&b, '}');
        fputs(b.data, l->out);
        ingest_buf_free(&b);
    } else {
        char when[32], st[600];
        ingest_fmt_ms(r->discovered_ms, when, sizeof when);
        state_text(r, st, sizeof st);
        fprintf(l->out, "%-20s %12" PRId64 "  %-20s  %s\n", r->path, r->size, when, st);
    }
    return 0;
}

static int status_code(const char *s)
{
    static const char *const names[] = { "discovered", "in_batch", "committed", "skipped" };
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -2;
}

int ingest_files_cli(int argc, char **argv, FILE *out, FILE *errf)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "json", no_argument, NULL, 'j' },
        { "status", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char **configs = calloc((size_t)argc + 1, sizeof *configs);
    size_t nconfigs = 0;
    int json = 0, status = -1, code = 2, c;
    optind = 1;
    while (configs && (c = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': configs[nconfigs++] = optarg; break;
        case 'j': json = 1; break;
        case 's':
            status = status_code(optarg);
            if (status == -2) {
                fprintf(errf, "ingestd files: --status is discovered, in_batch, committed or "
                        "skipped\n");
                goto out;
            }
            break;
        case 'h':
            fputs("usage: ingestd files --config FILE [--json] [--status S]\n", out);
            code = 0;
            goto out;
        default:
            goto usage;
        }
    }
    if (!nconfigs || optind < argc)
        goto usage;
    struct ingest_conf_errors errs;
    struct ingest_conf *conf = NULL;
    ingest_conf_errors_init(&errs);
    if (ingest_conf_load(configs, nconfigs, NULL, &conf, &errs) < 0) {
        fputs(errs.text.data, errf);
        ingest_conf_errors_free(&errs);
        goto out;
    }
    ingest_conf_errors_free(&errs);
    code = 0;
    if (json)
        fputs("[", out);
    else
        fprintf(out, "%-20s %12s  %-20s  %s\n", "PATH", "BYTES", "DISCOVERED", "STATE");
    struct listing l = { .out = out, .json = json, .first = 1 };
    for (size_t i = 0; i < conf->npipelines; i++) {
        const struct ingest_pipeline_conf *pc = conf->pipelines[i];
        if (!pc->source.ops || strcmp(pc->source.ops->name, "directory") != 0)
            continue;
        char err[512], db[4200];
        snprintf(db, sizeof db, "%s/files.db", pc->checkpoint);
        if (access(db, F_OK) != 0) {
            /* Never create a checkpoint from a read-only command. */
            fprintf(errf, "ingestd files: pipeline %s has not run yet (no %s)\n", pc->name, db);
            continue;
        }
        struct ingest_filestate *fs = ingest_filestate_open(pc->checkpoint, err, sizeof err);
        if (!fs) {
            fprintf(errf, "ingestd files: pipeline %s: %s\n", pc->name, err);
            code = 1;
            continue;
        }
        l.pipeline = pc->name;
        if (ingest_filestate_scan(fs, status, INT64_MIN, NULL, 0, print_rec, &l) < 0) {
            fprintf(errf, "ingestd files: pipeline %s: %s\n", pc->name,
                    ingest_filestate_errmsg(fs));
            code = 1;
        }
        ingest_filestate_close(fs);
    }
    if (json)
        fputs(l.first ? "]\n" : "\n]\n", out);
    ingest_conf_free(conf);
    goto out;
usage:
    fputs("usage: ingestd files --config FILE [--json] [--status S]\n", errf);
out:
    free(configs);
    return code;
}
