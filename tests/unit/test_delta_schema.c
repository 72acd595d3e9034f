/*
 * test_delta_schema.c - Delta schema JSON (daemon/delta/dl_schema.c): what
 * we write, what we read (every table in ../shared/data/delta-golden, which
 * Spark wrote), the errors for what we cannot read, and the evolution rule
 * a pipeline's schema is merged into a table's schema by.
 *
 * Schemas in the tests are written as Delta JSON with the COL/STRUCT/ARRAY/
 * MAP macros below, so a test reads like the schemaString it is about, and
 * a merged schema is checked by comparing its JSON with the expected text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ingestd/batch.h"
#include "ingestd/buf.h"
#include "ingestd/error.h"
#include "ingestd/json.h"
#include "vecbuild.h"
#include "../../daemon/delta/dl_schema.h"

/* Delta schema JSON, exactly as Spark (and we) write it. */
#define COL(name, type, nl) \
    "{\"name\":\"" name "\",\"type\":" type ",\"nullable\":" nl ",\"metadata\":{}}"
#define STRUCT(fields) "{\"type\":\"struct\",\"fields\":[" fields "]}"
#define ARRAY(elem, nl) "{\"type\":\"array\",\"elementType\":" elem ",\"containsNull\":" nl "}"
#define MAP(k, v, nl) \
    "{\"type\":\"map\",\"keyType\":" k ",\"valueType\":" v ",\"valueContainsNull\":" nl "}"
#define T "true"
#define N "false"
#define Q(s) "\"" s "\""

/* --- helpers ------------------------------------------------------------------------- */

static void parse_ok(const char *json, struct ingest_schema *s)
{
    char err[256] = "";
    int rc = dl_schema_from_json(json, strlen(json), s, err, sizeof err);
    if (rc != 0)
        fail_msg("from_json: rc %d (%s): %s\n  input %s", rc, ingest_err_name(rc), err, json);
}

/* The schema's JSON; the caller frees it. */
static char *to_json(const struct ingest_schema *s)
{
    struct ingest_buf b = INGEST_BUF_INIT;
    assert_int_equal(dl_schema_to_json(s, &b), 0);
    return ingest_buf_steal(&b);
}

static void assert_round_trip(const char *json)
{
    struct ingest_schema s;
    parse_ok(json, &s);
    char *back = to_json(&s);
    if (strcmp(back, json) != 0)
        fail_msg("round trip changed the schema:\n  in  %s\n  out %s", json, back);
    free(back);
    ingest_schema_free(&s);
}

/* from_json fails with rc and an error containing every needle. */
static void assert_parse_fails(const char *json, int rc, const char *needle, const char *needle2)
{
    struct ingest_schema s;
    char err[256] = "";
    memset(&s, 0xab, sizeof s);
    int got = dl_schema_from_json(json, strlen(json), &s, err, sizeof err);
    if (got != rc)
        fail_msg("from_json %s: rc %s, want %s (err: %s)", json, ingest_err_name(got),
                 ingest_err_name(rc), err);
    if (!strstr(err, needle) || (needle2 && !strstr(err, needle2)))
        fail_msg("from_json %s: error '%s' does not name '%s'%s%s", json, err, needle,
                 needle2 ? " and " : "", needle2 ? needle2 : "");
    assert_null(s.fields);
    assert_int_equal(s.nfields, 0);
}

struct merge_case {
    const char *have, *want;
    int rc;
    const char *out;        /* rc 1: the merged JSON; rc < 0: the exact error text */
};

static void check_merge(const struct merge_case *c)
{
    struct ingest_schema have, want, merged;
    char err[256] = "";
    parse_ok(c->have, &have);
    parse_ok(c->want, &want);
    memset(&merged, 0xab, sizeof merged);
    struct ingest_schema untouched = merged;
    int rc = dl_schema_merge(&have, &want, &merged, err, sizeof err);
    if (rc != c->rc)
        fail_msg("merge: rc %d, want %d (err: %s)\n  have %s\n  want %s", rc, c->rc, err,
                 c->have, c->want);
    if (rc == 1) {
        /* The result owns its memory: the inputs go first. */
        ingest_schema_free(&have);
        ingest_schema_free(&want);
        char *got = to_json(&merged);
        if (strcmp(got, c->out) != 0)
            fail_msg("merged schema:\n  got  %s\n  want %s", got, c->out);
        free(got);
        ingest_schema_free(&merged);
        return;
    }
    assert_memory_equal(&merged, &untouched, sizeof merged);
    if (rc < 0 && strcmp(err, c->out) != 0)
        fail_msg("merge error:\n  got  '%s'\n  want '%s'", err, c->out);
    ingest_schema_free(&have);
    ingest_schema_free(&want);
}

