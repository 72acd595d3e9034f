/*
 * dl_stats.h - add.stats JSON for a data file (specs/delta-parquet.md A5),
 * built from the statistics the Parquet writer returns, so a file is never
 * read back to describe it.
 *
 * {"numRecords":N,"minValues":{...},"maxValues":{...},"nullCount":{...}}:
 * the first `num_indexed` leaf columns of the file's schema in order (-1 =
 * all); a struct's leaves count one by one and nest as objects; a list or
 * a map counts as one column and gets no statistics.  min/max only for
 * numbers, date, timestamp and string: ints as JSON integers, decimals as
 * JSON numbers with their scale, floats as numbers (no min/max when the
 * file has a NaN or an infinite bound), dates "YYYY-MM-DD", timestamps
 * truncated down to ms "YYYY-MM-DDTHH:MM:SS.sssZ", strings at most 32
 * characters (a cut maximum gets U+10FFFF appended so it stays an upper
 * bound).  nullCount for every indexed leaf.  A column whose bound cannot
 * be written (date outside 0001-9999, string that is not UTF-8) also gets
 * only its nullCount; a struct left without members is omitted from that
 * object.
 * Pure, any thread.
 */
#ifndef INGESTD_DL_STATS_H
#define INGESTD_DL_STATS_H

#include "ingestd/batch.h"
#include "ingestd/buf.h"
#include "ingestd/parquet.h"

/* Appends the stats JSON object text (not a JSON string literal) for the
 * file written with `schema` whose writer statistics are `info` (leaves
 * matched by position, depth first).  num_indexed < 0 means all columns.
 * Returns 0, INGEST_EINVAL (info's columns do not match the schema's
 * leaves; nothing appended) or INGEST_ENOMEM. */
int dl_stats_json(const struct ingest_schema *schema, const struct ingest_parquet_file_info *info,
                  int num_indexed, struct ingest_buf *out);

/* numRecords of a stats JSON text: 0 and *out, or INGEST_ENOENT when the
 * text has none (or is not an object), INGEST_EPARSE when it is not JSON
 * or numRecords is not a non-negative integer, INGEST_ENOMEM. */
int dl_stats_num_records(const char *stats, size_t len, int64_t *out);

#endif
