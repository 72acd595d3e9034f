/*
 * thrift_dec.c - Thrift compact protocol decoding of parquet.thrift (see
 * thrift_dec.h and spec sections B2-B4, C).
 *
 * Design: a struct decoder is a loop over field headers with a switch on
 * the field id; a field whose id is unknown *or whose wire type is not the
 * one we expect* is skipped, as Thrift itself does, and required fields are
 * checked once the stop byte is seen.  Counts are bounded by the bytes left
 * (every element takes at least one byte) before anything is allocated, so
 * a forged count costs nothing.  Recursion (nested structs, skip) carries a
 * depth counter in the tc_in.
 */
#include <stdlib.h>
#include <string.h>

#include "ingestd/error.h"
#include "thrift_dec.h"

#define CORRUPT (INGEST_ECORRUPT)

/* --- primitives ----------------------------------------------------------- */

int tc_varint(struct tc_in *in, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (in->p >= in->end)
            return CORRUPT;
        uint8_t b = *in->p++;
        if (shift == 63 && b > 1)
            return CORRUPT;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return CORRUPT;
}

int tc_i64(struct tc_in *in, int64_t *v)
{
    uint64_t u;
    if (tc_varint(in, &u) < 0)
        return CORRUPT;
    *v = (int64_t)((u >> 1) ^ (~(u & 1) + 1));
    return 0;
}

int tc_i32(struct tc_in *in, int32_t *v)
{
    int64_t x;
    if (tc_i64(in, &x) < 0 || x < INT32_MIN || x > INT32_MAX)
        return CORRUPT;
    *v = (int32_t)x;
    return 0;
}

int tc_binary(struct tc_in *in, const uint8_t **p, size_t *len)
{
    uint64_t n;
    if (tc_varint(in, &n) < 0 || n > (uint64_t)(in->end - in->p))
        return CORRUPT;
    *p = in->p;
    *len = (size_t)n;
    in->p += n;
    return 0;
}

int tc_field(struct tc_in *in, int16_t *last_id, int *type, int16_t *id)
{
    if (in->p >= in->end)
        return CORRUPT;
    uint8_t b = *in->p++;
    *type = b & 0x0f;
    if (*type == TC_STOP) {
        *id = 0;
        return b == 0 ? 0 : CORRUPT;
    }
    if (*type > TC_UUID)
        return CORRUPT;
    if (b >> 4) {
        int nid = *last_id + (b >> 4);
        if (nid > INT16_MAX)
            return CORRUPT;
        *id = (int16_t)nid;
    } else {
        int32_t x;
        if (tc_i32(in, &x) < 0 || x < INT16_MIN || x > INT16_MAX)
            return CORRUPT;
        *id = (int16_t)x;
    }
    *last_id = *id;
    return 0;
}

int tc_list(struct tc_in *in, int *elem_type, uint32_t *n)
{
    if (in->p >= in->end)
        return CORRUPT;
    uint8_t b = *in->p++;
    uint64_t size = b >> 4;
    *elem_type = b & 0x0f;
    *n = 0;
    if (size == 15 && tc_varint(in, &size) < 0)
        return CORRUPT;
    if (*elem_type == TC_STOP || *elem_type > TC_UUID)
        return size == 0 ? 0 : CORRUPT;
    /* every element takes at least one byte */
    if (size > (uint64_t)(in->end - in->p))
        return CORRUPT;
    *n = (uint32_t)size;
    return 0;
}

static int skip_bytes(struct tc_in *in, size_t n)
{
    if (n > (size_t)(in->end - in->p))
        return CORRUPT;
    in->p += n;
    return 0;
}

static int skip_struct(struct tc_in *in)
{
    int16_t last = 0, id;
    int type, rc;
    for (;;) {
        if ((rc = tc_field(in, &last, &type, &id)) < 0)
            return rc;
        if (type == TC_STOP)
            return 0;
        if (type == TC_TRUE || type == TC_FALSE)
            continue;
        if ((rc = tc_skip(in, type)) < 0)
            return rc;
    }
}

static int skip_elem(struct tc_in *in, int type)
{
    /* inside containers a bool takes one byte */
    if (type == TC_TRUE || type == TC_FALSE)
        return skip_bytes(in, 1);
    return tc_skip(in, type);
}

