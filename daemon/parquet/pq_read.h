/*
 * pq_read.h - internals of the Parquet reader (private to daemon/parquet).
 *
 *   pq_read.c         open, footer, projection, record assembly
 *   pq_read_schema.c  SchemaElements -> ingest_schema + one pq_leaf per column
 *   pq_read_pages.c   a column chunk's pages -> levels + dense values
 *   pq_read_values.c  value encodings (PLAIN, dictionary, DELTA_*, BSS) and
 *                     the physical -> batch.h conversions
 *   pq_read_levels.c  RLE/bit-packed hybrid and bit unpacking
 *
 * A leaf column is decoded into a pq_chunk: one (rep, def) pair per level
 * entry and the non-null values densely, already in batch.h form.  Record
 * assembly then places them into the vectors named by the leaf's steps.
 */
#ifndef INGEST_PQ_READ_H
#define INGEST_PQ_READ_H

#include <stddef.h>
#include <stdint.h>

#include "ingestd/batch.h"
#include "thrift_dec.h"

#define PQ_MAX_NEST 32              /* vectors on one path */
#define PQ_MAX_PAGE (1u << 28)      /* uncompressed page bytes */

enum pq_vkind { PQ_V_LEAF, PQ_V_STRUCT, PQ_V_LIST, PQ_V_MAP };

/* How values of a leaf become batch.h values. */
enum pq_conv {
    PQ_CONV_NONE,       /* same representation */
    PQ_CONV_MILLIS,     /* timestamp millis -> micros */
    PQ_CONV_NANOS,      /* timestamp nanos -> micros */
    PQ_CONV_INT96,      /* Impala/Spark timestamp -> micros */
    PQ_CONV_UNSIGNED,   /* UINT_8/16/32: zero-extend into the wider type */
};

/* One vector on the path from a top-level column down to a leaf.  A slot
 * exists in it for a level entry (r, d) when r <= slot_rep and
 * d >= slot_def; the slot is non-null when d >= def_present; a list/map
 * slot has an element when d >= elem_def. */
struct pq_step {
    uint32_t child;             /* index in the parent vector's children */
    uint8_t kind;               /* enum pq_vkind */
    uint8_t owner;              /* this leaf builds the vector's shape */
    uint8_t slot_rep, slot_def, def_present, elem_def;
};

struct pq_leaf {
    uint32_t top;               /* top-level field index */
    const struct pq_schema_element *el;
    const struct ingest_field *field;
    int conv;                   /* enum pq_conv */
    uint8_t max_def, max_rep;
    uint32_t nsteps;
    struct pq_step steps[PQ_MAX_NEST];
    const char **path;          /* Parquet names, top first (arena) */
    uint32_t npath;
    char *name;                 /* dotted, for messages (arena) */
};

/* Values in batch.h form: fixed width (width > 0) or offsets + data. */
struct pq_dense {
    size_t n, width;
    uint8_t *fixed;
    size_t fixed_cap;           /* in values */
    uint32_t *offs;             /* n + 1 entries when width == 0 */
    size_t offs_cap;
    uint8_t *data;
    size_t data_len, data_cap;
};

struct pq_chunk {
    uint8_t *rep, *def;         /* nlevels entries each */
    size_t nlevels;
    struct pq_dense vals;
};

/* --- pq_read_schema.c --- */
/* Converts fm->schema into *schema and the leaves (malloc'd array, arena
 * strings).  Returns 0 or INGEST_E*, with a reason in err. */
int pq_schema_convert(const struct pq_file_meta *fm, struct pq_arena *a,
                      struct ingest_schema *schema, struct pq_leaf **leaves,
                      size_t *nleaves, char *err, size_t errlen);

/* --- pq_read_pages.c --- */
struct pq_source {
    const uint8_t *buf;
    size_t len;                 /* bytes before the footer */
};
/* Decodes one column chunk.  *budget is the number of level entries still
 * allowed and is decreased.  On failure *out is freed. */
int pq_chunk_read(const struct pq_source *src, const struct pq_leaf *leaf,
                  const struct pq_column_chunk *cc, size_t *budget, struct pq_chunk *out,
                  char *err, size_t errlen);
void pq_chunk_free(struct pq_chunk *c);

/* --- pq_read_values.c --- */
void pq_dense_init(struct pq_dense *d, const struct pq_leaf *leaf);
void pq_dense_free(struct pq_dense *d);
/* Append count values decoded from src[0..len) in the given encoding.
 * dict is the chunk's dictionary (NULL if none). */
int pq_values_decode(const struct pq_leaf *leaf, int encoding, const uint8_t *src,
                     size_t len, size_t count, const struct pq_dense *dict,
                     struct pq_dense *out);
/* Decodes a dictionary page (PLAIN) into dict. */
int pq_dict_decode(const struct pq_leaf *leaf, const uint8_t *src, size_t len,
                   size_t count, struct pq_dense *dict);

/* --- pq_read_levels.c --- */
struct pq_rle {
    const uint8_t *p, *end;
    unsigned width;
    uint32_t rle_left;          /* values left in the current RLE run */
    uint64_t rle_value;
    uint32_t bp_left;           /* values left in the current bit-packed run */
    const uint8_t *bp;          /* next packed byte */
    unsigned bp_bit;            /* bit offset within *bp */
};
void pq_rle_init(struct pq_rle *d, const uint8_t *p, size_t len, unsigned width);
/* Decodes exactly n values (uint8 when width <= 8 for levels, else uint32). */
int pq_rle_get8(struct pq_rle *d, uint8_t *out, size_t n);
int pq_rle_get32(struct pq_rle *d, uint32_t *out, size_t n);
/* DELTA_BINARY_PACKED: decodes up to max values into out (may be NULL to
 * only count), sets *count and *used (bytes consumed). */
int pq_delta_decode(const uint8_t *p, size_t len, int64_t *out, size_t max, size_t *count,
                    size_t *used);
unsigned pq_bit_width(uint64_t max);

#endif
