/*
 * decode_int.h - private to the NDJSON decoder: the token scanners and
 * value conversions of decode_value.c, and the decoder's state.
 *
 * A line is scanned in place, never copied: a token is a span of the
 * caller's buffer plus what the scanner learnt on the way (a string's
 * escapes, a number's digit runs and exponent), so a conversion does not
 * read the text a second time to find its parts.  Scanners validate as
 * they go (escapes, surrogate pairs, UTF-8 per RFC 3629, number grammar,
 * nesting) and on a syntax error return NULL with where and what in the
 * struct scan; conversions return 0 or one of the DEC_* failure kinds,
 * which the decoder turns into "column x: ..." reasons.
 *
 * The second half is the decoder's private state, shared by the file that
 * builds rows (decode_json.c) and the one that writes a value into its
 * column (decode_value.c).
 */
#ifndef INGESTD_DECODE_INT_H
#define INGESTD_DECODE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ingestd/batch.h"
#include "ingestd/decode.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define DEC_MAX_DEPTH 512       /* nesting accepted inside one value */

#if defined(__GNUC__)
#define DEC_LIKELY(x)   __builtin_expect(!!(x), 1)
#define DEC_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define DEC_LIKELY(x)   (x)
#define DEC_UNLIKELY(x) (x)
#endif

/* One line being scanned.  Bytes [line, end) are the line; loads of up to
 * 16 bytes may go on to lim (the end of the caller's buffer), because the
 * line's terminator ('\r' or '\n', both control characters) stops every
 * string scan anyway. */
struct scan {
    const char *line;
    const char *end;
    const char *lim;
    const char *err_at;         /* set with err when a scanner returns NULL */
    const char *err;            /* static text: "expected ':' after member name" */
};

/* A string's raw content between its quotes; esc: it holds a backslash. */
struct str_tok {
    const char *p;
    size_t n;
    int esc;
};

/* A number literal [p, e): digits of the integer part (ip, ilen; a single
 * '0' or no leading zero), of the fraction (fp, flen), and the exponent
 * (clamped to +-1e9, far past any type's range). */
struct num_tok {
    const char *p, *e;
    const char *ip, *fp;
    size_t ilen, flen;
    int neg;
    int frac;                   /* '.' present */
    int expo;                   /* exponent present */
    int64_t exp;
};

/* Conversion failure kinds (0 = converted). */
enum {
    DEC_BAD = 1,                /* not this type's form: "not an integer" */
    DEC_RANGE,                  /* the right form but out of the type's range */
    DEC_SCALE,                  /* decimal: more fraction digits than the scale */
    DEC_PREC,                   /* decimal: more integer digits than precision - scale */
};

/* Scanners.  p is where the token starts (after the opening quote for a
 * string); they return the first byte after it, or NULL with s->err set. */
const char *dec_scan_string(struct scan *s, const char *p, struct str_tok *t);

/* The first byte at or after p that is '"', '\\', < 0x20 or >= 0x80; lim
 * if none.  Reads only below lim, sixteen bytes at a time where it can. */
static inline const char *dec_find_special(const char *p, const char *lim)
{
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(0x20);
    while (lim - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        /* Signed compare: bytes >= 0x80 are negative, so "< 0x20" takes them too. */
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
                                 _mm_cmplt_epi8(x, space));
        unsigned bits = (unsigned)_mm_movemask_epi8(m);
        if (bits)
            return p + __builtin_ctz(bits);
        p += 16;
    }
#endif
    for (; p < lim; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80)
            return p;
    }
    return lim;
}

/* dec_scan_string with the common case inline: plain ASCII up to the
 * closing quote. */
static inline const char *dec_string(struct scan *s, const char *p, struct str_tok *t)
{
    const char *q = dec_find_special(p, s->lim);
    if (DEC_LIKELY(q < s->end && *q == '"')) {
        t->p = p;
        t->n = (size_t)(q - p);
        t->esc = 0;
        return q + 1;
    }
    return dec_scan_string(s, p, t);
}
const char *dec_scan_number(struct scan *s, const char *p, struct num_tok *t);
/* Any JSON value, fully validated (strings, numbers, literals, nesting up
 * to DEC_MAX_DEPTH). */
const char *dec_skip_value(struct scan *s, const char *p);

/* Writes the unescaped bytes of a string that dec_scan_string accepted to
 * out (room for n bytes is enough: unescaping never grows); returns their
 * count. */
size_t dec_unescape(const char *p, size_t n, char *out);

/* Number conversions. */
int dec_num_int64(const struct num_tok *t, int64_t *out);
/* Exactly strtod's result; DEC_RANGE when it overflows to infinity;
 * INGEST_ENOMEM if a literal of 128 bytes or more could not be copied. */
