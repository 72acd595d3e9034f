/* strutil.c - small string helpers (see strutil.h). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

#include "ingestd/strutil.h"

#define MAX_WORD 40

size_t ingest_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[MAX_WORD + 1];
    if (la > MAX_WORD || lb > MAX_WORD)
        return (size_t)-1;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t sub = diag + ((a[i - 1] | 0x20) != (b[j - 1] | 0x20));
            size_t best = up + 1 < row[j - 1] + 1 ? up + 1 : row[j - 1] + 1;
            row[j] = sub < best ? sub : best;
            diag = up;
        }
    }
    return row[lb];
}

char *ingest_path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

void ingest_fmt_ms(int64_t ms, char *buf, size_t len)
{
    if (ms < 0) {
        snprintf(buf, len, "-");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03dZ", (int)(ms % 1000));
}
