/*
 * test_expr.c - the expression parser of [transform] and [expect NAME].
 *
 * Structure is asserted through ingest_expr_format, which prints the tree
 * fully parenthesised; every successful parse in these tests is also printed,
 * parsed again and printed again, which must give the same text.  Errors are
 * asserted by their column and a fragment of the reason, as a user would see
 * them.  The last tests attack the parser: random expressions from a grammar
 * with a known printed form, random token soup, random bytes, hostile
 * nesting and length, and a failure injected into every allocation.
 * INGESTD_TEST_LONG=1 runs the random tests much longer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingestd/buf.h"
#include "ingestd/error.h"
#include "ingestd/expr.h"

/* --- helpers ------------------------------------------------------------------ */

static char *format_of(const struct ingest_expr *e)
{
    struct ingest_buf b = INGEST_BUF_INIT;
    assert_int_equal(ingest_expr_format(e, &b), 0);
    return ingest_buf_steal(&b);
}

/* Parses text (it must parse), returns its printed form (caller frees),
 * and checks that the printed form reads back to itself. */
static char *parse_and_format(const char *text, const char *file, int line)
{
    char err[256];
    struct ingest_expr *e = ingest_expr_parse(text, err, sizeof err);
    if (!e)
        fail_msg("%s:%d: \"%s\" did not parse: %s", file, line, text, err);
    char *got = format_of(e);
    ingest_expr_free(e);

    struct ingest_expr *again = ingest_expr_parse(got, err, sizeof err);
    if (!again)
        fail_msg("%s:%d: printed form \"%s\" did not parse: %s", file, line, got, err);
    char *got2 = format_of(again);
    ingest_expr_free(again);
    if (strcmp(got, got2) != 0)
        fail_msg("%s:%d: \"%s\" printed again as \"%s\"", file, line, got, got2);
    free(got2);
    return got;
}

static void check_format(const char *text, const char *want, const char *file, int line)
{
    char *got = parse_and_format(text, file, line);
    if (strcmp(got, want) != 0)
        fail_msg("%s:%d: \"%s\"\n  printed \"%s\"\n  wanted  \"%s\"", file, line, text, got, want);
    free(got);
}
#define assert_parses_to(text, want) check_format((text), (want), __FILE__, __LINE__)

static void check_error(const char *text, int col, const char *reason, const char *file, int line)
{
    char err[256], prefix[32];
    struct ingest_expr *e = ingest_expr_parse(text, err, sizeof err);
    if (e) {
        char *got = format_of(e);
        ingest_expr_free(e);
        fail_msg("%s:%d: \"%s\" parsed as \"%s\", wanted an error", file, line, text, got);
    }
    snprintf(prefix, sizeof prefix, "at column %d: ", col);
    if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, reason))
        fail_msg("%s:%d: \"%s\"\n  error \"%s\"\n  wanted \"%s...%s...\"", file, line, text, err,
                 prefix, reason);
}
#define assert_error(text, col, reason) check_error((text), (col), (reason), __FILE__, __LINE__)

static struct ingest_expr *must_parse(const char *text)
{
    char err[256];
    struct ingest_expr *e = ingest_expr_parse(text, err, sizeof err);
    if (!e)
        fail_msg("\"%s\" did not parse: %s", text, err);
    return e;
}

/* A string of n copies of unit between head and tail (caller frees). */
static char *repeat(const char *head, const char *unit, size_t n, const char *tail)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(hl + ul * n + tl + 1);
    assert_non_null(s);
    memcpy(s, head, hl);
    for (size_t i = 0; i < n; i++)
        memcpy(s + hl + i * ul, unit, ul);
    memcpy(s + hl + ul * n, tail, tl + 1);
    return s;
}

static int long_tests(void)
{
    const char *v = getenv("INGESTD_TEST_LONG");
    return v && *v && strcmp(v, "0") != 0;
}

/* xorshift64*: the same sequence on every run, so a failure reproduces. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 33) % n;
}

/* --- precedence and structure -------------------------------------------------- */

static void test_precedence_and_binds_tighter_than_or(void **state)
{
    (void)state;
    assert_parses_to("a OR b AND c", "(a OR (b AND c))");
    assert_parses_to("a AND b OR c AND d", "((a AND b) OR (c AND d))");
    assert_parses_to("a OR b OR c", "((a OR b) OR c)");
}

static void test_not_binds_looser_than_comparison_and_tighter_than_and(void **state)
{
    (void)state;
    assert_parses_to("NOT a = 1", "(NOT (a = 1))");
    assert_parses_to("NOT a AND b", "((NOT a) AND b)");
    assert_parses_to("NOT NOT a", "(NOT (NOT a))");
    assert_parses_to("NOT a IS NULL", "(NOT (a IS NULL))");
}

static void test_arithmetic_precedence_is_left_associative(void **state)
{
    (void)state;
    assert_parses_to("1 + 2 * 3", "(1 + (2 * 3))");
    assert_parses_to("a - b - c", "((a - b) - c)");
    assert_parses_to("a / b * c % d", "(((a / b) * c) % d)");
    assert_parses_to("a + b * c - d / e", "((a + (b * c)) - (d / e))");
    assert_parses_to("(a + b) * c", "((a + b) * c)");
}

static void test_comparison_binds_looser_than_concat_and_arithmetic(void **state)
{
    (void)state;
    assert_parses_to("a || b = c || 'x'", "((a || b) = (c || 'x'))");
    assert_parses_to("a || b + 1", "(a || (b + 1))");
    assert_parses_to("amount >= 0 AND amount < 1e9", "((amount >= 0) AND (amount < 1000000000e0))");
    assert_parses_to("a + 1 > b * 2", "((a + 1) > (b * 2))");
}

static void test_unary_minus_binds_tighter_than_multiplication(void **state)
{
    (void)state;
    assert_parses_to("-a * b", "((-a) * b)");
    assert_parses_to("- - a", "(-(-a))");
    assert_parses_to("+a", "(+a)");
    assert_parses_to("a - -b", "(a - (-b))");
    assert_parses_to("-(a + b)", "(-(a + b))");
    assert_parses_to("-(5)", "(-(5))");             /* not folded: no digit after '-' */
    assert_parses_to("-(-(5))", "(-(-(5)))");
}

static void test_minus_before_integer_is_a_negative_literal(void **state)
{
    (void)state;
    assert_parses_to("-5", "-5");
    assert_parses_to("a - -1", "(a - -1)");
    assert_parses_to("- -1", "(- -1)");
    assert_parses_to("-9223372036854775808", "-9223372036854775808");
    assert_parses_to("9223372036854775807", "9223372036854775807");
    struct ingest_expr *e = must_parse("-9223372036854775808");
    assert_int_equal(e->kind, INGEST_EXPR_LITERAL);
    assert_int_equal(e->type.id, INGEST_EXPR_T_LONG);
    assert_true(e->u.lit.i == INT64_MIN);
    assert_int_equal(e->pos, 1);
    ingest_expr_free(e);
}

static void test_comparison_operators_in_every_spelling(void **state)
{
    (void)state;
    assert_parses_to("a = 1", "(a = 1)");
    assert_parses_to("a == 1", "(a = 1)");
    assert_parses_to("a != 1", "(a != 1)");
    assert_parses_to("a <> 1", "(a != 1)");
    assert_parses_to("a<1", "(a < 1)");
    assert_parses_to("a<=1", "(a <= 1)");
    assert_parses_to("a>1", "(a > 1)");
    assert_parses_to("a>=1", "(a >= 1)");
}

static void test_is_null_in_between_like_and_their_negations(void **state)
{
    (void)state;
    assert_parses_to("id IS NOT NULL", "(id IS NOT NULL)");
    assert_parses_to("id is null", "(id IS NULL)");
    assert_parses_to("x IN (1, 2, 3)", "(x IN (1, 2, 3))");
    assert_parses_to("x NOT IN ('a')", "(x NOT IN ('a'))");
    assert_parses_to("x IN (a + 1, b OR c)", "(x IN ((a + 1), (b OR c)))");
    assert_parses_to("x BETWEEN 1 AND 10", "(x BETWEEN 1 AND 10)");
    assert_parses_to("x NOT BETWEEN a + 1 AND b * 2", "(x NOT BETWEEN (a + 1) AND (b * 2))");
    assert_parses_to("x BETWEEN 1 AND 2 AND y", "((x BETWEEN 1 AND 2) AND y)");
    assert_parses_to("name LIKE 'a%'", "(name LIKE 'a%')");
    assert_parses_to("name NOT LIKE 'a\\_b'", "(name NOT LIKE 'a\\_b')");
    assert_parses_to("name RLIKE '^[a-z]+$'", "(name RLIKE '^[a-z]+$')");
    assert_parses_to("name NOT RLIKE 'x' OR y", "((name NOT RLIKE 'x') OR y)");
}

