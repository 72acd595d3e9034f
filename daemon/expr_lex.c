/*
 * expr_lex.c - tokens and literal values of the expression language
 * (see include/ingestd/expr.h for the language, expr_int.h for the API).
 *
 * The lexer works on the raw bytes of one config value.  It keeps a
 * character column next to the byte offset so every error can point at the
 * place a person sees in an editor; UTF-8 is validated inside strings and
 * backquoted names so a bad byte is reported where it is, not later as
 * broken Parquet.  Character classes are spelled out instead of taken from
 * <ctype.h>, whose answers depend on the locale and on the sign of char.
 *
 * Literal values are converted here too, exactly and with overflow checks:
 * integers digit by digit, decimals as their unscaled digit string (any
 * precision up to 38 stays exact), dates and timestamps with the civil
 * calendar arithmetic of H. Hinnant's date algorithms.  Numbers are read and
 * written with strtod/snprintf, which assume the "C" locale: ingestd never
 * calls setlocale().
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ingestd/expr.h"
#include "expr_int.h"

/* --- allocation ------------------------------------------------------------- */

/* Thread-local so a test arming the hook never affects another thread. */
static _Thread_local long fail_countdown;

void ingest_expr_test_fail_alloc(long n)
{
    fail_countdown = n > 0 ? n : 0;
}

static int alloc_should_fail(void)
{
    return fail_countdown > 0 && --fail_countdown == 0;
}

void *expr_malloc(size_t n)
{
    return alloc_should_fail() ? NULL : malloc(n);
}

void *expr_calloc(size_t n, size_t size)
{
    return alloc_should_fail() ? NULL : calloc(n, size);
}

void *expr_realloc(void *p, size_t n)
{
    return alloc_should_fail() ? NULL : realloc(p, n);
}

/* --- characters ------------------------------------------------------------- */

static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_ident_start(int c) { return is_alpha(c) || c == '_'; }
static int is_ident_char(int c) { return is_ident_start(c) || is_digit(c); }
static int is_blank(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid.
 * Rejects overlong forms, surrogates and code points above U+10FFFF. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned min;
    if ((c & 0xE0) == 0xC0) { len = 2; min = 0x80; c &= 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; min = 0x800; c &= 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; min = 0x10000; c &= 0x07; }
    else return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    return len;
}

/* Moves over n bytes, counting characters (UTF-8 lead bytes) for the column. */
static void advance(struct lexer *lx, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)lx->src[lx->off + i] & 0xC0) != 0x80)
            lx->col++;
    lx->off += n;
}

/* Column of byte offset off >= lx->off (for errors inside a token). */
static int col_at(const struct lexer *lx, size_t off)
{
    int col = lx->col;
    for (size_t i = lx->off; i < off; i++)
        if (((unsigned char)lx->src[i] & 0xC0) != 0x80)
            col++;
    return col;
}

/* --- errors ------------------------------------------------------------------ */

