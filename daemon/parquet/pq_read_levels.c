/*
 * pq_read_levels.c - the RLE/bit-packed hybrid (levels, dictionary indices,
 * RLE booleans) and DELTA_BINARY_PACKED, over untrusted bytes (spec B6).
 *
 * A bit-packed run whose bytes are cut short by the end of the buffer
 * yields only the values wholly present; asking for more is
 * INGEST_ECORRUPT.  Run lengths are 31-bit, so a run can claim far more
 * values than the page has: callers always ask for an exact count they
 * have already bounded.
 */
#include <string.h>

#include "ingestd/error.h"
#include "pq_read.h"

unsigned pq_bit_width(uint64_t max)
{
    unsigned w = 0;
    while (max) {
        w++;
        max >>= 1;
    }
    return w;
}

static int uleb(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= end)
            return INGEST_ECORRUPT;
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return INGEST_ECORRUPT;
}

/* width (<= 64) bits at bit offset `bit` of p, LSB first. */
static uint64_t get_bits(const uint8_t *p, size_t bit, unsigned width)
{
    uint64_t v = 0;
    unsigned got = 0;
    while (got < width) {
        unsigned sh = bit & 7, take = 8 - sh;
        if (take > width - got)
            take = width - got;
        v |= (uint64_t)((p[bit >> 3] >> sh) & ((1u << take) - 1)) << got;
        got += take;
        bit += take;
    }
    return v;
}

void pq_rle_init(struct pq_rle *d, const uint8_t *p, size_t len, unsigned width)
{
    memset(d, 0, sizeof *d);
    d->p = p;
    d->end = p + len;
    d->width = width;
}

static int next_run(struct pq_rle *d)
{
    uint64_t h;
    if (d->p >= d->end || uleb(&d->p, d->end, &h) < 0 || h >> 32)
        return INGEST_ECORRUPT;
    if (h & 1) {
        uint64_t values = (h >> 1) * 8;
        uint64_t bytes = (h >> 1) * d->width;
        size_t left = (size_t)(d->end - d->p);
        if (bytes > left) {
            bytes = left;
            values = d->width ? (uint64_t)left * 8 / d->width : values;
        }
        if (values > UINT32_MAX)
            values = UINT32_MAX;
        d->bp = d->p;
        d->bp_bit = 0;
        d->bp_left = (uint32_t)values;
        d->p += bytes;
    } else {
        unsigned nbytes = (d->width + 7) / 8;
        if ((size_t)(d->end - d->p) < nbytes)
            return INGEST_ECORRUPT;
        uint64_t v = 0;
        for (unsigned i = 0; i < nbytes; i++)
            v |= (uint64_t)d->p[i] << (8 * i);
        d->p += nbytes;
        if (d->width < 64 && v >> d->width)
            return INGEST_ECORRUPT;
        d->rle_value = v;
        d->rle_left = (uint32_t)(h >> 1);
    }
    return 0;
}

/* Up to n values of the current run into out (as uint8 or uint32). */
#define RLE_GET(d, out, n, T)                                                   \
    do {                                                                        \
        while (n) {                                                             \
            if ((d)->rle_left) {                                                \
                size_t k_ = n < (d)->rle_left ? n : (d)->rle_left;              \
                T v_ = (T)(d)->rle_value;                                       \
                for (size_t i_ = 0; i_ < k_; i_++)                              \
                    (out)[i_] = v_;                                             \
                (out) += k_;                                                    \
                n -= k_;                                                        \
                (d)->rle_left -= (uint32_t)k_;                                  \
            } else if ((d)->bp_left) {                                          \
                size_t k_ = n < (d)->bp_left ? n : (d)->bp_left;                \
                size_t bit_ = (d)->bp_bit;                                      \
                for (size_t i_ = 0; i_ < k_; i_++, bit_ += (d)->width)          \
                    (out)[i_] = (T)get_bits((d)->bp, bit_, (d)->width);         \
                (d)->bp += bit_ >> 3;                                           \
                (d)->bp_bit = bit_ & 7;                                         \
                (out) += k_;                                                    \
                n -= k_;                                                        \
                (d)->bp_left -= (uint32_t)k_;                                   \
            } else if (next_run(d) < 0) {                                       \
                return INGEST_ECORRUPT;                                         \
            }                                                                   \
        }                                                                       \
    } while (0)

int pq_rle_get8(struct pq_rle *d, uint8_t *out, size_t n)
{
    if (d->width > 8)
        return INGEST_ECORRUPT;
    RLE_GET(d, out, n, uint8_t);
    return 0;
}

int pq_rle_get32(struct pq_rle *d, uint32_t *out, size_t n)
{
    if (d->width > 32)
        return INGEST_ECORRUPT;
    RLE_GET(d, out, n, uint32_t);
    return 0;
}

int pq_delta_decode(const uint8_t *p, size_t len, int64_t *out, size_t max, size_t *count,
                    size_t *used)
{
    const uint8_t *start = p, *end = p + len;
    uint64_t block, nmini, total, zz;
    if (uleb(&p, end, &block) < 0 || uleb(&p, end, &nmini) < 0 || uleb(&p, end, &total) < 0 ||
        uleb(&p, end, &zz) < 0)
        return INGEST_ECORRUPT;
    if (block == 0 || block % 128 || block > (1u << 20) || nmini == 0 || block % nmini ||
        (block / nmini) % 32 || total > max)
        return INGEST_ECORRUPT;
    uint64_t per_mini = block / nmini;
    uint64_t prev = (zz >> 1) ^ (~(zz & 1) + 1);
    size_t n = 0;
    if (total) {
        if (out)
            out[0] = (int64_t)prev;
        n = 1;
    }
    while (n < total) {
        uint64_t mzz;
        if (uleb(&p, end, &mzz) < 0 || (size_t)(end - p) < nmini)
            return INGEST_ECORRUPT;
        uint64_t min_delta = (mzz >> 1) ^ (~(mzz & 1) + 1);
        const uint8_t *widths = p;
        p += nmini;
        for (uint64_t m = 0; m < nmini && n < total; m++) {
            unsigned w = widths[m];
            if (w > 64)
                return INGEST_ECORRUPT;
            uint64_t bytes = per_mini * w / 8;
            if (bytes > (uint64_t)(end - p))
                return INGEST_ECORRUPT;
            for (uint64_t i = 0; i < per_mini && n < total; i++) {
                prev += min_delta + get_bits(p, (size_t)(i * w), w);
                if (out)
                    out[n] = (int64_t)prev;
                n++;
            }
            p += bytes;
        }
    }
    *count = n;
    *used = (size_t)(p - start);
    return 0;
}
