/*
 * test_filestate.c - the directory source's file-state store (filestate.h):
 * records round-trip bit for bit, pending files come back in discovery
 * order a page at a time, counts and mark_committed do what the engine
 * relies on, transactions discard what they should, and open refuses
 * files that are not ours without touching them.  I/O failure is injected
 * with RLIMIT_FSIZE.
 *
 * The scale test stores 50,000 records (1,000,000 with INGESTD_TEST_LONG=1)
 * and asserts that memory stays bounded; it prints insert rate, scan and
 * count times, database size and peak RSS as TAP comments.
 *
 * Each test gets a fresh checkpoint directory.  The tests open files.db
 * directly with SQLite only to check or forge what is on disk.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ingestd/error.h"
#include "ingestd/filestate.h"
#include "scratch.h"

#ifdef __SANITIZE_ADDRESS__
/* ASan keeps up to 256 MiB of freed memory resident (its quarantine), which
 * would swamp the scale test's bound on RSS growth; 16 MiB still holds every
 * block a test here frees long enough to catch a use after free.  An
 * ASAN_OPTIONS in the environment overrides this. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=16";
}
#endif

/* --- helpers ---------------------------------------------------------------------- */

static char dir[256];
static char dbpath[300];

static int setup_dir(void **state)
{
    (void)state;
    if (scratch_make(dir, sizeof dir, "test_filestate") != 0)
        return -1;
    snprintf(dbpath, sizeof dbpath, "%s/files.db", dir);
    return 0;
}

static int teardown_dir(void **state)
{
    (void)state;
    return scratch_remove(dir);
}

static struct ingest_filestate *open_store(void)
{
    char err[512] = "";
    struct ingest_filestate *fs = ingest_filestate_open(dir, err, sizeof err);

    if (!fs)
        fail_msg("open %s: %s", dir, err);
    return fs;
}

/* A record with the defaults of a newly discovered file. */
static struct ingest_file_rec rec_make(const char *path, int64_t ms, int status)
{
    return (struct ingest_file_rec){
        .path = (char *)path, .size = 1000, .mtime_ns = 1700000000000000000, .inode = 42,
        .discovered_ms = ms, .status = status, .offset = 0, .batch = -1, .version = -1,
        .committed_ms = -1, .reason = NULL,
    };
}

static void put_ok(struct ingest_filestate *fs, struct ingest_file_rec rec)
{
    int rc = ingest_filestate_put(fs, &rec);

    if (rc != 0)
        fail_msg("put %s: %s", rec.path, ingest_filestate_errmsg(fs));
}

static struct ingest_file_rec get_ok(struct ingest_filestate *fs, const char *path)
{
    struct ingest_file_rec rec;
    int rc = ingest_filestate_get(fs, path, &rec);

    if (rc != 0)
        fail_msg("get %s: %s (%s)", path, ingest_err_name(rc), ingest_filestate_errmsg(fs));
    return rec;
}

static void assert_rec_equal(const struct ingest_file_rec *got, const struct ingest_file_rec *want)
{
    assert_string_equal(got->path, want->path);
    assert_true(got->size == want->size);
    assert_true(got->mtime_ns == want->mtime_ns);
    assert_true(got->inode == want->inode);
    assert_true(got->discovered_ms == want->discovered_ms);
    assert_int_equal(got->status, want->status);
    assert_true(got->offset == want->offset);
    assert_true(got->batch == want->batch);
    assert_true(got->version == want->version);
    assert_true(got->committed_ms == want->committed_ms);
    if (want->reason)
        assert_string_equal(got->reason, want->reason);
    else
        assert_null(got->reason);
}

/* Scan callback: keeps copies of what it saw. */
struct seen {
    size_t   n;
    size_t   stop_after;    /* 0: never stop */
    char    *path[64];
    int64_t  ms[64];
    int      status[64];
};

static int collect(void *ud, const struct ingest_file_rec *rec)
{
    struct seen *s = ud;

    assert_true(s->n < 64);
    s->path[s->n] = strdup(rec->path);
    s->ms[s->n] = rec->discovered_ms;
    s->status[s->n] = rec->status;
    s->n++;
    return s->stop_after && s->n >= s->stop_after;
}

static void seen_free(struct seen *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->path[i]);
    memset(s, 0, sizeof *s);
}

static void assert_contains(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("\"%s\" does not mention \"%s\"", text, needle);
}

