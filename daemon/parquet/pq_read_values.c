/*
 * pq_read_values.c - value encodings of data and dictionary pages, and
 * the conversion of physical values into batch.h form (spec A7, B6).
 *
 * Every decoder first checks that the bytes it needs are there, then grows
 * the dense output once, so a forged count fails before any allocation.
 * Output sizes are capped: offsets are uint32, and DELTA_BYTE_ARRAY (whose
 * output can grow quadratically with shared prefixes) is capped at
 * PQ_MAX_PAGE bytes per page.
 */
#include <stdlib.h>
#include <string.h>

#include "ingestd/error.h"
#include "pq_read.h"

#define CORRUPT INGEST_ECORRUPT

void pq_dense_init(struct pq_dense *d, const struct pq_leaf *leaf)
{
    memset(d, 0, sizeof *d);
    d->width = ingest_type_width(leaf->field);
}

void pq_dense_free(struct pq_dense *d)
{
    free(d->fixed);
    free(d->offs);
    free(d->data);
    d->fixed = NULL;
    d->offs = NULL;
    d->data = NULL;
    d->n = d->fixed_cap = d->offs_cap = d->data_len = d->data_cap = 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    if (n > SIZE_MAX / elem)
        return INGEST_ENOMEM;
    void *q = realloc(*p, n * elem);
    if (!q)
        return INGEST_ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}

/* Room for `values` more values (and `bytes` more data when var-length). */
static int dense_reserve(struct pq_dense *d, size_t values, size_t bytes)
{
    if (values > SIZE_MAX - d->n - 2)
        return INGEST_ENOMEM;
    if (d->width)
        return grow((void **)&d->fixed, &d->fixed_cap, (d->n + values) * d->width, 1);
    if (grow((void **)&d->offs, &d->offs_cap, d->n + values + 1, sizeof *d->offs) < 0)
        return INGEST_ENOMEM;
    if (d->n == 0)
        d->offs[0] = 0;
    if (bytes > UINT32_MAX - d->data_len)
        return INGEST_ERANGE;
    return grow((void **)&d->data, &d->data_cap, d->data_len + bytes, 1);
}

static inline void put_var(struct pq_dense *d, const uint8_t *p, size_t len)
{
    if (len)
        memcpy(d->data + d->data_len, p, len);
    d->data_len += len;
    d->offs[++d->n] = (uint32_t)d->data_len;
}

static int append_var(struct pq_dense *d, const uint8_t *p, size_t len)
{
    int rc = dense_reserve(d, 1, len);
    if (rc < 0)
        return rc;
    put_var(d, p, len);
    return 0;
}

/* Stores an integer as the leaf's batch.h type; room is reserved. */
static int put_int(const struct pq_leaf *leaf, struct pq_dense *d, int64_t v)
{
    uint8_t *dst = d->fixed + d->n * d->width;
    switch (leaf->conv) {
    case PQ_CONV_MILLIS:
        if (v > INT64_MAX / 1000 || v < INT64_MIN / 1000)
            return INGEST_ERANGE;
        v *= 1000;
        break;
    case PQ_CONV_NANOS:
        v = v / 1000 - (v % 1000 < 0);
        break;
    default:
        break;
    }
    switch (d->width) {
    case 1: { int8_t x = (int8_t)v; memcpy(dst, &x, 1); break; }
    case 2: { int16_t x = (int16_t)v; memcpy(dst, &x, 2); break; }
    case 4: { int32_t x = (int32_t)v; memcpy(dst, &x, 4); break; }
    case 8: memcpy(dst, &v, 8); break;
    case 16: {
        __int128 x = v;
        memcpy(dst, &x, 16);
        break;
    }
    default: return CORRUPT;
    }
    d->n++;
    return 0;
}

/* Big-endian two's complement bytes -> decimal in batch.h form. */
static int put_decimal_bytes(struct pq_dense *d, const uint8_t *p, size_t len)
{
    if (len > 16) {
        uint8_t ext = (p[len - 16] & 0x80) ? 0xff : 0;
        for (size_t i = 0; i < len - 16; i++)
            if (p[i] != ext)
                return INGEST_ERANGE;
        p += len - 16;
        len = 16;
    }
    unsigned __int128 u = len && (p[0] & 0x80) ? ~(unsigned __int128)0 : 0;
    for (size_t i = 0; i < len; i++)
        u = (u << 8) | p[i];
    __int128 v = (__int128)u;
    uint8_t *dst = d->fixed + d->n * d->width;
    if (d->width == 8) {
        if (v > INT64_MAX || v < INT64_MIN)
            return INGEST_ERANGE;
        int64_t x = (int64_t)v;
        memcpy(dst, &x, 8);
    } else {
        memcpy(dst, &v, 16);
    }
    d->n++;
    return 0;
}

