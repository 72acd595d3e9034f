/*
 * expr_int.h - private to daemon/expr*.c: tokens of the expression language
 * (expr_lex.c), the spelling of literal values (expr_lex.c), type and
 * function internals (expr_type.c) and the parser's allocator.
 *
 * Tokens do not own memory: they are spans of the source text, decoded when
 * the parser builds a node.  That keeps the lexer free of cleanup paths, and
 * keeps one-token lookahead a plain struct copy.
 */
#ifndef INGESTD_EXPR_INT_H
#define INGESTD_EXPR_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "ingestd/expr.h"

enum tok_kind {
    TK_EOF = 0,
    TK_INT, TK_DECIMAL, TK_DOUBLE,    /* 42   1.5 .5 1.   1e9 1.5E-3 */
    TK_STRING,                        /* 'it''s' */
    TK_IDENT,                         /* order_date (not a reserved word) */
    TK_QIDENT,                        /* `weird name` */
    TK_LPAREN, TK_RPAREN, TK_COMMA, TK_DOT,
    TK_PLUS, TK_MINUS, TK_STAR, TK_SLASH, TK_PERCENT, TK_CONCAT,
    TK_EQ, TK_NE, TK_LT, TK_LE, TK_GT, TK_GE,
    /* reserved words: a column of this name needs backquotes */
    TK_AND, TK_OR, TK_NOT, TK_IS, TK_NULL, TK_IN, TK_BETWEEN, TK_LIKE, TK_RLIKE,
    TK_TRUE, TK_FALSE, TK_CASE, TK_WHEN, TK_THEN, TK_ELSE, TK_END, TK_CAST, TK_AS,
};

#define TK_FIRST_RESERVED TK_AND

struct tok {
    enum tok_kind kind;
    size_t off;     /* byte offset in the source */
    size_t len;     /* bytes, quotes included */
    int col;        /* 1-based character column */
};

struct lexer {
    const char *src;  /* NUL-terminated at src[len] */
    size_t len;
    size_t off;
    int col;
    int failed;       /* an error has been written to errbuf */
    char *errbuf;
    size_t errlen;
};

void expr_lex_init(struct lexer *lx, const char *src, size_t len,
                   char *errbuf, size_t errlen);
/* Next token into *t.  Returns 0, or -1 with the error in lx->errbuf. */
int expr_lex_next(struct lexer *lx, struct tok *t);
/* Writes "at column COL: ..." into lx->errbuf unless an error is already
 * there (the first error is the one worth reporting), and sets failed. */
void expr_error(struct lexer *lx, int col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Describes t for "found ...": "end of input", "string 'abc'", "`name`" or
 * the quoted source text, shortened and with control characters escaped. */
void expr_tok_describe(const struct lexer *lx, const struct tok *t, char *out, size_t outlen);
/* The source text of t, shortened and escaped like expr_tok_describe, without
 * added quotes: "'2024-13-01'", "9223372036854775808". */
void expr_tok_source(const struct lexer *lx, const struct tok *t, char *out, size_t outlen);
/* TK_AND... for a reserved word (any case), else TK_IDENT. */
enum tok_kind expr_reserved_word(const char *s, size_t len);
/* 1 for an identifier, a quoted identifier or a reserved word. */
int expr_tok_is_word(const struct tok *t);
/* The text of an IDENT, QIDENT or STRING token with quotes removed and
 * doubled quotes undone, malloc'd and NUL-terminated (*len without the NUL).
 * NULL when out of memory. */
char *expr_tok_text(const struct lexer *lx, const struct tok *t, size_t *len);
/* Case-insensitive comparison of a token's source text with a word. */
int expr_tok_is(const struct lexer *lx, const struct tok *t, const char *word);

/* --- literal values -------------------------------------------------------- */

/* Digits of an integer literal; negate for a literal after unary minus.
 * Returns 0, or -1 when it does not fit in int64_t. */
int expr_int_value(const char *s, size_t len, int negate, int64_t *out);
/* A decimal literal (1.5, .5, 1.): *digits gets the unscaled digits
 * (malloc'd), and precision/scale/unscaled/approximation are set.
 * Returns 0, -1 for more than 38 digits, -2 when out of memory. */
int expr_decimal_value(const char *s, size_t len, char **digits, int *precision,
                       int *scale, int64_t *unscaled, double *approx);
/* A double literal (1e9).  s must be NUL-terminated somewhere after len.
 * Returns 0, or -1 when it overflows. */
int expr_double_value(const char *s, size_t len, double *out);
/* 'yyyy-mm-dd' and 'yyyy-mm-dd[ T]hh:mm[:ss[.ffffff]][Z|UTC|+hh[:mm]]'.
 * Return 0, or -1 with a static reason in *why. */
int expr_date_value(const char *s, size_t len, int64_t *days, const char **why);
int expr_timestamp_value(const char *s, size_t len, int64_t *micros, const char **why);
/* Canonical spellings, read back by the functions above.  out >= 40 bytes. */
void expr_date_text(int64_t days, char *out, size_t n);
void expr_timestamp_text(int64_t micros, char *out, size_t n);
void expr_double_text(double d, char *out, size_t n);

/* --- types and functions (expr_type.c) ------------------------------------- */

#define EXPR_TYPE_LIST \
    "string, long, int, double, float, boolean, date, timestamp, binary or decimal(p,s)"

static inline struct ingest_expr_type expr_type_of(enum ingest_expr_type_id id)
{
    struct ingest_expr_type t = { id, 0, 0 };
    return t;
}

static inline struct ingest_expr_type expr_decimal_type(int precision, int scale)
{
    struct ingest_expr_type t = { INGEST_EXPR_T_DECIMAL, precision, scale };
    return t;
}

/* The type named by an IDENT token (EXPR_TYPE_LIST plus bigint, integer);
 * 0, or -1 if it names none. */
int expr_type_word(const struct lexer *lx, const struct tok *t, enum ingest_expr_type_id *id);
/* "decimal(10,2)" into buf, for messages; returns buf. */
const char *expr_type_text(const struct ingest_expr_type *t, char *buf, size_t n);
/* ingest_expr_func_result, and on a COMMON failure *bad is the index of the
 * argument that fits none of those before it.  0 or -1. */
int expr_func_result_at(const struct ingest_expr_func *fn, const struct ingest_expr_type *args,
                        int nargs, struct ingest_expr_type *out, int *bad);
/* A hint for an unknown function name ("did you mean to_date?"), in buf or
 * static, or NULL when there is none. */
const char *expr_function_hint(const char *name, char *buf, size_t n);

/* --- allocation (with the test hook of ingest_expr_test_fail_alloc) -------- */
void *expr_malloc(size_t n);
void *expr_calloc(size_t n, size_t size);
void *expr_realloc(void *p, size_t n);

#endif
