/*
 * decode_int.h - private to the NDJSON decoder: the token scanners and the
 * value conversions of decode_value.c, used by decode_json.c.
 *
 * A line is scanned in place, never copied: a token is a span of the
 * caller's buffer plus what the scanner learnt on the way (a string's
 * escapes, a number's digit runs and exponent), so a conversion does not
 * read the text a second time to find its parts.  Scanners validate as
 * they go (escapes, surrogate pairs, UTF-8 per RFC 3629, number grammar,
 * nesting) and on a syntax error return NULL with where and what in the
 * struct scan; conversions return 0 or one of the DEC_* failure kinds,
 * which the decoder turns into "column x: ..." reasons.
 */
#ifndef INGESTD_DECODE_INT_H
#define INGESTD_DECODE_INT_H

#include <stddef.h>
#include <stdint.h>

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

#endif
