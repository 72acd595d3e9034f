/*
 * expr_tree.c - freeing, walking and printing parsed expressions (see
 * include/ingestd/expr.h).
 *
 * Every walk here recurses: the parser caps the height of a tree at
 * INGEST_EXPR_MAX_DEPTH, so the stack stays bounded.  The printer writes
 * the fully parenthesised form the parser reads back to the same tree,
 * which the tests use both to assert structure and as a round-trip check;
 * the few places where a naive print would read back differently (a double
 * without exponent, "--", a column named like a keyword) are handled here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ingestd/buf.h"
#include "ingestd/error.h"
#include "ingestd/expr.h"
#include "expr_int.h"

void ingest_expr_free(struct ingest_expr *e)
{
    if (!e)
        return;
    for (int i = 0; i < e->nargs; i++)
        ingest_expr_free(e->args[i]);
    free(e->args);
    if (e->kind == INGEST_EXPR_LITERAL)
        free(e->u.lit.s);
    if (e->kind == INGEST_EXPR_COLUMN) {
        for (int i = 0; i < e->u.col.nparts; i++)
            free(e->u.col.parts[i]);
        free(e->u.col.parts);
    }
    free(e);
}

/* --- walking ------------------------------------------------------------------------ */

int ingest_expr_columns(const struct ingest_expr *e, int (*cb)(void *ud, const char *name),
                        void *ud)
{
    if (!e)
        return 0;
    if (e->kind == INGEST_EXPR_COLUMN)
        return cb(ud, e->u.col.parts[0]);
    for (int i = 0; i < e->nargs; i++) {
        int rc = ingest_expr_columns(e->args[i], cb, ud);
        if (rc)
            return rc;
    }
    return 0;
}

int ingest_expr_walk(const struct ingest_expr *e,
                     int (*cb)(void *ud, const struct ingest_expr *node), void *ud)
{
    if (!e)
        return 0;
    int rc = cb(ud, e);
    for (int i = 0; !rc && i < e->nargs; i++)
        rc = ingest_expr_walk(e->args[i], cb, ud);
    return rc;
}

int ingest_expr_is_boolean(const struct ingest_expr *e)
{
    return e && e->type.id == INGEST_EXPR_T_BOOLEAN;
}

/* --- printing ------------------------------------------------------------------------ */

const char *ingest_expr_kind_name(enum ingest_expr_kind kind)
{
    static const char *const names[] = {
        [INGEST_EXPR_LITERAL] = "literal", [INGEST_EXPR_COLUMN] = "column",
        [INGEST_EXPR_UNARY] = "unary",     [INGEST_EXPR_BINARY] = "binary",
        [INGEST_EXPR_IS_NULL] = "is_null", [INGEST_EXPR_IN] = "in",
        [INGEST_EXPR_BETWEEN] = "between", [INGEST_EXPR_LIKE] = "like",
        [INGEST_EXPR_CASE] = "case",       [INGEST_EXPR_CAST] = "cast",
        [INGEST_EXPR_CALL] = "call",
    };
    return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "invalid";
}

const char *ingest_expr_op_name(enum ingest_expr_op op)
{
    static const char *const names[] = {
        [INGEST_EXPR_OP_NONE] = "",   [INGEST_EXPR_OP_NEG] = "-",    [INGEST_EXPR_OP_PLUS] = "+",
        [INGEST_EXPR_OP_NOT] = "NOT", [INGEST_EXPR_OP_OR] = "OR",    [INGEST_EXPR_OP_AND] = "AND",
        [INGEST_EXPR_OP_EQ] = "=",    [INGEST_EXPR_OP_NE] = "!=",    [INGEST_EXPR_OP_LT] = "<",
        [INGEST_EXPR_OP_LE] = "<=",   [INGEST_EXPR_OP_GT] = ">",     [INGEST_EXPR_OP_GE] = ">=",
        [INGEST_EXPR_OP_CONCAT] = "||", [INGEST_EXPR_OP_ADD] = "+",  [INGEST_EXPR_OP_SUB] = "-",
        [INGEST_EXPR_OP_MUL] = "*",   [INGEST_EXPR_OP_DIV] = "/",    [INGEST_EXPR_OP_MOD] = "%",
        [INGEST_EXPR_OP_LIKE] = "LIKE", [INGEST_EXPR_OP_RLIKE] = "RLIKE",
    };
    return (unsigned)op < sizeof names / sizeof names[0] ? names[op] : "invalid";
}

