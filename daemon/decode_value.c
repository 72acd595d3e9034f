/*
 * decode_value.c - the NDJSON decoder's token scanners and value
 * conversions (decode_int.h).
 *
 * Strings are scanned sixteen bytes at a time (SSE2, or a byte loop where
 * there is none) for the four things that need a look: the closing quote,
 * a backslash, a control character and a byte >= 0x80; everything else is
 * passed over without a branch per byte.  A non-ASCII byte starts a UTF-8
 * check of that one sequence (RFC 3629: no overlongs, no surrogates, no
 * code point past U+10FFFF) and the fast scan resumes after it.
 *
 * Numbers keep their digit runs, so each conversion is exact without
 * going through a double: integers accumulate in uint64 with the range
 * checked on the digit count; decimals and epoch timestamps in 128 bits,
 * scaled by moving the decimal point; doubles take Clinger's fast path
 * (at most 2^53 as an integer and a power of ten up to 22: one correctly
 * rounded IEEE division or multiplication of two exact operands) and
 * strtod otherwise, so every double is bit for bit what strtod gives.
 * strtod assumes the "C" locale; ingestd never calls setlocale().
 *
 * Dates and timestamps are parsed at fixed positions and turned into days
 * with Howard Hinnant's days_from_civil, valid for the proleptic Gregorian
 * calendar in any year.
 *
 * The last part, dec_column_value, is where a token meets its column: it
 * dispatches on the token's first byte, then on the column's type, and
 * writes the converted value into the row being built (decode_json.c
 * explains that row).  A token of the wrong JSON kind for the type is a
 * DEC_BAD failure, never a syntax error, so the line can go on.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decode_int.h"
#include "ingestd/decode.h"
#include "ingestd/error.h"

static const char *fail(struct scan *s, const char *at, const char *what)
{
    s->err_at = at;
    s->err = what;
    return NULL;
}

static inline const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

static inline int is_digit(char c)
{
    return (unsigned)(c - '0') < 10;
}

/* --- strings ----------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (p[0] >= 0x80), 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t avail = (size_t)(end - p);
    if (c >= 0xC2 && c <= 0xDF)
        return avail >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        return avail >= 3 && p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        return avail >= 4 && p[1] >= lo && p[1] <= hi && (p[2] & 0xC0) == 0x80 &&
                       (p[3] & 0xC0) == 0x80
                   ? 4
                   : 0;
    }
    return 0;
}

static int hex4(const char *p, const char *end)
{
    if (end - p < 4)
        return -1;
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int lc = c | 0x20, d = is_digit(c) ? c - '0' : lc >= 'a' && lc <= 'f' ? lc - 'a' + 10 : -1;
        if (d < 0)
            return -1;
        v = v << 4 | d;
    }
    return v;
}

/* Checks the escape at p ('\\'); returns the byte after it. */
static const char *check_escape(struct scan *s, const char *p)
{
    if (s->end - p < 2)
        return fail(s, s->end, "unterminated string");
    switch (p[1]) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        return p + 2;
    case 'u': {
        int u = hex4(p + 2, s->end);
        if (u < 0)
            return fail(s, p, "invalid \\u escape");
        if (u >= 0xDC00 && u <= 0xDFFF)
            return fail(s, p, "lone surrogate in \\u escape");
        if (u < 0xD800 || u > 0xDBFF)
            return p + 6;
        int lo = s->end - p >= 12 && p[6] == '\\' && p[7] == 'u' ? hex4(p + 8, s->end) : -1;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return fail(s, p, "lone surrogate in \\u escape");
        return p + 12;
    }
    default:
        return fail(s, p, "invalid escape");
    }
}

