/*
 * decode.h - the hot-path record decoder: NDJSON lines straight into the
 * columns of the declared schema (batch.h), no per-record heap objects.
 *
 * A decoder is fed whole lines (a buffer that ends at a line boundary) and
 * appends one row per JSON object line to the batch it is building; the
 * caller takes the batch when it wants (at a micro-batch's size limit or
 * at the end of its input).  One decoder belongs to one thread; decoding a
 * large input on two cores means two decoders on two byte ranges.
 *
 * Bad records (specs: ../shared/design.md "Nothing silently lost"): a line
 * that is not a JSON object, a value that cannot be converted to its
 * column's type without loss, invalid UTF-8, a missing or null `not null`
 * column, a line longer than max_line.  Each is reported through the
 * callback with its line number and reason and never stops the decoding.
 * When a rescued-data column is configured, a record whose only problems
 * are values that do not convert keeps its row: those columns are null and
 * the rescued column holds a JSON object of the offending fields with their
 * original JSON text ({"amount":"12x"}); unknown fields go there too when
 * rescue_unknown is set.  Blank lines are skipped; CRLF and a UTF-8 BOM at
 * the start of line 1 are accepted.
 */
#ifndef INGESTD_DECODE_H
#define INGESTD_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "ingestd/batch.h"

enum ingest_epoch_unit { INGEST_EPOCH_S, INGEST_EPOCH_MS, INGEST_EPOCH_US };

struct ingest_decode_opts {
    /* Flat schema of primitive columns (boolean, int8..int64, float, double,
     * string, binary, date, timestamp, decimal).  Borrowed: must outlive
     * the decoder and the batches it produces.  field->nullable == 0 means
     * `not null`. */
    const struct ingest_schema *schema;
    int    rescued_col;         /* index of the rescued-data string column, or -1 */
    int    rescue_unknown;      /* unknown fields go to the rescued column too */
    int    epoch_unit;          /* enum ingest_epoch_unit: numbers in timestamp columns */
    size_t max_line;            /* longer lines are bad records; 0: 16 MiB */
};

/* A bad record: reason is a short text ("column amount: not a number"),
 * line/len the raw line (without its newline).  Called on the decoding
 * thread, during ingest_decoder_feed. */
typedef void (*ingest_bad_record_fn)(void *ud, uint64_t line_no, const char *reason,
                                     const char *line, size_t len);

struct ingest_decode_stats {
    uint64_t lines;             /* lines seen, blank ones included */
    uint64_t rows;              /* rows appended */
    uint64_t bad;               /* bad records reported */
    uint64_t rescued;           /* rows kept with a rescued-data value */
    uint64_t blank;
};

struct ingest_decoder;

/* NULL with a reason in err (a nested column type, bad rescued column). */
struct ingest_decoder *ingest_decoder_new(const struct ingest_decode_opts *o, char *err,
                                          size_t errlen);
void ingest_decoder_free(struct ingest_decoder *d);

/* Decodes buf[0..len): complete lines, each ending in '\n' except perhaps
 * the last one (end of input).  first_line_no numbers the first line
 * (1-based; line 1 may start with a BOM).  bad may be NULL.  Returns 0, or
 * INGEST_ENOMEM / INGEST_ERANGE (a column's data would pass 4 GiB: take
 * the batch earlier); the rows decoded before an error are kept. */
int ingest_decoder_feed(struct ingest_decoder *d, const char *buf, size_t len,
                        uint64_t first_line_no, ingest_bad_record_fn bad, void *ud);

/* Moves the rows decoded so far into *out (caller owns it: ingest_batch_free;
 * out->schema is the decoder's schema) and starts an empty batch.  0 or
 * INGEST_ENOMEM. */
int ingest_decoder_take(struct ingest_decoder *d, struct ingest_batch *out);

size_t ingest_decoder_rows(const struct ingest_decoder *d);
/* Bytes of memory the pending batch holds (buffer capacities). */
size_t ingest_decoder_memory(const struct ingest_decoder *d);
const struct ingest_decode_stats *ingest_decoder_stats(const struct ingest_decoder *d);

#endif