/* A BYTE_ARRAY/FLBA value: decimal, or string/binary bytes. */
static int append_bytes(const struct pq_leaf *leaf, struct pq_dense *d, const uint8_t *p,
                        size_t len)
{
    if (leaf->field->type == INGEST_TYPE_DECIMAL) {
        int rc = dense_reserve(d, 1, 0);
        return rc < 0 ? rc : put_decimal_bytes(d, p, len);
    }
    return append_var(d, p, len);
}

static int64_t le32(const uint8_t *p)
{
    int32_t x;
    memcpy(&x, p, 4);
    return x;
}

static int64_t le64(const uint8_t *p)
{
    int64_t x;
    memcpy(&x, p, 8);
    return x;
}

static int plain_fixed(const struct pq_leaf *leaf, const uint8_t *src, size_t count,
                       struct pq_dense *out)
{
    int rc;
    int phys = leaf->el->type;
    if ((rc = dense_reserve(out, count, 0)) < 0)
        return rc;
    /* same representation: one copy */
    if (leaf->conv == PQ_CONV_NONE &&
        ((phys == PQ_INT32 && out->width == 4) || (phys == PQ_INT64 && out->width == 8) ||
         (phys == PQ_FLOAT && out->width == 4) || (phys == PQ_DOUBLE && out->width == 8))) {
        memcpy(out->fixed + out->n * out->width, src, count * out->width);
        out->n += count;
        return 0;
    }
    for (size_t i = 0; i < count; i++) {
        int64_t v;
        switch (phys) {
        case PQ_INT32:
            v = le32(src + 4 * i);
            if (leaf->conv == PQ_CONV_UNSIGNED)
                v = (uint32_t)v;
            break;
        case PQ_INT64:
            v = le64(src + 8 * i);
            break;
        case PQ_INT96: {
            const uint8_t *q = src + 12 * i;
            int64_t nanos = le64(q), day = (uint32_t)le32(q + 8);
            if (nanos < 0 || nanos > 86400LL * 1000000000)
                return INGEST_ERANGE;
            if (__builtin_mul_overflow(day - 2440588, 86400LL * 1000000, &v) ||
                __builtin_add_overflow(v, nanos / 1000, &v))
                return INGEST_ERANGE;
            memcpy(out->fixed + out->n * 8, &v, 8);
            out->n++;
            continue;
        }
        default:
            return INGEST_ENOTSUP;
        }
        if ((rc = put_int(leaf, out, v)) < 0)
            return rc;
    }
    return 0;
}

static size_t phys_width(const struct pq_leaf *leaf)
{
    switch (leaf->el->type) {
    case PQ_INT32: case PQ_FLOAT: return 4;
    case PQ_INT64: case PQ_DOUBLE: return 8;
    case PQ_INT96: return 12;
    case PQ_FLBA: return (size_t)leaf->el->type_length;
    default: return 0;
    }
}

static int plain_decode(const struct pq_leaf *leaf, const uint8_t *src, size_t len,
                        size_t count, struct pq_dense *out)
{
    int rc;
    size_t w = phys_width(leaf);
    if (count == 0)
        return 0;
    switch (leaf->el->type) {
    case PQ_BOOLEAN:
        if (count > (size_t)len * 8 || (rc = dense_reserve(out, count, 0)) < 0)
            return count > (size_t)len * 8 ? CORRUPT : rc;
        for (size_t i = 0; i < count; i++)
            out->fixed[out->n++] = (src[i >> 3] >> (i & 7)) & 1;
        return 0;
    case PQ_BYTE_ARRAY: {
        if (count > len / 4)
            return CORRUPT;
        if (leaf->field->type != INGEST_TYPE_DECIMAL &&
            (rc = dense_reserve(out, count, len - 4 * count)) < 0)
            return rc;
        const uint8_t *p = src, *end = src + len;
        for (size_t i = 0; i < count; i++) {
            if (end - p < 4)
                return CORRUPT;
            uint32_t l = (uint32_t)le32(p);
            p += 4;
            if (l > (size_t)(end - p))
                return CORRUPT;
            if ((rc = append_bytes(leaf, out, p, l)) < 0)
                return rc;
            p += l;
        }
        return 0;
    }
    case PQ_FLBA:
        if (w == 0 || count > len / w)
            return CORRUPT;
        for (size_t i = 0; i < count; i++)
            if ((rc = append_bytes(leaf, out, src + i * w, w)) < 0)
                return rc;
        return 0;
    default:
        if (w == 0 || count > len / w)
            return CORRUPT;
        return plain_fixed(leaf, src, count, out);
    }
}

