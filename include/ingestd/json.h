/*
 * json.h - a small DOM JSON reader that keeps numbers exact.
 *
 * Why not cJSON here: cJSON holds every number as a double, so a Delta log
 * value past 2^53 (a txn version, a Kafka offset, a long stat) would come
 * back changed.  This reader keeps each number's literal text and converts
 * it on request (ingest_json_int64 is exact over the whole int64 range).
 * It is used for the Delta log, _last_checkpoint and other small documents;
 * the hot-path record decoder is a different, streaming piece of code.
 *
 * A document is parsed into one arena: every node and every unescaped
 * string lives there and is freed with ingest_json_doc_free.  Strict RFC
 * 8259: no comments, no trailing commas, no NaN; nesting deeper than 512 is
 * refused; invalid UTF-8 and lone surrogates in \u escapes are refused.
 * Threads: documents share nothing; any thread may parse.
 */
#ifndef INGESTD_JSON_H
#define INGESTD_JSON_H

#include <stddef.h>
#include <stdint.h>

enum ingest_json_type {
    INGEST_JSON_NULL,
    INGEST_JSON_FALSE,
    INGEST_JSON_TRUE,
    INGEST_JSON_NUMBER,
    INGEST_JSON_STRING,
    INGEST_JSON_ARRAY,
    INGEST_JSON_OBJECT,
};

struct ingest_json {
    enum ingest_json_type type;
    const char *key;            /* member name (unescaped, NUL-terminated) in an object, else NULL */
    size_t key_len;
    const char *str;            /* STRING: unescaped value; NUMBER: the literal as written;
                                 * NUL-terminated (a string may also hold \u0000: use len) */
    size_t len;
    struct ingest_json *child;  /* ARRAY/OBJECT: first element or member */
    struct ingest_json *next;   /* next sibling */
    size_t count;               /* ARRAY/OBJECT: number of elements or members */
};

struct ingest_json_doc {
    struct ingest_json *root;
    void *arena;                /* private */
};

/* Parses text[0..len) (one value, surrounded by optional whitespace; text
 * need not be NUL-terminated).  On success returns 0 and doc owns the tree;
 * the tree keeps no pointer into text, which the caller may free at once.
 * On failure returns INGEST_EPARSE (or INGEST_ENOMEM; INGEST_EINVAL for
 * a NULL doc), doc is empty, and err (may be NULL) says what and where, the
 * offset counting bytes from 0: "offset 17: expected ':' after member name". */
int ingest_json_parse(const char *text, size_t len, struct ingest_json_doc *doc,
                      char *err, size_t errlen);
/* Frees everything the document owns; the doc is empty afterwards.  A zeroed
 * or already freed doc is fine. */
void ingest_json_doc_free(struct ingest_json_doc *doc);

/* Member `key` of an object (first match), or NULL if obj is not an object
 * or has no such member.  obj may be NULL. */
const struct ingest_json *ingest_json_get(const struct ingest_json *obj, const char *key);

/* The value as int64: only an integer literal (no fraction, no exponent)
 * that fits.  Returns 0, INGEST_EINVAL (not an integer number, or NULL) or
 * INGEST_ERANGE. */
int ingest_json_int64(const struct ingest_json *n, int64_t *out);
/* Any number as a double (strtod of the literal, "C" locale; beyond the
 * double range it is +-HUGE_VAL or 0, as strtod gives).  0 or INGEST_EINVAL. */
int ingest_json_double(const struct ingest_json *n, double *out);
/* The string value, or NULL if n is not a string (or NULL). */
const char *ingest_json_string(const struct ingest_json *n);
/* 1 for true, 0 for false, -1 if n is not a boolean. */
int ingest_json_bool(const struct ingest_json *n);

#endif
