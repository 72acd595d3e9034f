/*
 * ckpt.h - a pipeline's checkpoint directory: the lock, the pipeline id,
 * and the write-ahead log of micro-batches (Structured Streaming's
 * offsets/ and commits/).
 *
 *   <dir>/lock          flock(2)ed while a process runs the pipeline; a
 *                       killed process leaves no stale lock
 *   <dir>/metadata      {"id":"<uuid>","name":...,"created_ms":...}: the
 *                       pipeline id, created once; it is the Delta txn appId
 *   <dir>/offsets/<N>   batch N's planned input, fsynced before the batch runs
 *   <dir>/commits/<N>   written after batch N's Delta commit
 *
 * Exactly once rests on the order: offsets/N durable -> data files ->
 * Delta commit carrying txn(id, N) -> commits/N.  On restart an offsets/N
 * without commits/N is replayed exactly as planned; the table's txn tells
 * whether its commit already happened.  Entries are JSON (integers written
 * as text, read back exactly); old ones are pruned, keeping the last 100.
 *
 * Threads: blocking file I/O; one handle per pipeline, used by one thread
 * at a time.
 */
#ifndef INGESTD_CKPT_H
#define INGESTD_CKPT_H

#include <stddef.h>
#include <stdint.h>

/* One planned input range of a directory-source batch. */
struct ingest_ckpt_range {
    char    *path;              /* relative to the source directory */
    int64_t  start, end;        /* bytes [start, end) */
    int64_t  first_line;        /* line number of the line at start (1-based) */
    int64_t  lines;             /* lines in [start, end); -1 unknown */
    int64_t  size;              /* file size and identity when planned */
    int64_t  mtime_ns;
    uint64_t inode;
};

struct ingest_ckpt_batch {
    int64_t  id;                /* N */
    int64_t  planned_ms;
    struct ingest_ckpt_range *ranges;
    size_t   nranges;
};

struct ingest_ckpt;

/* Opens (creating) the checkpoint directory and takes its lock.  Returns 0
 * and *out, or INGEST_EBUSY when another process holds it (err names it),
 * or another INGEST_E*. *fresh is set to 1 when the checkpoint had no
 * metadata yet (a new pipeline id was created). */
int ingest_ckpt_open(const char *dir, const char *name, struct ingest_ckpt **out, int *fresh,
                     char *err, size_t errlen);
void ingest_ckpt_close(struct ingest_ckpt *ck);

/* Deletes the WAL, file state and metadata (--reset-checkpoint); the lock
 * stays held.  A new pipeline id is created. */
int ingest_ckpt_reset(struct ingest_ckpt *ck, char *err, size_t errlen);

const char *ingest_ckpt_id(const struct ingest_ckpt *ck);
const char *ingest_ckpt_dir(const struct ingest_ckpt *ck);

/* Highest N with offsets/N, and with commits/N (-1 when none). */
int64_t ingest_ckpt_last_planned(const struct ingest_ckpt *ck);
int64_t ingest_ckpt_last_committed(const struct ingest_ckpt *ck);

/* Writes offsets/<b->id> durably (temp file, fsync, rename, fsync dir). */
int ingest_ckpt_write_offsets(struct ingest_ckpt *ck, const struct ingest_ckpt_batch *b,
                              char *err, size_t errlen);
/* Reads offsets/N into *b (free with ingest_ckpt_batch_free). */
int ingest_ckpt_read_offsets(struct ingest_ckpt *ck, int64_t n, struct ingest_ckpt_batch *b,
                             char *err, size_t errlen);
/* Writes commits/N: the table version (-1 when the batch was already in
 * the table) and the time.  Then prunes entries older than the last 100. */
int ingest_ckpt_write_commit(struct ingest_ckpt *ck, int64_t n, int64_t version,
                             char *err, size_t errlen);
/* The version recorded in commits/N: 0 and *version, or INGEST_ENOENT. */
int ingest_ckpt_read_commit(struct ingest_ckpt *ck, int64_t n, int64_t *version);

void ingest_ckpt_batch_free(struct ingest_ckpt_batch *b);

#endif