void expr_error(struct lexer *lx, int col, const char *fmt, ...)
{
    if (lx->failed)
        return;
    lx->failed = 1;
    if (!lx->errbuf || !lx->errlen)
        return;
    int n = snprintf(lx->errbuf, lx->errlen, "at column %d: ", col);
    if (n < 0 || (size_t)n >= lx->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lx->errbuf + n, lx->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

/* Copies up to max bytes of s into out between quote characters q (none
 * if q is 0), escaping control bytes and never cutting a UTF-8 sequence, so
 * the message is safe to log. */
static void quote_text(const char *s, size_t len, size_t max, char q, char *out, size_t outlen)
{
    size_t o = 0;
    if (outlen < 8) {
        if (outlen)
            out[0] = '\0';
        return;
    }
    if (q)
        out[o++] = q;
    for (size_t i = 0; i < len; ) {
        const unsigned char c = (unsigned char)s[i];
        size_t n = c < 0x80 ? 1 : utf8_len((const unsigned char *)s + i, len - i);
        if (i >= max || o + 8 >= outlen) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (c < 0x20 || c == 0x7F || n == 0) {
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02X", c);
            i++;
        } else {
            memcpy(out + o, s + i, n);
            o += n;
            i += n;
        }
    }
    if (q)
        out[o++] = q;
    out[o] = '\0';
}

void expr_tok_describe(const struct lexer *lx, const struct tok *t, char *out, size_t outlen)
{
    char text[64];
    if (t->kind == TK_EOF) {
        snprintf(out, outlen, "end of input");
        return;
    }
    /* Quoted tokens show their own quotes. */
    quote_text(lx->src + t->off, t->len, 24,
               t->kind == TK_STRING || t->kind == TK_QIDENT ? 0 : '\'', text, sizeof text);
    snprintf(out, outlen, "%s%s", t->kind == TK_STRING ? "string " : "", text);
}

void expr_tok_source(const struct lexer *lx, const struct tok *t, char *out, size_t outlen)
{
    quote_text(lx->src + t->off, t->len, 24, 0, out, outlen);
}

/* --- tokens -------------------------------------------------------------------- */

static const struct { const char *word; enum tok_kind kind; } reserved[] = {
    { "and", TK_AND }, { "or", TK_OR }, { "not", TK_NOT }, { "is", TK_IS },
    { "null", TK_NULL }, { "in", TK_IN }, { "between", TK_BETWEEN },
    { "like", TK_LIKE }, { "rlike", TK_RLIKE }, { "true", TK_TRUE },
    { "false", TK_FALSE }, { "case", TK_CASE }, { "when", TK_WHEN },
    { "then", TK_THEN }, { "else", TK_ELSE }, { "end", TK_END },
    { "cast", TK_CAST }, { "as", TK_AS },
};

enum tok_kind expr_reserved_word(const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strlen(reserved[i].word) == len && strncasecmp(reserved[i].word, s, len) == 0)
            return reserved[i].kind;
    return TK_IDENT;
}

int expr_tok_is_word(const struct tok *t)
{
    return t->kind == TK_IDENT || t->kind == TK_QIDENT || t->kind >= TK_FIRST_RESERVED;
}

int expr_tok_is(const struct lexer *lx, const struct tok *t, const char *word)
{
    return t->kind == TK_IDENT && strlen(word) == t->len &&
           strncasecmp(lx->src + t->off, word, t->len) == 0;
}

void expr_lex_init(struct lexer *lx, const char *src, size_t len, char *errbuf, size_t errlen)
{
    lx->src = src;
    lx->len = len;
    lx->off = 0;
    lx->col = 1;
    lx->failed = 0;
    lx->errbuf = errbuf;
    lx->errlen = errlen;
    if (errbuf && errlen)
        errbuf[0] = '\0';
}

static int lex_number(struct lexer *lx, struct tok *t)
{
    const char *s = lx->src;
    size_t i = lx->off, n = lx->len;
    enum tok_kind kind = TK_INT;

    while (i < n && is_digit(s[i]))
        i++;
    if (i < n && s[i] == '.') {
        kind = TK_DECIMAL;
        for (i++; i < n && is_digit(s[i]); i++)
            ;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < n && (s[j] == '+' || s[j] == '-'))
            j++;
        if (j < n && is_digit(s[j])) {
            kind = TK_DOUBLE;
            for (i = j; i < n && is_digit(s[i]); i++)
                ;
        }
    }
    /* "12abc", "1.2.3", "1e": refuse rather than split into two tokens,
     * which would only give a confusing error further on. */
    if (i < n && (is_ident_char(s[i]) || s[i] == '.')) {
        size_t j = i;
        while (j < n && (is_ident_char(s[j]) || s[j] == '.'))
            j++;
        char what[64];
        quote_text(s + lx->off, j - lx->off, 24, '\'', what, sizeof what);
        expr_error(lx, lx->col, "invalid number %s%s", what,
                   is_alpha(s[i]) || s[i] == '_'
                       ? " (a name that starts with a digit needs backquotes: `1st`)" : "");
        return -1;
    }
    t->kind = kind;
    t->len = i - lx->off;
    advance(lx, t->len);
    return 0;
}

