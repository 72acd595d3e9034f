/*
 * test_config.c - the config loader: defaults of the contract, units, env
 * expansion, and every class of error with its FILE:LINE.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingestd/config.h"
#include "ingestd/source.h"

#define MINIMAL                                   \
    "[pipeline]\n"                                \
    "name = orders\n"                             \
    "checkpoint = /tmp/ck\n"                      \
    "[source]\n"                                  \
    "type = directory\n"                          \
    "path = /srv/landing\n"                       \
    "[schema]\n"                                  \
    "id = long not null\n"                        \
    "amount = double\n"                           \
    "ts = timestamp\n"                            \
    "[sink]\n"                                    \
    "path = /srv/table\n"

struct result {
    struct ingest_conf *conf;
    struct ingest_conf_errors errs;
    int rc;
};

static struct result load(const char *text)
{
    struct result r;
    ingest_conf_errors_init(&r.errs);
    r.rc = ingest_conf_load_text("t.conf", text, NULL, &r.conf, &r.errs);
    return r;
}

static void release(struct result *r)
{
    ingest_conf_free(r->conf);
    ingest_conf_errors_free(&r->errs);
}

/* Asserts the load failed with an error containing `needle`. */
static void expect_error(const char *text, const char *needle)
{
    struct result r = load(text);
    const char *got = r.errs.text.data ? r.errs.text.data : "";
    if (r.rc == 0 || !strstr(got, needle))
        fail_msg("expected an error containing \"%s\"; got rc=%d:\n%s", needle, r.rc, got);
    assert_null(r.conf);
    release(&r);
}

static struct ingest_pipeline_conf *ok_pipeline(struct result *r)
{
    if (r->rc != 0)
        fail_msg("unexpected errors:\n%s", r->errs.text.data);
    assert_int_equal(r->conf->npipelines, 1);
    return r->conf->pipelines[0];
}

static void test_minimal_config_gets_contract_defaults(void **state)
{
    (void)state;
    struct result r = load(MINIMAL);
    struct ingest_pipeline_conf *pc = ok_pipeline(&r);
    assert_string_equal(pc->name, "orders");
    assert_int_equal(pc->trigger_ms, 0);
    assert_int_equal(pc->max_batch_records, 1000000);
    assert_int_equal(pc->max_batch_bytes, 128LL << 20);
    assert_int_equal(pc->memory_limit, 256LL << 20);
    assert_int_equal(pc->drain_timeout_ms, 10000);
    assert_ptr_equal(pc->source.ops, &ingest_source_directory);
    const struct ingest_directory_conf *d = pc->source.conf;
    assert_string_equal(d->path, "/srv/landing");
    assert_string_equal(d->pattern, "*");
    assert_int_equal(d->format, INGEST_FMT_JSON);
    assert_true(d->recursive);
    assert_true(d->include_existing);
    assert_int_equal(d->settle_time_ms, 1000);
    assert_int_equal(d->backfill_interval_ms, 300000);
    assert_false(d->allow_overwrites);
    assert_string_equal(d->clean_source, "off");
    assert_int_equal(d->max_line_size, 16LL << 20);
    assert_string_equal(d->bad_records_path, "/tmp/ck/bad_records");
    assert_int_equal(d->timestamp_epoch_unit, INGEST_EPOCH_S);
    assert_int_equal(pc->ncolumns, 3);
    assert_int_equal(pc->columns[0].type, INGEST_TYPE_INT64);
    assert_true(pc->columns[0].not_null);
    assert_false(pc->columns[1].not_null);
    assert_int_equal(pc->evolution, INGEST_EVOLVE_NONE);
    assert_null(pc->rescued_column);
    assert_string_equal(pc->sink.path, "/srv/table");
    assert_int_equal(pc->sink.target_file_size, 128LL << 20);
    assert_null(r.conf->metrics_listen);
    release(&r);
}

