/*
 * dirwatch.c - finding complete files in a landing directory (see dirwatch.h).
 *
 * Events come from one raw inotify fd polled by the loop (uv_fs_event hides
 * IN_MOVED_TO vs IN_CLOSE_WRITE, overflows and new directories).  A map
 * wd -> relative directory path turns an event into a relpath; listings on
 * a worker add watches too, so the map is the one structure shared between
 * threads, under `lock`.  Holding the lock across inotify_add_watch and the
 * insert means the loop never sees an event for a wd it cannot resolve.
 * IN_MOVED_FROM is watched too: a directory moved away loses its watches
 * (its new place, if inside the root, is watched and listed afresh), and a
 * file moved away leaves the unsettled table.
 *
 * Files not renamed into place wait in the unsettled table (relpath ->
 * size, mtime, inode, last change on the monotonic clock) until nothing
 * changed for settle_ms and their mtime (wall clock) is that old too; one
 * timer checks the table, only while it is non-empty, and stats a file only
 * once it is due, so a busy writer costs a hash lookup per event.
 *
 * A listing ("walk") is a depth-first walk with a stack of open DIR*s kept
 * in the walk object; each uv_queue_work item walks until it has collected
 * CHUNK_FILES matches and returns them to the loop, which delivers them
 * and queues the next item.  So one work item is in flight at a time,
 * memory is bounded by the chunk and the tree depth, and the loop only
 * ever spends one chunk's callbacks at a time.  The walk adds a watch to
 * every directory before reading it, which is also how watches are set up
 * at start and repaired after anything went wrong.  New directories found
 * by inotify are pushed onto the running walk at a chunk boundary, or
 * start a small walk of their own.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ingestd/dirwatch.h"
#include "ingestd/error.h"

#define CHUNK_FILES     1000    /* matches per work item */
#define CHUNK_ENTRIES   20000   /* directory entries per work item, matching or not */
#define TICK_MIN_MS     10
#define TICK_MAX_MS     250
#define READS_PER_POLL  16      /* inotify reads per poll callback; the poll is level-triggered */
#define WARN_EVERY_MS   60000   /* rate limit of warnings that can repeat */
#define RECENT_ROOTS    16      /* new-directory dedup looks this far back */
#define FUTURE_NS       1000000000LL /* a mtime further ahead than this says nothing */
#define NS_PER_MS       1000000LL

#define DIR_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_MODIFY | IN_CREATE | \
                  IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

/* Why a full listing runs; compared by pointer. */
static const char REASON_START[] = "start";
static const char REASON_WATCH[] = "watch";
static const char REASON_BACKFILL[] = "backfill";
static const char REASON_OVERFLOW[] = "overflow";
static const char REASON_RESCAN[] = "rescan";
static const char REASON_NEWDIR[] = "new directory";

/* --- a small chained hash table, intrusive ------------------------------------ */

struct hnode {
    struct hnode *next;
    uint64_t hash;
};

struct htab {
    struct hnode **b;
    size_t nb;                  /* power of two, or 0 */
    size_t n;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;  /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t hash_int(int v)
{
    return (uint64_t)(unsigned)v * 0x9E3779B97F4A7C15ULL;
}

static struct hnode *ht_first(const struct htab *t, uint64_t h)
{
    return t->nb ? t->b[h & (t->nb - 1)] : NULL;
}

static int ht_grow(struct htab *t)
{
    size_t nb = t->nb ? t->nb * 2 : 64;
    struct hnode **b = calloc(nb, sizeof *b);
    if (!b)
        return INGEST_ENOMEM;
    for (size_t i = 0; i < t->nb; i++) {
        struct hnode *next;
        for (struct hnode *n = t->b[i]; n; n = next) {
            next = n->next;
            n->next = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
        }
    }
    free(t->b);
    t->b = b;
    t->nb = nb;
    return 0;
}

/* Links n (hash set; the caller checked the key is absent).  A failed grow
 * only lengthens chains; it fails only when there is no bucket at all. */
static int ht_insert(struct htab *t, struct hnode *n)
{
    if (t->n >= t->nb && ht_grow(t) != 0 && t->nb == 0)
        return INGEST_ENOMEM;
    struct hnode **slot = &t->b[n->hash & (t->nb - 1)];
    n->next = *slot;
    *slot = n;
    t->n++;
    return 0;
}

static void ht_unlink(struct htab *t, struct hnode *n)
{
    for (struct hnode **p = &t->b[n->hash & (t->nb - 1)]; *p; p = &(*p)->next) {
        if (*p == n) {
            *p = n->next;
            t->n--;
            return;
        }
    }
}

/* Frees every node (each one malloc'd block) and the buckets. */
static void ht_free(struct htab *t)
{
    for (size_t i = 0; i < t->nb; i++) {
        struct hnode *next;
        for (struct hnode *n = t->b[i]; n; n = next) {
            next = n->next;
            free(n);
        }
    }
    free(t->b);
    memset(t, 0, sizeof *t);
}

/* --- the watcher ------------------------------------------------------------------ */

struct watch {                  /* wd -> directory, in `watches` */
    struct hnode h;
    int wd;
    uint64_t ino;               /* to tell a directory moved away from one moved back */
    char rel[];
};

struct pend {                   /* an unsettled file, in `pend` */
    struct hnode h;
    int64_t size, mtime_ns;
    uint64_t inode;
    uint64_t seen_ms;           /* last change seen, uv_now() */
    int statted;                /* size, mtime_ns and inode are known */
    char rel[];
};

struct ratelimit {
    uint64_t next_ms;
    uint64_t suppressed;
};

#define F_REPORT 1u             /* files under this frame are wanted */
#define F_COUNT  2u             /* ... and count toward the full listing's total */

struct frame {
    DIR *dir;                   /* NULL: a root not opened yet */
    char *rel;
    unsigned flags;
};

struct item {
    size_t rel_off;             /* into walk.names */
    int64_t size, mtime_ns;
    uint64_t inode;
};

struct walk {
    struct ingest_dirwatch *w;
    uv_work_t req;
    const char *reason;
    int full;                   /* from the root */
    int report;                 /* the root frame's files are wanted */
    struct frame *stack;
    size_t depth, cap;
    struct item items[CHUNK_FILES];
    size_t n_items;
    char *names;
    size_t names_len, names_cap;
    uint64_t n_found, n_dirs, n_err;
    int err;                    /* the first error (errno), at err_path */
    char err_path[512];
    uint64_t started_ms;
};

struct ingest_dirwatch {
    uv_loop_t *loop;
    char *root, *pattern, *pipeline;
    int recursive;
    int64_t settle_ms, backfill_ms;
    const struct ingest_log *log;
    ingest_dirwatch_ready_fn ready;
    ingest_dirwatch_known_fn known;
    ingest_dirwatch_listed_fn listed;
    void *ud;

