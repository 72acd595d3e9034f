/*
 * pq_stats.c - column chunk statistics in Parquet's TYPE_ORDER (spec B5).
 *
 * Integers, dates, timestamps and decimals compare signed; strings and
 * binary compare as unsigned bytes (memcmp, shorter prefix first); booleans
 * false < true.  Floats: NaNs are counted, never compared; if every value is
 * NaN there is no min/max; a zero minimum is written as -0.0 and a zero
 * maximum as +0.0, so a reader's pruning stays correct whichever zero it
 * meets.
 *
 * Long byte arrays are truncated to `trunc` bytes (at a UTF-8 character
 * boundary for strings): the minimum becomes its prefix, the maximum its
 * prefix with the last incrementable byte incremented (below 0x7f for
 * strings, so the result stays UTF-8); both are then flagged inexact.  When
 * no byte can be incremented the chunk gets no min/max at all.
 */
#include <math.h>
#include <string.h>

#include "pq_encode.h"
#include "thrift_enc.h"

void pq_stats_init(struct pq_stats *s, enum pq_stats_kind kind, int utf8, size_t trunc)
{
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->utf8 = utf8;
    s->trunc = trunc ? trunc : 64;
    ingest_buf_init(&s->bmin);
    ingest_buf_init(&s->bmax);
    s->min_exact = s->max_exact = 1;
}

void pq_stats_reset(struct pq_stats *s)
{
    s->null_count = s->nan_count = 0;
    s->has = s->lost = 0;
    s->min_exact = s->max_exact = 1;
    ingest_buf_reset(&s->bmin);
    ingest_buf_reset(&s->bmax);
}

void pq_stats_free(struct pq_stats *s)
{
    ingest_buf_free(&s->bmin);
    ingest_buf_free(&s->bmax);
}

#define INT_MINMAX(T)                                                    \
    if (!n)                                                              \
        return;                                                          \
    int64_t mn = s->has ? s->imin : (int64_t)v[0];                       \
    int64_t mx = s->has ? s->imax : (int64_t)v[0];                       \
    T lo = (T)v[0], hi = (T)v[0];                                        \
    for (size_t j = 1; j < n; j++) {                                     \
        lo = v[j] < lo ? v[j] : lo;                                      \
        hi = v[j] > hi ? v[j] : hi;                                      \
    }                                                                    \
    s->imin = lo < mn ? lo : mn;                                         \
    s->imax = hi > mx ? hi : mx;                                         \
    s->has = 1;

void pq_stats_i32(struct pq_stats *s, const int32_t *v, size_t n) { INT_MINMAX(int32_t) }
void pq_stats_i64(struct pq_stats *s, const int64_t *v, size_t n) { INT_MINMAX(int64_t) }
void pq_stats_bool(struct pq_stats *s, const uint8_t *v, size_t n) { INT_MINMAX(uint8_t) }

#define FLOAT_MINMAX(T)                                                  \
    int64_t nan = 0;                                                     \
    double mn = s->has ? s->dmin : INFINITY, mx = s->has ? s->dmax : -INFINITY; \
    int any = 0;                                                         \
    for (size_t j = 0; j < n; j++) {                                     \
        T x = v[j];                                                      \
        if (x != x) {                                                    \
            nan++;                                                       \
            continue;                                                    \
        }                                                                \
        any = 1;                                                         \
        mn = x < mn ? x : mn;                                            \
        mx = x > mx ? x : mx;                                            \
    }                                                                    \
    s->nan_count += nan;                                                 \
    if (any) {                                                           \
        s->dmin = mn;                                                    \
        s->dmax = mx;                                                    \
        s->has = 1;                                                      \
    }

void pq_stats_f32(struct pq_stats *s, const float *v, size_t n) { FLOAT_MINMAX(float) }
void pq_stats_f64(struct pq_stats *s, const double *v, size_t n) { FLOAT_MINMAX(double) }

static __int128 be_to_i128(const uint8_t *p, size_t w)
{
    unsigned __int128 u = (p[0] & 0x80) ? ~(unsigned __int128)0 : 0;
    for (size_t k = 0; k < w; k++)
        u = u << 8 | p[k];
    return (__int128)u;
}

void pq_stats_dec_be(struct pq_stats *s, const uint8_t *v, size_t w, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        __int128 x = be_to_i128(v + j * w, w);
        if (!s->has) {
            s->qmin = s->qmax = x;
            s->has = 1;
            continue;
        }
        if (x < s->qmin)
            s->qmin = x;
        if (x > s->qmax)
            s->qmax = x;
    }
}

static int bytes_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t m = alen < blen ? alen : blen;
    int c = m ? memcmp(a, b, m) : 0;
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

/* Longest prefix of p of at most s->trunc bytes (whole characters for UTF-8). */
static size_t cut(const struct pq_stats *s, const uint8_t *p, size_t len)
{
    if (len <= s->trunc)
        return len;
    size_t keep = s->trunc;
    if (s->utf8)
        while (keep > 0 && (p[keep] & 0xc0) == 0x80)
            keep--;
    return keep;
}

static void store_min(struct pq_stats *s, const uint8_t *p, size_t len, int exact)
{
    size_t keep = cut(s, p, len);
    ingest_buf_reset(&s->bmin);
    ingest_buf_append(&s->bmin, p, keep);
    s->min_exact = exact && keep == len;
}

