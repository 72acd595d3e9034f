/*
 * pq_encode.c - RLE/bit-packed hybrid, PLAIN booleans, the dictionary and
 * record shredding (see pq_encode.h).
 *
 * The hybrid encoder scans for runs: a run of 8 or more equal values becomes
 * an RLE run, everything else is gathered into bit-packed groups of 8.  A
 * bit-packed run may only be padded at the very end of the stream (a reader
 * decodes whole groups), so when a long run follows literals whose count is
 * not a multiple of 8, the literals borrow values from the run.
 *
 * The dictionary is an open-addressing hash table (linear probing, load
 * <= 1/2) over entries kept in their PLAIN form, so the dictionary page body
 * is the `plain` buffer as it stands.  Floats are compared by bit pattern:
 * -0.0 and +0.0, and NaNs with different payloads, are distinct entries.
 *
 * The shredder walks one leaf's path per record (PQREADME "Nested
 * Encoding"): a null or an empty list/map stops the walk with the levels
 * reached so far; a present leaf value records its index in the leaf vector.
 */
#include <stdlib.h>
#include <string.h>

#include "ingestd/error.h"
#include "pq_encode.h"
#include "thrift_enc.h"   /* tw_varint: the RLE run headers are ULEB128 too */

/* --- RLE / bit-packed hybrid ------------------------------------------------ */

static void put_rle_run(struct ingest_buf *out, uint32_t value, size_t count, int w)
{
    uint8_t le[4] = { (uint8_t)value, (uint8_t)(value >> 8), (uint8_t)(value >> 16),
                      (uint8_t)(value >> 24) };
    tw_varint(out, (uint64_t)count << 1);
    ingest_buf_append(out, le, (size_t)(w + 7) / 8);
}

#define DEFINE_RLE_ENCODER(NAME, T)                                                  \
static void NAME##_packed(struct ingest_buf *out, const T *v, size_t n, int w)      \
{                                                                                    \
    size_t groups = (n + 7) / 8, bytes = groups * (size_t)w;                         \
    tw_varint(out, (uint64_t)groups << 1 | 1);                                     \
    if (ingest_buf_reserve(out, bytes) < 0)                                          \
        return;                                                                      \
    uint8_t *p = (uint8_t *)out->data + out->len;                                    \
    uint64_t acc = 0;                                                                \
    int bits = 0;                                                                    \
    for (size_t i = 0; i < groups * 8; i++) {                                        \
        uint64_t x = i < n ? (uint64_t)v[i] : 0;                                     \
        acc |= x << bits;                                                            \
        bits += w;                                                                   \
        while (bits >= 8) {                                                          \
            *p++ = (uint8_t)acc;                                                     \
            acc >>= 8;                                                               \
            bits -= 8;                                                               \
        }                                                                            \
    }                                                                                \
    out->len += bytes;                                                               \
    out->data[out->len] = '\0';                                                      \
}                                                                                    \
                                                                                     \
void NAME(struct ingest_buf *out, const T *v, size_t n, int w)                      \
{                                                                                    \
    size_t lit = 0, i = 0;                                                           \
    while (i < n) {                                                                  \
        T x = v[i];                                                                  \
        size_t j = i + 1;                                                            \
        while (j < n && v[j] == x)                                                   \
            j++;                                                                     \
        size_t run = j - i;                                                          \
        if (run >= 8) {                                                              \
            size_t pending = i - lit, pad = (8 - pending % 8) % 8;                   \
            if (pending == 0) {                                                      \
                put_rle_run(out, (uint32_t)x, run, w);                               \
                lit = j;                                                             \
            } else if (run - pad >= 8) {                                             \
                NAME##_packed(out, v + lit, pending + pad, w);                       \
                put_rle_run(out, (uint32_t)x, run - pad, w);                         \
                lit = j;                                                             \
            }                                                                        \
        }                                                                            \
        i = j;                                                                       \
    }                                                                                \
    if (lit < n)                                                                     \
        NAME##_packed(out, v + lit, n - lit, w);                                     \
}