/* 'text' or `name`, doubling the quote character inside. */
static void put_quoted(struct ingest_buf *out, const char *s, size_t len, char q)
{
    ingest_buf_putc(out, q);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == q)
            ingest_buf_putc(out, q);
        ingest_buf_putc(out, s[i]);
    }
    ingest_buf_putc(out, q);
}

/* A name part needs backquotes unless the parser would read it back as the
 * same plain name. */
static int needs_backquotes(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
        return 1;
    for (size_t i = 1; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 1;
    return expr_reserved_word(s, len) != TK_IDENT || strcasecmp(s, "current_timestamp") == 0 ||
           strcasecmp(s, "current_date") == 0;
}

static void format_decimal(const struct ingest_expr *e, struct ingest_buf *out)
{
    const char *d = e->u.lit.s;
    size_t n = e->u.lit.len, scale = (size_t)e->type.scale;
    if (scale == 0) {
        ingest_buf_printf(out, "%s.", d);           /* "1." stays a decimal */
    } else if (n <= scale) {
        ingest_buf_puts(out, "0.");
        for (size_t i = n; i < scale; i++)
            ingest_buf_putc(out, '0');
        ingest_buf_puts(out, d);
    } else {
        ingest_buf_append(out, d, n - scale);
        ingest_buf_putc(out, '.');
        ingest_buf_puts(out, d + n - scale);
    }
}

static void format_literal(const struct ingest_expr *e, struct ingest_buf *out)
{
    char buf[64];
    switch (e->type.id) {
    case INGEST_EXPR_T_BOOLEAN: ingest_buf_puts(out, e->u.lit.i ? "TRUE" : "FALSE"); break;
    case INGEST_EXPR_T_INT:
    case INGEST_EXPR_T_LONG:    ingest_buf_printf(out, "%lld", (long long)e->u.lit.i); break;
    case INGEST_EXPR_T_DECIMAL: format_decimal(e, out); break;
    case INGEST_EXPR_T_STRING:  put_quoted(out, e->u.lit.s, e->u.lit.len, '\''); break;
    case INGEST_EXPR_T_DATE:
        expr_date_text(e->u.lit.i, buf, sizeof buf);
        ingest_buf_printf(out, "DATE '%s'", buf);
        break;
    case INGEST_EXPR_T_TIMESTAMP:
        expr_timestamp_text(e->u.lit.i, buf, sizeof buf);
        ingest_buf_printf(out, "TIMESTAMP '%s'", buf);
        break;
    case INGEST_EXPR_T_FLOAT:
    case INGEST_EXPR_T_DOUBLE:
        expr_double_text(e->u.lit.d, buf, sizeof buf);
        ingest_buf_puts(out, buf);
        break;
    default:                    ingest_buf_puts(out, "NULL"); break;
    }
}

static void format_node(const struct ingest_expr *e, struct ingest_buf *out);

/* args[from..to) separated by ", " */
static void format_list(const struct ingest_expr *e, int from, int to, struct ingest_buf *out)
{
    for (int i = from; i < to; i++) {
        if (i > from)
            ingest_buf_puts(out, ", ");
        format_node(e->args[i], out);
    }
}

static void format_case(const struct ingest_expr *e, struct ingest_buf *out)
{
    int i = 0, end = e->nargs - (e->flags & INGEST_EXPR_CASE_HAS_ELSE ? 1 : 0);
    ingest_buf_puts(out, "(CASE");
    if (e->flags & INGEST_EXPR_CASE_HAS_OPERAND) {
        ingest_buf_putc(out, ' ');
        format_node(e->args[i++], out);
    }
    for (; i + 1 < end; i += 2) {
        ingest_buf_puts(out, " WHEN ");
        format_node(e->args[i], out);
        ingest_buf_puts(out, " THEN ");
        format_node(e->args[i + 1], out);
    }
    if (e->flags & INGEST_EXPR_CASE_HAS_ELSE) {
        ingest_buf_puts(out, " ELSE ");
        format_node(e->args[e->nargs - 1], out);
    }
    ingest_buf_puts(out, " END)");
}

static void format_unary(const struct ingest_expr *e, struct ingest_buf *out)
{
    const struct ingest_expr *x = e->args[0];
    ingest_buf_putc(out, '(');
    if (e->op == INGEST_EXPR_OP_NOT)
        ingest_buf_puts(out, "NOT ");
    else
        ingest_buf_puts(out, ingest_expr_op_name(e->op));
    /* Minus over an integer literal: "-5" would read back as the literal -5
     * and "--1" as a comment, so write "-(5)" and "- -1". */
    int int_lit = e->op == INGEST_EXPR_OP_NEG && x->kind == INGEST_EXPR_LITERAL &&
                  (x->type.id == INGEST_EXPR_T_INT || x->type.id == INGEST_EXPR_T_LONG);
    if (int_lit)
        ingest_buf_puts(out, x->u.lit.i < 0 ? " " : "(");
    format_node(x, out);
    if (int_lit && x->u.lit.i >= 0)
        ingest_buf_putc(out, ')');
    ingest_buf_putc(out, ')');
}

static void format_node(const struct ingest_expr *e, struct ingest_buf *out)
{
    const char *neg = e->flags & INGEST_EXPR_NEGATED ? " NOT" : "";
    switch (e->kind) {
    case INGEST_EXPR_LITERAL:
        format_literal(e, out);
        break;
    case INGEST_EXPR_COLUMN:
        for (int i = 0; i < e->u.col.nparts; i++) {
            const char *part = e->u.col.parts[i];
            if (i)
                ingest_buf_putc(out, '.');
            if (needs_backquotes(part))
                put_quoted(out, part, strlen(part), '`');
            else
                ingest_buf_puts(out, part);
        }
        break;
    case INGEST_EXPR_UNARY:
        format_unary(e, out);
        break;
    case INGEST_EXPR_BINARY:
        ingest_buf_putc(out, '(');
        format_node(e->args[0], out);
        ingest_buf_printf(out, " %s ", ingest_expr_op_name(e->op));
        format_node(e->args[1], out);
        ingest_buf_putc(out, ')');
        break;
    case INGEST_EXPR_IS_NULL:
        ingest_buf_putc(out, '(');
        format_node(e->args[0], out);
        ingest_buf_printf(out, " IS%s NULL)", neg);
        break;
    case INGEST_EXPR_IN:
        ingest_buf_putc(out, '(');
        format_node(e->args[0], out);
        ingest_buf_printf(out, "%s IN (", neg);
        format_list(e, 1, e->nargs, out);
        ingest_buf_puts(out, "))");
        break;
    case INGEST_EXPR_BETWEEN:
        ingest_buf_putc(out, '(');
        format_node(e->args[0], out);
        ingest_buf_printf(out, "%s BETWEEN ", neg);
        format_node(e->args[1], out);
        ingest_buf_puts(out, " AND ");
        format_node(e->args[2], out);
        ingest_buf_putc(out, ')');
        break;
    case INGEST_EXPR_LIKE:
        ingest_buf_putc(out, '(');
        format_node(e->args[0], out);
        ingest_buf_printf(out, "%s %s ", neg, ingest_expr_op_name(e->op));
        format_node(e->args[1], out);
        ingest_buf_putc(out, ')');
        break;
    case INGEST_EXPR_CASE:
        format_case(e, out);
        break;
    case INGEST_EXPR_CAST:
        ingest_buf_puts(out, "CAST(");
        format_node(e->args[0], out);
        ingest_buf_puts(out, " AS ");
        ingest_expr_type_format(&e->type, out);
        ingest_buf_putc(out, ')');
        break;
    case INGEST_EXPR_CALL:
        ingest_buf_printf(out, "%s(", e->u.func->name);
        format_list(e, 0, e->nargs, out);
        ingest_buf_putc(out, ')');
        break;
    }
}

int ingest_expr_format(const struct ingest_expr *e, struct ingest_buf *out)
{
    /* Appends report failure through the buffer's sticky flag: check once. */
    if (e)
        format_node(e, out);
    return out->oom ? INGEST_ENOMEM : 0;
}