static int lex_word(struct lexer *lx, struct tok *t)
{
    size_t i = lx->off;
    while (i < lx->len && is_ident_char(lx->src[i]))
        i++;
    t->len = i - lx->off;
    t->kind = expr_reserved_word(lx->src + lx->off, t->len);
    advance(lx, t->len);
    return 0;
}

/* 'string' or `name`, where a doubled quote stands for one. */
static int lex_quoted(struct lexer *lx, struct tok *t, char q)
{
    const unsigned char *s = (const unsigned char *)lx->src;
    const char *what = q == '\'' ? "string literal" : "quoted name";
    size_t i = lx->off + 1;

    for (;;) {
        if (i >= lx->len) {
            expr_error(lx, lx->col, "unterminated %s (no closing %s)", what,
                       q == '\'' ? "quote" : "backquote");
            return -1;
        }
        if (s[i] == (unsigned char)q) {
            if (i + 1 < lx->len && s[i + 1] == (unsigned char)q) {
                i += 2;
                continue;
            }
            break;
        }
        size_t n = utf8_len(s + i, lx->len - i);
        if (n == 0) {
            expr_error(lx, col_at(lx, i), "invalid UTF-8 in %s (byte 0x%02X)", what, s[i]);
            return -1;
        }
        i += n;
    }
    t->kind = q == '\'' ? TK_STRING : TK_QIDENT;
    t->len = i + 1 - lx->off;
    if (t->kind == TK_QIDENT && t->len == 2) {
        expr_error(lx, lx->col, "empty quoted name ``");
        return -1;
    }
    advance(lx, t->len);
    return 0;
}

static int lex_bad_char(struct lexer *lx)
{
    const unsigned char *s = (const unsigned char *)lx->src + lx->off;
    size_t n = utf8_len(s, lx->len - lx->off);
    char what[32];

    if (s[0] == '"') {
        expr_error(lx, lx->col, "double quotes are not allowed: write 'text' for a string "
                   "or `name` for a column");
        return -1;
    }
    if (n == 0) {
        expr_error(lx, lx->col, "invalid UTF-8 (byte 0x%02X)", s[0]);
        return -1;
    }
    quote_text((const char *)s, n, n, '\'', what, sizeof what);
    if (s[0] >= 0x80)
        expr_error(lx, lx->col, "unexpected character %s (names with other than "
                   "A-Z, 0-9 and _ need backquotes: `name`)", what);
    else if (s[0] == '!')
        expr_error(lx, lx->col, "unexpected character '!' (write NOT, or != for inequality)");
    else if (s[0] == '|' || s[0] == '&')
        expr_error(lx, lx->col, "unexpected character %s (write AND, OR, or || to "
                   "concatenate)", what);
    else
        expr_error(lx, lx->col, "unexpected character %s", what);
    return -1;
}