static void test_sizes_take_units(void **state)
{
    (void)state;
    static const struct { const char *in; int64_t want; } good[] = {
        { "64MiB", 64LL << 20 }, { "1GB", 1000000000LL }, { "512KiB", 512LL << 10 },
        { "100", 100 }, { "1.5GiB", 3LL << 29 }, { "2 MiB", 2LL << 20 }, { "4k", 4096 },
        { "1TiB", 1LL << 40 }, { "10B", 10 }, { "1_000", 1000 },
    };
    static const char *const bad[] = { "", "MiB", "64XB", "-1", "0.5B", "99999999999TiB",
                                       "64 megs", "1.2.3MiB" };
    char err[256];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t v = -1;
        if (ingest_conf_parse_size(good[i].in, &v, err, sizeof err) != 0)
            fail_msg("'%s': %s", good[i].in, err);
        assert_int_equal(v, good[i].want);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v;
        if (ingest_conf_parse_size(bad[i], &v, err, sizeof err) == 0)
            fail_msg("'%s' was accepted as %lld", bad[i], (long long)v);
    }
}

static void test_durations_take_units(void **state)
{
    (void)state;
    static const struct { const char *in; int64_t want; } good[] = {
        { "500ms", 500 }, { "5s", 5000 }, { "1m30s", 90000 }, { "1h", 3600000 },
        { "2d", 172800000 }, { "0", 0 }, { "1.5s", 1500 }, { "10min", 600000 }, { "0s", 0 },
    };
    static const char *const bad[] = { "", "30", "5x", "0.5ms", "s", "1h-5m", "ms500" };
    char err[256];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t v = -1;
        if (ingest_conf_parse_duration(good[i].in, &v, err, sizeof err) != 0)
            fail_msg("'%s': %s", good[i].in, err);
        assert_int_equal(v, good[i].want);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v;
        if (ingest_conf_parse_duration(bad[i], &v, err, sizeof err) == 0)
            fail_msg("'%s' was accepted as %lld", bad[i], (long long)v);
    }
    int64_t v;
    assert_int_not_equal(ingest_conf_parse_duration("30", &v, err, sizeof err), 0);
    assert_non_null(strstr(err, "needs a unit"));
}

static void test_units_in_a_file(void **state)
{
    (void)state;
    struct result r = load("[pipeline]\nname = a\ncheckpoint = /c\ntrigger = 250ms\nmax_batch_bytes = 64MiB\n"
             "memory_limit = 1GiB\ndrain_timeout = 1m\nmax_batch_records = 5_000\n"
             "[source]\ntype = directory\npath = /l\nsettle_time = 0\nrecursive = no\n"
             "[sink]\npath = /t\n");
    struct ingest_pipeline_conf *pc = ok_pipeline(&r);
    assert_int_equal(pc->trigger_ms, 250);
    assert_int_equal(pc->max_batch_bytes, 64LL << 20);
    assert_int_equal(pc->memory_limit, 1LL << 30);
    assert_int_equal(pc->drain_timeout_ms, 60000);
    assert_int_equal(pc->max_batch_records, 5000);
    const struct ingest_directory_conf *d = pc->source.conf;
    assert_int_equal(d->settle_time_ms, 0);
    assert_false(d->recursive);
    release(&r);
}

static void test_env_variables_are_expanded(void **state)
{
    (void)state;
    setenv("INGEST_TEST_ROOT", "/data/x", 1);
    setenv("INGEST_TEST_NAME", "from-env", 1);
    struct result r = load("[pipeline]\nname = ${INGEST_TEST_NAME}\n"
                           "checkpoint = ${INGEST_TEST_ROOT}/ck\n"
                           "[source]\ntype = directory\npath = \"${INGEST_TEST_ROOT}/in\"\n"
                           "pattern = cost$$*.json\n"
                           "[sink]\npath = ${INGEST_TEST_ROOT}/table\n");
    struct ingest_pipeline_conf *pc = ok_pipeline(&r);
    assert_string_equal(pc->name, "from-env");
    assert_string_equal(pc->checkpoint, "/data/x/ck");
    assert_string_equal(((struct ingest_directory_conf *)pc->source.conf)->path, "/data/x/in");
    assert_string_equal(((struct ingest_directory_conf *)pc->source.conf)->pattern, "cost$*.json");
    assert_string_equal(pc->sink.path, "/data/x/table");
    release(&r);
}

