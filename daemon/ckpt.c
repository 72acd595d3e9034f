/*
 * ckpt.c - the checkpoint directory (see ckpt.h).
 *
 * WAL entries are small JSON documents published like Delta log files:
 * temp file, fsync, rename, fsync of the directory, so after a crash an
 * entry is either absent or complete.  The highest N of each kind is found
 * by listing once at open and tracked afterwards.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingestd/buf.h"
#include "ingestd/ckpt.h"
#include "ingestd/delta.h"
#include "ingestd/error.h"
#include "ingestd/json.h"
#include "ingestd/strutil.h"
#include "delta/dl_fs.h"

#define KEEP_ENTRIES 100

struct ingest_ckpt {
    char   *dir, *offsets_dir, *commits_dir, *name;
    char    id[40];
    int     lock_fd;
    int64_t last_planned, last_committed;
};

static int64_t highest(const char *dir)
{
    int64_t best = -1;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char *end;
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        long long v = strtoll(e->d_name, &end, 10);
        if (!*end && v > best)
            best = v;
    }
    if (d)
        closedir(d);
    return best;
}

static int write_metadata(struct ingest_ckpt *ck, const char *name, char *err, size_t errlen)
{
    struct ingest_buf b = INGEST_BUF_INIT;
    ingest_delta_uuid(ck->id);
    ingest_buf_printf(&b, "{\"id\":\"%s\",\"name\":", ck->id);
    ingest_buf_json_str(&b, name);
    ingest_buf_printf(&b, ",\"created_ms\":%" PRId64 "}\n", dl_now_ms(0));
    int rc = b.oom ? INGEST_ENOMEM : dl_publish(ck->dir, "metadata", b.data, b.len, 0, err,
                                                errlen);
    ingest_buf_free(&b);
    return rc;
}

static int read_metadata(struct ingest_ckpt *ck, char *err, size_t errlen)
{
    char *path = ingest_path_join(ck->dir, "metadata"), *text = NULL;
    size_t len;
    struct ingest_json_doc doc = { 0 };
    if (!path)
        return INGEST_ENOMEM;
    int rc = dl_read_file(path, &text, &len);
    if (rc < 0) {
        if (rc != INGEST_ENOENT)
            snprintf(err, errlen, "%s: %s", path, ingest_strerror(rc));
        goto out;
    }
    char jerr[128];
    const char *id;
    if (ingest_json_parse(text, len, &doc, jerr, sizeof jerr) < 0 ||
        !(id = ingest_json_string(ingest_json_get(doc.root, "id"))) || strlen(id) >= sizeof ck->id) {
        rc = INGEST_ECORRUPT;
        snprintf(err, errlen, "%s: not a pipeline checkpoint's metadata (expected {\"id\":...})",
                 path);
        goto out;
    }
    snprintf(ck->id, sizeof ck->id, "%s", id);
out:
    ingest_json_doc_free(&doc);
    free(text);
    free(path);
    return rc;
}

void ingest_ckpt_close(struct ingest_ckpt *ck)
{
    if (!ck)
        return;
    if (ck->lock_fd >= 0)
        close(ck->lock_fd);     /* releases the flock */
    free(ck->dir);
    free(ck->name);
    free(ck->offsets_dir);
    free(ck->commits_dir);
    free(ck);
}

