/*
 * expr.c - the parser of ingestd's expressions (see include/ingestd/expr.h).
 * Tokens and literal values are in expr_lex.c, types and the function table
 * in expr_type.c, freeing, walking and printing in expr_tree.c.
 *
 * Recursive descent with one function per precedence level, lowest first:
 *
 *   expr      := and (OR and)*
 *   and       := not (AND not)*
 *   not       := NOT not | predicate
 *   predicate := concat [ (= == != <> < <= > >=) concat | IS [NOT] NULL
 *                | [NOT] IN '(' expr, ... ')' | [NOT] BETWEEN concat AND concat
 *                | [NOT] LIKE concat | [NOT] RLIKE concat ]
 *   concat    := additive (|| additive)*
 *   additive  := mult ((+ | -) mult)*
 *   mult      := unary ((* | / | %) unary)*
 *   unary     := (- | +) unary | primary
 *   primary   := literal | DATE 'x' | TIMESTAMP 'x' | name ('.' name)*
 *                | func '(' [expr, ...] ')' | CASE ... END | CAST '(' expr AS type ')'
 *                | '(' expr ')'
 *
 * A predicate takes one operator: `a < b < c` is refused rather than read as
 * (a < b) < c, which is never what was meant.  Unary minus directly before
 * an integer makes a negative literal, so -9223372036854775808 is valid.
 *
 * Errors: the first one wins (expr_error ignores the rest), and a failed
 * level returns NULL after freeing what it built; a lexing error turns the
 * rest of the input into end of input, so the descent winds down without
 * special cases.  Nodes take ownership of children as they are added
 * (add_arg frees the child even when it fails), so every function has one
 * `fail:` that frees one node.
 *
 * Depth: the descent counts its recursion (parentheses, NOT, unary signs,
 * arguments), capped at INGEST_EXPR_MAX_NESTING, and every node records its
 * height, capped at INGEST_EXPR_MAX_DEPTH.  Both are needed: "((((1))))"
 * recurses without building anything, and a chain a+b+c+... builds a
 * left-deep tree without recursing; the height cap is what keeps
 * free/format/evaluate within a bounded stack.
 *
 * Static types are filled in where the text alone decides them; everything
 * that depends on a column stays UNKNOWN for the evaluator to resolve.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ingestd/buf.h"
#include "ingestd/error.h"
#include "ingestd/expr.h"
#include "expr_int.h"

/* --- nodes ---------------------------------------------------------------------- */

struct parser {
    struct lexer lx;
    struct tok tok;      /* the current token */
    struct tok ahead;    /* the one after it, valid when have_ahead */
    int have_ahead;
    int depth;           /* recursion of the descent */
};

static void oom(struct parser *p)
{
    expr_error(&p->lx, p->tok.col, "out of memory");
}

static struct ingest_expr *node_new(struct parser *p, enum ingest_expr_kind kind, int pos)
{
    struct ingest_expr *e = expr_calloc(1, sizeof *e);
    if (!e) {
        oom(p);
        return NULL;
    }
    e->kind = kind;
    e->pos = e->op_pos = pos;
    e->height = 1;
    return e;
}

/* Arrays grow at 0, 2, 4, 8...: no capacity field in the public struct. */
static int grow_array(void **arr, int n, size_t size)
{
    if (n != 0 && (n < 2 || (n & (n - 1)) != 0))
        return 0;
    void *q = expr_realloc(*arr, (size_t)(n ? n * 2 : 2) * size);
    if (!q)
        return -1;
    *arr = q;
    return 0;
}

/* Appends child to e.  Takes ownership of child, also when it fails; a NULL
 * child (an error below) just fails. */
static int add_arg(struct parser *p, struct ingest_expr *e, struct ingest_expr *child)
{
    if (!child)
        return -1;
    if (grow_array((void **)&e->args, e->nargs, sizeof *e->args) < 0) {
        ingest_expr_free(child);
        oom(p);
        return -1;
    }
    e->args[e->nargs++] = child;
    if (child->height + 1 > e->height)
        e->height = child->height + 1;
    if (e->height > INGEST_EXPR_MAX_DEPTH) {
        expr_error(&p->lx, e->op_pos, "expression nested too deeply (a tree more than %d "
                   "levels high)", INGEST_EXPR_MAX_DEPTH);
        return -1;
    }
    return 0;
}

/* A node of kind/op over children a and b (b may be absent for unary).
 * Takes ownership of a and b; NULL if either is NULL or on failure. */
static struct ingest_expr *node_op(struct parser *p, enum ingest_expr_kind kind,
                                   enum ingest_expr_op op, int op_pos,
                                   struct ingest_expr *a, struct ingest_expr *b, int nkids)
{
    struct ingest_expr *e = NULL;
    if (!a || (nkids == 2 && !b))
        goto fail;
    e = node_new(p, kind, kind == INGEST_EXPR_UNARY ? op_pos : a->pos);
    if (!e)
        goto fail;
    e->op = op;
    e->op_pos = op_pos;
    struct ingest_expr *first = a;
    a = NULL;
    if (add_arg(p, e, first) < 0)
        goto fail;
    if (nkids == 2) {
        struct ingest_expr *second = b;
        b = NULL;
        if (add_arg(p, e, second) < 0)
            goto fail;
    }
    return e;
fail:
    ingest_expr_free(a);
    ingest_expr_free(b);
    ingest_expr_free(e);
    return NULL;
}