/* Operators of one or two characters: kind and length into *t. */
static int lex_operator(struct lexer *lx, struct tok *t)
{
    const char *s = lx->src + lx->off;
    const char c = s[0], d = lx->off + 1 < lx->len ? s[1] : '\0';

    t->len = 1;
    switch (c) {
    case '(': t->kind = TK_LPAREN; break;
    case ')': t->kind = TK_RPAREN; break;
    case ',': t->kind = TK_COMMA; break;
    case '.': t->kind = TK_DOT; break;
    case '+': t->kind = TK_PLUS; break;
    case '*': t->kind = TK_STAR; break;
    case '%': t->kind = TK_PERCENT; break;
    case '-':
        /* "--" and slash-star open comments in SQL; accepting them as operators
         * would silently mean something else than in Spark. */
        if (d == '-') {
            expr_error(lx, lx->col, "'--' starts a comment in SQL and comments are not "
                       "supported; write '- -' for a double minus");
            return -1;
        }
        t->kind = TK_MINUS;
        break;
    case '/':
        if (d == '*') {
            expr_error(lx, lx->col, "'/*' starts a comment in SQL and comments are not supported");
            return -1;
        }
        t->kind = TK_SLASH;
        break;
    case '=': t->kind = TK_EQ; t->len = d == '=' ? 2 : 1; break;
    case '<':
        if (d == '=') { t->kind = TK_LE; t->len = 2; }
        else if (d == '>') { t->kind = TK_NE; t->len = 2; }
        else t->kind = TK_LT;
        break;
    case '>':
        if (d == '=') { t->kind = TK_GE; t->len = 2; }
        else t->kind = TK_GT;
        break;
    case '!':
        if (d != '=')
            return lex_bad_char(lx);
        t->kind = TK_NE;
        t->len = 2;
        break;
    case '|':
        if (d != '|')
            return lex_bad_char(lx);
        t->kind = TK_CONCAT;
        t->len = 2;
        break;
    default:
        return lex_bad_char(lx);
    }
    advance(lx, t->len);
    return 0;
}

int expr_lex_next(struct lexer *lx, struct tok *t)
{
    while (lx->off < lx->len && is_blank(lx->src[lx->off]))
        advance(lx, 1);
    /* After an error the parser sees end of input and winds down; the
     * error already written stays the one reported. */
    t->kind = TK_EOF;
    t->off = lx->off;
    t->col = lx->col;
    t->len = 0;
    if (lx->failed)
        return -1;
    if (lx->off >= lx->len) {
        t->kind = TK_EOF;
        return 0;
    }
    const char *s = lx->src + lx->off;
    if (is_digit(s[0]) || (s[0] == '.' && lx->off + 1 < lx->len && is_digit(s[1])))
        return lex_number(lx, t);
    if (is_ident_start(s[0]))
        return lex_word(lx, t);
    if (s[0] == '\'' || s[0] == '`')
        return lex_quoted(lx, t, s[0]);
    return lex_operator(lx, t);
}

char *expr_tok_text(const struct lexer *lx, const struct tok *t, size_t *len)
{
    const char *s = lx->src + t->off;
    size_t n = t->len;
    char q = 0;

    if (t->kind == TK_STRING || t->kind == TK_QIDENT) {
        q = s[0];
        s++;
        n -= 2;
    }
    char *out = expr_malloc(n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        out[o++] = s[i];
        if (q && s[i] == q)
            i++;            /* the second of a doubled quote */
    }
    out[o] = '\0';
    if (len)
        *len = o;
    return out;
}

/* --- numbers -------------------------------------------------------------------- */

int expr_int_value(const char *s, size_t len, int negate, int64_t *out)
{
    /* Accumulate the magnitude unsigned: -9223372036854775808 is valid. */
    const uint64_t limit = negate ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (limit - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (negate)
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return 0;
}

int expr_decimal_value(const char *s, size_t len, char **digits, int *precision,
                       int *scale, int64_t *unscaled, double *approx)
{
    size_t ndig = 0, nfrac = 0, dot = len;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.')
            dot = i;
        else if (dot < len)
            nfrac++;
    }
    /* Leading zeros carry no precision: 007.50 is decimal(4,2), unscaled 750. */
    char *d = expr_malloc(len + 2);
    if (!d)
        return -2;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.' || (ndig == 0 && s[i] == '0'))
            continue;
        d[ndig++] = s[i];
    }
    if (ndig == 0)
        d[ndig++] = '0';
    d[ndig] = '\0';
    size_t sig = (ndig == 1 && d[0] == '0') ? 1 : ndig;
    size_t prec = sig > nfrac ? sig : nfrac;
    if (prec == 0)
        prec = 1;
    if (prec > INGEST_EXPR_DECIMAL_MAX_PRECISION) {
        free(d);
        return -1;
    }
    *precision = (int)prec;
    *scale = (int)nfrac;
    *unscaled = 0;
    if (prec <= 18)
        expr_int_value(d, ndig, 0, unscaled);   /* cannot overflow: <= 18 digits */
    *approx = strtod(s, NULL);                  /* stops at the end of the token */
    *digits = d;
    return 0;
}