int pq_dict_decode(const struct pq_leaf *leaf, const uint8_t *src, size_t len, size_t count,
                   struct pq_dense *dict)
{
    return plain_decode(leaf, src, len, count, dict);
}

static int dict_decode(const uint8_t *src, size_t len, size_t count, const struct pq_dense *dict,
                       struct pq_dense *out)
{
    int rc;
    if (!dict)
        return CORRUPT;
    if (count == 0)
        return 0;
    if (len < 1 || src[0] > 32)
        return CORRUPT;
    uint32_t *idx = malloc(count * sizeof *idx);
    if (!idx)
        return INGEST_ENOMEM;
    struct pq_rle rle;
    pq_rle_init(&rle, src + 1, len - 1, src[0]);
    if ((rc = pq_rle_get32(&rle, idx, count)) < 0)
        goto fail;
    size_t bytes = 0;
    for (size_t i = 0; i < count; i++) {
        if (idx[i] >= dict->n) {
            rc = CORRUPT;
            goto fail;
        }
        if (!dict->width)
            bytes += dict->offs[idx[i] + 1] - dict->offs[idx[i]];
        if (bytes > UINT32_MAX) {
            rc = INGEST_ERANGE;
            goto fail;
        }
    }
    if ((rc = dense_reserve(out, count, bytes)) < 0)
        goto fail;
    if (dict->width) {
        size_t w = dict->width;
        uint8_t *dst = out->fixed + out->n * w;
        for (size_t i = 0; i < count; i++)
            memcpy(dst + i * w, dict->fixed + (size_t)idx[i] * w, w);
        out->n += count;
    } else {
        for (size_t i = 0; i < count; i++) {
            uint32_t a = dict->offs[idx[i]], b = dict->offs[idx[i] + 1];
            put_var(out, dict->data + a, b - a);
        }
    }
    rc = 0;
fail:
    free(idx);
    return rc;
}

static int rle_bool_decode(const uint8_t *src, size_t len, size_t count, struct pq_dense *out)
{
    int rc;
    if (len < 4)
        return CORRUPT;
    uint32_t l = (uint32_t)le32(src);
    if (l > len - 4)
        return CORRUPT;
    if ((rc = dense_reserve(out, count, 0)) < 0)
        return rc;
    struct pq_rle rle;
    pq_rle_init(&rle, src + 4, l, 1);
    if ((rc = pq_rle_get8(&rle, out->fixed + out->n, count)) < 0)
        return rc;
    out->n += count;
    return 0;
}

static int delta_int_decode(const struct pq_leaf *leaf, const uint8_t *src, size_t len,
                            size_t count, struct pq_dense *out)
{
    int rc;
    size_t got, used;
    if (leaf->el->type != PQ_INT32 && leaf->el->type != PQ_INT64)
        return CORRUPT;
    int64_t *v = malloc((count ? count : 1) * sizeof *v);
    if (!v)
        return INGEST_ENOMEM;
    if ((rc = pq_delta_decode(src, len, v, count, &got, &used)) < 0 || got != count ||
        (rc = dense_reserve(out, count, 0)) < 0) {
        rc = rc < 0 ? rc : CORRUPT;
        goto fail;
    }
    for (size_t i = 0; i < count; i++) {
        int64_t x = v[i];
        if (leaf->el->type == PQ_INT32) {
            x = (int32_t)(uint32_t)(uint64_t)x;
            if (leaf->conv == PQ_CONV_UNSIGNED)
                x = (uint32_t)x;
        }
        if ((rc = put_int(leaf, out, x)) < 0)
            goto fail;
    }
    rc = 0;
fail:
    free(v);
    return rc;
}

/* Lengths (DELTA_BINARY_PACKED) then the bytes; *used is set. */
static int delta_lengths(const uint8_t *src, size_t len, size_t count, int64_t **lens,
                         size_t *used)
{
    size_t got, total = 0;
    int64_t *l = malloc((count ? count : 1) * sizeof *l);
    if (!l)
        return INGEST_ENOMEM;
    if (pq_delta_decode(src, len, l, count, &got, used) < 0 || got != count)
        goto corrupt;
    for (size_t i = 0; i < count; i++) {
        if (l[i] < 0 || (uint64_t)l[i] > len - *used - total)
            goto corrupt;
        total += (size_t)l[i];
    }
    *lens = l;
    return 0;
corrupt:
    free(l);
    return CORRUPT;
}