static void test_undefined_env_variable_is_an_error_with_line(void **state)
{
    (void)state;
    unsetenv("INGEST_TEST_UNSET");
    expect_error("[pipeline]\nname = a\ncheckpoint = ${INGEST_TEST_UNSET}/ck\n",
                 "t.conf:3: checkpoint: environment variable 'INGEST_TEST_UNSET' is not set");
    expect_error("[pipeline]\nname = a\ncheckpoint = ${OOPS\n", "t.conf:3: checkpoint: unterminated ${");
    /* The key with the bad value is not reported missing on top. */
    struct result r = load("[pipeline]\nname = a\ncheckpoint = ${INGEST_TEST_UNSET}\n[source]\n"
                           "type = directory\npath = /l\n[sink]\npath = /t\n");
    assert_int_equal(r.errs.count, 1);
    release(&r);
    /* \$ in quotes is a literal dollar, never expanded. */
    setenv("INGEST_TEST_SET", "x", 1);
    r = load("[pipeline]\nname = a\ncheckpoint = \"/c/\\${INGEST_TEST_SET}\"\n[source]\n"
             "type = directory\npath = /l\n[sink]\npath = /t\n");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.conf->pipelines[0]->checkpoint, "/c/${INGEST_TEST_SET}");
    release(&r);
}

static void test_unknown_section_is_an_error_with_line(void **state)
{
    (void)state;
    expect_error(MINIMAL "[sinc]\npath = /x\n", "t.conf:13: unknown section [sinc] (did you mean [sink]?)");
    expect_error(MINIMAL "[bogus]\n", "t.conf:13: unknown section [bogus]");
}

static void test_unknown_key_is_an_error_with_suggestion(void **state)
{
    (void)state;
    expect_error(MINIMAL "triger = 1s\n", "t.conf:13: unknown key 'triger' in [sink]");
    expect_error("[pipeline]\nname = a\ncheckpoint = /c\ntriger = 1s\n[source]\ntype = directory\n"
                 "path = /l\n[sink]\npath = /t\n",
                 "t.conf:4: unknown key 'triger' in [pipeline] (did you mean 'trigger'?)");
}

static void test_missing_required_key_names_the_section_line(void **state)
{
    (void)state;
    expect_error("\n[pipeline]\nname = a\n[source]\ntype = directory\npath = /l\n[sink]\npath = /t\n",
                 "t.conf:2: [pipeline] is missing required key 'checkpoint'");
    expect_error("[pipeline]\nname = a\ncheckpoint = /c\n[source]\npath = /l\n[sink]\npath = /t\n",
                 "t.conf:4: [source] is missing required key 'type'");
    expect_error("[pipeline]\nname = a\ncheckpoint = /c\n[source]\ntype = directory\n[sink]\npath = /t\n",
                 "t.conf:4: [source] is missing required key 'path'");
}

static void test_missing_required_section_is_an_error(void **state)
{
    (void)state;
    expect_error("[pipeline]\nname = a\ncheckpoint = /c\n[source]\ntype = directory\npath = /l\n",
                 "t.conf:6: missing required section [sink]");
    expect_error("; nothing here\n", "t.conf: no [pipeline] section");
}

static void test_bad_values_name_key_and_line(void **state)
{
    (void)state;
    expect_error("[pipeline]\nname = Orders!\n", "t.conf:2: name: 'Orders!' is not a valid name");
    expect_error("[pipeline]\nname = a\ncheckpoint = /c\nmax_batch_bytes = lots\n",
                 "t.conf:4: max_batch_bytes: 'lots' is not a size");
    expect_error("[pipeline]\nname = a\ncheckpoint = /c\ntrigger = 30\n",
                 "t.conf:4: trigger: duration '30' needs a unit");
    expect_error("[pipeline]\nname = a\ncheckpoint = /c\nmax_batch_records = 0\n",
                 "t.conf:4: max_batch_records: '0' is out of range");
    expect_error("[pipeline]\nname = a\ncheckpoint = /c\nmemory_limit = 1MiB\n",
                 "t.conf:4: memory_limit: '1MiB' is out of range");
    expect_error("[pipeline]\nname = a\ncheckpoint = /c\n[source]\ntype = directory\npath = /l\n"
                 "format = xml\n", "t.conf:7: format: 'xml' is not one of json|csv|text");
    expect_error("[pipeline]\nname = a\ncheckpoint = /c\n[source]\ntype = directory\npath = /l\n"
                 "recursive = maybe\n", "t.conf:7: recursive: 'maybe' is not a boolean");
    expect_error("[pipeline]\nname = a\ncheckpoint = /c\n[source]\ntype = directory\npath = /l\n"
                 "clean_source = shred\n", "t.conf:7: clean_source: 'shred' is not off, delete");
    expect_error("[pipeline]\nname = a\ncheckpoint = /c\n[source]\ntype = ftp\n",
                 "t.conf:5: type: unknown source type 'ftp' (known: directory, kafka)");
    expect_error("[pipeline]\nname = a\ncheckpoint = /c\nname2 = \n", "t.conf:4: unknown key");
    expect_error("[pipeline]\nname =\n", "t.conf:2: name: empty value");
    expect_error("[pipeline]\nname = k\ncheckpoint = /c\n[source]\ntype = kafka\nbrokers =\n"
                 "topic = t\n[sink]\npath = /t\n", "t.conf:6: brokers: empty value");
}

