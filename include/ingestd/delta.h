/*
 * delta.h - Delta Lake tables: open (replay the log), create, append
 * exactly once, evolve the schema, checkpoint, and write data files.
 *
 * Protocol reader 1 / writer 2 without table features
 * (specs/delta-parquet.md section A), so Spark, DuckDB, Polars, Trino and
 * delta-rs read our tables as they are, and we open theirs.
 *
 * A table handle holds one snapshot: the reconciled state at `version`
 * (protocol, metaData, live files and tombstones, the latest txn per appId),
 * rebuilt from the newest checkpoint plus the JSON commits after it.
 * Commits are optimistic: the next version file is created put-if-absent
 * (temp file, fsync, link(2), fsync of _delta_log); when another writer
 * took the version first, its commits are read into the snapshot and
 * checked (a protocol or metaData change, or a txn of one of our appIds,
 * ends our attempt; anything else is a blind append that cannot conflict
 * with ours) and the same actions are tried at the next version.
 *
 * Exactly once: a commit carries txn actions (appId, version); before each
 * attempt, a txn whose appId already has that version or a later one in the
 * snapshot makes the commit return INGEST_EEXIST ("already committed"),
 * so a batch replayed after a crash is never appended twice.
 *
 * Threads: a table handle belongs to one thread at a time; every call
 * blocks on file I/O, so the daemon calls them from a worker thread.
 * Handles share nothing; two processes coordinate only through the log.
 */
#ifndef INGESTD_DELTA_H
#define INGESTD_DELTA_H

#include <stddef.h>
#include <stdint.h>

#include "ingestd/batch.h"
#include "ingestd/parquet.h"

/* A string map entry (partitionValues, configuration, tags).  value NULL
 * means JSON null. */
struct ingest_delta_kv {
    char *key;
    char *value;
};

/* One file action after reconciliation: a live add, or a tombstone. */
struct ingest_delta_file {
    char    *path;              /* as logged: relative and URI-encoded, or an absolute URI */
    struct ingest_delta_kv *part;   /* partitionValues */
    size_t   npart;
    int64_t  size;              /* bytes (-1 on a remove without it) */
    int64_t  modification_time; /* ms */
    int      data_change;
    char    *stats;             /* add.stats JSON text, or NULL */
    int64_t  num_records;       /* from stats; -1 unknown */
    struct ingest_delta_kv *tags;
    size_t   ntags;
    int      removed;           /* 1: a tombstone (remove action) */
    int64_t  deletion_timestamp;    /* removes: ms, -1 if absent */
    int      extended_file_metadata;
};

struct ingest_delta_txn {
    char    *app_id;
    int64_t  version;
    int64_t  last_updated;      /* ms, -1 if absent */
};

struct ingest_delta_metadata {
    char    *id;
    char    *name, *description;    /* NULL if absent */
    char    *format_provider;       /* "parquet" */
    struct ingest_delta_kv *format_options;
    size_t   nformat_options;
    char    *schema_string;         /* the Delta schema JSON text */
    char   **partition_cols;
    size_t   npartition_cols;
    struct ingest_delta_kv *configuration;
    size_t   nconfiguration;
    int64_t  created_time;          /* ms, -1 if absent */
};

struct ingest_delta_protocol {
    int      min_reader, min_writer;
    char   **reader_features, **writer_features;   /* NULL-terminated, or NULL */
};

/* The reconciled state at one version.  Read-only for callers. */
struct ingest_delta_snapshot {
    int64_t  version;               /* -1: no commit yet */
    int64_t  checkpoint_version;    /* the checkpoint replay started from; -1: none */
    int64_t  oldest_version;        /* oldest JSON commit read (or the checkpoint's) */
    int      has_protocol, has_metadata;
    struct ingest_delta_protocol protocol;
    struct ingest_delta_metadata meta;
    struct ingest_delta_file *files;    /* live adds and tombstones, in first-seen order */
    size_t   nfiles;
    struct ingest_delta_txn *txns;
    size_t   ntxns;
    size_t   nlive;                 /* live adds among files */
    void    *index;                 /* private: path -> file, appId -> txn */
};