const char *dec_scan_string(struct scan *s, const char *p, struct str_tok *t)
{
    const char *start = p, *end = s->end;
    int esc = 0;
    for (;;) {
        p = dec_find_special(p, s->lim);
        if (DEC_UNLIKELY(p >= end))
            return fail(s, end, "unterminated string");
        unsigned char c = (unsigned char)*p;
        if (DEC_LIKELY(c == '"'))
            break;
        if (c == '\\') {
            if (!(p = check_escape(s, p)))
                return NULL;
            esc = 1;
        } else if (c < 0x20) {
            return fail(s, p, "control character in string");
        } else {
            size_t n = utf8_seq((const unsigned char *)p, (const unsigned char *)end);
            if (!n)
                return fail(s, p, "invalid UTF-8");
            p += n;
        }
    }
    t->p = start;
    t->n = (size_t)(p - start);
    t->esc = esc;
    return p + 1;
}

static char *put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | cp >> 6);
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | cp >> 12);
        *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | cp >> 18);
        *o++ = (char)(0x80 | (cp >> 12 & 0x3F));
        *o++ = (char)(0x80 | (cp >> 6 & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

size_t dec_unescape(const char *p, size_t n, char *out)
{
    const char *end = p + n;
    char *o = out;
    while (p < end) {
        const char *bs = memchr(p, '\\', (size_t)(end - p));
        size_t run = (size_t)((bs ? bs : end) - p);
        memcpy(o, p, run);
        o += run;
        if (!bs)
            break;
        p = bs + 2;
        switch (bs[1]) {
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned cp = (unsigned)hex4(bs + 2, end);
            p = bs + 6;
            if (cp >= 0xD800 && cp <= 0xDBFF) {     /* validated: a low surrogate follows */
                cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned)hex4(bs + 8, end) - 0xDC00);
                p = bs + 12;
            }
            o = put_utf8(o, cp);
            break;
        }
        default: *o++ = bs[1]; break;              /* " \ / */
        }
    }
    return (size_t)(o - out);
}

/* --- numbers and other values ------------------------------------------------------ */

const char *dec_scan_number(struct scan *s, const char *p, struct num_tok *t)
{
    const char *end = s->end;
    t->p = p;
    t->neg = 0;
    if (*p == '-') {
        t->neg = 1;
        p++;
    }
    if (p >= end || !is_digit(*p))
        return fail(s, p, "expected a digit");
    t->ip = p;
    if (*p == '0')
        p++;
    else
        while (p < end && is_digit(*p))
            p++;
    t->ilen = (size_t)(p - t->ip);
    t->fp = p;
    t->flen = 0;
    t->frac = t->expo = 0;
    t->exp = 0;
    if (p < end && *p == '.') {
        t->frac = 1;
        t->fp = ++p;
        while (p < end && is_digit(*p))
            p++;
        t->flen = (size_t)(p - t->fp);
        if (!t->flen)
            return fail(s, p, "expected a digit after '.'");
    }
    if (p < end && (*p | 0x20) == 'e') {
        int eneg = 0;
        t->expo = 1;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        if (p >= end || !is_digit(*p))
            return fail(s, p, "expected a digit in the exponent");
        int64_t e = 0;
        for (; p < end && is_digit(*p); p++)
            if (e < 1000000000)
                e = e * 10 + (*p - '0');
        t->exp = eneg ? -e : e;
    }
    t->e = p;
    return p;
}

static int literal(const char *p, const char *end, const char *word, size_t n)
{
    return (size_t)(end - p) >= n && memcmp(p, word, n) == 0;
}

/* Scalar value at p (not an object or array). */
static const char *skip_scalar(struct scan *s, const char *p)
{
    struct str_tok st;
    struct num_tok nt;
    switch (*p) {
    case '"': return dec_string(s, p + 1, &st);
    case 't': return literal(p, s->end, "true", 4) ? p + 4 : fail(s, p, "expected a value");
    case 'f': return literal(p, s->end, "false", 5) ? p + 5 : fail(s, p, "expected a value");
    case 'n': return literal(p, s->end, "null", 4) ? p + 4 : fail(s, p, "expected a value");
    default:
        if (*p == '-' || is_digit(*p))
            return dec_scan_number(s, p, &nt);
        return fail(s, p, "expected a value");
    }
}

/* Iterative, with the open containers as a bit stack (1 = object), so a
 * deep value costs no C stack. */