static void test_syntax_errors_name_the_line(void **state)
{
    (void)state;
    expect_error("[pipeline]\nname a\n", "t.conf:2: expected 'key = value' or '[section]'");
    expect_error("[pipeline\n", "t.conf:1: missing ']' in section header");
    /* Keys under a broken header are not blamed on the section before it. */
    struct result r = load(MINIMAL "[expect x\ncondition = id > 0\n");
    assert_int_equal(r.errs.count, 1);
    assert_non_null(strstr(r.errs.text.data, "t.conf:13: missing ']'"));
    release(&r);
    expect_error("[pipeline] x\n", "t.conf:1: text after section header");
    expect_error("name = a\n", "t.conf:1: key 'name' outside of any [section]");
    expect_error("[pipeline]\nname = \"a\n", "t.conf:2: name: unterminated quoted value");
    expect_error("[pipeline]\nname = \"a\" b\n", "t.conf:2: name: text after closing quote");
    expect_error("[pipeline]\nna me = a\n", "t.conf:2: invalid key 'na me'");
}

static void test_duplicates_are_errors(void **state)
{
    (void)state;
    expect_error("[pipeline]\nname = a\nname = b\n", "t.conf:3: duplicate key 'name' in [pipeline] (first at line 2)");
    expect_error(MINIMAL "[pipeline]\n", "t.conf:13: duplicate section [pipeline] (first at line 1");
    expect_error(MINIMAL "[expect e]\ncondition = id > 0\n[expect e]\ncondition = id > 1\n",
                 "t.conf:15: duplicate [expect e] (first at line 13)");
    expect_error(MINIMAL "[schema]\n", "duplicate section [schema]");
    expect_error("[pipeline]\nname = a\ncheckpoint = /c\n[source]\ntype = directory\npath = /l\n"
                 "[schema]\nid = long\nID = int\n[sink]\npath = /t\n",
                 "t.conf:9: column 'ID' declared twice (first at line 8");
}

static void test_every_error_is_reported_not_just_the_first(void **state)
{
    (void)state;
    struct result r = load("[pipeline]\nname = a\ncheckpoint = /c\ntrigger = soon\n"
                           "[source]\ntype = directory\npath = /l\nbogus = 1\n"
                           "[sink]\npath = /t\ntarget_file_size = big\n[nope]\n");
    assert_int_not_equal(r.rc, 0);
    assert_int_equal(r.errs.count, 4);
    const char *t = r.errs.text.data;
    assert_non_null(strstr(t, "t.conf:4: trigger:"));
    assert_non_null(strstr(t, "t.conf:8: unknown key 'bogus'"));
    assert_non_null(strstr(t, "t.conf:11: target_file_size:"));
    assert_non_null(strstr(t, "t.conf:12: unknown section [nope]"));
    release(&r);
}

static void test_comments_quotes_crlf_and_bom(void **state)
{
    (void)state;
    struct result r = load("\xEF\xBB\xBF; comment\r\n# another\r\n[pipeline]   ; trailing\r\n"
                           "name = a ; the name\r\ncheckpoint = /c#1\r\n"
                           "[source]\r\ntype = directory\r\npath = \"/l ; x\" ; real comment\r\n"
                           "pattern = \"*.json\"\r\n[sink]\r\npath = /t\r\n");
    struct ingest_pipeline_conf *pc = ok_pipeline(&r);
    assert_string_equal(pc->name, "a");
    assert_string_equal(pc->checkpoint, "/c#1");
    assert_string_equal(((struct ingest_directory_conf *)pc->source.conf)->path, "/l ; x");
    release(&r);
}