/* Refuses an operand whose known type is not boolean (NULL is fine). */
static int need_boolean(struct parser *p, const struct ingest_expr *e, const char *what)
{
    char t[32];
    if (e->type.id == INGEST_EXPR_T_UNKNOWN || e->type.id == INGEST_EXPR_T_NULL ||
        e->type.id == INGEST_EXPR_T_BOOLEAN)
        return 0;
    expr_error(&p->lx, e->pos, "%s must be boolean, found %s", what,
               expr_type_text(&e->type, t, sizeof t));
    return -1;
}

/* --- the descent ------------------------------------------------------------------ */

static void next(struct parser *p)
{
    if (p->have_ahead) {
        p->tok = p->ahead;
        p->have_ahead = 0;
        return;
    }
    expr_lex_next(&p->lx, &p->tok);
}

static const struct tok *peek(struct parser *p)
{
    if (!p->have_ahead) {
        expr_lex_next(&p->lx, &p->ahead);
        p->have_ahead = 1;
    }
    return &p->ahead;
}

static int accept(struct parser *p, enum tok_kind kind)
{
    if (p->tok.kind != kind)
        return 0;
    next(p);
    return 1;
}

/* "expected <what>, found <current token>" */
static void error_found(struct parser *p, const char *what)
{
    char found[64];
    expr_tok_describe(&p->lx, &p->tok, found, sizeof found);
    expr_error(&p->lx, p->tok.col, "expected %s, found %s", what, found);
}

static int enter(struct parser *p)
{
    if (++p->depth <= INGEST_EXPR_MAX_NESTING)
        return 0;
    expr_error(&p->lx, p->tok.col, "expression nested too deeply (more than %d levels of "
               "parentheses, operators and arguments)", INGEST_EXPR_MAX_NESTING);
    return -1;
}

static struct ingest_expr *parse_or(struct parser *p);
static struct ingest_expr *parse_concat(struct parser *p);
static struct ingest_expr *parse_unary(struct parser *p);

static struct ingest_expr *parse_expr(struct parser *p)
{
    struct ingest_expr *e = enter(p) == 0 ? parse_or(p) : NULL;
    p->depth--;
    return e;
}

/* --- literals --------------------------------------------------------------------- */

static struct ingest_expr *literal(struct parser *p, enum ingest_expr_type_id id, int pos)
{
    struct ingest_expr *e = node_new(p, INGEST_EXPR_LITERAL, pos);
    if (e)
        e->type = expr_type_of(id);
    return e;
}

/* The current TK_INT token, negated when a unary minus came before it at pos. */
static struct ingest_expr *int_literal(struct parser *p, int negate, int pos)
{
    int64_t v;
    if (expr_int_value(p->lx.src + p->tok.off, p->tok.len, negate, &v) < 0) {
        char what[64];
        expr_tok_source(&p->lx, &p->tok, what, sizeof what);
        expr_error(&p->lx, p->tok.col, "integer '%s%s' does not fit in 64 bits",
                   negate ? "-" : "", what);
        return NULL;
    }
    /* Spark's rule: int when it fits in 32 bits, else long. */
    struct ingest_expr *e = literal(p, v >= INT32_MIN && v <= INT32_MAX ? INGEST_EXPR_T_INT
                                                                     : INGEST_EXPR_T_LONG, pos);
    if (!e)
        return NULL;
    e->u.lit.i = v;
    e->u.lit.d = (double)v;
    next(p);
    return e;
}

static struct ingest_expr *decimal_literal(struct parser *p)
{
    struct ingest_expr *e = literal(p, INGEST_EXPR_T_DECIMAL, p->tok.col);
    if (!e)
        return NULL;
    int rc = expr_decimal_value(p->lx.src + p->tok.off, p->tok.len, &e->u.lit.s,
                                &e->type.precision, &e->type.scale, &e->u.lit.i, &e->u.lit.d);
    if (rc == -1)
        expr_error(&p->lx, p->tok.col, "decimal literal with more than %d digits "
                   "(write it with an exponent, 1.5e40, for a double)",
                   INGEST_EXPR_DECIMAL_MAX_PRECISION);
    else if (rc < 0)
        oom(p);
    if (rc < 0)
        goto fail;
    e->u.lit.len = strlen(e->u.lit.s);
    next(p);
    return e;
fail:
    ingest_expr_free(e);
    return NULL;
}

