/*
 * thrift_enc.c - Thrift compact protocol encoder and Parquet footer
 * serializers (see thrift_enc.h; format in specs/delta-parquet.md C).
 */
#include <string.h>

#include "thrift_enc.h"

static inline void put_byte(struct ingest_buf *out, uint8_t b)
{
    if (out->len + 1 < out->cap) {
        out->data[out->len++] = (char)b;
        out->data[out->len] = '\0';
        return;
    }
    ingest_buf_append(out, &b, 1);
}

void tw_init(struct tw *t, struct ingest_buf *out)
{
    t->out = out;
    t->last = 0;
    t->depth = 0;
}

void tw_varint(struct ingest_buf *out, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    ingest_buf_append(out, tmp, n);
}

void tw_field_header(struct tw *t, int16_t id, enum tw_type type)
{
    int delta = id - t->last;
    if (delta > 0 && delta <= 15) {
        put_byte(t->out, (uint8_t)(delta << 4 | type));
    } else {
        put_byte(t->out, (uint8_t)type);
        tw_varint(t->out, tw_zigzag32(id));
    }
    t->last = id;
}

void tw_field_i8(struct tw *t, int16_t id, int8_t v)
{
    tw_field_header(t, id, TW_I8);
    put_byte(t->out, (uint8_t)v);
}

void tw_field_i16(struct tw *t, int16_t id, int16_t v)
{
    tw_field_header(t, id, TW_I16);
    tw_varint(t->out, tw_zigzag32(v));
}

void tw_field_i32(struct tw *t, int16_t id, int32_t v)
{
    tw_field_header(t, id, TW_I32);
    tw_varint(t->out, tw_zigzag32(v));
}

void tw_field_i64(struct tw *t, int16_t id, int64_t v)
{
    tw_field_header(t, id, TW_I64);
    tw_varint(t->out, tw_zigzag64(v));
}

void tw_field_bool(struct tw *t, int16_t id, int v)
{
    tw_field_header(t, id, v ? TW_TRUE : TW_FALSE);
}

void tw_field_double(struct tw *t, int16_t id, double v)
{
    uint64_t bits;
    uint8_t le[8];
    memcpy(&bits, &v, 8);
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(bits >> (8 * i));
    tw_field_header(t, id, TW_DOUBLE);
    ingest_buf_append(t->out, le, 8);
}

void tw_field_binary(struct tw *t, int16_t id, const void *p, size_t len)
{
    tw_field_header(t, id, TW_BINARY);
    tw_elem_binary(t, p, len);
}

void tw_field_string(struct tw *t, int16_t id, const char *s)
{
    tw_field_binary(t, id, s, strlen(s));
}

void tw_struct_begin(struct tw *t)
{
    if (t->depth < TW_MAX_DEPTH)
        t->stack[t->depth] = t->last;
    t->depth++;
    t->last = 0;
}

void tw_field_struct_begin(struct tw *t, int16_t id)
{
    tw_field_header(t, id, TW_STRUCT);
    tw_struct_begin(t);
}

void tw_struct_end(struct tw *t)
{
    put_byte(t->out, 0);
    if (t->depth > 0)
        t->depth--;
    t->last = t->depth < TW_MAX_DEPTH ? t->stack[t->depth] : 0;
}

void tw_field_list_begin(struct tw *t, int16_t id, enum tw_type elem, size_t n)
{
    tw_field_header(t, id, TW_LIST);
    if (n <= 14) {
        put_byte(t->out, (uint8_t)(n << 4 | elem));
    } else {
        put_byte(t->out, (uint8_t)(0xf0 | elem));
        tw_varint(t->out, n);
    }
}

void tw_elem_i32(struct tw *t, int32_t v)
{
    tw_varint(t->out, tw_zigzag32(v));
}

void tw_elem_binary(struct tw *t, const void *p, size_t len)
{
    tw_varint(t->out, len);
    ingest_buf_append(t->out, p, len);
}

/* --- Parquet structures --------------------------------------------------- */

void pqw_put_page_header(struct ingest_buf *out, const struct pqw_page_header *ph)
{
    struct tw t;
    tw_init(&t, out);
    tw_struct_begin(&t);
    tw_field_i32(&t, 1, ph->type);
    tw_field_i32(&t, 2, ph->uncompressed_size);
    tw_field_i32(&t, 3, ph->compressed_size);
    if (ph->type == PQW_DICTIONARY_PAGE) {
        tw_field_struct_begin(&t, 7);
        tw_field_i32(&t, 1, ph->num_values);
        tw_field_i32(&t, 2, ph->encoding);
        tw_struct_end(&t);
    } else {
        tw_field_struct_begin(&t, 5);
        tw_field_i32(&t, 1, ph->num_values);
        tw_field_i32(&t, 2, ph->encoding);
        tw_field_i32(&t, 3, PQW_ENC_RLE);
        tw_field_i32(&t, 4, PQW_ENC_RLE);
        tw_struct_end(&t);
    }
    tw_struct_end(&t);
}

void pqw_put_statistics(struct tw *t, const struct pqw_statistics *st)
{
    tw_field_i64(t, 3, st->null_count);
    if (st->has_max)
        tw_field_binary(t, 5, st->max, st->max_len);
    if (st->has_min)
        tw_field_binary(t, 6, st->min, st->min_len);
    if (st->has_max)
        tw_field_bool(t, 7, st->max_exact);
    if (st->has_min)
        tw_field_bool(t, 8, st->min_exact);
    if (st->has_nan_count)
        tw_field_i64(t, 9, st->nan_count);
}

