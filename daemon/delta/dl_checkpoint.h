/*
 * dl_checkpoint.h - classic Delta checkpoints (specs/delta-parquet.md A8,
 * A10): loading one into a snapshot, and the pieces that write one
 * (ingest_delta_checkpoint in delta.h is the entry point for writing).
 *
 * A checkpoint is a Parquet file with one row per action and one nullable
 * struct column per action kind, in Spark's exact layout (53 leaves), so
 * every reader that reads Spark's checkpoints reads ours.  Blocking file
 * I/O; any thread, one snapshot per thread at a time.
 */
#ifndef INGESTD_DL_CHECKPOINT_H
#define INGESTD_DL_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "ingestd/batch.h"
#include "ingestd/delta.h"

/*
 * Reads the checkpoint at paths[0] (nparts = 1) or the nparts parts of a
 * multi-part one, row group by row group, and puts every protocol,
 * metaData, txn, add and remove into s (dl_snap_put_*); version fields of s
 * are the caller's to set.  Columns other than those five (stats_parsed,
 * domainMetadata, sidecar, ...) are skipped.  Returns 0,
 * INGEST_ECORRUPT ("FILE: row N: add.path is missing", unreadable
 * Parquet), INGEST_ENOENT, INGEST_EIO, INGEST_ENOTSUP (a codec or
 * encoding the reader lacks) or INGEST_ENOMEM; on failure s holds part of
 * the checkpoint and should be discarded.
 */
int dl_checkpoint_load(struct ingest_delta_snapshot *s, const char *const *paths,
                       size_t nparts, char *err, size_t errlen);

/* The same; *rows (may be NULL) receives the number of rows read over all
 * parts (_last_checkpoint's "size"). */
int dl_checkpoint_load_rows(struct ingest_delta_snapshot *s, const char *const *paths,
                            size_t nparts, int64_t *rows, char *err, size_t errlen);

/* ---- writing (dl_ckpt_build.c) ------------------------------------------ */

/* Spark's checkpoint schema (txn, add, remove, metaData, protocol,
 * domainMetadata).  Static, never freed; any thread. */
const struct ingest_schema *dl_ckpt_schema(void);

/* Where batch building stands: actions are numbered protocol, metaData,
 * the txns, then the files in snapshot order. */
struct dl_ckpt_cursor {
    size_t  next;               /* next action number */
    int64_t expire_before;      /* tombstones deleted before this ms are dropped
                                 * (INT64_MIN: keep all); deletionTimestamp -1 is kept */
    int64_t rows;               /* rows built so far */
    int64_t adds;               /* add rows among them */
};

/*
 * Builds the next at most max_rows rows of s's checkpoint into *out
 * (schema dl_ckpt_schema(); the caller frees it with ingest_batch_free),
 * advancing cur.  An empty *out (nrows 0, nothing to free) means every
 * action was built.  Strings
 * are copied, so s may change once the call returns.  Returns 0 or
 * INGEST_ENOMEM (then *out is empty); never aborts.
 */
int dl_ckpt_build(const struct ingest_delta_snapshot *s, struct dl_ckpt_cursor *cur,
                  size_t max_rows, struct ingest_batch *out);

#endif