static void test_relative_paths_resolve_against_the_config_directory(void **state)
{
    (void)state;
    char dir[] = "/tmp/ingestd-conf-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char file[256];
    snprintf(file, sizeof file, "%s/p.conf", dir);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fputs("[pipeline]\nname = a\ncheckpoint = ./ck\n[source]\ntype = directory\n"
          "path = ../landing/./x\nclean_source = archive:done\n[sink]\npath = table\n", fp);
    fclose(fp);
    const char *files[] = { file };
    struct ingest_conf *conf = NULL;
    struct ingest_conf_errors errs;
    ingest_conf_errors_init(&errs);
    if (ingest_conf_load(files, 1, NULL, &conf, &errs) != 0)
        fail_msg("%s", errs.text.data);
    const struct ingest_pipeline_conf *pc = conf->pipelines[0];
    char want[300];
    snprintf(want, sizeof want, "%s/ck", dir);
    assert_string_equal(pc->checkpoint, want);
    snprintf(want, sizeof want, "%s/table", dir);
    assert_string_equal(pc->sink.path, want);
    assert_string_equal(((struct ingest_directory_conf *)pc->source.conf)->path, "/tmp/landing/x");
    snprintf(want, sizeof want, "archive:%s/done", dir);
    assert_string_equal(((struct ingest_directory_conf *)pc->source.conf)->clean_source, want);
    ingest_conf_free(conf);
    ingest_conf_errors_free(&errs);
    unlink(file);
    rmdir(dir);
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void test_rules_across_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/ingestd-conf-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char a[256], b[256], c[256], m[256];
    snprintf(a, sizeof a, "%s/a.conf", dir);
    snprintf(b, sizeof b, "%s/b.conf", dir);
    snprintf(c, sizeof c, "%s/c.conf", dir);
    snprintf(m, sizeof m, "%s/m.conf", dir);
    write_file(a, "[pipeline]\nname = one\ncheckpoint = /ck/1\n[source]\ntype = directory\n"
                  "path = /l\n[sink]\npath = /t\n[metrics]\nlisten = 127.0.0.1:9999\n");
    write_file(b, "[pipeline]\nname = one\ncheckpoint = /ck/2\n[source]\ntype = directory\n"
                  "path = /l\n[sink]\npath = /t\n");
    write_file(c, "[pipeline]\nname = three\ncheckpoint = /ck/1\n[source]\ntype = directory\n"
                  "path = /l\n[sink]\npath = /t\n[metrics]\nlisten = off\n");
    write_file(m, "[metrics]\nlisten = 127.0.0.1:1234\n");
    struct ingest_conf *conf = NULL;
    struct ingest_conf_errors errs;
    ingest_conf_errors_init(&errs);
    const char *all[] = { a, b, c };
    assert_int_not_equal(ingest_conf_load(all, 3, NULL, &conf, &errs), 0);
    char want[600];
    snprintf(want, sizeof want, "%s:1: pipeline name 'one' is already used by %s:1", b, a);
    assert_non_null(strstr(errs.text.data, want));
    snprintf(want, sizeof want, "%s:1: checkpoint /ck/1 is already used by pipeline 'one'", c);
    assert_non_null(strstr(errs.text.data, want));
    snprintf(want, sizeof want, "%s:9: [metrics] is already given in %s:9", c, a);
    assert_non_null(strstr(errs.text.data, want));
    ingest_conf_errors_free(&errs);

    /* A file with only [metrics] is fine next to a pipeline file. */
    ingest_conf_errors_init(&errs);
    const char *two[] = { m, b };
    if (ingest_conf_load(two, 2, NULL, &conf, &errs) != 0)
        fail_msg("%s", errs.text.data);
    assert_string_equal(conf->metrics_listen, "127.0.0.1:1234");
    assert_int_equal(conf->npipelines, 1);
    ingest_conf_free(conf);
    ingest_conf_errors_free(&errs);

    ingest_conf_errors_init(&errs);
    const char *missing[] = { "/nonexistent/x.conf" };
    assert_int_not_equal(ingest_conf_load(missing, 1, NULL, &conf, &errs), 0);
    assert_non_null(strstr(errs.text.data, "/nonexistent/x.conf: cannot open: No such file"));
    ingest_conf_errors_free(&errs);
    unlink(a); unlink(b); unlink(c); unlink(m);
    rmdir(dir);
}