DEFINE_RLE_ENCODER(pq_rle_encode_u8, uint8_t)
DEFINE_RLE_ENCODER(pq_rle_encode_u32, uint32_t)

void pq_plain_bools(struct ingest_buf *out, size_t *nbits, const uint8_t *v, size_t n)
{
    size_t nb = *nbits;
    if (ingest_buf_reserve(out, n / 8 + 1) < 0)
        return;
    uint8_t *p = (uint8_t *)out->data;
    size_t len = out->len;
    for (size_t i = 0; i < n; i++, nb++) {
        if ((nb & 7) == 0)
            p[len++] = 0;
        p[len - 1] |= (uint8_t)((v[i] & 1) << (nb & 7));
    }
    out->len = len;
    p[len] = 0;
    *nbits = nb;
}

/* --- dictionary ------------------------------------------------------------ */

static inline uint32_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return (uint32_t)x;
}

static uint32_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
    while (n >= 8) {
        uint64_t k;
        memcpy(&k, p, 8);
        h = (h ^ k) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 31;
        p += 8;
        n -= 8;
    }
    uint64_t k = 0;
    memcpy(&k, p, n);
    return mix64((h ^ k) * 0x94d049bb133111ebULL);
}

void pq_dict_init(struct pq_dict *d, size_t width)
{
    memset(d, 0, sizeof *d);
    d->width = width;
    ingest_buf_init(&d->plain);
}

void pq_dict_reset(struct pq_dict *d)
{
    ingest_buf_reset(&d->plain);
    d->plain.oom = 0;
    d->n = 0;
    if (d->slots)
        memset(d->slots, 0, ((size_t)d->mask + 1) * sizeof *d->slots);
}

void pq_dict_free(struct pq_dict *d)
{
    ingest_buf_free(&d->plain);
    free(d->offs);
    free(d->hashes);
    free(d->slots);
    pq_dict_init(d, d->width);
}

/* Room for one more entry: arrays and a table at most half full. */
static int dict_reserve(struct pq_dict *d)
{
    if (d->n == d->cap) {
        uint32_t cap = d->cap ? d->cap * 2 : 256;
        uint32_t *h = realloc(d->hashes, cap * sizeof *h);
        if (!h)
            return INGEST_ENOMEM;
        d->hashes = h;
        if (d->width == 0) {
            uint32_t *o = realloc(d->offs, cap * sizeof *o);
            if (!o)
                return INGEST_ENOMEM;
            d->offs = o;
        }
        d->cap = cap;
    }
    size_t nslots = d->slots ? (size_t)d->mask + 1 : 0;
    if ((size_t)(d->n + 1) * 2 <= nslots)
        return 0;
    size_t ns = nslots ? nslots * 2 : 1024;
    uint32_t *slots = calloc(ns, sizeof *slots);
    if (!slots)
        return INGEST_ENOMEM;
    for (uint32_t e = 0; e < d->n; e++) {
        size_t s = d->hashes[e] & (ns - 1);
        while (slots[s])
            s = (s + 1) & (ns - 1);
        slots[s] = e + 1;
    }
    free(d->slots);
    d->slots = slots;
    d->mask = (uint32_t)(ns - 1);
    return 0;
}

