/*
 * test_dirwatch.c - the landing-directory watcher on a real temp directory
 * with a real libuv loop and real inotify.
 *
 * Each test starts a watcher on its own scratch directory, changes the
 * directory from the test thread (which is also the loop thread, between
 * uv_run calls), and runs the loop until a condition holds or a timeout
 * passes; a 2 ms timer checks the condition and measures the longest time
 * the loop went without running it.  What is checked is what the caller
 * sees: which files are reported, how often, when, with which size and
 * flags, and that `listed`/`closed` come as promised.  Teardown stops the
 * watcher and checks that `closed` ran once, that the watcher left no
 * handle behind and that uv_loop_close() succeeds (leaks are left to
 * ASan/valgrind).  Waits scale with TEST_TIMEOUT_SCALE (default 1).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "ingestd/dirwatch.h"
#include "scratch.h"

/* Test hook in dirwatch.c: inotify events are read and dropped while on. */
void ingest_dirwatch_test_drop_events(struct ingest_dirwatch *w, int on);

#define MS         1000000ULL   /* ns */
#define MAX_SEEN   64
#define MANY_DIRS  200
#define MANY_FILES 100          /* per directory */

struct seen {
    char rel[128];
    int64_t size, mtime_ns;
    uint64_t inode;
    int renamed;
    uint64_t at_ns;             /* uv_hrtime() when reported */
};

struct fx {
    uv_loop_t loop;
    uv_timer_t tick;            /* checks the condition; measures stalls */
    uv_timer_t writer;          /* the slow writer */
    uv_check_t check;           /* counts reports per loop iteration */
    char dir[256];
    struct ingest_log log;
    struct ingest_dirwatch_opts o;
    struct ingest_dirwatch *w;
    int started, stopped;
    pthread_t loop_thread;

    int (*cond)(struct fx *);
    size_t want;                /* for cond_seen */
    uint64_t deadline_ns, last_tick_ns, max_gap_ns;

    struct seen seen[MAX_SEEN];
    size_t n_seen;
    int overflowed;             /* more than MAX_SEEN reports */
    uint8_t *bitmap;            /* many-files mode: one byte per file */
    uint64_t n_reports, n_dups, n_strange;
    uint64_t burst, max_burst;
    int stop_on_ready;
    uint64_t ready_after_stop;

    int listed_calls;
    uint64_t listed_n;
    int closed_calls;
    const char *known_name;     /* `known` says yes for this relpath */
    atomic_int known_calls, known_on_loop;
    int block_known;            /* the first `known` waits for `release` */
    uv_sem_t entered, release;

    int writes_left;
    int old_mtime;              /* the writer puts the mtime an hour back each time */
    int rescan_at;              /* ... and asks for a listing when writes_left is this */
    int write_errors;
    int64_t written;
    uint64_t last_write_ns;
};

/* Signed, so a report before the event it should follow cannot pass. */
static int64_t ms_after(uint64_t from_ns, uint64_t to_ns)
{
    return ((int64_t)to_ns - (int64_t)from_ns) / 1000000;
}

static uint64_t scale(void)
{
    const char *s = getenv("TEST_TIMEOUT_SCALE");
    int v = s ? atoi(s) : 1;
    return v > 0 ? (uint64_t)v : 1;
}

/* --- callbacks ------------------------------------------------------------------- */

static void on_closed(void *ud)
{
    struct fx *fx = ud;
    fx->closed_calls++;
}

static void on_ready(void *ud, const struct ingest_dirwatch_file *f)
{
    struct fx *fx = ud;
    if (fx->stopped)
        fx->ready_after_stop++;
    fx->n_reports++;
    fx->burst++;
    if (fx->bitmap) {
        int d, n;
        if (sscanf(f->relpath, "d%d/f%d.json", &d, &n) != 2 || d < 0 || d >= MANY_DIRS ||
            n < 0 || n >= MANY_FILES)
            fx->n_strange++;
        else if (fx->bitmap[d * MANY_FILES + n]++)
            fx->n_dups++;
    } else if (fx->n_seen < MAX_SEEN) {
        struct seen *s = &fx->seen[fx->n_seen++];
        snprintf(s->rel, sizeof s->rel, "%s", f->relpath);
        s->size = f->size;
        s->mtime_ns = f->mtime_ns;
        s->inode = f->inode;
        s->renamed = f->renamed;
        s->at_ns = uv_hrtime();
    } else {
        fx->overflowed = 1;
    }
    if (fx->stop_on_ready && !fx->stopped) {
        fx->stopped = 1;
        ingest_dirwatch_stop(fx->w, on_closed, fx);
    }
}

