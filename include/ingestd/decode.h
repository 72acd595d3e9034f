/*
 * decode.h - the hot-path record decoder: NDJSON lines straight into the
 * columns of the declared schema (batch.h), no per-record heap objects.
 *
 * A decoder is fed whole lines (a buffer that ends at a line boundary) and
 * appends one row per JSON object line to the batch it is building; the
 * caller takes the batch when it wants (at a micro-batch's size limit or
 * at the end of its input).  One decoder belongs to one thread at a time;
 * decoders share nothing, so decoding a large input on two cores means two
 * decoders on two byte ranges.
 *
 * Members are matched to columns by name, exactly first, then ignoring
 * ASCII case (the first column in schema order wins); an unknown member's
 * value is still checked to be valid JSON.  A duplicate key: the last one
 * wins, and the values before it are only checked to be JSON (an unknown
 * key's duplicates all go to the rescued data, see below).  A missing
 * member or a JSON null is a null.  Conversions are strict, never lossy:
 *   long/int/short/byte  integer literals in range ("1.0", 1e3, "5": bad)
 *   double/float         any number (float rounds from the double, which is
 *                        exactly strtod's); past the type's range: bad
 *   decimal(p,s)         a number or a plain decimal string "-12.50"; more
 *                        than s fraction digits (after the exponent, zeros
 *                        included) or p - s integer digits: bad
 *   boolean              true / false
 *   string               a string (unescaped; valid UTF-8); a number, true
 *                        or false as its literal text; an object or array
 *                        as its exact text in the input, whitespace included
 *   binary               a base64 string, padded or not
 *   date                 "YYYY-MM-DD", years 0001-9999
 *   timestamp            "YYYY-MM-DD", or that + 'T' or ' ' + "HH:MM",
 *                        ":SS", ".fraction" (1-9 digits, past the us
 *                        dropped), then nothing (UTC), 'Z', +-HH:MM, +-HHMM
 *                        or +-HH; or a number of epoch_unit since 1970
 *                        (s and ms may have fractions, converted exactly
 *                        and dropped past the us toward negative infinity;
 *                        us takes integers)
 *
 * Bad records (specs: ../shared/design.md "Nothing silently lost"): a line
 * that is not a JSON object, a value that cannot be converted to its
 * column's type without loss, invalid UTF-8, a missing or null `not null`
 * column, a line longer than max_line.  Each is reported through the
 * callback with its line number and reason and never stops the decoding;
 * it leaves nothing of itself in the batch.  When a rescued-data column is
 * configured, a record whose only problems are values that do not convert
 * keeps its row: those columns are null and the rescued column holds a
 * JSON object of the offending members with their original JSON text, in
 * input order ({"amount":"12x"}); unknown members go there too when
 * rescue_unknown is set.  An input member named like the rescued column
 * is an unknown member.  Malformed lines, invalid UTF-8 and not-null
 * violations are bad records even then.  Blank lines (spaces, tabs, CRs)
 * are skipped and counted; CRLF and a UTF-8 BOM at the start of line 1
 * are accepted.
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

/* A bad record: reason is a short text, "column amount: not a decimal",
 * "column id: null in a not null column", "line too long (...)", or for a
 * line that is not a well-formed JSON object "offset 17: expected ',' or
 * '}'" (bytes from the start of the line, 0-based).  line/len is the raw
 * line, whole, without its line end (LF or CRLF) and without a leading
 * BOM; both are valid only during the call.  Called on the decoding
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

/* NULL with a reason in err (a nested column type, two columns of one
 * name, a bad decimal, a rescued column that is not a nullable string).
 * The decoder keeps pointers into o->schema, not into o. */
struct ingest_decoder *ingest_decoder_new(const struct ingest_decode_opts *o, char *err,
                                          size_t errlen);
void ingest_decoder_free(struct ingest_decoder *d);

/* Decodes buf[0..len): complete lines, each ending in '\n' except perhaps
 * the last one (end of input).  first_line_no numbers the first line
 * (1-based; line 1 may start with a BOM).  bad may be NULL.  buf is only
 * read, and only during the call.  Returns 0, or INGEST_ENOMEM /
 * INGEST_ERANGE (a column's data would pass 4 GiB: take the batch
 * earlier).  An error stops at the line that hit it: the rows before it
 * are kept, that line and the rest of buf are not decoded, and stats
 * `lines` counts only the lines done, so the caller can take the batch
 * and feed again from line first_line_no + (lines now - lines before). */
int ingest_decoder_feed(struct ingest_decoder *d, const char *buf, size_t len,
                        uint64_t first_line_no, ingest_bad_record_fn bad, void *ud);

/* Moves the rows decoded so far into *out (caller owns it: ingest_batch_free;
 * out->schema is the decoder's schema; a column without nulls has validity
 * NULL) and starts an empty batch, presized from this one.  0 or
 * INGEST_ENOMEM (then the decoder keeps its rows). */
int ingest_decoder_take(struct ingest_decoder *d, struct ingest_batch *out);

/* Gives a batch this decoder produced back once it is written: its buffers
 * become the next batch's (no fresh pages to fault in), the rest is freed.
 * Takes ownership of *b in every case.  Same thread as feed. */
void ingest_decoder_recycle(struct ingest_decoder *d, struct ingest_batch *b);

size_t ingest_decoder_rows(const struct ingest_decoder *d);
/* Bytes of memory the pending batch holds (buffer capacities). */
size_t ingest_decoder_memory(const struct ingest_decoder *d);
const struct ingest_decode_stats *ingest_decoder_stats(const struct ingest_decoder *d);

#endif