static void test_kafka_properties_are_checked_by_librdkafka(void **state)
{
    (void)state;
    const char *base = "[pipeline]\nname = k\ncheckpoint = /c\n[source]\ntype = kafka\n"
                       "brokers = 127.0.0.1:9092\ntopic = events, more\n";
    char text[1024];
    snprintf(text, sizeof text, "%skafka.fetch.wait.max.ms = 10\nkafka.client.id = x\n"
             "[sink]\npath = /t\n", base);
    struct result r = load(text);
    struct ingest_pipeline_conf *pc = ok_pipeline(&r);
    const struct ingest_kafka_conf *k = pc->source.conf;
    assert_string_equal(k->group, "ingestd-k");
    assert_int_equal(pc->source.nprops, 2);
    assert_string_equal(pc->source.props[0].key, "fetch.wait.max.ms");
    assert_string_equal(pc->source.props[0].value, "10");
    release(&r);

    snprintf(text, sizeof text, "%skafka.no.such.property = 1\n[sink]\npath = /t\n", base);
    expect_error(text, "t.conf:8: kafka.no.such.property: No such configuration property");
    snprintf(text, sizeof text, "%skafka.fetch.wait.max.ms = never\n[sink]\npath = /t\n", base);
    expect_error(text, "t.conf:8: kafka.fetch.wait.max.ms:");
    snprintf(text, sizeof text, "%skafka.enable.auto.commit = true\n[sink]\npath = /t\n", base);
    expect_error(text, "t.conf:8: kafka.enable.auto.commit is set by ingestd");
    expect_error("[pipeline]\nname = k\ncheckpoint = /c\n[source]\ntype = kafka\n"
                 "brokers = b:1\ntopic = bad/topic\n[sink]\npath = /t\n",
                 "t.conf:7: topic: 'bad/topic' is not a valid topic name");
    expect_error("[pipeline]\nname = k\ncheckpoint = /c\n[source]\ntype = kafka\n"
                 "brokers = b:1\ntopic = t\nformat = csv\n[sink]\npath = /t\n",
                 "t.conf:8: format: 'csv' is not one of json|text|binary");
}

static void test_keys_of_another_source_type_are_named(void **state)
{
    (void)state;
    expect_error("[pipeline]\nname = a\ncheckpoint = /c\n[source]\ntype = directory\npath = /l\n"
                 "brokers = x:1\n[sink]\npath = /t\n",
                 "t.conf:7: key 'brokers' belongs to type = kafka, not type = directory");
    expect_error("[pipeline]\nname = a\ncheckpoint = /c\n[source]\ntype = directory\npath = /l\n"
                 "kafka.client.id = x\n[sink]\npath = /t\n",
                 "t.conf:7: key 'kafka.client.id' belongs to type = kafka");
}

static void test_schema_types(void **state)
{
    (void)state;
    struct result r = load("[pipeline]\nname = a\ncheckpoint = /c\n[source]\ntype = directory\n"
                           "path = /l\n[schema]\nprice = decimal(10, 2) not null\nn = bigint\n"
                           "b = binary\nd = date\nf = float\nok = boolean\n[sink]\npath = /t\n");
    struct ingest_pipeline_conf *pc = ok_pipeline(&r);
    assert_int_equal(pc->columns[0].type, INGEST_TYPE_DECIMAL);
    assert_int_equal(pc->columns[0].precision, 10);
    assert_int_equal(pc->columns[0].scale, 2);
    assert_true(pc->columns[0].not_null);
    assert_int_equal(pc->columns[1].type, INGEST_TYPE_INT64);
    assert_int_equal(pc->columns[5].type, INGEST_TYPE_BOOLEAN);
    release(&r);
    const char *pre = "[pipeline]\nname = a\ncheckpoint = /c\n[source]\ntype = directory\n"
                      "path = /l\n[sink]\npath = /t\n[schema]\n";
    char text[512];
    static const struct { const char *line, *err; } bad[] = {
        { "x = decimal(40,2)", "t.conf:10: column 'x': decimal(40,2): need 1 <= p <= 38" },
        { "x = decimal", "t.conf:10: column 'x': decimal needs precision and scale" },
        { "x = varchar", "t.conf:10: column 'x': unknown type 'varchar'" },
        { "x = long nullable", "t.conf:10: column 'x': unexpected 'nullable' after the type" },
        { "1x = long", "t.conf:10: column name '1x'" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "%s%s\n", pre, bad[i].line);
        expect_error(text, bad[i].err);
    }
}

