/*
 * filestate.c - the directory source's file-state store on SQLite (see
 * filestate.h).
 *
 * One table, `files`, keyed by path and declared WITHOUT ROWID, so the
 * rows live in the primary-key b-tree and no path is stored twice.  An
 * index on (status, discovered_ms, path) lets the pending scan read one
 * page of DISCOVERED files in discovery order without touching the rest;
 * an index on batch lets mark_committed touch only that batch's files.
 * Pages are keyset pages (strictly after the last (discovered_ms, path)
 * seen), never OFFSET, so the thousandth page costs what the first does.
 * The all-statuses scan is one indexed range per status merged by SQLite
 * (MERGE UNION ALL), so it needs no sort and no index of its own.
 *
 * Durability: journal_mode=WAL with synchronous=FULL, so a commit is an
 * append to files.db-wal and one fsync.  The engine writes a few
 * transactions per batch, so the cost is a few fsyncs per batch; in return
 * a power loss cannot roll the store back behind the engine's WAL
 * (offsets/N, commits/N), which only re-applies the last batch on start.
 *
 * Memory: cache_size caps the page cache at 8 MiB per handle whatever the
 * number of records; scans stream rows and never load a table whole.
 *
 * Identity: application_id marks the file as ours and user_version carries
 * the schema version.  A file that is not SQLite, another program's
 * database, or a newer schema is refused at open with the path named, and
 * is left untouched: the check runs before the switch to WAL mode.
 *
 * Every SQL text is a constant prepared once at open and reused; data only
 * ever travels through bindings.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "ingestd/error.h"
#include "ingestd/filestate.h"

#define APPLICATION_ID   1768843076     /* 0x696e6744, "ingD" in the file header */
#define SCHEMA_VERSION   1
#define STR(x)           #x
#define XSTR(x)          STR(x)
#define BUSY_TIMEOUT_MS  5000           /* a second handle (ingestd files) writes briefly */

/* The SQL below spells statuses as numbers; keep them tied to the enum. */
_Static_assert(INGEST_FILE_DISCOVERED == 0 && INGEST_FILE_IN_BATCH == 1 &&
               INGEST_FILE_COMMITTED == 2 && INGEST_FILE_SKIPPED == 3,
               "filestate.c SQL spells the statuses as 0..3");

/* Run once, in a transaction, when the file is new.  STRICT makes SQLite
 * refuse a value of the wrong type instead of storing it. */
static const char schema_sql[] =
    "CREATE TABLE files ("
    " path TEXT PRIMARY KEY NOT NULL,"
    " size INTEGER NOT NULL,"
    " mtime_ns INTEGER NOT NULL,"
    " inode INTEGER NOT NULL,"          /* uint64 stored as the int64 with the same bits */
    " discovered_ms INTEGER NOT NULL,"
    " status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 3),"
    " \"offset\" INTEGER NOT NULL,"
    " line INTEGER NOT NULL,"          /* line number at offset, for bad-record reports */
    " batch INTEGER NOT NULL,"
    " version INTEGER NOT NULL,"
    " committed_ms INTEGER NOT NULL,"
    " reason TEXT"
    ") STRICT, WITHOUT ROWID;"
    "CREATE INDEX files_pending ON files (status, discovered_ms, path);"
    "CREATE INDEX files_batch ON files (batch);"
    "PRAGMA application_id = " XSTR(APPLICATION_ID) ";"
    "PRAGMA user_version = " XSTR(SCHEMA_VERSION) ";";

/* Column order shared by every SELECT and the INSERT (see read_row). */
#define COLS "path, size, mtime_ns, inode, discovered_ms, status, \"offset\", batch, " \
             "version, committed_ms, reason, line"

/* ?1 status (ignored by SCAN_ALL), ?2 ?3 the cursor, ?4 the limit (-1: none). */
#define SCAN_ARM(status) \
    "SELECT " COLS " FROM files WHERE status = " status " AND (discovered_ms, path) > (?2, ?3)"

#define REMAINING "coalesce(sum(size - \"offset\"), 0)"