static int on_known(void *ud, const struct ingest_dirwatch_file *f)
{
    struct fx *fx = ud;
    atomic_fetch_add(&fx->known_calls, 1);
    if (pthread_equal(pthread_self(), fx->loop_thread))
        atomic_fetch_add(&fx->known_on_loop, 1);
    if (fx->block_known && atomic_load(&fx->known_calls) == 1) {
        uv_sem_post(&fx->entered);
        uv_sem_wait(&fx->release);
    }
    return fx->known_name && strcmp(f->relpath, fx->known_name) == 0;
}

static void on_listed(void *ud, uint64_t n)
{
    struct fx *fx = ud;
    fx->listed_calls++;
    fx->listed_n = n;
}

static void on_check(uv_check_t *h)
{
    struct fx *fx = h->data;
    if (fx->burst > fx->max_burst)
        fx->max_burst = fx->burst;
    fx->burst = 0;
}

static void on_tick(uv_timer_t *t)
{
    struct fx *fx = t->data;
    uint64_t now = uv_hrtime();
    if (fx->last_tick_ns && now - fx->last_tick_ns > fx->max_gap_ns)
        fx->max_gap_ns = now - fx->last_tick_ns;
    fx->last_tick_ns = now;
    if ((fx->cond && fx->cond(fx)) || now >= fx->deadline_ns)
        uv_stop(&fx->loop);
}

/* --- running the loop --------------------------------------------------------------- */

static int cond_listed(struct fx *fx) { return fx->listed_calls > 0; }
static int cond_seen(struct fx *fx) { return fx->n_seen >= fx->want; }
static int cond_closed(struct fx *fx) { return fx->closed_calls > 0; }
static int cond_idle(struct fx *fx) { return !ingest_dirwatch_listing(fx->w); }
static int cond_unsettled(struct fx *fx) { return ingest_dirwatch_unsettled(fx->w) >= fx->want; }

/* Runs the loop until cond holds or timeout_ms (scaled) passed; cond NULL
 * runs it for the whole time.  Returns whether cond holds. */
static int run_until(struct fx *fx, int (*cond)(struct fx *), uint64_t timeout_ms)
{
    fx->cond = cond;
    fx->deadline_ns = uv_hrtime() + timeout_ms * scale() * MS;
    fx->last_tick_ns = 0;
    fx->max_gap_ns = 0;
    if (!cond || !cond(fx)) {
        uv_timer_start(&fx->tick, on_tick, 2, 2);
        uv_run(&fx->loop, UV_RUN_DEFAULT);
        uv_timer_stop(&fx->tick);
    }
    return cond ? cond(fx) : 1;
}

static int run_until_seen(struct fx *fx, size_t n, uint64_t timeout_ms)
{
    fx->want = n;
    return run_until(fx, cond_seen, timeout_ms);
}

static int run_until_unsettled(struct fx *fx, size_t n, uint64_t timeout_ms)
{
    fx->want = n;
    return run_until(fx, cond_unsettled, timeout_ms);
}

static void start(struct fx *fx)
{
    char err[256] = "";
    fx->w = ingest_dirwatch_start(&fx->loop, &fx->o, err, sizeof err);
    if (!fx->w)
        fail_msg("ingest_dirwatch_start: %s", err);
    fx->started = 1;
}

static void stop(struct fx *fx)
{
    fx->stopped = 1;
    ingest_dirwatch_stop(fx->w, on_closed, fx);
}

/* --- files --------------------------------------------------------------------------- */

static void path_of(const struct fx *fx, const char *rel, char *out, size_t len)
{
    assert_true((size_t)snprintf(out, len, "%s/%s", fx->dir, rel) < len);
}