static void test_case_searched_and_simple_forms(void **state)
{
    (void)state;
    assert_parses_to("CASE WHEN a > 0 THEN 'pos' WHEN a < 0 THEN 'neg' ELSE 'zero' END",
                     "(CASE WHEN (a > 0) THEN 'pos' WHEN (a < 0) THEN 'neg' ELSE 'zero' END)");
    assert_parses_to("case status when 1 then 'new' end", "(CASE status WHEN 1 THEN 'new' END)");
    assert_parses_to("CASE WHEN a THEN b END + 1", "((CASE WHEN a THEN b END) + 1)");

    struct ingest_expr *e = must_parse("CASE k WHEN 1 THEN 'a' WHEN 2 THEN 'b' ELSE 'c' END");
    assert_int_equal(e->kind, INGEST_EXPR_CASE);
    assert_int_equal(e->nargs, 6);
    assert_true(e->flags & INGEST_EXPR_CASE_HAS_OPERAND);
    assert_true(e->flags & INGEST_EXPR_CASE_HAS_ELSE);
    assert_int_equal(e->type.id, INGEST_EXPR_T_STRING);
    ingest_expr_free(e);
}

static void test_cast_accepts_every_schema_type_and_aliases(void **state)
{
    (void)state;
    static const char *const types[][2] = {
        { "string", "string" },       { "long", "long" },     { "bigint", "long" },
        { "int", "int" },             { "integer", "int" },   { "double", "double" },
        { "float", "float" },         { "boolean", "boolean" }, { "date", "date" },
        { "timestamp", "timestamp" }, { "binary", "binary" }, { "decimal", "decimal(10,0)" },
        { "DECIMAL(12, 3)", "decimal(12,3)" }, { "decimal(5)", "decimal(5,0)" },
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char text[64], want[64];
        snprintf(text, sizeof text, "CAST(x AS %s)", types[i][0]);
        snprintf(want, sizeof want, "CAST(x AS %s)", types[i][1]);
        assert_parses_to(text, want);
    }
    struct ingest_expr *e = must_parse("cast(amount as decimal(18,2))");
    assert_int_equal(e->kind, INGEST_EXPR_CAST);
    assert_int_equal(e->type.id, INGEST_EXPR_T_DECIMAL);
    assert_int_equal(e->type.precision, 18);
    assert_int_equal(e->type.scale, 2);
    ingest_expr_free(e);
}

static void test_keywords_and_function_names_are_case_insensitive(void **state)
{
    (void)state;
    assert_parses_to("a and B Or not c", "((a AND B) OR (NOT c))");
    assert_parses_to("TO_DATE(ts)", "to_date(ts)");
    assert_parses_to("Coalesce(a, 1)", "coalesce(a, 1)");
    assert_parses_to("x iS nOt NuLl", "(x IS NOT NULL)");
    assert_parses_to("true OR False", "(TRUE OR FALSE)");
}

static void test_design_doc_expressions_parse(void **state)
{
    (void)state;
    assert_parses_to("to_date(ts)", "to_date(ts)");
    assert_parses_to("current_timestamp()", "current_timestamp()");
    assert_parses_to("input_file()", "input_file()");
    assert_parses_to("id IS NOT NULL", "(id IS NOT NULL)");

    struct ingest_expr *e = must_parse("amount >= 0 AND amount < 1e9");
    assert_true(ingest_expr_is_boolean(e));
    ingest_expr_free(e);
    e = must_parse("to_date(ts)");
    assert_false(ingest_expr_is_boolean(e));
    assert_int_equal(e->type.id, INGEST_EXPR_T_DATE);
    ingest_expr_free(e);
}

static void test_current_timestamp_and_current_date_need_no_parentheses(void **state)
{
    (void)state;
    assert_parses_to("current_timestamp", "current_timestamp()");
    assert_parses_to("CURRENT_DATE - 1", "(current_date() - 1)");
    /* backquotes make them columns again */
    assert_parses_to("`current_date`", "`current_date`");
}

static void test_date_and_timestamp_are_columns_unless_a_string_follows(void **state)
{
    (void)state;
    assert_parses_to("date", "date");
    assert_parses_to("date = DATE '2024-02-29'", "(date = DATE '2024-02-29')");
    assert_parses_to("timestamp > TIMESTAMP '2024-01-01 12:30:00'",
                     "(timestamp > TIMESTAMP '2024-01-01 12:30:00')");
    assert_parses_to("year(date)", "year(date)");
}

static void test_dotted_and_backquoted_names(void **state)
{
    (void)state;
    assert_parses_to("a.b.c", "a.b.c");
    assert_parses_to("a . b", "a.b");
    assert_parses_to("`weird name`", "`weird name`");
    assert_parses_to("`a``b`", "`a``b`");
    assert_parses_to("`a.b`.c", "`a.b`.c");
    assert_parses_to("`and` AND `or`", "(`and` AND `or`)");
    assert_parses_to("payload.end", "payload.`end`");
    assert_parses_to("`1st`", "`1st`");
    assert_parses_to("`héllo`", "`héllo`");

    struct ingest_expr *e = must_parse("`a.b`.c");
    assert_int_equal(e->kind, INGEST_EXPR_COLUMN);
    assert_int_equal(e->u.col.nparts, 2);
    assert_string_equal(e->u.col.parts[0], "a.b");
    assert_string_equal(e->u.col.parts[1], "c");
    ingest_expr_free(e);
}

static void test_string_literals_undo_doubled_quotes(void **state)
{
    (void)state;
    struct ingest_expr *e = must_parse("'it''s'");
    assert_int_equal(e->type.id, INGEST_EXPR_T_STRING);
    assert_string_equal(e->u.lit.s, "it's");
    assert_int_equal(e->u.lit.len, 4);
    ingest_expr_free(e);
    assert_parses_to("''", "''");
    assert_parses_to("''''", "''''");
    assert_parses_to("'a\\b'", "'a\\b'");     /* backslash is an ordinary character */
    assert_parses_to("'1 € -- /*'", "'1 € -- /*'");
}

/* --- literal values -------------------------------------------------------------- */

static void test_integer_literals_are_int_or_long_by_size(void **state)
{
    (void)state;
    struct ingest_expr *e = must_parse("2147483647");
    assert_int_equal(e->type.id, INGEST_EXPR_T_INT);
    ingest_expr_free(e);
    e = must_parse("2147483648");
    assert_int_equal(e->type.id, INGEST_EXPR_T_LONG);
    assert_true(e->u.lit.i == 2147483648LL);
    ingest_expr_free(e);
    e = must_parse("-2147483648");
    assert_int_equal(e->type.id, INGEST_EXPR_T_INT);
    ingest_expr_free(e);
    assert_parses_to("007", "7");
}

static void test_decimal_literals_keep_exact_digits(void **state)
{
    (void)state;
    struct ingest_expr *e = must_parse("007.50");
    assert_int_equal(e->type.id, INGEST_EXPR_T_DECIMAL);
    assert_int_equal(e->type.precision, 3);
    assert_int_equal(e->type.scale, 2);
    assert_string_equal(e->u.lit.s, "750");
    assert_true(e->u.lit.i == 750);
    ingest_expr_free(e);

    e = must_parse(".5");
    assert_int_equal(e->type.precision, 1);
    assert_int_equal(e->type.scale, 1);
    ingest_expr_free(e);

    /* 38 digits stay exact in the digit string */
    e = must_parse("1234567890123456789012345678.9012345678");
    assert_int_equal(e->type.precision, 38);
    assert_int_equal(e->type.scale, 10);
    assert_string_equal(e->u.lit.s, "12345678901234567890123456789012345678");
    ingest_expr_free(e);

    assert_parses_to("1.", "1.");
    assert_parses_to("0.05", "0.05");
    assert_parses_to("0.000", "0.000");
    assert_parses_to(".5", "0.5");
    assert_parses_to("100.0", "100.0");
}

static void test_double_literals_print_with_an_exponent(void **state)
{
    (void)state;
    assert_parses_to("1e9", "1000000000e0");
    assert_parses_to("1.5E-3", "0.0015e0");
    assert_parses_to("2.5e+300", "2.5e+300");
    assert_parses_to("1e-400", "0e0");   /* underflow is zero, as in Spark */
    struct ingest_expr *e = must_parse("0.1e1");
    assert_int_equal(e->type.id, INGEST_EXPR_T_DOUBLE);
    assert_true(e->u.lit.d == 1.0);
    ingest_expr_free(e);
}

