/*
 * dirwatch.h - discovering complete files in a landing directory.
 *
 * Two ways in, so no file is ever missed: inotify (one watch per directory;
 * new subdirectories get watches, and are listed, as they appear when
 * recursive) for low latency, and full listings - at start, every
 * backfill interval, after an inotify queue overflow, and on request - for
 * completeness.  A file is reported ("ready") only when it is complete:
 * renamed into place (IN_MOVED_TO), or unchanged (size, mtime) for
 * settle_ms after it was last written (IN_CLOSE_WRITE, IN_MODIFY, or found
 * by a listing with a recent mtime) with a mtime at least settle_ms old
 * (so writes whose events were lost still count).  A listing reports a
 * file with an older mtime at once.  settle_ms == 0: a file is reported
 * when its writer closes it (IN_CLOSE_WRITE) or it is renamed into place;
 * one that only appears (a hard link) waits for the next listing.  A file
 * that vanishes before it settles is dropped silently.  Only regular files
 * whose name matches `pattern` (fnmatch, no flags) are reported; names
 * starting with '.' or '_' and temporary names (*.tmp, *.temp, *~, *.swp,
 * *.part, *.crdownload, any case) are ignored, and so are directories
 * starting with '.' or '_'.  Symbolic links below the root are not
 * followed (the root itself may be one).
 *
 * A file may be reported more than once (every listing reports what it
 * finds, after the `known` filter; a new directory's files may also be
 * found by the listing running when it appeared); deduplication is the
 * caller's, by identity (path, size, mtime, inode).  A reported file may
 * be gone by the time the caller opens it.  Listings run on a worker
 * thread (uv_queue_work) in chunks of about 1000 files, one chunk in
 * flight at a time, so a directory of a million files neither blocks the
 * loop nor holds them all in memory; `known` is called there.  Everything
 * else, callbacks included, runs on the loop thread, and every function
 * below is called there.
 */
#ifndef INGESTD_DIRWATCH_H
#define INGESTD_DIRWATCH_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "ingestd/log.h"

struct ingest_dirwatch_file {
    const char *relpath;        /* relative to root, '/'-separated; valid during the callback */
    int64_t  size;
    int64_t  mtime_ns;
    uint64_t inode;
    int      renamed;           /* arrived by rename into place */
};

/* Loop thread: a complete file.  May call ingest_dirwatch_stop(). */
typedef void (*ingest_dirwatch_ready_fn)(void *ud, const struct ingest_dirwatch_file *f);
/* Worker thread, during listings: 1 when the caller already tracks this
 * exact file (same size, mtime and inode), so it is not reported again.
 * Runs concurrently with the loop: whatever it reads must be safe to read
 * from another thread.  May be NULL. */
typedef int (*ingest_dirwatch_known_fn)(void *ud, const struct ingest_dirwatch_file *f);
/* Loop thread: a full listing finished, after all its files were
 * reported; n_found counts the files that matched, `known` ones included.
 * Not called for the walk that only sets up watches (list_at_start = 0)
 * nor for the listing of a new directory. */
typedef void (*ingest_dirwatch_listed_fn)(void *ud, uint64_t n_found);

struct ingest_dirwatch_opts {
    const char *root;           /* absolute directory */
    const char *pattern;        /* fnmatch on the base name; NULL = "*" */
    int      recursive;
    int64_t  settle_ms;
    int64_t  backfill_ms;       /* 0: no periodic listing */
    int      list_at_start;     /* 1: a full listing right after start; 0: files
                                   already there are not reported (subdirectories
                                   are still walked, for their watches) */
    const char *pipeline;       /* for log lines */
    const struct ingest_log *log;
    ingest_dirwatch_ready_fn ready;
    ingest_dirwatch_known_fn known;
    ingest_dirwatch_listed_fn listed;   /* may be NULL */
    void    *ud;
};

struct ingest_dirwatch;

/* Starts watching: the root's watch now, each subdirectory's just before
 * a listing reads it, so nothing falls between watch and listing.  Copies
 * what it keeps of `o`.  NULL with a reason in err (root not absolute,
 * missing or not a directory, inotify limits); nothing is then left to
 * stop.  Past fs.inotify.max_user_watches further directories are found
 * by listings only (one warning). */
struct ingest_dirwatch *ingest_dirwatch_start(uv_loop_t *loop,
                                              const struct ingest_dirwatch_opts *o,
                                              char *err, size_t errlen);
/* Stops everything; no callback but `closed` runs after it.  `closed`
 * (may be NULL) is called on the loop thread once every handle is closed
 * and any listing chunk in flight has finished; then the watcher is freed,
 * so the caller must keep running the loop until then.  May be called
 * from `ready` or `listed` (not `known`); a second call does nothing. */
void ingest_dirwatch_stop(struct ingest_dirwatch *w, void (*closed)(void *ud), void *ud);

/* Starts a full listing now unless one that reports files is running
 * (after a watch-only walk or a new directory's listing, it follows). */
void ingest_dirwatch_rescan(struct ingest_dirwatch *w);

/* Files seen but not yet reported because they may still be written. */
size_t ingest_dirwatch_unsettled(const struct ingest_dirwatch *w);
/* 1 while any walk runs: a full listing, the watch set-up at start, or a
 * new directory's listing. */
int ingest_dirwatch_listing(const struct ingest_dirwatch *w);

#endif
