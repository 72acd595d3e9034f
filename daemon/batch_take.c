/*
 * batch_take.c - ingest_batch_take: gather rows of a batch by index.
 *
 * The pipeline uses it to split one decoded batch into one batch per
 * partition value before the Parquet writer sees them, so it runs on every
 * row: each vector is gathered with one allocation per buffer and a tight
 * loop per width, never an allocation per row.
 *
 * Nested vectors are copied deeply by turning the parent's index list into
 * the child's: a struct passes its rows down unchanged (its children have
 * its length), a list or map passes down the element indices of every
 * taken slot in order (one uint32 array per nesting level), so each level
 * is itself a flat gather.  Output offsets are rebased to start at 0 and
 * are uint32 like every offset in batch.h: more than 4 GiB of string bytes
 * or 2^32 - 1 list entries in one output vector is INGEST_ERANGE, checked
 * before anything of that size is allocated.
 *
 * A null slot of the input comes out in batch.h's canonical form: an empty
 * range for strings, lists and maps (even if the input's range was not
 * empty), the input's value (0) for fixed-width types, nulls in struct
 * children.  The input is trusted to be well formed (offsets inside its
 * buffers); only the caller's row indices are checked.
 */
#include <stdlib.h>
#include <string.h>

#include "ingestd/batch.h"
#include "ingestd/error.h"

static int take_vector(const struct ingest_vector *src, const uint32_t *idx, size_t n,
                       struct ingest_vector *dst);

/* malloc that never returns NULL for a zero size, so "no rows" still has
 * buffers and NULL always means out of memory. */
static void *alloc(size_t n)
{
    return malloc(n ? n : 1);
}

/* Gathers the validity bits of idx; dst->validity stays NULL when every
 * taken slot is valid.  Bytes are assembled in a register, 8 slots at a
 * time. */
static int take_validity(const struct ingest_vector *src, const uint32_t *idx, size_t n,
                         struct ingest_vector *dst)
{
    dst->null_count = 0;
    if (!src->validity)
        return 0;
    uint8_t *bits = alloc((n + 7) / 8);
    if (!bits)
        return INGEST_ENOMEM;
    const uint8_t *in = src->validity;
    size_t valid = 0;
    for (size_t i = 0; i < n; i += 8) {
        size_t m = n - i < 8 ? n - i : 8;
        unsigned byte = 0;
        for (size_t k = 0; k < m; k++) {
            uint32_t r = idx[i + k];
            byte |= (unsigned)((in[r >> 3] >> (r & 7)) & 1) << k;
        }
        bits[i >> 3] = (uint8_t)byte;
        valid += (size_t)__builtin_popcount(byte);
    }
    dst->null_count = n - valid;
    if (dst->null_count == 0)
        free(bits);
    else
        dst->validity = bits;
    return 0;
}

/* 16-byte decimals move as a pair of words. */
struct w16 {
    uint64_t lo, hi;
};

#define GATHER(T)                                                                      \
    do {                                                                               \
        const T *s = src->values;                                                      \
        T *d = dst->values;                                                            \
        for (size_t i = 0; i < n; i++)                                                 \
            d[i] = s[idx[i]];                                                          \
    } while (0)

static int take_fixed(const struct ingest_vector *src, const uint32_t *idx, size_t n,
                      size_t width, struct ingest_vector *dst)
{
    dst->values = alloc(n * width);
    if (!dst->values)
        return INGEST_ENOMEM;
    switch (width) {
    case 1: GATHER(uint8_t); break;
    case 2: GATHER(uint16_t); break;
    case 4: GATHER(uint32_t); break;
    case 8: GATHER(uint64_t); break;
    case 16: GATHER(struct w16); break;
    default: return INGEST_EINVAL;      /* not a width batch.h defines */
    }
    return 0;
}

/* Length of input slot r as the output sees it: a null slot is empty. */
static inline uint32_t slot_len(const struct ingest_vector *src, uint32_t r)
{
    if (!ingest_vector_valid(src, r))
        return 0;
    return src->offsets[r + 1] - src->offsets[r];
}

/* Output offsets for the taken slots; *total is the last one.  ERANGE
 * when it does not fit in a uint32 offset. */