/* Runs one statement on files.db behind the store's back. */
static void sql_on_disk(const char *sql)
{
    sqlite3 *db = NULL;
    char *msg = NULL;

    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

static char *pragma_on_disk(const char *pragma)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char *v;

    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, pragma, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static int64_t file_size(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- records ---------------------------------------------------------------------- */

static void test_put_get_round_trips_every_field(void **state)
{
    (void)state;
    struct ingest_filestate *fs = open_store();
    const struct ingest_file_rec want[] = {
        { .path = "in/it's \"quoted\"; DROP TABLE files;--.json", .size = INT64_MAX,
          .mtime_ns = INT64_MIN, .inode = UINT64_MAX, .discovered_ms = INT64_MAX,
          .status = INGEST_FILE_SKIPPED, .offset = INT64_MIN, .batch = INT64_MAX,
          .version = INT64_MIN, .committed_ms = INT64_MAX,
          .reason = "changed after ingestion:\nsize 10 -> 'twelve' \"really\"" },
        { .path = "line\nbreak/日本語/über.json", .size = 0, .mtime_ns = 0, .inode = 0,
          .discovered_ms = INT64_MIN, .status = INGEST_FILE_DISCOVERED, .offset = 0,
          .batch = -1, .version = -1, .committed_ms = -1, .reason = NULL },
        { .path = "not-utf8-\xff\xfe.json", .size = 1, .mtime_ns = -1,
          .inode = UINT64_C(1) << 63, .discovered_ms = 0, .status = INGEST_FILE_IN_BATCH,
          .offset = 1, .batch = 0, .version = 0, .committed_ms = 0, .reason = "" },
        { .path = "c", .size = 77, .mtime_ns = 5, .inode = INT64_MAX, .discovered_ms = 9,
          .status = INGEST_FILE_COMMITTED, .offset = 77, .batch = 3, .version = 4,
          .committed_ms = 1700000000123, .reason = NULL },
    };

    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        put_ok(fs, want[i]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct ingest_file_rec got = get_ok(fs, want[i].path);
        assert_rec_equal(&got, &want[i]);
        ingest_file_rec_free(&got);
        assert_null(got.path);
        assert_null(got.reason);
    }
    ingest_filestate_close(fs);
}

static void test_get_of_unknown_path_is_enoent(void **state)
{
    (void)state;
    struct ingest_filestate *fs = open_store();
    struct ingest_file_rec got;

    put_ok(fs, rec_make("a/b.json", 1, INGEST_FILE_DISCOVERED));
    assert_int_equal(ingest_filestate_get(fs, "a/b.json/", &got), INGEST_ENOENT);
    assert_int_equal(ingest_filestate_get(fs, "a/B.json", &got), INGEST_ENOENT);
    assert_int_equal(ingest_filestate_get(fs, "", &got), INGEST_ENOENT);
    assert_null(got.path);
    assert_null(got.reason);
    /* Not a failure: nothing to log. */
    assert_string_equal(ingest_filestate_errmsg(fs), "");
    ingest_filestate_close(fs);
}

static void test_put_replaces_the_record_with_the_same_path(void **state)
{
    (void)state;
    struct ingest_filestate *fs = open_store();
    struct ingest_file_rec first = rec_make("x.json", 10, INGEST_FILE_DISCOVERED);
    struct ingest_file_rec second = rec_make("x.json", 20, INGEST_FILE_SKIPPED);
    struct ingest_file_rec third = rec_make("x.json", 30, INGEST_FILE_DISCOVERED);
    struct ingest_file_rec got;
    int64_t files = 0;

    second.reason = "unreadable";
    second.size = 5;
    put_ok(fs, first);
    put_ok(fs, second);
    got = get_ok(fs, "x.json");
    assert_rec_equal(&got, &second);
    ingest_file_rec_free(&got);
    /* A replacement without a reason drops the old one. */
    put_ok(fs, third);
    got = get_ok(fs, "x.json");
    assert_rec_equal(&got, &third);
    ingest_file_rec_free(&got);
    assert_int_equal(ingest_filestate_count(fs, -1, &files, NULL), 0);
    assert_int_equal(files, 1);
    ingest_filestate_close(fs);
}

static void test_put_rejects_empty_path_and_unknown_status(void **state)
{
    (void)state;
    struct ingest_filestate *fs = open_store();
    struct ingest_file_rec rec = rec_make("", 1, INGEST_FILE_DISCOVERED);
    int64_t files = -1;

    assert_int_equal(ingest_filestate_put(fs, &rec), INGEST_EINVAL);
    assert_contains(ingest_filestate_errmsg(fs), dbpath);
    rec.path = NULL;
    assert_int_equal(ingest_filestate_put(fs, &rec), INGEST_EINVAL);
    rec = rec_make("ok.json", 1, 4);
    assert_int_equal(ingest_filestate_put(fs, &rec), INGEST_EINVAL);
    rec.status = -1;
    assert_int_equal(ingest_filestate_put(fs, &rec), INGEST_EINVAL);
    assert_int_equal(ingest_filestate_count(fs, -1, &files, NULL), 0);
    assert_int_equal(files, 0);
    ingest_filestate_close(fs);
}

/* --- scan ------------------------------------------------------------------------- */

/* Stored out of order; equal discovery times are ordered by path, bytewise. */
static const struct { const char *path; int64_t ms; int status; } scan_set[] = {
    { "b",   100, INGEST_FILE_DISCOVERED },
    { "a",   100, INGEST_FILE_COMMITTED },
    { "z",    50, INGEST_FILE_DISCOVERED },
    { "a/x", 100, INGEST_FILE_DISCOVERED },
    { "0",   200, INGEST_FILE_SKIPPED },
    { "c",   100, INGEST_FILE_IN_BATCH },
    { "m",   150, INGEST_FILE_DISCOVERED },
};
static const char *const scan_order[] = { "z", "a", "a/x", "b", "c", "m", "0" };

static struct ingest_filestate *open_scan_set(void)
{
    struct ingest_filestate *fs = open_store();

    for (size_t i = 0; i < sizeof scan_set / sizeof scan_set[0]; i++)
        put_ok(fs, rec_make(scan_set[i].path, scan_set[i].ms, scan_set[i].status));
    return fs;
}

/* Pages through `status` with `limit` records a page, resuming from the
 * last record of the previous page, and returns the paths seen. */
static void scan_pages(struct ingest_filestate *fs, int status, size_t limit, struct seen *all)
{
    int64_t ms = 0;
    char *cursor = NULL;

    for (;;) {
        struct seen page = { 0 };
        long n = ingest_filestate_scan(fs, status, ms, cursor, limit, collect, &page);
        assert_true(n >= 0);
        assert_int_equal((size_t)n, page.n);
        assert_true((size_t)n <= limit);
        for (size_t i = 0; i < page.n; i++) {
            all->path[all->n] = strdup(page.path[i]);
            all->ms[all->n] = page.ms[i];
            all->status[all->n++] = page.status[i];
        }
        if (page.n) {
            free(cursor);
            cursor = strdup(page.path[page.n - 1]);
            ms = page.ms[page.n - 1];
        }
        seen_free(&page);
        if ((size_t)n < limit)
            break;
    }
    free(cursor);
}

static void test_scan_pages_in_discovery_order_with_path_tiebreak(void **state)
{
    (void)state;
    struct ingest_filestate *fs = open_scan_set();
    struct seen all = { 0 };

    scan_pages(fs, -1, 2, &all);
    assert_int_equal(all.n, 7);
    for (size_t i = 0; i < all.n; i++)
        assert_string_equal(all.path[i], scan_order[i]);
    seen_free(&all);

    /* No limit: everything in one call. */
    assert_int_equal(ingest_filestate_scan(fs, -1, 0, NULL, 0, collect, &all), 7);
    seen_free(&all);
    /* Cursor in the middle of a tie: strictly after (100, "a/x"). */
    assert_int_equal(ingest_filestate_scan(fs, -1, 100, "a/x", 0, collect, &all), 4);
    assert_string_equal(all.path[0], "b");
    seen_free(&all);
    /* An empty path in the cursor: everything discovered at 100 or later. */
    assert_int_equal(ingest_filestate_scan(fs, -1, 100, "", 3, collect, &all), 3);
    assert_string_equal(all.path[0], "a");
    assert_string_equal(all.path[2], "b");
    seen_free(&all);
    ingest_filestate_close(fs);
}

static void test_scan_filters_by_status(void **state)
{
    (void)state;
    struct ingest_filestate *fs = open_scan_set();
    struct seen all = { 0 };
    static const char *const pending[] = { "z", "a/x", "b", "m" };

    scan_pages(fs, INGEST_FILE_DISCOVERED, 3, &all);
    assert_int_equal(all.n, 4);
    for (size_t i = 0; i < all.n; i++) {
        assert_string_equal(all.path[i], pending[i]);
        assert_int_equal(all.status[i], INGEST_FILE_DISCOVERED);
    }
    seen_free(&all);
    assert_int_equal(ingest_filestate_scan(fs, INGEST_FILE_SKIPPED, 0, NULL, 0, collect, &all), 1);
    assert_string_equal(all.path[0], "0");
    seen_free(&all);
    /* -1 visits every status in one order (the merge across statuses). */
    scan_pages(fs, -1, 1, &all);
    assert_int_equal(all.n, 7);
    assert_int_equal(all.status[1], INGEST_FILE_COMMITTED);
    assert_int_equal(all.status[4], INGEST_FILE_IN_BATCH);
    seen_free(&all);
    assert_int_equal(ingest_filestate_scan(fs, 4, 0, NULL, 0, collect, &all), INGEST_EINVAL);
    assert_int_equal(ingest_filestate_scan(fs, -2, 0, NULL, 0, collect, &all), INGEST_EINVAL);
    assert_int_equal(all.n, 0);
    ingest_filestate_close(fs);
}

static void test_scan_stops_when_the_callback_asks(void **state)
{
    (void)state;
    struct ingest_filestate *fs = open_scan_set();
    struct seen s = { .stop_after = 3 };

    assert_int_equal(ingest_filestate_scan(fs, -1, 0, NULL, 0, collect, &s), 3);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.path[2], "a/x");
    seen_free(&s);
    /* The statement was reset: the next scan starts afresh. */
    assert_int_equal(ingest_filestate_scan(fs, -1, 0, NULL, 0, collect, &s), 7);
    seen_free(&s);
    ingest_filestate_close(fs);
}

struct reentry {
    struct ingest_filestate *fs;
    int put_rc, scan_rc, get_rc, mark_rc;
};

static int reenter(void *ud, const struct ingest_file_rec *rec)
{
    struct reentry *r = ud;
    struct ingest_file_rec got;
    struct seen s = { 0 };

    r->put_rc = ingest_filestate_put(r->fs, rec);
    r->scan_rc = (int)ingest_filestate_scan(r->fs, -1, 0, NULL, 0, collect, &s);
    r->mark_rc = ingest_filestate_mark_committed(r->fs, 1, 1, 1);
    r->get_rc = ingest_filestate_get(r->fs, rec->path, &got);
    if (r->get_rc == 0)
        assert_string_equal(got.path, rec->path);
    ingest_file_rec_free(&got);
    return 1;
}

static void test_scan_callback_may_read_but_not_write(void **state)
{
    (void)state;
    struct ingest_filestate *fs = open_scan_set();
    struct reentry r = { .fs = fs };
    int64_t files = 0;

    assert_int_equal(ingest_filestate_scan(fs, INGEST_FILE_DISCOVERED, 0, NULL, 0, reenter, &r),
                     1);
    assert_int_equal(r.put_rc, INGEST_EBUSY);
    assert_int_equal(r.scan_rc, INGEST_EBUSY);
    assert_int_equal(r.mark_rc, INGEST_EBUSY);
    assert_int_equal(r.get_rc, 0);
    /* After the scan, writes work again. */
    put_ok(fs, rec_make("new", 1, INGEST_FILE_DISCOVERED));
    assert_int_equal(ingest_filestate_count(fs, -1, &files, NULL), 0);
    assert_int_equal(files, 8);
    ingest_filestate_close(fs);
}

/* --- count, mark_committed --------------------------------------------------------- */

static void test_count_sums_bytes_left_to_read(void **state)
{
    (void)state;
    struct ingest_filestate *fs = open_store();
    struct ingest_file_rec r;
    int64_t files = -1, bytes = -1;

    r = rec_make("whole", 1, INGEST_FILE_DISCOVERED), r.size = 100;
    put_ok(fs, r);
    r = rec_make("partial", 2, INGEST_FILE_DISCOVERED), r.size = 100, r.offset = 40;
    put_ok(fs, r);
    r = rec_make("planned", 3, INGEST_FILE_IN_BATCH), r.size = 50, r.offset = 50, r.batch = 1;
    put_ok(fs, r);
    r = rec_make("done", 4, INGEST_FILE_COMMITTED), r.size = 10, r.offset = 10;
    put_ok(fs, r);

    assert_int_equal(ingest_filestate_count(fs, INGEST_FILE_DISCOVERED, &files, &bytes), 0);
    assert_int_equal(files, 2);
    assert_int_equal(bytes, 160);
    assert_int_equal(ingest_filestate_count(fs, INGEST_FILE_IN_BATCH, &files, &bytes), 0);
    assert_int_equal(files, 1);
    assert_int_equal(bytes, 0);
    assert_int_equal(ingest_filestate_count(fs, INGEST_FILE_SKIPPED, &files, &bytes), 0);
    assert_int_equal(files, 0);
    assert_int_equal(bytes, 0);
    assert_int_equal(ingest_filestate_count(fs, -1, &files, &bytes), 0);
    assert_int_equal(files, 4);
    assert_int_equal(bytes, 160);
    assert_int_equal(ingest_filestate_count(fs, INGEST_FILE_DISCOVERED, NULL, NULL), 0);
    assert_int_equal(ingest_filestate_count(fs, 7, &files, &bytes), INGEST_EINVAL);
    ingest_filestate_close(fs);
}

static void test_mark_committed_completes_whole_files_and_requeues_partial_ones(void **state)
{
    (void)state;
    struct ingest_filestate *fs = open_store();
    struct ingest_file_rec whole = rec_make("whole", 1, INGEST_FILE_IN_BATCH);
    struct ingest_file_rec part = rec_make("part", 2, INGEST_FILE_IN_BATCH);
    struct ingest_file_rec other = rec_make("other", 3, INGEST_FILE_IN_BATCH);
    struct ingest_file_rec skipped = rec_make("skipped", 4, INGEST_FILE_SKIPPED);
    struct ingest_file_rec old = rec_make("old", 0, INGEST_FILE_COMMITTED);
    struct ingest_file_rec got;

    whole.size = 100, whole.offset = 100, whole.batch = 7;
    part.size = 100, part.offset = 60, part.batch = 7;
    other.batch = 8;
    skipped.batch = 7, skipped.reason = "changed after ingestion";
    old.offset = old.size, old.batch = 7, old.version = 3, old.committed_ms = 111;
    put_ok(fs, whole);
    put_ok(fs, part);
    put_ok(fs, other);
    put_ok(fs, skipped);
    put_ok(fs, old);

    assert_int_equal(ingest_filestate_mark_committed(fs, 7, 12, 5000), 0);
    whole.status = INGEST_FILE_COMMITTED, whole.version = 12, whole.committed_ms = 5000;
    part.status = INGEST_FILE_DISCOVERED, part.version = 12;
    const struct ingest_file_rec *want[] = { &whole, &part, &other, &skipped, &old };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        got = get_ok(fs, want[i]->path);
        assert_rec_equal(&got, want[i]);
        ingest_file_rec_free(&got);
    }

    /* Replaying the same commit (WAL replay after a crash) changes nothing. */
    assert_int_equal(ingest_filestate_mark_committed(fs, 7, 12, 9999), 0);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        got = get_ok(fs, want[i]->path);
        assert_rec_equal(&got, want[i]);
        ingest_file_rec_free(&got);
    }
    ingest_filestate_close(fs);
}

