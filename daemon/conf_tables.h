/* conf_tables.h - the core sections' key tables (private to daemon/). */
#ifndef INGEST_CONF_TABLES_H
#define INGEST_CONF_TABLES_H

#include <stddef.h>

#include "ingestd/config.h"

struct ingest_metrics_conf {
    char *listen;
};

struct ingest_expect_keys {     /* what the [expect NAME] table fills */
    char *condition;
    int   action;
};

struct ingest_policy_keys {     /* what the [schema_policy] table fills */
    int   evolution;
    char *rescued_column;
};

struct conf_section_def {
    const char *name;
    const char *help;
    const struct ingest_conf_key *keys;   /* NULL: free-form keys */
    size_t nkeys;
    int    takes_arg;                     /* [expect NAME] */
    int    required;
};

extern const struct conf_section_def conf_sections[];
extern const size_t conf_nsections;

const struct conf_section_def *conf_section_find(const char *name);

#endif