    int ifd;
    uv_poll_t poll;
    uv_timer_t settle_timer, backfill_timer;
    int handles_init, open_handles;

    uv_mutex_t lock;            /* guards `watches` */
    int lock_init;
    struct htab watches;
    struct htab pend;           /* loop thread only */

    struct walk *walk;          /* the walk, while one runs */
    int walk_busy;              /* its work item is queued or running */
    const char *full_pending;   /* a full listing to start after it, and why */
    char **roots;               /* new directories waiting for a walk */
    size_t n_roots, cap_roots;

    atomic_int cancel;          /* stop(): workers return at once */
    atomic_int enospc_warned;
    int drop_events;            /* test hook */
    int stopping;
    void (*closed)(void *ud);
    void *closed_ud;
    struct ratelimit rl_overflow, rl_read, rl_oom;
};

void ingest_dirwatch_test_drop_events(struct ingest_dirwatch *w, int on);

/* --- small helpers ----------------------------------------------------------------- */

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t st_mtime_ns(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

/* 1 when a warning may be logged now; *suppressed gets how many were not. */
static int ratelimit_ok(struct ratelimit *rl, uint64_t now_ms, uint64_t *suppressed)
{
    if (now_ms < rl->next_ms) {
        rl->suppressed++;
        return 0;
    }
    *suppressed = rl->suppressed;
    rl->suppressed = 0;
    rl->next_ms = now_ms + WARN_EVERY_MS;
    return 1;
}

/* Hidden, marker (_SUCCESS) and temporary names are never data. */
static int ignored_name(const char *name)
{
    static const char *const tmp_suffixes[] = { ".tmp", ".temp", "~", ".swp", ".part",
                                                ".crdownload" };
    if (name[0] == '.' || name[0] == '_')
        return 1;
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof tmp_suffixes / sizeof *tmp_suffixes; i++) {
        size_t k = strlen(tmp_suffixes[i]);
        if (n >= k && strcasecmp(name + n - k, tmp_suffixes[i]) == 0)
            return 1;
    }
    return 0;
}

static int file_wanted(const struct ingest_dirwatch *w, const char *name)
{
    return !ignored_name(name) && fnmatch(w->pattern, name, 0) == 0;
}

static int dir_wanted(const char *name)
{
    return name[0] != '.' && name[0] != '_';
}

/* root/rel into out (root itself for ""); -1 when it does not fit. */
static int abs_path(const struct ingest_dirwatch *w, const char *rel, char *out, size_t len)
{
    int n = rel[0] ? snprintf(out, len, "%s/%s", w->root, rel) : snprintf(out, len, "%s", w->root);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* dir/name, or name in the root; -1 when it does not fit. */
static int join_rel(const char *dir, const char *name, char *out, size_t len)
{
    int n = snprintf(out, len, "%s%s%s", dir, dir[0] ? "/" : "", name);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

static void report(struct ingest_dirwatch *w, const char *rel, const struct stat *st, int renamed)
{
    struct ingest_dirwatch_file f = {
        .relpath = rel, .size = st->st_size, .mtime_ns = st_mtime_ns(st),
        .inode = st->st_ino, .renamed = renamed,
    };
    w->ready(w->ud, &f);
}

static void warn_oom(struct ingest_dirwatch *w, const char *rel)
{
    uint64_t suppressed;
    if (ratelimit_ok(&w->rl_oom, uv_now(w->loop), &suppressed))
        INGEST_LOG_WARN(w->log, w->pipeline, "out of memory; file left to the next listing",
                        INGEST_KV_STR("path", rel), INGEST_KV_UINT("suppressed", suppressed));
}

/* --- the watch map (any thread, under lock) -------------------------------------- */

static struct watch *watch_find(const struct ingest_dirwatch *w, int wd)
{
    uint64_t h = hash_int(wd);
    for (struct hnode *n = ht_first(&w->watches, h); n; n = n->next)
        if (((struct watch *)n)->wd == wd)
            return (struct watch *)n;
    return NULL;
}

/* Records wd -> rel; a wd already known (inotify returns the existing wd for
 * a directory watched twice) gets the new path. */
static int watch_put(struct ingest_dirwatch *w, int wd, uint64_t ino, const char *rel)
{
    struct watch *old = watch_find(w, wd);
    if (old && strcmp(old->rel, rel) == 0) {
        old->ino = ino;
        return 0;
    }
    size_t len = strlen(rel);
    struct watch *wt = malloc(sizeof *wt + len + 1);
    if (!wt)
        return INGEST_ENOMEM;
    if (old) {
        ht_unlink(&w->watches, &old->h);
        free(old);
    }
    wt->wd = wd;
    wt->ino = ino;
    wt->h.hash = hash_int(wd);
    memcpy(wt->rel, rel, len + 1);
    if (ht_insert(&w->watches, &wt->h) != 0) {
        free(wt);
        return INGEST_ENOMEM;
    }
    return 0;
}

/* Logged once per watcher: past the limit, directories are found by
 * listings only, and a log line per directory would flood. */
static void warn_watch_limit(struct ingest_dirwatch *w, const char *rel)
{
    if (!atomic_exchange(&w->enospc_warned, 1))
        INGEST_LOG_WARN(w->log, w->pipeline,
                        "inotify watch limit reached; directories without a watch are found by "
                        "listings only (raise sysctl fs.inotify.max_user_watches)",
                        INGEST_KV_STR("root", w->root), INGEST_KV_STR("dir", rel));
}

/* Adds (or refreshes) the watch on directory rel (at abs, inode ino) and
 * records it.  Any thread.  0 or a negative INGEST_E* code; *errnum gets
 * the errno of a failed inotify_add_watch. */
static int watch_dir(struct ingest_dirwatch *w, const char *rel, const char *abs, uint64_t ino,
                     int *errnum)
{
    uint32_t mask = DIR_MASK | (rel[0] ? IN_DONT_FOLLOW : 0); /* the root may be a symlink */
    int rc;
    *errnum = 0;
    uv_mutex_lock(&w->lock);
    int wd = inotify_add_watch(w->ifd, abs, mask);
    if (wd < 0) {
        *errnum = errno;
        rc = ingest_err_from_errno(errno);
    } else {
        rc = watch_put(w, wd, ino, rel);
    }
    uv_mutex_unlock(&w->lock);
    if (*errnum == ENOSPC)
        warn_watch_limit(w, rel);
    return rc;
}

/* Drops the watches on rel and everything below it (moved away).  Loop. */
static void watch_forget_tree(struct ingest_dirwatch *w, const char *rel)
{
    size_t len = strlen(rel);
    uv_mutex_lock(&w->lock);
    for (size_t i = 0; i < w->watches.nb; i++) {
        struct hnode **p = &w->watches.b[i];
        while (*p) {
            struct watch *wt = (struct watch *)*p;
            if (strncmp(wt->rel, rel, len) == 0 &&
                (len == 0 || wt->rel[len] == '\0' || wt->rel[len] == '/')) {
                inotify_rm_watch(w->ifd, wt->wd);
                *p = wt->h.next;
                w->watches.n--;
                free(wt);
            } else {
                p = &(*p)->next;
            }
        }
    }
    uv_mutex_unlock(&w->lock);
}

/* --- the unsettled table (loop thread) -------------------------------------------- */

static void on_settle_tick(uv_timer_t *t);

static struct pend *pend_find(const struct ingest_dirwatch *w, const char *rel, uint64_t h)
{
    for (struct hnode *n = ht_first(&w->pend, h); n; n = n->next)
        if (n->hash == h && strcmp(((struct pend *)n)->rel, rel) == 0)
            return (struct pend *)n;
    return NULL;
}

static void settle_arm(struct ingest_dirwatch *w)
{
    if (uv_is_active((uv_handle_t *)&w->settle_timer))
        return;
    int64_t tick = w->settle_ms / 2;
    tick = tick < TICK_MIN_MS ? TICK_MIN_MS : tick > TICK_MAX_MS ? TICK_MAX_MS : tick;
    uv_timer_start(&w->settle_timer, on_settle_tick, (uint64_t)tick, (uint64_t)tick);
}

/* The entry for rel, created (seen now, not statted) when absent; NULL when
 * out of memory. */
static struct pend *pend_get(struct ingest_dirwatch *w, const char *rel)
{
    uint64_t h = hash_str(rel);
    struct pend *p = pend_find(w, rel, h);
    if (p)
        return p;
    size_t len = strlen(rel);
    p = calloc(1, sizeof *p + len + 1);
    if (!p)
        return NULL;
    memcpy(p->rel, rel, len + 1);
    p->h.hash = h;
    p->seen_ms = uv_now(w->loop);
    if (ht_insert(&w->pend, &p->h) != 0) {
        free(p);
        return NULL;
    }
    settle_arm(w);
    return p;
}

static void pend_drop(struct ingest_dirwatch *w, const char *rel)
{
    struct pend *p = pend_find(w, rel, hash_str(rel));
    if (p) {
        ht_unlink(&w->pend, &p->h);
        free(p);
    }
}

/* A write seen for rel: it is unsettled from now on. */
static void pend_touch(struct ingest_dirwatch *w, const char *rel)
{
    struct pend *p = pend_get(w, rel);
    if (!p)
        warn_oom(w, rel);
    else
        p->seen_ms = uv_now(w->loop);
}

/* One unsettled file: 1 ready (st filled), 0 not yet, -1 gone.  It is
 * stat'ed only once nothing was seen for settle_ms; then it must still
 * match what the last stat saw, and its mtime must be settle_ms old too
 * (this catches writes whose events were lost).  A mtime far in the future
 * (a skewed clock, a copied timestamp) says nothing, so it does not hold
 * the file back forever. */
static int pend_check(struct ingest_dirwatch *w, struct pend *p, uint64_t now_ms, int64_t wall,
                      struct stat *st)
{
    char abs[PATH_MAX];
    if (now_ms - p->seen_ms < (uint64_t)w->settle_ms)
        return 0;
    if (abs_path(w, p->rel, abs, sizeof abs) != 0 || lstat(abs, st) != 0 || !S_ISREG(st->st_mode))
        return -1;
    int64_t mt = st_mtime_ns(st);
    int changed = p->statted && (p->size != st->st_size || p->mtime_ns != mt ||
                                 p->inode != (uint64_t)st->st_ino);
    p->statted = 1;
    p->size = st->st_size;
    p->mtime_ns = mt;
    p->inode = st->st_ino;
    if (changed) {
        p->seen_ms = now_ms;
        return 0;
    }
    int64_t age = wall - mt;
    return age >= w->settle_ms * NS_PER_MS || age < -FUTURE_NS;
}

static void on_settle_tick(uv_timer_t *t)
{
    struct ingest_dirwatch *w = t->data;
    uint64_t now = uv_now(w->loop);
    int64_t wall = wall_ns();
    for (size_t i = 0; i < w->pend.nb; i++) {
        struct hnode **pp = &w->pend.b[i];
        while (*pp) {
            struct pend *p = (struct pend *)*pp;
            struct stat st;
            int r = pend_check(w, p, now, wall, &st);
            if (r == 0) {
                pp = &p->h.next;
                continue;
            }
            *pp = p->h.next;
            w->pend.n--;
            if (r > 0)
                report(w, p->rel, &st, 0);
            free(p);
            if (w->stopping)    /* stopped from the callback */
                return;
        }
    }
    if (w->pend.n == 0)
        uv_timer_stop(&w->settle_timer);
}

/* --- walks: the worker side ------------------------------------------------------ */

static void note_error(struct walk *wk, const char *rel, const char *name, int errnum)
{
    if (wk->n_err++ == 0) {
        wk->err = errnum;
        snprintf(wk->err_path, sizeof wk->err_path, "%s%s%s", rel,
                 rel[0] && name ? "/" : "", name ? name : "");
    }
}

/* Takes dir (may be NULL: opened when reached) and rel. */
static int frame_push(struct walk *wk, DIR *dir, char *rel, unsigned flags)
{
    if (wk->depth == wk->cap) {
        size_t cap = wk->cap ? wk->cap * 2 : 16;
        struct frame *s = realloc(wk->stack, cap * sizeof *s);
        if (!s) {
            note_error(wk, rel, NULL, ENOMEM);
            if (dir)
                closedir(dir);
            free(rel);
            return INGEST_ENOMEM;
        }
        wk->stack = s;
        wk->cap = cap;
    }
    wk->stack[wk->depth++] = (struct frame){ .dir = dir, .rel = rel, .flags = flags };
    return 0;
}

static void frame_pop(struct walk *wk)
{
    struct frame *f = &wk->stack[--wk->depth];
    if (f->dir)
        closedir(f->dir);
    free(f->rel);
}

/* Opens a root frame (the landing directory, or a new directory), watching
 * it first so nothing lands unseen between the two.  Worker. */
static int frame_open(struct walk *wk, struct frame *f)
{
    struct ingest_dirwatch *w = wk->w;
    char abs[PATH_MAX];
    struct stat st;
    int errnum;
    if (abs_path(w, f->rel, abs, sizeof abs) != 0) {
        note_error(wk, f->rel, NULL, ENAMETOOLONG);
        return -1;
    }
    /* The root may be a symlink; nothing below it is followed. */
    int fd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (f->rel[0] ? O_NOFOLLOW : 0));
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (!(errno == ENOENT && f->rel[0]))    /* a new directory may be gone again */
            note_error(wk, f->rel, NULL, errno);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    watch_dir(w, f->rel, abs, st.st_ino, &errnum);
    f->dir = fdopendir(fd);
    if (!f->dir) {
        note_error(wk, f->rel, NULL, errno);
        close(fd);
        return -1;
    }
    wk->n_dirs++;
    return 0;
}

/* A subdirectory: watch it, then push it so it is read next. */
static void descend(struct walk *wk, struct frame *f, const char *name, const struct stat *st)
{
    struct ingest_dirwatch *w = wk->w;
    size_t len = strlen(f->rel) + strlen(name) + 2;
    char abs[PATH_MAX];
    char *rel = malloc(len);
    int errnum;
    if (!rel) {
        note_error(wk, f->rel, name, ENOMEM);
        return;
    }
    join_rel(f->rel, name, rel, len);
    if (abs_path(w, rel, abs, sizeof abs) != 0) {
        note_error(wk, rel, NULL, ENAMETOOLONG);
        free(rel);
        return;
    }
    watch_dir(w, rel, abs, st->st_ino, &errnum);
    int fd = openat(dirfd(f->dir), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (!dir) {
        if (errno != ENOENT)
            note_error(wk, rel, NULL, errno);
        if (fd >= 0)
            close(fd);
        free(rel);
        return;
    }
    wk->n_dirs++;
    frame_push(wk, dir, rel, f->flags);  /* f is stale after this */
}

/* A matching regular file: into the chunk unless `known` says otherwise. */
static void add_file(struct walk *wk, const struct frame *f, const char *name,
                     const struct stat *st)
{
    struct ingest_dirwatch *w = wk->w;
    size_t need = strlen(f->rel) + strlen(name) + 2;
    if (wk->names_len + need > wk->names_cap) {
        size_t cap = wk->names_cap ? wk->names_cap * 2 : 64 * 1024;
        while (cap < wk->names_len + need)
            cap *= 2;
        char *p = realloc(wk->names, cap);
        if (!p) {
            note_error(wk, f->rel, name, ENOMEM);
            return;
        }
        wk->names = p;
        wk->names_cap = cap;
    }
    char *rel = wk->names + wk->names_len;
    join_rel(f->rel, name, rel, need);
    if (f->flags & F_COUNT)
        wk->n_found++;
    struct ingest_dirwatch_file file = {
        .relpath = rel, .size = st->st_size, .mtime_ns = st_mtime_ns(st), .inode = st->st_ino,
    };
    if (w->known && w->known(w->ud, &file))
        return;
    wk->items[wk->n_items++] = (struct item){
        .rel_off = wk->names_len, .size = file.size, .mtime_ns = file.mtime_ns,
        .inode = file.inode,
    };
    wk->names_len += need;
}

/* One directory entry.  Only what may matter is stat'ed: directories (when
 * recursive) and wanted names; d_type saves the stat for the rest. */
static void visit(struct walk *wk, struct frame *f, const struct dirent *de)
{
    struct ingest_dirwatch *w = wk->w;
    const char *name = de->d_name;
    struct stat st;
    if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
        return;
    int want_file = (f->flags & F_REPORT) && file_wanted(w, name);
    int want_dir = w->recursive && dir_wanted(name);
    int worth;
    switch (de->d_type) {
    case DT_DIR:     worth = want_dir; break;
    case DT_REG:     worth = want_file; break;
    case DT_UNKNOWN: worth = want_dir || want_file; break;
    default:         worth = 0; break;         /* symlinks, fifos, sockets, devices */
    }
    if (!worth)
        return;
    if (fstatat(dirfd(f->dir), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno != ENOENT)
            note_error(wk, f->rel, name, errno);
        return;
    }
    if (S_ISDIR(st.st_mode) && want_dir)
        descend(wk, f, name, &st);
    else if (S_ISREG(st.st_mode) && want_file)
        add_file(wk, f, name, &st);
}

/* Worker: walks until a chunk is full, the walk is done, or stop(). */
static void walk_work(uv_work_t *req)
{
    struct walk *wk = req->data;
    size_t entries = 0;
    wk->n_items = 0;
    wk->names_len = 0;
    while (wk->depth && wk->n_items < CHUNK_FILES && entries < CHUNK_ENTRIES &&
           !atomic_load(&wk->w->cancel)) {
        struct frame *f = &wk->stack[wk->depth - 1];
        if (!f->dir && frame_open(wk, f) != 0) {
            frame_pop(wk);
            continue;
        }
        errno = 0;
        struct dirent *de = readdir(f->dir);
        if (!de) {
            if (errno)
                note_error(wk, f->rel, NULL, errno);
            frame_pop(wk);
            continue;
        }
        entries++;
        visit(wk, f, de);
    }
}

/* --- walks: the loop side --------------------------------------------------------- */

static void walk_after(uv_work_t *req, int status);
static void start_walk(struct ingest_dirwatch *w, int full, int report_files, const char *reason);

static void walk_free(struct walk *wk)
{
    if (!wk)
        return;
    while (wk->depth)
        frame_pop(wk);
    free(wk->stack);
    free(wk->names);
    free(wk);
}

static void roots_clear(struct ingest_dirwatch *w)
{
    for (size_t i = 0; i < w->n_roots; i++)
        free(w->roots[i]);
    w->n_roots = 0;
}

/* New directories join the walk at a chunk boundary, on top of the stack,
 * so they are read next. */
static void walk_take_roots(struct ingest_dirwatch *w, struct walk *wk)
{
    for (size_t i = 0; i < w->n_roots; i++)
        frame_push(wk, NULL, w->roots[i], F_REPORT);
    w->n_roots = 0;
}

static void walk_queue(struct ingest_dirwatch *w, struct walk *wk)
{
    w->walk_busy = 1;
    wk->req.data = wk;
    uv_queue_work(w->loop, &wk->req, walk_work, walk_after);
}

/* Delivers a chunk: old enough files are ready now, recent ones wait in the
 * unsettled table; files already waiting there are left to it. */
static void walk_deliver(struct ingest_dirwatch *w, struct walk *wk)
{
    int64_t wall = wall_ns();
    for (size_t i = 0; i < wk->n_items && !w->stopping; i++) {
        const struct item *it = &wk->items[i];
        const char *rel = wk->names + it->rel_off;
        if (pend_find(w, rel, hash_str(rel)))
            continue;
        if (w->settle_ms == 0 || wall - it->mtime_ns >= w->settle_ms * NS_PER_MS) {
            struct ingest_dirwatch_file f = { .relpath = rel, .size = it->size,
                                              .mtime_ns = it->mtime_ns, .inode = it->inode };
            w->ready(w->ud, &f);
            continue;
        }
        struct pend *p = pend_get(w, rel);
        if (!p) {
            warn_oom(w, rel);
            continue;
        }
        p->statted = 1;
        p->size = it->size;
        p->mtime_ns = it->mtime_ns;
        p->inode = it->inode;
    }
}

static void walk_log(struct ingest_dirwatch *w, const struct walk *wk)
{
    uint64_t ms = uv_now(w->loop) - wk->started_ms;
    if (wk->n_err)
        INGEST_LOG_WARN(w->log, w->pipeline, "cannot read part of the landing directory",
                        INGEST_KV_STR("root", w->root), INGEST_KV_STR("path", wk->err_path),
                        INGEST_KV_STR("error", strerror(wk->err)),
                        INGEST_KV_UINT("errors", wk->n_err));
    if (wk->full && wk->report)
        INGEST_LOG_INFO(w->log, w->pipeline, "landing directory listed",
                        INGEST_KV_STR("reason", wk->reason), INGEST_KV_UINT("files", wk->n_found),
                        INGEST_KV_UINT("dirs", wk->n_dirs), INGEST_KV_UINT("ms", ms));
    else
        INGEST_LOG_DEBUG(w->log, w->pipeline, "landing directory walked",
                         INGEST_KV_STR("reason", wk->reason), INGEST_KV_UINT("dirs", wk->n_dirs),
                         INGEST_KV_UINT("ms", ms));
}

static void maybe_finish(struct ingest_dirwatch *w);

/* The walk is done: `listed` for a full listing, then whatever waited. */
static void walk_finish(struct ingest_dirwatch *w, struct walk *wk)
{
    int listed = wk->full && wk->report;
    uint64_t n_found = wk->n_found;
    walk_log(w, wk);
    w->walk = NULL;
    walk_free(wk);
    if (listed && w->listed)
        w->listed(w->ud, n_found);
    if (w->stopping) {
        maybe_finish(w);
        return;
    }
    if (w->full_pending) {
        const char *reason = w->full_pending;
        w->full_pending = NULL;
        start_walk(w, 1, 1, reason);
    } else if (w->n_roots) {
        start_walk(w, 0, 1, REASON_NEWDIR);
    }
}

static void walk_after(uv_work_t *req, int status)
{
    struct walk *wk = req->data;
    struct ingest_dirwatch *w = wk->w;
    w->walk_busy = 0;
    if (w->stopping || status != 0) {
        maybe_finish(w);
        return;
    }
    walk_deliver(w, wk);
    if (w->stopping) {          /* stopped from a callback */
        maybe_finish(w);
        return;
    }
    walk_take_roots(w, wk);
    if (wk->depth)
        walk_queue(w, wk);
    else
        walk_finish(w, wk);
}

/* Starts a walk; the caller checked none runs.  A full one starts at the
 * root and takes care of waiting new directories too (when it reports). */
static void start_walk(struct ingest_dirwatch *w, int full, int report_files, const char *reason)
{
    if (w->stopping)
        return;
    struct walk *wk = calloc(1, sizeof *wk);
    char *rel = full ? strdup("") : NULL;
    if (!wk || (full && !rel)) {
        free(wk);
        free(rel);
        INGEST_LOG_ERROR(w->log, w->pipeline, "out of memory; landing directory not listed",
                         INGEST_KV_STR("root", w->root), INGEST_KV_STR("reason", reason));
        return;
    }
    wk->w = w;
    wk->full = full;
    wk->report = report_files;
    wk->reason = reason;
    wk->started_ms = uv_now(w->loop);
    if (full)
        frame_push(wk, NULL, rel, report_files ? F_REPORT | F_COUNT : 0);
    if (full && report_files)
        roots_clear(w);         /* the listing reads them anyway */
    else
        walk_take_roots(w, wk);
    w->walk = wk;
    walk_queue(w, wk);
}

/* A full listing now, or after the running walk when that one does not
 * cover it: a walk that reports nothing, or any walk after an overflow (it
 * may have passed the directories whose events were lost). */
static void request_listing(struct ingest_dirwatch *w, const char *reason)
{
    if (w->stopping)
        return;
    if (!w->walk)
        start_walk(w, 1, 1, reason);
    else if (!(w->walk->full && w->walk->report) || reason == REASON_OVERFLOW)
        w->full_pending = reason;
}

/* A new directory (and what is below it) needs reading. */
static void request_dir(struct ingest_dirwatch *w, const char *rel)
{
    size_t from = w->n_roots > RECENT_ROOTS ? w->n_roots - RECENT_ROOTS : 0;
    for (size_t i = from; i < w->n_roots; i++) {
        size_t len = strlen(w->roots[i]);
        if (strncmp(rel, w->roots[i], len) == 0 && (rel[len] == '\0' || rel[len] == '/'))
            return;             /* mkdir -p a/b/c: a covers the rest */
    }
    if (w->n_roots == w->cap_roots) {
        size_t cap = w->cap_roots ? w->cap_roots * 2 : 8;
        char **r = realloc(w->roots, cap * sizeof *r);
        if (!r)
            goto fail;
        w->roots = r;
        w->cap_roots = cap;
    }
    if (!(w->roots[w->n_roots] = strdup(rel)))
        goto fail;
    w->n_roots++;
    if (!w->walk)
        start_walk(w, 0, 1, REASON_NEWDIR);
    return;
fail:
    warn_oom(w, rel);
}

/* --- inotify events (loop thread) ------------------------------------------------- */

static void on_overflow(struct ingest_dirwatch *w)
{
    uint64_t suppressed;
    if (ratelimit_ok(&w->rl_overflow, uv_now(w->loop), &suppressed))
        INGEST_LOG_WARN(w->log, w->pipeline,
                        "inotify queue overflowed; listing the landing directory to catch up",
                        INGEST_KV_STR("root", w->root), INGEST_KV_UINT("suppressed", suppressed));
    request_listing(w, REASON_OVERFLOW);
}

/* IN_DELETE_SELF / IN_MOVE_SELF.  A directory moved within the tree has
 * already been re-watched under its new name (IN_MOVED_TO comes first), so
 * a watch is dropped only when its path no longer leads to it. */
static void on_dir_gone(struct ingest_dirwatch *w, const char *dir, uint64_t ino, uint32_t mask)
{
    char abs[PATH_MAX];
    struct stat st;
    if (mask & IN_MOVE_SELF) {
        if (abs_path(w, dir, abs, sizeof abs) == 0 && lstat(abs, &st) == 0 &&
            S_ISDIR(st.st_mode) && (uint64_t)st.st_ino == ino)
            return;
        watch_forget_tree(w, dir);
    }
    if (!dir[0])
        INGEST_LOG_WARN(w->log, w->pipeline,
                        "landing directory was removed or moved away; listings will retry it",
                        INGEST_KV_STR("root", w->root));
}

static void on_dir_event(struct ingest_dirwatch *w, const char *rel, const char *name,
                         uint32_t mask)
{
    char abs[PATH_MAX];
    struct stat st;
    int errnum;
    if (mask & IN_MOVED_FROM) {
        watch_forget_tree(w, rel);
        return;
    }
    if (!(mask & (IN_CREATE | IN_MOVED_TO)) || !w->recursive || !dir_wanted(name))
        return;
    if (abs_path(w, rel, abs, sizeof abs) != 0 || lstat(abs, &st) != 0 || !S_ISDIR(st.st_mode))
        return;
    /* Watch now, list next: files may have landed before the watch. */
    watch_dir(w, rel, abs, st.st_ino, &errnum);
    request_dir(w, rel);
}

static void on_file_event(struct ingest_dirwatch *w, const char *rel, const char *name,
                          uint32_t mask)
{
    char abs[PATH_MAX];
    struct stat st;
    if (!file_wanted(w, name))
        return;
    if (mask & (IN_MOVED_FROM | IN_MOVED_TO))
        pend_drop(w, rel);
    /* Renamed into place: complete now.  With settle_ms == 0 a file is
     * complete when closed after writing, not on each write. */
    int now = (mask & IN_MOVED_TO) || (w->settle_ms == 0 && (mask & IN_CLOSE_WRITE));
    if (now) {
        if (abs_path(w, rel, abs, sizeof abs) == 0 && lstat(abs, &st) == 0 && S_ISREG(st.st_mode))
            report(w, rel, &st, !!(mask & IN_MOVED_TO));
    } else if (w->settle_ms > 0 && (mask & (IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE))) {
        pend_touch(w, rel);
    }
}

static void handle_event(struct ingest_dirwatch *w, const struct inotify_event *ev)
{
    char dir[PATH_MAX], rel[PATH_MAX];
    uint64_t ino;
    if (ev->mask & IN_Q_OVERFLOW) {
        on_overflow(w);
        return;
    }
    uv_mutex_lock(&w->lock);
    struct watch *wt = watch_find(w, ev->wd);
    if (wt && (ev->mask & IN_IGNORED)) {
        ht_unlink(&w->watches, &wt->h);
        free(wt);
        wt = NULL;
    }
    int ok = wt && snprintf(dir, sizeof dir, "%s", wt->rel) < (int)sizeof dir;
    ino = wt ? wt->ino : 0;
    uv_mutex_unlock(&w->lock);
    if (!ok)
        return;
    if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
        on_dir_gone(w, dir, ino, ev->mask);
        return;
    }
    if (ev->len == 0 || !ev->name[0] || join_rel(dir, ev->name, rel, sizeof rel) != 0)
        return;
    if (ev->mask & IN_ISDIR)
        on_dir_event(w, rel, ev->name, ev->mask);
    else
        on_file_event(w, rel, ev->name, ev->mask);
}

static void on_inotify(uv_poll_t *h, int status, int events)
{
    struct ingest_dirwatch *w = h->data;
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    uint64_t suppressed;
    (void)events;
    for (int i = 0; i < READS_PER_POLL && status == 0 && !w->stopping; i++) {
        ssize_t n = read(w->ifd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN)
            status = -errno;
        if (n <= 0)
            break;
        for (ssize_t off = 0; off < n && !w->drop_events && !w->stopping;) {
            const struct inotify_event *ev = (const struct inotify_event *)(buf + off);
            handle_event(w, ev);
            off += (ssize_t)(sizeof *ev + ev->len);
        }
    }
    if (status < 0 && ratelimit_ok(&w->rl_read, uv_now(w->loop), &suppressed))
        INGEST_LOG_WARN(w->log, w->pipeline, "cannot read inotify events",
                        INGEST_KV_STR("root", w->root), INGEST_KV_STR("error", uv_strerror(status)),
                        INGEST_KV_UINT("suppressed", suppressed));
}

static void on_backfill(uv_timer_t *t)
{
    request_listing(t->data, REASON_BACKFILL);
}

/* --- lifetime ------------------------------------------------------------------- */

/* Frees a watcher whose handles are closed (or were never opened) and
 * whose walk is not running. */
static void destroy(struct ingest_dirwatch *w)
{
    if (!w)
        return;
    walk_free(w->walk);
    roots_clear(w);
    free(w->roots);
    ht_free(&w->pend);
    ht_free(&w->watches);
    if (w->ifd >= 0)
        close(w->ifd);
    if (w->lock_init)
        uv_mutex_destroy(&w->lock);
    free(w->root);
    free(w->pattern);
    free(w->pipeline);
    free(w);
}

static void maybe_finish(struct ingest_dirwatch *w)
{
    if (w->open_handles || w->walk_busy)
        return;
    void (*closed)(void *) = w->closed;
    void *ud = w->closed_ud;
    if (closed)
        closed(ud);
    destroy(w);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct ingest_dirwatch *w = h->data;
    w->open_handles--;
    maybe_finish(w);
}

/* Everything that can fail before a handle exists; 0 or an INGEST_E* code
 * with a reason in err. */
static int prepare(struct ingest_dirwatch *w, const struct ingest_dirwatch_opts *o,
                   const struct stat *st, char *err, size_t errlen)
{
    size_t len = strlen(o->root);
    while (len > 1 && o->root[len - 1] == '/')
        len--;
    w->root = strndup(o->root, len);
    w->pattern = strdup(o->pattern ? o->pattern : "*");
    w->pipeline = o->pipeline ? strdup(o->pipeline) : NULL;
    if (!w->root || !w->pattern || (o->pipeline && !w->pipeline)) {
        snprintf(err, errlen, "out of memory");
        return INGEST_ENOMEM;
    }
    if (uv_mutex_init(&w->lock) != 0) {
        snprintf(err, errlen, "cannot create a mutex");
        return INGEST_ESYS;
    }
    w->lock_init = 1;
    w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->ifd < 0) {
        snprintf(err, errlen, "inotify_init1: %s%s", strerror(errno),
                 errno == EMFILE ? " (raise sysctl fs.inotify.max_user_instances)" : "");
        return ingest_err_from_errno(errno);
    }
    int errnum;
    int rc = watch_dir(w, "", w->root, st->st_ino, &errnum);
    if (rc != 0) {
        snprintf(err, errlen, "%s: inotify_add_watch: %s%s", w->root,
                 errnum ? strerror(errnum) : ingest_strerror(rc),
                 errnum == ENOSPC ? " (raise sysctl fs.inotify.max_user_watches)" : "");
        return rc;
    }
    return 0;
}

struct ingest_dirwatch *ingest_dirwatch_start(uv_loop_t *loop,
                                              const struct ingest_dirwatch_opts *o,
                                              char *err, size_t errlen)
{
    struct ingest_dirwatch *w = NULL;
    struct stat st;
    if (!loop || !o || !o->root || o->root[0] != '/' || !o->ready || o->settle_ms < 0 ||
        o->backfill_ms < 0) {
        snprintf(err, errlen, "invalid directory watch options");
        return NULL;
    }
    if (stat(o->root, &st) != 0) {
        snprintf(err, errlen, "%s: %s", o->root, strerror(errno));
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: not a directory", o->root);
        return NULL;
    }
    if (!(w = calloc(1, sizeof *w))) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->ifd = -1;
    w->loop = loop;
    w->recursive = o->recursive;
    w->settle_ms = o->settle_ms;
    w->backfill_ms = o->backfill_ms;
    w->log = o->log;
    w->ready = o->ready;
    w->known = o->known;
    w->listed = o->listed;
    w->ud = o->ud;
    if (prepare(w, o, &st, err, errlen) != 0)
        goto fail;
    int rc = uv_poll_init(loop, &w->poll, w->ifd);
    if (rc != 0) {
        snprintf(err, errlen, "uv_poll_init: %s", uv_strerror(rc));
        goto fail;
    }
    uv_timer_init(loop, &w->settle_timer);
    uv_timer_init(loop, &w->backfill_timer);
    w->poll.data = w->settle_timer.data = w->backfill_timer.data = w;
    w->open_handles = 3;
    if ((rc = uv_poll_start(&w->poll, UV_READABLE, on_inotify)) != 0) {
        snprintf(err, errlen, "uv_poll_start: %s", uv_strerror(rc));
        ingest_dirwatch_stop(w, NULL, NULL);   /* frees it once the handles are closed */
        return NULL;
    }
    if (w->backfill_ms > 0)
        uv_timer_start(&w->backfill_timer, on_backfill, (uint64_t)w->backfill_ms,
                       (uint64_t)w->backfill_ms);
    INGEST_LOG_INFO(w->log, w->pipeline, "watching landing directory",
                    INGEST_KV_STR("root", w->root), INGEST_KV_STR("pattern", w->pattern),
                    INGEST_KV_INT("recursive", w->recursive),
                    INGEST_KV_INT("settle_ms", w->settle_ms),
                    INGEST_KV_INT("backfill_ms", w->backfill_ms));
    if (o->list_at_start)
        start_walk(w, 1, 1, REASON_START);
    else if (w->recursive)
        start_walk(w, 1, 0, REASON_WATCH);    /* watches only */
    return w;
fail:
    destroy(w);
    return NULL;
}

void ingest_dirwatch_stop(struct ingest_dirwatch *w, void (*closed)(void *ud), void *ud)
{
    if (!w || w->stopping)
        return;
    w->stopping = 1;
    w->closed = closed;
    w->closed_ud = ud;
    atomic_store(&w->cancel, 1);
    if (w->walk_busy)
        uv_cancel((uv_req_t *)&w->walk->req);   /* fails harmlessly once it runs */
    /* The inotify fd stays open until the end: a worker may still add a
     * watch with it, and a closed number could be reused meanwhile. */
    uv_close((uv_handle_t *)&w->poll, on_handle_closed);
    uv_close((uv_handle_t *)&w->settle_timer, on_handle_closed);
    uv_close((uv_handle_t *)&w->backfill_timer, on_handle_closed);
}

void ingest_dirwatch_rescan(struct ingest_dirwatch *w)
{
    request_listing(w, REASON_RESCAN);
}

size_t ingest_dirwatch_unsettled(const struct ingest_dirwatch *w)
{
    return w->pend.n;
}

int ingest_dirwatch_listing(const struct ingest_dirwatch *w)
{
    return w->walk != NULL;
}

/* Test hook: while on, inotify events are read and thrown away, as if the
 * queue had overflowed without saying so. */
void ingest_dirwatch_test_drop_events(struct ingest_dirwatch *w, int on)
{
    w->drop_events = on;
}