/* --- transactions ----------------------------------------------------------------- */

static void test_rollback_discards_every_change_since_begin(void **state)
{
    (void)state;
    struct ingest_filestate *fs = open_store();
    struct ingest_file_rec a = rec_make("a", 1, INGEST_FILE_IN_BATCH);
    struct ingest_file_rec changed = a, got;

    a.batch = 1, a.offset = a.size;
    put_ok(fs, a);
    assert_int_equal(ingest_filestate_begin(fs), 0);
    put_ok(fs, rec_make("b", 2, INGEST_FILE_DISCOVERED));
    changed.reason = "changed";
    changed.status = INGEST_FILE_SKIPPED;
    put_ok(fs, changed);
    assert_int_equal(ingest_filestate_mark_committed(fs, 1, 1, 1), 0);
    ingest_filestate_rollback(fs);

    assert_int_equal(ingest_filestate_get(fs, "b", &got), INGEST_ENOENT);
    got = get_ok(fs, "a");
    assert_rec_equal(&got, &a);
    ingest_file_rec_free(&got);
    /* Rolling back with nothing open is harmless. */
    ingest_filestate_rollback(fs);
    ingest_filestate_close(fs);
}

static void test_commit_keeps_changes_and_nesting_is_refused(void **state)
{
    (void)state;
    struct ingest_filestate *fs = open_store();
    struct ingest_file_rec got;

    assert_int_equal(ingest_filestate_commit(fs), INGEST_EINVAL);
    assert_contains(ingest_filestate_errmsg(fs), "no transaction");
    assert_int_equal(ingest_filestate_begin(fs), 0);
    put_ok(fs, rec_make("c", 3, INGEST_FILE_DISCOVERED));
    assert_int_equal(ingest_filestate_begin(fs), INGEST_EINVAL);
    assert_contains(ingest_filestate_errmsg(fs), "already open");
    assert_contains(ingest_filestate_errmsg(fs), dbpath);
    assert_int_equal(ingest_filestate_commit(fs), 0);
    got = get_ok(fs, "c");
    ingest_file_rec_free(&got);
    ingest_filestate_close(fs);
}