enum stmt_id {
    ST_GET, ST_PUT, ST_SCAN_STATUS, ST_SCAN_ALL, ST_COUNT_STATUS, ST_COUNT_ALL,
    ST_MARK, ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_GET] = "SELECT " COLS " FROM files WHERE path = ?1",
    [ST_PUT] = "INSERT INTO files (" COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
               " ON CONFLICT (path) DO UPDATE SET size = excluded.size,"
               " mtime_ns = excluded.mtime_ns, inode = excluded.inode,"
               " discovered_ms = excluded.discovered_ms, status = excluded.status,"
               " \"offset\" = excluded.\"offset\", batch = excluded.batch,"
               " version = excluded.version, committed_ms = excluded.committed_ms,"
               " reason = excluded.reason, line = excluded.line",
    [ST_SCAN_STATUS] = SCAN_ARM("?1") " ORDER BY discovered_ms, path LIMIT ?4",
    [ST_SCAN_ALL] = SCAN_ARM("0") " UNION ALL " SCAN_ARM("1") " UNION ALL "
                    SCAN_ARM("2") " UNION ALL " SCAN_ARM("3")
                    " ORDER BY discovered_ms, path LIMIT ?4",
    [ST_COUNT_STATUS] = "SELECT count(*), " REMAINING " FROM files WHERE status = ?1",
    [ST_COUNT_ALL] = "SELECT count(*), " REMAINING " FROM files",
    [ST_MARK] = "UPDATE files SET"
                " status = CASE WHEN \"offset\" >= size THEN 2 ELSE 0 END,"
                " version = ?2,"
                " committed_ms = CASE WHEN \"offset\" >= size THEN ?3 ELSE committed_ms END"
                " WHERE batch = ?1 AND status = 1",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
};

struct ingest_filestate {
    sqlite3      *db;
    char         *path;                 /* <dir>/files.db, for messages */
    sqlite3_stmt *st[ST_COUNT];
    int           in_scan;              /* a scan callback is running */
    char          errmsg[4608];         /* room for a PATH_MAX path and the reason */
};

/* --- errors ---------------------------------------------------------------------- */

static int map_rc(int rc, int sys_errno)
{
    if (rc == SQLITE_IOERR_NOMEM)
        return INGEST_ENOMEM;
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:       return 0;
    case SQLITE_NOMEM:      return INGEST_ENOMEM;
    case SQLITE_FULL:       return INGEST_ENOSPC;
    case SQLITE_IOERR:      /* a quota is a full disk too (SQLite says FULL for ENOSPC only) */
        return sys_errno == EDQUOT || sys_errno == ENOSPC ? INGEST_ENOSPC : INGEST_EIO;
    case SQLITE_CANTOPEN:   return sys_errno ? ingest_err_from_errno(sys_errno) : INGEST_EIO;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:     return INGEST_EBUSY;
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:       return INGEST_EACCES;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:     return INGEST_ECORRUPT;
    case SQLITE_TOOBIG:     return INGEST_ERANGE;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_MISUSE:     return INGEST_EINVAL;
    case SQLITE_INTERRUPT:
    case SQLITE_ABORT:      return INGEST_ECANCELED;
    }
    return INGEST_EIO;      /* SQLITE_ERROR and the rest: the store failed */
}

/* Records an error of our own (not SQLite's) and returns code. */
static int fail_msg(struct ingest_filestate *fs, int code, const char *fmt, ...)
{
    int n = snprintf(fs->errmsg, sizeof fs->errmsg, "%s: ", fs->path ? fs->path : "files.db");
    va_list ap;

    if (n < 0 || (size_t)n >= sizeof fs->errmsg)
        return code;
    va_start(ap, fmt);
    vsnprintf(fs->errmsg + n, sizeof fs->errmsg - (size_t)n, fmt, ap);
    va_end(ap);
    return code;
}

/* Records SQLite's error for rc while doing `what` and returns the INGEST_E*
 * code.  Call before anything else touches the connection: sqlite3_errmsg
 * describes the most recent call. */
