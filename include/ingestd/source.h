/*
 * source.h - the connector interface.
 *
 * A connector (directory, kafka) exports exactly one const struct
 * ingest_source_ops; connectors/registry.c lists them, and `[source] type`
 * picks one by name.  The pipeline never knows which connector it drives.
 *
 * Today the interface covers configuration: the connector's key table (which
 * drives validation, defaults and --help-config), its cross-key checks, and
 * the reachability probe of `ingestd --check`.  The data-path verbs
 * (open/start/plan/ack/pause/resume/stop/close) join this struct with the
 * micro-batch engine.
 */
#ifndef INGESTD_SOURCE_H
#define INGESTD_SOURCE_H

#include <stddef.h>

#include "ingestd/config.h"
#include "ingestd/decode.h"     /* enum ingest_epoch_unit */

struct ingest_source_ops {
    const char *name;                        /* value of `[source] type` */
    const char *help;                        /* one line for --help-config */
    const struct ingest_conf_key *conf_keys; /* every key but `type` */
    size_t      conf_nkeys;
    size_t      conf_size;                   /* bytes of the connector's conf struct */
    const char *passthrough_prefix;          /* e.g. "kafka.": such keys go to props */

    /* Cross-key checks after the table's values were parsed (loop thread or
     * caller's thread; no I/O).  May be NULL. */
    void (*conf_check)(const struct ingest_pipeline_conf *pc, struct ingest_conf_diag *d);
    /* --check: reachability of what the config names (may block briefly). */
    void (*conf_probe)(const struct ingest_pipeline_conf *pc, struct ingest_conf_diag *d);
    /* Frees what conf_check or parsing stored beyond the table's fields. May be NULL. */
    void (*conf_free)(void *conf);
};

/* NULL-terminated list of every connector. */
extern const struct ingest_source_ops *const ingest_sources[];
const struct ingest_source_ops *ingest_source_lookup(const char *name);

/* The directory connector's settings (connectors/directory.c). */
enum ingest_format { INGEST_FMT_JSON, INGEST_FMT_CSV, INGEST_FMT_TEXT, INGEST_FMT_BINARY };

struct ingest_directory_conf {
    char   *path;
    char   *pattern;
    int     format;            /* enum ingest_format (json|csv|text) */
    int     recursive;
    int     include_existing;
    int64_t settle_time_ms;
    int64_t backfill_interval_ms;
    int     allow_overwrites;
    char   *clean_source;      /* "off", "delete" or "archive:/abs/dir" */
    int64_t max_line_size;
    char   *bad_records_path;  /* NULL: <checkpoint>/bad_records */
    int     timestamp_epoch_unit;
};

/* The Kafka connector's settings (connectors/kafka.c). */
struct ingest_kafka_conf {
    char   *brokers;
    char   *topic;             /* one topic, or several separated by commas */
    char   *group;             /* NULL: ingestd-<pipeline name> */
    int     format;            /* enum ingest_format: JSON, TEXT or BINARY */
    int     starting_offsets;  /* 0 earliest, 1 latest */
    char   *bad_records_path;
    int     timestamp_epoch_unit;
    int64_t max_message_size;
};

extern const struct ingest_source_ops ingest_source_directory;
extern const struct ingest_source_ops ingest_source_kafka;

#endif
