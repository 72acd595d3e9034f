/*
 * pq_read_pages.c - walks one column chunk's pages (spec B1, B2, B6, B9)
 * and produces its levels and dense values (pq_chunk).
 *
 * The chunk's byte range comes from the footer (dictionary or first data
 * page offset, total_compressed_size) and is checked against the file;
 * each page header is decoded inside that range and each body must fit in
 * it.  Level entries are counted against ColumnMetaData.num_values, which
 * is itself bounded by the caller's budget before anything is allocated.
 * Page bodies are decompressed into one scratch buffer reused per page
 * (uncompressed pages are read in place).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingestd/error.h"
#include "pq_codec.h"
#include "pq_read.h"

struct chunk_ctx {
    const struct pq_leaf *leaf;
    int codec;
    uint8_t *scratch;
    size_t scratch_cap;
    struct pq_dense dict;
    int have_dict;
    char *err;
    size_t errlen;
};

static int fail(struct chunk_ctx *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct chunk_ctx *c, int rc, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(c->err, c->errlen, "column %s: ", c->leaf->name);
    if (n >= 0 && (size_t)n < c->errlen) {
        va_start(ap, fmt);
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return rc;
}

void pq_chunk_free(struct pq_chunk *c)
{
    free(c->rep);
    free(c->def);
    pq_dense_free(&c->vals);
    c->rep = c->def = NULL;
    c->nlevels = 0;
}

/* Body bytes in uncompressed form: in place or in the scratch buffer. */
static int inflate_body(struct chunk_ctx *c, const uint8_t *src, size_t clen, size_t ulen,
                        const uint8_t **out)
{
    if (c->codec == PQ_CODEC_UNCOMPRESSED) {
        if (clen != ulen)
            return fail(c, INGEST_ECORRUPT, "page sizes differ (%zu, %zu) without compression",
                        clen, ulen);
        *out = src;
        return 0;
    }
    if (ulen > PQ_MAX_PAGE)
        return fail(c, INGEST_ERANGE, "page of %zu bytes is over the limit", ulen);
    if (ulen + 1 > c->scratch_cap) {
        uint8_t *p = realloc(c->scratch, ulen + 1);
        if (!p)
            return fail(c, INGEST_ENOMEM, "out of memory");
        c->scratch = p;
        c->scratch_cap = ulen + 1;
    }
    int rc = pq_codec_decompress(c->codec, src, clen, c->scratch, ulen);
    if (rc < 0)
        return fail(c, rc, "page does not decompress (codec %d)", c->codec);
    *out = c->scratch;
    return 0;
}

/* n levels at bit width bits(max) from p[0..len); checks each <= max. */
static int read_levels(struct chunk_ctx *c, const uint8_t *p, size_t len, uint8_t max,
                       uint8_t *out, size_t n, const char *what)
{
    struct pq_rle rle;
    pq_rle_init(&rle, p, len, pq_bit_width(max));
    if (pq_rle_get8(&rle, out, n) < 0)
        return fail(c, INGEST_ECORRUPT, "%s levels are truncated", what);
    for (size_t i = 0; i < n; i++)
        if (out[i] > max)
            return fail(c, INGEST_ECORRUPT, "%s level %u over the maximum %u", what, out[i],
                        max);
    return 0;
}

/* v1 level section: 4-byte length, then the runs. */
static int read_levels_v1(struct chunk_ctx *c, const uint8_t **p, const uint8_t *end,
                          int encoding, uint8_t max, uint8_t *out, size_t n, const char *what)
{
    if (max == 0) {
        memset(out, 0, n);
        return 0;
    }
    if (encoding != PQ_ENC_RLE)
        return fail(c, INGEST_ENOTSUP, "%s level encoding %d", what, encoding);
    if (end - *p < 4)
        return fail(c, INGEST_ECORRUPT, "%s levels are truncated", what);
    uint32_t len = (uint32_t)(*p)[0] | (uint32_t)(*p)[1] << 8 | (uint32_t)(*p)[2] << 16 |
                   (uint32_t)(*p)[3] << 24;
    *p += 4;
    if (len > (size_t)(end - *p))
        return fail(c, INGEST_ECORRUPT, "%s level length %u is past the page", what, len);
    int rc = read_levels(c, *p, len, max, out, n, what);
    *p += len;
    return rc;
}

static size_t count_present(const uint8_t *def, size_t n, uint8_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += def[i] == max;
    return k;
}

static int decode_values(struct chunk_ctx *c, struct pq_chunk *out, int encoding,
                         const uint8_t *p, size_t len, size_t n)
{
    size_t present = count_present(out->def + out->nlevels, n, c->leaf->max_def);
    int dict_enc = encoding == PQ_ENC_PLAIN_DICTIONARY || encoding == PQ_ENC_RLE_DICTIONARY;
    if (dict_enc && !c->have_dict)
        return fail(c, INGEST_ECORRUPT, "dictionary-encoded page without a dictionary");
    int rc = pq_values_decode(c->leaf, encoding, p, len, present, c->have_dict ? &c->dict : NULL,
                              &out->vals);
    if (rc == INGEST_ENOTSUP)
        return fail(c, rc, "value encoding %d is not supported", encoding);
    if (rc < 0)
        return fail(c, rc, "bad values (encoding %d): %s", encoding, ingest_strerror(rc));
    out->nlevels += n;
    return 0;
}