static void make_old(const char *path)
{
    time_t t = time(NULL) - 3600;
    struct timespec ts[2] = { { t, 0 }, { t, 0 } };
    assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

/* Writes size bytes to rel; old: with a mtime an hour back. */
static void put_file(struct fx *fx, const char *rel, size_t size, int old)
{
    char p[512], buf[4096];
    path_of(fx, rel, p, sizeof p);
    memset(buf, 'x', sizeof buf);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    for (size_t done = 0; done < size;) {
        size_t n = size - done < sizeof buf ? size - done : sizeof buf;
        assert_int_equal(write(fd, buf, n), (ssize_t)n);
        done += n;
    }
    assert_int_equal(close(fd), 0);
    if (old)
        make_old(p);
}

/* Writes rel.tmp, then renames it to rel (the way careful writers land files). */
static void put_renamed(struct fx *fx, const char *rel, size_t size, int old)
{
    char tmp[256], from[512], to[512];
    snprintf(tmp, sizeof tmp, "%s.tmp", rel);
    put_file(fx, tmp, size, old);
    path_of(fx, tmp, from, sizeof from);
    path_of(fx, rel, to, sizeof to);
    assert_int_equal(rename(from, to), 0);
}

static void make_dir(struct fx *fx, const char *rel)
{
    char p[512];
    path_of(fx, rel, p, sizeof p);
    assert_int_equal(mkdir(p, 0755), 0);
}

static uint64_t inode_of(struct fx *fx, const char *rel)
{
    char p[512];
    struct stat st;
    path_of(fx, rel, p, sizeof p);
    assert_int_equal(lstat(p, &st), 0);
    return st.st_ino;
}

static int times_seen(const struct fx *fx, const char *rel)
{
    int n = 0;
    for (size_t i = 0; i < fx->n_seen; i++)
        n += strcmp(fx->seen[i].rel, rel) == 0;
    return n;
}

static const struct seen *find_seen(const struct fx *fx, const char *rel)
{
    for (size_t i = 0; i < fx->n_seen; i++)
        if (strcmp(fx->seen[i].rel, rel) == 0)
            return &fx->seen[i];
    return NULL;
}

/* rel was reported exactly once, with the file's size and inode. */
static void assert_seen_once(struct fx *fx, const char *rel, int64_t size, int renamed)
{
    if (times_seen(fx, rel) != 1)
        fail_msg("%s reported %d times", rel, times_seen(fx, rel));
    const struct seen *s = find_seen(fx, rel);
    assert_int_equal(s->size, size);
    assert_int_equal(s->renamed, renamed);
    assert_int_equal(s->inode, inode_of(fx, rel));
}

/* --- fixture --------------------------------------------------------------------------- */

static int setup(void **state)
{
    struct fx *fx = calloc(1, sizeof *fx);
    if (!fx || uv_loop_init(&fx->loop) != 0 || scratch_make(fx->dir, sizeof fx->dir, "test_dirwatch") != 0)
        return -1;
    uv_timer_init(&fx->loop, &fx->tick);
    uv_timer_init(&fx->loop, &fx->writer);
    uv_check_init(&fx->loop, &fx->check);
    fx->tick.data = fx->writer.data = fx->check.data = fx;
    uv_check_start(&fx->check, on_check);
    uv_unref((uv_handle_t *)&fx->check);
    fx->loop_thread = pthread_self();
    fx->log = (struct ingest_log){ .level = INGEST_LEVEL_WARN, .fd = 2 };
    fx->o = (struct ingest_dirwatch_opts){
        .root = fx->dir, .pattern = "*.json", .recursive = 1, .settle_ms = 1000,
        .list_at_start = 1, .pipeline = "test", .log = &fx->log, .ready = on_ready,
        .known = on_known, .listed = on_listed, .ud = fx,
    };
    *state = fx;
    return 0;
}

static void count_foreign(uv_handle_t *h, void *arg)
{
    struct fx *fx = arg;
    if (h != (uv_handle_t *)&fx->tick && h != (uv_handle_t *)&fx->writer &&
        h != (uv_handle_t *)&fx->check)
        fx->n_strange += 1000000;   /* a handle the watcher left behind */
}

static void close_ours(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    if (fx->started) {
        if (!fx->stopped)
            stop(fx);
        run_until(fx, cond_closed, 2000);
        assert_int_equal(fx->closed_calls, 1);
        assert_int_equal(fx->ready_after_stop, 0);
        uint64_t strange = fx->n_strange;
        uv_walk(&fx->loop, count_foreign, fx);
        assert_int_equal(fx->n_strange, strange);
    }
    uv_walk(&fx->loop, close_ours, NULL);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&fx->loop), 0);
    scratch_remove(fx->dir);
    free(fx->bitmap);
    free(fx);
    return 0;
}

/* --- tests ------------------------------------------------------------------------- */