static void test_date_and_timestamp_literals_are_days_and_utc_micros(void **state)
{
    (void)state;
    struct ingest_expr *e = must_parse("DATE '1970-01-02'");
    assert_int_equal(e->type.id, INGEST_EXPR_T_DATE);
    assert_true(e->u.lit.i == 1);
    ingest_expr_free(e);
    e = must_parse("date '1969-12-31'");
    assert_true(e->u.lit.i == -1);
    ingest_expr_free(e);
    e = must_parse("TIMESTAMP '1970-01-01T00:00:01.5Z'");
    assert_int_equal(e->type.id, INGEST_EXPR_T_TIMESTAMP);
    assert_true(e->u.lit.i == 1500000);
    ingest_expr_free(e);
    e = must_parse("TIMESTAMP '1970-01-01 02:00:00+02:00'");
    assert_true(e->u.lit.i == 0);
    ingest_expr_free(e);

    assert_parses_to("TIMESTAMP '2024-03-10 08:00:00-05:00'", "TIMESTAMP '2024-03-10 13:00:00'");
    assert_parses_to("TIMESTAMP '2024-03-10'", "TIMESTAMP '2024-03-10 00:00:00'");
    assert_parses_to("TIMESTAMP '1960-01-01 00:00:00.000001'", "TIMESTAMP '1960-01-01 00:00:00.000001'");
    assert_parses_to("TIMESTAMP '2024-01-01 10:00 UTC'", "TIMESTAMP '2024-01-01 10:00:00'");
    assert_parses_to("DATE '2000-02-29'", "DATE '2000-02-29'");
    assert_parses_to("DATE '0001-01-01'", "DATE '0001-01-01'");
    assert_parses_to("DATE '9999-12-31'", "DATE '9999-12-31'");
}

/* --- types ------------------------------------------------------------------------ */

static void test_is_boolean_for_predicates_and_boolean_results_only(void **state)
{
    (void)state;
    static const char *const yes[] = {
        "a = 1", "a AND b", "NOT a", "a IS NULL", "a IN (1)", "a BETWEEN 1 AND 2",
        "a LIKE 'x'", "a RLIKE 'x'", "TRUE", "false", "regexp_like(a, 'x')",
        "CASE WHEN a THEN TRUE ELSE a > 1 END", "coalesce(a > 1, FALSE)", "if(a, TRUE, FALSE)",
        "CAST(a AS boolean)",
    };
    static const char *const no[] = {
        "a", "a + 1", "'true'", "NULL", "1", "to_date(ts)", "coalesce(flag, FALSE)",
        "CASE WHEN a THEN b END", "a.b",
    };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        struct ingest_expr *e = must_parse(yes[i]);
        if (!ingest_expr_is_boolean(e))
            fail_msg("\"%s\" should be boolean", yes[i]);
        ingest_expr_free(e);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        struct ingest_expr *e = must_parse(no[i]);
        if (ingest_expr_is_boolean(e))
            fail_msg("\"%s\" should not be boolean", no[i]);
        ingest_expr_free(e);
    }
    assert_false(ingest_expr_is_boolean(NULL));
}

static enum ingest_expr_type_id type_id_of(const char *text)
{
    struct ingest_expr *e = must_parse(text);
    enum ingest_expr_type_id id = e->type.id;
    ingest_expr_free(e);
    return id;
}

static void test_static_types_follow_the_function_rules(void **state)
{
    (void)state;
    assert_int_equal(type_id_of("current_timestamp()"), INGEST_EXPR_T_TIMESTAMP);
    assert_int_equal(type_id_of("current_date"), INGEST_EXPR_T_DATE);
    assert_int_equal(type_id_of("length(s)"), INGEST_EXPR_T_INT);
    assert_int_equal(type_id_of("upper(s)"), INGEST_EXPR_T_STRING);
    assert_int_equal(type_id_of("abs(-5)"), INGEST_EXPR_T_INT);
    assert_int_equal(type_id_of("abs(x)"), INGEST_EXPR_T_UNKNOWN);
    assert_int_equal(type_id_of("coalesce(1, 2147483648)"), INGEST_EXPR_T_LONG);
    assert_int_equal(type_id_of("coalesce(NULL, 'a')"), INGEST_EXPR_T_STRING);
    assert_int_equal(type_id_of("coalesce(x, 1)"), INGEST_EXPR_T_UNKNOWN);
    assert_int_equal(type_id_of("greatest(1, 2.5e0)"), INGEST_EXPR_T_DOUBLE);
    assert_int_equal(type_id_of("if(a, 1, 'x')"), INGEST_EXPR_T_STRING);
    assert_int_equal(type_id_of("floor(2.5e0)"), INGEST_EXPR_T_LONG);
    assert_int_equal(type_id_of("a || b"), INGEST_EXPR_T_STRING);
    assert_int_equal(type_id_of("1 + 2"), INGEST_EXPR_T_INT);
    assert_int_equal(type_id_of("1 / 2"), INGEST_EXPR_T_DOUBLE);
    assert_int_equal(type_id_of("1 + 2147483648"), INGEST_EXPR_T_LONG);
    assert_int_equal(type_id_of("1.5 + 1"), INGEST_EXPR_T_UNKNOWN);   /* decimal: evaluator */
    assert_int_equal(type_id_of("a + 1"), INGEST_EXPR_T_UNKNOWN);
    assert_int_equal(type_id_of("-1.5"), INGEST_EXPR_T_DECIMAL);
    assert_int_equal(type_id_of("CASE WHEN a THEN 1 ELSE 2.5e0 END"), INGEST_EXPR_T_DOUBLE);
    assert_int_equal(type_id_of("CASE WHEN a THEN DATE '2024-01-01' ELSE TIMESTAMP '2024-01-01' END"),
                     INGEST_EXPR_T_TIMESTAMP);

    struct ingest_expr *e = must_parse("floor(12.345)");
    assert_int_equal(e->type.id, INGEST_EXPR_T_DECIMAL);
    assert_int_equal(e->type.precision, 3);
    assert_int_equal(e->type.scale, 0);
    ingest_expr_free(e);
}

static void test_common_type_widens_like_spark(void **state)
{
    (void)state;
    struct ingest_expr_type i = { INGEST_EXPR_T_INT, 0, 0 }, l = { INGEST_EXPR_T_LONG, 0, 0 },
        f = { INGEST_EXPR_T_FLOAT, 0, 0 }, d = { INGEST_EXPR_T_DOUBLE, 0, 0 },
        dec = { INGEST_EXPR_T_DECIMAL, 10, 2 }, dec2 = { INGEST_EXPR_T_DECIMAL, 38, 10 },
        s = { INGEST_EXPR_T_STRING, 0, 0 }, b = { INGEST_EXPR_T_BOOLEAN, 0, 0 },
        bin = { INGEST_EXPR_T_BINARY, 0, 0 }, n = { INGEST_EXPR_T_NULL, 0, 0 },
        u = { INGEST_EXPR_T_UNKNOWN, 0, 0 }, dt = { INGEST_EXPR_T_DATE, 0, 0 },
        ts = { INGEST_EXPR_T_TIMESTAMP, 0, 0 }, out;

    assert_int_equal(ingest_expr_type_common(&i, &l, &out), 0);
    assert_int_equal(out.id, INGEST_EXPR_T_LONG);
    assert_int_equal(ingest_expr_type_common(&l, &f, &out), 0);
    assert_int_equal(out.id, INGEST_EXPR_T_FLOAT);
    assert_int_equal(ingest_expr_type_common(&dec, &f, &out), 0);
    assert_int_equal(out.id, INGEST_EXPR_T_DOUBLE);
    assert_int_equal(ingest_expr_type_common(&f, &d, &out), 0);
    assert_int_equal(out.id, INGEST_EXPR_T_DOUBLE);
    assert_int_equal(ingest_expr_type_common(&i, &dec, &out), 0);    /* int is decimal(10,0) */
    assert_int_equal(out.id, INGEST_EXPR_T_DECIMAL);
    assert_int_equal(out.precision, 12);
    assert_int_equal(out.scale, 2);
    assert_int_equal(ingest_expr_type_common(&l, &dec2, &out), 0);   /* capped at 38 digits */
    assert_int_equal(out.precision, 38);
    assert_int_equal(out.scale, 10);
    assert_int_equal(ingest_expr_type_common(&dt, &ts, &out), 0);
    assert_int_equal(out.id, INGEST_EXPR_T_TIMESTAMP);
    assert_int_equal(ingest_expr_type_common(&s, &i, &out), 0);
    assert_int_equal(out.id, INGEST_EXPR_T_STRING);
    assert_int_equal(ingest_expr_type_common(&n, &b, &out), 0);
    assert_int_equal(out.id, INGEST_EXPR_T_BOOLEAN);
    assert_int_equal(ingest_expr_type_common(&u, &b, &out), 0);
    assert_int_equal(out.id, INGEST_EXPR_T_UNKNOWN);
    assert_int_equal(ingest_expr_type_common(&b, &i, &out), INGEST_EINVAL);
    assert_int_equal(ingest_expr_type_common(&bin, &s, &out), INGEST_EINVAL);
    assert_int_equal(ingest_expr_type_common(&dt, &i, &out), INGEST_EINVAL);
}