static int fail_sqlite(struct ingest_filestate *fs, int rc, const char *what)
{
    int prim = rc & 0xff;
    int sys = fs->db && (prim == SQLITE_IOERR || prim == SQLITE_CANTOPEN || prim == SQLITE_FULL)
              ? sqlite3_system_errno(fs->db) : 0;
    const char *msg = fs->db ? sqlite3_errmsg(fs->db) : sqlite3_errstr(rc);
    char buf[128];

    if (sys)
        return fail_msg(fs, map_rc(rc, sys), "%s: %s (%s)", what, msg,
                        strerror_r(sys, buf, sizeof buf));
    return fail_msg(fs, map_rc(rc, 0), "%s: %s", what, msg);
}

/* --- statements ------------------------------------------------------------------ */

static void done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Records the step error rc of st, then makes st reusable. */
static int fail_stmt(struct ingest_filestate *fs, sqlite3_stmt *st, int rc, const char *what)
{
    int err = fail_sqlite(fs, rc, what);

    done(st);
    return err;
}

/* Steps a statement that returns no rows. */
static int run(struct ingest_filestate *fs, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);

    if (rc != SQLITE_DONE)
        return fail_stmt(fs, st, rc, what);
    done(st);
    return 0;
}

/* Binds rec to ?1..?11 in COLS order.  The text is bound SQLITE_STATIC:
 * it stays valid until done() clears the bindings. */
static int bind_rec(sqlite3_stmt *st, const struct ingest_file_rec *rec)
{
    const int64_t v[] = {
        rec->size, rec->mtime_ns, (int64_t)rec->inode, rec->discovered_ms, rec->status,
        rec->offset, rec->batch, rec->version, rec->committed_ms,
    };
    int rc = sqlite3_bind_text64(st, 1, rec->path, strlen(rec->path), SQLITE_STATIC, SQLITE_UTF8);

    for (size_t i = 0; i < sizeof v / sizeof v[0] && rc == SQLITE_OK; i++)
        rc = sqlite3_bind_int64(st, (int)i + 2, v[i]);
    if (rc == SQLITE_OK && rec->reason)
        rc = sqlite3_bind_text64(st, 11, rec->reason, strlen(rec->reason), SQLITE_STATIC,
                                 SQLITE_UTF8);
    else if (rc == SQLITE_OK)
        rc = sqlite3_bind_null(st, 11);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 12, rec->line);
    return rc;
}

/* Fills rec from the current row of a COLS statement; the strings point
 * into the row and live until the next step or reset. */
static int read_row(sqlite3_stmt *st, struct ingest_file_rec *rec)
{
    rec->path = (char *)sqlite3_column_text(st, 0);
    rec->size = sqlite3_column_int64(st, 1);
    rec->mtime_ns = sqlite3_column_int64(st, 2);
    rec->inode = (uint64_t)sqlite3_column_int64(st, 3);
    rec->discovered_ms = sqlite3_column_int64(st, 4);
    rec->status = sqlite3_column_int(st, 5);
    rec->offset = sqlite3_column_int64(st, 6);
    rec->batch = sqlite3_column_int64(st, 7);
    rec->version = sqlite3_column_int64(st, 8);
    rec->committed_ms = sqlite3_column_int64(st, 9);
    rec->reason = (char *)sqlite3_column_text(st, 10);
    rec->line = sqlite3_column_int64(st, 11);
    /* column_text returns NULL for a non-NULL value only when out of memory. */
    if (!rec->path || (!rec->reason && sqlite3_column_type(st, 10) != SQLITE_NULL))
        return SQLITE_NOMEM;
    return SQLITE_OK;
}

static int valid_status(int status, int allow_all)
{
    return (status >= INGEST_FILE_DISCOVERED && status <= INGEST_FILE_SKIPPED) ||
           (allow_all && status == -1);
}

/* --- open ------------------------------------------------------------------------ */

/* Runs a one-row PRAGMA or SELECT and returns its first column in *out. */
static int query_int(struct ingest_filestate *fs, const char *sql, const char *what, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(fs->db, sql, -1, &st, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = fail_sqlite(fs, rc == SQLITE_DONE ? SQLITE_ERROR : rc, what);
        sqlite3_finalize(st);
        return rc;
    }
    *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return 0;
}