/* --- writing ------------------------------------------------------------------------- */

static struct ingest_field w_elem[] = { F("element", INGEST_TYPE_STRING, 0) };
static struct ingest_field w_kv[] = { F("key", INGEST_TYPE_STRING, 0),
                                      FD("value", 38, 10, 1) };
static struct ingest_field w_inner[] = { F("x", INGEST_TYPE_INT64, 1),
                                         F("y", INGEST_TYPE_BINARY, 0) };
static struct ingest_field w_fields[] = {
    F("b", INGEST_TYPE_BOOLEAN, 1),   F("i8", INGEST_TYPE_INT8, 1),
    F("i16", INGEST_TYPE_INT16, 1),   F("i32", INGEST_TYPE_INT32, 0),
    F("i64", INGEST_TYPE_INT64, 1),   F("f", INGEST_TYPE_FLOAT, 1),
    F("d", INGEST_TYPE_DOUBLE, 1),    F("s", INGEST_TYPE_STRING, 1),
    F("bin", INGEST_TYPE_BINARY, 1),  F("dt", INGEST_TYPE_DATE, 1),
    F("ts", INGEST_TYPE_TIMESTAMP, 1), FD("amount", 10, 2, 1),
    FG("tags", INGEST_TYPE_LIST, 1, w_elem),
    FG("attrs", INGEST_TYPE_MAP, 0, w_kv),
    FG("st", INGEST_TYPE_STRUCT, 1, w_inner),
    F("quote\"d", INGEST_TYPE_STRING, 1),
};

static void test_to_json_writes_spark_layout(void **state)
{
    (void)state;
    struct ingest_schema s = { w_fields, sizeof w_fields / sizeof w_fields[0] };
    char *got = to_json(&s);
    const char *want = STRUCT(
        COL("b", Q("boolean"), T) "," COL("i8", Q("byte"), T) "," COL("i16", Q("short"), T) ","
        COL("i32", Q("integer"), N) "," COL("i64", Q("long"), T) "," COL("f", Q("float"), T) ","
        COL("d", Q("double"), T) "," COL("s", Q("string"), T) "," COL("bin", Q("binary"), T) ","
        COL("dt", Q("date"), T) "," COL("ts", Q("timestamp"), T) ","
        COL("amount", Q("decimal(10,2)"), T) ","
        COL("tags", ARRAY(Q("string"), N), T) ","
        COL("attrs", MAP(Q("string"), Q("decimal(38,10)"), T), N) ","
        COL("st", STRUCT(COL("x", Q("long"), T) "," COL("y", Q("binary"), N)), T) ","
        COL("quote\\\"d", Q("string"), T));
    assert_string_equal(got, want);
    free(got);
}

static void test_to_json_appends_to_the_buffer(void **state)
{
    (void)state;
    struct ingest_schema s = { w_fields, 1 };
    struct ingest_buf b = INGEST_BUF_INIT;
    ingest_buf_puts(&b, "x=");
    assert_int_equal(dl_schema_to_json(&s, &b), 0);
    assert_string_equal(b.data, "x=" STRUCT(COL("b", Q("boolean"), T)));
    ingest_buf_free(&b);

    struct ingest_schema none = { NULL, 0 };
    char *got = to_json(&none);
    assert_string_equal(got, STRUCT(""));
    free(got);
}