const char *dec_skip_value(struct scan *s, const char *p)
{
    uint64_t stack[DEC_MAX_DEPTH / 64] = { 0 };
    int depth = 0;
    const char *end = s->end;
    struct str_tok st;

value:
    p = skip_ws(p, end);
    if (p >= end)
        return fail(s, p, "expected a value");
    if (*p == '{' || *p == '[') {
        if (depth == DEC_MAX_DEPTH)
            return fail(s, p, "nesting deeper than 512");
        int obj = *p == '{';
        if (obj)
            stack[depth >> 6] |= (uint64_t)1 << (depth & 63);
        else
            stack[depth >> 6] &= ~((uint64_t)1 << (depth & 63));
        depth++;
        p = skip_ws(p + 1, end);
        if (p < end && *p == (obj ? '}' : ']')) {
            p++;
            depth--;
            goto after;
        }
        if (obj)
            goto member;
        goto value;
    }
    if (!(p = skip_scalar(s, p)))
        return NULL;
    goto after;

member:
    if (p >= end || *p != '"')
        return fail(s, p, "expected '\"' (member name)");
    if (!(p = dec_string(s, p + 1, &st)))
        return NULL;
    p = skip_ws(p, end);
    if (p >= end || *p != ':')
        return fail(s, p, "expected ':' after member name");
    p++;
    goto value;

after:
    if (depth == 0)
        return p;
    p = skip_ws(p, end);
    int top_obj = (int)(stack[(depth - 1) >> 6] >> ((depth - 1) & 63) & 1);
    if (p < end && *p == ',') {
        p = skip_ws(p + 1, end);
        if (top_obj)
            goto member;
        goto value;
    }
    if (p < end && *p == (top_obj ? '}' : ']')) {
        p++;
        depth--;
        goto after;
    }
    return fail(s, p, top_obj ? "expected ',' or '}'" : "expected ',' or ']'");
}

/* --- number conversions ------------------------------------------------------------ */

/* Digit i of the literal's integer and fraction digits taken as one run. */
static inline unsigned digit_at(const struct num_tok *t, size_t i)
{
    return (unsigned)((i < t->ilen ? t->ip[i] : t->fp[i - t->ilen]) - '0');
}

int dec_num_int64(const struct num_tok *t, int64_t *out)
{
    if (t->frac || t->expo)
        return DEC_BAD;
    if (t->ilen > 19)                   /* no leading zeros: >= 10^19 */
        return DEC_RANGE;
    uint64_t v = 0;
    for (size_t i = 0; i < t->ilen; i++)
        v = v * 10 + (uint64_t)(t->ip[i] - '0');
    if (t->neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return DEC_RANGE;
        *out = (int64_t)(0 - v);        /* 2^63 wraps to INT64_MIN */
    } else {
        if (v > (uint64_t)INT64_MAX)
            return DEC_RANGE;
        *out = (int64_t)v;
    }
    return 0;
}