static int skip_container(struct tc_in *in, int type)
{
    uint64_t u;
    int et, rc;
    if (type == TC_LIST || type == TC_SET) {
        uint32_t n;
        if ((rc = tc_list(in, &et, &n)) < 0)
            return rc;
        for (uint32_t i = 0; i < n; i++)
            if ((rc = skip_elem(in, et)) < 0)
                return rc;
        return 0;
    }
    /* map */
    if (tc_varint(in, &u) < 0)
        return CORRUPT;
    if (u == 0)
        return 0;
    if (u > (uint64_t)(in->end - in->p) || in->p >= in->end)
        return CORRUPT;
    uint8_t kv = *in->p++;
    int kt = kv >> 4, vt = kv & 0x0f;
    if (kt == TC_STOP || kt > TC_UUID || vt == TC_STOP || vt > TC_UUID)
        return CORRUPT;
    for (uint64_t i = 0; i < u; i++)
        if ((rc = skip_elem(in, kt)) < 0 || (rc = skip_elem(in, vt)) < 0)
            return rc;
    return 0;
}

int tc_skip(struct tc_in *in, int type)
{
    uint64_t u;
    int rc;
    switch (type) {
    case TC_TRUE: case TC_FALSE:
        return 0;           /* struct field: value in the type nibble */
    case TC_I8:
        return skip_bytes(in, 1);
    case TC_I16: case TC_I32: case TC_I64:
        return tc_varint(in, &u);
    case TC_DOUBLE:
        return skip_bytes(in, 8);
    case TC_UUID:
        return skip_bytes(in, 16);
    case TC_BINARY:
        if (tc_varint(in, &u) < 0 || u > (uint64_t)(in->end - in->p))
            return CORRUPT;
        in->p += u;
        return 0;
    case TC_LIST: case TC_SET: case TC_MAP: case TC_STRUCT:
        if (++in->depth > TC_MAX_DEPTH)
            return CORRUPT;
        rc = type == TC_STRUCT ? skip_struct(in) : skip_container(in, type);
        in->depth--;
        return rc;
    default:
        return CORRUPT;
    }
}

/* --- arena ---------------------------------------------------------------- */

struct pq_arena_blk {
    struct pq_arena_blk *next;
    size_t used, cap;
    max_align_t data[];
};

#define ARENA_BLK 16384