static void test_to_json_refuses_what_delta_cannot_hold(void **state)
{
    (void)state;
    static struct ingest_field dup[] = { F("id", INGEST_TYPE_INT64, 1),
                                         F("ID", INGEST_TYPE_STRING, 1) };
    static struct ingest_field dup_kids[] = { F("a", INGEST_TYPE_INT64, 1),
                                              F("A", INGEST_TYPE_INT64, 1) };
    static struct ingest_field nested_dup[] = { FG("s", INGEST_TYPE_STRUCT, 1, dup_kids) };
    static struct ingest_field bad_dec[] = { FD("x", 39, 2, 1) };
    static struct ingest_field bad_scale[] = { FD("x", 5, 6, 1) };
    static struct ingest_field no_elem[] = { { .name = (char *)"l", .type = INGEST_TYPE_LIST,
                                               .nullable = 1 } };
    struct ingest_schema cases[] = {
        { dup, 2 }, { nested_dup, 1 }, { bad_dec, 1 }, { bad_scale, 1 }, { no_elem, 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ingest_buf b = INGEST_BUF_INIT;
        if (dl_schema_to_json(&cases[i], &b) != INGEST_EINVAL)
            fail_msg("case %zu: accepted as %s", i, b.data ? b.data : "");
        ingest_buf_free(&b);
    }
}

/* --- reading ------------------------------------------------------------------------- */

static void test_round_trip_every_type(void **state)
{
    (void)state;
    assert_round_trip(STRUCT(""));
    assert_round_trip(STRUCT(
        COL("b", Q("boolean"), T) "," COL("i8", Q("byte"), N) "," COL("i16", Q("short"), T) ","
        COL("i32", Q("integer"), T) "," COL("i64", Q("long"), N) "," COL("f", Q("float"), T) ","
        COL("d", Q("double"), T) "," COL("s", Q("string"), T) "," COL("bin", Q("binary"), T) ","
        COL("dt", Q("date"), T) "," COL("ts", Q("timestamp"), T) ","
        COL("d1", Q("decimal(1,0)"), T) "," COL("d18", Q("decimal(18,18)"), T) ","
        COL("d38", Q("decimal(38,10)"), N)));
}

static void test_round_trip_nested(void **state)
{
    (void)state;
    assert_round_trip(STRUCT(
        COL("id", Q("long"), N) ","
        COL("events", ARRAY(STRUCT(COL("at", Q("timestamp"), N) ","
                                   COL("amount", Q("decimal(38,10)"), T) ","
                                   COL("tags", ARRAY(Q("string"), N), T)), T), T) ","
        COL("attrs", MAP(Q("string"), ARRAY(Q("long"), T), N), T) ","
        COL("by_key", MAP(Q("integer"), STRUCT(COL("ab", Q("long"), T)), T), N) ","
        COL("grid", ARRAY(ARRAY(Q("double"), T), N), T) ","
        COL("deep", STRUCT(COL("a", STRUCT(COL("b", STRUCT(COL("c", Q("date"), T)), T)), T)), T) ","
        COL("\xc3\xa9t\xc3\xa9 \\\"q\\\"", Q("string"), T)));
}

static void test_from_json_builds_the_batch_schema(void **state)
{
    (void)state;
    struct ingest_schema s;
    parse_ok(STRUCT(COL("Price", Q("decimal( 20 , 4 )"), N) ","
                    COL("tags", ARRAY(Q("string"), N), T) ","
                    COL("m", MAP(Q("string"), Q("long"), T), T) ","
                    COL("plain", Q("decimal"), T)),
             &s);
    assert_int_equal(s.nfields, 4);
    assert_string_equal(s.fields[0].name, "Price");
    assert_int_equal(s.fields[0].type, INGEST_TYPE_DECIMAL);
    assert_int_equal(s.fields[0].precision, 20);
    assert_int_equal(s.fields[0].scale, 4);
    assert_false(s.fields[0].nullable);
    const struct ingest_field *l = &s.fields[1], *m = &s.fields[2];
    assert_int_equal(l->type, INGEST_TYPE_LIST);
    assert_int_equal(l->nchildren, 1);
    assert_string_equal(l->children[0].name, "element");
    assert_false(l->children[0].nullable);
    assert_int_equal(m->type, INGEST_TYPE_MAP);
    assert_int_equal(m->nchildren, 2);
    assert_string_equal(m->children[0].name, "key");
    assert_false(m->children[0].nullable);
    assert_string_equal(m->children[1].name, "value");
    assert_true(m->children[1].nullable);
    assert_int_equal(m->children[1].type, INGEST_TYPE_INT64);
    /* Spark's "decimal" alone is decimal(10,0). */
    assert_int_equal(s.fields[3].precision, 10);
    assert_int_equal(s.fields[3].scale, 0);
    ingest_schema_free(&s);
}

static void test_from_json_ignores_metadata_and_member_order(void **state)
{
    (void)state;
    struct ingest_schema s;
    parse_ok("{\"fields\":[{\"metadata\":{\"comment\":\"x\",\"delta.generationExpression\":"
             "\"1\"},\"nullable\":false,\"type\":\"long\",\"name\":\"id\"}],\"type\":\"struct\"}",
             &s);
    char *back = to_json(&s);
    assert_string_equal(back, STRUCT(COL("id", Q("long"), N)));
    free(back);
    ingest_schema_free(&s);
}

static void test_from_json_names_what_is_wrong(void **state)
{
    (void)state;
    assert_parse_fails("{\"type\":\"struct\",\"fields\":[", INGEST_EPARSE, "schema JSON", NULL);
    assert_parse_fails("[]", INGEST_EPARSE, "not a struct", NULL);
    assert_parse_fails("{\"type\":\"struct\"}", INGEST_EPARSE, "without fields", NULL);
    assert_parse_fails(STRUCT("{\"name\":\"payload\",\"type\":" STRUCT(
                           "{\"name\":\"items\",\"type\":{\"type\":\"array\",\"containsNull\":"
                           "true},\"nullable\":true}") ",\"nullable\":true}"),
                       INGEST_EPARSE, "field payload.items: missing elementType", NULL);
    assert_parse_fails(STRUCT("{\"name\":\"a\",\"type\":\"long\"}"), INGEST_EPARSE,
                       "field a: missing nullable", NULL);
    assert_parse_fails(STRUCT("{\"name\":\"a\",\"type\":\"long\",\"nullable\":1}"),
                       INGEST_EPARSE, "field a: nullable is not a boolean", NULL);
    assert_parse_fails(STRUCT("{\"type\":\"long\",\"nullable\":true}"), INGEST_EPARSE,
                       "without name", NULL);
    assert_parse_fails(STRUCT(COL("a", "7", T)), INGEST_EPARSE, "field a:", "type");
    assert_parse_fails(STRUCT(COL("m", "{\"type\":\"map\",\"keyType\":\"string\","
                                       "\"valueType\":\"long\"}", T)),
                       INGEST_EPARSE, "field m: missing valueContainsNull", NULL);
    assert_parse_fails(STRUCT(COL("x", ARRAY(Q("decimal(39,0)"), T), T)), INGEST_EPARSE,
                       "field x.element:", "decimal(39,0)");
    assert_parse_fails(STRUCT(COL("x", Q("decimal(5,6)"), T)), INGEST_EPARSE, "decimal(5,6)",
                       NULL);
    assert_parse_fails(STRUCT(COL("x", Q("decimal(10,"), T)), INGEST_EPARSE, "decimal(10,",
                       NULL);
    assert_parse_fails(STRUCT(COL("x", Q("decimal(0,0)"), T)), INGEST_EPARSE, "decimal(0,0)",
                       NULL);
}

static void test_from_json_refuses_duplicate_names(void **state)
{
    (void)state;
    assert_parse_fails(STRUCT(COL("id", Q("long"), T) "," COL("Id", Q("long"), T)),
                       INGEST_EPARSE, "field Id: duplicate name", NULL);
    assert_parse_fails(STRUCT(COL("ev", ARRAY(STRUCT(COL("aB", Q("long"), T) ","
                                                     COL("x", Q("long"), T) ","
                                                     COL("Ab", Q("long"), T)), T), T)),
                       INGEST_EPARSE, "field ev.element.Ab: duplicate name", NULL);
}

static void test_from_json_types_we_cannot_write_are_enotsup(void **state)
{
    (void)state;
    assert_parse_fails(STRUCT(COL("t", Q("timestamp_ntz"), T)), INGEST_ENOTSUP, "field t:",
                       "timestamp_ntz");
    assert_parse_fails(STRUCT(COL("v", Q("void"), T)), INGEST_ENOTSUP, "field v:", "void");
    assert_parse_fails(STRUCT(COL("s", STRUCT(COL("v", Q("variant"), T)), T)), INGEST_ENOTSUP,
                       "field s.v:", "variant");
    assert_parse_fails(STRUCT(COL("m", MAP(Q("string"), "{\"type\":\"udt\",\"class\":\"X\"}", T),
                                  T)),
                       INGEST_ENOTSUP, "field m.value:", "udt");
    assert_parse_fails(STRUCT(COL("d", Q("decimal(10,-2)"), T)), INGEST_ENOTSUP, "field d:",
                       "decimal(10,-2)");
}

/* --- the golden tables ---------------------------------------------------------------- */

/* The schemaString of the metaData action in a commit file, or NULL. */
static char *schema_string_of(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *line = NULL, *found = NULL;
    size_t cap = 0;
    ssize_t n;
    while (!found && (n = getline(&line, &cap, f)) > 0) {
        struct ingest_json_doc doc = { 0 };
        char err[128];
        if (ingest_json_parse(line, (size_t)n, &doc, err, sizeof err) != 0)
            fail_msg("%s: %s", path, err);
        const char *s = ingest_json_string(
            ingest_json_get(ingest_json_get(doc.root, "metaData"), "schemaString"));
        if (s)
            found = strdup(s);
        ingest_json_doc_free(&doc);
    }
    free(line);
    fclose(f);
    return found;
}

static void test_every_golden_table_schema_reads(void **state)
{
    (void)state;
    const char *src = getenv("INGESTD_SRC");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/../shared/data/delta-golden", src && *src ? src : ".");
    DIR *d = opendir(dir);
    if (!d)
        skip();
    int tables = 0, ntz = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s/_delta_log/00000000000000000000.json", dir,
                 e->d_name);
        char *json = schema_string_of(path);
        if (!json)
            continue;
        tables++;
        struct ingest_schema s;
        char err[256] = "";
        int rc = dl_schema_from_json(json, strlen(json), &s, err, sizeof err);
        if (rc == INGEST_ENOTSUP) {
            /* parquet-all-types has a timestamp_ntz column. */
            if (!strstr(err, "timestamp_ntz") || !strstr(err, "field TimestampNTZType"))
                fail_msg("%s: unclear ENOTSUP: %s", e->d_name, err);
            ntz++;
        } else if (rc != 0) {
            fail_msg("%s: rc %s: %s", e->d_name, ingest_err_name(rc), err);
        } else {
            /* Spark writes exactly our layout: the text comes back unchanged. */
            char *back = to_json(&s);
            if (strcmp(back, json) != 0)
                fail_msg("%s: round trip differs:\n  in  %s\n  out %s", e->d_name, json, back);
            free(back);
            ingest_schema_free(&s);
        }
        free(json);
    }
    closedir(d);
    assert_true(tables >= 7);
    assert_int_equal(ntz, 1);
}