static int page_v1(struct chunk_ctx *c, const struct pq_page_header *ph, const uint8_t *body,
                   size_t left, struct pq_chunk *out)
{
    const uint8_t *p;
    int rc;
    if (!ph->has_data)
        return fail(c, INGEST_ECORRUPT, "data page without its header");
    if (ph->data.num_values < 0 || (size_t)ph->data.num_values > left)
        return fail(c, INGEST_ECORRUPT, "page has %d values, the chunk %zu more",
                    ph->data.num_values, left);
    size_t n = (size_t)ph->data.num_values;
    if ((rc = inflate_body(c, body, (size_t)ph->compressed_size, (size_t)ph->uncompressed_size,
                           &p)) < 0)
        return rc;
    const uint8_t *end = p + ph->uncompressed_size;
    if ((rc = read_levels_v1(c, &p, end, ph->data.rep_encoding, c->leaf->max_rep,
                             out->rep + out->nlevels, n, "repetition")) < 0 ||
        (rc = read_levels_v1(c, &p, end, ph->data.def_encoding, c->leaf->max_def,
                             out->def + out->nlevels, n, "definition")) < 0)
        return rc;
    return decode_values(c, out, ph->data.encoding, p, (size_t)(end - p), n);
}

static int page_v2(struct chunk_ctx *c, const struct pq_page_header *ph, const uint8_t *body,
                   size_t left, struct pq_chunk *out)
{
    int rc;
    if (!ph->has_data_v2)
        return fail(c, INGEST_ECORRUPT, "v2 data page without its header");
    int32_t rl = ph->v2.rep_len, dl = ph->v2.def_len;
    if (ph->v2.num_values < 0 || (size_t)ph->v2.num_values > left)
        return fail(c, INGEST_ECORRUPT, "page has %d values, the chunk %zu more",
                    ph->v2.num_values, left);
    if (rl < 0 || dl < 0 || (int64_t)rl + dl > ph->compressed_size ||
        (int64_t)rl + dl > ph->uncompressed_size)
        return fail(c, INGEST_ECORRUPT, "v2 level lengths %d+%d do not fit the page", rl, dl);
    size_t n = (size_t)ph->v2.num_values;
    if (c->leaf->max_rep)
        rc = read_levels(c, body, (size_t)rl, c->leaf->max_rep, out->rep + out->nlevels, n,
                         "repetition");
    else
        memset(out->rep + out->nlevels, 0, n), rc = 0;
    if (rc < 0)
        return rc;
    if (c->leaf->max_def)
        rc = read_levels(c, body + rl, (size_t)dl, c->leaf->max_def, out->def + out->nlevels, n,
                         "definition");
    else
        memset(out->def + out->nlevels, 0, n);
    if (rc < 0)
        return rc;
    const uint8_t *vp = body + rl + dl;
    size_t clen = (size_t)ph->compressed_size - (size_t)rl - (size_t)dl;
    size_t ulen = (size_t)ph->uncompressed_size - (size_t)rl - (size_t)dl;
    if (ph->v2.is_compressed && c->codec != PQ_CODEC_UNCOMPRESSED) {
        if (ulen == 0)
            clen = 0;           /* an empty body is not a compressed stream (B9) */
        else if ((rc = inflate_body(c, vp, clen, ulen, &vp)) < 0)
            return rc;
        else
            clen = ulen;
    }
    return decode_values(c, out, ph->v2.encoding, vp, clen, n);
}

static int page_dict(struct chunk_ctx *c, const struct pq_page_header *ph, const uint8_t *body,
                     const struct pq_chunk *out)
{
    const uint8_t *p;
    int rc;
    if (!ph->has_dict || c->have_dict || out->nlevels)
        return fail(c, INGEST_ECORRUPT, "misplaced or second dictionary page");
    if (ph->dict.encoding != PQ_ENC_PLAIN && ph->dict.encoding != PQ_ENC_PLAIN_DICTIONARY)
        return fail(c, INGEST_ENOTSUP, "dictionary encoding %d", ph->dict.encoding);
    if (ph->dict.num_values < 0)
        return fail(c, INGEST_ECORRUPT, "negative dictionary size");
    if ((rc = inflate_body(c, body, (size_t)ph->compressed_size, (size_t)ph->uncompressed_size,
                           &p)) < 0)
        return rc;
    pq_dense_init(&c->dict, c->leaf);
    rc = pq_dict_decode(c->leaf, p, (size_t)ph->uncompressed_size, (size_t)ph->dict.num_values,
                        &c->dict);
    if (rc < 0)
        return fail(c, rc, "bad dictionary page: %s", ingest_strerror(rc));
    c->have_dict = 1;
    return 0;
}

