/*
 * parquet.h - a streaming Parquet writer fed with columnar batches.
 *
 * One writer produces one file: open it with a schema, hand it any number
 * of batches, close it.  The writer shreds each batch into definition and
 * repetition levels leaf by leaf, encodes pages of about `page_bytes`
 * (dictionary + RLE_DICTIONARY while the dictionary stays under
 * `dict_max_bytes`, PLAIN after that), compresses them, and keeps the
 * encoded pages of the current row group in memory; once the row group
 * reaches about `row_group_bytes` of uncompressed data it is written out
 * with write(2).  So memory is about one compressed row group plus one page
 * per column, whatever the size of the file.  The footer (schema, row
 * groups, per-chunk statistics, created_by, key/value metadata) is written
 * by ingest_parquet_writer_close, which also returns per-leaf file
 * statistics so the Delta log can build `add.stats` without reading the
 * file back.  Format details: specs/delta-parquet.md sections A7, B and C.
 *
 * Durability is the caller's: the writer never fsyncs; see
 * ingest_parquet_fsync_path.
 *
 * Threads: a writer belongs to one thread at a time (typically a
 * uv_queue_work worker); there is no shared state between writers.
 */
#ifndef INGESTD_PARQUET_H
#define INGESTD_PARQUET_H

#include <stddef.h>
#include <stdint.h>

#include "ingestd/batch.h"

/* Page codecs, numbered as parquet.thrift's CompressionCodec. */
enum ingest_parquet_codec {
    INGEST_PARQUET_UNCOMPRESSED = 0,
    INGEST_PARQUET_SNAPPY = 1,
    INGEST_PARQUET_ZSTD = 6,
};

struct ingest_parquet_kv {
    const char *key;
    const char *value;          /* NULL: key without value */
};

/* Writer settings.  A zeroed struct is valid: every 0 means "default". */
struct ingest_parquet_opts {
    int    codec;               /* enum ingest_parquet_codec; default uncompressed */
    int    zstd_level;          /* 0: 3 */
    size_t row_group_bytes;     /* cut row groups near this much uncompressed data; 0: 128 MiB */
    size_t page_bytes;          /* target page size before compression; 0: 1 MiB */
    size_t dict_max_bytes;      /* dictionary size that triggers PLAIN fallback; 0: 1 MiB */
    int    no_dictionary;       /* 1: PLAIN only */
    size_t stats_max_bytes;     /* longest string/binary min/max kept; 0: 64 */
    const char *created_by;     /* NULL: "ingestd version <v> (build <b>)" */
    const struct ingest_parquet_kv *kv;   /* footer key/value metadata (copied) */
    size_t nkv;
};

/* A typed statistics value; which member is meaningful depends on the
 * leaf's type (same representation as batch.h). */
struct ingest_parquet_value {
    int64_t i;                  /* boolean 0/1, int8..int64, date (days),
                                 * timestamp (us), decimal p<=18 (unscaled) */
    double  d;                  /* float, double */
    const uint8_t *bytes;       /* string, binary (maybe truncated, see *_exact) */
    size_t  len;
    uint8_t dec[16];            /* decimal p>18: unscaled, little-endian two's complement */
};

/* File-level statistics of one leaf column (Parquet column order). */
struct ingest_parquet_column_info {
    const struct ingest_field *field;   /* the leaf, in the writer's schema */
    char  **path;               /* Parquet path, e.g. {"tags","list","element"} */
    size_t  path_len;
    int     repeated;           /* inside a list or map: not a Delta stats column */
    int64_t num_values;         /* level entries (nulls and empty lists included) */
    int64_t null_count;         /* entries without a value */
    int64_t nan_count;          /* float/double only */
    int     has_min_max;        /* 0: all null/NaN, or not representable */
    int     min_exact, max_exact;   /* 0: truncated bound (strings/binary) */
    struct ingest_parquet_value min, max;
};

struct ingest_parquet_file_info {
    int64_t  num_rows;
    uint64_t file_size;         /* bytes, footer included */
    size_t   num_row_groups;
    struct ingest_parquet_column_info *columns;
    size_t   ncolumns;
};

struct ingest_parquet_writer;

/* Creates path (O_EXCL: never overwrites) and writes the leading magic.
 * The schema must outlive the writer.  Returns NULL with a reason in errbuf
 * (unsupported type, struct without fields, bad decimal, bad codec, I/O). */
struct ingest_parquet_writer *ingest_parquet_writer_open(const char *path,
                                                         const struct ingest_schema *schema,
                                                         const struct ingest_parquet_opts *opts,
                                                         char *errbuf, size_t errlen);
/* The same on an fd opened for writing at offset 0; the writer does not
 * close it (and abort does not truncate it). */
struct ingest_parquet_writer *ingest_parquet_writer_open_fd(int fd,
                                                            const struct ingest_schema *schema,
                                                            const struct ingest_parquet_opts *opts,
                                                            char *errbuf, size_t errlen);

/* Appends the batch's rows.  The batch must use the writer's schema (same
 * fields in the same order) and is only read; the caller keeps it.  May
 * write one or more row groups.  Returns 0 or INGEST_E*; after an error the
 * writer only accepts abort. */
int ingest_parquet_writer_write(struct ingest_parquet_writer *w, const struct ingest_batch *batch);

/* Writes the last row group and the footer, closes an fd it opened, and
 * frees the writer (always, even on error).  info (may be NULL) receives
 * the totals and per-leaf statistics; free it with
 * ingest_parquet_file_info_free.  Returns 0 or INGEST_E*; on error the file
 * is incomplete and should be removed (a path the writer created is
 * unlinked). */
int ingest_parquet_writer_close(struct ingest_parquet_writer *w,
                                struct ingest_parquet_file_info *info);

/* Frees the writer without finishing the file; a path it created is
 * unlinked.  NULL is fine. */
void ingest_parquet_writer_abort(struct ingest_parquet_writer *w);

/* Bytes of memory the writer holds now (buffers' capacities). */
size_t ingest_parquet_writer_buffered_bytes(const struct ingest_parquet_writer *w);

void ingest_parquet_file_info_free(struct ingest_parquet_file_info *info);

/* fsyncs a finished file and the directory that holds it.  Returns 0 or
 * INGEST_E*.  Blocking: call it off the loop thread. */
int ingest_parquet_fsync_path(const char *path);

#endif