static void test_golden_nested_types_read_as_batch_types(void **state)
{
    (void)state;
    const char *src = getenv("INGESTD_SRC");
    char path[4096];
    snprintf(path, sizeof path,
             "%s/../shared/data/delta-golden/data-reader-partition-values/_delta_log/"
             "00000000000000000000.json", src && *src ? src : ".");
    char *json = schema_string_of(path);
    if (!json)
        skip();
    struct ingest_schema s;
    parse_ok(json, &s);
    free(json);
    assert_int_equal(s.nfields, 15);
    assert_string_equal(s.fields[11].name, "as_big_decimal");
    assert_int_equal(s.fields[11].precision, 1);
    const struct ingest_field *l = &s.fields[12];
    assert_string_equal(l->name, "as_list_of_records");
    assert_int_equal(l->type, INGEST_TYPE_LIST);
    assert_int_equal(l->children[0].type, INGEST_TYPE_STRUCT);
    assert_string_equal(l->children[0].children[0].name, "val");
    assert_int_equal(l->children[0].children[0].type, INGEST_TYPE_INT32);
    const struct ingest_field *ac = &s.fields[13].children[2];
    assert_string_equal(ac->name, "ac");
    assert_int_equal(ac->children[1].type, INGEST_TYPE_INT64);
    ingest_schema_free(&s);
}