static void test_close_rolls_back_an_open_transaction(void **state)
{
    (void)state;
    struct ingest_filestate *fs = open_store();
    struct ingest_file_rec got;

    put_ok(fs, rec_make("kept", 1, INGEST_FILE_DISCOVERED));
    assert_int_equal(ingest_filestate_begin(fs), 0);
    put_ok(fs, rec_make("lost", 2, INGEST_FILE_DISCOVERED));
    ingest_filestate_close(fs);

    fs = open_store();
    assert_int_equal(ingest_filestate_get(fs, "lost", &got), INGEST_ENOENT);
    got = get_ok(fs, "kept");
    ingest_file_rec_free(&got);
    ingest_filestate_close(fs);
}

/* --- the file --------------------------------------------------------------------- */

static void test_reopen_keeps_data_in_a_wal_mode_file(void **state)
{
    (void)state;
    struct ingest_filestate *fs = open_store();
    struct ingest_file_rec skipped = rec_make("s", 3, INGEST_FILE_SKIPPED), got;
    int64_t files = 0, bytes = 0;
    char *v;

    skipped.reason = "unreadable: permission denied";
    put_ok(fs, rec_make("a", 1, INGEST_FILE_DISCOVERED));
    assert_int_equal(ingest_filestate_begin(fs), 0);
    put_ok(fs, rec_make("b", 2, INGEST_FILE_DISCOVERED));
    put_ok(fs, skipped);
    assert_int_equal(ingest_filestate_commit(fs), 0);
    ingest_filestate_close(fs);

    fs = open_store();
    got = get_ok(fs, "s");
    assert_rec_equal(&got, &skipped);
    ingest_file_rec_free(&got);
    assert_int_equal(ingest_filestate_count(fs, INGEST_FILE_DISCOVERED, &files, &bytes), 0);
    assert_int_equal(files, 2);
    assert_int_equal(bytes, 2000);
    ingest_filestate_close(fs);

    v = pragma_on_disk("PRAGMA journal_mode");
    assert_string_equal(v, "wal");
    free(v);
    v = pragma_on_disk("PRAGMA user_version");
    assert_string_equal(v, "1");
    free(v);
}

