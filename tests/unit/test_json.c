/*
 * test_json.c - the exact-number JSON DOM reader (json.h): every value
 * type, exact int64 over the whole range, escapes and UTF-8, the precise
 * "offset N: what" message for each kind of malformed input, deep nesting,
 * documents bigger than one arena block, and real Delta log lines.
 *
 * Every input is parsed from a heap copy of exactly its length, freed
 * before the tree is looked at: ASan/valgrind catch a read past the end,
 * and a tree that pointed into the caller's text would be caught too.
 * The randomized test generates documents from a seed in two spellings -
 * the input (random whitespace, escapes in random forms) and the canonical
 * text - and requires that a tiny serializer here turns the parsed tree
 * back into exactly the canonical text.  The Delta lines come from the
 * shared golden tables ($INGESTD_SRC/../shared, else ./../shared); that
 * test skips when the directory is absent.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ingestd/buf.h"
#include "ingestd/error.h"
#include "ingestd/json.h"

/* --- helpers ---------------------------------------------------------------------- */

static char err[256];

/* Parses a heap copy of exactly len bytes, freed before returning. */
static int parse_n(const char *text, size_t len, struct ingest_json_doc *doc)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    memset(err, 'x', sizeof err - 1);           /* stale text must not survive */
    err[sizeof err - 1] = '\0';
    int rc = ingest_json_parse(copy, len, doc, err, sizeof err);
    memset(copy, '#', len);
    free(copy);
    return rc;
}

static void parse_ok(const char *text, struct ingest_json_doc *doc)
{
    int rc = parse_n(text, strlen(text), doc);
    if (rc != 0)
        fail_msg("parse of '%s' failed: %s", text, err);
    assert_non_null(doc->root);
}

/* The int64 reading of a document holding one number. */
static int int64_of(const char *text, int64_t *out)
{
    struct ingest_json_doc doc;
    parse_ok(text, &doc);
    int rc = ingest_json_int64(doc.root, out);
    ingest_json_doc_free(&doc);
    return rc;
}

static const struct ingest_json *at(const struct ingest_json *arr, size_t i)
{
    assert_non_null(arr);
    assert_int_equal(arr->type, INGEST_JSON_ARRAY);
    const struct ingest_json *e = arr->child;
    while (e && i--)
        e = e->next;
    assert_non_null(e);
    return e;
}

/* Refusal with exactly this message (offset included) and an empty doc. */
struct bad {
    const char *in;
    size_t len;                 /* 0: strlen(in) */
    const char *msg;
};

static void check_refused(const struct bad *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct ingest_json_doc doc;
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
        int rc = parse_n(cases[i].in, len, &doc);
        if (rc != INGEST_EPARSE || strcmp(err, cases[i].msg) != 0)
            fail_msg("case %zu: rc %d, message '%s', want '%s'", i, rc, err, cases[i].msg);
        assert_null(doc.root);
        assert_null(doc.arena);
    }
}

/* --- value types and structure ------------------------------------------------------ */

static void test_every_value_type_is_read(void **state)
{
    (void)state;
    struct ingest_json_doc doc;
    parse_ok("{\"n\":null,\"f\":false,\"t\":true,\"i\":42,\"d\":-1.5e3,"
             "\"s\":\"hi\",\"a\":[1,\"x\"],\"o\":{},\"e\":\"\"}", &doc);
    const struct ingest_json *r = doc.root;
    assert_int_equal(r->type, INGEST_JSON_OBJECT);
    assert_int_equal(r->count, 9);
    assert_null(r->key);

    assert_int_equal(ingest_json_get(r, "n")->type, INGEST_JSON_NULL);
    assert_int_equal(ingest_json_bool(ingest_json_get(r, "f")), 0);
    assert_int_equal(ingest_json_bool(ingest_json_get(r, "t")), 1);
    assert_int_equal(ingest_json_bool(ingest_json_get(r, "n")), -1);

    int64_t v;
    assert_int_equal(ingest_json_int64(ingest_json_get(r, "i"), &v), 0);
    assert_int_equal(v, 42);
    const struct ingest_json *d = ingest_json_get(r, "d");
    assert_int_equal(d->type, INGEST_JSON_NUMBER);
    assert_string_equal(d->str, "-1.5e3");
    assert_int_equal(d->len, 6);
    double x;
    assert_int_equal(ingest_json_double(d, &x), 0);
    assert_true(x == -1500.0);

    const struct ingest_json *s = ingest_json_get(r, "s");
    assert_string_equal(ingest_json_string(s), "hi");
    assert_int_equal(s->len, 2);
    assert_string_equal(s->key, "s");
    assert_int_equal(s->key_len, 1);
    assert_null(ingest_json_string(d));
    assert_string_equal(ingest_json_string(ingest_json_get(r, "e")), "");

    const struct ingest_json *a = ingest_json_get(r, "a");
    assert_int_equal(a->count, 2);
    assert_null(at(a, 0)->key);                 /* array elements have no name */
    assert_string_equal(at(a, 1)->str, "x");
    assert_null(at(a, 1)->next);
    const struct ingest_json *o = ingest_json_get(r, "o");
    assert_int_equal(o->type, INGEST_JSON_OBJECT);
    assert_int_equal(o->count, 0);
    assert_null(o->child);
    ingest_json_doc_free(&doc);
    assert_null(doc.root);
    assert_null(doc.arena);
}