/* --- merging ------------------------------------------------------------------------- */

#define BASE COL("id", Q("long"), N) "," COL("amount", Q("decimal(10,2)"), T)

static void test_merge_identical_changes_nothing(void **state)
{
    (void)state;
    const char *s = STRUCT(BASE "," COL("tags", ARRAY(Q("string"), T), T) ","
                           COL("m", MAP(Q("string"), STRUCT(COL("a", Q("long"), T)), T), T));
    struct merge_case c = { s, s, 0, "" };
    check_merge(&c);
}

static void test_merge_adds_a_top_level_column_nullable_at_the_end(void **state)
{
    (void)state;
    struct merge_case c = {
        STRUCT(BASE),
        STRUCT(COL("note", Q("string"), N) "," BASE),
        1,
        STRUCT(BASE "," COL("note", Q("string"), T)),
    };
    check_merge(&c);
}

static void test_merge_adds_a_nested_struct_field(void **state)
{
    (void)state;
    struct merge_case c = {
        STRUCT(BASE "," COL("st", STRUCT(COL("a", Q("long"), T) "," COL("b", Q("string"), T)),
                            T)),
        STRUCT(BASE "," COL("st", STRUCT(COL("c", Q("date"), N) "," COL("b", Q("string"), T)),
                            T)),
        1,
        STRUCT(BASE "," COL("st", STRUCT(COL("a", Q("long"), T) "," COL("b", Q("string"), T)
                                         "," COL("c", Q("date"), T)), T)),
    };
    check_merge(&c);
}

