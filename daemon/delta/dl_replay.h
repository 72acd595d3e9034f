/*
 * dl_replay.h - reading the Delta log: listing _delta_log, parsing JSON
 * commits into the snapshot, and table properties.
 */
#ifndef INGESTD_DL_REPLAY_H
#define INGESTD_DL_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "ingestd/delta.h"

/* What a commit held besides files, for conflict checks. */
struct dl_seen {
    int protocol;
    int metadata;
    int64_t num_adds;
};

/* Applies one commit's NDJSON text to s (fname names it in errors).  Within
 * the commit, removes are applied before adds: a valid commit never holds
 * both for one logical file, so a path with both was re-added (with a
 * deletion vector) and the add is the live one.  seen (may be NULL)
 * receives what the commit held.  Returns 0, INGEST_ECORRUPT (err:
 * "FILE:LINE: reason") or INGEST_ENOMEM. */
int dl_apply_commit(struct ingest_delta_snapshot *s, const char *text, size_t len,
                    const char *fname, struct dl_seen *seen, char *err, size_t errlen);

/* Replays the log in tbl->log_dir into tbl->snap (which must be empty) and
 * derives the table properties.  Errors as ingest_delta_open. */
int dl_replay(struct ingest_delta_table *tbl, char *err, size_t errlen);

/* Sets tbl's schema and table-property fields from the snapshot's
 * metaData (called after every change of it). */
void dl_table_refresh_meta(struct ingest_delta_table *tbl);

/* Reads versions after tbl->snap.version into the snapshot; *seen (may be
 * NULL) accumulates what they held. */
int dl_update(struct ingest_delta_table *tbl, struct dl_seen *seen, char *err, size_t errlen);

/* "interval 30 days", "1 week", "36 hours": Spark's interval strings, in
 * ms.  0 or INGEST_EINVAL. */
int dl_parse_interval(const char *s, int64_t *ms);

#endif