static const double pow10_exact[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static int strtod_literal(const struct num_tok *t, double *out)
{
    char small[128], *buf = small;
    size_t n = (size_t)(t->e - t->p);
    if (n >= sizeof small && !(buf = malloc(n + 1)))
        return -1;
    memcpy(buf, t->p, n);
    buf[n] = '\0';
    *out = strtod(buf, NULL);
    if (buf != small)
        free(buf);
    return 0;
}

int dec_num_double(const struct num_tok *t, double *out)
{
    uint64_t m = 0;
    int nd = 0;
    /* The significant digits as one integer; more than 19 take strtod. */
    for (size_t i = 0; i < t->ilen + t->flen; i++) {
        unsigned d = digit_at(t, i);
        if (m == 0 && d == 0)
            continue;
        if (++nd > 19)
            goto slow;
        m = m * 10 + d;
    }
    if (m == 0) {
        *out = t->neg ? -0.0 : 0.0;
        return 0;
    }
    int64_t e10 = t->exp - (int64_t)t->flen;
    if (m <= (uint64_t)1 << 53 && e10 >= -22 && e10 <= 22) {
        double x = (double)m;
        x = e10 < 0 ? x / pow10_exact[-e10] : x * pow10_exact[e10];
        *out = t->neg ? -x : x;
        return 0;
    }
slow:
    if (strtod_literal(t, out) < 0)
        return INGEST_ENOMEM;
    return isinf(*out) ? DEC_RANGE : 0;
}

/* unscaled = D * 10^(scale - eff), where D is the literal's digits and
 * eff its fraction digits after the exponent moved the point. */
int dec_num_decimal(const struct num_tok *t, int prec, int scale, __int128 *out)
{
    int64_t eff = (int64_t)t->flen - t->exp;
    if (eff > scale)
        return DEC_SCALE;
    int64_t shift = scale - eff;
    unsigned __int128 d = 0;
    int64_t nd = 0;
    for (size_t i = 0; i < t->ilen + t->flen; i++) {
        unsigned c = digit_at(t, i);
        if (d == 0 && c == 0)
            continue;
        if (++nd > prec)
            return DEC_PREC;
        d = d * 10 + c;
    }
    if (d && nd + shift > prec)
        return DEC_PREC;
    for (int64_t i = 0; d && i < shift; i++)
        d *= 10;
    *out = t->neg ? -(__int128)d : (__int128)d;
    return 0;
}

int dec_str_decimal(const char *p, size_t n, int prec, int scale, __int128 *out)
{
    const char *end = p + n;
    struct num_tok t = { .p = p, .e = end };
    if (p < end && *p == '-') {
        t.neg = 1;
        p++;
    }
    t.ip = p;
    while (p < end && is_digit(*p))
        p++;
    t.ilen = (size_t)(p - t.ip);
    t.fp = p;
    if (p < end && *p == '.') {
        t.frac = 1;
        t.fp = ++p;
        while (p < end && is_digit(*p))
            p++;
        t.flen = (size_t)(p - t.fp);
        if (!t.flen)
            return DEC_BAD;
    }
    if (!t.ilen || p != end)
        return DEC_BAD;
    return dec_num_decimal(&t, prec, scale, out);
}

int dec_num_epoch(const struct num_tok *t, int unit, int64_t *us)
{
    static const int digits_to_us[] = { [INGEST_EPOCH_S] = 6, [INGEST_EPOCH_MS] = 3,
                                         [INGEST_EPOCH_US] = 0 };
    if (unit == INGEST_EPOCH_US && (t->frac || t->expo))
        return DEC_BAD;
    /* us = D * 10^shift; with shift < 0 the last -shift digits are dropped. */
    int64_t shift = digits_to_us[unit] - ((int64_t)t->flen - t->exp);
    size_t ndig = t->ilen + t->flen;
    int64_t keep = shift >= 0 ? (int64_t)ndig : (int64_t)ndig + shift;
    const unsigned __int128 limit = (unsigned __int128)1 << 64;
    unsigned __int128 acc = 0;
    int dropped = 0;
    for (size_t i = 0; i < ndig; i++) {
        unsigned c = digit_at(t, i);
        if ((int64_t)i >= keep) {
            dropped |= c != 0;
        } else if ((acc = acc * 10 + c) > limit) {
            return DEC_RANGE;
        }
    }
    for (int64_t i = 0; acc && i < shift; i++)
        if ((acc *= 10) > limit)
            return DEC_RANGE;
    if (t->neg) {
        acc += (unsigned)dropped;     /* floor: -1.5 us is -2 us */
        if (acc > (unsigned __int128)INT64_MAX + 1)
            return DEC_RANGE;
        *us = (int64_t)(0 - (uint64_t)acc);
    } else {
        if (acc > INT64_MAX)
            return DEC_RANGE;
        *us = (int64_t)acc;
    }
    return 0;
}

/* --- dates and timestamps ---------------------------------------------------------- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* n digits at p as a number, -1 if any is not a digit. */
static int num_at(const char *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(p[i]))
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* "YYYY-MM-DD" at p (10 bytes available) as days since 1970-01-01. */
static int parse_ymd(const char *p, int64_t *days)
{
    static const unsigned char mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y = num_at(p, 4), m = num_at(p + 5, 2), d = num_at(p + 8, 2);
    if (p[4] != '-' || p[7] != '-' || y < 1 || m < 1 || m > 12 || d < 1)
        return DEC_BAD;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[m - 1] + (m == 2 && leap))
        return DEC_BAD;
    *days = days_from_civil(y, (unsigned)m, (unsigned)d);
    return 0;
}

