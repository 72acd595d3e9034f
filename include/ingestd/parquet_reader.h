/*
 * parquet_reader.h - reads Parquet files (Delta checkpoints and data files)
 * into columnar batches (batch.h).
 *
 * Supported: PLAIN, dictionary (PLAIN_/RLE_DICTIONARY), RLE booleans,
 * DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY,
 * BYTE_STREAM_SPLIT; data pages v1 and v2; codecs none/snappy/gzip/zstd;
 * nested struct/list (3-level and legacy 2-level)/map, nullable at any depth.
 * Logical types map to batch.h types: STRING/ENUM/JSON -> STRING, DATE,
 * TIMESTAMP millis/micros/nanos and INT96 -> TIMESTAMP (micros), DECIMAL on
 * INT32/INT64/BYTE_ARRAY/FLBA -> DECIMAL (precision <= 38), INT(8/16) ->
 * INT8/INT16, unsigned ints -> the next wider signed type (UINT64 -> INT64,
 * bits kept), other BYTE_ARRAY/FLBA -> BINARY.
 *
 * The input is untrusted: every length and offset is checked and a corrupt
 * file yields INGEST_ECORRUPT (or NULL from open) with a reason in errbuf,
 * never a crash.  A reader may be used from any thread, by one thread at a
 * time; readers share nothing.
 */
#ifndef INGESTD_PARQUET_READER_H
#define INGESTD_PARQUET_READER_H

#include <stddef.h>
#include <stdint.h>

#include "ingestd/batch.h"

struct ingest_parquet_reader;

/* Opens the file at path: reads it into memory and parses the footer and
 * schema.  Returns NULL and writes a reason into errbuf on failure. */
struct ingest_parquet_reader *ingest_parquet_reader_open(const char *path, char *errbuf,
                                                         size_t errlen);

/* Same from a buffer.  The buffer is borrowed: it must stay valid and
 * unchanged until ingest_parquet_reader_close. */
struct ingest_parquet_reader *ingest_parquet_reader_open_buf(const void *buf, size_t len,
                                                             char *errbuf, size_t errlen);

/* Frees everything the reader owns (its schemas included).  NULL is fine. */
void ingest_parquet_reader_close(struct ingest_parquet_reader *r);

/* The whole file's schema, converted from the footer.  Owned by the reader. */
const struct ingest_schema *ingest_parquet_reader_schema(const struct ingest_parquet_reader *r);

size_t ingest_parquet_reader_num_rows(const struct ingest_parquet_reader *r);
size_t ingest_parquet_reader_num_row_groups(const struct ingest_parquet_reader *r);
size_t ingest_parquet_reader_row_group_rows(const struct ingest_parquet_reader *r, size_t rg);
/* The footer's created_by, or NULL. */
const char *ingest_parquet_reader_created_by(const struct ingest_parquet_reader *r);

/* Footer key/value metadata.  _kv_get returns the value of the first entry
 * named key (NULL if there is none or its value is absent).  Strings are
 * owned by the reader. */
size_t ingest_parquet_reader_kv_count(const struct ingest_parquet_reader *r);
int ingest_parquet_reader_kv_at(const struct ingest_parquet_reader *r, size_t i,
                                const char **key, const char **value);
const char *ingest_parquet_reader_kv_get(const struct ingest_parquet_reader *r,
                                         const char *key);

/* Upper bound on the level entries (values, nulls included) one read may
 * decode, summed over its columns; protects against files that claim
 * billions of values in a few bytes.  Default 1 << 28. */
void ingest_parquet_reader_set_max_values(struct ingest_parquet_reader *r, size_t max);

/* Reads row group rg into *out.  columns is a NULL-terminated list of
 * top-level field names to read (NULL reads all); names the file does not
 * have are ignored, so out->schema lists the fields actually read, in file
 * order.  On success *out owns its vectors (free with ingest_batch_free);
 * out->schema is owned by the reader and valid until close.  On failure
 * *out is left empty and a reason ("column add.path: ...") is in errbuf.
 * Returns 0, INGEST_EINVAL (bad rg), INGEST_ECORRUPT, INGEST_ENOTSUP
 * (an encoding or codec we do not read), INGEST_ERANGE or INGEST_ENOMEM. */
int ingest_parquet_reader_read_row_group(struct ingest_parquet_reader *r, size_t rg,
                                         const char *const *columns,
                                         struct ingest_batch *out, char *errbuf,
                                         size_t errlen);

/* The row count in the footer of the file at path, reading only the
 * file's tail (for Delta adds without stats).  0, or INGEST_E* with a
 * reason in errbuf. */
int ingest_parquet_read_num_rows(const char *path, int64_t *rows, char *errbuf, size_t errlen);

#endif