static void test_open_refuses_a_file_that_is_not_sqlite(void **state)
{
    (void)state;
    static const char junk[] = "{\"this\": \"is not a database\"}\n";
    char err[512] = "", back[sizeof junk] = "";
    FILE *f = fopen(dbpath, "w");

    assert_non_null(f);
    for (int i = 0; i < 200; i++)
        fputs(junk, f);
    fclose(f);
    assert_null(ingest_filestate_open(dir, err, sizeof err));
    assert_contains(err, dbpath);
    assert_contains(err, "not a database");
    /* Untouched. */
    f = fopen(dbpath, "r");
    assert_non_null(f);
    assert_non_null(fgets(back, sizeof back, f));
    fclose(f);
    assert_string_equal(back, junk);
    assert_int_equal(file_size(dbpath), 200 * (int64_t)strlen(junk));
}

static void test_open_refuses_another_programs_database(void **state)
{
    (void)state;
    char err[512] = "", *v;
    sql_on_disk("CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT);"
                "INSERT INTO accounts VALUES (1, 'alice');");

    assert_null(ingest_filestate_open(dir, err, sizeof err));
    assert_contains(err, dbpath);
    assert_contains(err, "not an ingestd file-state database");
    /* Not converted to WAL mode, data intact. */
    v = pragma_on_disk("PRAGMA journal_mode");
    assert_string_equal(v, "delete");
    free(v);
    v = pragma_on_disk("SELECT owner FROM accounts");
    assert_string_equal(v, "alice");
    free(v);
}