int dec_str_date(const char *p, size_t n, int32_t *days)
{
    int64_t dd;
    if (n != 10 || parse_ymd(p, &dd))
        return DEC_BAD;
    *days = (int32_t)dd;
    return 0;
}

/* The UTC offset at p[0..n): "", "Z", "+HH", "+HHMM", "+HH:MM" (or '-'). */
static int parse_offset(const char *p, size_t n, int64_t *secs)
{
    *secs = 0;
    if (n == 0 || (n == 1 && p[0] == 'Z'))
        return 0;
    if ((p[0] != '+' && p[0] != '-') || (n != 3 && n != 5 && n != 6))
        return DEC_BAD;
    int h = num_at(p + 1, 2), m = 0;
    if (n == 5)
        m = num_at(p + 3, 2);
    else if (n == 6)
        m = p[3] == ':' ? num_at(p + 4, 2) : -1;
    if (h < 0 || h > 23 || m < 0 || m > 59)
        return DEC_BAD;
    *secs = (p[0] == '-' ? -1 : 1) * (int64_t)(h * 3600 + m * 60);
    return 0;
}

int dec_str_timestamp(const char *p, size_t n, int64_t *us)
{
    int64_t days, off;
    if (n < 10 || parse_ymd(p, &days))
        return DEC_BAD;
    if (n == 10) {
        *us = days * 86400 * 1000000;
        return 0;
    }
    if (n < 16 || (p[10] != 'T' && p[10] != ' ') || p[13] != ':')
        return DEC_BAD;
    int hh = num_at(p + 11, 2), mi = num_at(p + 14, 2), ss = 0;
    int64_t frac = 0;
    size_t i = 16;
    if (hh < 0 || hh > 23 || mi < 0 || mi > 59)
        return DEC_BAD;
    if (i < n && p[i] == ':') {
        if (n - i < 3 || (ss = num_at(p + i + 1, 2)) < 0 || ss > 59)
            return DEC_BAD;
        i += 3;
        if (i < n && p[i] == '.') {
            /* Up to nine digits; those past the microsecond are dropped,
             * which is toward negative infinity as the fraction adds. */
            size_t k = 0;
            for (i++; i < n && is_digit(p[i]); i++, k++)
                if (k < 6)
                    frac = frac * 10 + (p[i] - '0');
            if (k == 0 || k > 9)
                return DEC_BAD;
            for (; k < 6; k++)
                frac *= 10;
        }
    }
    if (parse_offset(p + i, n - i, &off))
        return DEC_BAD;
    int64_t secs = days * 86400 + hh * 3600 + mi * 60 + ss - off;
    *us = secs * 1000000 + frac;
    return 0;
}

/* --- base64 ------------------------------------------------------------------------ */

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

int dec_base64(const char *p, size_t n, uint8_t *out, size_t *outn)
{
    size_t pad = 0;
    while (pad < 2 && n > pad && p[n - 1 - pad] == '=')
        pad++;
    size_t m = n - pad;                 /* data characters */
    if (m % 4 == 1 || (pad && (n % 4 || pad != 4 - m % 4)))
        return DEC_BAD;
    uint8_t *o = out;
    uint32_t acc = 0;
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        int v = b64_value((unsigned char)p[i]);
        if (v < 0)
            return DEC_BAD;
        acc = acc << 6 | (uint32_t)v;
        if (++k == 4) {
            *o++ = (uint8_t)(acc >> 16);
            *o++ = (uint8_t)(acc >> 8);
            *o++ = (uint8_t)acc;
            acc = 0;
            k = 0;
        }
    }
    if (k == 2) {
        *o++ = (uint8_t)(acc >> 4);
    } else if (k == 3) {
        *o++ = (uint8_t)(acc >> 10);
        *o++ = (uint8_t)(acc >> 2);
    }
    *outn = (size_t)(o - out);
    return 0;
}