static void test_merge_adds_to_a_struct_inside_an_array_element(void **state)
{
    (void)state;
    struct merge_case c = {
        STRUCT(COL("ev", ARRAY(STRUCT(COL("a", Q("long"), T)), T), T)),
        STRUCT(COL("ev", ARRAY(STRUCT(COL("a", Q("long"), T) "," COL("x", Q("binary"), T)), T),
                   T)),
        1,
        STRUCT(COL("ev", ARRAY(STRUCT(COL("a", Q("long"), T) "," COL("x", Q("binary"), T)), T),
                   T)),
    };
    check_merge(&c);
}

static void test_merge_adds_to_a_struct_map_value(void **state)
{
    (void)state;
    struct merge_case c = {
        STRUCT(COL("m", MAP(Q("string"), STRUCT(COL("a", Q("long"), T)), T), T)),
        STRUCT(COL("m", MAP(Q("string"), STRUCT(COL("b", Q("long"), T) "," COL("A", Q("long"), T)),
                            T), T)),
        1,
        STRUCT(COL("m", MAP(Q("string"), STRUCT(COL("a", Q("long"), T) "," COL("b", Q("long"), T)),
                            T), T)),
    };
    check_merge(&c);
}

static void test_merge_type_change_is_a_conflict(void **state)
{
    (void)state;
    struct merge_case c = { STRUCT(BASE), STRUCT(COL("id", Q("long"), N) "," COL("amount", Q("double"), T)),
                            INGEST_ECONFLICT,
                            "column amount: table has decimal(10,2), pipeline has double" };
    check_merge(&c);
    struct merge_case widen = { STRUCT(COL("n", Q("integer"), T)), STRUCT(COL("n", Q("long"), T)),
                                INGEST_ECONFLICT, "column n: table has integer, pipeline has long" };
    check_merge(&widen);
    struct merge_case kind = {
        STRUCT(COL("st", STRUCT(COL("a", Q("long"), T)), T)),
        STRUCT(COL("st", ARRAY(Q("long"), T), T)),
        INGEST_ECONFLICT, "column st: table has struct<a:long>, pipeline has array<long>",
    };
    check_merge(&kind);
}

static void test_merge_decimal_scale_or_precision_change_is_a_conflict(void **state)
{
    (void)state;
    struct merge_case scale = { STRUCT(BASE),
                                STRUCT(COL("id", Q("long"), N) "," COL("amount", Q("decimal(10,3)"), T)),
                                INGEST_ECONFLICT,
                                "column amount: table has decimal(10,2), pipeline has decimal(10,3)" };
    check_merge(&scale);
    struct merge_case prec = { STRUCT(BASE),
                               STRUCT(COL("id", Q("long"), N) "," COL("amount", Q("decimal(12,2)"), T)),
                               INGEST_ECONFLICT,
                               "column amount: table has decimal(10,2), pipeline has decimal(12,2)" };
    check_merge(&prec);
}

static void test_merge_nested_type_change_names_the_full_path(void **state)
{
    (void)state;
    struct merge_case elem = {
        STRUCT(COL("ev", ARRAY(STRUCT(COL("tags", ARRAY(Q("string"), T), T)), T), T)),
        STRUCT(COL("ev", ARRAY(STRUCT(COL("TAGS", ARRAY(Q("long"), T), T)), T), T)),
        INGEST_ECONFLICT, "column ev.element.tags.element: table has string, pipeline has long",
    };
    check_merge(&elem);
    struct merge_case key = {
        STRUCT(COL("m", MAP(Q("string"), Q("long"), T), T)),
        STRUCT(COL("m", MAP(Q("integer"), Q("long"), T), T)),
        INGEST_ECONFLICT, "column m.key: table has string, pipeline has integer",
    };
    check_merge(&key);
    /* Keys do not evolve: a struct key with one more field is another type. */
    struct merge_case skey = {
        STRUCT(COL("m", MAP(STRUCT(COL("a", Q("long"), T)), Q("long"), T), T)),
        STRUCT(COL("m", MAP(STRUCT(COL("a", Q("long"), T) "," COL("b", Q("long"), T)), Q("long"), T), T)),
        INGEST_ECONFLICT, "column m.key: table has struct<a:long>, pipeline has struct<a:long,b:long>",
    };
    check_merge(&skey);
    struct merge_case val = {
        STRUCT(COL("m", MAP(Q("string"), STRUCT(COL("a", Q("long"), T)), T), T)),
        STRUCT(COL("m", MAP(Q("string"), STRUCT(COL("a", Q("date"), T)), T), T)),
        INGEST_ECONFLICT, "column m.value.a: table has long, pipeline has date",
    };
    check_merge(&val);
}

