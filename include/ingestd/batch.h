/*
 * batch.h - the in-memory columnar batch: how records travel through the
 * pipeline (decoder -> transforms/expectations -> Parquet writer).
 *
 * A batch is a schema plus one vector per top-level field, Arrow-like:
 * typed value buffers and a validity bitmap, never a heap object per
 * record.  Decoders append straight into vectors; the Parquet writer reads
 * them column by column.
 *
 *   fixed width   values[i] (bool: 1 byte 0/1; date: int32 days since
 *                 1970-01-01; timestamp: int64 microseconds since the epoch,
 *                 UTC; decimal p<=18: int64 unscaled; p>18: 16 bytes,
 *                 little-endian two's complement)
 *   string/binary offsets[0..length] (uint32) into data; value i is
 *                 data[offsets[i] .. offsets[i+1]); strings are UTF-8
 *   list          offsets[0..length] into the single child vector
 *   map           offsets[0..length] into children[0] (keys, never null)
 *                 and children[1] (values), which have equal length
 *   struct        children[k] for field k, each of the struct's length
 * A null slot (validity bit 0) still occupies its place: fixed-width
 * values hold 0, offsets repeat (empty), struct children hold nulls.
 * validity == NULL means no nulls.  Bit i is validity[i >> 3] >> (i & 7).
 *
 * Memory: a vector owns its buffers (malloc'd); ingest_vector_free
 * releases them and its children.  Threads: a batch belongs to one thread
 * at a time; nothing here locks.
 */
#ifndef INGESTD_BATCH_H
#define INGESTD_BATCH_H

#include <stddef.h>
#include <stdint.h>

enum ingest_type_id {
    INGEST_TYPE_BOOLEAN,
    INGEST_TYPE_INT8,
    INGEST_TYPE_INT16,
    INGEST_TYPE_INT32,
    INGEST_TYPE_INT64,
    INGEST_TYPE_FLOAT,
    INGEST_TYPE_DOUBLE,
    INGEST_TYPE_STRING,
    INGEST_TYPE_BINARY,
    INGEST_TYPE_DATE,
    INGEST_TYPE_TIMESTAMP,
    INGEST_TYPE_DECIMAL,
    INGEST_TYPE_STRUCT,
    INGEST_TYPE_LIST,
    INGEST_TYPE_MAP,
};

/* A schema node.  Lists have one child (the element), maps two (key,
 * value), structs one per field.  Names are owned by the schema. */
struct ingest_field {
    char *name;
    enum ingest_type_id type;
    int   precision, scale;     /* decimal */
    int   nullable;
    struct ingest_field *children;
    size_t nchildren;
};

struct ingest_schema {
    struct ingest_field *fields;
    size_t nfields;
};

struct ingest_vector {
    const struct ingest_field *field;
    size_t    length;
    size_t    null_count;
    uint8_t  *validity;         /* NULL: all valid */
    void     *values;           /* fixed-width types */
    uint32_t *offsets;          /* string, binary, list, map: length + 1 entries */
    uint8_t  *data;             /* string, binary bytes */
    struct ingest_vector *children;   /* struct, list, map */
    size_t    nchildren;
};

struct ingest_batch {
    const struct ingest_schema *schema;
    size_t nrows;
    struct ingest_vector *columns;    /* schema->nfields of them */
};

static inline int ingest_vector_valid(const struct ingest_vector *v, size_t i)
{
    return !v->validity || ((v->validity[i >> 3] >> (i & 7)) & 1);
}

/* Bytes per value of a fixed-width type (0 for variable/nested types). */
size_t ingest_type_width(const struct ingest_field *f);
const char *ingest_type_name(enum ingest_type_id t);

/* Gathers rows[0..n) of `in` (indices may repeat, any order) into a new
 * batch *out with the same schema; nested columns are copied deeply.
 * out->schema and every vector's `field` are the input's pointers
 * (borrowed); a vector without nulls gets validity NULL; null_count is
 * exact; a null string/list/map slot comes out as an empty range.  On
 * success *out owns its vectors (ingest_batch_free); on failure *out is
 * zeroed.  Returns 0, INGEST_EINVAL (an index >= in->nrows),
 * INGEST_ERANGE (an output vector would need offsets past 2^32 - 1:
 * more than 4 GiB of string bytes or of list entries) or INGEST_ENOMEM.
 * Any thread. */
int ingest_batch_take(const struct ingest_batch *in, const uint32_t *rows, size_t n,
                      struct ingest_batch *out);

/* Frees the vector's buffers and children (not the struct itself). */
void ingest_vector_free(struct ingest_vector *v);
/* Frees every column and the columns array; the schema is not touched. */
void ingest_batch_free(struct ingest_batch *b);
/* Frees the fields (recursively) and the array; not the struct itself. */
void ingest_schema_free(struct ingest_schema *s);

#endif
