/*
 * pq_codec.c - page compression through Debian's libzstd and libsnappy
 * (see pq_codec.h).  GZIP is read-only support for files others wrote.
 */
#include <string.h>

#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "ingestd/error.h"
#include "pq_codec.h"

int pq_compressor_init(struct pq_compressor *c, enum pq_codec codec, int level)
{
    c->codec = codec;
    c->level = level;
    c->zctx = NULL;
    if (codec != PQ_CODEC_UNCOMPRESSED && codec != PQ_CODEC_SNAPPY && codec != PQ_CODEC_ZSTD)
        return INGEST_ENOTSUP;
    return 0;
}

void pq_compressor_free(struct pq_compressor *c)
{
    ZSTD_freeCCtx(c->zctx);
    c->zctx = NULL;
}

int pq_compress(struct pq_compressor *c, const void *src, size_t len, struct ingest_buf *out)
{
    switch (c->codec) {
    case PQ_CODEC_UNCOMPRESSED:
        return ingest_buf_append(out, src, len);
    case PQ_CODEC_ZSTD: {
        if (!c->zctx && !(c->zctx = ZSTD_createCCtx()))
            return INGEST_ENOMEM;
        size_t bound = ZSTD_compressBound(len);
        if (ingest_buf_reserve(out, bound) < 0)
            return INGEST_ENOMEM;
        size_t n = ZSTD_compressCCtx(c->zctx, out->data + out->len, bound, src, len, c->level);
        if (ZSTD_isError(n))
            return INGEST_EIO;
        out->len += n;
        return 0;
    }
    case PQ_CODEC_SNAPPY: {
        size_t n = snappy_max_compressed_length(len);
        if (ingest_buf_reserve(out, n) < 0)
            return INGEST_ENOMEM;
        if (snappy_compress(src, len, out->data + out->len, &n) != SNAPPY_OK)
            return INGEST_EIO;
        out->len += n;
        return 0;
    }
    default:
        return INGEST_ENOTSUP;
    }
}

static int gunzip(const void *src, size_t len, void *dst, size_t dst_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK)   /* gzip or zlib header */
        return INGEST_ENOMEM;
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)len;
    z.next_out = dst;
    z.avail_out = (uInt)dst_len;
    int rc = inflate(&z, Z_FINISH);
    size_t got = dst_len - z.avail_out;
    inflateEnd(&z);
    return rc == Z_STREAM_END && got == dst_len ? 0 : INGEST_ECORRUPT;
}

int pq_codec_decompress(enum pq_codec codec, const void *src, size_t len, void *dst,
                        size_t dst_len)
{
    switch (codec) {
    case PQ_CODEC_UNCOMPRESSED:
        if (len != dst_len)
            return INGEST_ECORRUPT;
        if (len)
            memcpy(dst, src, len);
        return 0;
    case PQ_CODEC_ZSTD: {
        size_t n = ZSTD_decompress(dst, dst_len, src, len);
        return !ZSTD_isError(n) && n == dst_len ? 0 : INGEST_ECORRUPT;
    }
    case PQ_CODEC_SNAPPY: {
        size_t n;
        if (snappy_uncompressed_length(src, len, &n) != SNAPPY_OK || n != dst_len)
            return INGEST_ECORRUPT;
        if (snappy_validate_compressed_buffer(src, len) != SNAPPY_OK)
            return INGEST_ECORRUPT;
        return snappy_uncompress(src, len, dst, &n) == SNAPPY_OK && n == dst_len
                   ? 0 : INGEST_ECORRUPT;
    }
    case PQ_CODEC_GZIP:
        if (len > 0xffffffffu || dst_len > 0xffffffffu)
            return INGEST_ECORRUPT;
        return gunzip(src, len, dst, dst_len);
    default:
        return INGEST_ENOTSUP;
    }
}
