/* canonical.h - test support: batches as the reader harness's canonical JSON. */
#ifndef INGEST_TEST_CANONICAL_H
#define INGEST_TEST_CANONICAL_H

#include <stdint.h>

#include "ingestd/batch.h"
#include "ingestd/buf.h"

/* {"columns":[names],"rows":[ */
void canon_begin(struct ingest_buf *o, const struct ingest_schema *schema);
/* Appends the batch's rows; *first starts at 1 and tracks the comma. */
void canon_rows(struct ingest_buf *o, const struct ingest_batch *batch, int *first);
/* ]} */
void canon_end(struct ingest_buf *o, int first);
/* A JSON string literal of the bytes (UTF-8 assumed valid). */
void canon_str(struct ingest_buf *o, const uint8_t *p, size_t n);

#endif
