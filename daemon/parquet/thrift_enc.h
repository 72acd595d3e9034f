/*
 * thrift_enc.h - Thrift compact protocol encoder and the Parquet footer
 * structures the writer emits (private to daemon/parquet).
 *
 * Two layers.  The tw_* primitives write compact-protocol fields into an
 * ingest_buf: field headers with id deltas (short form for deltas 1..15,
 * long form otherwise), zigzag varints, binary, lists and nested structs
 * (the "last field id" is saved and restored around each nested struct).
 * The pqw_* serializers turn plain C mirrors of parquet.thrift structs into
 * bytes, writing only the fields the digest (specs/delta-parquet.md B2, C)
 * asks for, in ascending id order.
 *
 * Errors: appends go through ingest_buf, whose sticky `oom` flag the caller
 * checks once at the end.  Any thread; no state beyond the tw struct.
 */
#ifndef INGEST_PQ_THRIFT_ENC_H
#define INGEST_PQ_THRIFT_ENC_H

#include <stddef.h>
#include <stdint.h>

#include "ingestd/buf.h"

/* Compact protocol type nibbles (TCP "Types"). */
enum tw_type {
    TW_TRUE = 1, TW_FALSE = 2, TW_I8 = 3, TW_I16 = 4, TW_I32 = 5, TW_I64 = 6,
    TW_DOUBLE = 7, TW_BINARY = 8, TW_LIST = 9, TW_SET = 10, TW_MAP = 11, TW_STRUCT = 12,
};

#define TW_MAX_DEPTH 32

struct tw {
    struct ingest_buf *out;
    int16_t last;                   /* previous field id in the open struct */
    int     depth;
    int16_t stack[TW_MAX_DEPTH];    /* saved `last` of enclosing structs */
};

void tw_init(struct tw *t, struct ingest_buf *out);