static int exec(struct ingest_filestate *fs, const char *sql, const char *what)
{
    int rc = sqlite3_exec(fs->db, sql, NULL, NULL, NULL);

    return rc == SQLITE_OK ? 0 : fail_sqlite(fs, rc, what);
}

/* Decides, from the header fields and the schema, whether the file is a
 * new database (create the schema), ours (carry on) or not to be touched. */
static int check_identity(struct ingest_filestate *fs, int64_t app, int64_t ver, int64_t objects)
{
    if (app == 0 && ver == 0 && objects == 0)
        return exec(fs, schema_sql, "creating the schema");
    if (app != APPLICATION_ID)
        return fail_msg(fs, INGEST_ECORRUPT,
                        "not an ingestd file-state database (an SQLite file with "
                        "application_id %#llx and %lld schema objects); move it away",
                        (unsigned long long)app, (long long)objects);
    if (ver > SCHEMA_VERSION)
        return fail_msg(fs, INGEST_ENOTSUP,
                        "file-state schema version %lld is newer than this ingestd "
                        "understands (%d); run a newer ingestd", (long long)ver, SCHEMA_VERSION);
    if (ver < SCHEMA_VERSION)
        return fail_msg(fs, INGEST_ECORRUPT,
                        "file-state schema version %lld is older than %d and cannot be "
                        "upgraded", (long long)ver, SCHEMA_VERSION);
    return 0;
}

/* Checks the file, creating the schema when it is new, inside one write
 * transaction so two handles opening a new file at once create it once.
 * Only reads a file that turns out not to be ours. */
static int check_or_create(struct ingest_filestate *fs)
{
    int64_t app = 0, ver = 0, objects = 0;
    int err = exec(fs, "BEGIN IMMEDIATE", "reading the file");

    if (err < 0)
        return err;
    if ((err = query_int(fs, "PRAGMA application_id", "reading application_id", &app)) < 0 ||
        (err = query_int(fs, "PRAGMA user_version", "reading the schema version", &ver)) < 0 ||
        (err = query_int(fs, "SELECT count(*) FROM sqlite_schema", "reading the schema",
                         &objects)) < 0 ||
        (err = check_identity(fs, app, ver, objects)) < 0 ||
        (err = exec(fs, "COMMIT", "creating the schema")) < 0)
        goto fail;
    return 0;
fail:
    sqlite3_exec(fs->db, "ROLLBACK", NULL, NULL, NULL);
    return err;
}

/* WAL mode persists in the file; the rest is per connection. */
static int configure(struct ingest_filestate *fs)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(fs->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    int wal;

    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = fail_sqlite(fs, rc, "switching to WAL mode");
        sqlite3_finalize(st);
        return rc;
    }
    /* SQLite answers with the mode now in force: the old one if WAL is
     * impossible here (no shared memory, e.g. some network filesystems). */
    wal = sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
    sqlite3_finalize(st);
    if (!wal)
        return fail_msg(fs, INGEST_ENOTSUP, "cannot use WAL mode on this filesystem");
    return exec(fs, "PRAGMA synchronous = FULL;"
                    "PRAGMA cache_size = -8192;"            /* KiB: 8 MiB of pages */
                    "PRAGMA journal_size_limit = 67108864;", /* shrink the -wal to 64 MiB */
                "configuring the connection");
}

static int prepare_all(struct ingest_filestate *fs)
{
    for (int i = 0; i < ST_COUNT; i++) {
        int rc = sqlite3_prepare_v3(fs->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                    &fs->st[i], NULL);
        if (rc != SQLITE_OK)
            return fail_sqlite(fs, rc, "preparing statements (a damaged schema?)");
    }
    return 0;
}

struct ingest_filestate *ingest_filestate_open(const char *dir, char *err, size_t errlen)
{
    struct ingest_filestate *fs = NULL;
    int rc;