static struct ingest_expr *double_literal(struct parser *p)
{
    double v;
    if (expr_double_value(p->lx.src + p->tok.off, p->tok.len, &v) < 0) {
        char what[64];
        expr_tok_source(&p->lx, &p->tok, what, sizeof what);
        expr_error(&p->lx, p->tok.col, "number '%s' is out of range for a double", what);
        return NULL;
    }
    struct ingest_expr *e = literal(p, INGEST_EXPR_T_DOUBLE, p->tok.col);
    if (!e)
        return NULL;
    e->u.lit.d = v;
    next(p);
    return e;
}

static struct ingest_expr *string_literal(struct parser *p)
{
    struct ingest_expr *e = literal(p, INGEST_EXPR_T_STRING, p->tok.col);
    if (!e)
        return NULL;
    e->u.lit.s = expr_tok_text(&p->lx, &p->tok, &e->u.lit.len);
    if (!e->u.lit.s) {
        oom(p);
        ingest_expr_free(e);
        return NULL;
    }
    next(p);
    return e;
}

/* DATE 'yyyy-mm-dd' or TIMESTAMP '...': the current token is the keyword,
 * the next one the string. */
static struct ingest_expr *typed_literal(struct parser *p)
{
    int is_date = expr_tok_is(&p->lx, &p->tok, "date");
    struct ingest_expr *e = literal(p, is_date ? INGEST_EXPR_T_DATE : INGEST_EXPR_T_TIMESTAMP,
                                    p->tok.col);
    char *text = NULL;
    size_t len;
    const char *why = NULL;
    if (!e)
        return NULL;
    next(p);
    if (!(text = expr_tok_text(&p->lx, &p->tok, &len))) {
        oom(p);
        goto fail;
    }
    int rc = is_date ? expr_date_value(text, len, &e->u.lit.i, &why)
                     : expr_timestamp_value(text, len, &e->u.lit.i, &why);
    if (rc < 0) {
        char what[64];
        expr_tok_source(&p->lx, &p->tok, what, sizeof what);
        expr_error(&p->lx, p->tok.col, "invalid %s literal %s: %s",
                   is_date ? "DATE" : "TIMESTAMP", what, why);
        goto fail;
    }
    free(text);
    next(p);
    return e;
fail:
    free(text);
    ingest_expr_free(e);
    return NULL;
}

/* --- names: columns and calls --------------------------------------------------- */

static void arity_error(struct parser *p, const struct ingest_expr *e)
{
    const struct ingest_expr_func *fn = e->u.func;
    int mn = fn->min_args, mx = fn->max_args;
    char want[48];
    if (mx == INGEST_EXPR_VARIADIC)
        snprintf(want, sizeof want, "at least %d argument%s", mn, mn == 1 ? "" : "s");
    else if (mx == 0)
        snprintf(want, sizeof want, "no arguments");
    else if (mn == mx)
        snprintf(want, sizeof want, "%d argument%s", mn, mn == 1 ? "" : "s");
    else if (mx == mn + 1)
        snprintf(want, sizeof want, "%d or %d arguments", mn, mx);
    else
        snprintf(want, sizeof want, "%d to %d arguments", mn, mx);
    expr_error(&p->lx, e->pos, "%s takes %s, got %d", fn->name, want, e->nargs);
}

/* Result type of a call from its arguments' static types; checks if()'s
 * condition and that COMMON arguments have a common type. */
static int call_type(struct parser *p, struct ingest_expr *e)
{
    const struct ingest_expr_func *fn = e->u.func;
    struct ingest_expr_type *types = NULL;
    int bad = 0, rc = -1;

    if (fn->id == INGEST_FN_IF && need_boolean(p, e->args[0], "the condition of if()") < 0)
        return -1;
    if (e->nargs && !(types = expr_malloc((size_t)e->nargs * sizeof *types))) {
        oom(p);
        return -1;
    }
    for (int i = 0; i < e->nargs; i++)
        types[i] = e->args[i]->type;
    if (expr_func_result_at(fn, types, e->nargs, &e->type, &bad) < 0) {
        char a[32], b[32];
        struct ingest_expr_type before;
        int unused;
        expr_func_result_at(fn, types, bad, &before, &unused);   /* what the earlier ones gave */
        expr_error(&p->lx, e->args[bad]->pos, "arguments of %s have no common type (%s and %s)",
                   fn->name, expr_type_text(&before, a, sizeof a),
                   expr_type_text(&types[bad], b, sizeof b));
        goto fail;
    }
    rc = 0;
fail:
    free(types);
    return rc;
}

