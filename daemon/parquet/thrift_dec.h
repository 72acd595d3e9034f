/*
 * thrift_dec.h - Thrift compact protocol decoder and the parquet.thrift
 * structs a reader needs (private to daemon/parquet).
 *
 * Input is untrusted: every length, count and nesting level is checked
 * against the bytes that remain, and any malformation returns
 * INGEST_ECORRUPT.  Unknown fields of any type are skipped, so files from
 * newer writers still decode.  Nesting (structs, lists, maps) is limited to
 * TC_MAX_DEPTH.
 *
 * Memory: decoded structs live in a pq_arena (strings are NUL-terminated
 * copies), released all at once by pq_arena_free; nothing points into the
 * input buffer.  Any thread; no global state.
 */
#ifndef INGEST_THRIFT_DEC_H
#define INGEST_THRIFT_DEC_H

#include <stddef.h>
#include <stdint.h>

#define TC_MAX_DEPTH 64

enum tc_type {
    TC_STOP = 0, TC_TRUE = 1, TC_FALSE = 2, TC_I8 = 3, TC_I16 = 4, TC_I32 = 5,
    TC_I64 = 6, TC_DOUBLE = 7, TC_BINARY = 8, TC_LIST = 9, TC_SET = 10,
    TC_MAP = 11, TC_STRUCT = 12, TC_UUID = 13,
};

struct tc_in {
    const uint8_t *p, *end;
    int depth;
};

/* --- protocol primitives (each returns 0 or INGEST_ECORRUPT) ----------- */
int tc_varint(struct tc_in *in, uint64_t *v);
int tc_i32(struct tc_in *in, int32_t *v);          /* zigzag varint */
int tc_i64(struct tc_in *in, int64_t *v);
/* A binary/string: *p points into the input, valid as long as it is. */
int tc_binary(struct tc_in *in, const uint8_t **p, size_t *len);
/* Next field header of a struct: *type TC_STOP at the end.  *last_id is the
 * previous field id of this struct (start with 0). For bool fields the
 * value is in *type (TC_TRUE/TC_FALSE). */
int tc_field(struct tc_in *in, int16_t *last_id, int *type, int16_t *id);
/* List/set header; *n is checked against the remaining bytes. */
int tc_list(struct tc_in *in, int *elem_type, uint32_t *n);
/* Skips a value of the given type (nested ones included, depth-limited). */
int tc_skip(struct tc_in *in, int type);

/* --- arena ---------------------------------------------------------------- */
struct pq_arena {
    struct pq_arena_blk *head;
};
/* Zeroed memory, NULL on overflow or allocation failure. */
void *pq_arena_alloc(struct pq_arena *a, size_t n);
void pq_arena_free(struct pq_arena *a);