static void test_open_refuses_a_newer_schema_version(void **state)
{
    (void)state;
    char err[512] = "";

    ingest_filestate_close(open_store());
    sql_on_disk("PRAGMA user_version = 2");
    assert_null(ingest_filestate_open(dir, err, sizeof err));
    assert_contains(err, dbpath);
    assert_contains(err, "schema version 2 is newer");
}

static void test_open_of_a_missing_directory_names_the_file(void **state)
{
    (void)state;
    char err[512] = "", missing[320];

    snprintf(missing, sizeof missing, "%s/no/such/dir", dir);
    assert_null(ingest_filestate_open(missing, err, sizeof err));
    assert_contains(err, "no/such/dir/files.db");
    assert_null(ingest_filestate_open("", err, sizeof err));
    assert_null(ingest_filestate_open(NULL, err, sizeof err));
}

static void test_second_handle_shares_the_store(void **state)
{
    (void)state;
    struct ingest_filestate *a = open_store();
    struct ingest_filestate *b = open_store();
    struct ingest_file_rec got;

    put_ok(a, rec_make("one", 1, INGEST_FILE_DISCOVERED));
    got = get_ok(b, "one");
    ingest_file_rec_free(&got);
    /* b reads the last committed state while a writes. */
    assert_int_equal(ingest_filestate_begin(a), 0);
    put_ok(a, rec_make("two", 2, INGEST_FILE_DISCOVERED));
    assert_int_equal(ingest_filestate_get(b, "two", &got), INGEST_ENOENT);
    assert_int_equal(ingest_filestate_commit(a), 0);
    got = get_ok(b, "two");
    ingest_file_rec_free(&got);
    /* and writes once a is done. */
    put_ok(b, rec_make("three", 3, INGEST_FILE_DISCOVERED));
    got = get_ok(a, "three");
    ingest_file_rec_free(&got);
    ingest_filestate_close(b);
    ingest_filestate_close(a);
}

/* A write that hits the file-size limit fails as SQLite would on a broken
 * disk: the error names the file, the transaction rolls back, and the
 * store still works once writes succeed again. */
static void test_write_error_is_reported_and_the_store_recovers(void **state)
{
    (void)state;
    struct ingest_filestate *fs = open_store();
    struct ingest_file_rec rec = rec_make("before", 1, INGEST_FILE_DISCOVERED), got;
    struct rlimit old, small = { 2 << 20, 0 };
    static char reason[4000];
    char path[32];
    int rc = 0;
    void (*old_handler)(int);

    put_ok(fs, rec);
    memset(reason, 'r', sizeof reason - 1);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    small.rlim_max = old.rlim_max;
    old_handler = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);

    /* 40 MB of records outgrow the 8 MiB cache, so pages spill to the WAL
     * before commit; whichever write crosses 2 MiB fails. */
    assert_int_equal(ingest_filestate_begin(fs), 0);
    for (int i = 0; i < 10000 && rc == 0; i++) {
        snprintf(path, sizeof path, "big-%05d", i);
        rec = rec_make(path, 2, INGEST_FILE_SKIPPED);
        rec.reason = reason;
        rc = ingest_filestate_put(fs, &rec);
    }
    if (rc == 0)
        rc = ingest_filestate_commit(fs);
    ingest_filestate_rollback(fs);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, old_handler);

    assert_int_equal(rc, INGEST_EIO);
    assert_contains(ingest_filestate_errmsg(fs), dbpath);
    assert_contains(ingest_filestate_errmsg(fs), "disk I/O error");
    assert_contains(ingest_filestate_errmsg(fs), "File too large");
    assert_int_equal(ingest_filestate_get(fs, "big-00000", &got), INGEST_ENOENT);
    got = get_ok(fs, "before");
    ingest_file_rec_free(&got);
    put_ok(fs, rec_make("after", 3, INGEST_FILE_DISCOVERED));
    ingest_filestate_close(fs);

    fs = open_store();
    got = get_ok(fs, "after");
    ingest_file_rec_free(&got);
    ingest_filestate_close(fs);
}