static inline __attribute__((always_inline)) int
dict_add_fixed_w(struct pq_dict *d, const uint8_t *vals, size_t n, uint32_t *out, size_t w)
{
    for (size_t j = 0; j < n; j++) {
        const uint8_t *v = vals + j * w;
        uint32_t h;
        if (w == 4) {
            uint32_t x;
            memcpy(&x, v, 4);
            h = mix64(x);
        } else if (w == 8) {
            uint64_t x;
            memcpy(&x, v, 8);
            h = mix64(x);
        } else {
            h = hash_bytes(v, w);
        }
        if ((size_t)(d->n + 1) * 2 > (size_t)d->mask + 1 || !d->slots || d->n == d->cap)
            if (dict_reserve(d) < 0)
                return INGEST_ENOMEM;
        size_t s = h & d->mask;
        uint32_t e;
        while ((e = d->slots[s]) != 0) {
            if (d->hashes[e - 1] == h && memcmp(d->plain.data + (size_t)(e - 1) * w, v, w) == 0)
                break;
            s = (s + 1) & d->mask;
        }
        if (!e) {
            if (ingest_buf_append(&d->plain, v, w) < 0)
                return INGEST_ENOMEM;
            d->hashes[d->n] = h;
            e = ++d->n;
            d->slots[s] = e;
        }
        out[j] = e - 1;
    }
    return 0;
}

int pq_dict_add_fixed(struct pq_dict *d, const void *vals, size_t n, uint32_t *out)
{
    switch (d->width) {
    case 4: return dict_add_fixed_w(d, vals, n, out, 4);
    case 8: return dict_add_fixed_w(d, vals, n, out, 8);
    default: return dict_add_fixed_w(d, vals, n, out, d->width);
    }
}

int pq_dict_add_bytes(struct pq_dict *d, const uint32_t *offsets, const uint8_t *data,
                      const uint32_t *idx, size_t base, size_t n, uint32_t *out)
{
    for (size_t j = 0; j < n; j++) {
        size_t k = idx ? idx[j] : base + j;
        const uint8_t *v = data + offsets[k];
        uint32_t len = offsets[k + 1] - offsets[k];
        uint32_t h = hash_bytes(v, len);
        if ((size_t)(d->n + 1) * 2 > (size_t)d->mask + 1 || !d->slots || d->n == d->cap)
            if (dict_reserve(d) < 0)
                return INGEST_ENOMEM;
        size_t s = h & d->mask;
        uint32_t e;
        while ((e = d->slots[s]) != 0) {
            if (d->hashes[e - 1] == h) {
                const uint8_t *ent = (const uint8_t *)d->plain.data + d->offs[e - 1];
                uint32_t elen;
                memcpy(&elen, ent, 4);
                if (elen == len && memcmp(ent + 4, v, len) == 0)
                    break;
            }
            s = (s + 1) & d->mask;
        }
        if (!e) {
            if (d->plain.len > UINT32_MAX - 4 - (size_t)len)
                return INGEST_ERANGE;
            d->offs[d->n] = (uint32_t)d->plain.len;
            uint8_t le[4] = { (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16),
                              (uint8_t)(len >> 24) };
            if (ingest_buf_append(&d->plain, le, 4) < 0 ||
                ingest_buf_append(&d->plain, v, len) < 0)
                return INGEST_ENOMEM;
            d->hashes[d->n] = h;
            e = ++d->n;
            d->slots[s] = e;
        }
        out[j] = e - 1;
    }
    return 0;
}

/* --- shredding -------------------------------------------------------------- */

struct shred {
    const struct pq_step *steps;
    size_t nsteps;
    struct pq_levels *lv;
    int oom;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    size_t c = *cap ? *cap : 1024;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q)
        return INGEST_ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

static int levels_reserve(struct pq_levels *lv, size_t extra)
{
    if (lv->n + extra <= lv->cap)
        return 0;
    size_t cap = lv->cap;
    if (grow((void **)&lv->def, &cap, lv->n + extra, 1) < 0)
        return INGEST_ENOMEM;
    cap = lv->cap;
    if (grow((void **)&lv->rep, &cap, lv->n + extra, 1) < 0)
        return INGEST_ENOMEM;
    lv->cap = cap;
    return 0;
}

static inline void emit(struct shred *c, uint8_t rep, uint8_t def, int has_value, size_t i)
{
    struct pq_levels *lv = c->lv;
    if (lv->n == lv->cap && levels_reserve(lv, 1) < 0) {
        c->oom = 1;
        return;
    }
    lv->def[lv->n] = def;
    lv->rep[lv->n] = rep;
    lv->n++;
    if (!has_value)
        return;
    if (lv->nv == lv->vcap && grow((void **)&lv->vidx, &lv->vcap, lv->nv + 1, 4) < 0) {
        c->oom = 1;
        return;
    }
    lv->vidx[lv->nv++] = (uint32_t)i;
}