/* name '(' args ')', or a bare current_timestamp/current_date when !parens. */
static struct ingest_expr *parse_call(struct parser *p, int parens)
{
    const struct tok name = p->tok;
    struct ingest_expr *e = NULL;
    char *text = expr_tok_text(&p->lx, &name, NULL);
    if (!text) {
        oom(p);
        return NULL;
    }
    const struct ingest_expr_func *fn = ingest_expr_func_lookup(text);
    if (!fn) {
        char shown[64], buf[64];
        const char *hint = expr_function_hint(text, buf, sizeof buf);
        expr_tok_describe(&p->lx, &name, shown, sizeof shown);
        if (hint)
            expr_error(&p->lx, name.col, "unknown function %s (%s)", shown, hint);
        else
            expr_error(&p->lx, name.col, "unknown function %s", shown);
        goto fail;
    }
    if (!(e = node_new(p, INGEST_EXPR_CALL, name.col)))
        goto fail;
    e->u.func = fn;
    next(p);
    if (parens) {
        next(p);                                   /* the '(' */
        while (!accept(p, TK_RPAREN)) {
            if (add_arg(p, e, parse_expr(p)) < 0)
                goto fail;
            if (p->tok.kind == TK_RPAREN)
                continue;
            if (!accept(p, TK_COMMA)) {
                char what[80];
                snprintf(what, sizeof what, "')' after arguments of %s", fn->name);
                error_found(p, what);
                goto fail;
            }
            if (p->tok.kind == TK_RPAREN) {
                error_found(p, "an argument after ','");
                goto fail;
            }
        }
    }
    if (e->nargs < fn->min_args ||
        (fn->max_args != INGEST_EXPR_VARIADIC && e->nargs > fn->max_args)) {
        arity_error(p, e);
        goto fail;
    }
    if (call_type(p, e) < 0)
        goto fail;
    free(text);
    return e;
fail:
    free(text);
    ingest_expr_free(e);
    return NULL;
}

/* name ('.' name)*: a column, or a field inside one. */
static struct ingest_expr *parse_column(struct parser *p)
{
    struct ingest_expr *e = node_new(p, INGEST_EXPR_COLUMN, p->tok.col);
    if (!e)
        return NULL;
    for (;;) {
        char *part = NULL;
        if (grow_array((void **)&e->u.col.parts, e->u.col.nparts, sizeof(char *)) < 0 ||
            !(part = expr_tok_text(&p->lx, &p->tok, NULL))) {
            oom(p);
            goto fail;
        }
        e->u.col.parts[e->u.col.nparts++] = part;
        next(p);
        if (!accept(p, TK_DOT))
            break;
        if (!expr_tok_is_word(&p->tok)) {
            error_found(p, "a field name after '.'");
            goto fail;
        }
    }
    if (p->tok.kind == TK_LPAREN) {
        expr_error(&p->lx, p->tok.col, "unexpected '(' after a dotted name "
                   "(function names have no '.')");
        goto fail;
    }
    return e;
fail:
    ingest_expr_free(e);
    return NULL;
}

static struct ingest_expr *parse_name(struct parser *p)
{
    const struct tok *after = peek(p);
    int plain = p->tok.kind == TK_IDENT;

    if (after->kind == TK_LPAREN)
        return parse_call(p, 1);
    /* Spark reads these two without parentheses; a column of that name needs
     * backquotes, as in Spark. */
    if (plain && (expr_tok_is(&p->lx, &p->tok, "current_timestamp") ||
                  expr_tok_is(&p->lx, &p->tok, "current_date")))
        return parse_call(p, 0);
    /* DATE and TIMESTAMP are literal prefixes only before a string, so
     * columns named date or timestamp keep working. */
    if (plain && after->kind == TK_STRING &&
        (expr_tok_is(&p->lx, &p->tok, "date") || expr_tok_is(&p->lx, &p->tok, "timestamp")))
        return typed_literal(p);
    return parse_column(p);
}

/* --- CASE, CAST, parentheses ---------------------------------------------------- */

/* Folds the type of a CASE result into *t; error at the result if none fits. */
static int case_result_type(struct parser *p, struct ingest_expr_type *t,
                            const struct ingest_expr *res)
{
    char a[32], b[32];
    if (ingest_expr_type_common(t, &res->type, t) == 0)
        return 0;
    expr_error(&p->lx, res->pos, "CASE results have no common type (%s and %s)",
               expr_type_text(t, a, sizeof a), expr_type_text(&res->type, b, sizeof b));
    return -1;
}

static struct ingest_expr *parse_case(struct parser *p)
{
    struct ingest_expr *e = node_new(p, INGEST_EXPR_CASE, p->tok.col);
    struct ingest_expr_type t = expr_type_of(INGEST_EXPR_T_NULL);
    char what[64];
    if (!e)
        return NULL;
    next(p);
    if (p->tok.kind != TK_WHEN) {
        if (add_arg(p, e, parse_expr(p)) < 0)
            goto fail;
        e->flags |= INGEST_EXPR_CASE_HAS_OPERAND;
    }
    if (p->tok.kind != TK_WHEN) {
        error_found(p, "WHEN in CASE");
        goto fail;
    }
    while (accept(p, TK_WHEN)) {
        if (add_arg(p, e, parse_expr(p)) < 0)
            goto fail;
        if (!(e->flags & INGEST_EXPR_CASE_HAS_OPERAND) &&
            need_boolean(p, e->args[e->nargs - 1], "a WHEN condition") < 0)
            goto fail;
        if (!accept(p, TK_THEN)) {
            error_found(p, "THEN after the WHEN condition");
            goto fail;
        }
        if (add_arg(p, e, parse_expr(p)) < 0 || case_result_type(p, &t, e->args[e->nargs - 1]) < 0)
            goto fail;
    }
    if (accept(p, TK_ELSE)) {
        if (add_arg(p, e, parse_expr(p)) < 0 || case_result_type(p, &t, e->args[e->nargs - 1]) < 0)
            goto fail;
        e->flags |= INGEST_EXPR_CASE_HAS_ELSE;
    }
    if (!accept(p, TK_END)) {
        snprintf(what, sizeof what, "%s to close the CASE at column %d",
                 e->flags & INGEST_EXPR_CASE_HAS_ELSE ? "END" : "WHEN, ELSE or END", e->pos);
        error_found(p, what);
        goto fail;
    }
    e->type = t;
    return e;
fail:
    ingest_expr_free(e);
    return NULL;
}

