/*
 * filestate.h - the directory source's file state, kept in the checkpoint
 * (Auto Loader's cloud_files_state): every file ever discovered, its
 * identity (size, mtime, inode), when it was discovered, which batch took
 * it and which table version committed it, or why it was skipped.
 *
 * Stored in SQLite (<checkpoint>/files.db) so a million tracked files cost
 * disk, not memory: lookups go through the primary key, pending files are
 * read in discovery order a page at a time.  The store is a cache of what
 * the WAL (offsets/N, commits/N) says: after a crash it may lag behind by
 * the last batch, and the engine replays the WAL into it on start.
 *
 * Threads: one handle per thread (SQLite's rule); the engine uses it from
 * one thread.  Every call blocks on disk.
 *
 * Errors: 0 (or a count) on success, a negative INGEST_E* code on failure
 * (INGEST_ENOSPC disk full, INGEST_EIO I/O error, INGEST_EBUSY another
 * handle holds the write lock past the busy timeout, INGEST_ECORRUPT a
 * damaged file, INGEST_EINVAL a bad argument).  Only open takes an err
 * buffer; after any other failure ingest_filestate_errmsg says what went
 * wrong, with the file's path, for the caller to log.
 */
#ifndef INGESTD_FILESTATE_H
#define INGESTD_FILESTATE_H

#include <stddef.h>
#include <stdint.h>

enum ingest_file_status {
    INGEST_FILE_DISCOVERED,     /* seen, not yet in a batch */
    INGEST_FILE_IN_BATCH,       /* planned into batch `batch` (part or all of it) */
    INGEST_FILE_COMMITTED,      /* every byte committed; `version` is the last commit */
    INGEST_FILE_SKIPPED,        /* `reason` says why (changed after ingestion, unreadable, ...) */
};

struct ingest_file_rec {
    char    *path;              /* relative to the source directory; any bytes but NUL, not "" */
    int64_t  size;
    int64_t  mtime_ns;
    uint64_t inode;             /* all 64 bits kept (stored as the int64 with the same bits) */
    int64_t  discovered_ms;
    int      status;            /* enum ingest_file_status */
    int64_t  offset;            /* bytes planned into batches so far (resume point) */
    int64_t  line;              /* line number at offset (1 for a new file) */
    int64_t  batch;             /* last batch that took bytes of it; -1 */
    int64_t  version;           /* table version that committed its last bytes; -1 */
    int64_t  committed_ms;      /* -1 */
    char    *reason;            /* SKIPPED: why; else NULL */
};

struct ingest_filestate;

/* Opens (creating) <dir>/files.db; dir must exist.  NULL with a reason
 * naming the file in err: not an SQLite file, another program's database,
 * a schema newer than this build knows, I/O errors.  A file that is refused
 * is not modified.  Close with ingest_filestate_close. */
struct ingest_filestate *ingest_filestate_open(const char *dir, char *err, size_t errlen);
/* Closes fs (NULL is fine); a transaction still open is rolled back. */
void ingest_filestate_close(struct ingest_filestate *fs);

/* Text of the most recent failure on fs, naming the file and what failed
 * ("" if nothing failed yet).  Valid until the next call on fs. */
const char *ingest_filestate_errmsg(struct ingest_filestate *fs);

/* Looks up path: 0 and *rec filled (the caller owns it: free with
 * ingest_file_rec_free), INGEST_ENOENT (not a failure: errmsg unchanged),
 * or another INGEST_E*.  *rec is zeroed when 0 is not returned. */
int ingest_filestate_get(struct ingest_filestate *fs, const char *path,
                         struct ingest_file_rec *rec);
/* Inserts or replaces the record with rec->path (rec is copied, the
 * caller keeps it).  INGEST_EINVAL for an empty path or unknown status. */
int ingest_filestate_put(struct ingest_filestate *fs, const struct ingest_file_rec *rec);

/* Group many changes in one transaction (one WAL append): begin, any
 * number of put / mark_committed, commit.  Without begin every change is
 * its own transaction.  Nesting is not supported (begin inside a
 * transaction, or commit outside one, is INGEST_EINVAL).  begin, like any
 * write, waits up to 5 s for another handle's write to end (INGEST_EBUSY).
 * If commit fails the caller calls rollback (harmless when SQLite already
 * rolled back); rollback outside a transaction does nothing. */
int ingest_filestate_begin(struct ingest_filestate *fs);
int ingest_filestate_commit(struct ingest_filestate *fs);
void ingest_filestate_rollback(struct ingest_filestate *fs);

/* Calls fn for records with status `status` (-1: all) in discovery order
 * (then path, bytewise), starting strictly after the given cursor
 * (discovered_ms, path; NULL path = from the start; "" = every record
 * discovered at after_ms or later), at most `limit` of them (0: no limit).
 * Resuming from the last record seen continues where a page stopped, and
 * every page costs the same however deep it is.  fn returns nonzero to
 * stop.  The record passed is only valid during the call.  fn may call
 * get and count, but must not put, mark_committed or scan (INGEST_EBUSY):
 * collect a page, then change it.  Returns the number visited (the one
 * that stopped included) or a negative INGEST_E*. */
typedef int (*ingest_filestate_fn)(void *ud, const struct ingest_file_rec *rec);
long ingest_filestate_scan(struct ingest_filestate *fs, int status, int64_t after_ms,
                           const char *after_path, size_t limit, ingest_filestate_fn fn,
                           void *ud);

/* Number of records and sum of (size - offset) with the given status (-1:
 * all); either pointer may be NULL.  Reads every matching record. */
int ingest_filestate_count(struct ingest_filestate *fs, int status, int64_t *files,
                           int64_t *bytes);

/* After batch `batch` committed as table version `version` at now_ms: each
 * IN_BATCH record whose batch is `batch` becomes COMMITTED (version,
 * committed_ms) when offset >= size, else DISCOVERED again (it has bytes
 * left for a later batch; version is recorded, committed_ms kept).  Records
 * in other states are left alone (a file skipped meanwhile stays skipped),
 * so replaying a commit from the WAL twice changes nothing.  One statement. */
int ingest_filestate_mark_committed(struct ingest_filestate *fs, int64_t batch, int64_t version,
                                    int64_t now_ms);

/* Frees rec->path and rec->reason and sets them to NULL (rec itself is the
 * caller's; NULL is fine). */
void ingest_file_rec_free(struct ingest_file_rec *rec);
/* "discovered", "in_batch", "committed", "skipped"; "unknown" otherwise. */
const char *ingest_file_status_name(int status);

#endif