static void test_existing_files_are_listed_and_filtered(void **state)
{
    struct fx *fx = *state;
    char target[512], link[512];
    make_dir(fx, "sub");
    make_dir(fx, "sub/deeper");
    make_dir(fx, "_staging");
    make_dir(fx, ".git");
    put_file(fx, "a.json", 10, 1);
    put_file(fx, "sub/b.json", 20, 1);
    put_file(fx, "sub/deeper/c.json", 30, 1);
    const char *ignored[] = { ".hidden.json", "_SUCCESS", "x.json.tmp", "x.json~", "notes.txt",
                              "y.json.part", "_staging/d.json", ".git/e.json" };
    for (size_t i = 0; i < sizeof ignored / sizeof *ignored; i++)
        put_file(fx, ignored[i], 5, 1);
    path_of(fx, "a.json", target, sizeof target);
    path_of(fx, "link.json", link, sizeof link);
    assert_int_equal(symlink(target, link), 0);           /* a symlink to a file */
    path_of(fx, "sub", target, sizeof target);
    path_of(fx, "dirlink", link, sizeof link);
    assert_int_equal(symlink(target, link), 0);           /* not followed: no dirlink/b.json */

    start(fx);
    assert_true(ingest_dirwatch_listing(fx->w));
    assert_true(run_until(fx, cond_listed, 1000));

    /* Old files are ready as the listing finds them: all in before `listed`. */
    assert_int_equal(fx->listed_calls, 1);
    assert_int_equal(fx->listed_n, 3);
    assert_int_equal(fx->n_seen, 3);
    assert_seen_once(fx, "a.json", 10, 0);
    assert_seen_once(fx, "sub/b.json", 20, 0);
    assert_seen_once(fx, "sub/deeper/c.json", 30, 0);
    assert_int_equal(ingest_dirwatch_unsettled(fx->w), 0);
    assert_false(ingest_dirwatch_listing(fx->w));
}

static void test_recent_file_found_by_listing_waits_to_settle(void **state)
{
    struct fx *fx = *state;
    fx->o.settle_ms = 300;
    uint64_t written = uv_hrtime();
    put_file(fx, "fresh.json", 42, 0);
    start(fx);
    assert_true(run_until(fx, cond_listed, 1000));
    assert_int_equal(fx->listed_n, 1);
    assert_int_equal(fx->n_seen, 0);
    assert_int_equal(ingest_dirwatch_unsettled(fx->w), 1);

    assert_true(run_until_seen(fx, 1, 1500));
    assert_seen_once(fx, "fresh.json", 42, 0);
    assert_true(ms_after(written, fx->seen[0].at_ns) >= 290);
    assert_int_equal(ingest_dirwatch_unsettled(fx->w), 0);
}

static void test_without_list_at_start_existing_files_are_skipped_but_watched(void **state)
{
    struct fx *fx = *state;
    fx->o.list_at_start = 0;
    make_dir(fx, "sub");
    put_file(fx, "a.json", 10, 1);
    put_file(fx, "sub/b.json", 10, 1);
    start(fx);
    assert_true(run_until(fx, cond_idle, 1000));       /* watches set up in sub */
    run_until(fx, NULL, 200);
    assert_int_equal(fx->n_seen, 0);
    assert_int_equal(fx->listed_calls, 0);

    put_renamed(fx, "sub/new.json", 7, 0);
    assert_true(run_until_seen(fx, 1, 1000));
    assert_int_equal(fx->n_seen, 1);
    assert_seen_once(fx, "sub/new.json", 7, 1);
}

static void test_renamed_file_is_reported_at_once(void **state)
{
    struct fx *fx = *state;
    start(fx);
    assert_true(run_until(fx, cond_listed, 1000));
    assert_int_equal(fx->listed_n, 0);

    put_file(fx, "x.json.tmp", 1000, 0);
    char from[512], to[512];
    path_of(fx, "x.json.tmp", from, sizeof from);
    path_of(fx, "x.json", to, sizeof to);
    uint64_t t0 = uv_hrtime();
    assert_int_equal(rename(from, to), 0);
    assert_true(run_until_seen(fx, 1, 1000));
    assert_true(ms_after(t0, fx->seen[0].at_ns) < 100 * (int64_t)scale());
    assert_seen_once(fx, "x.json", 1000, 1);

    /* Nothing more once the settle time has passed: the write of the
     * temporary name was never a candidate. */
    run_until(fx, NULL, 1200);
    assert_int_equal(fx->n_seen, 1);
    assert_int_equal(ingest_dirwatch_unsettled(fx->w), 0);
}

/* Appends 100 bytes to slow.json, opening and closing the file each time,
 * so every write also ends with IN_CLOSE_WRITE. */
static void append_once(struct fx *fx)
{
    char p[512], buf[100];
    time_t old = time(NULL) - 3600;
    struct timespec ts[2] = { { old, 0 }, { old, 0 } };
    snprintf(p, sizeof p, "%s/slow.json", fx->dir);
    memset(buf, 'y', sizeof buf);
    int fd = open(p, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0 || write(fd, buf, sizeof buf) != (ssize_t)sizeof buf ||
        (fx->old_mtime && futimens(fd, ts) != 0))
        fx->write_errors++;
    if (fd >= 0)
        close(fd);
    fx->written += sizeof buf;
    fx->last_write_ns = uv_hrtime();
}