static int small_int(struct parser *p, const char *what, int lo, int hi, int *out)
{
    int64_t v = -1;
    if (p->tok.kind != TK_INT || expr_int_value(p->lx.src + p->tok.off, p->tok.len, 0, &v) < 0 ||
        v < lo || v > hi) {
        char buf[96];
        snprintf(buf, sizeof buf, "decimal %s from %d to %d", what, lo, hi);
        error_found(p, buf);
        return -1;
    }
    *out = (int)v;
    next(p);
    return 0;
}

/* A type name, as in [schema] and CAST. */
static int parse_type(struct parser *p, struct ingest_expr_type *out)
{
    enum ingest_expr_type_id id;
    if (expr_type_word(&p->lx, &p->tok, &id) < 0) {
        if (p->tok.kind == TK_IDENT) {
            char what[64];
            expr_tok_describe(&p->lx, &p->tok, what, sizeof what);
            expr_error(&p->lx, p->tok.col, "unknown type %s (expected " EXPR_TYPE_LIST ")", what);
        } else {
            error_found(p, "a type (" EXPR_TYPE_LIST ")");
        }
        return -1;
    }
    next(p);
    *out = expr_type_of(id);
    if (out->id != INGEST_EXPR_T_DECIMAL)
        return 0;
    *out = expr_decimal_type(10, 0);                    /* Spark's default */
    if (!accept(p, TK_LPAREN))
        return 0;
    if (small_int(p, "precision", 1, INGEST_EXPR_DECIMAL_MAX_PRECISION, &out->precision) < 0)
        return -1;
    if (accept(p, TK_COMMA) && small_int(p, "scale", 0, out->precision, &out->scale) < 0)
        return -1;
    if (!accept(p, TK_RPAREN)) {
        error_found(p, "')' after the decimal precision and scale");
        return -1;
    }
    return 0;
}

static struct ingest_expr *parse_cast(struct parser *p)
{
    struct ingest_expr *e = node_new(p, INGEST_EXPR_CAST, p->tok.col);
    if (!e)
        return NULL;
    next(p);
    if (!accept(p, TK_LPAREN)) {
        error_found(p, "'(' after CAST");
        goto fail;
    }
    if (add_arg(p, e, parse_expr(p)) < 0)
        goto fail;
    if (!accept(p, TK_AS)) {
        error_found(p, "AS in CAST(x AS type)");
        goto fail;
    }
    if (parse_type(p, &e->type) < 0)
        goto fail;
    if (!accept(p, TK_RPAREN)) {
        error_found(p, "')' to close CAST(");
        goto fail;
    }
    return e;
fail:
    ingest_expr_free(e);
    return NULL;
}

static struct ingest_expr *parse_paren(struct parser *p)
{
    int open = p->tok.col;
    next(p);
    struct ingest_expr *e = parse_expr(p);
    if (e && !accept(p, TK_RPAREN)) {
        char what[64];
        snprintf(what, sizeof what, "')' to close the '(' at column %d", open);
        error_found(p, what);
        ingest_expr_free(e);
        return NULL;
    }
    return e;
}

static struct ingest_expr *parse_primary(struct parser *p)
{
    struct ingest_expr *e;
    switch (p->tok.kind) {
    case TK_INT:     return int_literal(p, 0, p->tok.col);
    case TK_DECIMAL: return decimal_literal(p);
    case TK_DOUBLE:  return double_literal(p);
    case TK_STRING:  return string_literal(p);
    case TK_TRUE:
    case TK_FALSE:
    case TK_NULL:
        e = literal(p, p->tok.kind == TK_NULL ? INGEST_EXPR_T_NULL : INGEST_EXPR_T_BOOLEAN,
                    p->tok.col);
        if (e)
            e->u.lit.i = p->tok.kind == TK_TRUE;
        next(p);
        return e;
    case TK_LPAREN:  return parse_paren(p);
    case TK_CASE:    return parse_case(p);
    case TK_CAST:    return parse_cast(p);
    case TK_IDENT:
    case TK_QIDENT:  return parse_name(p);
    default:
        error_found(p, "an expression");
        return NULL;
    }
}

/* --- operators ------------------------------------------------------------------ */

