/*
 * directory.c - the directory source: files landing in a directory.
 *
 * Discovery will be inotify (uv_fs_event, one watch per directory when
 * recursive) plus a full listing at start and every backfill_interval, so a
 * missed notification delays a file but never loses it.  A file is taken
 * when complete: renamed into place, or unchanged for settle_time.  File
 * state lives in the checkpoint, which is how "already ingested" is decided.
 *
 * This file holds the connector's configuration today: its key table (the
 * `[source] type = directory` keys of design.md, with their defaults), the
 * cross-key checks and the --check probe.  The data-path verbs join with the
 * micro-batch engine.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingestd/error.h"
#include "ingestd/source.h"
#include "ingestd/strutil.h"

#define MiB (1024LL * 1024)

/* clean_source = off | delete | archive:DIR; DIR made absolute. */
static int parse_clean_source(const char *v, const char *basedir, void *dst, char *err,
                              size_t errlen)
{
    char **out = dst;
    if (strcmp(v, "off") == 0 || strcmp(v, "delete") == 0) {
        *out = strdup(v);
    } else if (strncmp(v, "archive:", 8) == 0 && v[8]) {
        char *dir = ingest_conf_abspath(basedir, v + 8);
        size_t n = dir ? strlen(dir) + 9 : 0;
        *out = dir ? malloc(n) : NULL;
        if (*out)
            snprintf(*out, n, "archive:%s", dir);
        free(dir);
    } else {
        snprintf(err, errlen, "'%s' is not off, delete or archive:DIR", v);
        return INGEST_ECONFIG;
    }
    if (!*out) {
        snprintf(err, errlen, "out of memory");
        return INGEST_ENOMEM;
    }
    return 0;
}

#define D(field) offsetof(struct ingest_directory_conf, field)
static const struct ingest_conf_key directory_keys[] = {
    { "path", INGEST_CT_PATH, NULL, INGEST_CK_REQUIRED, 0, 0, NULL, D(path), NULL,
      "landing directory to watch" },
    { "pattern", INGEST_CT_STRING, "*", 0, 0, 0, NULL, D(pattern), NULL,
      "fnmatch pattern on the file name (not the path), e.g. *.json" },
    { "format", INGEST_CT_ENUM, "json", 0, 0, 0, "json|csv|text", D(format), NULL,
      "json: one object per line; csv; text: one line per record. .gz and .zst are "
      "decompressed by extension" },
    { "recursive", INGEST_CT_BOOL, "true", 0, 0, 0, NULL, D(recursive), NULL,
      "watch subdirectories too" },
    { "include_existing", INGEST_CT_BOOL, "true", 0, 0, 0, NULL, D(include_existing), NULL,
      "ingest files already present at the first start" },
    { "settle_time", INGEST_CT_DURATION, "1s", 0, 0, 3600 * 1000LL, NULL, D(settle_time_ms),
      NULL, "a file not renamed into place must be unchanged this long before it is taken" },
    { "backfill_interval", INGEST_CT_DURATION, "5m", 0, 1000, 7 * 24 * 3600 * 1000LL, NULL,
      D(backfill_interval_ms), NULL,
      "full listing this often, to catch anything notifications missed" },
    { "allow_overwrites", INGEST_CT_BOOL, "false", 0, 0, 0, NULL, D(allow_overwrites), NULL,
      "false: a file changed after ingestion is counted and skipped; true: ingested again" },
    { "clean_source", INGEST_CT_CUSTOM, "off", 0, 0, 0, "off|delete|archive:DIR",
      D(clean_source), parse_clean_source,
      "what happens to a file once its batch is committed" },
    { "max_line_size", INGEST_CT_SIZE, "16MiB", 0, 1024, 1024 * MiB, NULL, D(max_line_size),
      NULL, "longer lines are bad records" },
    { "bad_records_path", INGEST_CT_PATH, NULL, 0, 0, 0, NULL, D(bad_records_path), NULL,
      "NDJSON files of bad records (file, line, reason, raw line); default "
      "<checkpoint>/bad_records" },
    { "timestamp_epoch_unit", INGEST_CT_ENUM, "s", 0, 0, 0, "s|ms|us", D(timestamp_epoch_unit),
      NULL, "unit of numeric timestamps" },
};
#undef D

static void directory_check(const struct ingest_pipeline_conf *pc, struct ingest_conf_diag *d)
{
    struct ingest_directory_conf *c = pc->source.conf;
    if (c->pattern && (!*c->pattern || strchr(c->pattern, '/')))
        ingest_conf_diag_error(d, "pattern", "pattern: '%s' must match a file name, without '/'",
                               c->pattern);
    if (!c->bad_records_path && pc->checkpoint)
        c->bad_records_path = ingest_path_join(pc->checkpoint, "bad_records");
    if (!c->path)
        return;
    size_t plen = strlen(c->path);
    const char *inside[][2] = {
        { "checkpoint", pc->checkpoint }, { "sink path", pc->sink.path },
        { "archive directory", c->clean_source && strncmp(c->clean_source, "archive:", 8) == 0
                                   ? c->clean_source + 8 : NULL },
    };
    /* Anything we write below a watched directory would be ingested again. */
    for (size_t i = 0; i < sizeof inside / sizeof inside[0]; i++) {
        const char *p = inside[i][1];
        if (p && strncmp(p, c->path, plen) == 0 && (p[plen] == '/' || p[plen] == '\0') &&
            (c->recursive || p[plen] == '\0' || !strchr(p + plen + 1, '/')))
            ingest_conf_diag_error(d, "path", "path: the %s %s is inside the watched directory",
                                   inside[i][0], p);
    }
}

static void directory_probe(const struct ingest_pipeline_conf *pc, struct ingest_conf_diag *d)
{
    struct ingest_directory_conf *c = pc->source.conf;
    char err[512];
    int deletes = c->clean_source && strcmp(c->clean_source, "off") != 0;
    if (c->path && ingest_conf_probe_dir(c->path, deletes, 1, err, sizeof err) < 0)
        ingest_conf_diag_error(d, "path", "path: %s", err);
    if (c->bad_records_path && ingest_conf_probe_dir(c->bad_records_path, 1, 0, err, sizeof err) < 0)
        ingest_conf_diag_error(d, "bad_records_path", "bad_records_path: %s", err);
    if (c->clean_source && strncmp(c->clean_source, "archive:", 8) == 0 &&
        ingest_conf_probe_dir(c->clean_source + 8, 1, 0, err, sizeof err) < 0)
        ingest_conf_diag_error(d, "clean_source", "clean_source: %s", err);
}

const struct ingest_source_ops ingest_source_directory = {
    .name = "directory",
    .help = "files landing in a directory (inotify + periodic listing)",
    .conf_keys = directory_keys,
    .conf_nkeys = sizeof directory_keys / sizeof directory_keys[0],
    .conf_size = sizeof(struct ingest_directory_conf),
    .passthrough_prefix = NULL,
    .conf_check = directory_check,
    .conf_probe = directory_probe,
    .conf_free = NULL,
};