static int check_chunk(struct chunk_ctx *c, const struct pq_source *src,
                       const struct pq_column_chunk *cc, size_t budget, size_t *start,
                       size_t *size)
{
    const struct pq_column_meta *m = &cc->meta;
    const struct pq_leaf *leaf = c->leaf;
    if (cc->file_path)
        return fail(c, INGEST_ENOTSUP, "chunk stored in another file");
    if (!cc->has_meta)
        return fail(c, INGEST_ECORRUPT, "chunk without ColumnMetaData");
    if (m->type != leaf->el->type)
        return fail(c, INGEST_ECORRUPT, "chunk type %d, schema type %d", m->type, leaf->el->type);
    if (m->npath != leaf->npath)
        return fail(c, INGEST_ECORRUPT, "chunk path does not match the schema");
    for (uint32_t i = 0; i < m->npath; i++)
        if (strcmp(m->path[i], leaf->path[i]))
            return fail(c, INGEST_ECORRUPT, "chunk path does not match the schema");
    if (m->codec != PQ_CODEC_UNCOMPRESSED && m->codec != PQ_CODEC_SNAPPY &&
        m->codec != PQ_CODEC_GZIP && m->codec != PQ_CODEC_ZSTD)
        return fail(c, INGEST_ENOTSUP, "compression codec %d", m->codec);
    if (m->num_values < 0)
        return fail(c, INGEST_ECORRUPT, "negative value count");
    if ((uint64_t)m->num_values > budget)
        return fail(c, INGEST_ERANGE, "%lld values exceed the reader's limit",
                    (long long)m->num_values);
    int64_t off = m->data_page_offset;
    if (m->has_dictionary_page_offset && m->dictionary_page_offset >= 4 &&
        m->dictionary_page_offset < off)
        off = m->dictionary_page_offset;
    if (off < 4 || (uint64_t)off > src->len || m->total_compressed_size < 0 ||
        (uint64_t)m->total_compressed_size > src->len - (uint64_t)off)
        return fail(c, INGEST_ECORRUPT, "chunk range %lld+%lld is outside the file",
                    (long long)off, (long long)m->total_compressed_size);
    *start = (size_t)off;
    *size = (size_t)m->total_compressed_size;
    return 0;
}

int pq_chunk_read(const struct pq_source *src, const struct pq_leaf *leaf,
                  const struct pq_column_chunk *cc, size_t *budget, struct pq_chunk *out,
                  char *err, size_t errlen)
{
    struct chunk_ctx c = { .leaf = leaf, .codec = cc->meta.codec, .err = err, .errlen = errlen };
    size_t start = 0, size = 0;
    int rc;
    memset(out, 0, sizeof *out);
    pq_dense_init(&out->vals, leaf);
    if ((rc = check_chunk(&c, src, cc, *budget, &start, &size)) < 0)
        goto fail;
    size_t nv = (size_t)cc->meta.num_values;
    out->rep = malloc(nv ? nv : 1);
    out->def = malloc(nv ? nv : 1);
    if (!out->rep || !out->def) {
        rc = fail(&c, INGEST_ENOMEM, "out of memory");
        goto fail;
    }
    const uint8_t *p = src->buf + start, *end = p + size;
    while (out->nlevels < nv) {
        struct tc_in in = { p, end, 0 };
        struct pq_page_header ph;
        if (p >= end) {
            rc = fail(&c, INGEST_ECORRUPT, "chunk ends after %zu of %zu values", out->nlevels,
                      nv);
            goto fail;
        }
        if (pq_decode_page_header(&in, &ph) < 0) {
            rc = fail(&c, INGEST_ECORRUPT, "bad page header at offset %zu",
                      (size_t)(p - src->buf));
            goto fail;
        }
        if ((size_t)ph.compressed_size > (size_t)(end - in.p)) {
            rc = fail(&c, INGEST_ECORRUPT, "page at offset %zu runs past the chunk",
                      (size_t)(p - src->buf));
            goto fail;
        }
        const uint8_t *body = in.p;
        p = body + ph.compressed_size;
        if (ph.type == PQ_PAGE_DICTIONARY)
            rc = page_dict(&c, &ph, body, out);
        else if (ph.type == PQ_PAGE_DATA)
            rc = page_v1(&c, &ph, body, nv - out->nlevels, out);
        else if (ph.type == PQ_PAGE_DATA_V2)
            rc = page_v2(&c, &ph, body, nv - out->nlevels, out);
        else
            rc = 0;             /* index pages and unknown ones */
        if (rc < 0)
            goto fail;
    }
    *budget -= nv;
    rc = 0;
fail:
    if (rc < 0)
        pq_chunk_free(out);
    if (c.have_dict || c.dict.fixed || c.dict.offs || c.dict.data)
        pq_dense_free(&c.dict);
    free(c.scratch);
    return rc;
}