static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(ingest_file_status_name(INGEST_FILE_DISCOVERED), "discovered");
    assert_string_equal(ingest_file_status_name(INGEST_FILE_IN_BATCH), "in_batch");
    assert_string_equal(ingest_file_status_name(INGEST_FILE_COMMITTED), "committed");
    assert_string_equal(ingest_file_status_name(INGEST_FILE_SKIPPED), "skipped");
    assert_string_equal(ingest_file_status_name(-1), "unknown");
    assert_string_equal(ingest_file_status_name(4), "unknown");
}

/* --- scale ------------------------------------------------------------------------ */

#define SCALE_TX 10000

/* Record i of the scale set: 100 files a millisecond, paths not in
 * discovery order; every 10th committed, every 50th skipped. */
static struct ingest_file_rec scale_rec(size_t i, char *path, size_t len)
{
    struct ingest_file_rec rec;
    int status = i % 50 == 7 ? INGEST_FILE_SKIPPED
               : i % 10 == 0 ? INGEST_FILE_COMMITTED : INGEST_FILE_DISCOVERED;

    snprintf(path, len, "landing/2024/%02zu/%02zu/part-%07zu-%08zx.json",
             i % 12 + 1, i % 28 + 1, i, i * 2654435761u % 0xffffffffu);
    rec = rec_make(path, 1700000000000 + (int64_t)(i / 100), status);
    rec.size = 1000 + (int64_t)(i % 5000);
    rec.inode = 1000000 + i;
    if (status == INGEST_FILE_COMMITTED)
        rec.offset = rec.size, rec.batch = (int64_t)i / 5000, rec.version = rec.batch;
    if (status == INGEST_FILE_SKIPPED)
        rec.reason = "changed after ingestion";
    return rec;
}

struct scale_scan {
    size_t   n;
    int64_t  last_ms;
    char     last_path[96];
    int      ordered;
    char   (*paths)[96];        /* to re-plan them, or NULL */
};

static int scale_visit(void *ud, const struct ingest_file_rec *rec)
{
    struct scale_scan *s = ud;

    if (s->n && (rec->discovered_ms < s->last_ms ||
                 (rec->discovered_ms == s->last_ms && strcmp(rec->path, s->last_path) <= 0)))
        s->ordered = 0;
    s->last_ms = rec->discovered_ms;
    snprintf(s->last_path, sizeof s->last_path, "%s", rec->path);
    if (s->paths)
        snprintf(s->paths[s->n], sizeof s->paths[0], "%s", rec->path);
    s->n++;
    return 0;
}