static void test_merge_missing_columns(void **state)
{
    (void)state;
    /* A nullable column the pipeline lacks stays; files hold nulls for it. */
    struct merge_case nullable = { STRUCT(BASE), STRUCT(COL("id", Q("long"), N)), 0, "" };
    check_merge(&nullable);
    struct merge_case required = { STRUCT(BASE), STRUCT(COL("amount", Q("decimal(10,2)"), T)),
                                   INGEST_ECONFLICT,
                                   "column id: NOT NULL in the table but missing from the pipeline" };
    check_merge(&required);
    struct merge_case nested = {
        STRUCT(COL("st", STRUCT(COL("a", Q("long"), N) "," COL("b", Q("long"), T)), T)),
        STRUCT(COL("st", STRUCT(COL("b", Q("long"), T)), T)),
        INGEST_ECONFLICT, "column st.a: NOT NULL in the table but missing from the pipeline",
    };
    check_merge(&nested);
}

static void test_merge_not_null_table_column_refuses_nullable_data(void **state)
{
    (void)state;
    struct merge_case top = { STRUCT(BASE),
                              STRUCT(COL("id", Q("long"), T) "," COL("amount", Q("decimal(10,2)"), T)),
                              INGEST_ECONFLICT,
                              "column id: NOT NULL in the table, nullable in the pipeline" };
    check_merge(&top);
    struct merge_case elem = { STRUCT(COL("tags", ARRAY(Q("string"), N), T)),
                               STRUCT(COL("tags", ARRAY(Q("string"), T), T)),
                               INGEST_ECONFLICT,
                               "column tags.element: NOT NULL in the table, nullable in the pipeline" };
    check_merge(&elem);
    /* The other way round is fine: NOT NULL data fits a nullable column. */
    struct merge_case ok = { STRUCT(COL("a", Q("long"), T) "," COL("tags", ARRAY(Q("string"), T), T)),
                             STRUCT(COL("a", Q("long"), N) "," COL("tags", ARRAY(Q("string"), N), N)),
                             0, "" };
    check_merge(&ok);
}

static void test_merge_matches_names_case_insensitively_keeping_the_tables(void **state)
{
    (void)state;
    struct merge_case same = { STRUCT(COL("UserId", Q("long"), T) "," COL("st", STRUCT(COL("Zip", Q("string"), T)), T)),
                               STRUCT(COL("ST", STRUCT(COL("zip", Q("string"), T)), T) "," COL("userid", Q("long"), T)),
                               0, "" };
    check_merge(&same);
    struct merge_case add = {
        STRUCT(COL("UserId", Q("long"), T) "," COL("st", STRUCT(COL("Zip", Q("string"), T)), T)),
        STRUCT(COL("userID", Q("long"), T) "," COL("ST", STRUCT(COL("ZIP", Q("string"), T) ","
                                                                 COL("City", Q("string"), T)), T)),
        1,
        STRUCT(COL("UserId", Q("long"), T) "," COL("st", STRUCT(COL("Zip", Q("string"), T) ","
                                                                 COL("City", Q("string"), T)), T)),
    };
    check_merge(&add);
}

static void test_merge_refuses_duplicate_pipeline_names(void **state)
{
    (void)state;
    static struct ingest_field have_f[] = { F("a", INGEST_TYPE_INT64, 1) };
    static struct ingest_field want_f[] = { F("a", INGEST_TYPE_INT64, 1),
                                            F("A", INGEST_TYPE_INT64, 1) };
    struct ingest_schema have = { have_f, 1 }, want = { want_f, 2 }, merged = { NULL, 0 };
    char err[256] = "";
    assert_int_equal(dl_schema_merge(&have, &want, &merged, err, sizeof err), INGEST_EINVAL);
    assert_string_equal(err, "column A: duplicate name in the pipeline schema "
                             "(names are case-insensitive)");
    assert_null(merged.fields);
}