static int plain_numeric(enum ingest_expr_type_id id)
{
    return id == INGEST_EXPR_T_INT || id == INGEST_EXPR_T_LONG ||
           id == INGEST_EXPR_T_FLOAT || id == INGEST_EXPR_T_DOUBLE;
}

/* Static type of arithmetic: only int/long/float/double are decided here;
 * decimal precision rules, dates and implicit string casts are the
 * evaluator's business, so those stay UNKNOWN. */
static void arith_type(struct ingest_expr *e)
{
    const struct ingest_expr_type *a = &e->args[0]->type;
    const struct ingest_expr_type *b = e->nargs > 1 ? &e->args[1]->type : a;
    if (!plain_numeric(a->id) || !plain_numeric(b->id))
        return;
    if (e->op == INGEST_EXPR_OP_DIV)
        e->type = expr_type_of(INGEST_EXPR_T_DOUBLE);     /* Spark: int / int is double */
    else
        ingest_expr_type_common(a, b, &e->type);
}

static struct ingest_expr *parse_unary(struct parser *p)
{
    if (p->tok.kind != TK_MINUS && p->tok.kind != TK_PLUS)
        return parse_primary(p);
    enum ingest_expr_op op = p->tok.kind == TK_MINUS ? INGEST_EXPR_OP_NEG : INGEST_EXPR_OP_PLUS;
    int pos = p->tok.col;
    next(p);
    if (op == INGEST_EXPR_OP_NEG && p->tok.kind == TK_INT)
        return int_literal(p, 1, pos);
    struct ingest_expr *operand = enter(p) == 0 ? parse_unary(p) : NULL;
    p->depth--;
    struct ingest_expr *e = node_op(p, INGEST_EXPR_UNARY, op, pos, operand, NULL, 1);
    if (e && (plain_numeric(e->args[0]->type.id) || e->args[0]->type.id == INGEST_EXPR_T_DECIMAL))
        e->type = e->args[0]->type;
    return e;
}

static struct ingest_expr *parse_mult(struct parser *p)
{
    struct ingest_expr *e = parse_unary(p);
    while (e && (p->tok.kind == TK_STAR || p->tok.kind == TK_SLASH || p->tok.kind == TK_PERCENT)) {
        enum ingest_expr_op op = p->tok.kind == TK_STAR ? INGEST_EXPR_OP_MUL
                               : p->tok.kind == TK_SLASH ? INGEST_EXPR_OP_DIV : INGEST_EXPR_OP_MOD;
        int pos = p->tok.col;
        next(p);
        if ((e = node_op(p, INGEST_EXPR_BINARY, op, pos, e, parse_unary(p), 2)))
            arith_type(e);
    }
    return e;
}

static struct ingest_expr *parse_additive(struct parser *p)
{
    struct ingest_expr *e = parse_mult(p);
    while (e && (p->tok.kind == TK_PLUS || p->tok.kind == TK_MINUS)) {
        enum ingest_expr_op op = p->tok.kind == TK_PLUS ? INGEST_EXPR_OP_ADD : INGEST_EXPR_OP_SUB;
        int pos = p->tok.col;
        next(p);
        if ((e = node_op(p, INGEST_EXPR_BINARY, op, pos, e, parse_mult(p), 2)))
            arith_type(e);
    }
    return e;
}

static struct ingest_expr *parse_concat(struct parser *p)
{
    struct ingest_expr *e = parse_additive(p);
    while (e && p->tok.kind == TK_CONCAT) {
        int pos = p->tok.col;
        next(p);
        e = node_op(p, INGEST_EXPR_BINARY, INGEST_EXPR_OP_CONCAT, pos, e, parse_additive(p), 2);
        if (e)
            e->type = expr_type_of(INGEST_EXPR_T_STRING);
    }
    return e;
}

static enum ingest_expr_op comparison_op(enum tok_kind k)
{
    switch (k) {
    case TK_EQ: return INGEST_EXPR_OP_EQ;
    case TK_NE: return INGEST_EXPR_OP_NE;
    case TK_LT: return INGEST_EXPR_OP_LT;
    case TK_LE: return INGEST_EXPR_OP_LE;
    case TK_GT: return INGEST_EXPR_OP_GT;
    case TK_GE: return INGEST_EXPR_OP_GE;
    default:    return INGEST_EXPR_OP_NONE;
    }
}

static int negatable(enum tok_kind k)
{
    return k == TK_IN || k == TK_BETWEEN || k == TK_LIKE || k == TK_RLIKE;
}

static int at_predicate(struct parser *p)
{
    enum tok_kind k = p->tok.kind;
    return comparison_op(k) != INGEST_EXPR_OP_NONE || negatable(k) || k == TK_IS || k == TK_NOT;
}

static int is_null_literal(const struct ingest_expr *e)
{
    return e->kind == INGEST_EXPR_LITERAL && e->type.id == INGEST_EXPR_T_NULL;
}

