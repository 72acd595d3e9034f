/*
 * expr_type.c - the value types of expressions, their coercion rules, and
 * the function table (see include/ingestd/expr.h).
 *
 * These rules are shared by the parser, which applies them to what the text
 * alone decides (literals, casts, fixed-type functions), and by the later
 * evaluator, which applies them again once column types are known.  They
 * follow Spark's implicit coercion without ANSI mode: numbers widen along
 * int < long < decimal < float < double, a date meets a timestamp as a
 * timestamp, and a string absorbs anything but binary.  Decimal arithmetic
 * has its own precision rules in Spark and is left to the evaluator.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ingestd/buf.h"
#include "ingestd/error.h"
#include "ingestd/expr.h"
#include "ingestd/strutil.h"
#include "expr_int.h"

/* --- types ------------------------------------------------------------------- */

static const char *const type_names[] = {
    [INGEST_EXPR_T_UNKNOWN] = "unknown", [INGEST_EXPR_T_NULL] = "null",
    [INGEST_EXPR_T_BOOLEAN] = "boolean", [INGEST_EXPR_T_INT] = "int",
    [INGEST_EXPR_T_LONG] = "long",       [INGEST_EXPR_T_FLOAT] = "float",
    [INGEST_EXPR_T_DOUBLE] = "double",   [INGEST_EXPR_T_DECIMAL] = "decimal",
    [INGEST_EXPR_T_STRING] = "string",   [INGEST_EXPR_T_BINARY] = "binary",
    [INGEST_EXPR_T_DATE] = "date",       [INGEST_EXPR_T_TIMESTAMP] = "timestamp",
};

/* Names a [schema] or CAST may use; bigint and integer are Spark's aliases. */
static const struct { const char *name; enum ingest_expr_type_id id; } type_words[] = {
    { "string", INGEST_EXPR_T_STRING },   { "long", INGEST_EXPR_T_LONG },
    { "bigint", INGEST_EXPR_T_LONG },     { "int", INGEST_EXPR_T_INT },
    { "integer", INGEST_EXPR_T_INT },     { "double", INGEST_EXPR_T_DOUBLE },
    { "float", INGEST_EXPR_T_FLOAT },     { "boolean", INGEST_EXPR_T_BOOLEAN },
    { "date", INGEST_EXPR_T_DATE },       { "timestamp", INGEST_EXPR_T_TIMESTAMP },
    { "binary", INGEST_EXPR_T_BINARY },   { "decimal", INGEST_EXPR_T_DECIMAL },
};

int expr_type_word(const struct lexer *lx, const struct tok *t, enum ingest_expr_type_id *id)
{
    for (size_t i = 0; i < sizeof type_words / sizeof type_words[0]; i++) {
        if (expr_tok_is(lx, t, type_words[i].name)) {
            *id = type_words[i].id;
            return 0;
        }
    }
    return -1;
}

const char *ingest_expr_type_name(enum ingest_expr_type_id id)
{
    if ((unsigned)id >= sizeof type_names / sizeof type_names[0])
        return "invalid";
    return type_names[id];
}

int ingest_expr_type_format(const struct ingest_expr_type *t, struct ingest_buf *out)
{
    if (t->id == INGEST_EXPR_T_DECIMAL)
        return ingest_buf_printf(out, "decimal(%d,%d)", t->precision, t->scale);
    return ingest_buf_puts(out, ingest_expr_type_name(t->id));
}

/* "decimal(10,2)" into a small buffer, for messages. */
const char *expr_type_text(const struct ingest_expr_type *t, char *buf, size_t n)
{
    if (t->id == INGEST_EXPR_T_DECIMAL)
        snprintf(buf, n, "decimal(%d,%d)", t->precision, t->scale);
    else
        snprintf(buf, n, "%s", ingest_expr_type_name(t->id));
    return buf;
}

/* 1 int, 2 long, 3 decimal, 4 float, 5 double; 0 for the rest. */
static int numeric_rank(enum ingest_expr_type_id id)
{
    switch (id) {
    case INGEST_EXPR_T_INT:     return 1;
    case INGEST_EXPR_T_LONG:    return 2;
    case INGEST_EXPR_T_DECIMAL: return 3;
    case INGEST_EXPR_T_FLOAT:   return 4;
    case INGEST_EXPR_T_DOUBLE:  return 5;
    default:                    return 0;
    }
}