    if (!dir || !*dir) {
        snprintf(err, errlen, "file-state: no checkpoint directory given");
        return NULL;
    }
    fs = calloc(1, sizeof *fs);
    if (!fs || asprintf(&fs->path, "%s/files.db", dir) < 0) {
        if (fs)
            fs->path = NULL;
        snprintf(err, errlen, "%s/files.db: %s", dir, ingest_strerror(INGEST_ENOMEM));
        goto fail;
    }
    /* NOMUTEX: a handle belongs to one thread, so SQLite's own locking of
     * the connection would only cost time. */
    rc = sqlite3_open_v2(fs->path, &fs->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        fail_sqlite(fs, rc, "opening");
        goto fail_msg;
    }
    sqlite3_extended_result_codes(fs->db, 1);
    sqlite3_busy_timeout(fs->db, BUSY_TIMEOUT_MS);
    if (check_or_create(fs) < 0 || configure(fs) < 0 || prepare_all(fs) < 0)
        goto fail_msg;
    return fs;
fail_msg:
    snprintf(err, errlen, "%s", fs->errmsg);
fail:
    ingest_filestate_close(fs);
    return NULL;
}

void ingest_filestate_close(struct ingest_filestate *fs)
{
    if (!fs)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(fs->st[i]);
    /* Rolls back an open transaction; the last handle checkpoints the WAL. */
    sqlite3_close_v2(fs->db);
    free(fs->path);
    free(fs);
}

const char *ingest_filestate_errmsg(struct ingest_filestate *fs)
{
    return fs ? fs->errmsg : "no file-state handle";
}

/* --- records --------------------------------------------------------------------- */

int ingest_filestate_get(struct ingest_filestate *fs, const char *path,
                         struct ingest_file_rec *rec)
{
    sqlite3_stmt *st;
    int rc;

    if (rec)
        memset(rec, 0, sizeof *rec);
    if (!fs || !path || !rec)
        return fs ? fail_msg(fs, INGEST_EINVAL, "get: no path or record") : INGEST_EINVAL;
    st = fs->st[ST_GET];
    rc = sqlite3_bind_text64(st, 1, path, strlen(path), SQLITE_STATIC, SQLITE_UTF8);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        done(st);
        return INGEST_ENOENT;
    }
    if (rc == SQLITE_ROW)
        rc = read_row(st, rec);
    if (rc != SQLITE_OK)
        return fail_stmt(fs, st, rc, "reading a record");
    rec->path = strdup(rec->path);
    rec->reason = rec->reason ? strdup(rec->reason) : NULL;
    if (!rec->path || (sqlite3_column_type(st, 10) != SQLITE_NULL && !rec->reason)) {
        ingest_file_rec_free(rec);
        memset(rec, 0, sizeof *rec);
        done(st);
        return fail_msg(fs, INGEST_ENOMEM, "reading a record: %s",
                        ingest_strerror(INGEST_ENOMEM));
    }
    done(st);
    return 0;
}

int ingest_filestate_put(struct ingest_filestate *fs, const struct ingest_file_rec *rec)
{
    sqlite3_stmt *st;
    int rc;

    if (!fs)
        return INGEST_EINVAL;
    if (!rec || !rec->path || !*rec->path || !valid_status(rec->status, 0))
        return fail_msg(fs, INGEST_EINVAL, "put: empty path or unknown status");
    if (fs->in_scan)
        return fail_msg(fs, INGEST_EBUSY, "put: called from a scan callback");
    st = fs->st[ST_PUT];
    rc = bind_rec(st, rec);
    if (rc != SQLITE_OK)
        return fail_stmt(fs, st, rc, "writing a record");
    return run(fs, st, "writing a record");
}

/* --- transactions ---------------------------------------------------------------- */

int ingest_filestate_begin(struct ingest_filestate *fs)
{
    if (!fs)
        return INGEST_EINVAL;
    if (!sqlite3_get_autocommit(fs->db))
        return fail_msg(fs, INGEST_EINVAL, "begin: a transaction is already open");
    /* IMMEDIATE takes the write lock now, so a second writer waits here
     * (busy timeout) rather than failing at its first write. */
    return run(fs, fs->st[ST_BEGIN], "beginning a transaction");
}

int ingest_filestate_commit(struct ingest_filestate *fs)
{
    if (!fs)
        return INGEST_EINVAL;
    if (sqlite3_get_autocommit(fs->db))
        return fail_msg(fs, INGEST_EINVAL, "commit: no transaction is open");
    return run(fs, fs->st[ST_COMMIT], "committing");
}