int ingest_ckpt_open(const char *dir, const char *name, struct ingest_ckpt **out, int *fresh,
                     char *err, size_t errlen)
{
    struct ingest_ckpt *ck = calloc(1, sizeof *ck);
    int rc = INGEST_ENOMEM;
    *out = NULL;
    *fresh = 0;
    if (!ck)
        goto fail;
    ck->lock_fd = -1;
    ck->dir = strdup(dir);
    ck->name = strdup(name);
    ck->offsets_dir = ingest_path_join(dir, "offsets");
    ck->commits_dir = ingest_path_join(dir, "commits");
    if (!ck->dir || !ck->name || !ck->offsets_dir || !ck->commits_dir)
        goto fail;
    if ((rc = dl_mkdirs(ck->offsets_dir, 0750)) < 0 || (rc = dl_mkdirs(ck->commits_dir, 0750)) < 0) {
        snprintf(err, errlen, "%s: cannot create the checkpoint: %s", dir, ingest_strerror(rc));
        goto fail;
    }
    char *lock = ingest_path_join(dir, "lock");
    if (!lock)
        goto fail;
    ck->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (ck->lock_fd < 0 || flock(ck->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        rc = e == EWOULDBLOCK ? INGEST_EBUSY : ingest_err_from_errno(e);
        if (rc == INGEST_EBUSY)
            snprintf(err, errlen, "checkpoint %s is in use by another ingestd process "
                     "(it holds the lock on %s)", dir, lock);
        else
            snprintf(err, errlen, "%s: %s", lock, strerror(e));
        free(lock);
        goto fail;
    }
    /* The lock file names its holder, for the operator who finds it. */
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (ftruncate(ck->lock_fd, 0) != 0 || pwrite(ck->lock_fd, pid, (size_t)n, 0) != n)
        pid[0] = 0;     /* informational only: the flock is what counts */
    free(lock);
    rc = read_metadata(ck, err, errlen);
    if (rc == INGEST_ENOENT) {
        *fresh = 1;
        rc = write_metadata(ck, name, err, errlen);
    }
    if (rc < 0)
        goto fail;
    ck->last_planned = highest(ck->offsets_dir);
    ck->last_committed = highest(ck->commits_dir);
    *out = ck;
    return 0;
fail:
    if (rc == INGEST_ENOMEM)
        snprintf(err, errlen, "out of memory");
    ingest_ckpt_close(ck);
    return rc;
}

/* Removes the entries of a WAL directory numbered below `below` (INT64_MAX:
 * every entry, temp files of a crashed write included). */
static void prune(const char *dir, int64_t below)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char *end;
        long long v = strtoll(e->d_name, &end, 10);
        int numbered = e->d_name[0] >= '0' && e->d_name[0] <= '9' && !*end;
        int drop = below == INT64_MAX
                       ? strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0
                       : numbered && v < below;
        if (!drop)
            continue;
        char *p = ingest_path_join(dir, e->d_name);
        if (p)
            unlink(p);
        free(p);
    }
    if (d)
        closedir(d);
}

int ingest_ckpt_reset(struct ingest_ckpt *ck, char *err, size_t errlen)
{
    prune(ck->offsets_dir, INT64_MAX);
    prune(ck->commits_dir, INT64_MAX);
    static const char *const files[] = { "files.db", "files.db-wal", "files.db-shm" };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *p = ingest_path_join(ck->dir, files[i]);
        if (p)
            unlink(p);
        free(p);
    }
    ck->last_planned = ck->last_committed = -1;
    return write_metadata(ck, ck->name, err, errlen);
}

const char *ingest_ckpt_id(const struct ingest_ckpt *ck)
{
    return ck->id;
}

const char *ingest_ckpt_dir(const struct ingest_ckpt *ck)
{
    return ck->dir;
}

int64_t ingest_ckpt_last_planned(const struct ingest_ckpt *ck)
{
    return ck->last_planned;
}

int64_t ingest_ckpt_last_committed(const struct ingest_ckpt *ck)
{
    return ck->last_committed;
}

int ingest_ckpt_write_offsets(struct ingest_ckpt *ck, const struct ingest_ckpt_batch *b,
                              char *err, size_t errlen)
{
    struct ingest_buf t = INGEST_BUF_INIT;
    char name[32];
    ingest_buf_printf(&t, "{\"batch\":%" PRId64 ",\"planned_ms\":%" PRId64 ",\"ranges\":[",
                      b->id, b->planned_ms);
    for (size_t i = 0; i < b->nranges; i++) {
        const struct ingest_ckpt_range *r = &b->ranges[i];
        ingest_buf_puts(&t, i ? ",\n{\"path\":" : "\n{\"path\":");
        ingest_buf_json_str(&t, r->path);
        ingest_buf_printf(&t, ",\"start\":%" PRId64 ",\"end\":%" PRId64 ",\"first_line\":%" PRId64
                              ",\"lines\":%" PRId64 ",\"size\":%" PRId64 ",\"mtime_ns\":%" PRId64
                              ",\"inode\":%" PRIu64 "}", r->start, r->end, r->first_line, r->lines,
                          r->size, r->mtime_ns, r->inode);
    }
    ingest_buf_puts(&t, "]}\n");
    snprintf(name, sizeof name, "%" PRId64, b->id);
    int rc = t.oom ? INGEST_ENOMEM : dl_publish(ck->offsets_dir, name, t.data, t.len, 0, err,
                                                errlen);
    ingest_buf_free(&t);
    if (rc == 0 && b->id > ck->last_planned)
        ck->last_planned = b->id;
    return rc;
}

static int get_i64(const struct ingest_json *o, const char *k, int64_t *v)
{
    return ingest_json_int64(ingest_json_get(o, k), v);
}

