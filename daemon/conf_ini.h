/*
 * conf_ini.h - the INI reader behind the config loader (private to daemon/).
 *
 * Reads a whole file into sections of key/value entries, each with its line
 * number so that every later error can name FILE:LINE.  It knows the syntax
 * only: comments, quoting, ${ENV} expansion; what the keys mean is for
 * config.c.  Syntax errors are reported through the error list and the bad
 * line is skipped, so one run reports every mistake in a file.
 */
#ifndef INGEST_CONF_INI_H
#define INGEST_CONF_INI_H

#include <stddef.h>

#include "ingestd/config.h"

struct ini_entry {
    char *key;
    char *value;
    int   line;
    int   used;     /* set by the loader when a table claimed the key */
    int   bad;      /* the value had an error already reported (e.g. unset ${VAR}) */
};

struct ini_section {
    char  *name;    /* "pipeline", "expect" */
    char  *arg;     /* "valid_id" for [expect valid_id]; NULL if none */
    int    line;
    int    bad;     /* its header was malformed: keys are kept out of other sections */
    struct ini_entry *entries;
    size_t n, cap;
};

struct ini_file {
    char  *path;    /* as given by the user, for messages */
    int    nlines;
    struct ini_section *sections;
    size_t n, cap;
};

/* Reads `path`.  Returns NULL only when the file cannot be read or memory
 * runs out (the reason is in errs); syntax errors are added to errs and the
 * returned file holds what could be read.  getenv_fn may be NULL (getenv). */
struct ini_file *ini_read(const char *path, const char *(*getenv_fn)(const char *),
                          struct ingest_conf_errors *errs);
/* Same, from a buffer (tests, fuzzing). */
struct ini_file *ini_parse(const char *path, const char *text, size_t len,
                           const char *(*getenv_fn)(const char *),
                           struct ingest_conf_errors *errs);
void ini_free(struct ini_file *f);

/* First entry with this key in the section, or NULL. */
struct ini_entry *ini_find(const struct ini_section *s, const char *key);

#endif