/* --- values into columns ---------------------------------------------------------- */

/* Room for string bytes up to `need`; offsets are uint32, so 4 GiB is the end. */
int dec_grow_data(struct dec_col *c, size_t need)
{
    if (need > UINT32_MAX)
        return INGEST_ERANGE;
    size_t cap = c->dcap ? c->dcap : DEC_MIN_DATA;
    while (cap < need)
        cap *= 2;
    if (cap > UINT32_MAX)
        cap = UINT32_MAX;
    char *p = realloc(c->data, cap);
    if (!p)
        return INGEST_ENOMEM;
    c->data = p;
    c->dcap = cap;
    return 0;
}

#define STORE(c, row, T, x) (((T *)(void *)(c)->values)[row] = (T)(x))

static int put_decimal(struct dec_col *c, size_t row, __int128 x)
{
    if (c->width == 8) {
        STORE(c, row, int64_t, x);
    } else {
        /* 16 bytes little-endian two's complement, whatever the host order. */
        unsigned __int128 u = (unsigned __int128)x;
        uint8_t *o = c->values + row * 16;
        for (int i = 0; i < 16; i++, u >>= 8)
            o[i] = (uint8_t)u;
    }
    return 0;
}

static int put_integer(struct dec_col *c, size_t row, const struct num_tok *t)
{
    int64_t v;
    int rc = dec_num_int64(t, &v);
    if (rc)
        return rc;
    switch (c->type) {
    case INGEST_TYPE_INT64: STORE(c, row, int64_t, v); return 0;
    case INGEST_TYPE_INT32:
        if (v < INT32_MIN || v > INT32_MAX)
            return DEC_RANGE;
        STORE(c, row, int32_t, v);
        return 0;
    case INGEST_TYPE_INT16:
        if (v < INT16_MIN || v > INT16_MAX)
            return DEC_RANGE;
        STORE(c, row, int16_t, v);
        return 0;
    default:
        if (v < INT8_MIN || v > INT8_MAX)
            return DEC_RANGE;
        STORE(c, row, int8_t, v);
        return 0;
    }
}

static int put_number(struct ingest_decoder *d, struct dec_col *c, size_t row,
                      const struct num_tok *t)
{
    int rc;
    switch (c->type) {
    case INGEST_TYPE_INT64: case INGEST_TYPE_INT32: case INGEST_TYPE_INT16: case INGEST_TYPE_INT8:
        return put_integer(c, row, t);
    case INGEST_TYPE_DOUBLE: case INGEST_TYPE_FLOAT: {
        double x;
        if ((rc = dec_num_double(t, &x)))
            return rc;
        if (c->type == INGEST_TYPE_DOUBLE) {
            STORE(c, row, double, x);
        } else {
            float f = (float)x;
            if (isinf(f))               /* a finite double past FLT_MAX */
                return DEC_RANGE;
            STORE(c, row, float, f);
        }
        return 0;
    }
    case INGEST_TYPE_DECIMAL: {
        __int128 x;
        if ((rc = dec_num_decimal(t, c->field->precision, c->field->scale, &x)))
            return rc;
        return put_decimal(c, row, x);
    }
    case INGEST_TYPE_TIMESTAMP: {
        int64_t us;
        if ((rc = dec_num_epoch(t, d->epoch_unit, &us)))
            return rc;
        STORE(c, row, int64_t, us);
        return 0;
    }
    case INGEST_TYPE_STRING:
        return dec_put_bytes(c, row, t->p, (size_t)(t->e - t->p));
    default:
        return DEC_BAD;
    }
}

/* Unescaped text of a string token for a conversion: the token itself
 * when it has no escape, else a copy in d->scratch. */
static int text_of(struct ingest_decoder *d, const struct str_tok *t, const char **p, size_t *n)
{
    if (!t->esc) {
        *p = t->p;
        *n = t->n;
        return 0;
    }
    if (d->scratch_cap < t->n) {
        char *s = realloc(d->scratch, t->n);
        if (!s)
            return INGEST_ENOMEM;
        d->scratch = s;
        d->scratch_cap = t->n;
    }
    *p = d->scratch;
    *n = dec_unescape(t->p, t->n, d->scratch);
    return 0;
}

