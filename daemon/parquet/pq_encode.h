/*
 * pq_encode.h - the value-level pieces of the Parquet writer (private to
 * daemon/parquet): the RLE/bit-packed hybrid, the dictionary, record
 * shredding into definition/repetition levels, and column statistics.
 *
 * Everything here works on plain arrays a slice at a time; pq_write.c owns
 * pages, column chunks and the file.  Each bulk function switches on the
 * type once and then runs a tight loop: there is no per-value dispatch and
 * no per-value allocation.  Growth failures are reported by return code
 * (INGEST_ENOMEM) or by an ingest_buf's sticky `oom` flag as noted.
 * Any thread; objects belong to one thread at a time.
 */
#ifndef INGEST_PQ_ENCODE_H
#define INGEST_PQ_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "ingestd/batch.h"
#include "ingestd/buf.h"

/* --- RLE / bit-packed hybrid (ENC) ------------------------------------------ */

/* Number of bits needed for v (0 for 0). */
static inline int pq_bit_width(uint64_t v)
{
    return v ? 64 - __builtin_clzll(v) : 0;
}

/* Appends the hybrid encoding of v[0..n) at bit width w (0..32): RLE runs for
 * repeats of 8 or more, bit-packed groups of 8 otherwise; only the last group
 * is zero-padded.  No length prefix.  Failure: out->oom. */
void pq_rle_encode_u8(struct ingest_buf *out, const uint8_t *v, size_t n, int w);
void pq_rle_encode_u32(struct ingest_buf *out, const uint32_t *v, size_t n, int w);

/* Appends n booleans (0/1 bytes) to a PLAIN bit stream that already holds
 * *nbits bits (LSB first, last byte partial).  Failure: out->oom. */
void pq_plain_bools(struct ingest_buf *out, size_t *nbits, const uint8_t *v, size_t n);

/* --- dictionary ---------------------------------------------------------- */

/* Distinct values of one column chunk, in first-seen order.  `plain` is the
 * dictionary page body (PLAIN encoding of the entries). */
struct pq_dict {
    size_t    width;            /* bytes per fixed-width value; 0: BYTE_ARRAY */
    struct ingest_buf plain;
    uint32_t  n;                /* entries */
    uint32_t  cap;              /* capacity of offs/hashes */
    uint32_t *offs;             /* BYTE_ARRAY: entry start in plain (at its length) */
    uint32_t *hashes;
    uint32_t *slots;            /* open addressing: 0 empty, else index + 1 */
    uint32_t  mask;             /* nslots - 1 */
};

void pq_dict_init(struct pq_dict *d, size_t width);
void pq_dict_reset(struct pq_dict *d);          /* empty, keeps memory */
void pq_dict_free(struct pq_dict *d);
/* Maps n fixed-width values (contiguous, d->width bytes each) to indices in
 * out[0..n).  Returns 0 or INGEST_ENOMEM. */
int  pq_dict_add_fixed(struct pq_dict *d, const void *vals, size_t n, uint32_t *out);
/* The same for byte arrays: value j is data[offsets[k] .. offsets[k+1]) with
 * k = idx ? idx[j] : base + j. */
int  pq_dict_add_bytes(struct pq_dict *d, const uint32_t *offsets, const uint8_t *data,
                       const uint32_t *idx, size_t base, size_t n, uint32_t *out);

/* --- shredding (PQREADME "Nested Encoding") ------------------------------ */

enum pq_step_kind { PQ_STEP_LEAF, PQ_STEP_STRUCT, PQ_STEP_LIST, PQ_STEP_MAP };

/* One schema node on the way from a top-level column to a leaf. */
struct pq_step {
    enum pq_step_kind kind;
    size_t  child;              /* struct field / map 0 key 1 value; list 0 */
    int     nullable;           /* adds a definition level */
    uint8_t rep_level;          /* list/map: repetition level of its repeated group */
};

#define PQ_MAX_STEPS 64

/* Levels and leaf positions of a run of records. */
struct pq_levels {
    uint8_t  *def, *rep;        /* one per entry */
    size_t    n, cap;
    uint32_t *vidx;             /* leaf-vector index of each present value */
    size_t    nv, vcap;
    int       contig;           /* values are leaf rows base.. (vidx not filled) */
    size_t    base;
};

void pq_levels_free(struct pq_levels *lv);
/* Shreds rows [row0, row0 + nrows) of the top-level vector `top` along
 * steps[0..nsteps) (the last one a leaf) into lv, replacing its contents.
 * def and rep are filled for every entry (rep is all 0 without repeated
 * nodes); a top-level leaf without nulls sets contig instead of vidx.  Returns 0 or
 * INGEST_ENOMEM.  The batch must be well formed (batch.h). */
int  pq_shred(const struct pq_step *steps, size_t nsteps, const struct ingest_vector *top,
              size_t row0, size_t nrows, struct pq_levels *lv);
/* The leaf vector that the steps lead to. */
const struct ingest_vector *pq_leaf_vector(const struct pq_step *steps, size_t nsteps,
                                           const struct ingest_vector *top);

/* --- statistics (THRIFT Statistics; spec B5) ------------------------------ */

enum pq_stats_kind { PQS_INT, PQS_FLOAT, PQS_BOOL, PQS_BYTES, PQS_DEC };

struct pq_stats {
    enum pq_stats_kind kind;
    int      utf8;              /* BYTES: truncate at character boundaries */
    size_t   trunc;             /* BYTES: keep at most this many bytes */
    int64_t  null_count, nan_count;
    int      has;               /* some non-null, non-NaN value was seen */
    int      lost;              /* min/max cannot be written (truncation failed) */
    int      min_exact, max_exact;
    int64_t  imin, imax;        /* INT, BOOL */
    double   dmin, dmax;        /* FLOAT */
    __int128 qmin, qmax;        /* DEC (FIXED_LEN_BYTE_ARRAY decimals) */
    struct ingest_buf bmin, bmax;
};

void pq_stats_init(struct pq_stats *s, enum pq_stats_kind kind, int utf8, size_t trunc);
void pq_stats_reset(struct pq_stats *s);
void pq_stats_free(struct pq_stats *s);
void pq_stats_i32(struct pq_stats *s, const int32_t *v, size_t n);
void pq_stats_i64(struct pq_stats *s, const int64_t *v, size_t n);
void pq_stats_f32(struct pq_stats *s, const float *v, size_t n);
void pq_stats_f64(struct pq_stats *s, const double *v, size_t n);
void pq_stats_bool(struct pq_stats *s, const uint8_t *v, size_t n);
/* n big-endian two's complement values of w bytes each. */
void pq_stats_dec_be(struct pq_stats *s, const uint8_t *v, size_t w, size_t n);
void pq_stats_bytes(struct pq_stats *s, const uint32_t *offsets, const uint8_t *data,
                    const uint32_t *idx, size_t base, size_t n);
/* Folds src into dst (same kind).  Failure: dst's buffers' oom. */
void pq_stats_merge(struct pq_stats *dst, const struct pq_stats *src);
/* Whether min/max may be written. */
static inline int pq_stats_has_minmax(const struct pq_stats *s) { return s->has && !s->lost; }
/* PLAIN bytes of min and max for physical type ptype (enum pqw_ptype) into
 * minb/maxb (16 bytes each for fixed types; BYTES point into s).  w is the
 * FIXED_LEN_BYTE_ARRAY width. */
void pq_stats_plain(const struct pq_stats *s, int ptype, size_t w, uint8_t *minb, uint8_t *maxb,
                    const uint8_t **minp, size_t *minlen, const uint8_t **maxp, size_t *maxlen);

#endif