static void test_type_parse_reads_schema_types(void **state)
{
    (void)state;
    struct ingest_expr_type t;
    char err[256];
    assert_int_equal(ingest_expr_type_parse("long", &t, err, sizeof err), 0);
    assert_int_equal(t.id, INGEST_EXPR_T_LONG);
    assert_int_equal(ingest_expr_type_parse(" Decimal( 10 , 2 ) ", &t, err, sizeof err), 0);
    assert_int_equal(t.id, INGEST_EXPR_T_DECIMAL);
    assert_int_equal(t.precision, 10);
    assert_int_equal(t.scale, 2);

    struct ingest_buf b = INGEST_BUF_INIT;
    assert_int_equal(ingest_expr_type_format(&t, &b), 0);
    assert_string_equal(b.data, "decimal(10,2)");
    ingest_buf_free(&b);

    assert_int_equal(ingest_expr_type_parse("varchar(10)", &t, err, sizeof err), INGEST_EPARSE);
    assert_string_equal(err, "at column 1: unknown type 'varchar' (expected string, long, int, "
                             "double, float, boolean, date, timestamp, binary or decimal(p,s))");
    assert_int_equal(ingest_expr_type_parse("long not null", &t, err, sizeof err), INGEST_EPARSE);
    assert_string_equal(err, "at column 6: unexpected 'not' after the type");
    assert_int_equal(ingest_expr_type_parse("", &t, err, sizeof err), INGEST_EPARSE);
    assert_int_equal(ingest_expr_type_parse("decimal(39,0)", &t, err, sizeof err), INGEST_EPARSE);
    assert_string_equal(err, "at column 9: expected decimal precision from 1 to 38, found '39'");
    assert_int_equal(ingest_expr_type_parse("decimal(5,6)", &t, err, sizeof err), INGEST_EPARSE);
    assert_string_equal(err, "at column 11: expected decimal scale from 0 to 5, found '6'");
}

/* --- the function table -------------------------------------------------------------- */

static void test_function_table_describes_every_function(void **state)
{
    (void)state;
    size_t n;
    const struct ingest_expr_func *fns = ingest_expr_func_table(&n);
    assert_int_equal(n, INGEST_FN_COUNT_);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(fns[i].id, (int)i);
        assert_ptr_equal(ingest_expr_func_lookup(fns[i].name), &fns[i]);
        assert_true(fns[i].min_args >= 0);
        assert_true(fns[i].max_args == INGEST_EXPR_VARIADIC || fns[i].max_args >= fns[i].min_args);
        assert_true(strncmp(fns[i].synopsis, fns[i].name, strlen(fns[i].name)) == 0);
        assert_true(strlen(fns[i].description) > 10);
    }
    const struct ingest_expr_func *fn = ingest_expr_func_lookup("TO_DATE");
    assert_non_null(fn);
    assert_int_equal(fn->id, INGEST_FN_TO_DATE);
    assert_int_equal(fn->min_args, 1);
    assert_int_equal(fn->max_args, 2);
    assert_null(ingest_expr_func_lookup("sum"));
    assert_null(ingest_expr_func_lookup(NULL));
    assert_true(ingest_expr_func_lookup("uuid")->flags & INGEST_EXPR_F_RANDOM);
    assert_true(ingest_expr_func_lookup("current_timestamp")->flags & INGEST_EXPR_F_PER_BATCH);
    assert_true(ingest_expr_func_lookup("input_file")->flags & INGEST_EXPR_F_SOURCE);
}

static void test_every_function_parses_at_its_arity_bounds(void **state)
{
    (void)state;
    size_t n;
    const struct ingest_expr_func *fns = ingest_expr_func_table(&n);
    for (size_t i = 0; i < n; i++) {
        int max = fns[i].max_args == INGEST_EXPR_VARIADIC ? fns[i].min_args + 3 : fns[i].max_args;
        for (int nargs = 0; nargs <= max + 1; nargs++) {
            char text[256], err[256];
            int len = snprintf(text, sizeof text, "%s(", fns[i].name);
            /* the first argument of if() must be boolean */
            for (int a = 0; a < nargs; a++)
                len += snprintf(text + len, sizeof text - (size_t)len, "%sc%d", a ? ", " : "", a);
            snprintf(text + len, sizeof text - (size_t)len, ")");
            struct ingest_expr *e = ingest_expr_parse(text, err, sizeof err);
            int ok = nargs >= fns[i].min_args &&
                     (fns[i].max_args == INGEST_EXPR_VARIADIC || nargs <= max);
            if (ok && !e)
                fail_msg("\"%s\" failed: %s", text, err);
            if (!ok && (e || !strstr(err, " takes ")))
                fail_msg("\"%s\" should be an arity error, got \"%s\"", text, e ? "success" : err);
            if (e) {
                assert_int_equal(e->kind, INGEST_EXPR_CALL);
                assert_ptr_equal(e->u.func, &fns[i]);
                assert_int_equal(e->nargs, nargs);
            }
            ingest_expr_free(e);
        }
    }
}

static void test_func_result_rules(void **state)
{
    (void)state;
    struct ingest_expr_type args[3] = {
        { INGEST_EXPR_T_BOOLEAN, 0, 0 }, { INGEST_EXPR_T_INT, 0, 0 }, { INGEST_EXPR_T_DOUBLE, 0, 0 },
    }, out;
    assert_int_equal(ingest_expr_func_result(ingest_expr_func_lookup("if"), args, 3, &out), 0);
    assert_int_equal(out.id, INGEST_EXPR_T_DOUBLE);
    assert_int_equal(ingest_expr_func_result(ingest_expr_func_lookup("coalesce"), args, 3, &out),
                     INGEST_EINVAL);
    assert_int_equal(ingest_expr_func_result(ingest_expr_func_lookup("nullif"), args + 1, 2, &out), 0);
    assert_int_equal(out.id, INGEST_EXPR_T_INT);
    assert_int_equal(ingest_expr_func_result(ingest_expr_func_lookup("sha2"), args, 2, &out), 0);
    assert_int_equal(out.id, INGEST_EXPR_T_STRING);
}

/* --- visiting columns ------------------------------------------------------------------- */

struct names {
    char buf[256];
    int count;
    int stop_at;
};

static int collect_name(void *ud, const char *name)
{
    struct names *n = ud;
    size_t len = strlen(n->buf);
    snprintf(n->buf + len, sizeof n->buf - len, "%s%s", len ? "," : "", name);
    return ++n->count == n->stop_at ? 42 : 0;
}

static void test_columns_visits_every_reference_in_source_order(void **state)
{
    (void)state;
    struct names n = { "", 0, 0 };
    struct ingest_expr *e = must_parse(
        "CASE k WHEN 1 THEN to_date(ts) ELSE coalesce(a.b, `we ird`, 'lit') END || a IN (z, 1)");
    assert_int_equal(ingest_expr_columns(e, collect_name, &n), 0);
    assert_string_equal(n.buf, "k,ts,a,we ird,a,z");
    ingest_expr_free(e);
}

static void test_columns_stops_when_the_callback_says_so(void **state)
{
    (void)state;
    struct names n = { "", 0, 2 };
    struct ingest_expr *e = must_parse("a + b + c");
    assert_int_equal(ingest_expr_columns(e, collect_name, &n), 42);
    assert_string_equal(n.buf, "a,b");
    ingest_expr_free(e);
    assert_int_equal(ingest_expr_columns(NULL, collect_name, &n), 0);
}

static int collect_positions(void *ud, const struct ingest_expr *node)
{
    struct names *n = ud;
    size_t len = strlen(n->buf);
    if (node->kind == INGEST_EXPR_COLUMN)
        snprintf(n->buf + len, sizeof n->buf - len, "%s%s@%d", len ? "," : "",
                 node->u.col.parts[0], node->pos);
    return 0;
}

static void test_walk_gives_the_columns_of_nodes_in_characters(void **state)
{
    (void)state;
    struct names n = { "", 0, 0 };
    /* é and € are one column each, though several bytes */
    struct ingest_expr *e = must_parse("'é€' || abc = `é` AND x IS NULL");
    assert_int_equal(ingest_expr_walk(e, collect_positions, &n), 0);
    assert_string_equal(n.buf, "abc@9,é@15,x@23");
    assert_int_equal(e->op_pos, 19);                      /* the AND */
    assert_int_equal(e->args[1]->op_pos, 25);             /* the IS */
    assert_int_equal(e->args[1]->pos, 23);
    ingest_expr_free(e);
}

