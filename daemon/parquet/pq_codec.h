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

/* A writer's compressor: keeps ZSTD's context between pages, since
 * ZSTD_compress() would allocate (and fault in) a fresh one per call. */
struct pq_compressor {
    enum pq_codec codec;
    int   level;        /* ZSTD only */
    void *zctx;         /* ZSTD_CCtx, created on first use */
};

/* Returns 0, or INGEST_ENOTSUP for a codec we do not write. */
int  pq_compressor_init(struct pq_compressor *c, enum pq_codec codec, int level);
void pq_compressor_free(struct pq_compressor *c);
/* Appends the compressed form of src to out.  Returns 0 or INGEST_E*. */
int  pq_compress(struct pq_compressor *c, const void *src, size_t len, struct ingest_buf *out);

/* Decompresses src into dst, which must hold exactly dst_len bytes (the
 * page header's uncompressed size).  Untrusted input: a size mismatch or
 * corrupt stream is INGEST_ECORRUPT, never an overrun. */
int pq_codec_decompress(enum pq_codec codec, const void *src, size_t len, void *dst,
                        size_t dst_len);

#endif
