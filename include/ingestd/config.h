/*
 * config.h - pipeline configuration: the contract of design.md, loaded,
 * validated and turned into plain structs.
 *
 * Each component declares its keys in a table of struct ingest_conf_key
 * (type, default, range, description, where the value goes), as Fluent Bit
 * plugins do; the same tables drive validation, defaults and
 * `ingestd --help-config`.  Loading never stops at the first mistake: every
 * error is collected as "FILE:LINE: reason" so `ingestd --check` can show
 * them all at once.
 *
 * Threads: loading runs on whatever thread calls it (the loop thread for
 * SIGHUP); the resulting struct ingest_conf is immutable and may be read
 * from any thread.
 */
#ifndef INGESTD_CONFIG_H
#define INGESTD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "ingestd/batch.h"
#include "ingestd/buf.h"

/* ---- errors -------------------------------------------------------------- */

struct ingest_conf_errors {
    struct ingest_buf text;   /* one "FILE:LINE: reason\n" per error */
    size_t count;
};

void ingest_conf_errors_init(struct ingest_conf_errors *errs);
void ingest_conf_errors_free(struct ingest_conf_errors *errs);
/* line <= 0 means the error concerns the whole file ("FILE: reason"). */
void ingest_conf_error(struct ingest_conf_errors *errs, const char *file, int line,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- key tables ---------------------------------------------------------- */

enum ingest_conf_type {
    INGEST_CT_STRING,    /* char *; any text */
    INGEST_CT_PATH,      /* char *; made absolute against the config file's directory */
    INGEST_CT_NAME,      /* char *; [a-z0-9_-]+ */
    INGEST_CT_BOOL,      /* int; true/false, yes/no, on/off, 1/0 */
    INGEST_CT_INT,       /* int64_t */
    INGEST_CT_SIZE,      /* int64_t bytes; 64MiB, 1GB, 512KiB, 100 */
    INGEST_CT_DURATION,  /* int64_t milliseconds; 500ms, 5s, 1m30s, 1h, 2d, 0 */
    INGEST_CT_ENUM,      /* int; index into choices "a|b|c" */
    INGEST_CT_LISTEN,    /* char *; HOST:PORT, [V6]:PORT, :PORT or "off" */
    INGEST_CT_CUSTOM,    /* char *; checked and normalised by parse() */
};

#define INGEST_CK_REQUIRED 0x1u

/* Custom value parser: on success stores a malloc'd string in *(char **)dst
 * (ownership passes to the config) and returns 0; else writes a reason. */
typedef int (*ingest_conf_parse_fn)(const char *value, const char *basedir, void *dst,
                                    char *err, size_t errlen);

struct ingest_conf_key {
    const char *name;
    enum ingest_conf_type type;
    const char *def;            /* default, written as in a config file; NULL = unset */
    unsigned    flags;          /* INGEST_CK_* */
    int64_t     min, max;       /* INT/SIZE/DURATION bounds; max 0 = no upper bound */
    const char *choices;        /* ENUM: "json|csv|text" */
    size_t      offset;         /* where the value goes in the section's struct */
    ingest_conf_parse_fn parse; /* CUSTOM */
    const char *help;
};

/* Value parsers, shared by the loader and by tests.  0 or INGEST_ECONFIG
 * with a reason in err. */
int ingest_conf_parse_size(const char *s, int64_t *out, char *err, size_t errlen);
int ingest_conf_parse_duration(const char *s, int64_t *ms, char *err, size_t errlen);
int ingest_conf_parse_bool(const char *s, int *out, char *err, size_t errlen);
int ingest_conf_parse_int(const char *s, int64_t *out, char *err, size_t errlen);
int ingest_conf_parse_listen(const char *s, char *err, size_t errlen);
/* Lexically normalised absolute path of `path` relative to `basedir`; malloc'd. */
char *ingest_conf_abspath(const char *basedir, const char *path);

/* ---- loaded configuration ---------------------------------------------- */

/* A free-form key/value from the file ([schema] columns, kafka.* properties). */
struct ingest_conf_kv {
    char *key;
    char *value;
    int   line;
};

struct ingest_column_conf {
    char *name;
    enum ingest_type_id type; /* batch.h's types: the schema is what the batches carry */
    int   precision, scale;   /* decimal(p,s) */
    int   not_null;
    int   line;
};

/* "long not null", "decimal(10,2)": 0 or INGEST_ECONFIG with a reason. */
int ingest_conf_parse_coltype(const char *text, struct ingest_column_conf *col,
                              char *err, size_t errlen);

struct ingest_source_ops;

struct ingest_source_conf {
    const struct ingest_source_ops *ops;   /* chosen by `type` */
    void  *conf;                           /* the connector's struct, ops->conf_size bytes */
    struct ingest_conf_kv *props;          /* passthrough keys, prefix stripped */
    size_t nprops;
    int    line;                           /* of [source] */
};

enum ingest_evolution { INGEST_EVOLVE_ADD_COLUMNS, INGEST_EVOLVE_RESCUE, INGEST_EVOLVE_FAIL,
                        INGEST_EVOLVE_NONE };
enum ingest_action { INGEST_ACT_WARN, INGEST_ACT_DROP, INGEST_ACT_FAIL, INGEST_ACT_QUARANTINE };
enum ingest_compression { INGEST_COMP_ZSTD, INGEST_COMP_SNAPPY, INGEST_COMP_NONE };

struct ingest_transform_conf {
    char *column;
    char *expr;
    int   line;
};

struct ingest_expect_conf {
    char *name;
    char *condition;
    int   action;           /* enum ingest_action */
    int   line;             /* of the [expect NAME] header */
};

struct ingest_sink_conf {
    char   *path;
    char   *partition_by;   /* comma-separated column list as written; NULL = none */
    char  **partition_cols; /* parsed list */
    size_t  npartition_cols;
    int64_t target_file_size;
    char   *quarantine;
    int     compression;    /* enum ingest_compression */
    int64_t compression_level;
    int64_t row_group_size;
    int64_t checkpoint_interval;
};

struct ini_file;

struct ingest_pipeline_conf {
    struct ini_file *ini;    /* the parsed file (private), for FILE:LINE of later checks */
    char   *file;            /* config file as given */
    char   *basedir;         /* its directory, absolute */
    int     line;            /* of [pipeline] */
    uint64_t fingerprint;    /* hash of every setting of the file: equal = unchanged */

    char   *name;
    char   *checkpoint;
    int64_t trigger_ms;
    int64_t max_batch_records;
    int64_t max_batch_bytes;
    int64_t memory_limit;
    int64_t drain_timeout_ms;

    struct ingest_source_conf source;

    int     has_schema;
    struct ingest_column_conf *columns;
    size_t  ncolumns;

    int     evolution;       /* enum ingest_evolution */
    char   *rescued_column;  /* NULL = none */

    struct ingest_transform_conf *transforms;
    size_t  ntransforms;
    struct ingest_expect_conf *expects;
    size_t  nexpects;

    struct ingest_sink_conf sink;
};

struct ingest_conf {
    struct ingest_pipeline_conf **pipelines;
    size_t  npipelines;
    char   *metrics_listen;  /* NULL: none given; "off": disabled */
    char   *metrics_file;    /* file that carried [metrics] */
    int     metrics_line;
};

struct ingest_conf_load_opts {
    const char *(*getenv_fn)(const char *);   /* NULL: getenv */
};

/*
 * Loads and validates the files.  On success returns 0 and *out owns a new
 * config (free with ingest_conf_free).  On failure returns INGEST_ECONFIG
 * (or INGEST_ENOMEM), *out is NULL and errs holds every error found.
 */
int ingest_conf_load(const char *const *files, size_t nfiles,
                     const struct ingest_conf_load_opts *opts,
                     struct ingest_conf **out, struct ingest_conf_errors *errs);
/* Same, from in-memory text (tests, fuzzing): one file named `name`. */
int ingest_conf_load_text(const char *name, const char *text,
                          const struct ingest_conf_load_opts *opts,
                          struct ingest_conf **out, struct ingest_conf_errors *errs);
void ingest_conf_free(struct ingest_conf *conf);

/*
 * --check's second half: is what the config names reachable?  Directories
 * exist and are readable/writable as needed, the parents of tables and
 * checkpoints that do not exist yet are writable, Kafka brokers answer.
 * Errors are added to errs (FILE:LINE of the key).  Returns the number added.
 */
size_t ingest_conf_probe(const struct ingest_conf *conf, struct ingest_conf_errors *errs);

/* Probe helpers for connectors: 0 if `path` is a directory we can read
 * (want_write = 0) or write, or, when it does not exist yet, if its nearest
 * existing ancestor is a writable directory (so it can be created).
 * must_exist forbids the latter.  Else -1 with a reason in err. */
int ingest_conf_probe_dir(const char *path, int want_write, int must_exist,
                          char *err, size_t errlen);

/* Writes the reference of every section and key (ingestd --help-config). */
void ingest_conf_help(struct ingest_buf *out);

/* Helpers for connectors' cross-key checks. */
struct ingest_conf_diag;
/* Error at the line of `key` in the section being checked (or its header). */
void ingest_conf_diag_error(struct ingest_conf_diag *d, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Error at an explicit line (a passthrough property's). */
void ingest_conf_diag_error_at(struct ingest_conf_diag *d, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Errors reported so far (to tell whether a step added any). */
size_t ingest_conf_diag_count(const struct ingest_conf_diag *d);
#endif