static void test_expressions_are_validated_with_their_line(void **state)
{
    (void)state;
    expect_error(MINIMAL "[transform]\nd = to_date(ts\n", "t.conf:14: transform 'd':");
    expect_error(MINIMAL "[transform]\nd = no_such_fn(ts)\n", "t.conf:14: transform 'd':");
    expect_error(MINIMAL "[transform]\nd = to_date(nope)\n",
                 "t.conf:14: transform 'd': unknown column 'nope'");
    expect_error(MINIMAL "[expect e]\ncondition = nope IS NOT NULL\n",
                 "t.conf:14: condition of [expect e]: unknown column 'nope'");
    expect_error(MINIMAL "[expect e]\ncondition = amount + 1\n",
                 "t.conf:14: condition of [expect e]: 'amount + 1' is not a predicate");
    expect_error(MINIMAL "[expect e]\ncondition = -amount\n", "is not a predicate");
    expect_error(MINIMAL "[expect e]\ncondition = amount\n", "is not a predicate");
    expect_error(MINIMAL "[expect e]\ncondition = upper(id)\n", "is not a predicate");
    expect_error(MINIMAL "[expect e]\naction = drop\n",
                 "t.conf:13: [expect] is missing required key 'condition'");
    expect_error(MINIMAL "[expect]\ncondition = id > 0\n", "t.conf:13: [expect] needs a name");
    expect_error(MINIMAL "[expect e]\ncondition = id > 0\naction = shout\n",
                 "t.conf:15: action: 'shout' is not one of warn|drop|fail|quarantine");

    /* Transforms see earlier transforms; expectations see all of them. */
    struct result r = load(MINIMAL "[transform]\nok = amount > 0\nd = to_date(ts)\ny = year(d)\n"
                           "[expect recent]\ncondition = y >= 2020 AND amount BETWEEN 0 AND 1e9\n"
                           "action = drop\n[expect flag]\ncondition = ok\n"
                           "[expect made]\ncondition = coalesce(ok, false)\n");
    struct ingest_pipeline_conf *pc = ok_pipeline(&r);
    assert_int_equal(pc->ntransforms, 3);
    assert_string_equal(pc->transforms[2].column, "y");
    assert_int_equal(pc->nexpects, 3);
    assert_string_equal(pc->expects[0].name, "recent");
    assert_int_equal(pc->expects[0].action, INGEST_ACT_DROP);
    release(&r);
}

static void test_sink_rules(void **state)
{
    (void)state;
    expect_error(MINIMAL "[expect e]\ncondition = amount > 0\naction = quarantine\n",
                 "t.conf:15: action = quarantine needs [sink] quarantine");
    expect_error(MINIMAL "partition_by = day\n", "t.conf:13: partition_by: unknown column 'day'");
    expect_error(MINIMAL "partition_by = id, id\n", "partition_by: 'id' listed twice");
    expect_error(MINIMAL "compression = lz4\n", "t.conf:13: compression: 'lz4' is not one of");
    struct result r = load(MINIMAL "partition_by = id , amount\nquarantine = /q\n"
                           "[expect e]\ncondition = amount > 0\naction = quarantine\n");
    struct ingest_pipeline_conf *pc = ok_pipeline(&r);
    assert_int_equal(pc->sink.npartition_cols, 2);
    assert_string_equal(pc->sink.partition_cols[1], "amount");
    release(&r);
}

static void test_directory_rules(void **state)
{
    (void)state;
    expect_error("[pipeline]\nname = a\ncheckpoint = /l/ck\n[source]\ntype = directory\n"
                 "path = /l\n[sink]\npath = /t\n",
                 "t.conf:6: path: the checkpoint /l/ck is inside the watched directory");
    expect_error("[pipeline]\nname = a\ncheckpoint = /c\n[source]\ntype = directory\n"
                 "path = /l\nclean_source = archive:/l/done\n[sink]\npath = /t\n",
                 "the archive directory /l/done is inside the watched directory");
    expect_error("[pipeline]\nname = a\ncheckpoint = /c\n[source]\ntype = directory\n"
                 "path = /l\npattern = a/*.json\n[sink]\npath = /t\n",
                 "t.conf:7: pattern: 'a/*.json' must match a file name");
}