/* --- errors ------------------------------------------------------------------------------- */

static void test_unknown_function_is_an_error_with_column(void **state)
{
    (void)state;
    assert_error("a + frobnicate(x)", 5, "unknown function 'frobnicate'");
    assert_error("sum(x)", 1, "unknown function 'sum'");
    assert_error("`to date`(x)", 1, "unknown function `to date`");
}

static void test_unknown_function_suggests_the_right_name(void **state)
{
    (void)state;
    assert_error("to_dat(ts)", 1, "unknown function 'to_dat' (did you mean to_date?)");
    assert_error("uper(s)", 1, "(did you mean upper?)");
    assert_error("substr(s, 1, 2)", 1, "(did you mean substring?)");
    assert_error("NVL(a, b)", 1, "(did you mean coalesce?)");
    assert_error("date_fromat(ts, 'yyyy')", 1, "(did you mean date_format?)");
    assert_error("count(x) > 0", 1, "unknown function 'count' (aggregates are not available");
    assert_error("max(a, b)", 1, "(greatest() takes the largest argument;");
    assert_error("x = cont(a)", 5, "unknown function 'cont'");  /* no far-fetched guess */
    char err[256];
    assert_null(ingest_expr_parse("total(x)", err, sizeof err));
    assert_null(strstr(err, "did you mean"));
    assert_error("price * 1.2 AS gross", 13, "unexpected AS: a derived column is named on the left of '='");
}

static void test_wrong_arity_is_an_error_with_column(void **state)
{
    (void)state;
    assert_error("x = to_date(a, b, c)", 5, "to_date takes 1 or 2 arguments, got 3");
    assert_error("uuid(1)", 1, "uuid takes no arguments, got 1");
    assert_error("sha2(x)", 1, "sha2 takes 2 arguments, got 1");
    assert_error("concat()", 1, "concat takes at least 1 argument, got 0");
    assert_error("upper()", 1, "upper takes 1 argument, got 0");
    assert_error("current_timestamp(1)", 1, "current_timestamp takes no arguments, got 1");
}

static void test_missing_parenthesis_names_what_it_closes(void **state)
{
    (void)state;
    assert_error("1 + to_date(ts x", 16, "expected ')' after arguments of to_date, found 'x'");
    assert_error("to_date(ts", 11, "expected ')' after arguments of to_date, found end of input");
    assert_error("(a + b", 7, "expected ')' to close the '(' at column 1, found end of input");
    assert_error("to_date(ts,)", 12, "expected an argument after ',', found ')'");
    assert_error("f(", 1, "unknown function 'f'");
    assert_error("upper(", 7, "expected an expression, found end of input");
}

static void test_trailing_garbage_is_an_error(void **state)
{
    (void)state;
    assert_error("a b", 3, "unexpected 'b' after a complete expression");
    assert_error("a = 1)", 6, "unmatched ')'");
    assert_error("1 2", 3, "unexpected '2'");
    assert_error("a.1", 2, "unexpected '.1'");
    assert_error("'a' 'b'", 5, "unexpected string 'b' after a complete expression");
}

static void test_empty_expression_is_an_error(void **state)
{
    (void)state;
    assert_error("", 1, "empty expression");
    assert_error("   ", 4, "empty expression");
    char err[64];
    assert_null(ingest_expr_parse(NULL, err, sizeof err));
    assert_string_equal(err, "at column 1: empty expression");
}

static void test_unterminated_quotes_point_at_the_opening_quote(void **state)
{
    (void)state;
    assert_error("a = 'abc", 5, "unterminated string literal (no closing quote)");
    assert_error("a = 'it''s", 5, "unterminated string literal");
    assert_error("`abc + 1", 1, "unterminated quoted name (no closing backquote)");
    assert_error("x + ``", 5, "empty quoted name");
    /* seen only through lookahead, still reported */
    assert_error("current_date 'x", 14, "unterminated string literal");
}

static void test_integer_overflow_is_an_error(void **state)
{
    (void)state;
    assert_error("x + 9223372036854775808", 5, "integer '9223372036854775808' does not fit in 64 bits");
    assert_error("-9223372036854775809", 2, "integer '-9223372036854775809' does not fit in 64 bits");
    assert_error("99999999999999999999999999", 1, "does not fit in 64 bits");
    assert_error("1e999", 1, "out of range for a double");
    assert_error("1.00000000000000000000000000000000000000", 1, "more than 38 digits");
}

static void test_malformed_numbers_are_refused_whole(void **state)
{
    (void)state;
    assert_error("12abc", 1, "invalid number '12abc' (a name that starts with a digit needs backquotes");
    assert_error("a + 1.2.3", 5, "invalid number '1.2.3'");
    assert_error("1e", 1, "invalid number '1e'");
    assert_error("1e+", 1, "invalid number '1e'");
    assert_error("0x1F", 1, "invalid number '0x1F'");
}

static void test_nesting_beyond_the_limit_is_an_error_not_a_crash(void **state)
{
    (void)state;
    char *s = repeat("", "(", 200, "1");
    char *t = repeat(s, ")", 200, "");
    assert_parses_to(t, "1");
    free(s);
    free(t);

    static const char *const units[] = { "(", "- ", "NOT ", "lower(", "+", "CAST(" };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        char err[256];
        s = repeat("", units[i], 60000 / strlen(units[i]), "a");
        assert_null(ingest_expr_parse(s, err, sizeof err));
        if (!strstr(err, "expression nested too deeply (more than 512 levels of parentheses"))
            fail_msg("unit \"%s\": %s", units[i], err);
        free(s);
    }
    /* left-deep chains are as deep as they are long */
    s = repeat("a", " + a", 300, "");
    assert_error(s, 1023, "expression nested too deeply (a tree more than 256 levels high)");
    free(s);
    s = repeat("a", " AND a", 200, "");
    struct ingest_expr *e = must_parse(s);
    assert_int_equal(e->height, 201);
    ingest_expr_free(e);
    free(s);
    s = repeat("a IN (", "1, ", 10000, "2)");            /* wide is fine */
    e = must_parse(s);
    assert_int_equal(e->nargs, 10002);
    ingest_expr_free(e);
    free(s);
}

/* Found by fuzzing: the printed form of a tree at the height limit has more
 * parentheses than its source, and must still read back. */
static void test_trees_at_the_depth_limit_print_in_a_form_that_reads_back(void **state)
{
    (void)state;
    static const char *const units[][2] = {
        { "+", "" }, { "- ", "" }, { "NOT ", "" }, { "lower(", ")" }, { "-(", ")" },
        { "CASE WHEN a THEN ", " END" }, { "x IN (", ")" }, { "CAST(", " AS int)" },
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        int levels = INGEST_EXPR_MAX_DEPTH - 1;
        char *head = repeat("", units[i][0], (size_t)levels, "a");
        char *text = repeat(head, units[i][1], (size_t)levels, "");
        struct ingest_expr *e = must_parse(text);
        assert_int_equal(e->height, INGEST_EXPR_MAX_DEPTH);
        ingest_expr_free(e);
        free(parse_and_format(text, __FILE__, __LINE__));
        free(head);
        free(text);
    }
}

static void test_text_beyond_the_length_limit_is_an_error(void **state)
{
    (void)state;
    char *s = repeat("a", " ", INGEST_EXPR_MAX_LEN - 1, "");
    struct ingest_expr *e = must_parse(s);                 /* exactly the limit */
    ingest_expr_free(e);
    free(s);
    s = repeat("a", " ", INGEST_EXPR_MAX_LEN, "");
    assert_error(s, INGEST_EXPR_MAX_LEN + 1, "expression longer than 65536 bytes");
    free(s);
}

static void test_chained_comparisons_are_refused(void **state)
{
    (void)state;
    assert_error("1 < a < 10", 7, "comparisons cannot be chained");
    assert_error("a = b = c", 7, "comparisons cannot be chained");
    assert_error("a IS NULL IS NULL", 11, "comparisons cannot be chained");
    assert_error("a = b NOT IN (1)", 7, "comparisons cannot be chained");
    assert_parses_to("(a = b) = c", "((a = b) = c)");
}