void ingest_filestate_rollback(struct ingest_filestate *fs)
{
    /* SQLite may have rolled back already (after an I/O error or disk
     * full); a ROLLBACK then would only fail. */
    if (fs && !sqlite3_get_autocommit(fs->db))
        run(fs, fs->st[ST_ROLLBACK], "rolling back");
}

/* --- scan, count, commit --------------------------------------------------------- */

long ingest_filestate_scan(struct ingest_filestate *fs, int status, int64_t after_ms,
                           const char *after_path, size_t limit, ingest_filestate_fn fn,
                           void *ud)
{
    struct ingest_file_rec rec;
    sqlite3_stmt *st;
    long n = 0;
    int rc;

    if (!fs)
        return INGEST_EINVAL;
    if (!fn || !valid_status(status, 1))
        return fail_msg(fs, INGEST_EINVAL, "scan: no callback or unknown status %d", status);
    if (fs->in_scan)
        return fail_msg(fs, INGEST_EBUSY, "scan: called from a scan callback");
    /* put refuses "", so every record sorts after (INT64_MIN, ""). */
    if (!after_path) {
        after_ms = INT64_MIN;
        after_path = "";
    }
    st = fs->st[status < 0 ? ST_SCAN_ALL : ST_SCAN_STATUS];
    rc = sqlite3_bind_int(st, 1, status);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, after_ms);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text64(st, 3, after_path, strlen(after_path), SQLITE_STATIC,
                                 SQLITE_UTF8);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 4, limit == 0 || limit > INT64_MAX ? -1 : (int64_t)limit);
    fs->in_scan = 1;
    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW &&
           (rc = read_row(st, &rec)) == SQLITE_OK) {
        n++;
        if (fn(ud, &rec) != 0)
            rc = SQLITE_DONE;
    }
    fs->in_scan = 0;
    if (rc != SQLITE_DONE)
        return fail_stmt(fs, st, rc, "scanning records");
    done(st);
    return n;
}

int ingest_filestate_count(struct ingest_filestate *fs, int status, int64_t *files,
                           int64_t *bytes)
{
    sqlite3_stmt *st;
    int rc = SQLITE_OK;

    if (!fs)
        return INGEST_EINVAL;
    if (!valid_status(status, 1))
        return fail_msg(fs, INGEST_EINVAL, "count: unknown status %d", status);
    st = fs->st[status < 0 ? ST_COUNT_ALL : ST_COUNT_STATUS];
    if (status >= 0)
        rc = sqlite3_bind_int(st, 1, status);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return fail_stmt(fs, st, rc, "counting records");
    if (files)
        *files = sqlite3_column_int64(st, 0);
    if (bytes)
        *bytes = sqlite3_column_int64(st, 1);
    done(st);
    return 0;
}

int ingest_filestate_mark_committed(struct ingest_filestate *fs, int64_t batch, int64_t version,
                                    int64_t now_ms)
{
    sqlite3_stmt *st;
    int rc;

    if (!fs)
        return INGEST_EINVAL;
    if (fs->in_scan)
        return fail_msg(fs, INGEST_EBUSY, "mark_committed: called from a scan callback");
    st = fs->st[ST_MARK];
    rc = sqlite3_bind_int64(st, 1, batch);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, version);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 3, now_ms);
    if (rc != SQLITE_OK)
        return fail_stmt(fs, st, rc, "marking a batch committed");
    return run(fs, st, "marking a batch committed");
}

void ingest_file_rec_free(struct ingest_file_rec *rec)
{
    if (!rec)
        return;
    free(rec->path);
    free(rec->reason);
    rec->path = NULL;
    rec->reason = NULL;
}

const char *ingest_file_status_name(int status)
{
    switch (status) {
    case INGEST_FILE_DISCOVERED: return "discovered";
    case INGEST_FILE_IN_BATCH:   return "in_batch";
    case INGEST_FILE_COMMITTED:  return "committed";
    case INGEST_FILE_SKIPPED:    return "skipped";
    }
    return "unknown";
}