static void test_merge_wide_schema(void **state)
{
    (void)state;
    /* 4000 columns, the pipeline's in reverse order and upper case, plus one. */
    enum { W = 4000 };
    struct ingest_field *h = calloc(W, sizeof *h), *w = calloc(W + 1, sizeof *w);
    char (*hn)[16] = calloc(W, 16), (*wn)[16] = calloc(W + 1, 16);
    for (int i = 0; i < W; i++) {
        snprintf(hn[i], 16, "col_%d", i);
        snprintf(wn[W - 1 - i], 16, "COL_%d", i);
        h[i] = (struct ingest_field){ .name = hn[i], .type = INGEST_TYPE_INT64, .nullable = 1 };
        w[W - 1 - i] = (struct ingest_field){ .name = wn[W - 1 - i], .type = INGEST_TYPE_INT64,
                                              .nullable = 1 };
    }
    snprintf(wn[W], 16, "new");
    w[W] = (struct ingest_field){ .name = wn[W], .type = INGEST_TYPE_STRING };
    struct ingest_schema have = { h, W }, want = { w, W + 1 }, merged;
    char err[256] = "";
    assert_int_equal(dl_schema_merge(&have, &want, &merged, err, sizeof err), 1);
    assert_int_equal(merged.nfields, W + 1);
    assert_string_equal(merged.fields[0].name, "col_0");
    assert_string_equal(merged.fields[W - 1].name, "col_3999");
    assert_string_equal(merged.fields[W].name, "new");
    assert_true(merged.fields[W].nullable);
    ingest_schema_free(&merged);
    free(h);
    free(w);
    free(hn);
    free(wn);
}

static void test_copy_is_deep(void **state)
{
    (void)state;
    struct ingest_schema s = { w_fields, sizeof w_fields / sizeof w_fields[0] }, c;
    assert_int_equal(dl_schema_copy(&s, &c), 0);
    assert_int_equal(c.nfields, s.nfields);
    assert_ptr_not_equal(c.fields[14].children, s.fields[14].children);
    assert_ptr_not_equal(c.fields[14].children[0].name, s.fields[14].children[0].name);
    char *a = to_json(&s), *b = to_json(&c);
    assert_string_equal(a, b);
    free(a);
    free(b);
    ingest_schema_free(&c);
    assert_null(c.fields);

    struct ingest_schema none = { NULL, 0 };
    assert_int_equal(dl_schema_copy(&none, &c), 0);
    assert_int_equal(c.nfields, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_to_json_writes_spark_layout),
        cmocka_unit_test(test_to_json_appends_to_the_buffer),
        cmocka_unit_test(test_to_json_refuses_what_delta_cannot_hold),
        cmocka_unit_test(test_round_trip_every_type),
        cmocka_unit_test(test_round_trip_nested),
        cmocka_unit_test(test_from_json_builds_the_batch_schema),
        cmocka_unit_test(test_from_json_ignores_metadata_and_member_order),
        cmocka_unit_test(test_from_json_names_what_is_wrong),
        cmocka_unit_test(test_from_json_refuses_duplicate_names),
        cmocka_unit_test(test_from_json_types_we_cannot_write_are_enotsup),
        cmocka_unit_test(test_every_golden_table_schema_reads),
        cmocka_unit_test(test_golden_nested_types_read_as_batch_types),
        cmocka_unit_test(test_merge_identical_changes_nothing),
        cmocka_unit_test(test_merge_adds_a_top_level_column_nullable_at_the_end),
        cmocka_unit_test(test_merge_adds_a_nested_struct_field),
        cmocka_unit_test(test_merge_adds_to_a_struct_inside_an_array_element),
        cmocka_unit_test(test_merge_adds_to_a_struct_map_value),
        cmocka_unit_test(test_merge_type_change_is_a_conflict),
        cmocka_unit_test(test_merge_decimal_scale_or_precision_change_is_a_conflict),
        cmocka_unit_test(test_merge_nested_type_change_names_the_full_path),
        cmocka_unit_test(test_merge_missing_columns),
        cmocka_unit_test(test_merge_not_null_table_column_refuses_nullable_data),
        cmocka_unit_test(test_merge_matches_names_case_insensitively_keeping_the_tables),
        cmocka_unit_test(test_merge_refuses_duplicate_pipeline_names),
        cmocka_unit_test(test_merge_wide_schema),
        cmocka_unit_test(test_copy_is_deep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