/* The slow writer: a timer every 50 ms, writes_left times. */
static void on_write(uv_timer_t *t)
{
    struct fx *fx = t->data;
    append_once(fx);
    if (--fx->writes_left == fx->rescan_at && fx->rescan_at > 0)
        ingest_dirwatch_rescan(fx->w);
    if (fx->writes_left == 0)
        uv_timer_stop(t);
}

static void test_slow_writer_is_reported_once_after_it_stops(void **state)
{
    struct fx *fx = *state;
    fx->o.settle_ms = 300;
    start(fx);
    assert_true(run_until(fx, cond_listed, 1000));

    fx->writes_left = 9;                 /* at 0, 50, ..., 400 ms */
    uv_timer_start(&fx->writer, on_write, 0, 50);
    assert_true(run_until_seen(fx, 1, 2000));
    assert_int_equal(fx->writes_left, 0);
    assert_int_equal(fx->write_errors, 0);
    assert_true(ms_after(fx->last_write_ns, fx->seen[0].at_ns) >= 290);
    run_until(fx, NULL, 400);
    assert_int_equal(fx->n_seen, 1);
    assert_seen_once(fx, "slow.json", 900, 0);
    assert_int_equal(fx->written, 900);
}

/* cp -p and rsync -t put an old mtime on a file they are still writing:
 * the writes themselves must hold it back, and a listing that finds it
 * meanwhile (old mtime and all) must leave it to the settle check. */
static void test_writer_keeping_an_old_mtime_is_still_waited_for(void **state)
{
    struct fx *fx = *state;
    fx->o.settle_ms = 300;
    start(fx);
    assert_true(run_until(fx, cond_listed, 1000));

    fx->old_mtime = 1;
    fx->writes_left = 9;
    fx->rescan_at = 4;                          /* after 250 ms of writing */
    uv_timer_start(&fx->writer, on_write, 0, 50);
    assert_true(run_until_seen(fx, 1, 2000));
    assert_int_equal(fx->writes_left, 0);
    assert_int_equal(fx->write_errors, 0);
    assert_int_equal(fx->listed_calls, 2);      /* the rescan ran */
    assert_true(ms_after(fx->last_write_ns, fx->seen[0].at_ns) >= 290);
    run_until(fx, NULL, 400);
    assert_int_equal(fx->n_seen, 1);
    assert_seen_once(fx, "slow.json", 900, 0);
}

/* Writes whose events are lost still hold a file back: the settle check
 * looks at the mtime, not only at the events it saw. */
static void test_lost_write_events_still_delay_the_report(void **state)
{
    struct fx *fx = *state;
    fx->o.settle_ms = 300;
    start(fx);
    assert_true(run_until(fx, cond_listed, 1000));

    append_once(fx);                            /* seen: the file is unsettled */
    assert_true(run_until_unsettled(fx, 1, 250));
    ingest_dirwatch_test_drop_events(fx->w, 1);
    fx->writes_left = 8;                        /* unseen, for 350 ms */
    uv_timer_start(&fx->writer, on_write, 0, 50);
    assert_true(run_until_seen(fx, 1, 2000));
    assert_int_equal(fx->writes_left, 0);
    assert_int_equal(fx->write_errors, 0);
    assert_true(ms_after(fx->last_write_ns, fx->seen[0].at_ns) >= 290);
    assert_seen_once(fx, "slow.json", 900, 0);
}

static void test_file_gone_before_settling_is_dropped(void **state)
{
    struct fx *fx = *state;
    char p[512];
    fx->o.settle_ms = 300;
    start(fx);
    assert_true(run_until(fx, cond_listed, 1000));
    put_file(fx, "short.json", 10, 0);
    assert_true(run_until_unsettled(fx, 1, 250));
    path_of(fx, "short.json", p, sizeof p);
    assert_int_equal(unlink(p), 0);
    run_until(fx, NULL, 600);
    assert_int_equal(fx->n_seen, 0);
    assert_int_equal(ingest_dirwatch_unsettled(fx->w), 0);
}