static void test_misplaced_not_and_is_name_what_was_expected(void **state)
{
    (void)state;
    assert_error("a NOT b", 7, "expected IN, BETWEEN, LIKE or RLIKE after NOT, found 'b'");
    assert_error("a = b NOT c", 11, "expected IN, BETWEEN, LIKE or RLIKE after NOT");
    assert_error("a IS NOT NUL", 10, "expected NULL after IS NOT, found 'NUL'");
    assert_error("a IS 1", 6, "expected NULL after IS, found '1'");
    assert_error("a BETWEEN 1 OR 2", 13, "expected AND between the bounds of BETWEEN");
    assert_error("a IN 1", 6, "expected '(' after IN");
    assert_error("a IN ()", 7, "expected an expression, found ')'");
    assert_error("a IN (1 2)", 9, "expected ',' or ')' in the IN list");
    assert_error("a = AND", 5, "expected an expression, found 'AND'");
    assert_error("a +", 4, "expected an expression, found end of input");
    assert_error("= 1", 1, "expected an expression, found '='");
}

static void test_comparison_with_null_literal_is_refused(void **state)
{
    (void)state;
    assert_error("id = NULL", 6, "a comparison with NULL is never true; write IS NULL or IS NOT NULL");
    assert_error("NULL != id", 1, "comparison with NULL");
    assert_parses_to("coalesce(id, NULL) IS NULL", "(coalesce(id, NULL) IS NULL)");
}

static void test_non_boolean_operands_of_logic_are_refused_when_known(void **state)
{
    (void)state;
    assert_error("a = 1 AND 5", 11, "an operand of AND must be boolean, found int");
    assert_error("'yes' OR b", 1, "an operand of OR must be boolean, found string");
    assert_error("NOT to_date(x)", 5, "the operand of NOT must be boolean, found date");
    assert_error("CASE WHEN 1 THEN a END", 11, "a WHEN condition must be boolean, found int");
    assert_error("if(upper(x), 1, 2)", 4, "the condition of if() must be boolean, found string");
    assert_parses_to("a AND NULL", "(a AND NULL)");
}

static void test_arguments_without_a_common_type_are_refused(void **state)
{
    (void)state;
    assert_error("coalesce(TRUE, 1)", 16, "arguments of coalesce have no common type (boolean and int)");
    assert_error("greatest(1, 2, DATE '2024-01-01')", 16, "(int and date)");
    assert_error("CASE WHEN a THEN TRUE ELSE 1.5 END", 28,
                 "CASE results have no common type (boolean and decimal(2,1))");
}

static void test_bad_date_and_timestamp_literals(void **state)
{
    (void)state;
    assert_error("d > DATE '2024-13-01'", 10, "invalid DATE literal '2024-13-01': month must be 01 to 12");
    assert_error("DATE '2023-02-29'", 6, "no such day in that month");
    assert_error("DATE '2024-1-5'", 6, "expected 'yyyy-mm-dd'");
    assert_error("DATE '0000-01-01'", 6, "year must be 0001 to 9999");
    assert_error("TIMESTAMP '2024-01-01 24:00:00'", 11, "time out of range");
    assert_error("TIMESTAMP '2024-01-01 10:00:00.1234567'", 11, "more than 6 fractional digits");
    assert_error("TIMESTAMP '2024-01-01 10:00:00 CET'", 11, "expected Z, UTC or an offset");
    assert_error("TIMESTAMP '2024-01-01 10:00+19:00'", 11, "offset must be +hh:mm within +-18:00");
    assert_error("TIMESTAMP '9999-12-31 23:00:00-05:00'", 11, "outside the years 0001 to 9999");
    assert_error("TIMESTAMP '2024-01-01 10'", 11, "expected hh:mm");
}

static void test_bad_casts_name_the_problem(void **state)
{
    (void)state;
    assert_error("CAST(x AS varchar)", 11, "unknown type 'varchar' (expected string, long,");
    assert_error("CAST(x AS decimal(0,0))", 19, "expected decimal precision from 1 to 38, found '0'");
    assert_error("CAST(x AS decimal(10,11))", 22, "expected decimal scale from 0 to 10");
    assert_error("CAST(x AS decimal(10,2)", 24, "expected ')' to close CAST(");
    assert_error("CAST(x int)", 8, "expected AS in CAST(x AS type), found 'int'");
    assert_error("CAST x", 6, "expected '(' after CAST");
    assert_error("CAST(x AS 1)", 11, "expected a type (string,");
}

static void test_case_errors_point_at_the_missing_word(void **state)
{
    (void)state;
    assert_error("CASE WHEN a THEN 1", 19, "expected WHEN, ELSE or END to close the CASE at column 1");
    assert_error("CASE WHEN a THEN 1 ELSE 2", 26, "expected END to close the CASE at column 1");
    assert_error("CASE WHEN a 1 END", 13, "expected THEN after the WHEN condition, found '1'");
    assert_error("CASE END", 6, "expected an expression, found 'END'");
    assert_error("CASE x ELSE 1 END", 8, "expected WHEN in CASE, found 'ELSE'");
}

static void test_quotes_comments_and_odd_characters_get_a_hint(void **state)
{
    (void)state;
    assert_error("name = \"bob\"", 8, "double quotes are not allowed: write 'text' for a string or `name`");
    assert_error("a --1", 3, "'--' starts a comment in SQL");
    assert_error("a /* x */", 3, "'/*' starts a comment in SQL");
    assert_error("a ! b", 3, "write NOT, or != for inequality");
    assert_error("a | b", 3, "write AND, OR, or || to concatenate");
    assert_error("a && b", 3, "write AND, OR");
    assert_error("a # b", 3, "unexpected character '#'");
    assert_error("a; comment", 2, "unexpected character ';'");
    assert_error("héllo", 2, "unexpected character 'é' (names with other than A-Z, 0-9 and _ need backquotes");
    assert_error("a.(", 3, "expected a field name after '.', found '('");
    assert_error("a.b(1)", 4, "function names have no '.'");
}

static void test_like_pattern_with_a_dangling_escape_is_refused(void **state)
{
    (void)state;
    assert_error("a LIKE 'x\\'", 8, "in a LIKE pattern '\\' must be followed by _, % or \\");
    assert_error("a NOT LIKE 'x\\y'", 12, "must be followed by _, % or \\");
    assert_parses_to("a LIKE 'x\\\\'", "(a LIKE 'x\\\\')");
    assert_parses_to("a RLIKE 'x\\d'", "(a RLIKE 'x\\d')");   /* regex escapes are the regex's */
}

static void test_columns_in_errors_count_characters_not_bytes(void **state)
{
    (void)state;
    assert_error("'é€' + )", 8, "expected an expression, found ')'");
    assert_error("`日本` = 'x' x", 12, "unexpected 'x'");
}

static void test_invalid_utf8_is_refused_where_it_is(void **state)
{
    (void)state;
    assert_error("'ab\xff'", 4, "invalid UTF-8 in string literal (byte 0xFF)");
    assert_error("`a\xc3(`", 3, "invalid UTF-8 in quoted name (byte 0xC3)");
    assert_error("a = \xc0\x80", 5, "invalid UTF-8 (byte 0xC0)");
    assert_error("'\xed\xa0\x80'", 2, "invalid UTF-8");          /* a surrogate */
    assert_error("'\xf4\x90\x80\x80'", 2, "invalid UTF-8");      /* above U+10FFFF */
    assert_error("'\xe2\x82'", 2, "invalid UTF-8");              /* cut short */
}

static void test_messages_escape_control_characters_and_stay_short(void **state)
{
    (void)state;
    assert_error("a \x01", 3, "unexpected character '\\x01'");
    assert_error("a 'x\x1by'", 3, "unexpected string 'x\\x1By'");
    char *s = repeat("a ", "b", 1000, "");
    char err[256];
    assert_null(ingest_expr_parse(s, err, sizeof err));
    assert_true(strlen(err) < 120);
    assert_non_null(strstr(err, "...'"));
    free(s);
}

static void test_small_or_missing_error_buffers_are_safe(void **state)
{
    (void)state;
    char err[8];
    memset(err, 'x', sizeof err);
    assert_null(ingest_expr_parse("a +", err, sizeof err));
    assert_string_equal(err, "at colu");
    assert_null(ingest_expr_parse("a +", NULL, 0));
    assert_null(ingest_expr_parse("a +", err, 0));
    err[0] = 'x';
    assert_null(ingest_expr_parse("to_dat(a)", err, 1));
    assert_int_equal(err[0], '\0');
    struct ingest_expr *e = ingest_expr_parse("a + 1", err, sizeof err);
    assert_non_null(e);
    assert_int_equal(err[0], '\0');                 /* cleared on success */
    ingest_expr_free(e);
    ingest_expr_free(NULL);
}

/* --- attacks ------------------------------------------------------------------------------- */

