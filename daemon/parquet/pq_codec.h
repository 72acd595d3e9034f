/*
 * pq_codec.h - Parquet page compression codecs (private to daemon/parquet).
 *
 * Values are parquet.thrift's CompressionCodec numbers, so a footer's codec
 * field can be passed as it is.  Any thread; no state.
 */
#ifndef INGEST_PQ_CODEC_H
#define INGEST_PQ_CODEC_H

#include <stddef.h>

#include "ingestd/buf.h"

enum pq_codec {
    PQ_CODEC_UNCOMPRESSED = 0,
    PQ_CODEC_SNAPPY = 1,
    PQ_CODEC_GZIP = 2,
    PQ_CODEC_ZSTD = 6,
};

/* Appends the compressed form of src to out.  level is used by ZSTD only.
 * Returns 0 or -INGEST_E* (ENOTSUP for a codec we do not write). */
int pq_codec_compress(enum pq_codec codec, int level, const void *src, size_t len,
                      struct ingest_buf *out);

/* Decompresses src into dst, which must hold exactly dst_len bytes (the
 * page header's uncompressed size).  Untrusted input: a size mismatch or
 * corrupt stream is -INGEST_ECORRUPT, never an overrun. */
int pq_codec_decompress(enum pq_codec codec, const void *src, size_t len, void *dst,
                        size_t dst_len);

#endif