static void test_settle_zero_reports_when_the_writer_closes(void **state)
{
    struct fx *fx = *state;
    char p[512], buf[300];
    fx->o.settle_ms = 0;
    start(fx);
    assert_true(run_until(fx, cond_listed, 1000));
    path_of(fx, "now.json", p, sizeof p);
    memset(buf, 'z', sizeof buf);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(write(fd, buf, 100), 100);
    assert_int_equal(close(fd), 0);
    assert_true(run_until_seen(fx, 1, 1000));
    run_until(fx, NULL, 200);
    assert_int_equal(fx->n_seen, 1);
    assert_seen_once(fx, "now.json", 300, 0);
    assert_int_equal(ingest_dirwatch_unsettled(fx->w), 0);
}

static void test_new_subdirectory_is_listed_and_watched_when_recursive(void **state)
{
    struct fx *fx = *state;
    fx->o.settle_ms = 100;
    start(fx);
    assert_true(run_until(fx, cond_listed, 1000));

    /* The file lands before the loop even sees the mkdir, so before any
     * watch on sub can exist: only listing sub finds it. */
    make_dir(fx, "sub");
    put_file(fx, "sub/f.json", 11, 0);
    assert_true(run_until_seen(fx, 1, 1000));
    assert_seen_once(fx, "sub/f.json", 11, 0);

    put_renamed(fx, "sub/g.json", 12, 0);       /* through sub's watch */
    assert_true(run_until_seen(fx, 2, 1000));
    assert_seen_once(fx, "sub/g.json", 12, 1);
    run_until(fx, NULL, 300);
    assert_int_equal(fx->n_seen, 2);
}

static void test_nested_directories_created_at_once_are_found(void **state)
{
    struct fx *fx = *state;
    fx->o.settle_ms = 100;
    start(fx);
    assert_true(run_until(fx, cond_listed, 1000));

    make_dir(fx, "a");                          /* mkdir -p a/b/c */
    make_dir(fx, "a/b");
    make_dir(fx, "a/b/c");
    put_file(fx, "a/b/c/f.json", 13, 0);
    assert_true(run_until_seen(fx, 1, 1000));
    assert_seen_once(fx, "a/b/c/f.json", 13, 0);

    put_renamed(fx, "a/b/c/g.json", 14, 0);     /* c is watched now */
    assert_true(run_until_seen(fx, 2, 1000));
    assert_seen_once(fx, "a/b/c/g.json", 14, 1);
    run_until(fx, NULL, 300);
    assert_int_equal(fx->n_seen, 2);
}

static void test_subdirectories_are_ignored_when_not_recursive(void **state)
{
    struct fx *fx = *state;
    fx->o.recursive = 0;
    fx->o.settle_ms = 100;
    make_dir(fx, "sub");
    put_file(fx, "top.json", 1, 1);
    put_file(fx, "sub/old.json", 2, 1);
    start(fx);
    assert_true(run_until(fx, cond_listed, 1000));
    assert_int_equal(fx->listed_n, 1);
    assert_int_equal(fx->n_seen, 1);
    assert_seen_once(fx, "top.json", 1, 0);

    make_dir(fx, "sub2");
    put_file(fx, "sub2/f.json", 3, 0);
    put_renamed(fx, "sub/x.json", 4, 0);
    put_renamed(fx, "top2.json", 5, 0);         /* events after the others */
    assert_true(run_until_seen(fx, 2, 1000));
    run_until(fx, NULL, 300);                   /* 3 x settle_ms */
    assert_int_equal(fx->n_seen, 2);
    assert_seen_once(fx, "top2.json", 5, 1);
}

static void test_known_files_are_not_reported(void **state)
{
    struct fx *fx = *state;
    fx->known_name = "b.json";
    put_file(fx, "a.json", 1, 1);
    put_file(fx, "b.json", 2, 1);
    put_file(fx, "c.json", 3, 1);
    start(fx);
    assert_true(run_until(fx, cond_listed, 1000));
    assert_int_equal(fx->listed_n, 3);          /* matched, known ones included */
    assert_int_equal(fx->n_seen, 2);
    assert_seen_once(fx, "a.json", 1, 0);
    assert_seen_once(fx, "c.json", 3, 0);
    assert_int_equal(atomic_load(&fx->known_calls), 3);
    assert_int_equal(atomic_load(&fx->known_on_loop), 0);  /* a worker thread */
}