/* --- parquet.thrift ------------------------------------------------------- */
enum pq_type {
    PQ_BOOLEAN = 0, PQ_INT32 = 1, PQ_INT64 = 2, PQ_INT96 = 3, PQ_FLOAT = 4,
    PQ_DOUBLE = 5, PQ_BYTE_ARRAY = 6, PQ_FLBA = 7,
};
enum pq_repetition { PQ_REQUIRED = 0, PQ_OPTIONAL = 1, PQ_REPEATED = 2 };
enum pq_encoding {
    PQ_ENC_PLAIN = 0, PQ_ENC_PLAIN_DICTIONARY = 2, PQ_ENC_RLE = 3,
    PQ_ENC_BIT_PACKED = 4, PQ_ENC_DELTA_BINARY_PACKED = 5,
    PQ_ENC_DELTA_LENGTH_BYTE_ARRAY = 6, PQ_ENC_DELTA_BYTE_ARRAY = 7,
    PQ_ENC_RLE_DICTIONARY = 8, PQ_ENC_BYTE_STREAM_SPLIT = 9,
};
enum pq_page_type {
    PQ_PAGE_DATA = 0, PQ_PAGE_INDEX = 1, PQ_PAGE_DICTIONARY = 2, PQ_PAGE_DATA_V2 = 3,
};
enum pq_converted {
    PQ_CT_UTF8 = 0, PQ_CT_MAP = 1, PQ_CT_MAP_KEY_VALUE = 2, PQ_CT_LIST = 3,
    PQ_CT_ENUM = 4, PQ_CT_DECIMAL = 5, PQ_CT_DATE = 6, PQ_CT_TIME_MILLIS = 7,
    PQ_CT_TIME_MICROS = 8, PQ_CT_TIMESTAMP_MILLIS = 9, PQ_CT_TIMESTAMP_MICROS = 10,
    PQ_CT_UINT_8 = 11, PQ_CT_UINT_16 = 12, PQ_CT_UINT_32 = 13, PQ_CT_UINT_64 = 14,
    PQ_CT_INT_8 = 15, PQ_CT_INT_16 = 16, PQ_CT_INT_32 = 17, PQ_CT_INT_64 = 18,
    PQ_CT_JSON = 19, PQ_CT_BSON = 20, PQ_CT_INTERVAL = 21,
};
/* LogicalType union members (field ids). */
enum pq_logical {
    PQ_LT_NONE = 0, PQ_LT_STRING = 1, PQ_LT_MAP = 2, PQ_LT_LIST = 3, PQ_LT_ENUM = 4,
    PQ_LT_DECIMAL = 5, PQ_LT_DATE = 6, PQ_LT_TIME = 7, PQ_LT_TIMESTAMP = 8,
    PQ_LT_INTEGER = 10, PQ_LT_UNKNOWN = 11, PQ_LT_JSON = 12, PQ_LT_BSON = 13,
    PQ_LT_UUID = 14, PQ_LT_FLOAT16 = 15,
};
enum pq_time_unit { PQ_UNIT_NONE = 0, PQ_UNIT_MILLIS = 1, PQ_UNIT_MICROS = 2, PQ_UNIT_NANOS = 3 };

struct pq_logical_type {
    int kind;                   /* enum pq_logical; PQ_LT_NONE if absent */
    int32_t scale, precision;   /* DECIMAL */
    int utc;                    /* TIME, TIMESTAMP */
    int unit;                   /* enum pq_time_unit */
    int bit_width, is_signed;   /* INTEGER */
};

/* Absent optional i32 fields are -1. */
struct pq_schema_element {
    int32_t type, type_length, repetition, num_children, converted, scale, precision;
    char *name;
    struct pq_logical_type logical;
};

struct pq_statistics {
    int has_null_count;
    int64_t null_count;
    const uint8_t *min_value, *max_value;  /* arena copies; NULL if absent */
    size_t min_len, max_len;
};

struct pq_column_meta {
    int32_t type, codec;
    char **path;
    uint32_t npath;
    int64_t num_values, total_uncompressed_size, total_compressed_size;
    int64_t data_page_offset;
    int has_dictionary_page_offset;
    int64_t dictionary_page_offset;
    struct pq_statistics stats;
};

struct pq_column_chunk {
    char *file_path;            /* NULL: same file */
    int64_t file_offset;
    int has_meta;
    struct pq_column_meta meta;
};

struct pq_row_group {
    struct pq_column_chunk *columns;
    uint32_t ncolumns;
    int64_t total_byte_size, num_rows;
};

struct pq_key_value {
    char *key, *value;          /* value NULL if absent */
};

struct pq_file_meta {
    int32_t version;
    struct pq_schema_element *schema;
    uint32_t nschema;
    int64_t num_rows;
    struct pq_row_group *row_groups;
    uint32_t nrow_groups;
    struct pq_key_value *kv;
    uint32_t nkv;
    char *created_by;
};

struct pq_page_header {
    int32_t type, uncompressed_size, compressed_size;
    int has_data, has_dict, has_data_v2;
    struct { int32_t num_values, encoding, def_encoding, rep_encoding; } data;
    struct { int32_t num_values, encoding; } dict;
    struct {
        int32_t num_values, num_nulls, num_rows, encoding;
        int32_t def_len, rep_len;
        int is_compressed;
    } v2;
};

/* Decoders: 0 or INGEST_ECORRUPT (malformed, required field missing) or
 * INGEST_ENOMEM.  Allocations come from `a`. */
int pq_decode_file_meta(struct tc_in *in, struct pq_arena *a, struct pq_file_meta *fm);
int pq_decode_page_header(struct tc_in *in, struct pq_page_header *ph);
int pq_decode_statistics(struct tc_in *in, struct pq_arena *a, struct pq_statistics *st);
int pq_decode_logical_type(struct tc_in *in, struct pq_logical_type *lt);

#endif