static int put_binary(struct dec_col *c, size_t row, const struct str_tok *t)
{
    size_t at = c->offsets[row], n = t->n, out;
    int rc = dec_reserve(c, at, n + 2);
    if (rc)
        return rc;
    const char *src = t->p;
    if (t->esc) {       /* base64 behind "\/" escapes: unescape, then decode in place */
        n = dec_unescape(t->p, t->n, c->data + at);
        src = c->data + at;
    }
    if ((rc = dec_base64(src, n, (uint8_t *)c->data + at, &out)))
        return rc;
    dec_end_bytes(c, row, out);
    return 0;
}

static int put_string(struct ingest_decoder *d, struct dec_col *c, size_t row,
                      const struct str_tok *t)
{
    const char *p;
    size_t n;
    int rc;
    switch (c->type) {
    case INGEST_TYPE_STRING:
        if (DEC_LIKELY(!t->esc))
            return dec_put_bytes(c, row, t->p, t->n);
        if ((rc = dec_reserve(c, c->offsets[row], t->n)))
            return rc;
        dec_end_bytes(c, row, dec_unescape(t->p, t->n, c->data + c->offsets[row]));
        return 0;
    case INGEST_TYPE_BINARY:
        return put_binary(c, row, t);
    case INGEST_TYPE_TIMESTAMP: {
        int64_t us;
        if ((rc = text_of(d, t, &p, &n)) || (rc = dec_str_timestamp(p, n, &us)))
            return rc;
        STORE(c, row, int64_t, us);
        return 0;
    }
    case INGEST_TYPE_DATE: {
        int32_t days;
        if ((rc = text_of(d, t, &p, &n)) || (rc = dec_str_date(p, n, &days)))
            return rc;
        STORE(c, row, int32_t, days);
        return 0;
    }
    case INGEST_TYPE_DECIMAL: {
        __int128 x;
        if ((rc = text_of(d, t, &p, &n)) ||
            (rc = dec_str_decimal(p, n, c->field->precision, c->field->scale, &x)))
            return rc;
        return put_decimal(c, row, x);
    }
    default:
        return DEC_BAD;
    }
}

static int put_literal(struct dec_col *c, size_t row, int truth)
{
    if (c->type == INGEST_TYPE_BOOLEAN) {
        STORE(c, row, uint8_t, truth);
        return 0;
    }
    if (c->type == INGEST_TYPE_STRING)
        return truth ? dec_put_bytes(c, row, "true", 4) : dec_put_bytes(c, row, "false", 5);
    return DEC_BAD;
}

const char *dec_column_value(struct ingest_decoder *d, struct scan *s, struct dec_col *c,
                             const char *p, int *rc)
{
    size_t row = d->nrows;
    const char *end = s->end, *q;
    switch (*p) {
    case '"': {
        struct str_tok t;
        if ((q = dec_string(s, p + 1, &t)))
            *rc = put_string(d, c, row, &t);
        return q;
    }
    case 't':
        if (end - p >= 4 && memcmp(p, "true", 4) == 0) {
            *rc = put_literal(c, row, 1);
            return p + 4;
        }
        break;
    case 'f':
        if (end - p >= 5 && memcmp(p, "false", 5) == 0) {
            *rc = put_literal(c, row, 0);
            return p + 5;
        }
        break;
    case 'n':
        if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
            *rc = DEC_PUT_NULL;
            return p + 4;
        }
        break;
    case '{': case '[':
        if ((q = dec_skip_value(s, p)))     /* a string column keeps the exact text */
            *rc = c->type == INGEST_TYPE_STRING ? dec_put_bytes(c, row, p, (size_t)(q - p))
                                                : DEC_BAD;
        return q;
    default:
        if (*p == '-' || (unsigned)(*p - '0') < 10) {
            struct num_tok t;
            if ((q = dec_scan_number(s, p, &t)))
                *rc = put_number(d, c, row, &t);
            return q;
        }
        break;
    }
    s->err_at = p;
    s->err = "expected a value";
    return NULL;
}