/* Spark's LIKE escapes with '\': it must precede _, % or itself. */
static int check_like_pattern(struct parser *p, const struct ingest_expr *pat)
{
    if (pat->kind != INGEST_EXPR_LITERAL || pat->type.id != INGEST_EXPR_T_STRING)
        return 0;
    const char *s = pat->u.lit.s;
    for (size_t i = 0; i < pat->u.lit.len; i++) {
        if (s[i] != '\\')
            continue;
        if (i + 1 == pat->u.lit.len || (s[i + 1] != '_' && s[i + 1] != '%' && s[i + 1] != '\\')) {
            expr_error(&p->lx, pat->pos, "in a LIKE pattern '\\' must be followed by _, %% or \\");
            return -1;
        }
        i++;
    }
    return 0;
}

/* The rest of IN (...), BETWEEN lo AND hi or LIKE pat, into e. */
static int predicate_operands(struct parser *p, struct ingest_expr *e, enum tok_kind k)
{
    if (k == TK_BETWEEN) {
        if (add_arg(p, e, parse_concat(p)) < 0)
            return -1;
        if (!accept(p, TK_AND)) {
            error_found(p, "AND between the bounds of BETWEEN");
            return -1;
        }
        return add_arg(p, e, parse_concat(p));
    }
    if (k == TK_LIKE || k == TK_RLIKE) {
        if (add_arg(p, e, parse_concat(p)) < 0)
            return -1;
        return k == TK_LIKE ? check_like_pattern(p, e->args[1]) : 0;
    }
    if (!accept(p, TK_LPAREN)) {
        error_found(p, "'(' after IN");
        return -1;
    }
    for (;;) {
        if (add_arg(p, e, parse_expr(p)) < 0)
            return -1;
        if (accept(p, TK_RPAREN))
            return 0;
        if (!accept(p, TK_COMMA)) {
            error_found(p, "',' or ')' in the IN list");
            return -1;
        }
    }
}

/* left followed by one predicate operator.  Takes ownership of left. */
static struct ingest_expr *predicate(struct parser *p, struct ingest_expr *left)
{
    int pos = p->tok.col;
    enum tok_kind k = p->tok.kind;
    enum ingest_expr_op op = comparison_op(k);
    struct ingest_expr *e = NULL;

    next(p);
    if (op != INGEST_EXPR_OP_NONE) {
        e = node_op(p, INGEST_EXPR_BINARY, op, pos, left, parse_concat(p), 2);
        left = NULL;                                /* node_op took it */
        if (!e)
            return NULL;
        e->type = expr_type_of(INGEST_EXPR_T_BOOLEAN);
        for (int i = 0; i < 2; i++) {
            if (is_null_literal(e->args[i])) {
                expr_error(&p->lx, e->args[i]->pos, "a comparison with NULL is never true; "
                           "write IS NULL or IS NOT NULL");
                goto fail;
            }
        }
        return e;
    }
    static const enum ingest_expr_kind kinds[] = {
        [TK_IS] = INGEST_EXPR_IS_NULL, [TK_IN] = INGEST_EXPR_IN,
        [TK_BETWEEN] = INGEST_EXPR_BETWEEN, [TK_LIKE] = INGEST_EXPR_LIKE,
        [TK_RLIKE] = INGEST_EXPR_LIKE,
    };
    unsigned flags = 0;
    if (k == TK_NOT || (k == TK_IS && p->tok.kind == TK_NOT)) {
        flags = INGEST_EXPR_NEGATED;
        if (k == TK_NOT)
            k = p->tok.kind;
        if (k != TK_IS && !negatable(k)) {
            error_found(p, "IN, BETWEEN, LIKE or RLIKE after NOT");
            goto fail;
        }
        next(p);
    }
    if (!(e = node_new(p, kinds[k], left->pos)))
        goto fail;
    e->op_pos = pos;
    e->flags = flags;
    e->type = expr_type_of(INGEST_EXPR_T_BOOLEAN);
    e->op = k == TK_LIKE ? INGEST_EXPR_OP_LIKE : k == TK_RLIKE ? INGEST_EXPR_OP_RLIKE
                                                               : INGEST_EXPR_OP_NONE;
    int rc = add_arg(p, e, left);
    left = NULL;
    if (rc < 0)
        goto fail;
    if (k == TK_IS) {
        if (!accept(p, TK_NULL)) {
            error_found(p, flags ? "NULL after IS NOT" : "NULL after IS");
            goto fail;
        }
        return e;
    }
    if (predicate_operands(p, e, k) < 0)
        goto fail;
    return e;
fail:
    ingest_expr_free(left);
    ingest_expr_free(e);
    return NULL;
}

static struct ingest_expr *parse_predicate(struct parser *p)
{
    struct ingest_expr *e = parse_concat(p);
    if (!e || !at_predicate(p))
        return e;
    if (!(e = predicate(p, e)) || !at_predicate(p))
        return e;
    if (p->tok.kind == TK_NOT && !negatable(peek(p)->kind)) {
        next(p);
        error_found(p, "IN, BETWEEN, LIKE or RLIKE after NOT");
    } else {
        expr_error(&p->lx, p->tok.col, "comparisons cannot be chained: write "
                   "a < b AND b < c, or use parentheses");
    }
    ingest_expr_free(e);
    return NULL;
}