static void test_rescan_finds_files_whose_events_were_lost(void **state)
{
    struct fx *fx = *state;
    fx->o.list_at_start = 0;
    start(fx);
    assert_true(run_until(fx, cond_idle, 1000));

    ingest_dirwatch_test_drop_events(fx->w, 1);
    make_dir(fx, "d");
    put_file(fx, "d/b.json", 2, 1);
    put_file(fx, "a.json", 1, 1);
    put_renamed(fx, "c.json", 3, 1);
    run_until(fx, NULL, 200);
    assert_int_equal(fx->n_seen, 0);

    ingest_dirwatch_test_drop_events(fx->w, 0);
    ingest_dirwatch_rescan(fx->w);
    assert_true(ingest_dirwatch_listing(fx->w));
    assert_true(run_until(fx, cond_listed, 1000));
    assert_int_equal(fx->listed_n, 3);
    assert_int_equal(fx->n_seen, 3);
    assert_seen_once(fx, "a.json", 1, 0);
    assert_seen_once(fx, "d/b.json", 2, 0);
    assert_seen_once(fx, "c.json", 3, 0);
    assert_false(ingest_dirwatch_listing(fx->w));

    put_renamed(fx, "d/e.json", 4, 0);          /* the listing watched d */
    assert_true(run_until_seen(fx, 4, 1000));
    assert_seen_once(fx, "d/e.json", 4, 1);
}

static int cond_listed_one(struct fx *fx) { return fx->listed_calls >= 2 && fx->listed_n == 1; }

static void test_backfill_listing_finds_missed_files_periodically(void **state)
{
    struct fx *fx = *state;
    fx->o.backfill_ms = 150;
    start(fx);
    assert_true(run_until(fx, cond_listed, 1000));
    assert_int_equal(fx->listed_n, 0);
    ingest_dirwatch_test_drop_events(fx->w, 1);
    put_renamed(fx, "late.json", 6, 1);
    assert_true(run_until(fx, cond_listed_one, 1000));  /* no rescan() asked for it */
    assert_seen_once(fx, "late.json", 6, 0);    /* found by a listing: not "renamed" */
}

/* dirs x files old files dNNN/fNNN.json.  They are hard links to one file
 * (_src, an ignored name): creating inodes is 50 times slower on some
 * filesystems, and the watcher does not care. */
static void make_many(struct fx *fx, int dirs, int files)
{
    char rel[64], src[512], p[512];
    put_file(fx, "_src", 1, 1);
    path_of(fx, "_src", src, sizeof src);
    for (int d = 0; d < dirs; d++) {
        snprintf(rel, sizeof rel, "d%03d", d);
        make_dir(fx, rel);
        for (int n = 0; n < files; n++) {
            snprintf(rel, sizeof rel, "d%03d/f%03d.json", d, n);
            path_of(fx, rel, p, sizeof p);
            assert_int_equal(link(src, p), 0);
        }
    }
}

static void test_many_files_are_listed_in_chunks_without_blocking_the_loop(void **state)
{
    struct fx *fx = *state;
    const size_t total = MANY_DIRS * MANY_FILES;
    make_many(fx, MANY_DIRS, MANY_FILES);
    fx->bitmap = calloc(total, 1);
    assert_non_null(fx->bitmap);
    start(fx);
    assert_true(run_until(fx, cond_listed, 20000));
    assert_int_equal(fx->listed_n, total);
    assert_int_equal(fx->n_reports, total);
    assert_int_equal(fx->n_dups, 0);
    assert_int_equal(fx->n_strange, 0);
    for (size_t i = 0; i < total; i++)
        assert_int_equal(fx->bitmap[i], 1);
    /* Handed over in chunks, each one loop iteration's work. */
    assert_true(fx->max_burst > 0 && fx->max_burst <= 1000);
    if (fx->max_gap_ns >= 50 * MS * scale())
        fail_msg("the loop stalled for %.1f ms", fx->max_gap_ns / 1e6);
}

static void test_stop_from_a_callback_during_a_listing(void **state)
{
    struct fx *fx = *state;
    make_many(fx, 50, MANY_FILES);              /* 5000 files: several chunks */
    fx->bitmap = calloc(MANY_DIRS * MANY_FILES, 1);
    assert_non_null(fx->bitmap);
    fx->stop_on_ready = 1;
    start(fx);
    assert_true(run_until(fx, cond_closed, 5000));
    assert_int_equal(fx->n_reports, 1);
    assert_int_equal(fx->listed_calls, 0);
}

static void test_stop_right_after_start_while_the_listing_runs(void **state)
{
    struct fx *fx = *state;
    make_many(fx, 50, MANY_FILES);
    fx->bitmap = calloc(MANY_DIRS * MANY_FILES, 1);
    assert_non_null(fx->bitmap);
    start(fx);
    assert_true(ingest_dirwatch_listing(fx->w));
    stop(fx);
    assert_true(run_until(fx, cond_closed, 5000));
    assert_int_equal(fx->n_reports, 0);
    assert_int_equal(fx->listed_calls, 0);
}