/* Integers as the decimals that hold them exactly, as Spark widens them. */
static void as_decimal(const struct ingest_expr_type *t, int *precision, int *scale)
{
    *precision = t->id == INGEST_EXPR_T_INT ? 10 : t->id == INGEST_EXPR_T_LONG ? 20 : t->precision;
    *scale = t->id == INGEST_EXPR_T_DECIMAL ? t->scale : 0;
}

static struct ingest_expr_type widen_decimal(const struct ingest_expr_type *a,
                                             const struct ingest_expr_type *b)
{
    int pa, sa, pb, sb;
    as_decimal(a, &pa, &sa);
    as_decimal(b, &pb, &sb);
    int scale = sa > sb ? sa : sb;
    int whole = pa - sa > pb - sb ? pa - sa : pb - sb;
    int precision = whole + scale;
    /* Past 38 digits, keep the integer digits and give up fraction digits. */
    if (precision > INGEST_EXPR_DECIMAL_MAX_PRECISION) {
        scale -= precision - INGEST_EXPR_DECIMAL_MAX_PRECISION;
        if (scale < 0)
            scale = 0;
        precision = INGEST_EXPR_DECIMAL_MAX_PRECISION;
    }
    return expr_decimal_type(precision, scale);
}

static int common_numeric(const struct ingest_expr_type *a, const struct ingest_expr_type *b,
                          struct ingest_expr_type *out)
{
    int ra = numeric_rank(a->id), rb = numeric_rank(b->id);
    int top = ra > rb ? ra : rb;
    if (top >= 4) {
        /* float only with integers (Spark: long + float is float); a decimal
         * or a double next to a float needs double. */
        int dbl = a->id == INGEST_EXPR_T_DOUBLE || b->id == INGEST_EXPR_T_DOUBLE ||
                  ra == 3 || rb == 3;
        *out = expr_type_of(dbl ? INGEST_EXPR_T_DOUBLE : INGEST_EXPR_T_FLOAT);
    } else if (top == 3) {
        *out = widen_decimal(a, b);
    } else {
        *out = expr_type_of(top == 2 ? INGEST_EXPR_T_LONG : INGEST_EXPR_T_INT);
    }
    return 0;
}

int ingest_expr_type_common(const struct ingest_expr_type *a, const struct ingest_expr_type *b,
                            struct ingest_expr_type *out)
{
    enum ingest_expr_type_id x = a->id, y = b->id;

    if (x == INGEST_EXPR_T_UNKNOWN || y == INGEST_EXPR_T_UNKNOWN) {
        *out = expr_type_of(INGEST_EXPR_T_UNKNOWN);
        return 0;
    }
    if (x == INGEST_EXPR_T_NULL || (x == y && x != INGEST_EXPR_T_DECIMAL)) {
        *out = *b;
        return 0;
    }
    if (y == INGEST_EXPR_T_NULL) {
        *out = *a;
        return 0;
    }
    if (numeric_rank(x) && numeric_rank(y))
        return common_numeric(a, b, out);
    if ((x == INGEST_EXPR_T_DATE || x == INGEST_EXPR_T_TIMESTAMP) &&
        (y == INGEST_EXPR_T_DATE || y == INGEST_EXPR_T_TIMESTAMP)) {
        *out = expr_type_of(INGEST_EXPR_T_TIMESTAMP);
        return 0;
    }
    if ((x == INGEST_EXPR_T_STRING && y != INGEST_EXPR_T_BINARY) ||
        (y == INGEST_EXPR_T_STRING && x != INGEST_EXPR_T_BINARY)) {
        *out = expr_type_of(INGEST_EXPR_T_STRING);
        return 0;
    }
    return INGEST_EINVAL;
}

/* --- functions ----------------------------------------------------------------- */

static const struct ingest_expr_func funcs[] = {
#define XX(id_, name_, mn, mx, rule_, rt, flags_, syn, desc)                       \
    { .id = INGEST_FN_##id_, .name = name_, .min_args = mn, .max_args = mx,        \
      .rule = INGEST_EXPR_RULE_##rule_, .result = { INGEST_EXPR_T_##rt, 0, 0 },    \
      .flags = flags_, .synopsis = syn, .description = desc },
    INGEST_EXPR_FUNC_MAP(XX)
#undef XX
};

_Static_assert(sizeof funcs / sizeof funcs[0] == INGEST_FN_COUNT_, "one entry per function id");

const struct ingest_expr_func *ingest_expr_func_table(size_t *n)
{
    if (n)
        *n = sizeof funcs / sizeof funcs[0];
    return funcs;
}