static void store_max(struct pq_stats *s, const uint8_t *p, size_t len, int exact)
{
    size_t keep = cut(s, p, len);
    ingest_buf_reset(&s->bmax);
    if (keep == len) {
        ingest_buf_append(&s->bmax, p, len);
        s->max_exact = exact;
        return;
    }
    uint8_t lim = s->utf8 ? 0x7f : 0xff;
    while (keep > 0 && p[keep - 1] >= lim)
        keep--;
    if (keep == 0) {
        s->lost = 1;
        return;
    }
    ingest_buf_append(&s->bmax, p, keep);
    s->bmax.data[keep - 1]++;
    s->max_exact = 0;
}

static void fold_bytes(struct pq_stats *s, const uint8_t *lo, size_t lolen, int lo_exact,
                       const uint8_t *hi, size_t hilen, int hi_exact)
{
    if (!s->has) {
        store_min(s, lo, lolen, lo_exact);
        store_max(s, hi, hilen, hi_exact);
        s->has = 1;
        return;
    }
    if (bytes_cmp(lo, lolen, (const uint8_t *)s->bmin.data, s->bmin.len) < 0)
        store_min(s, lo, lolen, lo_exact);
    if (bytes_cmp(hi, hilen, (const uint8_t *)s->bmax.data, s->bmax.len) > 0)
        store_max(s, hi, hilen, hi_exact);
}

void pq_stats_bytes(struct pq_stats *s, const uint32_t *offsets, const uint8_t *data,
                    const uint32_t *idx, size_t base, size_t n)
{
    if (!n)
        return;
    size_t k = idx ? idx[0] : base;
    const uint8_t *lo = data + offsets[k], *hi = lo;
    size_t lolen = offsets[k + 1] - offsets[k], hilen = lolen;
    for (size_t j = 1; j < n; j++) {
        k = idx ? idx[j] : base + j;
        const uint8_t *p = data + offsets[k];
        size_t len = offsets[k + 1] - offsets[k];
        if (bytes_cmp(p, len, lo, lolen) < 0) {
            lo = p;
            lolen = len;
        } else if (bytes_cmp(p, len, hi, hilen) > 0) {
            hi = p;
            hilen = len;
        }
    }
    fold_bytes(s, lo, lolen, 1, hi, hilen, 1);
}

void pq_stats_merge(struct pq_stats *dst, const struct pq_stats *src)
{
    dst->null_count += src->null_count;
    dst->nan_count += src->nan_count;
    dst->lost |= src->lost;
    if (!src->has)
        return;
    switch (src->kind) {
    case PQS_INT:
    case PQS_BOOL:
        dst->imin = dst->has && dst->imin < src->imin ? dst->imin : src->imin;
        dst->imax = dst->has && dst->imax > src->imax ? dst->imax : src->imax;
        break;
    case PQS_FLOAT:
        dst->dmin = dst->has && dst->dmin < src->dmin ? dst->dmin : src->dmin;
        dst->dmax = dst->has && dst->dmax > src->dmax ? dst->dmax : src->dmax;
        break;
    case PQS_DEC:
        dst->qmin = dst->has && dst->qmin < src->qmin ? dst->qmin : src->qmin;
        dst->qmax = dst->has && dst->qmax > src->qmax ? dst->qmax : src->qmax;
        break;
    case PQS_BYTES:
        if (src->lost)
            break;
        fold_bytes(dst, (const uint8_t *)src->bmin.data, src->bmin.len, src->min_exact,
                   (const uint8_t *)src->bmax.data, src->bmax.len, src->max_exact);
        return;
    }
    dst->has = 1;
}

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_be128(uint8_t *p, __int128 v, size_t w)
{
    unsigned __int128 u = (unsigned __int128)v;
    for (size_t i = 0; i < w; i++)
        p[w - 1 - i] = (uint8_t)(u >> (8 * i));
}

void pq_stats_plain(const struct pq_stats *s, int ptype, size_t w, uint8_t *minb, uint8_t *maxb,
                    const uint8_t **minp, size_t *minlen, const uint8_t **maxp, size_t *maxlen)
{
    *minp = minb;
    *maxp = maxb;
    switch (ptype) {
    case PQW_BOOLEAN:
        minb[0] = (uint8_t)s->imin;
        maxb[0] = (uint8_t)s->imax;
        *minlen = *maxlen = 1;
        return;
    case PQW_INT32:
        put_le(minb, (uint64_t)s->imin, 4);
        put_le(maxb, (uint64_t)s->imax, 4);
        *minlen = *maxlen = 4;
        return;
    case PQW_INT64:
        put_le(minb, (uint64_t)s->imin, 8);
        put_le(maxb, (uint64_t)s->imax, 8);
        *minlen = *maxlen = 8;
        return;
    case PQW_FLOAT: {
        float lo = s->dmin == 0 ? -0.0f : (float)s->dmin;
        float hi = s->dmax == 0 ? 0.0f : (float)s->dmax;
        memcpy(minb, &lo, 4);
        memcpy(maxb, &hi, 4);
        *minlen = *maxlen = 4;
        return;
    }
    case PQW_DOUBLE: {
        double lo = s->dmin == 0 ? -0.0 : s->dmin;
        double hi = s->dmax == 0 ? 0.0 : s->dmax;
        memcpy(minb, &lo, 8);
        memcpy(maxb, &hi, 8);
        *minlen = *maxlen = 8;
        return;
    }
    case PQW_FLBA:
        put_be128(minb, s->qmin, w);
        put_be128(maxb, s->qmax, w);
        *minlen = *maxlen = w;
        return;
    default:
        *minp = (const uint8_t *)s->bmin.data;
        *maxp = (const uint8_t *)s->bmax.data;
        *minlen = s->bmin.len;
        *maxlen = s->bmax.len;
        return;
    }
}
