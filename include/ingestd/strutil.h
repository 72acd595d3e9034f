/* strutil.h - small string helpers shared by the config and expression code. */
#ifndef INGESTD_STRUTIL_H
#define INGESTD_STRUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Levenshtein distance, ASCII case-insensitive, for "did you mean" hints.
 * Words longer than 40 bytes get (size_t)-1: no hint is better than a slow one. */
size_t ingest_edit_distance(const char *a, const char *b);

/* "<dir>/<name>" in a new string (caller frees); NULL when out of memory. */
char *ingest_path_join(const char *dir, const char *name);

/* ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC) into buf; "-" for a
 * negative value (unknown). */
void ingest_fmt_ms(int64_t ms, char *buf, size_t len);

#endif