const struct ingest_expr_func *ingest_expr_func_lookup(const char *name)
{
    for (size_t i = 0; name && i < sizeof funcs / sizeof funcs[0]; i++)
        if (strcasecmp(funcs[i].name, name) == 0)
            return &funcs[i];
    return NULL;
}

int expr_func_result_at(const struct ingest_expr_func *fn, const struct ingest_expr_type *args,
                        int nargs, struct ingest_expr_type *out, int *bad)
{
    int first = fn->rule == INGEST_EXPR_RULE_COMMON_TAIL ? 1 : 0;

    switch (fn->rule) {
    case INGEST_EXPR_RULE_FIXED:
        *out = fn->result;
        return 0;
    case INGEST_EXPR_RULE_ARG0:
        *out = nargs > 0 ? args[0] : expr_type_of(INGEST_EXPR_T_UNKNOWN);
        return 0;
    case INGEST_EXPR_RULE_INTEGRAL:
        if (nargs < 1 || args[0].id == INGEST_EXPR_T_UNKNOWN)
            *out = expr_type_of(INGEST_EXPR_T_UNKNOWN);
        else if (args[0].id == INGEST_EXPR_T_DECIMAL) {
            /* the integer digits, plus one for the carry of ceil(9.5) = 10 */
            int digits = args[0].precision - args[0].scale + 1;
            if (digits > INGEST_EXPR_DECIMAL_MAX_PRECISION)
                digits = INGEST_EXPR_DECIMAL_MAX_PRECISION;
            *out = expr_decimal_type(digits, 0);
        }
        else
            *out = expr_type_of(INGEST_EXPR_T_LONG);
        return 0;
    case INGEST_EXPR_RULE_COMMON:
    case INGEST_EXPR_RULE_COMMON_TAIL:
        *out = expr_type_of(INGEST_EXPR_T_NULL);
        for (int i = first; i < nargs; i++) {
            if (ingest_expr_type_common(out, &args[i], out) < 0) {
                *bad = i;
                return -1;
            }
        }
        if (nargs <= first)
            *out = expr_type_of(INGEST_EXPR_T_UNKNOWN);
        return 0;
    }
    *out = expr_type_of(INGEST_EXPR_T_UNKNOWN);
    return 0;
}

int ingest_expr_func_result(const struct ingest_expr_func *fn, const struct ingest_expr_type *args,
                            int nargs, struct ingest_expr_type *out)
{
    int bad;
    return expr_func_result_at(fn, args, nargs, out, &bad) < 0 ? INGEST_EINVAL : 0;
}

/* Names people type from habit (Spark aliases, aggregates), and what to say. */
#define NO_AGGREGATES "aggregates are not available: an expression sees one row at a time"
static const struct { const char *name, *hint; } func_hints[] = {
    { "substr", "did you mean substring?" },      { "ceiling", "did you mean ceil?" },
    { "dayofmonth", "did you mean day?" },        { "lcase", "did you mean lower?" },
    { "ucase", "did you mean upper?" },           { "char_length", "did you mean length?" },
    { "character_length", "did you mean length?" }, { "nvl", "did you mean coalesce?" },
    { "ifnull", "did you mean coalesce?" },       { "now", "did you mean current_timestamp?" },
    { "input_file_name", "did you mean input_file?" }, { "sha256", "did you mean sha2(x, 256)?" },
    { "count", NO_AGGREGATES },                   { "sum", NO_AGGREGATES },
    { "avg", NO_AGGREGATES },                     { "collect_list", NO_AGGREGATES },
    { "min", "least() takes the smallest argument; " NO_AGGREGATES },
    { "max", "greatest() takes the largest argument; " NO_AGGREGATES },
};

const char *expr_function_hint(const char *name, char *buf, size_t n)
{
    for (size_t i = 0; i < sizeof func_hints / sizeof func_hints[0]; i++)
        if (strcasecmp(func_hints[i].name, name) == 0)
            return func_hints[i].hint;
    /* One edit for short names, two for long ones: "count" is not "round". */
    const char *best = NULL;
    size_t best_d = strlen(name) >= 7 ? 2 : 1;
    for (size_t i = 0; i < sizeof funcs / sizeof funcs[0]; i++) {
        size_t d = ingest_edit_distance(name, funcs[i].name);
        if (d <= best_d) {
            best = funcs[i].name;
            best_d = d;
        }
    }
    if (!best)
        return NULL;
    snprintf(buf, n, "did you mean %s?", best);
    return buf;
}
