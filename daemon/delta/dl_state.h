/*
 * dl_state.h - the reconciled snapshot (delta.h) and how actions change it
 * (specs/delta-parquet.md A9): the latest protocol and metaData win, the
 * latest txn per appId wins, and for file actions keyed by path the newest
 * add or remove wins.  Lookups by path and appId are hash tables so that
 * replaying 10,000 commits stays linear.
 *
 * Ownership: the put functions take ownership of the members of what they
 * are given (the struct itself stays the caller's) even when they fail.
 */
#ifndef INGESTD_DL_STATE_H
#define INGESTD_DL_STATE_H

#include "ingestd/delta.h"

void dl_snap_init(struct ingest_delta_snapshot *s);
void dl_snap_free(struct ingest_delta_snapshot *s);

/* An add (f->removed == 0) or a remove (1): replaces the entry for the same
 * path.  0 or INGEST_ENOMEM. */
int dl_snap_put_file(struct ingest_delta_snapshot *s, struct ingest_delta_file *f);
int dl_snap_put_txn(struct ingest_delta_snapshot *s, struct ingest_delta_txn *t);
void dl_snap_put_protocol(struct ingest_delta_snapshot *s, struct ingest_delta_protocol *p);
void dl_snap_put_metadata(struct ingest_delta_snapshot *s, struct ingest_delta_metadata *m);

const struct ingest_delta_file *dl_snap_find_file(const struct ingest_delta_snapshot *s,
                                                  const char *path);
const struct ingest_delta_txn *dl_snap_find_txn(const struct ingest_delta_snapshot *s,
                                                const char *app_id);

void dl_file_free(struct ingest_delta_file *f);
void dl_txn_free(struct ingest_delta_txn *t);
void dl_protocol_free(struct ingest_delta_protocol *p);
void dl_metadata_free(struct ingest_delta_metadata *m);
void dl_kv_free(struct ingest_delta_kv *kv, size_t n);
void dl_strv_free(char **v, size_t n);

#endif