static void test_every_failed_allocation_is_reported_and_leaks_nothing(void **state)
{
    (void)state;
    const char *text =
        "CASE WHEN a.b IN (1, 2.5, 'x', `w n`) THEN concat(`w n`, lower(c), 'it''s') "
        "ELSE CAST(d AS decimal(10,2)) END IS NOT NULL AND ts BETWEEN DATE '2024-01-01' "
        "AND TIMESTAMP '2024-01-02 00:00:00' OR e NOT LIKE 'a%' AND coalesce(f, g, 1e3) > -5";
    int n;
    for (n = 1; n < 10000; n++) {
        char err[256];
        ingest_expr_test_fail_alloc(n);
        struct ingest_expr *e = ingest_expr_parse(text, err, sizeof err);
        ingest_expr_test_fail_alloc(0);
        if (e) {
            ingest_expr_free(e);
            break;
        }
        if (!strstr(err, "out of memory"))
            fail_msg("allocation %d failed but the error is \"%s\"", n, err);
    }
    assert_true(n > 40);          /* it did fail each of many allocations */
    assert_true(n < 10000);
}

/* Grammar-based random expressions, each with the text the printer must
 * give: the oracle for structure, spacing, case and parentheses. */
struct gen {
    struct ingest_buf src, want;
};

static void gen_word(struct gen *g, const char *word)
{
    /* keywords in random case in the source, upper case when printed */
    for (const char *c = word; *c; c++)
        ingest_buf_putc(&g->src, rnd(2) ? (char)(*c | 0x20) : *c);
    ingest_buf_puts(&g->want, word);
}

/* Any blank in the source; one space where the printer puts one. */
static void gen_space(struct gen *g)
{
    static const char *const spaces[] = { " ", "  ", "\t", " \n " };
    ingest_buf_puts(&g->src, spaces[rnd(4)]);
    ingest_buf_putc(&g->want, ' ');
}

static void gen_both(struct gen *g, const char *src, const char *want)
{
    ingest_buf_puts(&g->src, src);
    ingest_buf_puts(&g->want, want);
}

static void gen_value(struct gen *g, int depth);
static void gen_bool(struct gen *g, int depth);

static void gen_column(struct gen *g)
{
    static const char *const cols[][2] = {
        { "a", "a" }, { "b_2", "b_2" }, { "x.y", "x.y" }, { "`weird name`", "`weird name`" },
        { "`and`", "`and`" }, { "select", "select" }, { "date", "date" }, { "`x``y`", "`x``y`" },
    };
    int i = (int)rnd(sizeof cols / sizeof cols[0]);
    gen_both(g, cols[i][0], cols[i][1]);
}

static void gen_leaf(struct gen *g)
{
    static const char *const lits[][2] = {
        { "0", "0" }, { "42", "42" }, { "2147483648", "2147483648" }, { "1.50", "1.50" },
        { ".25", "0.25" }, { "10.", "10." }, { "2e3", "2000e0" }, { "1.5E-3", "0.0015e0" },
        { "'s'", "'s'" }, { "'it''s'", "'it''s'" }, { "''", "''" }, { "uuid()", "uuid()" },
    };
    if (rnd(2)) {
        gen_column(g);
        return;
    }
    int i = (int)rnd(sizeof lits / sizeof lits[0]);
    gen_both(g, lits[i][0], lits[i][1]);
}

/* "(" a op b ")": parentheses in the source keep the oracle simple; the
 * precedence tests above cover the unparenthesised forms. */
static void gen_infix(struct gen *g, int depth, int boolean_operands, const char *op)
{
    gen_both(g, "(", "(");
    (boolean_operands ? gen_bool : gen_value)(g, depth - 1);
    gen_space(g);
    if (op[0] >= 'A' && op[0] <= 'Z')
        gen_word(g, op);
    else
        gen_both(g, op, op);
    gen_space(g);
    (boolean_operands ? gen_bool : gen_value)(g, depth - 1);
    gen_both(g, ")", ")");
}

static void gen_call(struct gen *g, int depth)
{
    static const struct { const char *name; int nargs; } calls[] = {
        { "lower", 1 }, { "substring", 3 }, { "concat", 3 }, { "coalesce", 2 },
        { "abs", 1 }, { "round", 2 }, { "hash", 2 }, { "md5", 1 }, { "year", 1 },
        { "split_part", 3 }, { "nullif", 2 }, { "greatest", 1 },
    };
    int i = (int)rnd(sizeof calls / sizeof calls[0]);
    for (const char *c = calls[i].name; *c; c++)
        ingest_buf_putc(&g->src, rnd(2) && *c >= 'a' && *c <= 'z' ? (char)(*c - 'a' + 'A') : *c);
    ingest_buf_puts(&g->want, calls[i].name);
    gen_both(g, "(", "(");
    for (int a = 0; a < calls[i].nargs; a++) {
        if (a)
            gen_both(g, ",", ", ");
        gen_value(g, depth - 1);
    }
    gen_both(g, ")", ")");
}

static void gen_value(struct gen *g, int depth)
{
    static const char *const ops[] = { "+", "-", "*", "/", "%", "||" };
    if (depth <= 0) {
        gen_leaf(g);
        return;
    }
    switch (rnd(7)) {
    case 0: gen_leaf(g); break;
    case 1: gen_infix(g, depth, 0, ops[rnd(6)]); break;
    case 2:
        /* -(x): never directly before a digit, which would fold */
        gen_both(g, "-(", "(-");
        {
            /* minus over a bare integer prints as "(-(5))" */
            size_t at = g->want.len;
            gen_value(g, depth - 1);
            size_t n = g->want.len - at;
            if (strspn(g->want.data + at, "0123456789") == n) {
                char digits[32];
                snprintf(digits, sizeof digits, "(%.*s)", (int)n, g->want.data + at);
                g->want.len = at;
                ingest_buf_puts(&g->want, digits);
            }
        }
        gen_both(g, ")", ")");
        break;
    case 3: gen_call(g, depth); break;
    case 4:
        gen_both(g, "(", "(");
        gen_word(g, "CASE");
        gen_space(g);
        gen_word(g, "WHEN");
        gen_space(g);
        gen_bool(g, depth - 1);
        gen_space(g);
        gen_word(g, "THEN");
        gen_space(g);
        gen_value(g, depth - 1);
        gen_space(g);
        gen_word(g, "ELSE");
        gen_space(g);
        gen_value(g, depth - 1);
        gen_space(g);
        gen_word(g, "END");
        gen_both(g, ")", ")");
        break;
    case 5:
        gen_word(g, "CAST");
        gen_both(g, "(", "(");
        gen_value(g, depth - 1);
        gen_space(g);
        gen_word(g, "AS");
        gen_both(g, rnd(2) ? " BIGINT)" : " bigint)", " long)");
        break;
    default:
        gen_both(g, "((", "");
        gen_value(g, depth - 1);
        gen_both(g, "))", "");
        break;
    }
}

static void gen_bool(struct gen *g, int depth)
{
    static const char *const cmp[] = { "=", "!=", "<", "<=", ">", ">=" };
    if (depth <= 0) {
        gen_column(g);
        return;
    }
    switch (rnd(9)) {
    case 0: gen_column(g); break;
    case 1: gen_infix(g, depth, 0, cmp[rnd(6)]); break;
    case 2: gen_infix(g, depth, 1, rnd(2) ? "AND" : "OR"); break;
    case 3:
        gen_both(g, "(", "(");
        gen_word(g, "NOT");
        gen_space(g);
        gen_bool(g, depth - 1);
        gen_both(g, ")", ")");
        break;
    case 4:
        gen_both(g, "(", "(");
        gen_value(g, depth - 1);
        gen_space(g);
        gen_word(g, "IS");
        gen_space(g);
        if (rnd(2)) {
            gen_word(g, "NOT");
            gen_space(g);
        }
        gen_word(g, "NULL");
        gen_both(g, ")", ")");
        break;
    case 5:
        gen_both(g, "(", "(");
        gen_value(g, depth - 1);
        gen_space(g);
        gen_word(g, "IN");
        gen_both(g, " (", " (");
        gen_value(g, depth - 1);
        gen_both(g, ",", ", ");
        gen_value(g, depth - 1);
        gen_both(g, "))", "))");
        break;
    case 6:
        gen_both(g, "(", "(");
        gen_value(g, depth - 1);
        gen_space(g);
        gen_word(g, "BETWEEN");
        gen_space(g);
        gen_value(g, depth - 1);
        gen_space(g);
        gen_word(g, "AND");
        gen_space(g);
        gen_value(g, depth - 1);
        gen_both(g, ")", ")");
        break;
    case 7:
        gen_both(g, "(", "(");
        gen_value(g, depth - 1);
        gen_space(g);
        gen_word(g, rnd(2) ? "LIKE" : "RLIKE");
        gen_both(g, " 'p%'", " 'p%'");
        gen_both(g, ")", ")");
        break;
    default:
        gen_both(g, "regexp_like(", "regexp_like(");
        gen_value(g, depth - 1);
        gen_both(g, ", '^x')", ", '^x')");
        break;
    }
}

