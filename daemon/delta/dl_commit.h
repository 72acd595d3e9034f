/* dl_commit.h - the commit loop shared by ingest_delta_commit and table
 * creation (see dl_commit.c). */
#ifndef INGESTD_DL_COMMIT_H
#define INGESTD_DL_COMMIT_H

#include "ingestd/delta.h"

/* Commits c as the next version; `create` (non-NULL) makes it version 0
 * with protocol and this metaData, and returns INGEST_EEXIST when another
 * writer created the table first (the snapshot then holds its table). */
int dl_commit(struct ingest_delta_table *tbl, const struct ingest_delta_commit *c,
              const struct ingest_delta_metadata *create, int64_t *version, char *err,
              size_t errlen);

#endif
