/* conf_apply.h - key tables applied to INI sections (private to daemon/). */
#ifndef INGEST_CONF_APPLY_H
#define INGEST_CONF_APPLY_H

#include "conf_ini.h"
#include "ingestd/config.h"

struct ingest_conf_diag {
    struct ingest_conf_errors *errs;
    const char *file;
    const struct ini_section *sec;   /* NULL when the section is absent */
    int fallback_line;               /* used when sec is NULL */
};

/* Line of `key` in the diag's section, else of its header, else fallback. */
int  conf_key_line(const struct ingest_conf_diag *d, const char *key);
/* Parses the section's entries into base (defaults for absent keys; a
 * missing required key is an error when the section exists). */
void conf_apply_table(struct ingest_conf_diag *d, const struct ingest_conf_key *keys,
                      size_t n, void *base, const char *basedir, const char *secname);
/* Every entry no table claimed is an error, with a "did you mean". */
void conf_report_unknown(struct ingest_conf_diag *d, const struct ingest_conf_key *keys,
                         size_t n, const char *secname);
/* Frees the string fields the table describes. */
void conf_free_table(const struct ingest_conf_key *keys, size_t n, void *base);
int  conf_valid_name(const char *s);

#endif