int expr_double_value(const char *s, size_t len, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    /* Underflow to zero or a subnormal is fine (1e-400 is 0), overflow not. */
    if ((size_t)(end - s) != len || isinf(v))
        return -1;
    *out = v;
    return 0;
}

void expr_double_text(double d, char *out, size_t n)
{
    /* The shortest of %.15g..%.17g that reads back exactly; always with an
     * exponent, because 1.5 or 100 would read back as decimal or int. */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, n, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            break;
    }
    if (!strchr(out, 'e') && !strchr(out, 'n') && strlen(out) + 3 <= n)
        strcat(out, "e0");
}

/* --- dates and times -------------------------------------------------------------- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int y, int m)
{
    static const int dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return dim[m - 1] + (m == 2 && leap);
}

/* Exactly n digits at s[*i]; advances *i.  -1 if they are not there. */
static int take_digits(const char *s, size_t len, size_t *i, int n)
{
    int v = 0;
    for (int k = 0; k < n; k++, (*i)++) {
        if (*i >= len || !is_digit(s[*i]))
            return -1;
        v = v * 10 + (s[*i] - '0');
    }
    return v;
}

static int parse_date_part(const char *s, size_t len, size_t *i, int64_t *days, const char **why)
{
    int y = take_digits(s, len, i, 4);
    int m = (y >= 0 && *i < len && s[(*i)++] == '-') ? take_digits(s, len, i, 2) : -1;
    int d = (m >= 0 && *i < len && s[(*i)++] == '-') ? take_digits(s, len, i, 2) : -1;
    if (y < 0 || m < 0 || d < 0) {
        *why = "expected 'yyyy-mm-dd'";
        return -1;
    }
    if (y < 1) {
        *why = "year must be 0001 to 9999";
        return -1;
    }
    if (m < 1 || m > 12) {
        *why = "month must be 01 to 12";
        return -1;
    }
    if (d < 1 || d > days_in_month(y, m)) {
        *why = "no such day in that month";
        return -1;
    }
    *days = days_from_civil(y, (unsigned)m, (unsigned)d);
    return 0;
}

static size_t skip_blanks(const char *s, size_t len, size_t i)
{
    while (i < len && is_blank(s[i]))
        i++;
    return i;
}

int expr_date_value(const char *s, size_t len, int64_t *days, const char **why)
{
    size_t i = skip_blanks(s, len, 0);
    if (parse_date_part(s, len, &i, days, why) < 0)
        return -1;
    if (skip_blanks(s, len, i) != len) {
        *why = "expected 'yyyy-mm-dd'";
        return -1;
    }
    return 0;
}

/* hh:mm[:ss[.ffffff]] -> microseconds since midnight */
static int parse_time_part(const char *s, size_t len, size_t *i, int64_t *us, const char **why)
{
    int h = take_digits(s, len, i, 2);
    int mi = (h >= 0 && *i < len && s[(*i)++] == ':') ? take_digits(s, len, i, 2) : -1;
    int sec = 0, frac = 0, nfrac = 0;
    if (h < 0 || mi < 0) {
        *why = "expected hh:mm[:ss[.ffffff]] after the date";
        return -1;
    }
    if (*i < len && s[*i] == ':') {
        (*i)++;
        if ((sec = take_digits(s, len, i, 2)) < 0) {
            *why = "expected two digits of seconds";
            return -1;
        }
        if (*i < len && s[*i] == '.') {
            for ((*i)++; *i < len && is_digit(s[*i]); (*i)++, nfrac++) {
                if (nfrac == 6) {
                    *why = "more than 6 fractional digits (timestamps are in microseconds)";
                    return -1;
                }
                frac = frac * 10 + (s[*i] - '0');
            }
            for (int k = nfrac; k < 6; k++)
                frac *= 10;
        }
    }
    if (h > 23 || mi > 59 || sec > 59) {
        *why = "time out of range (hh 00-23, mm and ss 00-59)";
        return -1;
    }
    *us = ((int64_t)h * 3600 + mi * 60 + sec) * 1000000 + frac;
    return 0;
}