/* Raw encodings (no field header). */
void tw_varint(struct ingest_buf *out, uint64_t v);
static inline uint64_t tw_zigzag64(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline uint32_t tw_zigzag32(int32_t v) { return ((uint32_t)v << 1) ^ (uint32_t)(v >> 31); }

void tw_field_header(struct tw *t, int16_t id, enum tw_type type);
void tw_field_i8(struct tw *t, int16_t id, int8_t v);
void tw_field_i16(struct tw *t, int16_t id, int16_t v);
void tw_field_i32(struct tw *t, int16_t id, int32_t v);
void tw_field_i64(struct tw *t, int16_t id, int64_t v);
void tw_field_bool(struct tw *t, int16_t id, int v);
void tw_field_double(struct tw *t, int16_t id, double v);
void tw_field_binary(struct tw *t, int16_t id, const void *p, size_t len);
void tw_field_string(struct tw *t, int16_t id, const char *s);
/* Opens a struct-valued field; close it with tw_struct_end. */
void tw_field_struct_begin(struct tw *t, int16_t id);
/* A list field's header; the n elements follow with the tw_elem_* calls
 * (struct elements with tw_struct_begin/tw_struct_end). */
void tw_field_list_begin(struct tw *t, int16_t id, enum tw_type elem, size_t n);
void tw_elem_i32(struct tw *t, int32_t v);
void tw_elem_binary(struct tw *t, const void *p, size_t len);
/* Begins a bare struct (top level, or a list element). */
void tw_struct_begin(struct tw *t);
/* Writes the stop byte and restores the enclosing struct's field id. */
void tw_struct_end(struct tw *t);

/* --- Parquet structures (THRIFT parquet.thrift) ---------------------------- */

enum pqw_ptype {
    PQW_BOOLEAN = 0, PQW_INT32 = 1, PQW_INT64 = 2, PQW_INT96 = 3, PQW_FLOAT = 4,
    PQW_DOUBLE = 5, PQW_BYTE_ARRAY = 6, PQW_FLBA = 7,
};
enum pqw_rep { PQW_REQUIRED = 0, PQW_OPTIONAL = 1, PQW_REPEATED = 2 };
enum pqw_encoding { PQW_ENC_PLAIN = 0, PQW_ENC_RLE = 3, PQW_ENC_RLE_DICTIONARY = 8 };
enum pqw_page_type { PQW_DATA_PAGE = 0, PQW_DICTIONARY_PAGE = 2 };
enum pqw_converted {
    PQW_CT_UTF8 = 0, PQW_CT_MAP = 1, PQW_CT_LIST = 3, PQW_CT_DECIMAL = 5, PQW_CT_DATE = 6,
    PQW_CT_TIMESTAMP_MICROS = 10, PQW_CT_INT_8 = 15, PQW_CT_INT_16 = 16,
};
/* LogicalType union members (field ids). */
enum pqw_logical {
    PQW_LT_NONE = 0, PQW_LT_STRING = 1, PQW_LT_MAP = 2, PQW_LT_LIST = 3,
    PQW_LT_DECIMAL = 5, PQW_LT_DATE = 6, PQW_LT_TIMESTAMP = 8, PQW_LT_INTEGER = 10,
};

struct pqw_statistics {
    int64_t null_count;             /* always written */
    int     has_nan_count;
    int64_t nan_count;
    int     has_min, has_max;
    int     min_exact, max_exact;
    const uint8_t *min, *max;       /* PLAIN bytes (no length prefix) */
    size_t  min_len, max_len;
};

struct pqw_schema_element {
    int         type;               /* enum pqw_ptype, -1 for groups */
    int32_t     type_length;        /* FLBA only (> 0) */
    int         repetition;         /* enum pqw_rep, -1 for the root */
    const char *name;
    int32_t     num_children;       /* -1 for leaves */
    int         converted;          /* enum pqw_converted, -1 none */
    int32_t     scale, precision;   /* written when converted == DECIMAL */
    int         logical;            /* enum pqw_logical */
    int         lt_int_bits;        /* INTEGER: 8/16/32/64 (always signed here) */
};

struct pqw_page_header {
    int     type;                   /* enum pqw_page_type */
    int32_t uncompressed_size, compressed_size;
    int32_t num_values;
    int     encoding;               /* values (data page) or dictionary encoding */
};

struct pqw_column_meta {
    int     type;
    const int *encodings;
    size_t  nencodings;
    const char *const *path;
    size_t  path_len;
    int     codec;
    int64_t num_values, total_uncompressed, total_compressed;
    int64_t data_page_offset;
    int64_t dictionary_page_offset; /* < 0: no dictionary page */
    const struct pqw_statistics *stats;   /* NULL: none */
};

struct pqw_kv { const char *key, *value; };

/* Serializers: append one struct's compact encoding to out. */
void pqw_put_page_header(struct ingest_buf *out, const struct pqw_page_header *ph);
void pqw_put_statistics(struct tw *t, const struct pqw_statistics *st);
void pqw_put_schema_element(struct tw *t, const struct pqw_schema_element *se);
/* A ColumnChunk{file_offset 0, meta_data} as a bare struct (list element). */
void pqw_put_column_chunk(struct tw *t, const struct pqw_column_meta *cm);
/* RowGroup header fields are written around pre-serialized column chunks. */
void pqw_put_row_group(struct ingest_buf *out, const struct ingest_buf *chunks, size_t ncolumns,
                       int64_t total_byte_size, int64_t num_rows, int64_t file_offset,
                       int64_t total_compressed, int16_t ordinal);
/* FileMetaData; row_groups holds nrow_groups pre-serialized RowGroup structs
 * back to back.  ncolumn_orders = number of leaves (TYPE_ORDER each). */
void pqw_put_file_meta(struct ingest_buf *out, const struct pqw_schema_element *schema,
                       size_t nschema, int64_t num_rows, const struct ingest_buf *row_groups,
                       size_t nrow_groups, const struct pqw_kv *kv, size_t nkv,
                       const char *created_by, size_t ncolumn_orders);

#endif