static void test_scalars_stand_alone_with_whitespace(void **state)
{
    (void)state;
    static const struct { const char *in; enum ingest_json_type type; } cases[] = {
        { " \t\r\nnull\n", INGEST_JSON_NULL },  { "true", INGEST_JSON_TRUE },
        { "false ", INGEST_JSON_FALSE },        { "0", INGEST_JSON_NUMBER },
        { "\"\"", INGEST_JSON_STRING },         { " [ ] ", INGEST_JSON_ARRAY },
        { "{ }", INGEST_JSON_OBJECT },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ingest_json_doc doc;
        parse_ok(cases[i].in, &doc);
        assert_int_equal(doc.root->type, cases[i].type);
        assert_null(doc.root->next);
        ingest_json_doc_free(&doc);
    }
    struct ingest_json_doc doc;
    parse_ok(" { \"a\" : [ 1 , 2 ] , \"b\" :\t{ \"c\" : null } } ", &doc);
    assert_int_equal(ingest_json_get(doc.root, "a")->count, 2);
    assert_non_null(ingest_json_get(ingest_json_get(doc.root, "b"), "c"));
    ingest_json_doc_free(&doc);
}

static void test_nested_containers_keep_order_and_counts(void **state)
{
    (void)state;
    struct ingest_json_doc doc;
    parse_ok("[[],[[]],{\"a\":{\"b\":[1,{\"c\":\"deep\"}]}},3]", &doc);
    const struct ingest_json *r = doc.root;
    assert_int_equal(r->count, 4);
    assert_int_equal(at(r, 0)->count, 0);
    assert_null(at(r, 0)->child);
    assert_int_equal(at(r, 1)->count, 1);
    assert_int_equal(at(at(r, 1), 0)->type, INGEST_JSON_ARRAY);
    const struct ingest_json *b = ingest_json_get(ingest_json_get(at(r, 2), "a"), "b");
    assert_int_equal(b->count, 2);
    assert_string_equal(ingest_json_string(ingest_json_get(at(b, 1), "c")), "deep");
    assert_string_equal(at(r, 3)->str, "3");
    ingest_json_doc_free(&doc);
}

static void test_get_returns_first_match_and_tolerates_non_objects(void **state)
{
    (void)state;
    struct ingest_json_doc doc;
    parse_ok("{\"k\":1,\"kk\":2,\"k\":3,\"\":4,\"a\\u0000b\":5}", &doc);
    assert_string_equal(ingest_json_get(doc.root, "k")->str, "1");
    assert_string_equal(ingest_json_get(doc.root, "kk")->str, "2");
    assert_string_equal(ingest_json_get(doc.root, "")->str, "4");
    assert_null(ingest_json_get(doc.root, "K"));
    assert_null(ingest_json_get(doc.root, "a"));    /* "a\0b" is not "a" */
    assert_null(ingest_json_get(NULL, "k"));
    assert_null(ingest_json_get(ingest_json_get(doc.root, "k"), "k"));
    ingest_json_doc_free(&doc);

    parse_ok("[{\"k\":1}]", &doc);
    assert_null(ingest_json_get(doc.root, "k"));    /* arrays have no members */
    ingest_json_doc_free(&doc);
}

/* --- numbers ---------------------------------------------------------------------- */

static void test_int64_is_exact_over_the_whole_range(void **state)
{
    (void)state;
    static const struct { const char *in; int64_t want; } cases[] = {
        { "0", 0 },  { "-0", 0 },  { "7", 7 },  { "-7", -7 },
        { "9007199254740993", INT64_C(9007199254740993) },     /* 2^53 + 1 */
        { "-9007199254740993", -INT64_C(9007199254740993) },
        { "9223372036854775807", INT64_MAX },
        { "9223372036854775806", INT64_MAX - 1 },
        { "-9223372036854775808", INT64_MIN },
        { "-9223372036854775807", INT64_MIN + 1 },
        { "1697495744923", INT64_C(1697495744923) },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = 12345;
        assert_int_equal(int64_of(cases[i].in, &v), 0);
        if (v != cases[i].want)
            fail_msg("%s read as %" PRId64, cases[i].in, v);
    }
    /* The literal survives as written, past what a double holds. */
    struct ingest_json_doc doc;
    parse_ok("[9007199254740993,-0,12345678901234567890123]", &doc);
    assert_string_equal(at(doc.root, 0)->str, "9007199254740993");
    assert_string_equal(at(doc.root, 1)->str, "-0");
    assert_string_equal(at(doc.root, 2)->str, "12345678901234567890123");
    ingest_json_doc_free(&doc);
}

static void test_int64_out_of_range_is_erange(void **state)
{
    (void)state;
    static const char *cases[] = {
        "9223372036854775808", "-9223372036854775809", "18446744073709551615",
        "18446744073709551616", "-18446744073709551616", "100000000000000000000",
        "92233720368547758070",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = 12345;
        assert_int_equal(int64_of(cases[i], &v), INGEST_ERANGE);
        assert_int_equal(v, 12345);             /* untouched on failure */
    }
}

static void test_int64_refuses_fraction_exponent_and_non_numbers(void **state)
{
    (void)state;
    static const char *cases[] = {
        "1.0", "1e3", "1E3", "-0.0", "0e0", "1E+2", "1.5", "9223372036854775807e0",
    };
    int64_t v = 12345;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(int64_of(cases[i], &v), INGEST_EINVAL);
    assert_int_equal(v, 12345);

    struct ingest_json_doc doc;
    parse_ok("[\"1\",true,null]", &doc);
    for (size_t i = 0; i < 3; i++) {
        double x;
        assert_int_equal(ingest_json_int64(at(doc.root, i), &v), INGEST_EINVAL);
        assert_int_equal(ingest_json_double(at(doc.root, i), &x), INGEST_EINVAL);
    }
    assert_int_equal(ingest_json_int64(NULL, &v), INGEST_EINVAL);
    ingest_json_doc_free(&doc);
}

static void test_double_reads_any_number(void **state)
{
    (void)state;
    struct ingest_json_doc doc;
    parse_ok("[1e3,-0.25,1E-2,9007199254740993,0.1]", &doc);
    double want[] = { 1000.0, -0.25, 0.01, 9007199254740992.0, 0.1 };
    for (size_t i = 0; i < 5; i++) {
        double x = -1;
        assert_int_equal(ingest_json_double(at(doc.root, i), &x), 0);
        assert_true(x == want[i]);
    }
    assert_int_equal(ingest_json_double(NULL, &want[0]), INGEST_EINVAL);
    ingest_json_doc_free(&doc);
}