/* Z, UTC, +hh, +hh:mm, +hhmm -> offset in seconds; nothing means UTC. */
static int parse_zone(const char *s, size_t len, size_t *i, int64_t *offset, const char **why)
{
    *offset = 0;
    *i = skip_blanks(s, len, *i);
    if (*i >= len)
        return 0;
    if (s[*i] == 'Z' || s[*i] == 'z') {
        (*i)++;
        return 0;
    }
    if (len - *i >= 3 && strncasecmp(s + *i, "UTC", 3) == 0) {
        *i += 3;
        return 0;
    }
    if (s[*i] != '+' && s[*i] != '-') {
        *why = "expected Z, UTC or an offset like +02:00 after the time";
        return -1;
    }
    int sign = s[(*i)++] == '-' ? -1 : 1;
    int h = take_digits(s, len, i, 2), m = 0;
    if (h >= 0 && *i < len && s[*i] == ':')
        (*i)++;
    if (h >= 0 && *i < len && is_digit(s[*i]))
        m = take_digits(s, len, i, 2);
    if (h < 0 || m < 0 || h > 18 || m > 59) {
        *why = "offset must be +hh:mm within +-18:00";
        return -1;
    }
    *offset = sign * ((int64_t)h * 3600 + m * 60);
    return 0;
}

int expr_timestamp_value(const char *s, size_t len, int64_t *micros, const char **why)
{
    size_t i = skip_blanks(s, len, 0);
    int64_t days, tod = 0, offset = 0;

    if (parse_date_part(s, len, &i, &days, why) < 0)
        return -1;
    if (i < len && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
        size_t j = skip_blanks(s, len, i + 1);
        if (j < len && is_digit(s[j])) {
            i = j;
            if (parse_time_part(s, len, &i, &tod, why) < 0)
                return -1;
        }
    }
    if (parse_zone(s, len, &i, &offset, why) < 0)
        return -1;
    if (skip_blanks(s, len, i) != len) {
        *why = "expected 'yyyy-mm-dd hh:mm:ss[.ffffff][+hh:mm]'";
        return -1;
    }
    /* Local time minus its offset is UTC; keep the UTC date within the
     * years 0001-9999 that the text form can spell. */
    *micros = days * 86400000000LL + tod - offset * 1000000;
    if (*micros < days_from_civil(1, 1, 1) * 86400000000LL ||
        *micros >= (days_from_civil(9999, 12, 31) + 1) * 86400000000LL) {
        *why = "outside the years 0001 to 9999 in UTC";
        return -1;
    }
    return 0;
}

void expr_date_text(int64_t days, char *out, size_t n)
{
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(out, n, "%04lld-%02u-%02u", (long long)y, m, d);
}

void expr_timestamp_text(int64_t micros, char *out, size_t n)
{
    /* Floor division, so instants before 1970 get a positive time of day. */
    int64_t days = micros / 86400000000LL, tod = micros % 86400000000LL;
    if (tod < 0) {
        tod += 86400000000LL;
        days--;
    }
    char date[24];
    expr_date_text(days, date, sizeof date);
    int64_t sec = tod / 1000000, frac = tod % 1000000;
    if (frac)
        snprintf(out, n, "%s %02lld:%02lld:%02lld.%06lld", date, (long long)(sec / 3600),
                 (long long)(sec / 60 % 60), (long long)(sec % 60), (long long)frac);
    else
        snprintf(out, n, "%s %02lld:%02lld:%02lld", date, (long long)(sec / 3600),
                 (long long)(sec / 60 % 60), (long long)(sec % 60));
}