static long max_rss_kib(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Resident now, in KiB: the baseline.  ru_maxrss is the peak of the whole
 * process, which earlier tests may have raised, so it would hide growth. */
static long rss_now_kib(void)
{
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    assert_non_null(f);
    assert_int_equal(fscanf(f, "%ld %ld", &size, &resident), 2);
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void test_a_million_records_keep_memory_bounded(void **state)
{
    (void)state;
    const char *env = getenv("INGESTD_TEST_LONG");
    size_t nrec = env && *env && strcmp(env, "0") != 0 ? 1000000 : 50000;
    size_t pending = 0, skipped = 0;
    long rss0 = rss_now_kib(), rss1;
    struct ingest_filestate *fs = open_store();
    struct scale_scan first = { .ordered = 1 }, deep = { .ordered = 1 }, all = { .ordered = 1 };
    char (*paths)[96] = calloc(1000, sizeof *paths);
    char path[96], wal[320];
    int64_t files = 0, bytes = 0, committed0 = 0, committed1 = 0;
    double t0, t_insert, t_scan, t_deep, t_all, t_count, t_mark;

    assert_non_null(paths);
    t0 = now_s();
    for (size_t i = 0; i < nrec; i += SCALE_TX) {
        assert_int_equal(ingest_filestate_begin(fs), 0);
        for (size_t j = i; j < i + SCALE_TX && j < nrec; j++) {
            struct ingest_file_rec rec = scale_rec(j, path, sizeof path);
            pending += rec.status == INGEST_FILE_DISCOVERED;
            skipped += rec.status == INGEST_FILE_SKIPPED;
            put_ok(fs, rec);
        }
        assert_int_equal(ingest_filestate_commit(fs), 0);
    }
    t_insert = now_s() - t0;

    /* The engine's planning step: the next 1,000 pending files... */
    first.paths = paths;
    t0 = now_s();
    assert_int_equal(ingest_filestate_scan(fs, INGEST_FILE_DISCOVERED, 0, NULL, 1000,
                                           scale_visit, &first), 1000);
    t_scan = now_s() - t0;
    assert_true(first.ordered);
    struct ingest_file_rec head = get_ok(fs, paths[0]);
    assert_int_equal(head.discovered_ms, 1700000000000);
    assert_int_equal(head.status, INGEST_FILE_DISCOVERED);
    ingest_file_rec_free(&head);

    /* ...planned into batch 1 and committed as version 1. */
    t0 = now_s();
    assert_int_equal(ingest_filestate_count(fs, INGEST_FILE_COMMITTED, &committed0, NULL), 0);
    assert_int_equal(ingest_filestate_begin(fs), 0);
    for (size_t k = 0; k < 1000; k++) {
        struct ingest_file_rec rec = get_ok(fs, paths[k]);
        rec.status = INGEST_FILE_IN_BATCH, rec.batch = 1000000, rec.offset = rec.size;
        put_ok(fs, rec);
        ingest_file_rec_free(&rec);
    }
    assert_int_equal(ingest_filestate_mark_committed(fs, 1000000, 99, 1), 0);
    assert_int_equal(ingest_filestate_commit(fs), 0);
    t_mark = now_s() - t0;
    assert_int_equal(ingest_filestate_count(fs, INGEST_FILE_COMMITTED, &committed1, NULL), 0);
    assert_int_equal(committed1 - committed0, 1000);

    /* A page deep in the set costs what the first one does. */
    t0 = now_s();
    assert_int_equal(ingest_filestate_scan(fs, INGEST_FILE_DISCOVERED,
                                           1700000000000 + (int64_t)nrec / 200, "", 1000,
                                           scale_visit, &deep), 1000);
    t_deep = now_s() - t0;
    assert_true(deep.ordered);
    t0 = now_s();
    assert_int_equal(ingest_filestate_scan(fs, -1, 1700000000000 + (int64_t)nrec / 200, "",
                                           1000, scale_visit, &all), 1000);
    t_all = now_s() - t0;
    assert_true(all.ordered);

    t0 = now_s();
    assert_int_equal(ingest_filestate_count(fs, INGEST_FILE_DISCOVERED, &files, &bytes), 0);
    t_count = now_s() - t0;
    assert_int_equal(files, (int64_t)pending - 1000);
    assert_true(bytes > 1000 * files);
    assert_int_equal(ingest_filestate_count(fs, INGEST_FILE_SKIPPED, &files, NULL), 0);
    assert_int_equal(files, (int64_t)skipped);
    assert_int_equal(ingest_filestate_count(fs, -1, &files, NULL), 0);
    assert_int_equal(files, (int64_t)nrec);

    rss1 = max_rss_kib();
    snprintf(wal, sizeof wal, "%s-wal", dbpath);
    print_message("# filestate scale: %zu records in transactions of %d: %.0f records/s "
                  "(%.1f s)\n", nrec, SCALE_TX, (double)nrec / t_insert, t_insert);
    print_message("# first 1000 pending: %.2f ms; 1000 from the middle: %.2f ms; "
                  "1000 of all statuses from the middle: %.2f ms\n",
                  t_scan * 1e3, t_deep * 1e3, t_all * 1e3);
    print_message("# plan+mark_committed of 1000: %.1f ms; count of %zu pending: %.1f ms\n",
                  t_mark * 1e3, pending - 1000, t_count * 1e3);
    print_message("# files.db %.1f MiB, -wal %.1f MiB; peak RSS %.1f MiB "
                  "(+%.1f MiB over the RSS before the test)\n",
                  (double)file_size(dbpath) / 1048576, (double)file_size(wal) / 1048576,
                  (double)rss1 / 1024, (double)(rss1 - rss0) / 1024);
    /* The page cache is 8 MiB; 64 MiB leaves room for the allocator and
     * sanitizers, and is still far below what a million records in memory
     * would cost. */
    assert_true(rss1 - rss0 < 64 * 1024);
    free(paths);
    ingest_filestate_close(fs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)
        T(test_put_get_round_trips_every_field),
        T(test_get_of_unknown_path_is_enoent),
        T(test_put_replaces_the_record_with_the_same_path),
        T(test_put_rejects_empty_path_and_unknown_status),
        T(test_scan_pages_in_discovery_order_with_path_tiebreak),
        T(test_scan_filters_by_status),
        T(test_scan_stops_when_the_callback_asks),
        T(test_scan_callback_may_read_but_not_write),
        T(test_count_sums_bytes_left_to_read),
        T(test_mark_committed_completes_whole_files_and_requeues_partial_ones),
        T(test_rollback_discards_every_change_since_begin),
        T(test_commit_keeps_changes_and_nesting_is_refused),
        T(test_close_rolls_back_an_open_transaction),
        T(test_reopen_keeps_data_in_a_wal_mode_file),
        T(test_open_refuses_a_file_that_is_not_sqlite),
        T(test_open_refuses_another_programs_database),
        T(test_open_refuses_a_newer_schema_version),
        T(test_open_of_a_missing_directory_names_the_file),
        T(test_second_handle_shares_the_store),
        T(test_write_error_is_reported_and_the_store_recovers),
        T(test_status_names),
        T(test_a_million_records_keep_memory_bounded),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