static void test_stop_waits_for_the_chunk_on_the_worker(void **state)
{
    struct fx *fx = *state;
    make_many(fx, 5, MANY_FILES);
    fx->bitmap = calloc(MANY_DIRS * MANY_FILES, 1);
    assert_non_null(fx->bitmap);
    assert_int_equal(uv_sem_init(&fx->entered, 0), 0);
    assert_int_equal(uv_sem_init(&fx->release, 0), 0);
    fx->block_known = 1;
    start(fx);
    int entered = -1;                           /* the worker is inside the walk */
    for (uint64_t t = 0; t < 2000 * scale() && (entered = uv_sem_trywait(&fx->entered)) != 0; t++)
        usleep(1000);
    stop(fx);
    run_until(fx, NULL, 100);
    int closed_early = fx->closed_calls;        /* not while the worker runs */
    uv_sem_post(&fx->release);                  /* before any assert, so nothing hangs */
    assert_int_equal(entered, 0);
    assert_int_equal(closed_early, 0);
    assert_true(run_until(fx, cond_closed, 1000));
    assert_int_equal(fx->n_reports, 0);
    assert_int_equal(fx->listed_calls, 0);
    uv_sem_destroy(&fx->entered);
    uv_sem_destroy(&fx->release);
}

static void test_stop_from_a_callback_while_files_settle(void **state)
{
    struct fx *fx = *state;
    fx->o.settle_ms = 100;
    put_file(fx, "a.json", 1, 0);               /* recent: all three settle together */
    put_file(fx, "b.json", 1, 0);
    put_file(fx, "c.json", 1, 0);
    fx->stop_on_ready = 1;
    start(fx);
    assert_true(run_until(fx, cond_closed, 1000));
    assert_int_equal(fx->listed_calls, 1);
    assert_int_equal(fx->n_reports, 1);
}

static void test_stop_with_files_waiting_to_settle(void **state)
{
    struct fx *fx = *state;
    put_file(fx, "fresh.json", 1, 0);
    start(fx);
    assert_true(run_until(fx, cond_listed, 1000));
    put_file(fx, "fresh2.json", 1, 0);
    assert_true(run_until_unsettled(fx, 2, 500));
    stop(fx);
    assert_true(run_until(fx, cond_closed, 1000));
    assert_int_equal(fx->n_seen, 0);
}

static void test_start_rejects_a_missing_or_non_directory_root(void **state)
{
    struct fx *fx = *state;
    char err[256], p[512];
    path_of(fx, "nope", p, sizeof p);
    fx->o.root = p;
    err[0] = '\0';
    assert_null(ingest_dirwatch_start(&fx->loop, &fx->o, err, sizeof err));
    assert_non_null(strstr(err, p));

    put_file(fx, "file", 1, 0);
    path_of(fx, "file", p, sizeof p);
    err[0] = '\0';
    assert_null(ingest_dirwatch_start(&fx->loop, &fx->o, err, sizeof err));
    assert_non_null(strstr(err, "not a directory"));

    fx->o.root = "relative/dir";
    err[0] = '\0';
    assert_null(ingest_dirwatch_start(&fx->loop, &fx->o, err, sizeof err));
    assert_true(err[0] != '\0');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(test_existing_files_are_listed_and_filtered),
        T(test_recent_file_found_by_listing_waits_to_settle),
        T(test_without_list_at_start_existing_files_are_skipped_but_watched),
        T(test_renamed_file_is_reported_at_once),
        T(test_slow_writer_is_reported_once_after_it_stops),
        T(test_writer_keeping_an_old_mtime_is_still_waited_for),
        T(test_lost_write_events_still_delay_the_report),
        T(test_file_gone_before_settling_is_dropped),
        T(test_settle_zero_reports_when_the_writer_closes),
        T(test_new_subdirectory_is_listed_and_watched_when_recursive),
        T(test_nested_directories_created_at_once_are_found),
        T(test_subdirectories_are_ignored_when_not_recursive),
        T(test_known_files_are_not_reported),
        T(test_rescan_finds_files_whose_events_were_lost),
        T(test_backfill_listing_finds_missed_files_periodically),
        T(test_many_files_are_listed_in_chunks_without_blocking_the_loop),
        T(test_stop_from_a_callback_during_a_listing),
        T(test_stop_right_after_start_while_the_listing_runs),
        T(test_stop_waits_for_the_chunk_on_the_worker),
        T(test_stop_from_a_callback_while_files_settle),
        T(test_stop_with_files_waiting_to_settle),
        T(test_start_rejects_a_missing_or_non_directory_root),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