int ingest_ckpt_read_offsets(struct ingest_ckpt *ck, int64_t n, struct ingest_ckpt_batch *b,
                             char *err, size_t errlen)
{
    char name[32], *path, *text = NULL;
    size_t len;
    struct ingest_json_doc doc = { 0 };
    memset(b, 0, sizeof *b);
    snprintf(name, sizeof name, "%" PRId64, n);
    if (!(path = ingest_path_join(ck->offsets_dir, name)))
        return INGEST_ENOMEM;
    int rc = dl_read_file(path, &text, &len);
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", path, ingest_strerror(rc));
        goto out;
    }
    char jerr[128];
    rc = INGEST_ECORRUPT;
    if (ingest_json_parse(text, len, &doc, jerr, sizeof jerr) < 0) {
        snprintf(err, errlen, "%s: %s", path, jerr);
        goto out;
    }
    const struct ingest_json *ranges = ingest_json_get(doc.root, "ranges");
    if (get_i64(doc.root, "batch", &b->id) < 0 || b->id != n || !ranges ||
        ranges->type != INGEST_JSON_ARRAY) {
        snprintf(err, errlen, "%s: not a batch plan", path);
        goto out;
    }
    get_i64(doc.root, "planned_ms", &b->planned_ms);
    b->ranges = calloc(ranges->count + 1, sizeof *b->ranges);
    if (!b->ranges) {
        rc = INGEST_ENOMEM;
        goto out;
    }
    for (const struct ingest_json *r = ranges->child; r; r = r->next) {
        struct ingest_ckpt_range *x = &b->ranges[b->nranges];
        const char *p = ingest_json_string(ingest_json_get(r, "path"));
        if (!p || get_i64(r, "start", &x->start) < 0 || get_i64(r, "end", &x->end) < 0 ||
            get_i64(r, "first_line", &x->first_line) < 0 || get_i64(r, "size", &x->size) < 0 ||
            get_i64(r, "mtime_ns", &x->mtime_ns) < 0 || x->start < 0 || x->end < x->start) {
            snprintf(err, errlen, "%s: range %zu is malformed", path, b->nranges);
            goto out;
        }
        if (get_i64(r, "lines", &x->lines) < 0)
            x->lines = -1;
        const struct ingest_json *in = ingest_json_get(r, "inode");
        if (in && in->type == INGEST_JSON_NUMBER)
            x->inode = strtoull(in->str, NULL, 10);
        if (!(x->path = strdup(p))) {
            rc = INGEST_ENOMEM;
            goto out;
        }
        b->nranges++;
    }
    rc = 0;
out:
    if (rc < 0)
        ingest_ckpt_batch_free(b);
    ingest_json_doc_free(&doc);
    free(text);
    free(path);
    return rc;
}

int ingest_ckpt_write_commit(struct ingest_ckpt *ck, int64_t n, int64_t version, char *err,
                             size_t errlen)
{
    char name[32], text[160];
    int len = snprintf(text, sizeof text, "{\"batch\":%" PRId64 ",\"version\":%" PRId64
                                          ",\"committed_ms\":%" PRId64 "}\n",
                       n, version, dl_now_ms(0));
    snprintf(name, sizeof name, "%" PRId64, n);
    int rc = dl_publish(ck->commits_dir, name, text, (size_t)len, 0, err, errlen);
    if (rc < 0)
        return rc;
    if (n > ck->last_committed)
        ck->last_committed = n;
    /* Keep about the last 100 entries: enough to debug, bounded on disk.
     * Pruning every 10 batches keeps the directory scans rare. */
    if (n % 10 == 0 && n >= KEEP_ENTRIES) {
        prune(ck->commits_dir, n - KEEP_ENTRIES + 1);
        prune(ck->offsets_dir, n - KEEP_ENTRIES + 1);
    }
    return 0;
}

int ingest_ckpt_read_commit(struct ingest_ckpt *ck, int64_t n, int64_t *version)
{
    char name[32], *path, *text;
    size_t len;
    snprintf(name, sizeof name, "%" PRId64, n);
    if (!(path = ingest_path_join(ck->commits_dir, name)))
        return INGEST_ENOMEM;
    int rc = dl_read_file(path, &text, &len);
    free(path);
    if (rc < 0)
        return rc;
    struct ingest_json_doc doc = { 0 };
    char jerr[64];
    rc = INGEST_ECORRUPT;
    if (ingest_json_parse(text, len, &doc, jerr, sizeof jerr) == 0 &&
        get_i64(doc.root, "version", version) == 0)
        rc = 0;
    ingest_json_doc_free(&doc);
    free(text);
    return rc;
}

void ingest_ckpt_batch_free(struct ingest_ckpt_batch *b)
{
    for (size_t i = 0; i < b->nranges; i++)
        free(b->ranges[i].path);
    free(b->ranges);
    memset(b, 0, sizeof *b);
}