static int delta_length_decode(const struct pq_leaf *leaf, const uint8_t *src, size_t len,
                               size_t count, struct pq_dense *out)
{
    int64_t *lens;
    size_t used;
    int rc;
    if (leaf->el->type != PQ_BYTE_ARRAY)
        return CORRUPT;
    if ((rc = delta_lengths(src, len, count, &lens, &used)) < 0)
        return rc;
    const uint8_t *p = src + used;
    for (size_t i = 0; i < count && rc == 0; i++) {
        rc = append_bytes(leaf, out, p, (size_t)lens[i]);
        p += lens[i];
    }
    free(lens);
    return rc;
}

static int delta_byte_array_decode(const struct pq_leaf *leaf, const uint8_t *src, size_t len,
                                   size_t count, struct pq_dense *out)
{
    int64_t *pre = NULL, *suf = NULL;
    uint8_t *prev = NULL;
    size_t pused, sused, got, prev_len = 0, prev_cap = 0, produced = 0;
    int rc = CORRUPT;
    if (!(pre = malloc((count ? count : 1) * sizeof *pre)))
        return INGEST_ENOMEM;
    if (pq_delta_decode(src, len, pre, count, &got, &pused) < 0 || got != count)
        goto fail;
    if ((rc = delta_lengths(src + pused, len - pused, count, &suf, &sused)) < 0)
        goto fail;
    const uint8_t *p = src + pused + sused;
    for (size_t i = 0; i < count; i++) {
        rc = CORRUPT;
        if (pre[i] < 0 || (uint64_t)pre[i] > prev_len)
            goto fail;
        size_t n = (size_t)pre[i] + (size_t)suf[i];
        produced += n;
        rc = INGEST_ERANGE;
        if (produced > PQ_MAX_PAGE)
            goto fail;
        if ((rc = grow((void **)&prev, &prev_cap, n ? n : 1, 1)) < 0)
            goto fail;
        memcpy(prev + pre[i], p, (size_t)suf[i]);
        p += suf[i];
        prev_len = n;
        if ((rc = append_bytes(leaf, out, prev, n)) < 0)
            goto fail;
    }
    rc = 0;
fail:
    free(pre);
    free(suf);
    free(prev);
    return rc;
}

static int byte_stream_split_decode(const struct pq_leaf *leaf, const uint8_t *src, size_t len,
                                    size_t count, struct pq_dense *out)
{
    size_t w = phys_width(leaf);
    int phys = leaf->el->type;
    if (w == 0 || phys == PQ_INT96 || count > len / w)
        return CORRUPT;
    uint8_t *tmp = malloc(count * w + 1);
    if (!tmp)
        return INGEST_ENOMEM;
    for (size_t i = 0; i < count; i++)
        for (size_t k = 0; k < w; k++)
            tmp[i * w + k] = src[k * count + i];
    int rc = plain_decode(leaf, tmp, count * w, count, out);
    free(tmp);
    return rc;
}

int pq_values_decode(const struct pq_leaf *leaf, int encoding, const uint8_t *src, size_t len,
                     size_t count, const struct pq_dense *dict, struct pq_dense *out)
{
    if (count == 0)
        return 0;
    switch (encoding) {
    case PQ_ENC_PLAIN:
        return plain_decode(leaf, src, len, count, out);
    case PQ_ENC_PLAIN_DICTIONARY:
    case PQ_ENC_RLE_DICTIONARY:
        return dict_decode(src, len, count, dict, out);
    case PQ_ENC_RLE:
        return leaf->el->type == PQ_BOOLEAN ? rle_bool_decode(src, len, count, out)
                                            : INGEST_ENOTSUP;
    case PQ_ENC_DELTA_BINARY_PACKED:
        return delta_int_decode(leaf, src, len, count, out);
    case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
        return delta_length_decode(leaf, src, len, count, out);
    case PQ_ENC_DELTA_BYTE_ARRAY:
        if (leaf->el->type == PQ_FLBA || leaf->el->type == PQ_BYTE_ARRAY)
            return delta_byte_array_decode(leaf, src, len, count, out);
        return CORRUPT;
    case PQ_ENC_BYTE_STREAM_SPLIT:
        return byte_stream_split_decode(leaf, src, len, count, out);
    default:
        return INGEST_ENOTSUP;
    }
}
