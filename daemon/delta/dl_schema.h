/*
 * dl_schema.h - Delta schema JSON (specs/delta-parquet.md A6) to and from
 * the batch schema (batch.h), and the schema evolution rule.
 *
 * Types: boolean, byte, short, integer, long, float, double, string,
 * binary, date, timestamp, decimal(P,S) (P <= 38), struct, array
 * (elementType/containsNull -> one child named "element"), map
 * (keyType/valueType/valueContainsNull -> children "key" and "value").
 * timestamp_ntz, void, variant and other types are INGEST_ENOTSUP.
 * Field metadata is written as {} and ignored when read.  Pure, any thread.
 */
#ifndef INGESTD_DL_SCHEMA_H
#define INGESTD_DL_SCHEMA_H

#include <stddef.h>

#include "ingestd/batch.h"
#include "ingestd/buf.h"

/* Appends {"type":"struct","fields":[...]} for s (the schemaString value,
 * not yet escaped as a JSON string), fields in schema order, Spark's key
 * order, "metadata":{} on every field.  Returns 0, INGEST_EINVAL (s is
 * not a Delta schema: two names in one struct equal ignoring ASCII case, a
 * NULL name, a list without exactly one child or a map without two, a
 * decimal outside 1 <= P <= 38, 0 <= S <= P; out may then hold a partial
 * text) or INGEST_ENOMEM (out's sticky oom flag). */
int dl_schema_to_json(const struct ingest_schema *s, struct ingest_buf *out);

/* Parses a schemaString.  On success *out owns new fields (free with
 * ingest_schema_free); on failure *out is empty.  Returns 0,
 * INGEST_EPARSE (not a Delta schema, duplicate names included; err says
 * where, e.g. "field payload.items: missing elementType"),
 * INGEST_ENOTSUP (a type we cannot write, err names the field and the
 * type: "field ts: type timestamp_ntz is not supported") or
 * INGEST_ENOMEM.  "decimal" alone is decimal(10,0), as in Spark. */
int dl_schema_from_json(const char *text, size_t len, struct ingest_schema *out, char *err,
                        size_t errlen);

/* Evolution: can data of schema `want` be written to a table of schema
 * `have`, and what must the table's schema become?  Names match ASCII
 * case-insensitively; the result keeps have's spelling and order.
 * Struct fields, list elements and map values are merged recursively; map
 * keys must be the same type.
 *   - a column/field of want missing from have is added, nullable, at the
 *     end of its struct (nested struct fields too);
 *   - a column of have missing from want is kept (data files hold nulls);
 *     it must be nullable, else INGEST_ECONFLICT;
 *   - the same column with another type (decimal precision/scale, array
 *     element, map key/value included) is INGEST_ECONFLICT;
 *   - a column NOT NULL in have but nullable in want is INGEST_ECONFLICT.
 * Returns 0 when have already fits (nothing to change; *merged untouched),
 * 1 when *merged holds the evolved schema (owned by the caller, free with
 * ingest_schema_free), or a negative code with the reason in err naming
 * the dotted path, list elements and map keys/values by their child names
 * ("column amount: table has decimal(10,2), pipeline has double",
 * "column events.element.tags.element: ...").  Two names in one struct of
 * either schema equal ignoring case are INGEST_EINVAL. */
int dl_schema_merge(const struct ingest_schema *have, const struct ingest_schema *want,
                    struct ingest_schema *merged, char *err, size_t errlen);

/* Deep copy of src into *dst.  0 or INGEST_ENOMEM (dst left empty). */
int dl_schema_copy(const struct ingest_schema *src, struct ingest_schema *dst);

#endif