static void test_random_grammar_expressions_print_as_predicted(void **state)
{
    (void)state;
    int rounds = long_tests() ? 200000 : 3000, checked = 0;
    for (int i = 0; i < rounds; i++) {
        struct gen g = { INGEST_BUF_INIT, INGEST_BUF_INIT };
        char err[256];
        if (rnd(2))
            gen_bool(&g, (int)rnd(6));
        else
            gen_value(&g, (int)rnd(6));
        assert_false(g.src.oom || g.want.oom);
        struct ingest_expr *e = ingest_expr_parse(g.src.data, err, sizeof err);
        if (!e)
            fail_msg("round %d: \"%s\" did not parse: %s", i, g.src.data, err);
        char *got = format_of(e);
        if (strcmp(got, g.want.data) != 0)
            fail_msg("round %d: \"%s\"\n  printed \"%s\"\n  wanted  \"%s\"", i, g.src.data, got,
                     g.want.data);
        checked++;
        free(got);
        ingest_expr_free(e);
        got = parse_and_format(g.src.data, __FILE__, __LINE__);   /* round trip */
        free(got);
        ingest_buf_free(&g.src);
        ingest_buf_free(&g.want);
    }
    assert_true(checked > rounds / 2);
}

static void test_random_token_soup_never_crashes(void **state)
{
    (void)state;
    static const char *const toks[] = {
        "a", "b", "x.y", "`w n`", "1", "0", "9223372036854775807", "9223372036854775808",
        "1.5", ".5", "1e9", "'s'", "'it''s'", "TRUE", "NULL", "DATE '2024-02-29'",
        "TIMESTAMP '2024-01-01 10:00:00'", "date", "(", ")", ",", ".", "+", "-", "*", "/",
        "%", "||", "=", "==", "!=", "<>", "<", "<=", ">", ">=", "AND", "OR", "NOT", "IS",
        "IN", "BETWEEN", "LIKE", "RLIKE", "CASE", "WHEN", "THEN", "ELSE", "END", "CAST",
        "AS", "int", "decimal(10,2)", "to_date(", "coalesce(", "concat(", "if(",
        "current_timestamp", "uuid()", "'", "`", "\"", "é", "\x01", "\xff",
    };
    int rounds = long_tests() ? 1000000 : 30000, parsed = 0;
    for (int i = 0; i < rounds; i++) {
        struct ingest_buf b = INGEST_BUF_INIT;
        char err[256];
        int n = 1 + (int)rnd(12);
        for (int k = 0; k < n; k++) {
            ingest_buf_puts(&b, toks[rnd(sizeof toks / sizeof toks[0])]);
            if (rnd(3))
                ingest_buf_putc(&b, ' ');
        }
        struct ingest_expr *e = ingest_expr_parse(b.data, err, sizeof err);
        if (e) {
            parsed++;
            ingest_expr_free(e);
            free(parse_and_format(b.data, __FILE__, __LINE__));
        } else {
            int col = 0;
            if (sscanf(err, "at column %d: ", &col) != 1 || col < 1 || (size_t)col > b.len + 1)
                fail_msg("\"%s\": error without a sane column: \"%s\"", b.data, err);
        }
        ingest_buf_free(&b);
    }
    assert_true(parsed > 100);
}

static void test_random_bytes_never_crash(void **state)
{
    (void)state;
    int rounds = long_tests() ? 1000000 : 30000;
    for (int i = 0; i < rounds; i++) {
        char text[80], err[128];
        size_t n = rnd(sizeof text);
        for (size_t k = 0; k < n; k++) {
            /* mostly the characters the grammar uses, sometimes anything */
            static const char alphabet[] = "aZ_09.eE+-*/%|=<>!(),'` \t\n";
            text[k] = rnd(4) ? alphabet[rnd(sizeof alphabet - 1)] : (char)(1 + rnd(255));
        }
        text[n] = '\0';
        struct ingest_expr *e = ingest_expr_parse(text, err, sizeof err);
        if (e) {
            free(parse_and_format(text, __FILE__, __LINE__));
            ingest_expr_free(e);
        } else {
            assert_int_equal(strncmp(err, "at column ", 10), 0);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_precedence_and_binds_tighter_than_or),
        cmocka_unit_test(test_not_binds_looser_than_comparison_and_tighter_than_and),
        cmocka_unit_test(test_arithmetic_precedence_is_left_associative),
        cmocka_unit_test(test_comparison_binds_looser_than_concat_and_arithmetic),
        cmocka_unit_test(test_unary_minus_binds_tighter_than_multiplication),
        cmocka_unit_test(test_minus_before_integer_is_a_negative_literal),
        cmocka_unit_test(test_comparison_operators_in_every_spelling),
        cmocka_unit_test(test_is_null_in_between_like_and_their_negations),
        cmocka_unit_test(test_case_searched_and_simple_forms),
        cmocka_unit_test(test_cast_accepts_every_schema_type_and_aliases),
        cmocka_unit_test(test_keywords_and_function_names_are_case_insensitive),
        cmocka_unit_test(test_design_doc_expressions_parse),
        cmocka_unit_test(test_current_timestamp_and_current_date_need_no_parentheses),
        cmocka_unit_test(test_date_and_timestamp_are_columns_unless_a_string_follows),
        cmocka_unit_test(test_dotted_and_backquoted_names),
        cmocka_unit_test(test_string_literals_undo_doubled_quotes),
        cmocka_unit_test(test_integer_literals_are_int_or_long_by_size),
        cmocka_unit_test(test_decimal_literals_keep_exact_digits),
        cmocka_unit_test(test_double_literals_print_with_an_exponent),
        cmocka_unit_test(test_date_and_timestamp_literals_are_days_and_utc_micros),
        cmocka_unit_test(test_is_boolean_for_predicates_and_boolean_results_only),
        cmocka_unit_test(test_static_types_follow_the_function_rules),
        cmocka_unit_test(test_common_type_widens_like_spark),
        cmocka_unit_test(test_type_parse_reads_schema_types),
        cmocka_unit_test(test_function_table_describes_every_function),
        cmocka_unit_test(test_every_function_parses_at_its_arity_bounds),
        cmocka_unit_test(test_func_result_rules),
        cmocka_unit_test(test_columns_visits_every_reference_in_source_order),
        cmocka_unit_test(test_columns_stops_when_the_callback_says_so),
        cmocka_unit_test(test_walk_gives_the_columns_of_nodes_in_characters),
        cmocka_unit_test(test_unknown_function_is_an_error_with_column),
        cmocka_unit_test(test_unknown_function_suggests_the_right_name),
        cmocka_unit_test(test_wrong_arity_is_an_error_with_column),
        cmocka_unit_test(test_missing_parenthesis_names_what_it_closes),
        cmocka_unit_test(test_trailing_garbage_is_an_error),
        cmocka_unit_test(test_empty_expression_is_an_error),
        cmocka_unit_test(test_unterminated_quotes_point_at_the_opening_quote),
        cmocka_unit_test(test_integer_overflow_is_an_error),
        cmocka_unit_test(test_malformed_numbers_are_refused_whole),
        cmocka_unit_test(test_nesting_beyond_the_limit_is_an_error_not_a_crash),
        cmocka_unit_test(test_trees_at_the_depth_limit_print_in_a_form_that_reads_back),
        cmocka_unit_test(test_text_beyond_the_length_limit_is_an_error),
        cmocka_unit_test(test_chained_comparisons_are_refused),
        cmocka_unit_test(test_misplaced_not_and_is_name_what_was_expected),
        cmocka_unit_test(test_comparison_with_null_literal_is_refused),
        cmocka_unit_test(test_non_boolean_operands_of_logic_are_refused_when_known),
        cmocka_unit_test(test_arguments_without_a_common_type_are_refused),
        cmocka_unit_test(test_bad_date_and_timestamp_literals),
        cmocka_unit_test(test_bad_casts_name_the_problem),
        cmocka_unit_test(test_case_errors_point_at_the_missing_word),
        cmocka_unit_test(test_quotes_comments_and_odd_characters_get_a_hint),
        cmocka_unit_test(test_like_pattern_with_a_dangling_escape_is_refused),
        cmocka_unit_test(test_columns_in_errors_count_characters_not_bytes),
        cmocka_unit_test(test_invalid_utf8_is_refused_where_it_is),
        cmocka_unit_test(test_messages_escape_control_characters_and_stay_short),
        cmocka_unit_test(test_small_or_missing_error_buffers_are_safe),
        cmocka_unit_test(test_every_failed_allocation_is_reported_and_leaks_nothing),
        cmocka_unit_test(test_random_grammar_expressions_print_as_predicted),
        cmocka_unit_test(test_random_token_soup_never_crashes),
        cmocka_unit_test(test_random_bytes_never_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
