/*
 * dl_path.h - Delta partition values, Hive directory names and add.path
 * encoding (specs/delta-parquet.md A4).
 *
 * A row's partition value becomes text the way the protocol serializes it
 * (numbers and decimals as plain text, dates YYYY-MM-DD, timestamps
 * ISO-8601 UTC with microseconds, booleans true/false, strings as they
 * are); a directory component is `col=value` with Hive's percent-escaping
 * (null -> __HIVE_DEFAULT_PARTITION__); and the relative path goes into
 * add.path URI-encoded, so Hive's '%' appears as '%25' in the log.
 * Pure functions, any thread.
 */
#ifndef INGESTD_DL_PATH_H
#define INGESTD_DL_PATH_H

#include <stddef.h>

#include "ingestd/batch.h"
#include "ingestd/buf.h"

/* The Delta partition value of row `row` of vector v (a top-level column of
 * type boolean, int8..int64, float, double, string, date, timestamp or
 * decimal), appended to out: "true"/"false"; integers in decimal; floats
 * as the shortest text that reads back to the same float/double ("1.0",
 * "0.1", "1e+21", "NaN", "Infinity", "-Infinity"); decimals with exactly
 * `scale` fraction digits ("-0.05"); dates "YYYY-MM-DD"; timestamps
 * "YYYY-MM-DDTHH:MM:SS.ffffffZ"; strings as they are.  A null sets
 * *is_null = 1 and appends nothing (otherwise *is_null = 0).  Returns 0,
 * INGEST_ENOTSUP (type that cannot partition: binary, nested),
 * INGEST_ERANGE (date/timestamp outside years 0001-9999; nothing appended),
 * INGEST_EINVAL (row >= v->length, decimal precision/scale outside 1..38)
 * or INGEST_ENOMEM. */
int dl_partition_value(const struct ingest_vector *v, size_t row, struct ingest_buf *out,
                       int *is_null);

/* Appends s[0..n) escaped as Hive escapes directory names and values:
 * bytes 0x01-0x1F, 0x7F and  " # % ' * / : = ? \ { [ ] ^  become %XX
 * (uppercase hex); everything else is kept, 0x00 and UTF-8 included (as
 * Spark's escapePathName).  Returns 0 or INGEST_ENOMEM. */
int dl_hive_escape(const char *s, size_t n, struct ingest_buf *out);

/* Appends "col=value" for one partition column, both sides Hive-escaped
 * (value NULL = null, written as __HIVE_DEFAULT_PARTITION__; an empty
 * string is also null).  Returns 0 or INGEST_ENOMEM. */
int dl_partition_dir(const char *col, const char *value, struct ingest_buf *out);

/* Appends the relative path encoded for add.path: every byte except
 * A-Za-z0-9 - . _ ~ / = @ : + , ; $ & ! ' ( ) * becomes %XX (uppercase
 * hex), so '%' becomes %25.  Returns 0 or INGEST_ENOMEM. */
int dl_uri_encode(const char *path, struct ingest_buf *out);

/* Appends the file-system path of an add.path: %XX decoded (either hex
 * case); a "file:" URI (file:/abs, file:///abs, file://localhost/abs)
 * becomes the absolute path.  Anything else that starts with a URI scheme
 * (letters, digits, + - . then ':' before any '/') is refused, so a
 * relative path must not have ':' in its first component (ours cannot:
 * Hive escapes ':').  Returns 0, INGEST_EPARSE (bad %-escape, a decoded
 * NUL byte, another scheme or host; out is left as it was) or
 * INGEST_ENOMEM. */
int dl_uri_decode(const char *path, struct ingest_buf *out);

#endif
