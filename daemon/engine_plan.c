/*
 * engine_plan.c - cutting pending files into one batch's byte ranges.
 *
 * Files are taken in discovery order, each from its resume offset, while
 * the batch stays within max_batch_bytes of input and max_batch_records
 * lines.  Ranges end at a line boundary (or at the end of the file, whose
 * last line may lack its newline), so a file larger than a batch spans
 * several; one line longer than the whole budget still goes whole into a
 * batch of its own, since a record cannot be split.  Counting lines needs
 * the data, so the planner reads each range once (memchr at memory speed;
 * the decoder's second read then comes from the page cache).
 *
 * The plan is written to offsets/N before the function returns: from then
 * on the batch is fixed and a crash replays exactly these ranges.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ingestd/error.h"
#include "engine_int.h"

#define CHUNK (1 << 20)

double eng_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int eng_skip_add(struct eng_job *j, const char *path, const char *fmt, ...)
{
    if (j->nskips == j->skipcap) {
        size_t ncap = j->skipcap ? j->skipcap * 2 : 8;
        struct eng_skip *ns = realloc(j->skips, ncap * sizeof *ns);
        if (!ns)
            return INGEST_ENOMEM;
        j->skips = ns;
        j->skipcap = ncap;
    }
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    struct eng_skip *s = &j->skips[j->nskips];
    s->path = strdup(path);
    s->reason = strdup(reason);
    if (!s->path || !s->reason) {
        free(s->path);
        free(s->reason);
        return INGEST_ENOMEM;
    }
    j->nskips++;
    return 0;
}

static int add_range(struct ingest_ckpt_batch *b, size_t *cap, const struct eng_cand *c,
                     int64_t start, int64_t end, int64_t line, const struct stat *st)
{
    if (b->nranges == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        struct ingest_ckpt_range *nr = realloc(b->ranges, ncap * sizeof *nr);
        if (!nr)
            return INGEST_ENOMEM;
        b->ranges = nr;
        *cap = ncap;
    }
    struct ingest_ckpt_range *r = &b->ranges[b->nranges];
    if (!(r->path = strdup(c->path)))
        return INGEST_ENOMEM;
    r->start = start;
    r->end = end;
    r->first_line = line;
    r->size = (int64_t)st->st_size;
    r->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
    r->inode = (uint64_t)st->st_ino;
    b->nranges++;
    return 0;
}

/*
 * Scans fd from start: *end becomes the cut point within `bytes` bytes and
 * `lines` newlines (the byte after the last newline that fits, or eof),
 * *nlines the lines taken.  A first line longer than the budget is taken
 * whole when `must_take` (an empty batch), else nothing is taken.
 */
static int scan_range(int fd, int64_t start, int64_t eof, int64_t bytes, int64_t lines,
                      int must_take, char *buf, int64_t *end, int64_t *nlines)
{
    int64_t pos = start, cut = start, taken = 0;
    while (pos < eof) {
        size_t want = (size_t)(eof - pos < CHUNK ? eof - pos : CHUNK);
        ssize_t n = pread(fd, buf, want, pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return ingest_err_from_errno(errno);
        if (n == 0)
            break;              /* truncated under us: plan what exists */
        const char *p = buf, *lim = buf + n;
        while (p < lim) {
            const char *nl = memchr(p, '\n', (size_t)(lim - p));
            if (!nl)
                break;
            int64_t after = pos + (nl - buf) + 1;
            if ((after - start > bytes || taken + 1 > lines) && !(must_take && taken == 0)) {
                *end = cut;
                *nlines = taken;
                return 0;
            }
            cut = after;
            taken++;
            p = nl + 1;
        }
        pos += n;
    }
    /* The rest up to eof is a last line without a newline. */
    if (cut < pos) {
        if ((pos - start <= bytes && taken + 1 <= lines) || (must_take && taken == 0)) {
            cut = pos;
            taken++;
        }
    }
    *end = cut;
    *nlines = taken;
    return 0;
}

void eng_plan_work(struct eng_job *j, const struct eng_settings *s)
{
    double t0 = eng_now();
    size_t cap = 0;
    int64_t bytes = 0, lines = 0;
    char *buf = malloc(CHUNK);
    j->plan.id = j->id;
    j->plan.planned_ms = (int64_t)time(NULL) * 1000;
    j->rc = 0;
    if (!buf) {
        j->rc = INGEST_ENOMEM;
        snprintf(j->err, sizeof j->err, "out of memory planning batch %lld", (long long)j->id);
        return;
    }
    for (size_t i = 0; i < j->ncands && j->rc == 0; i++) {
        const struct eng_cand *c = &j->cands[i];
        if (bytes >= s->max_bytes || lines >= s->max_records)
            break;
        char path[8192];
        size_t plen = strlen(c->path);
        if ((plen > 3 && strcmp(c->path + plen - 3, ".gz") == 0) ||
            (plen > 4 && strcmp(c->path + plen - 4, ".zst") == 0)) {
            j->rc = eng_skip_add(j, c->path, "compressed input is not supported yet");
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", s->root, c->path);
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0) {
            int e = errno;
            if (fd >= 0)
                close(fd);
            j->rc = eng_skip_add(j, c->path, e == ENOENT ? "deleted before it was read"
                                                          : "cannot read: %s", strerror(e));
            continue;
        }
        if ((uint64_t)st.st_ino != c->inode || (int64_t)st.st_size < c->offset) {
            close(fd);
            j->rc = eng_skip_add(j, c->path, "replaced or truncated before it was read "
                                 "(size %lld, %lld bytes already ingested)",
                                 (long long)st.st_size, (long long)c->offset);
            continue;
        }
        int64_t end = c->offset, n = 0;
        int rc = scan_range(fd, c->offset, (int64_t)st.st_size, s->max_bytes - bytes,
                            s->max_records - lines, j->plan.nranges == 0, buf, &end, &n);
        close(fd);
        if (rc < 0) {
            j->rc = eng_skip_add(j, c->path, "read error: %s", ingest_strerror(rc));
            continue;
        }
        if (end == c->offset && (int64_t)st.st_size > c->offset)
            break;              /* the next line does not fit: next batch */
        j->rc = add_range(&j->plan, &cap, c, c->offset, end, c->line, &st);
        if (j->rc == 0)
            j->plan.ranges[j->plan.nranges - 1].lines = n;
        bytes += end - c->offset;
        lines += n;
    }
    free(buf);
    if (j->rc < 0) {
        snprintf(j->err, sizeof j->err, "out of memory planning batch %lld", (long long)j->id);
        return;
    }
    if (j->plan.nranges > 0) {
        j->rc = ingest_ckpt_write_offsets(j->ckpt, &j->plan, j->err, sizeof j->err);
    }
    j->ph.plan = eng_now() - t0;
}