/* A table handle. */
struct ingest_delta_table {
    char    *path;                  /* table root, absolute or as given */
    char    *log_dir;               /* <path>/_delta_log */
    struct ingest_delta_snapshot snap;
    struct ingest_schema schema;    /* snap.meta.schema_string parsed; empty when */
    int      schema_err;            /* ... this is nonzero (e.g. INGEST_ENOTSUP) */
    char     schema_msg[256];
    /* Table properties (configuration), with the protocol's defaults. */
    int64_t  checkpoint_interval;   /* delta.checkpointInterval: 10 */
    int      num_indexed_cols;      /* delta.dataSkippingNumIndexedCols: 32 (-1 all) */
    int64_t  log_retention_ms;      /* delta.logRetentionDuration: 30 days */
    int64_t  tombstone_retention_ms;    /* delta.deletedFileRetentionDuration: 1 week */
    int      append_only;           /* delta.appendOnly */
    /* Checkpoint bookkeeping: a failed checkpoint never fails a commit; it
     * is retried after the next one. */
    int      checkpoint_pending;
    int      checkpoint_last_err;   /* 0 or the last failure's code */
    char     checkpoint_msg[256];
    int64_t  now_ms_override;       /* tests: 0 = use the clock */
};

/* ---- open / create ---------------------------------------------------- */

/*
 * Opens the table at path and replays its log to the latest version.
 * On success *out owns a new handle (ingest_delta_close).  Returns 0,
 * INGEST_ENOENT (no _delta_log, or an empty one: no table yet),
 * INGEST_ECORRUPT (a gap in the versions, an unreadable checkpoint with
 * no older way in, a malformed action; err names the file and line),
 * INGEST_ENOTSUP (a protocol we cannot read), INGEST_EIO, INGEST_ENOMEM.
 */
int ingest_delta_open(const char *path, struct ingest_delta_table **out, char *err,
                      size_t errlen);

/* Reads the commits after snap.version, if any.  Same errors as open. */
int ingest_delta_update(struct ingest_delta_table *tbl, char *err, size_t errlen);

void ingest_delta_close(struct ingest_delta_table *tbl);

struct ingest_delta_create_opts {
    const struct ingest_schema *schema;
    const char *const *partition_cols;
    size_t npartition_cols;
    const struct ingest_delta_kv *configuration;   /* table properties; copied */
    size_t nconfiguration;
    const char *name;               /* metaData.name, or NULL */
};

/*
 * Opens the table at path, creating it (version 0: protocol 1/2, metaData,
 * commitInfo CREATE TABLE) when it has no commit yet.  When another writer
 * creates it first, the winner's table is opened.  Either way the caller
 * then checks the table's schema and partitioning against its own
 * (ingest_delta_prepare_schema).  Returns 0 or the errors of open.
 */
int ingest_delta_open_or_create(const char *path, const struct ingest_delta_create_opts *o,
                                struct ingest_delta_table **out, char *err, size_t errlen);

/*
 * Schema evolution check for writing data of schema `want` with the given
 * partition columns.  Returns 0 when the table's schema already fits, 1
 * when *evolved holds the schema the next commit must declare (caller
 * owns it; pass it as ingest_delta_commit.new_schema), or
 * INGEST_ECONFLICT with the reason in err (other partition columns, a
 * type change, ...).  allow_add = 0 turns "would add columns" into
 * INGEST_ECONFLICT as well.
 */
int ingest_delta_prepare_schema(const struct ingest_delta_table *tbl,
                                const struct ingest_schema *want,
                                const char *const *partition_cols, size_t npartition_cols,
                                int allow_add, struct ingest_schema *evolved, char *err,
                                size_t errlen);

/* Latest txn version of app_id in the snapshot, or -1. */
int64_t ingest_delta_txn_version(const struct ingest_delta_table *tbl, const char *app_id);

/* ---- commit ------------------------------------------------------------- */

/* A data file to add (what ingest_delta_writer_finish returns). */
struct ingest_delta_add {
    char    *path;              /* relative to the table, NOT encoded ("d=1/part-...parquet") */
    struct ingest_delta_kv *part;
    size_t   npart;
    int64_t  size;
    int64_t  modification_time;
    char    *stats;             /* JSON text or NULL */
    int64_t  num_records;
};