int dec_num_double(const struct num_tok *t, double *out);
/* Unscaled value of decimal(prec, scale), prec <= 38. */
int dec_num_decimal(const struct num_tok *t, int prec, int scale, __int128 *out);
/* A plain decimal string: -?[0-9]+(.[0-9]+)? */
int dec_str_decimal(const char *p, size_t n, int prec, int scale, __int128 *out);
/* A number of `unit` (enum ingest_epoch_unit) since the epoch, as us:
 * fractions (s, ms) are exact, digits past the microsecond are dropped
 * toward negative infinity; us takes integers only. */
int dec_num_epoch(const struct num_tok *t, int unit, int64_t *us);

/* Text conversions. */
int dec_str_date(const char *p, size_t n, int32_t *days);
int dec_str_timestamp(const char *p, size_t n, int64_t *us);
/* Standard base64, padded or not, into out (room for n / 4 * 3 + 2);
 * *outn gets the byte count. */
int dec_base64(const char *p, size_t n, uint8_t *out, size_t *outn);

/* --- the decoder and its columns ------------------------------------------------ */

/* decode_json.c owns the decoder and builds rows; decode_value.c converts
 * one value into its column (dec_column_value).  The row being built is
 * row nrows of every column: see decode_json.c. */

#define DEC_NPRED    64             /* key positions remembered per line */
#define DEC_MIN_DATA 4096           /* first string buffer of a column */
#define DEC_PUT_NULL 16             /* dec_column_value: the value was JSON null */

/* A column's state in the row being built; DEC_ST_FAIL + a DEC_* kind for
 * a value that did not convert. */
enum { DEC_ST_UNSET, DEC_ST_SET, DEC_ST_NULL, DEC_ST_FAIL };

struct dec_col {
    const struct ingest_field *field;
    const char *name;
    size_t name_len;
    uint8_t type, width, nullable;
    uint8_t plain;                  /* name needs no JSON escaping: predictable by memcmp */
    uint8_t pat[16];                /* name + '"' when that fits: one 16-byte compare */
    uint32_t pat_mask;              /* its bytes, as movemask bits; 0: does not fit */
    uint8_t *values;                /* fixed width: rcap values */
    uint32_t *offsets;              /* string/binary: rcap + 1 */
    char *data;
    size_t dcap;
    uint8_t *validity;              /* NULL until the first null; unused bits are 1 */
    size_t null_count;
    size_t dhint;                   /* string bytes of the last batch taken */
    const char *fkey, *fval;        /* the failed member of this row (rescue) */
    size_t fkey_n, fval_n;
};

struct resc_ent {
    const char *k, *v;
    size_t kn, vn;
};

struct ingest_decoder {
    const struct ingest_schema *schema;
    struct dec_col *cols;
    size_t ncols;
    int rescued;                    /* column index or -1 */
    int rescue_unknown;
    int epoch_unit;
    size_t max_line;
    size_t nrows, rcap, rhint;
    uint8_t *state;                 /* per column, this row */
    uint32_t *by_name, *by_fold;    /* column + 1, 0 = empty slot */
    size_t hmask;
    int32_t pred[DEC_NPRED];
    char *keybuf;                   /* an unescaped key; 6 * longest name */
    size_t keybuf_len;
    char *scratch;                  /* an unescaped value for date/time/decimal */
    size_t scratch_cap;
    struct resc_ent *resc;          /* rescued members of this row */
    size_t nresc, resc_cap;
    char reason[512];
    struct ingest_decode_stats stats;
};

/* Room for string bytes up to `need`: INGEST_ERANGE past 4 GiB (offsets
 * are uint32), else 0 or INGEST_ENOMEM. */
int dec_grow_data(struct dec_col *c, size_t need);

static inline int dec_reserve(struct dec_col *c, size_t at, size_t n)
{
    if (DEC_UNLIKELY(c->dcap - at < n))
        return dec_grow_data(c, at + n);
    return 0;
}

/* Ends the row's value of a string/binary column n bytes after its start. */
static inline void dec_end_bytes(struct dec_col *c, size_t row, size_t n)
{
    c->offsets[row + 1] = c->offsets[row] + (uint32_t)n;
}

static inline int dec_put_bytes(struct dec_col *c, size_t row, const void *p, size_t n)
{
    size_t at = c->offsets[row];
    int rc = dec_reserve(c, at, n);
    if (DEC_UNLIKELY(rc))
        return rc;
    memcpy(c->data + at, p, n);
    dec_end_bytes(c, row, n);
    return 0;
}

/* The value at p for column c, written into row d->nrows.  Returns the
 * byte after it, or NULL on a syntax error (s->err); *rc is 0,
 * DEC_PUT_NULL, a DEC_* failure kind or INGEST_E*. */
const char *dec_column_value(struct ingest_decoder *d, struct scan *s, struct dec_col *c,
                             const char *p, int *rc);

#endif