static int take_offsets(const struct ingest_vector *src, const uint32_t *idx, size_t n,
                        struct ingest_vector *dst, uint32_t *total)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += slot_len(src, idx[i]);
    if (sum > UINT32_MAX)
        return INGEST_ERANGE;
    dst->offsets = alloc((n + 1) * sizeof *dst->offsets);
    if (!dst->offsets)
        return INGEST_ENOMEM;
    uint32_t at = 0;
    dst->offsets[0] = 0;
    for (size_t i = 0; i < n; i++) {
        at += slot_len(src, idx[i]);
        dst->offsets[i + 1] = at;
    }
    *total = at;
    return 0;
}

static int take_bytes(const struct ingest_vector *src, const uint32_t *idx, size_t n,
                      struct ingest_vector *dst)
{
    uint32_t total;
    int rc = take_offsets(src, idx, n, dst, &total);
    if (rc < 0)
        return rc;
    dst->data = alloc(total);
    if (!dst->data)
        return INGEST_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        uint32_t len = dst->offsets[i + 1] - dst->offsets[i];
        if (len)
            memcpy(dst->data + dst->offsets[i], src->data + src->offsets[idx[i]], len);
    }
    return 0;
}

/* List and map: offsets, then the children gathered by the element
 * indices of the taken slots, in order. */
static int take_ranges(const struct ingest_vector *src, const uint32_t *idx, size_t n,
                       struct ingest_vector *dst)
{
    uint32_t total;
    uint32_t *kid_idx = NULL;
    int rc = take_offsets(src, idx, n, dst, &total);
    if (rc < 0)
        goto fail;
    rc = INGEST_ENOMEM;
    kid_idx = alloc((size_t)total * sizeof *kid_idx);
    if (!kid_idx)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        uint32_t at = dst->offsets[i], len = dst->offsets[i + 1] - at;
        uint32_t from = src->offsets[idx[i]];
        for (uint32_t e = 0; e < len; e++)
            kid_idx[at + e] = from + e;
    }
    for (size_t k = 0; k < dst->nchildren; k++) {
        rc = take_vector(&src->children[k], kid_idx, total, &dst->children[k]);
        if (rc < 0)
            goto fail;
    }
    rc = 0;
fail:
    free(kid_idx);
    return rc;
}

/* Fills *dst (zeroed by the caller) with src's slots idx[0..n).  On
 * failure dst may be half built; ingest_vector_free releases it. */
static int take_vector(const struct ingest_vector *src, const uint32_t *idx, size_t n,
                       struct ingest_vector *dst)
{
    const struct ingest_field *f = src->field;
    dst->field = f;
    dst->length = n;
    if (src->nchildren) {
        dst->children = calloc(src->nchildren, sizeof *dst->children);
        if (!dst->children)
            return INGEST_ENOMEM;
        dst->nchildren = src->nchildren;
    }
    int rc = take_validity(src, idx, n, dst);
    if (rc < 0)
        return rc;
    switch (f->type) {
    case INGEST_TYPE_STRING:
    case INGEST_TYPE_BINARY:
        return take_bytes(src, idx, n, dst);
    case INGEST_TYPE_LIST:
    case INGEST_TYPE_MAP:
        return take_ranges(src, idx, n, dst);
    case INGEST_TYPE_STRUCT:
        for (size_t k = 0; k < dst->nchildren; k++) {
            rc = take_vector(&src->children[k], idx, n, &dst->children[k]);
            if (rc < 0)
                return rc;
        }
        return 0;
    default:
        return take_fixed(src, idx, n, ingest_type_width(f), dst);
    }
}

int ingest_batch_take(const struct ingest_batch *in, const uint32_t *rows, size_t n,
                      struct ingest_batch *out)
{
    size_t nf = in->schema->nfields;
    int rc;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++)
        if (rows[i] >= in->nrows)
            return INGEST_EINVAL;
    out->schema = in->schema;
    out->nrows = n;
    out->columns = calloc(nf ? nf : 1, sizeof *out->columns);
    if (!out->columns) {
        rc = INGEST_ENOMEM;
        goto fail;
    }
    for (size_t c = 0; c < nf; c++) {
        rc = take_vector(&in->columns[c], rows, n, &out->columns[c]);
        if (rc < 0)
            goto fail;
    }
    return 0;
fail:
    ingest_batch_free(out);
    memset(out, 0, sizeof *out);
    return rc;
}
