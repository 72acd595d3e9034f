/*
 * conf_tables.c - key tables of the core sections, and --help-config.
 *
 * The defaults here are the contract of design.md: change one only together
 * with the design page.  Connectors keep their own [source] tables next to
 * their code (connectors/).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "conf_tables.h"
#include "ingestd/expr.h"
#include "ingestd/source.h"

#define KiB (1024LL)
#define MiB (1024LL * 1024)
#define GiB (1024LL * 1024 * 1024)

#define P(field) offsetof(struct ingest_pipeline_conf, field)
static const struct ingest_conf_key pipeline_keys[] = {
    { "name", INGEST_CT_NAME, NULL, INGEST_CK_REQUIRED, 0, 0, NULL, P(name), NULL,
      "pipeline name, [a-z0-9_-]+; the `pipeline` label of every metric" },
    { "checkpoint", INGEST_CT_PATH, NULL, INGEST_CK_REQUIRED, 0, 0, NULL, P(checkpoint), NULL,
      "directory of the write-ahead log and source state; locked by one process" },
    { "trigger", INGEST_CT_DURATION, "0", 0, 0, 24 * 3600 * 1000LL, NULL, P(trigger_ms), NULL,
      "interval between micro-batches; 0 = next batch as soon as data is there" },
    { "max_batch_records", INGEST_CT_INT, "1000000", 0, 1, 1000000000LL, NULL,
      P(max_batch_records), NULL, "records per micro-batch at most" },
    { "max_batch_bytes", INGEST_CT_SIZE, "128MiB", 0, 64 * KiB, 64 * GiB, NULL,
      P(max_batch_bytes), NULL, "input bytes per micro-batch at most; big files span batches" },
    { "memory_limit", INGEST_CT_SIZE, "256MiB", 0, 16 * MiB, 0, NULL, P(memory_limit), NULL,
      "resident memory the pipeline stays under; sources pause beyond it" },
    { "drain_timeout", INGEST_CT_DURATION, "10s", 0, 0, 3600 * 1000LL, NULL,
      P(drain_timeout_ms), NULL,
      "on SIGTERM, how long the batch in flight may take to finish before it is abandoned" },
};
#undef P

static const struct ingest_conf_key schema_policy_keys[] = {
    { "evolution", INGEST_CT_ENUM, "none", 0, 0, 0, "add-columns|rescue|fail|none",
      offsetof(struct ingest_policy_keys, evolution), NULL,
      "what unknown fields do: add columns, go to the rescued column, fail the batch, "
      "or are ignored (none)" },
    { "rescued_column", INGEST_CT_STRING, NULL, 0, 0, 0, NULL,
      offsetof(struct ingest_policy_keys, rescued_column), NULL,
      "column that keeps bad values and unknown fields as JSON; default _rescued_data "
      "when evolution = rescue, else none" },
};

static const struct ingest_conf_key expect_keys[] = {
    { "condition", INGEST_CT_STRING, NULL, INGEST_CK_REQUIRED, 0, 0, NULL,
      offsetof(struct ingest_expect_keys, condition), NULL,
      "SQL-like predicate every record should satisfy, e.g. id IS NOT NULL" },
    { "action", INGEST_CT_ENUM, "warn", 0, 0, 0, "warn|drop|fail|quarantine",
      offsetof(struct ingest_expect_keys, action), NULL,
      "on failure: count only (warn), drop the record, fail the batch, or move the record "
      "to [sink] quarantine" },
};

#define S(field) offsetof(struct ingest_sink_conf, field)
static const struct ingest_conf_key sink_keys[] = {
    { "path", INGEST_CT_PATH, NULL, INGEST_CK_REQUIRED, 0, 0, NULL, S(path), NULL,
      "Delta table directory; created on the first commit" },
    { "partition_by", INGEST_CT_STRING, NULL, 0, 0, 0, NULL, S(partition_by), NULL,
      "comma-separated partition columns (Hive-style col=value/ directories)" },
    { "target_file_size", INGEST_CT_SIZE, "128MiB", 0, 1 * MiB, 16 * GiB, NULL,
      S(target_file_size), NULL, "Parquet data files are cut at about this size" },
    { "quarantine", INGEST_CT_PATH, NULL, 0, 0, 0, NULL, S(quarantine), NULL,
      "Delta table for records of expectations with action = quarantine" },
    { "compression", INGEST_CT_ENUM, "zstd", 0, 0, 0, "zstd|snappy|none", S(compression), NULL,
      "Parquet page compression" },
    { "compression_level", INGEST_CT_INT, "3", 0, 1, 22, NULL, S(compression_level), NULL,
      "zstd level" },
    { "row_group_size", INGEST_CT_SIZE, "128MiB", 0, 1 * MiB, 16 * GiB, NULL, S(row_group_size),
      NULL, "Parquet row groups are cut at about this many uncompressed bytes" },
    { "checkpoint_interval", INGEST_CT_INT, "10", 0, 1, 100000, NULL, S(checkpoint_interval),
      NULL, "a Delta checkpoint every this many commits (delta.checkpointInterval)" },
};
#undef S

static const struct ingest_conf_key metrics_keys[] = {
    { "listen", INGEST_CT_LISTEN, "127.0.0.1:9464", 0, 0, 0, NULL,
      offsetof(struct ingest_metrics_conf, listen), NULL,
      "HOST:PORT of /metrics, /healthz, /readyz, /status; off disables the server. "
      "Process-wide: at most one loaded file may carry [metrics]" },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))
const struct conf_section_def conf_sections[] = {
    { "pipeline", "the pipeline: name, checkpoint, batch sizes", pipeline_keys,
      N(pipeline_keys), 0, 1 },
    { "source", "where records come from; `type` picks the connector", NULL, 0, 0, 1 },
    { "schema", "declared columns: NAME = TYPE [not null]; without it the schema is inferred",
      NULL, 0, 0, 0 },
    { "schema_policy", "schema evolution and the rescued-data column", schema_policy_keys,
      N(schema_policy_keys), 0, 0 },
    { "transform", "derived columns: NAME = EXPRESSION, evaluated in order", NULL, 0, 0, 0 },
    { "expect", "[expect NAME]: a data-quality expectation", expect_keys, N(expect_keys), 1, 0 },
    { "sink", "the Delta table", sink_keys, N(sink_keys), 0, 1 },
    { "metrics", "the process's HTTP endpoint", metrics_keys, N(metrics_keys), 0, 0 },
};
const size_t conf_nsections = N(conf_sections);

const struct conf_section_def *conf_section_find(const char *name)
{
    for (size_t i = 0; i < conf_nsections; i++)
        if (strcmp(conf_sections[i].name, name) == 0)
            return &conf_sections[i];
    return NULL;
}

static const char *type_name(const struct ingest_conf_key *k)
{
    switch (k->type) {
    case INGEST_CT_STRING: return "string";
    case INGEST_CT_PATH: return "path";
    case INGEST_CT_NAME: return "name";
    case INGEST_CT_BOOL: return "boolean";
    case INGEST_CT_INT: return "integer";
    case INGEST_CT_SIZE: return "size";
    case INGEST_CT_DURATION: return "duration";
    case INGEST_CT_ENUM: return k->choices;
    case INGEST_CT_LISTEN: return "HOST:PORT|off";
    case INGEST_CT_CUSTOM: return k->choices ? k->choices : "string";
    }
    return "?";
}

static void help_keys(struct ingest_buf *out, const struct ingest_conf_key *keys, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct ingest_conf_key *k = &keys[i];
        ingest_buf_printf(out, "  %-22s %s", k->name, type_name(k));
        if (k->flags & INGEST_CK_REQUIRED)
            ingest_buf_puts(out, ", required");
        else if (k->def)
            ingest_buf_printf(out, ", default %s", k->def);
        if (k->type == INGEST_CT_INT || k->type == INGEST_CT_SIZE || k->type == INGEST_CT_DURATION) {
            const char *unit = k->type == INGEST_CT_SIZE ? " bytes" :
                               k->type == INGEST_CT_DURATION ? " ms" : "";
            if (k->max)
                ingest_buf_printf(out, ", range %lld..%lld%s", (long long)k->min,
                                  (long long)k->max, unit);
            else
                ingest_buf_printf(out, ", at least %lld%s", (long long)k->min, unit);
        }
        ingest_buf_printf(out, "\n      %s\n", k->help);
    }
}

void ingest_conf_help(struct ingest_buf *out)
{
    ingest_buf_puts(out,
        "ingestd configuration reference (INI; one file per pipeline).\n"
        "Sizes take units (64MiB, 1GB), durations too (500ms, 5s, 1m30s, 1h);\n"
        "${ENV_VAR} is expanded; relative paths are resolved against the config file's\n"
        "directory; unknown sections and keys are errors.\n");
    for (size_t i = 0; i < conf_nsections; i++) {
        const struct conf_section_def *s = &conf_sections[i];
        ingest_buf_printf(out, "\n[%s%s]%s  %s\n", s->name, s->takes_arg ? " NAME" : "",
                          s->required ? " (required)" : "", s->help);
        if (s->keys) {
            help_keys(out, s->keys, s->nkeys);
        } else if (strcmp(s->name, "source") == 0) {
            for (size_t j = 0; ingest_sources[j]; j++) {
                const struct ingest_source_ops *ops = ingest_sources[j];
                ingest_buf_printf(out, "  type = %s: %s\n", ops->name, ops->help);
                help_keys(out, ops->conf_keys, ops->conf_nkeys);
                if (ops->passthrough_prefix)
                    ingest_buf_printf(out, "  %-22s any property of the client library, "
                                      "passed through\n", ops->passthrough_prefix);
            }
        }
    }
    ingest_buf_puts(out, "\nExpression functions ([transform], [expect] condition):\n");
    size_t nfn = 0;
    const struct ingest_expr_func *fn = ingest_expr_func_table(&nfn);
    for (size_t i = 0; i < nfn; i++)
        ingest_buf_printf(out, "  %-34s %s\n", fn[i].synopsis, fn[i].description);
}
