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
 * by a listing with a recent mtime).  Only regular files whose name
 * matches `pattern` (fnmatch) are reported; names starting with '.' or
 * '_' and temporary names (*.tmp, *.temp, *~, *.swp, *.part,
 * *.crdownload) are ignored, and so are directories starting with '.' or
 * '_'.  Symbolic links are not followed.
 *
 * A file may be reported more than once (every listing reports what it
 * finds, after the `known` filter); deduplication is the caller's, by
 * identity (path, size, mtime, inode).  Listings run on a worker thread
 * (uv_queue_work) in chunks so a directory of a million files neither
 * blocks the loop nor holds them all in memory; `known` is called there.
 * Everything else, callbacks included, runs on the loop thread.
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

/* Loop thread: a complete file. */
typedef void (*ingest_dirwatch_ready_fn)(void *ud, const struct ingest_dirwatch_file *f);
/* Worker thread, during listings: 1 when the caller already tracks this
 * exact file (same size, mtime and inode), so it is not reported again.
 * May be NULL. */
typedef int (*ingest_dirwatch_known_fn)(void *ud, const struct ingest_dirwatch_file *f);
/* Loop thread: a full listing finished (n_found files matched). */
typedef void (*ingest_dirwatch_listed_fn)(void *ud, uint64_t n_found);

struct ingest_dirwatch_opts {
    const char *root;           /* absolute directory */
    const char *pattern;        /* fnmatch on the base name; NULL = "*" */
    int      recursive;
    int64_t  settle_ms;
    int64_t  backfill_ms;       /* 0: no periodic listing */
    int      list_at_start;     /* 1: a full listing right after start */
    const char *pipeline;       /* for log lines */
    const struct ingest_log *log;
    ingest_dirwatch_ready_fn ready;
    ingest_dirwatch_known_fn known;
    ingest_dirwatch_listed_fn listed;
    void    *ud;
};

struct ingest_dirwatch;

/* Starts watching (inotify watches are set up before the first listing so
 * nothing falls between them).  NULL with a reason in err (root missing or
 * not a directory, inotify limits). */
struct ingest_dirwatch *ingest_dirwatch_start(uv_loop_t *loop,
                                              const struct ingest_dirwatch_opts *o,
                                              char *err, size_t errlen);
/* Stops everything; `closed` is called (loop thread) once every handle is
 * closed and any listing in flight has finished; then the watcher is freed. */
void ingest_dirwatch_stop(struct ingest_dirwatch *w, void (*closed)(void *ud), void *ud);

/* Starts a full listing now unless one is running. */
void ingest_dirwatch_rescan(struct ingest_dirwatch *w);

/* Files seen but not yet reported because they may still be written. */
size_t ingest_dirwatch_unsettled(const struct ingest_dirwatch *w);
/* 1 while a listing is running. */
int ingest_dirwatch_listing(const struct ingest_dirwatch *w);

#endif