void *pq_arena_alloc(struct pq_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    struct pq_arena_blk *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > ARENA_BLK / 2 ? n : ARENA_BLK;
        if (cap > SIZE_MAX - sizeof *b)
            return NULL;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        if (n > ARENA_BLK / 2 && a->head) {     /* big: keep the current block on top */
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

void pq_arena_free(struct pq_arena *a)
{
    while (a->head) {
        struct pq_arena_blk *b = a->head;
        a->head = b->next;
        free(b);
    }
}

static char *arena_str(struct pq_arena *a, const uint8_t *p, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *s = pq_arena_alloc(a, len + 1);
    if (s && len)
        memcpy(s, p, len);
    return s;
}

/* --- typed field readers ---------------------------------------------------
 * Each returns 1 when the wire type matched and the value was read, 0 when
 * the value was skipped (unexpected type), <0 on error. */

static int get_i32(struct tc_in *in, int type, int32_t *v)
{
    if (type != TC_I32 && type != TC_I16 && type != TC_I8) {
        int rc = tc_skip(in, type);
        return rc < 0 ? rc : 0;
    }
    if (type == TC_I8) {
        if (in->p >= in->end)
            return CORRUPT;
        *v = (int8_t)*in->p++;
        return 1;
    }
    return tc_i32(in, v) < 0 ? CORRUPT : 1;
}

static int get_i64(struct tc_in *in, int type, int64_t *v)
{
    if (type == TC_I32 || type == TC_I16 || type == TC_I64)
        return tc_i64(in, v) < 0 ? CORRUPT : 1;
    int rc = tc_skip(in, type);
    return rc < 0 ? rc : 0;
}

static int get_bool(int type, int *v)
{
    if (type != TC_TRUE && type != TC_FALSE)
        return 0;
    *v = type == TC_TRUE;
    return 1;
}

static int get_str(struct tc_in *in, struct pq_arena *a, int type, char **s)
{
    const uint8_t *p;
    size_t len;
    if (type != TC_BINARY) {
        int rc = tc_skip(in, type);
        return rc < 0 ? rc : 0;
    }
    if (tc_binary(in, &p, &len) < 0)
        return CORRUPT;
    if (!(*s = arena_str(a, p, len)))
        return INGEST_ENOMEM;
    return 1;
}

static int get_bytes(struct tc_in *in, struct pq_arena *a, int type, const uint8_t **out,
                     size_t *olen)
{
    const uint8_t *p;
    size_t len;
    if (type != TC_BINARY) {
        int rc = tc_skip(in, type);
        return rc < 0 ? rc : 0;
    }
    if (tc_binary(in, &p, &len) < 0)
        return CORRUPT;
    uint8_t *copy = pq_arena_alloc(a, len);
    if (!copy)
        return INGEST_ENOMEM;
    if (len)
        memcpy(copy, p, len);
    *out = copy;
    *olen = len;
    return 1;
}

/* Runs `body` for each field of a struct; wraps depth accounting. */
#define STRUCT_LOOP(in, type, id)                                          \
    int16_t last_id_ = 0;                                                  \
    if (++(in)->depth > TC_MAX_DEPTH)                                      \
        return CORRUPT;                                                    \
    for (;;) {                                                             \
        int rc_ = tc_field((in), &last_id_, &(type), &(id));               \
        if (rc_ < 0)                                                       \
            return rc_;                                                    \
        if ((type) == TC_STOP)                                             \
            break;

#define STRUCT_END(in) } (in)->depth--;

/* Skips a field value we did not consume (rc 0 from get_*): already done by
 * get_*.  For fields read by hand this helper decides. */
static int want_struct(struct tc_in *in, int type)
{
    if (type == TC_STRUCT)
        return 1;
    int rc = tc_skip(in, type);
    return rc < 0 ? rc : 0;
}

/* --- LogicalType ---------------------------------------------------------- */

static int decode_time_unit(struct tc_in *in, int *unit)
{
    int type;
    int16_t id;
    STRUCT_LOOP(in, type, id)
        int rc;
        if (type == TC_STRUCT && id >= 1 && id <= 3)
            *unit = id;
        if ((rc = tc_skip(in, type)) < 0)
            return rc;
    STRUCT_END(in)
    return 0;
}

static int decode_lt_member(struct tc_in *in, int kind, struct pq_logical_type *lt)
{
    int type;
    int16_t id;
    STRUCT_LOOP(in, type, id)
        int rc = 0;
        if (kind == PQ_LT_DECIMAL && id == 1)
            rc = get_i32(in, type, &lt->scale);
        else if (kind == PQ_LT_DECIMAL && id == 2)
            rc = get_i32(in, type, &lt->precision);
        else if ((kind == PQ_LT_TIME || kind == PQ_LT_TIMESTAMP) && id == 1)
            rc = get_bool(type, &lt->utc) ? 0 : tc_skip(in, type);
        else if ((kind == PQ_LT_TIME || kind == PQ_LT_TIMESTAMP) && id == 2)
            rc = (rc = want_struct(in, type)) > 0 ? decode_time_unit(in, &lt->unit) : rc;
        else if (kind == PQ_LT_INTEGER && id == 1)
            rc = get_i32(in, type, &lt->bit_width);
        else if (kind == PQ_LT_INTEGER && id == 2)
            rc = get_bool(type, &lt->is_signed) ? 0 : tc_skip(in, type);
        else
            rc = tc_skip(in, type);
        if (rc < 0)
            return rc;
    STRUCT_END(in)
    return 0;
}

int pq_decode_logical_type(struct tc_in *in, struct pq_logical_type *lt)
{
    int type;
    int16_t id;
    memset(lt, 0, sizeof *lt);
    STRUCT_LOOP(in, type, id)
        int rc;
        if (type == TC_STRUCT && id > 0 && id < 64) {
            lt->kind = id;
            rc = decode_lt_member(in, id, lt);
        } else {
            rc = tc_skip(in, type);
        }
        if (rc < 0)
            return rc;
    STRUCT_END(in)
    return 0;
}

/* --- SchemaElement -------------------------------------------------------- */

static int decode_schema_element(struct tc_in *in, struct pq_arena *a,
                                 struct pq_schema_element *se)
{
    int type;
    int16_t id;
    se->type = se->type_length = se->repetition = se->num_children = -1;
    se->converted = se->scale = se->precision = -1;
    STRUCT_LOOP(in, type, id)
        int rc;
        switch (id) {
        case 1: rc = get_i32(in, type, &se->type); break;
        case 2: rc = get_i32(in, type, &se->type_length); break;
        case 3: rc = get_i32(in, type, &se->repetition); break;
        case 4: rc = get_str(in, a, type, &se->name); break;
        case 5: rc = get_i32(in, type, &se->num_children); break;
        case 6: rc = get_i32(in, type, &se->converted); break;
        case 7: rc = get_i32(in, type, &se->scale); break;
        case 8: rc = get_i32(in, type, &se->precision); break;
        case 10:
            rc = want_struct(in, type);
            if (rc > 0)
                rc = pq_decode_logical_type(in, &se->logical);
            break;
        default: rc = tc_skip(in, type); break;
        }
        if (rc < 0)
            return rc;
    STRUCT_END(in)
    return se->name ? 0 : CORRUPT;
}

/* --- Statistics ------------------------------------------------------------ */

int pq_decode_statistics(struct tc_in *in, struct pq_arena *a, struct pq_statistics *st)
{
    int type;
    int16_t id;
    const uint8_t *old_min = NULL, *old_max = NULL;
    size_t old_min_len = 0, old_max_len = 0;
    memset(st, 0, sizeof *st);
    STRUCT_LOOP(in, type, id)
        int rc;
        switch (id) {
        case 1: rc = get_bytes(in, a, type, &old_max, &old_max_len); break;
        case 2: rc = get_bytes(in, a, type, &old_min, &old_min_len); break;
        case 3:
            rc = get_i64(in, type, &st->null_count);
            if (rc > 0)
                st->has_null_count = 1;
            break;
        case 5: rc = get_bytes(in, a, type, &st->max_value, &st->max_len); break;
        case 6: rc = get_bytes(in, a, type, &st->min_value, &st->min_len); break;
        default: rc = tc_skip(in, type); break;
        }
        if (rc < 0)
            return rc;
    STRUCT_END(in)
    if (!st->min_value && old_min) {
        st->min_value = old_min;
        st->min_len = old_min_len;
    }
    if (!st->max_value && old_max) {
        st->max_value = old_max;
        st->max_len = old_max_len;
    }
    return 0;
}

/* --- ColumnMetaData / ColumnChunk / RowGroup ----------------------------- */

static int decode_path(struct tc_in *in, struct pq_arena *a, int type, struct pq_column_meta *cm)
{
    int et, rc;
    uint32_t n;
    if (type != TC_LIST)
        return tc_skip(in, type);
    if ((rc = tc_list(in, &et, &n)) < 0)
        return rc;
    if (et != TC_BINARY && n)
        return CORRUPT;
    if (!(cm->path = pq_arena_alloc(a, (size_t)n * sizeof *cm->path)))
        return INGEST_ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        if ((rc = get_str(in, a, TC_BINARY, &cm->path[i])) < 0)
            return rc;
    cm->npath = n;
    return 0;
}

static int decode_column_meta(struct tc_in *in, struct pq_arena *a, struct pq_column_meta *cm)
{
    int type;
    int16_t id;
    unsigned seen = 0;
    cm->type = cm->codec = -1;
    STRUCT_LOOP(in, type, id)
        int rc;
        switch (id) {
        case 1: rc = get_i32(in, type, &cm->type); break;
        case 3: rc = decode_path(in, a, type, cm); break;
        case 4: rc = get_i32(in, type, &cm->codec); break;
        case 5: rc = get_i64(in, type, &cm->num_values); break;
        case 6: rc = get_i64(in, type, &cm->total_uncompressed_size); break;
        case 7: rc = get_i64(in, type, &cm->total_compressed_size); break;
        case 9: rc = get_i64(in, type, &cm->data_page_offset); break;
        case 11:
            rc = get_i64(in, type, &cm->dictionary_page_offset);
            cm->has_dictionary_page_offset = rc > 0;
            break;
        case 12:
            rc = want_struct(in, type);
            if (rc > 0)
                rc = pq_decode_statistics(in, a, &cm->stats);
            break;
        default: rc = tc_skip(in, type); break;
        }
        if (rc < 0)
            return rc;
        if (rc > 0 && id < 32)
            seen |= 1u << id;
    STRUCT_END(in)
    /* type, codec, num_values, sizes, data_page_offset are required */
    unsigned need = 1u << 1 | 1u << 4 | 1u << 5 | 1u << 7 | 1u << 9;
    return (seen & need) == need && cm->path ? 0 : CORRUPT;
}

static int decode_column_chunk(struct tc_in *in, struct pq_arena *a, struct pq_column_chunk *cc)
{
    int type;
    int16_t id;
    STRUCT_LOOP(in, type, id)
        int rc;
        switch (id) {
        case 1: rc = get_str(in, a, type, &cc->file_path); break;
        case 2: rc = get_i64(in, type, &cc->file_offset); break;
        case 3:
            rc = want_struct(in, type);
            if (rc > 0) {
                rc = decode_column_meta(in, a, &cc->meta);
                cc->has_meta = 1;
            }
            break;
        default: rc = tc_skip(in, type); break;
        }
        if (rc < 0)
            return rc;
    STRUCT_END(in)
    return 0;
}

#define DECODE_LIST(in, a, type, arr, n, fn)                                 \
    do {                                                                     \
        int et_, r_;                                                         \
        uint32_t cnt_;                                                       \
        if ((type) != TC_LIST) {                                             \
            rc = tc_skip((in), (type));                                      \
            break;                                                           \
        }                                                                    \
        if ((r_ = tc_list((in), &et_, &cnt_)) < 0)                           \
            return r_;                                                       \
        if (et_ != TC_STRUCT && cnt_)                                        \
            return CORRUPT;                                                  \
        if (!((arr) = pq_arena_alloc((a), (size_t)cnt_ * sizeof *(arr))))    \
            return INGEST_ENOMEM;                                            \
        for (uint32_t i_ = 0; i_ < cnt_; i_++)                               \
            if ((r_ = fn((in), (a), &(arr)[i_])) < 0)                        \
                return r_;                                                   \
        (n) = cnt_;                                                          \
        rc = 1;                                                              \
    } while (0)

static int decode_row_group(struct tc_in *in, struct pq_arena *a, struct pq_row_group *rg)
{
    int type;
    int16_t id;
    int have_cols = 0, have_rows = 0;
    STRUCT_LOOP(in, type, id)
        int rc;
        switch (id) {
        case 1:
            DECODE_LIST(in, a, type, rg->columns, rg->ncolumns, decode_column_chunk);
            have_cols |= rc > 0;
            break;
        case 2: rc = get_i64(in, type, &rg->total_byte_size); break;
        case 3: rc = get_i64(in, type, &rg->num_rows); have_rows |= rc > 0; break;
        default: rc = tc_skip(in, type); break;
        }
        if (rc < 0)
            return rc;
    STRUCT_END(in)
    return have_cols && have_rows && rg->num_rows >= 0 ? 0 : CORRUPT;
}

static int decode_key_value(struct tc_in *in, struct pq_arena *a, struct pq_key_value *kv)
{
    int type;
    int16_t id;
    STRUCT_LOOP(in, type, id)
        int rc;
        switch (id) {
        case 1: rc = get_str(in, a, type, &kv->key); break;
        case 2: rc = get_str(in, a, type, &kv->value); break;
        default: rc = tc_skip(in, type); break;
        }
        if (rc < 0)
            return rc;
    STRUCT_END(in)
    return kv->key ? 0 : CORRUPT;
}

int pq_decode_file_meta(struct tc_in *in, struct pq_arena *a, struct pq_file_meta *fm)
{
    int type;
    int16_t id;
    int have_schema = 0, have_rows = 0, have_rgs = 0;
    memset(fm, 0, sizeof *fm);
    STRUCT_LOOP(in, type, id)
        int rc;
        switch (id) {
        case 1: rc = get_i32(in, type, &fm->version); break;
        case 2:
            DECODE_LIST(in, a, type, fm->schema, fm->nschema, decode_schema_element);
            have_schema |= rc > 0;
            break;
        case 3: rc = get_i64(in, type, &fm->num_rows); have_rows |= rc > 0; break;
        case 4:
            DECODE_LIST(in, a, type, fm->row_groups, fm->nrow_groups, decode_row_group);
            have_rgs |= rc > 0;
            break;
        case 5: DECODE_LIST(in, a, type, fm->kv, fm->nkv, decode_key_value); break;
        case 6: rc = get_str(in, a, type, &fm->created_by); break;
        default: rc = tc_skip(in, type); break;
        }
        if (rc < 0)
            return rc;
    STRUCT_END(in)
    return have_schema && have_rows && have_rgs && fm->nschema > 0 ? 0 : CORRUPT;
}

/* --- PageHeader ------------------------------------------------------------ */

static int decode_data_page_header(struct tc_in *in, struct pq_page_header *ph)
{
    int type;
    int16_t id;
    unsigned seen = 0;
    STRUCT_LOOP(in, type, id)
        int rc;
        switch (id) {
        case 1: rc = get_i32(in, type, &ph->data.num_values); break;
        case 2: rc = get_i32(in, type, &ph->data.encoding); break;
        case 3: rc = get_i32(in, type, &ph->data.def_encoding); break;
        case 4: rc = get_i32(in, type, &ph->data.rep_encoding); break;
        default: rc = tc_skip(in, type); break;   /* statistics: not needed */
        }
        if (rc < 0)
            return rc;
        if (rc > 0 && id < 32)
            seen |= 1u << id;
    STRUCT_END(in)
    return (seen & 6) == 6 ? 0 : CORRUPT;
}

static int decode_dict_page_header(struct tc_in *in, struct pq_page_header *ph)
{
    int type;
    int16_t id;
    unsigned seen = 0;
    STRUCT_LOOP(in, type, id)
        int rc;
        switch (id) {
        case 1: rc = get_i32(in, type, &ph->dict.num_values); break;
        case 2: rc = get_i32(in, type, &ph->dict.encoding); break;
        default: rc = tc_skip(in, type); break;
        }
        if (rc < 0)
            return rc;
        if (rc > 0 && id < 32)
            seen |= 1u << id;
    STRUCT_END(in)
    return (seen & 6) == 6 ? 0 : CORRUPT;
}

static int decode_data_page_header_v2(struct tc_in *in, struct pq_page_header *ph)
{
    int type;
    int16_t id;
    unsigned seen = 0;
    ph->v2.is_compressed = 1;
    STRUCT_LOOP(in, type, id)
        int rc;
        switch (id) {
        case 1: rc = get_i32(in, type, &ph->v2.num_values); break;
        case 2: rc = get_i32(in, type, &ph->v2.num_nulls); break;
        case 3: rc = get_i32(in, type, &ph->v2.num_rows); break;
        case 4: rc = get_i32(in, type, &ph->v2.encoding); break;
        case 5: rc = get_i32(in, type, &ph->v2.def_len); break;
        case 6: rc = get_i32(in, type, &ph->v2.rep_len); break;
        case 7: rc = get_bool(type, &ph->v2.is_compressed) ? 1 : tc_skip(in, type); break;
        default: rc = tc_skip(in, type); break;
        }
        if (rc < 0)
            return rc;
        if (rc > 0 && id < 32)
            seen |= 1u << id;
    STRUCT_END(in)
    unsigned need = 0x7e;    /* fields 1..6 */
    return (seen & need) == need ? 0 : CORRUPT;
}

int pq_decode_page_header(struct tc_in *in, struct pq_page_header *ph)
{
    int type;
    int16_t id;
    unsigned seen = 0;
    memset(ph, 0, sizeof *ph);
    ph->type = -1;
    STRUCT_LOOP(in, type, id)
        int rc;
        switch (id) {
        case 1: rc = get_i32(in, type, &ph->type); break;
        case 2: rc = get_i32(in, type, &ph->uncompressed_size); break;
        case 3: rc = get_i32(in, type, &ph->compressed_size); break;
        case 5:
            if ((rc = want_struct(in, type)) > 0 && (rc = decode_data_page_header(in, ph)) == 0)
                ph->has_data = rc = 1;
            break;
        case 7:
            if ((rc = want_struct(in, type)) > 0 && (rc = decode_dict_page_header(in, ph)) == 0)
                ph->has_dict = rc = 1;
            break;
        case 8:
            if ((rc = want_struct(in, type)) > 0 &&
                (rc = decode_data_page_header_v2(in, ph)) == 0)
                ph->has_data_v2 = rc = 1;
            break;
        default: rc = tc_skip(in, type); break;
        }
        if (rc < 0)
            return rc;
        if (rc > 0 && id < 32)
            seen |= 1u << id;
    STRUCT_END(in)
    if ((seen & 0xe) != 0xe || ph->uncompressed_size < 0 || ph->compressed_size < 0)
        return CORRUPT;
    return 0;
}