static void test_metrics_listen_is_validated(void **state)
{
    (void)state;
    expect_error(MINIMAL "[metrics]\nlisten = everywhere\n", "t.conf:14: listen: listen address \"everywhere\": expected HOST:PORT");
    expect_error(MINIMAL "[metrics]\nlisten = 127.0.0.1:70000\n", "t.conf:14: listen: listen address \"127.0.0.1:70000\"");
    expect_error(MINIMAL "[metrics]\nlisten = 300.1.1.1:80\n", "t.conf:14: listen:");
    expect_error(MINIMAL "[metrics]\nlisten = 127.0.0.1:+80\n", "t.conf:14: listen:");
    expect_error(MINIMAL "[metrics]\nport = 1\n", "t.conf:14: unknown key 'port' in [metrics]");
    static const char *const good[] = { "off", "127.0.0.1:0", "[::1]:9464", ":9464",
                                        "0.0.0.0:80", "localhost:9464" };
    char err[256];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (ingest_conf_parse_listen(good[i], err, sizeof err) != 0)
            fail_msg("%s: %s", good[i], err);
    struct result r = load(MINIMAL "[metrics]\nlisten = off\n");
    ok_pipeline(&r);
    assert_string_equal(r.conf->metrics_listen, "off");
    release(&r);
}

static void test_help_config_lists_every_key(void **state)
{
    (void)state;
    struct ingest_buf b = INGEST_BUF_INIT;
    ingest_conf_help(&b);
    static const char *const keys[] = {
        "[pipeline]", "checkpoint", "max_batch_records", "drain_timeout", "[source]",
        "type = directory", "settle_time", "backfill_interval", "clean_source", "type = kafka",
        "starting_offsets", "kafka.", "[schema]", "[schema_policy]", "rescued_column",
        "[transform]", "[expect NAME]", "condition", "[sink]", "partition_by", "quarantine",
        "target_file_size", "[metrics]", "listen", "default 128MiB", "to_date(",
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!strstr(b.data, keys[i]))
            fail_msg("--help-config does not mention '%s'", keys[i]);
    for (size_t i = 0; ingest_sources[i]; i++)
        for (size_t k = 0; k < ingest_sources[i]->conf_nkeys; k++)
            assert_non_null(strstr(b.data, ingest_sources[i]->conf_keys[k].name));
    ingest_buf_free(&b);
}

static void test_example_configs_load(void **state)
{
    (void)state;
    const char *src = getenv("INGESTD_SRC");
    char path[1024];
    static const char *const files[] = { "config/example.conf", "config/pipeline.conf" };
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", src ? src : ".", files[i]);
        const char *one[] = { path };
        struct ingest_conf *conf = NULL;
        struct ingest_conf_errors errs;
        ingest_conf_errors_init(&errs);
        if (ingest_conf_load(one, 1, NULL, &conf, &errs) != 0)
            fail_msg("%s", errs.text.data);
        ingest_conf_free(conf);
        ingest_conf_errors_free(&errs);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_config_gets_contract_defaults),
        cmocka_unit_test(test_sizes_take_units),
        cmocka_unit_test(test_durations_take_units),
        cmocka_unit_test(test_units_in_a_file),
        cmocka_unit_test(test_env_variables_are_expanded),
        cmocka_unit_test(test_undefined_env_variable_is_an_error_with_line),
        cmocka_unit_test(test_unknown_section_is_an_error_with_line),
        cmocka_unit_test(test_unknown_key_is_an_error_with_suggestion),
        cmocka_unit_test(test_missing_required_key_names_the_section_line),
        cmocka_unit_test(test_missing_required_section_is_an_error),
        cmocka_unit_test(test_bad_values_name_key_and_line),
        cmocka_unit_test(test_syntax_errors_name_the_line),
        cmocka_unit_test(test_duplicates_are_errors),
        cmocka_unit_test(test_every_error_is_reported_not_just_the_first),
        cmocka_unit_test(test_comments_quotes_crlf_and_bom),
        cmocka_unit_test(test_relative_paths_resolve_against_the_config_directory),
        cmocka_unit_test(test_rules_across_files),
        cmocka_unit_test(test_kafka_properties_are_checked_by_librdkafka),
        cmocka_unit_test(test_keys_of_another_source_type_are_named),
        cmocka_unit_test(test_schema_types),
        cmocka_unit_test(test_expressions_are_validated_with_their_line),
        cmocka_unit_test(test_sink_rules),
        cmocka_unit_test(test_directory_rules),
        cmocka_unit_test(test_metrics_listen_is_validated),
        cmocka_unit_test(test_help_config_lists_every_key),
        cmocka_unit_test(test_example_configs_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