static struct ingest_expr *parse_not(struct parser *p)
{
    if (p->tok.kind != TK_NOT)
        return parse_predicate(p);
    int pos = p->tok.col;
    next(p);
    struct ingest_expr *operand = enter(p) == 0 ? parse_not(p) : NULL;
    p->depth--;
    struct ingest_expr *e = node_op(p, INGEST_EXPR_UNARY, INGEST_EXPR_OP_NOT, pos, operand,
                                    NULL, 1);
    if (!e)
        return NULL;
    e->type = expr_type_of(INGEST_EXPR_T_BOOLEAN);
    if (need_boolean(p, e->args[0], "the operand of NOT") < 0) {
        ingest_expr_free(e);
        return NULL;
    }
    return e;
}

/* AND and OR: left-associative, boolean operands. */
static struct ingest_expr *parse_and(struct parser *p);

static struct ingest_expr *parse_logic(struct parser *p, enum tok_kind k)
{
    struct ingest_expr *(*operand)(struct parser *) = k == TK_OR ? parse_and : parse_not;
    enum ingest_expr_op op = k == TK_OR ? INGEST_EXPR_OP_OR : INGEST_EXPR_OP_AND;
    const char *what = k == TK_OR ? "an operand of OR" : "an operand of AND";
    struct ingest_expr *e = operand(p);

    while (e && p->tok.kind == k) {
        int pos = p->tok.col;
        next(p);
        if (!(e = node_op(p, INGEST_EXPR_BINARY, op, pos, e, operand(p), 2)))
            return NULL;
        e->type = expr_type_of(INGEST_EXPR_T_BOOLEAN);
        if (need_boolean(p, e->args[0], what) < 0 || need_boolean(p, e->args[1], what) < 0) {
            ingest_expr_free(e);
            return NULL;
        }
    }
    return e;
}

static struct ingest_expr *parse_and(struct parser *p)
{
    return parse_logic(p, TK_AND);
}

static struct ingest_expr *parse_or(struct parser *p)
{
    return parse_logic(p, TK_OR);
}

/* --- entry points ------------------------------------------------------------------ */

/* Sets up p over text, refusing text longer than the limit. */
static int parser_init(struct parser *p, const char *text, char *errbuf, size_t errlen)
{
    size_t len = text ? strnlen(text, INGEST_EXPR_MAX_LEN + 1) : 0;
    memset(p, 0, sizeof *p);
    expr_lex_init(&p->lx, text ? text : "", len, errbuf, errlen);
    if (len > INGEST_EXPR_MAX_LEN) {
        /* Point at the first character past the limit. */
        int col = 1;
        for (size_t i = 0; i < INGEST_EXPR_MAX_LEN; i++)
            col += ((unsigned char)text[i] & 0xC0) != 0x80;
        expr_error(&p->lx, col, "expression longer than %d bytes", INGEST_EXPR_MAX_LEN);
        return -1;
    }
    next(p);
    return p->lx.failed ? -1 : 0;
}

struct ingest_expr *ingest_expr_parse(const char *text, char *errbuf, size_t errlen)
{
    struct parser p;
    struct ingest_expr *e = NULL;

    if (parser_init(&p, text, errbuf, errlen) < 0)
        return NULL;
    if (p.tok.kind == TK_EOF) {
        expr_error(&p.lx, p.tok.col, "empty expression");
        return NULL;
    }
    e = parse_expr(&p);
    if (e && p.tok.kind != TK_EOF) {
        char what[64];
        expr_tok_describe(&p.lx, &p.tok, what, sizeof what);
        if (p.tok.kind == TK_RPAREN)
            expr_error(&p.lx, p.tok.col, "unmatched ')'");
        else if (p.tok.kind == TK_AS)
            expr_error(&p.lx, p.tok.col, "unexpected AS: a derived column is named on the "
                       "left of '=' in [transform]");
        else
            expr_error(&p.lx, p.tok.col, "unexpected %s after a complete expression", what);
    }
    /* A lexing error seen only by lookahead leaves e built: still an error. */
    if (p.lx.failed) {
        ingest_expr_free(e);
        return NULL;
    }
    return e;
}

int ingest_expr_type_parse(const char *text, struct ingest_expr_type *out,
                           char *errbuf, size_t errlen)
{
    struct parser p;
    struct ingest_expr_type t;

    if (parser_init(&p, text, errbuf, errlen) < 0 || parse_type(&p, &t) < 0)
        return INGEST_EPARSE;
    if (p.tok.kind != TK_EOF) {
        char what[64];
        expr_tok_describe(&p.lx, &p.tok, what, sizeof what);
        expr_error(&p.lx, p.tok.col, "unexpected %s after the type", what);
    }
    if (p.lx.failed)
        return INGEST_EPARSE;
    *out = t;
    return 0;
}