struct ingest_delta_commit {
    const struct ingest_delta_add *adds;
    size_t   nadds;
    const struct ingest_delta_txn *txns;    /* app_id + version (last_updated ignored) */
    size_t   ntxns;
    const struct ingest_schema *new_schema; /* non-NULL: write a metaData with it */
    const char *operation;          /* commitInfo.operation; NULL: "STREAMING UPDATE" */
    const char *operation_params;   /* JSON object text, or NULL: {} */
    const char *lineage;            /* JSON object text stored as commitInfo.ingestd, or NULL */
    int      max_attempts;          /* 0: 200 */
};

/*
 * Commits the actions as the next version.  On success *version (may be
 * NULL) is the version written and the snapshot includes it; then, when
 * that version is due for a checkpoint (or one failed before), a
 * checkpoint is attempted; its failure is recorded in checkpoint_* and
 * does not fail the commit.
 * Returns 0; INGEST_EEXIST when a txn is already at or past its version
 * (the batch is already in the table: nothing was written); INGEST_ECONFLICT
 * when a concurrent commit changed the protocol or metadata, or when
 * max_attempts ran out; INGEST_EIO/INGEST_ENOSPC (nothing published).
 */
int ingest_delta_commit(struct ingest_delta_table *tbl, const struct ingest_delta_commit *c,
                        int64_t *version, char *err, size_t errlen);

/* Writes a checkpoint of the current snapshot (and _last_checkpoint), then
 * removes log files that are past delta.logRetentionDuration and behind a
 * checkpoint.  Returns 0 or a negative code with err. */
int ingest_delta_checkpoint(struct ingest_delta_table *tbl, char *err, size_t errlen);

/* Frees an add's members (not the struct). */
void ingest_delta_add_free(struct ingest_delta_add *a);

/* ---- data files --------------------------------------------------------- */

struct ingest_delta_writer_opts {
    struct ingest_parquet_opts parquet;     /* codec, level, row group size */
    int64_t  target_file_size;      /* roll to a new file past this many bytes; 0: 128 MiB */
    const char *file_prefix;        /* NULL: "part" */
    const struct ingest_schema *schema; /* NULL: the table's; else the evolved schema the
                                         * commit will declare (ingest_delta_prepare_schema) */
};

struct ingest_delta_writer;

/*
 * A writer of data files for one commit.  Batches must have the table's
 * schema (tbl->schema, partition columns included); rows are routed by
 * their partition values to Hive-style directories, written without the
 * partition columns, and files roll at target_file_size.  The writer copies
 * what it needs from tbl: the table may be used (and updated) meanwhile.
 * Returns NULL with a reason in err.
 */
struct ingest_delta_writer *ingest_delta_writer_open(const struct ingest_delta_table *tbl,
                                                     const struct ingest_delta_writer_opts *o,
                                                     char *err, size_t errlen);
/* Appends the batch's rows (the caller keeps the batch). 0 or INGEST_E*. */
int ingest_delta_writer_write(struct ingest_delta_writer *w, const struct ingest_batch *batch,
                              char *err, size_t errlen);
/*
 * Closes every file, fsyncs files and their directories, and returns the
 * add actions (with stats) in *adds (caller frees each with
 * ingest_delta_add_free, then the array).  Frees the writer, even on error
 * (then the files it wrote are removed).
 */
int ingest_delta_writer_finish(struct ingest_delta_writer *w, struct ingest_delta_add **adds,
                               size_t *nadds, char *err, size_t errlen);
/* Frees the writer and removes its files.  NULL is fine. */
void ingest_delta_writer_abort(struct ingest_delta_writer *w);
/* Bytes the writer buffers now (for the memory budget). */
size_t ingest_delta_writer_buffered_bytes(const struct ingest_delta_writer *w);

/* ---- helpers ------------------------------------------------------------ */

/* "<20-digit version>.json" etc. into buf (at least 64 bytes). */
void ingest_delta_version_name(int64_t version, const char *suffix, char *buf, size_t len);

/* A random (v4) UUID as 36 characters + NUL. */
void ingest_delta_uuid(char out[37]);

#endif