static void shred_slot(struct shred *c, size_t d, const struct ingest_vector *v, size_t i,
                       uint8_t rep, uint8_t def)
{
    const struct pq_step *st = &c->steps[d];
    if (st->nullable) {
        if (!ingest_vector_valid(v, i)) {
            emit(c, rep, def, 0, 0);
            return;
        }
        def++;
    }
    switch (st->kind) {
    case PQ_STEP_LEAF:
        emit(c, rep, def, 1, i);
        return;
    case PQ_STEP_STRUCT:
        shred_slot(c, d + 1, &v->children[st->child], i, rep, def);
        return;
    case PQ_STEP_LIST:
    case PQ_STEP_MAP: {
        uint32_t b = v->offsets[i], e = v->offsets[i + 1];
        if (b >= e) {
            emit(c, rep, def, 0, 0);
            return;
        }
        const struct ingest_vector *cv = &v->children[st->child];
        shred_slot(c, d + 1, cv, b, rep, (uint8_t)(def + 1));
        for (uint32_t j = b + 1; j < e; j++)
            shred_slot(c, d + 1, cv, j, st->rep_level, (uint8_t)(def + 1));
        return;
    }
    }
}

void pq_levels_free(struct pq_levels *lv)
{
    free(lv->def);
    free(lv->rep);
    free(lv->vidx);
    memset(lv, 0, sizeof *lv);
}

/* A top-level leaf: def is the validity bit, rep is always 0. */
static int shred_flat(const struct pq_step *st, const struct ingest_vector *v, size_t row0,
                      size_t nrows, struct pq_levels *lv)
{
    if (levels_reserve(lv, nrows) < 0)
        return INGEST_ENOMEM;
    if (lv->vcap < nrows && grow((void **)&lv->vidx, &lv->vcap, nrows, 4) < 0)
        return INGEST_ENOMEM;
    memset(lv->rep, 0, nrows);
    if (!st->nullable || !v->validity) {
        memset(lv->def, st->nullable ? 1 : 0, nrows);
        lv->n = lv->nv = nrows;
        lv->contig = 1;
        lv->base = row0;
        return 0;
    }
    size_t nv = 0;
    for (size_t r = 0; r < nrows; r++) {
        size_t i = row0 + r;
        uint8_t ok = (v->validity[i >> 3] >> (i & 7)) & 1;
        lv->def[r] = ok;
        lv->vidx[nv] = (uint32_t)i;
        nv += ok;
    }
    lv->n = nrows;
    lv->nv = nv;
    if (nv == nrows) {
        lv->contig = 1;
        lv->base = row0;
    }
    return 0;
}

int pq_shred(const struct pq_step *steps, size_t nsteps, const struct ingest_vector *top,
             size_t row0, size_t nrows, struct pq_levels *lv)
{
    lv->n = lv->nv = 0;
    lv->contig = 0;
    lv->base = 0;
    if (nsteps == 1)
        return shred_flat(steps, top, row0, nrows, lv);
    struct shred c = { steps, nsteps, lv, 0 };
    if (levels_reserve(lv, nrows) < 0)
        return INGEST_ENOMEM;
    for (size_t r = 0; r < nrows && !c.oom; r++)
        shred_slot(&c, 0, top, row0 + r, 0, 0);
    return c.oom ? INGEST_ENOMEM : 0;
}

const struct ingest_vector *pq_leaf_vector(const struct pq_step *steps, size_t nsteps,
                                           const struct ingest_vector *top)
{
    const struct ingest_vector *v = top;
    for (size_t d = 0; d + 1 < nsteps; d++)
        v = &v->children[steps[d].child];
    return v;
}