static void put_logical(struct tw *t, const struct pqw_schema_element *se)
{
    tw_field_struct_begin(t, 10);
    tw_field_struct_begin(t, (int16_t)se->logical);
    switch (se->logical) {
    case PQW_LT_DECIMAL:
        tw_field_i32(t, 1, se->scale);
        tw_field_i32(t, 2, se->precision);
        break;
    case PQW_LT_TIMESTAMP:
        tw_field_bool(t, 1, 1);             /* isAdjustedToUTC */
        tw_field_struct_begin(t, 2);        /* unit: TimeUnit union */
        tw_field_struct_begin(t, 2);        /* MICROS {} */
        tw_struct_end(t);
        tw_struct_end(t);
        break;
    case PQW_LT_INTEGER:
        tw_field_i8(t, 1, (int8_t)se->lt_int_bits);
        tw_field_bool(t, 2, 1);
        break;
    default:                                /* STRING, MAP, LIST, DATE: {} */
        break;
    }
    tw_struct_end(t);
    tw_struct_end(t);
}

void pqw_put_schema_element(struct tw *t, const struct pqw_schema_element *se)
{
    tw_struct_begin(t);
    if (se->type >= 0)
        tw_field_i32(t, 1, se->type);
    if (se->type == PQW_FLBA)
        tw_field_i32(t, 2, se->type_length);
    if (se->repetition >= 0)
        tw_field_i32(t, 3, se->repetition);
    tw_field_string(t, 4, se->name);
    if (se->num_children >= 0)
        tw_field_i32(t, 5, se->num_children);
    if (se->converted >= 0)
        tw_field_i32(t, 6, se->converted);
    if (se->converted == PQW_CT_DECIMAL) {
        tw_field_i32(t, 7, se->scale);
        tw_field_i32(t, 8, se->precision);
    }
    if (se->logical != PQW_LT_NONE)
        put_logical(t, se);
    tw_struct_end(t);
}

void pqw_put_column_chunk(struct tw *t, const struct pqw_column_meta *cm)
{
    tw_struct_begin(t);
    tw_field_i64(t, 2, 0);                  /* file_offset: 0 as the IDL says */
    tw_field_struct_begin(t, 3);
    tw_field_i32(t, 1, cm->type);
    tw_field_list_begin(t, 2, TW_I32, cm->nencodings);
    for (size_t i = 0; i < cm->nencodings; i++)
        tw_elem_i32(t, cm->encodings[i]);
    tw_field_list_begin(t, 3, TW_BINARY, cm->path_len);
    for (size_t i = 0; i < cm->path_len; i++)
        tw_elem_binary(t, cm->path[i], strlen(cm->path[i]));
    tw_field_i32(t, 4, cm->codec);
    tw_field_i64(t, 5, cm->num_values);
    tw_field_i64(t, 6, cm->total_uncompressed);
    tw_field_i64(t, 7, cm->total_compressed);
    tw_field_i64(t, 9, cm->data_page_offset);
    if (cm->dictionary_page_offset >= 0)
        tw_field_i64(t, 11, cm->dictionary_page_offset);
    if (cm->stats) {
        tw_field_struct_begin(t, 12);
        pqw_put_statistics(t, cm->stats);
        tw_struct_end(t);
    }
    tw_struct_end(t);
    tw_struct_end(t);
}

void pqw_put_row_group(struct ingest_buf *out, const struct ingest_buf *chunks, size_t ncolumns,
                       int64_t total_byte_size, int64_t num_rows, int64_t file_offset,
                       int64_t total_compressed, int16_t ordinal)
{
    struct tw t;
    tw_init(&t, out);
    tw_struct_begin(&t);
    tw_field_list_begin(&t, 1, TW_STRUCT, ncolumns);
    ingest_buf_append(out, chunks->data, chunks->len);
    tw_field_i64(&t, 2, total_byte_size);
    tw_field_i64(&t, 3, num_rows);
    tw_field_i64(&t, 5, file_offset);
    tw_field_i64(&t, 6, total_compressed);
    tw_field_i16(&t, 7, ordinal);
    tw_struct_end(&t);
}

void pqw_put_file_meta(struct ingest_buf *out, const struct pqw_schema_element *schema,
                       size_t nschema, int64_t num_rows, const struct ingest_buf *row_groups,
                       size_t nrow_groups, const struct pqw_kv *kv, size_t nkv,
                       const char *created_by, size_t ncolumn_orders)
{
    struct tw t;
    tw_init(&t, out);
    tw_struct_begin(&t);
    tw_field_i32(&t, 1, 1);
    tw_field_list_begin(&t, 2, TW_STRUCT, nschema);
    for (size_t i = 0; i < nschema; i++)
        pqw_put_schema_element(&t, &schema[i]);
    tw_field_i64(&t, 3, num_rows);
    tw_field_list_begin(&t, 4, TW_STRUCT, nrow_groups);
    if (row_groups->len)
        ingest_buf_append(out, row_groups->data, row_groups->len);
    if (nkv) {
        tw_field_list_begin(&t, 5, TW_STRUCT, nkv);
        for (size_t i = 0; i < nkv; i++) {
            tw_struct_begin(&t);
            tw_field_string(&t, 1, kv[i].key);
            if (kv[i].value)
                tw_field_string(&t, 2, kv[i].value);
            tw_struct_end(&t);
        }
    }
    if (created_by)
        tw_field_string(&t, 6, created_by);
    if (ncolumn_orders) {
        tw_field_list_begin(&t, 7, TW_STRUCT, ncolumn_orders);
        for (size_t i = 0; i < ncolumn_orders; i++) {
            tw_struct_begin(&t);
            tw_field_struct_begin(&t, 1);   /* TYPE_ORDER: TypeDefinedOrder {} */
            tw_struct_end(&t);
            tw_struct_end(&t);
        }
    }
    tw_struct_end(&t);
}
