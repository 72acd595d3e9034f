/*
 * canonical.c - test support: batches as the canonical JSON of the Parquet
 * reader harness (tests/readers/pqcheck.mjs): {"columns":[...],"rows":[...]}
 * with null; true/false; integers as decimal strings; {"f32"|"f64":"0x..."}
 * or "NaN"; strings; {"hex":...}; {"date":"<days>"}; {"ts_us":"<us>"};
 * {"dec":"-1.50"}; structs as objects; lists as arrays; maps as [key, value]
 * pairs.  pqgen writes what it wrote in this form; pqdump what our reader
 * read, so the three independent readers can judge both.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "canonical.h"

/* --- expected JSON ------------------------------------------------------------- */

void canon_str(struct ingest_buf *o, const uint8_t *p, size_t n)
{
    ingest_buf_putc(o, '"');
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == '"' || c == '\\') {
            ingest_buf_putc(o, '\\');
            ingest_buf_putc(o, (char)c);
        } else if (c < 0x20) {
            ingest_buf_printf(o, "\\u%04x", c);
        } else {
            ingest_buf_putc(o, (char)c);
        }
    }
    ingest_buf_putc(o, '"');
}

static void dec_text(struct ingest_buf *o, __int128 x, int scale)
{
    char digits[64];
    int n = 0, neg = x < 0;
    unsigned __int128 u = neg ? -(unsigned __int128)x : (unsigned __int128)x;
    do {
        digits[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    while (n < scale + 1)
        digits[n++] = '0';
    ingest_buf_puts(o, "{\"dec\":\"");
    if (neg)
        ingest_buf_putc(o, '-');
    for (int i = n - 1; i >= 0; i--) {
        ingest_buf_putc(o, digits[i]);
        if (i == scale && scale > 0)
            ingest_buf_putc(o, '.');
    }
    ingest_buf_puts(o, "\"}");
}

static void json_value(struct ingest_buf *o, const struct ingest_field *f,
                       const struct ingest_vector *v, size_t i)
{
    if (!ingest_vector_valid(v, i)) {
        ingest_buf_puts(o, "null");
        return;
    }
    const void *p = v->values;
    switch (f->type) {
    case INGEST_TYPE_BOOLEAN:
        ingest_buf_puts(o, ((const uint8_t *)p)[i] ? "true" : "false");
        break;
    case INGEST_TYPE_INT8: ingest_buf_printf(o, "\"%d\"", ((const int8_t *)p)[i]); break;
    case INGEST_TYPE_INT16: ingest_buf_printf(o, "\"%d\"", ((const int16_t *)p)[i]); break;
    case INGEST_TYPE_INT32: ingest_buf_printf(o, "\"%" PRId32 "\"", ((const int32_t *)p)[i]); break;
    case INGEST_TYPE_INT64: ingest_buf_printf(o, "\"%" PRId64 "\"", ((const int64_t *)p)[i]); break;
    case INGEST_TYPE_DATE:
        ingest_buf_printf(o, "{\"date\":\"%" PRId32 "\"}", ((const int32_t *)p)[i]);
        break;
    case INGEST_TYPE_TIMESTAMP:
        ingest_buf_printf(o, "{\"ts_us\":\"%" PRId64 "\"}", ((const int64_t *)p)[i]);
        break;
    case INGEST_TYPE_FLOAT: {
        float x = ((const float *)p)[i];
        uint32_t bits;
        memcpy(&bits, &x, 4);
        if (isnan(x))
            ingest_buf_puts(o, "{\"f32\":\"NaN\"}");
        else
            ingest_buf_printf(o, "{\"f32\":\"0x%08" PRIx32 "\"}", bits);
        break;
    }
    case INGEST_TYPE_DOUBLE: {
        double x = ((const double *)p)[i];
        uint64_t bits;
        memcpy(&bits, &x, 8);
        if (isnan(x))
            ingest_buf_puts(o, "{\"f64\":\"NaN\"}");
        else
            ingest_buf_printf(o, "{\"f64\":\"0x%016" PRIx64 "\"}", bits);
        break;
    }
    case INGEST_TYPE_STRING:
        canon_str(o, v->data + v->offsets[i], v->offsets[i + 1] - v->offsets[i]);
        break;
    case INGEST_TYPE_BINARY:
        ingest_buf_puts(o, "{\"hex\":\"");
        for (uint32_t k = v->offsets[i]; k < v->offsets[i + 1]; k++)
            ingest_buf_printf(o, "%02x", v->data[k]);
        ingest_buf_puts(o, "\"}");
        break;
    case INGEST_TYPE_DECIMAL:
        if (f->precision <= 18) {
            dec_text(o, ((const int64_t *)p)[i], f->scale);
        } else {
            unsigned __int128 u = 0;
            const uint8_t *le = (const uint8_t *)p + i * 16;
            for (int k = 15; k >= 0; k--)
                u = u << 8 | le[k];
            dec_text(o, (__int128)u, f->scale);
        }
        break;
    case INGEST_TYPE_STRUCT:
        ingest_buf_putc(o, '{');
        for (size_t k = 0; k < f->nchildren; k++) {
            if (k)
                ingest_buf_putc(o, ',');
            canon_str(o, (const uint8_t *)f->children[k].name, strlen(f->children[k].name));
            ingest_buf_putc(o, ':');
            json_value(o, &f->children[k], &v->children[k], i);
        }
        ingest_buf_putc(o, '}');
        break;
    case INGEST_TYPE_LIST:
    case INGEST_TYPE_MAP:
        ingest_buf_putc(o, '[');
        for (uint32_t j = v->offsets[i]; j < v->offsets[i + 1]; j++) {
            if (j > v->offsets[i])
                ingest_buf_putc(o, ',');
            if (f->type == INGEST_TYPE_LIST) {
                json_value(o, &f->children[0], &v->children[0], j);
            } else {
                ingest_buf_putc(o, '[');
                json_value(o, &f->children[0], &v->children[0], j);
                ingest_buf_putc(o, ',');
                json_value(o, &f->children[1], &v->children[1], j);
                ingest_buf_putc(o, ']');
            }
        }
        ingest_buf_putc(o, ']');
        break;
    }
}

/* Appends the rows of one batch to the expectation ("rows" array body). */
void canon_rows(struct ingest_buf *o, const struct ingest_batch *batch, int *first)
{
    for (size_t r = 0; r < batch->nrows; r++) {
        ingest_buf_puts(o, *first ? "\n[" : ",\n[");
        *first = 0;
        for (size_t c = 0; c < batch->schema->nfields; c++) {
            if (c)
                ingest_buf_putc(o, ',');
            json_value(o, &batch->schema->fields[c], &batch->columns[c], r);
        }
        ingest_buf_putc(o, ']');
    }
}

void canon_begin(struct ingest_buf *o, const struct ingest_schema *schema)
{
    ingest_buf_puts(o, "{\"columns\":[");
    for (size_t c = 0; c < schema->nfields; c++) {
        if (c)
            ingest_buf_putc(o, ',');
        canon_str(o, (const uint8_t *)schema->fields[c].name, strlen(schema->fields[c].name));
    }
    ingest_buf_puts(o, "],\"rows\":[");
}

void canon_end(struct ingest_buf *o, int first)
{
    ingest_buf_puts(o, first ? "]}\n" : "\n]}\n");
}