/* --- strings ---------------------------------------------------------------------- */

static void check_string(const char *json, const char *want, size_t want_len)
{
    struct ingest_json_doc doc;
    parse_ok(json, &doc);
    assert_int_equal(doc.root->type, INGEST_JSON_STRING);
    assert_int_equal(doc.root->len, want_len);
    assert_memory_equal(doc.root->str, want, want_len);
    assert_int_equal(doc.root->str[want_len], '\0');
    ingest_json_doc_free(&doc);
}

static void test_escapes_are_decoded(void **state)
{
    (void)state;
    check_string("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8);
    check_string("\"a\\u0041\\u00e9\\u20AC\\uFFFF\"", "aA\xc3\xa9\xe2\x82\xac\xef\xbf\xbf", 10);
    check_string("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4);          /* U+1F600 */
    check_string("\"\\uD800\\uDC00\\uDBFF\\uDFFF\"", "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 8);
    check_string("\"a\\u0000b\"", "a\0b", 3);
    check_string("\"\\u0000\"", "\0", 1);
    check_string("\"x\\u007f\\u0080\\u07ff\\u0800\"", "x\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80", 9);

    struct ingest_json_doc doc;
    parse_ok("{\"k\\u0041\\n\":1}", &doc);
    const struct ingest_json *m = ingest_json_get(doc.root, "kA\n");
    assert_non_null(m);
    assert_int_equal(m->key_len, 3);
    ingest_json_doc_free(&doc);
}

static void test_raw_utf8_is_kept_at_every_boundary(void **state)
{
    (void)state;
    /* U+0080, U+07FF, U+0800, U+D7FF, U+E000, U+FFFF, U+10000, U+10FFFF */
    static const char s[] = "\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"
                            "\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf";
    char json[64];
    snprintf(json, sizeof json, "\"%s\"", s);
    check_string(json, s, sizeof s - 1);
    /* A long string takes the eight-bytes-at-a-time path and its exits. */
    static const char want[] = "abcdefghijklmnopqrstuvwxyz0123456789\xc3\xa9-ABCDEFGH\t12345678";
    check_string("\"abcdefghijklmnopqrstuvwxyz0123456789\xc3\xa9-ABCDEFGH\\t12345678\"",
                 want, sizeof want - 1);
}

/* --- malformed input ---------------------------------------------------------------- */

static void test_grammar_errors_name_the_offset(void **state)
{
    (void)state;
    static const struct bad cases[] = {
        { "", 0, "offset 0: expected a value, found end of input" },
        { " \n\t", 0, "offset 3: expected a value, found end of input" },
        { "[", 0, "offset 1: expected a value, found end of input" },
        { "{", 0, "offset 1: expected a member name, found end of input" },
        { "[1", 0, "offset 2: expected ',' or ']' after array element, found end of input" },
        { "{\"a\":1", 0, "offset 6: expected ',' or '}' after object member, found end of input" },
        { "{\"a\"", 0, "offset 4: expected ':' after member name, found end of input" },
        { "{\"a\":", 0, "offset 5: expected a value, found end of input" },
        { "[1,]", 0, "offset 3: expected a value" },
        { "[,1]", 0, "offset 1: expected a value" },
        { "{\"a\":1,}", 0, "offset 7: expected a member name" },
        { "{,}", 0, "offset 1: expected a member name" },
        { "{1:2}", 0, "offset 1: expected a member name" },
        { "{'a':1}", 0, "offset 1: expected a member name" },
        { "{\"a\" 1}", 0, "offset 5: expected ':' after member name" },
        { "{\"a\"=1}", 0, "offset 4: expected ':' after member name" },
        { "[1 2]", 0, "offset 3: expected ',' or ']' after array element" },
        { "[1}", 0, "offset 2: expected ',' or ']' after array element" },
        { "{\"a\":1 \"b\":2}", 0, "offset 7: expected ',' or '}' after object member" },
        { "{\"a\":1]", 0, "offset 6: expected ',' or '}' after object member" },
        { "true false", 0, "offset 5: unexpected data after the value" },
        { "[1]x", 0, "offset 3: unexpected data after the value" },
        { "{}}", 0, "offset 2: unexpected data after the value" },
        { "1 2", 0, "offset 2: unexpected data after the value" },
        { "\"a\"\"b\"", 0, "offset 3: unexpected data after the value" },
        { "tru", 0, "offset 0: invalid literal, expected 'true'" },
        { "[nul]", 0, "offset 1: invalid literal, expected 'null'" },
        { "False", 0, "offset 0: expected a value" },
        { "NaN", 0, "offset 0: expected a value" },
        { "[Infinity]", 0, "offset 1: expected a value" },
        { "/* c */ 1", 0, "offset 0: expected a value" },
        { "\xef\xbb\xbf{}", 0, "offset 0: expected a value" },          /* a BOM */
        { "\v1", 0, "offset 0: expected a value" },
        { "[1,\x00]", 5, "offset 3: expected a value" },
        { "[1\x00]", 4, "offset 2: expected ',' or ']' after array element" },
    };
    check_refused(cases, sizeof cases / sizeof cases[0]);
}

static void test_number_syntax_errors_name_the_offset(void **state)
{
    (void)state;
    static const struct bad cases[] = {
        { "01", 0, "offset 0: leading zero in number" },
        { "-01", 0, "offset 1: leading zero in number" },
        { "[00]", 0, "offset 1: leading zero in number" },
        { "+1", 0, "offset 0: expected a value" },
        { ".5", 0, "offset 0: expected a value" },
        { "-", 0, "offset 1: expected a digit after '-', found end of input" },
        { "-a", 0, "offset 1: expected a digit after '-'" },
        { "- 1", 0, "offset 1: expected a digit after '-'" },
        { "-Infinity", 0, "offset 1: expected a digit after '-'" },
        { "1.", 0, "offset 2: expected a digit after '.', found end of input" },
        { "[1.]", 0, "offset 3: expected a digit after '.'" },
        { "1.e5", 0, "offset 2: expected a digit after '.'" },
        { "1e", 0, "offset 2: expected a digit in exponent, found end of input" },
        { "1e+", 0, "offset 3: expected a digit in exponent, found end of input" },
        { "[1E-x]", 0, "offset 4: expected a digit in exponent" },
        { "1.5x", 0, "offset 3: unexpected data after the value" },
        { "0x1F", 0, "offset 1: unexpected data after the value" },
        { "1.2.3", 0, "offset 3: unexpected data after the value" },
    };
    check_refused(cases, sizeof cases / sizeof cases[0]);
}

static void test_string_errors_name_the_offset(void **state)
{
    (void)state;
    static const struct bad cases[] = {
        { "\"abc", 0, "offset 0: unterminated string" },
        { "[\"abc\\\"]", 0, "offset 1: unterminated string" },
        { "\"\\", 0, "offset 0: unterminated string" },
        { "\"a\x01\"", 0, "offset 2: control character in string" },
        { "\"a\tb\"", 0, "offset 2: control character in string" },
        { "\"ab\x1f\"", 0, "offset 3: control character in string" },
        { "\"a\nb\"", 0, "offset 2: control character in string" },
        { "\"\x00\"", 3, "offset 1: control character in string" },
        { "\"\\x\"", 0, "offset 1: invalid escape" },
        { "\"ab\\'\"", 0, "offset 3: invalid escape" },
        { "\"\\U0041\"", 0, "offset 1: invalid escape" },
        { "\"\\\x01\"", 0, "offset 1: invalid escape" },
        { "\"\\u12G4\"", 0, "offset 1: invalid \\u escape" },
        { "\"\\u12\"", 0, "offset 1: invalid \\u escape" },
        { "\"\\u12", 0, "offset 1: invalid \\u escape" },
        { "\"\\ud800\"", 0, "offset 1: lone surrogate in \\u escape" },
        { "\"\\udc00\\ud800\"", 0, "offset 1: lone surrogate in \\u escape" },
        { "\"x\\uDFFF\"", 0, "offset 2: lone surrogate in \\u escape" },
        { "\"\\ud800\\u0041\"", 0, "offset 1: lone surrogate in \\u escape" },
        { "\"\\ud800\\ud800\"", 0, "offset 1: lone surrogate in \\u escape" },
        { "\"\\ud800\\n\"", 0, "offset 1: lone surrogate in \\u escape" },
        { "\"\\ud800", 0, "offset 1: lone surrogate in \\u escape" },
        { "\"\\ud800\\uZZZZ\"", 0, "offset 7: invalid \\u escape" },
        { "{\"a\\q\":1}", 0, "offset 3: invalid escape" },
        /* The first error in the text wins, even across the two checks. */
        { "\"\\q\x01\"", 0, "offset 1: invalid escape" },
        { "\"\x01\\q\"", 0, "offset 1: control character in string" },
    };
    check_refused(cases, sizeof cases / sizeof cases[0]);
}

static void test_invalid_utf8_is_refused(void **state)
{
    (void)state;
    static const struct bad cases[] = {
        { "\"\x80\"", 0, "offset 1: invalid UTF-8 in string" },            /* lone continuation */
        { "\"ab\xbf\"", 0, "offset 3: invalid UTF-8 in string" },
        { "\"\xc0\xaf\"", 0, "offset 1: invalid UTF-8 in string" },        /* overlong '/' */
        { "\"\xc1\xbf\"", 0, "offset 1: invalid UTF-8 in string" },        /* overlong */
        { "\"\xe0\x80\xaf\"", 0, "offset 1: invalid UTF-8 in string" },    /* overlong, 3 */
        { "\"\xe0\x9f\xbf\"", 0, "offset 1: invalid UTF-8 in string" },    /* overlong U+07FF */
        { "\"\xf0\x80\x80\xaf\"", 0, "offset 1: invalid UTF-8 in string" },/* overlong, 4 */
        { "\"\xf0\x8f\xbf\xbf\"", 0, "offset 1: invalid UTF-8 in string" },/* overlong U+FFFF */
        { "\"\xed\xa0\x80\"", 0, "offset 1: invalid UTF-8 in string" },    /* U+D800 */
        { "\"\xed\xbf\xbf\"", 0, "offset 1: invalid UTF-8 in string" },    /* U+DFFF */
        { "\"\xf4\x90\x80\x80\"", 0, "offset 1: invalid UTF-8 in string" },/* U+110000 */
        { "\"\xf5\x80\x80\x80\"", 0, "offset 1: invalid UTF-8 in string" },
        { "\"\xf8\x88\x80\x80\x80\"", 0, "offset 1: invalid UTF-8 in string" },
        { "\"\xfe\"", 0, "offset 1: invalid UTF-8 in string" },
        { "\"\xff\"", 0, "offset 1: invalid UTF-8 in string" },
        { "\"\xe2\x82\"", 0, "offset 1: invalid UTF-8 in string" },        /* truncated by '"' */
        { "\"x\xe2\x82", 0, "offset 2: invalid UTF-8 in string" },         /* truncated by end */
        { "\"\xf0\x9f\x98", 0, "offset 1: invalid UTF-8 in string" },
        { "\"\xc3", 0, "offset 1: invalid UTF-8 in string" },
        { "\"\xc3x\"", 0, "offset 1: invalid UTF-8 in string" },
        { "\"0123456789abcdef\xe9t\xe9\"", 0, "offset 17: invalid UTF-8 in string" }, /* Latin-1 */
        { "\xc3\xa9", 0, "offset 0: expected a value" },                     /* outside a string */
    };
    check_refused(cases, sizeof cases / sizeof cases[0]);
}

static void test_error_buffer_may_be_small_or_absent(void **state)
{
    (void)state;
    struct ingest_json_doc doc;
    char small[8];
    assert_int_equal(ingest_json_parse("[1,]", 4, &doc, small, sizeof small), INGEST_EPARSE);
    assert_string_equal(small, "offset ");
    assert_int_equal(ingest_json_parse("[1,]", 4, &doc, NULL, 0), INGEST_EPARSE);
    assert_int_equal(ingest_json_parse("[1,]", 4, &doc, small, 0), INGEST_EPARSE);
    assert_int_equal(ingest_json_parse(NULL, 0, &doc, small, sizeof small), INGEST_EPARSE);
    assert_null(doc.root);
    assert_int_equal(ingest_json_parse("1", 1, NULL, NULL, 0), INGEST_EINVAL);
    /* The length is obeyed, not a NUL: "12" of "123" is the number 12. */
    assert_int_equal(ingest_json_parse("123", 2, &doc, NULL, 0), 0);
    assert_string_equal(doc.root->str, "12");
    ingest_json_doc_free(&doc);
}

/* --- depth and size ---------------------------------------------------------------- */

static void test_nesting_to_512_is_accepted(void **state)
{
    (void)state;
    char text[1024];
    memset(text, '[', 512);
    memset(text + 512, ']', 512);
    struct ingest_json_doc doc;
    assert_int_equal(parse_n(text, 1024, &doc), 0);
    const struct ingest_json *n = doc.root;
    for (int d = 1; d < 512; d++) {
        assert_int_equal(n->count, 1);
        n = n->child;
    }
    assert_int_equal(n->type, INGEST_JSON_ARRAY);
    assert_int_equal(n->count, 0);
    ingest_json_doc_free(&doc);
}

static void test_deep_nesting_is_refused_without_crashing(void **state)
{
    (void)state;
    size_t n = 100000;
    char *text = malloc(n * 5);
    assert_non_null(text);
    struct ingest_json_doc doc;

    memset(text, '[', n);
    assert_int_equal(parse_n(text, n, &doc), INGEST_EPARSE);
    assert_string_equal(err, "offset 512: nesting deeper than 512");
    assert_null(doc.root);

    memset(text + 513, ']', 513);                       /* 513 deep, closed */
    assert_int_equal(parse_n(text, 1026, &doc), INGEST_EPARSE);
    assert_string_equal(err, "offset 512: nesting deeper than 512");

    for (size_t i = 0; i < n; i++)                      /* {"a":{"a":... */
        memcpy(text + 5 * i, "{\"a\":", 5);
    assert_int_equal(parse_n(text, n * 5, &doc), INGEST_EPARSE);
    assert_string_equal(err, "offset 2560: nesting deeper than 512");
    free(text);
}

/* Many nodes and strings bigger than a block: several arena blocks and
 * strings that get blocks of their own, all read back intact. */
static void test_large_document_spans_arena_blocks(void **state)
{
    (void)state;
    size_t nelem = 200000, big = 300000;
    struct ingest_buf b = INGEST_BUF_INIT;
    ingest_buf_puts(&b, "{\"nums\":[");
    for (size_t i = 0; i < nelem; i++)
        ingest_buf_printf(&b, "%s%zu", i ? "," : "", i * 7919);
    ingest_buf_puts(&b, "],\"big\":\"");
    for (size_t i = 0; i < big; i++)
        ingest_buf_putc(&b, (char)('a' + i % 26));
    ingest_buf_puts(&b, "\\n\",\"after\":true}");
    assert_false(b.oom);

    struct ingest_json_doc doc;
    assert_int_equal(parse_n(b.data, b.len, &doc), 0);
    const struct ingest_json *nums = ingest_json_get(doc.root, "nums");
    assert_int_equal(nums->count, nelem);
    size_t i = 0;
    for (const struct ingest_json *e = nums->child; e; e = e->next, i++) {
        int64_t v;
        assert_int_equal(ingest_json_int64(e, &v), 0);
        assert_int_equal(v, (int64_t)(i * 7919));
    }
    assert_int_equal(i, nelem);
    const struct ingest_json *s = ingest_json_get(doc.root, "big");
    assert_int_equal(s->len, big + 1);
    for (i = 0; i < big; i++)
        if (s->str[i] != (char)('a' + i % 26))
            fail_msg("big[%zu] = %c", i, s->str[i]);
    assert_int_equal(s->str[big], '\n');
    assert_int_equal(ingest_json_bool(ingest_json_get(doc.root, "after")), 1);
    ingest_json_doc_free(&doc);
    ingest_buf_free(&b);
}

static void test_doc_free_is_safe_on_zeroed_and_freed_docs(void **state)
{
    (void)state;
    struct ingest_json_doc doc = { 0 };
    ingest_json_doc_free(&doc);
    ingest_json_doc_free(NULL);
    parse_ok("{\"a\":[1,2,3]}", &doc);
    ingest_json_doc_free(&doc);
    assert_null(doc.root);
    assert_null(doc.arena);
    ingest_json_doc_free(&doc);                         /* twice */
    /* A failed parse leaves nothing to free, even over a used doc. */
    assert_int_equal(parse_n("[1,", 3, &doc), INGEST_EPARSE);
    assert_null(doc.root);
    assert_null(doc.arena);
    ingest_json_doc_free(&doc);
}

/* --- Delta log lines ---------------------------------------------------------------- */

static char *slurp_shared(const char *rel, size_t *len)
{
    const char *src = getenv("INGESTD_SRC");
    char path[4096];
    snprintf(path, sizeof path, "%s/../shared/%s", src && *src ? src : ".", rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc(n > 0 ? (size_t)n : 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

#define DELTA_LOG "data/delta-golden/checkpoint/_delta_log/"

static void test_delta_commit_lines_are_read(void **state)
{
    (void)state;
    size_t len;
    char *text = slurp_shared(DELTA_LOG "00000000000000000000.json", &len);
    if (!text)
        skip();
    struct ingest_json_doc doc[4];
    char *line = text;
    for (int i = 0; i < 4; i++) {
        char *nl = memchr(line, '\n', len - (size_t)(line - text));
        assert_non_null(nl);
        assert_int_equal(parse_n(line, (size_t)(nl - line), &doc[i]), 0);
        assert_int_equal(doc[i].root->count, 1);        /* one action per line */
        line = nl + 1;
    }
    int64_t v;
    const struct ingest_json *ci = ingest_json_get(doc[0].root, "commitInfo");
    assert_int_equal(ingest_json_int64(ingest_json_get(ci, "timestamp"), &v), 0);
    assert_int_equal(v, INT64_C(1697495744923));
    assert_string_equal(ingest_json_string(ingest_json_get(ci, "operation")), "Manual Update");
    assert_int_equal(ingest_json_get(ci, "operationParameters")->count, 0);
    assert_int_equal(ingest_json_bool(ingest_json_get(ci, "isBlindAppend")), 1);

    const struct ingest_json *pr = ingest_json_get(doc[1].root, "protocol");
    assert_int_equal(ingest_json_int64(ingest_json_get(pr, "minWriterVersion"), &v), 0);
    assert_int_equal(v, 2);

    /* schemaString is JSON inside a JSON string: unescape, then parse it. */
    const struct ingest_json *md = ingest_json_get(doc[2].root, "metaData");
    const struct ingest_json *ss = ingest_json_get(md, "schemaString");
    struct ingest_json_doc schema;
    assert_int_equal(parse_n(ss->str, ss->len, &schema), 0);
    const struct ingest_json *f0 = ingest_json_get(schema.root, "fields")->child;
    assert_string_equal(ingest_json_string(ingest_json_get(f0, "name")), "intCol");
    assert_string_equal(ingest_json_string(ingest_json_get(f0, "type")), "integer");
    ingest_json_doc_free(&schema);
    assert_int_equal(ingest_json_get(md, "partitionColumns")->type, INGEST_JSON_ARRAY);

    const struct ingest_json *add = ingest_json_get(doc[3].root, "add");
    assert_string_equal(ingest_json_string(ingest_json_get(add, "path")), "1");
    assert_int_equal(ingest_json_bool(ingest_json_get(add, "dataChange")), 1);
    for (int i = 0; i < 4; i++)
        ingest_json_doc_free(&doc[i]);

    /* The whole file is four values, not one: refused at the second line. */
    struct ingest_json_doc all;
    size_t first_nl = (size_t)((char *)memchr(text, '\n', len) - text);
    assert_int_equal(parse_n(text, len, &all), INGEST_EPARSE);
    char want[64];
    snprintf(want, sizeof want, "offset %zu: unexpected data after the value", first_nl + 1);
    assert_string_equal(err, want);
    free(text);
}

/* Every line of every commit in the golden log, and _last_checkpoint. */
static void test_whole_delta_log_is_read(void **state)
{
    (void)state;
    const char *src = getenv("INGESTD_SRC");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/../shared/" DELTA_LOG, src && *src ? src : ".");
    DIR *d = opendir(dir);
    if (!d)
        skip();
    int lines = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t nl = strlen(de->d_name), len;
        if (nl < 5 || strcmp(de->d_name + nl - 5, ".json") != 0)
            continue;
        char rel[512];
        snprintf(rel, sizeof rel, DELTA_LOG "%s", de->d_name);
        char *text = slurp_shared(rel, &len), *p = text, *end = text + len;
        assert_non_null(text);
        while (p < end) {
            char *e = memchr(p, '\n', (size_t)(end - p));
            e = e ? e : end;
            struct ingest_json_doc doc;
            if (parse_n(p, (size_t)(e - p), &doc) != 0)
                fail_msg("%s: %s", de->d_name, err);
            assert_int_equal(doc.root->type, INGEST_JSON_OBJECT);
            assert_int_equal(doc.root->count, 1);
            ingest_json_doc_free(&doc);
            lines++;
            p = e + 1;
        }
        free(text);
    }
    closedir(d);
    assert_true(lines >= 4);

    size_t len;
    char *text = slurp_shared(DELTA_LOG "_last_checkpoint", &len);
    assert_non_null(text);
    struct ingest_json_doc doc;
    assert_int_equal(parse_n(text, len, &doc), 0);
    int64_t v;
    assert_int_equal(ingest_json_int64(ingest_json_get(doc.root, "version"), &v), 0);
    assert_int_equal(v, 10);
    assert_int_equal(ingest_json_get(ingest_json_get(doc.root, "checkpointSchema"), "fields")->count, 6);
    ingest_json_doc_free(&doc);
    free(text);
}

/* --- randomized round trip ---------------------------------------------------------- */

struct gen {
    uint64_t s;
    struct ingest_buf in;       /* what is parsed */
    struct ingest_buf canon;    /* what the serializer must print */
};

static uint64_t rnd(struct gen *g)
{
    g->s ^= g->s >> 12;
    g->s ^= g->s << 25;
    g->s ^= g->s >> 27;
    return g->s * 0x2545f4914f6cdd1dull;
}

static unsigned pick(struct gen *g, unsigned n)
{
    return (unsigned)(rnd(g) % n);
}

static void both(struct gen *g, const char *s)
{
    ingest_buf_puts(&g->in, s);
    ingest_buf_puts(&g->canon, s);
}

static void gen_ws(struct gen *g)
{
    if (pick(g, 3) == 0)
        for (unsigned n = pick(g, 4); n; n--)
            ingest_buf_putc(&g->in, " \t\n\r"[pick(g, 4)]);
}

static void put_utf8(struct ingest_buf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | cp >> 12), u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
    } else {
        u[0] = (char)(0xf0 | cp >> 18), u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), u[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
    }
    ingest_buf_append(b, u, n);
}

static void put_u_escape(struct gen *g, uint32_t unit)
{
    ingest_buf_printf(&g->in, pick(g, 2) ? "\\u%04x" : "\\u%04X", (unsigned)unit);
}

/* One code point: spelled raw or escaped in `in`, canonically in `canon`. */
static void gen_char(struct gen *g)
{
    static const char short_esc[] = "\b\f\n\r\t";
    uint32_t cp;
    switch (pick(g, 10)) {
    case 0: cp = pick(g, 0x20); break;
    case 1: cp = (uint32_t)"\"\\/"[pick(g, 3)]; break;
    case 2: cp = 0x80 + pick(g, 0x800 - 0x80); break;
    case 3: cp = 0x800 + pick(g, 0x10000 - 0x800 - 0x800);
            cp += cp >= 0xd800 ? 0x800 : 0; break;      /* skip surrogates */
    case 4: cp = 0x10000 + pick(g, 0x110000 - 0x10000); break;
    default: cp = 0x20 + pick(g, 0x5f); break;
    }
    /* canonical: '"' and '\\' short-escaped, controls as \u00xx, rest raw */
    if (cp == '"' || cp == '\\')
        ingest_buf_printf(&g->canon, "\\%c", (char)cp);
    else if (cp < 0x20)
        ingest_buf_printf(&g->canon, "\\u%04x", (unsigned)cp);
    else
        put_utf8(&g->canon, cp);

    int escape = cp < 0x20 || cp == '"' || cp == '\\' || pick(g, 3) == 0;
    if (!escape) {
        put_utf8(&g->in, cp);
    } else if (cp && cp < 0x20 && strchr(short_esc, (int)cp) && pick(g, 2)) {
        ingest_buf_printf(&g->in, "\\%c", "bfnrt"[strchr(short_esc, (int)cp) - short_esc]);
    } else if ((cp == '"' || cp == '\\' || cp == '/') && pick(g, 2)) {
        ingest_buf_printf(&g->in, "\\%c", (char)cp);
    } else if (cp >= 0x10000) {
        put_u_escape(g, 0xd800 + ((cp - 0x10000) >> 10));
        put_u_escape(g, 0xdc00 + ((cp - 0x10000) & 0x3ff));
    } else {
        put_u_escape(g, cp);
    }
}

static void gen_string(struct gen *g)
{
    unsigned n = pick(g, 4) ? pick(g, 6) : pick(g, 40);
    both(g, "\"");
    for (unsigned i = 0; i < n; i++)
        gen_char(g);
    both(g, "\"");
}

static void gen_number(struct gen *g)
{
    char t[80];
    size_t k = 0;
    if (pick(g, 3) == 0)
        t[k++] = '-';
    if (pick(g, 4) == 0) {
        t[k++] = '0';
    } else {
        t[k++] = (char)('1' + pick(g, 9));
        for (unsigned n = pick(g, 4) ? pick(g, 4) : pick(g, 25); n; n--)
            t[k++] = (char)('0' + pick(g, 10));
    }
    if (pick(g, 3) == 0) {
        t[k++] = '.';
        for (unsigned n = 1 + pick(g, 6); n; n--)
            t[k++] = (char)('0' + pick(g, 10));
    }
    if (pick(g, 4) == 0) {
        t[k++] = "eE"[pick(g, 2)];
        unsigned sign = pick(g, 3);
        if (sign)
            t[k++] = "+-"[sign - 1];
        for (unsigned n = 1 + pick(g, 3); n; n--)
            t[k++] = (char)('0' + pick(g, 10));
    }
    t[k] = '\0';
    both(g, t);
}

static void gen_value(struct gen *g, int depth)
{
    unsigned kind = pick(g, depth >= 5 ? 5 : 8);
    switch (kind) {
    case 0: both(g, "null"); return;
    case 1: both(g, pick(g, 2) ? "true" : "false"); return;
    case 2: gen_number(g); return;
    case 3: case 4: gen_string(g); return;
    }
    int obj = kind >= 6;
    unsigned n = pick(g, 5);
    both(g, obj ? "{" : "[");
    for (unsigned i = 0; i < n; i++) {
        if (i)
            both(g, ",");
        gen_ws(g);
        if (obj) {
            gen_string(g);
            gen_ws(g);
            both(g, ":");
            gen_ws(g);
        }
        gen_value(g, depth + 1);
        gen_ws(g);
    }
    if (!n)
        gen_ws(g);
    both(g, obj ? "}" : "]");
}

/* The tiny serializer: compact, strings escaped as gen_char's canon does. */
static void ser_string(struct ingest_buf *b, const char *s, size_t len)
{
    assert_int_equal(s[len], '\0');
    ingest_buf_putc(b, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            ingest_buf_printf(b, "\\%c", c);
        else if (c < 0x20)
            ingest_buf_printf(b, "\\u%04x", c);
        else
            ingest_buf_putc(b, (char)c);
    }
    ingest_buf_putc(b, '"');
}

static void ser(struct ingest_buf *b, const struct ingest_json *n)
{
    size_t count = 0;
    switch (n->type) {
    case INGEST_JSON_NULL: ingest_buf_puts(b, "null"); return;
    case INGEST_JSON_FALSE: ingest_buf_puts(b, "false"); return;
    case INGEST_JSON_TRUE: ingest_buf_puts(b, "true"); return;
    case INGEST_JSON_NUMBER:
        assert_int_equal(strlen(n->str), n->len);
        ingest_buf_append(b, n->str, n->len);
        return;
    case INGEST_JSON_STRING: ser_string(b, n->str, n->len); return;
    case INGEST_JSON_ARRAY:
    case INGEST_JSON_OBJECT:
        ingest_buf_putc(b, n->type == INGEST_JSON_ARRAY ? '[' : '{');
        for (const struct ingest_json *c = n->child; c; c = c->next, count++) {
            if (c != n->child)
                ingest_buf_putc(b, ',');
            if (n->type == INGEST_JSON_OBJECT) {
                ser_string(b, c->key, c->key_len);
                ingest_buf_putc(b, ':');
            } else {
                assert_null(c->key);
            }
            ser(b, c);
        }
        assert_int_equal(count, n->count);
        ingest_buf_putc(b, n->type == INGEST_JSON_ARRAY ? ']' : '}');
        return;
    }
    fail_msg("node type %d", (int)n->type);
}

static void test_random_documents_round_trip(void **state)
{
    (void)state;
    struct gen g = { 0, INGEST_BUF_INIT, INGEST_BUF_INIT };
    struct ingest_buf out = INGEST_BUF_INIT;
    for (uint64_t seed = 1; seed <= 3000; seed++) {
        g.s = seed * 0x9e3779b97f4a7c15ull;
        ingest_buf_reset(&g.in);
        ingest_buf_reset(&g.canon);
        gen_ws(&g);
        gen_value(&g, 0);
        gen_ws(&g);
        assert_false(g.in.oom || g.canon.oom);

        struct ingest_json_doc doc;
        if (parse_n(g.in.data, g.in.len, &doc) != 0)
            fail_msg("seed %" PRIu64 ": %s\n%s", seed, err, g.in.data);
        ingest_buf_reset(&out);
        ser(&out, doc.root);
        ingest_json_doc_free(&doc);
        if (out.len != g.canon.len || memcmp(out.data, g.canon.data, out.len) != 0)
            fail_msg("seed %" PRIu64 ":\n in    %s\n want  %s\n got   %s",
                     seed, g.in.data, g.canon.data, out.data);

        /* A container cut short anywhere before its last byte is refused. */
        if (seed % 10 == 0 && (g.canon.data[0] == '[' || g.canon.data[0] == '{')) {
            size_t last = g.in.len;
            while (strchr(" \t\n\r", g.in.data[last - 1]))
                last--;
            for (size_t cut = 0; cut < last; cut++)
                if (parse_n(g.in.data, cut, &doc) != INGEST_EPARSE)
                    fail_msg("seed %" PRIu64 ": prefix %zu accepted", seed, cut);
        }
    }
    ingest_buf_free(&g.in);
    ingest_buf_free(&g.canon);
    ingest_buf_free(&out);
}

/* Mutated documents: each byte flip must give a clean success or a clean
 * refusal (the sanitizers watch the rest). */
static void test_random_mutations_fail_cleanly(void **state)
{
    (void)state;
    struct gen g = { 0, INGEST_BUF_INIT, INGEST_BUF_INIT };
    static const char bytes[] = "[]{}\",:\\u0e-+.1 \x01\x80\xc3\xed\xf4\xff";
    for (uint64_t seed = 1; seed <= 300; seed++) {
        g.s = seed * 0x2545f4914f6cdd1dull;
        ingest_buf_reset(&g.in);
        ingest_buf_reset(&g.canon);
        gen_value(&g, 0);
        for (int m = 0; m < 20; m++) {
            char *copy = malloc(g.in.len);
            assert_non_null(copy);
            memcpy(copy, g.in.data, g.in.len);
            copy[pick(&g, (unsigned)g.in.len)] = bytes[pick(&g, sizeof bytes - 1)];
            struct ingest_json_doc doc;
            int rc = parse_n(copy, g.in.len, &doc);
            if (rc == 0)
                ingest_json_doc_free(&doc);
            else if (rc != INGEST_EPARSE || strncmp(err, "offset ", 7) != 0)
                fail_msg("seed %" PRIu64 ": rc %d '%s'", seed, rc, err);
            free(copy);
        }
    }
    ingest_buf_free(&g.in);
    ingest_buf_free(&g.canon);
}

static void test_random_int64_values_read_back_exactly(void **state)
{
    (void)state;
    struct gen g = { 0x1234567, INGEST_BUF_INIT, INGEST_BUF_INIT };
    for (int i = 0; i < 20000; i++) {
        int64_t want = (int64_t)(rnd(&g) >> pick(&g, 64)), got;
        if (pick(&g, 2) && want != INT64_MIN)
            want = -want;
        if (i < 200)                                    /* the ends of the range */
            want = i % 2 ? INT64_MAX - i / 2 : INT64_MIN + i / 2;
        char text[32];
        snprintf(text, sizeof text, "%" PRId64, want);
        assert_int_equal(int64_of(text, &got), 0);
        if (got != want)
            fail_msg("%s read as %" PRId64, text, got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_value_type_is_read),
        cmocka_unit_test(test_scalars_stand_alone_with_whitespace),
        cmocka_unit_test(test_nested_containers_keep_order_and_counts),
        cmocka_unit_test(test_get_returns_first_match_and_tolerates_non_objects),
        cmocka_unit_test(test_int64_is_exact_over_the_whole_range),
        cmocka_unit_test(test_int64_out_of_range_is_erange),
        cmocka_unit_test(test_int64_refuses_fraction_exponent_and_non_numbers),
        cmocka_unit_test(test_double_reads_any_number),
        cmocka_unit_test(test_escapes_are_decoded),
        cmocka_unit_test(test_raw_utf8_is_kept_at_every_boundary),
        cmocka_unit_test(test_grammar_errors_name_the_offset),
        cmocka_unit_test(test_number_syntax_errors_name_the_offset),
        cmocka_unit_test(test_string_errors_name_the_offset),
        cmocka_unit_test(test_invalid_utf8_is_refused),
        cmocka_unit_test(test_error_buffer_may_be_small_or_absent),
        cmocka_unit_test(test_nesting_to_512_is_accepted),
        cmocka_unit_test(test_deep_nesting_is_refused_without_crashing),
        cmocka_unit_test(test_large_document_spans_arena_blocks),
        cmocka_unit_test(test_doc_free_is_safe_on_zeroed_and_freed_docs),
        cmocka_unit_test(test_delta_commit_lines_are_read),
        cmocka_unit_test(test_whole_delta_log_is_read),
        cmocka_unit_test(test_random_documents_round_trip),
        cmocka_unit_test(test_random_mutations_fail_cleanly),
        cmocka_unit_test(test_random_int64_values_read_back_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
