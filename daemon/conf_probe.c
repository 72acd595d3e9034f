/*
 * conf_probe.c - the second half of `ingestd --check`: is what the config
 * names there and usable?  The first half (syntax, types, cross-key rules)
 * is the loader itself.  Tables and checkpoints need not exist (they are
 * created on first use) but then their nearest existing ancestor must be a
 * writable directory; the checks run as the user that will run the daemon.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_apply.h"
#include "conf_ini.h"
#include "ingestd/source.h"

int ingest_conf_probe_dir(const char *path, int want_write, int must_exist, char *err,
                          size_t errlen)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            snprintf(err, errlen, "%s exists and is not a directory", path);
            return -1;
        }
        int mode = R_OK | X_OK | (want_write ? W_OK : 0);
        if (access(path, mode) != 0) {
            snprintf(err, errlen, "%s is not %s: %s", path,
                     want_write ? "writable" : "readable", strerror(errno));
            return -1;
        }
        return 0;
    }
    if (errno != ENOENT || must_exist) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    /* Walk up to the nearest existing ancestor: it must let us create. */
    char *p = strdup(path);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = -1;
    for (;;) {
        char *slash = strrchr(p, '/');
        if (!slash)
            break;
        if (slash == p)
            slash[1] = '\0';
        else
            *slash = '\0';
        if (stat(p, &st) == 0) {
            if (!S_ISDIR(st.st_mode))
                snprintf(err, errlen, "cannot create %s: %s is not a directory", path, p);
            else if (access(p, W_OK | X_OK) != 0)
                snprintf(err, errlen, "cannot create %s: %s is not writable: %s", path, p,
                         strerror(errno));
            else
                rc = 0;
            break;
        }
        if (errno != ENOENT) {
            snprintf(err, errlen, "cannot create %s: %s: %s", path, p, strerror(errno));
            break;
        }
        if (strcmp(p, "/") == 0)
            break;
    }
    free(p);
    return rc;
}

static void probe_key(struct ingest_conf_diag *d, const char *key, const char *path,
                      int want_write, int must_exist)
{
    char err[1024];
    if (path && ingest_conf_probe_dir(path, want_write, must_exist, err, sizeof err) < 0)
        ingest_conf_diag_error(d, key, "%s: %s", key, err);
}

static const struct ini_section *find_section(const struct ini_file *f, const char *name)
{
    for (size_t i = 0; f && i < f->n; i++)
        if (strcmp(f->sections[i].name, name) == 0)
            return &f->sections[i];
    return NULL;
}

size_t ingest_conf_probe(const struct ingest_conf *conf, struct ingest_conf_errors *errs)
{
    size_t before = errs->count;
    for (size_t i = 0; i < conf->npipelines; i++) {
        const struct ingest_pipeline_conf *pc = conf->pipelines[i];
        const struct ini_file *f = pc->ini;

        struct ingest_conf_diag d = { errs, pc->file, find_section(f, "pipeline"), pc->line };
        probe_key(&d, "checkpoint", pc->checkpoint, 1, 0);
        d.sec = find_section(f, "sink");
        probe_key(&d, "path", pc->sink.path, 1, 0);
        probe_key(&d, "quarantine", pc->sink.quarantine, 1, 0);
        d.sec = find_section(f, "source");
        if (pc->source.ops && pc->source.ops->conf_probe)
            pc->source.ops->conf_probe(pc, &d);
    }
    return errs->count - before;
}
