/*
 * dl_ckpt_build.c - a snapshot as checkpoint rows: Spark's schema and the
 * columnar batches the Parquet writer takes (specs/delta-parquet.md A8).
 *
 * The schema is Spark's, leaf for leaf (53 of them): every field
 * optional, map keys required, deletionVector/baseRowId/
 * defaultRowCommitVersion and domainMetadata present but always null.
 * The Parquet writer adds the MAP/LIST annotations and names the inner
 * groups key_value/key/value and list/element, as Spark does.  Members a
 * reader needs non-null inside a present struct (add.partitionValues,
 * metaData.partitionColumns, configuration, format.options) are written as
 * empty maps and lists, never as null.
 *
 * Rows are appended through a small appender tree that mirrors the
 * vectors: one node per vector with its capacities.  An allocation failure
 * is sticky (later appends do nothing) and reported once at the end of the
 * batch, which keeps the row builders free of error plumbing; nothing here
 * aborts.  A batch covers at most max_rows actions so that memory stays
 * bounded by the chunk, whatever the number of files in the table.
 */
#include <stdlib.h>
#include <string.h>

#include "ingestd/error.h"
#include "dl_checkpoint.h"

/* ---- Spark's checkpoint schema ------------------------------------------- */

#define LEAF(n, t) { .name = (n), .type = (t), .nullable = 1 }
#define GROUP(n, t, kids)                                                                  \
    { .name = (n), .type = (t), .nullable = 1, .children = (kids),                          \
      .nchildren = sizeof(kids) / sizeof((kids)[0]) }

static struct ingest_field kv_fields[] = {
    { .name = "key", .type = INGEST_TYPE_STRING, .nullable = 0 },
    LEAF("value", INGEST_TYPE_STRING),
};
static struct ingest_field elem_fields[] = { LEAF("element", INGEST_TYPE_STRING) };
static struct ingest_field dv_fields[] = {
    LEAF("storageType", INGEST_TYPE_STRING), LEAF("pathOrInlineDv", INGEST_TYPE_STRING),
    LEAF("offset", INGEST_TYPE_INT32),       LEAF("sizeInBytes", INGEST_TYPE_INT32),
    LEAF("cardinality", INGEST_TYPE_INT64),  LEAF("maxRowIndex", INGEST_TYPE_INT64),
};

enum { TXN_APP_ID, TXN_VERSION, TXN_LAST_UPDATED };
static struct ingest_field txn_fields[] = {
    LEAF("appId", INGEST_TYPE_STRING), LEAF("version", INGEST_TYPE_INT64),
    LEAF("lastUpdated", INGEST_TYPE_INT64),
};

enum { ADD_PATH, ADD_PART, ADD_SIZE, ADD_MTIME, ADD_DATA_CHANGE, ADD_TAGS, ADD_DV,
       ADD_BASE_ROW_ID, ADD_DEFAULT_ROW_COMMIT, ADD_STATS };
static struct ingest_field add_fields[] = {
    LEAF("path", INGEST_TYPE_STRING),
    GROUP("partitionValues", INGEST_TYPE_MAP, kv_fields),
    LEAF("size", INGEST_TYPE_INT64),
    LEAF("modificationTime", INGEST_TYPE_INT64),
    LEAF("dataChange", INGEST_TYPE_BOOLEAN),
    GROUP("tags", INGEST_TYPE_MAP, kv_fields),
    GROUP("deletionVector", INGEST_TYPE_STRUCT, dv_fields),
    LEAF("baseRowId", INGEST_TYPE_INT64),
    LEAF("defaultRowCommitVersion", INGEST_TYPE_INT64),
    LEAF("stats", INGEST_TYPE_STRING),
};

enum { RM_PATH, RM_DELETION_TS, RM_DATA_CHANGE, RM_EXTENDED, RM_PART, RM_SIZE, RM_DV,
       RM_BASE_ROW_ID, RM_DEFAULT_ROW_COMMIT };
static struct ingest_field remove_fields[] = {
    LEAF("path", INGEST_TYPE_STRING),
    LEAF("deletionTimestamp", INGEST_TYPE_INT64),
    LEAF("dataChange", INGEST_TYPE_BOOLEAN),
    LEAF("extendedFileMetadata", INGEST_TYPE_BOOLEAN),
    GROUP("partitionValues", INGEST_TYPE_MAP, kv_fields),
    LEAF("size", INGEST_TYPE_INT64),
    GROUP("deletionVector", INGEST_TYPE_STRUCT, dv_fields),
    LEAF("baseRowId", INGEST_TYPE_INT64),
    LEAF("defaultRowCommitVersion", INGEST_TYPE_INT64),
};

enum { FMT_PROVIDER, FMT_OPTIONS };
static struct ingest_field format_fields[] = {
    LEAF("provider", INGEST_TYPE_STRING),
    GROUP("options", INGEST_TYPE_MAP, kv_fields),
};

enum { MD_ID, MD_NAME, MD_DESCRIPTION, MD_FORMAT, MD_SCHEMA, MD_PART_COLS, MD_CONF,
       MD_CREATED };
static struct ingest_field meta_fields[] = {
    LEAF("id", INGEST_TYPE_STRING),
    LEAF("name", INGEST_TYPE_STRING),
    LEAF("description", INGEST_TYPE_STRING),
    GROUP("format", INGEST_TYPE_STRUCT, format_fields),
    LEAF("schemaString", INGEST_TYPE_STRING),
    GROUP("partitionColumns", INGEST_TYPE_LIST, elem_fields),
    GROUP("configuration", INGEST_TYPE_MAP, kv_fields),
    LEAF("createdTime", INGEST_TYPE_INT64),
};

enum { PR_MIN_READER, PR_MIN_WRITER, PR_READER_FEATURES, PR_WRITER_FEATURES };
static struct ingest_field protocol_fields[] = {
    LEAF("minReaderVersion", INGEST_TYPE_INT32),
    LEAF("minWriterVersion", INGEST_TYPE_INT32),
    GROUP("readerFeatures", INGEST_TYPE_LIST, elem_fields),
    GROUP("writerFeatures", INGEST_TYPE_LIST, elem_fields),
};

static struct ingest_field domain_fields[] = {
    LEAF("domain", INGEST_TYPE_STRING), LEAF("configuration", INGEST_TYPE_STRING),
    LEAF("removed", INGEST_TYPE_BOOLEAN),
};

enum { COL_TXN, COL_ADD, COL_REMOVE, COL_META, COL_PROTOCOL, COL_DOMAIN, NCOLS };
static struct ingest_field top_fields[NCOLS] = {
    GROUP("txn", INGEST_TYPE_STRUCT, txn_fields),
    GROUP("add", INGEST_TYPE_STRUCT, add_fields),
    GROUP("remove", INGEST_TYPE_STRUCT, remove_fields),
    GROUP("metaData", INGEST_TYPE_STRUCT, meta_fields),
    GROUP("protocol", INGEST_TYPE_STRUCT, protocol_fields),
    GROUP("domainMetadata", INGEST_TYPE_STRUCT, domain_fields),
};

static const struct ingest_schema ckpt_schema = { top_fields, NCOLS };

const struct ingest_schema *dl_ckpt_schema(void)
{
    return &ckpt_schema;
}

/* ---- the appender ---------------------------------------------------------- */

/* Appends to one vector; kids mirror the vector's children. */
struct ap {
    struct ingest_vector *v;
    size_t cap;                 /* slots allocated (values, offsets, validity) */
    size_t dcap;                /* bytes allocated in data */
    struct ap *kids;
    size_t nkids;
    int *err;                   /* sticky: the first failure's code */
};

static int has_offsets(const struct ingest_field *f)
{
    return f->type == INGEST_TYPE_STRING || f->type == INGEST_TYPE_BINARY ||
           f->type == INGEST_TYPE_LIST || f->type == INGEST_TYPE_MAP;
}

/* Sets up a and the empty vector v for field f.  On failure what was
 * allocated stays reachable from a and v for ap_free/ingest_vector_free. */
static int ap_init(struct ap *a, struct ingest_vector *v, const struct ingest_field *f, int *err)
{
    memset(a, 0, sizeof *a);
    memset(v, 0, sizeof *v);
    a->v = v;
    a->err = err;
    v->field = f;
    if (has_offsets(f) && !(v->offsets = calloc(1, sizeof *v->offsets)))
        return INGEST_ENOMEM;
    if (!f->nchildren)
        return 0;
    v->children = calloc(f->nchildren, sizeof *v->children);
    a->kids = calloc(f->nchildren, sizeof *a->kids);
    if (!v->children || !a->kids)
        return INGEST_ENOMEM;
    v->nchildren = a->nkids = f->nchildren;
    for (size_t k = 0; k < f->nchildren; k++) {
        int rc = ap_init(&a->kids[k], &v->children[k], &f->children[k], err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Frees the appender tree (the vectors belong to the batch). */
static void ap_free(struct ap *a)
{
    for (size_t k = 0; k < a->nkids; k++)
        ap_free(&a->kids[k]);
    free(a->kids);
    a->kids = NULL;
    a->nkids = 0;
}

/* Room for one more slot, or 0 after setting the sticky error. */
static int ap_room(struct ap *a)
{
    struct ingest_vector *v = a->v;
    if (*a->err)
        return 0;
    if (v->length < a->cap)
        return 1;
    size_t cap = a->cap ? a->cap * 2 : 16;
    size_t w = ingest_type_width(v->field);
    void *p;
    if (w) {
        if (!(p = realloc(v->values, cap * w)))
            goto oom;
        v->values = p;
    }
    if (v->offsets) {
        if (!(p = realloc(v->offsets, (cap + 1) * sizeof *v->offsets)))
            goto oom;
        v->offsets = p;
    }
    size_t old = a->cap ? a->cap / 8 + 1 : 0, now = cap / 8 + 1;
    if (!(p = realloc(v->validity, now)))
        goto oom;
    v->validity = p;
    memset(v->validity + old, 0, now - old);
    a->cap = cap;
    return 1;
oom:
    *a->err = INGEST_ENOMEM;
    return 0;
}

static void ap_end(struct ap *a, int valid)
{
    struct ingest_vector *v = a->v;
    size_t i = v->length++;
    if (valid)
        v->validity[i >> 3] |= (uint8_t)(1u << (i & 7));
    else
        v->null_count++;
}

/* A null slot; a struct's fields get null slots too, so lengths agree. */
static void ap_null(struct ap *a)
{
    if (!ap_room(a))
        return;
    struct ingest_vector *v = a->v;
    size_t w = ingest_type_width(v->field);
    if (w)
        memset((uint8_t *)v->values + v->length * w, 0, w);
    if (v->offsets)
        v->offsets[v->length + 1] = v->offsets[v->length];
    if (v->field->type == INGEST_TYPE_STRUCT)
        for (size_t k = 0; k < a->nkids; k++)
            ap_null(&a->kids[k]);
    ap_end(a, 0);
}

/* Integer types and booleans (0/1). */
static void ap_i64(struct ap *a, int64_t x)
{
    if (!ap_room(a))
        return;
    void *p = a->v->values;
    size_t i = a->v->length;
    switch (ingest_type_width(a->v->field)) {
    case 1: ((int8_t *)p)[i] = (int8_t)x; break;
    case 4: ((int32_t *)p)[i] = (int32_t)x; break;
    default: ((int64_t *)p)[i] = x; break;
    }
    ap_end(a, 1);
}

/* A string; NULL appends a null. */
static void ap_str(struct ap *a, const char *s)
{
    if (!s) {
        ap_null(a);
        return;
    }
    if (!ap_room(a))
        return;
    struct ingest_vector *v = a->v;
    size_t n = strlen(s), at = v->offsets[v->length];
    if (n > UINT32_MAX - at) {
        *a->err = INGEST_ERANGE;   /* batch.h offsets are 32-bit */
        return;
    }
    if (at + n > a->dcap) {
        size_t cap = a->dcap ? a->dcap : 256;
        while (cap < at + n)
            cap *= 2;
        uint8_t *d = realloc(v->data, cap);
        if (!d) {
            *a->err = INGEST_ENOMEM;
            return;
        }
        v->data = d;
        a->dcap = cap;
    }
    memcpy(v->data + at, s, n);
    v->offsets[v->length + 1] = (uint32_t)(at + n);
    ap_end(a, 1);
}

/* Ends a valid struct, list or map slot whose children were appended. */
static void ap_close(struct ap *a)
{
    if (!ap_room(a))
        return;
    struct ingest_vector *v = a->v;
    if (v->offsets) {
        size_t n = a->kids[0].v->length;
        if (n > UINT32_MAX) {
            *a->err = INGEST_ERANGE;
            return;
        }
        v->offsets[v->length + 1] = (uint32_t)n;
    }
    ap_end(a, 1);
}

static void put_map(struct ap *m, const struct ingest_delta_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ap_str(&m->kids[0], kv[i].key ? kv[i].key : "");
        ap_str(&m->kids[1], kv[i].value);
    }
    ap_close(m);
}

static void put_list(struct ap *l, char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ap_str(&l->kids[0], v[i]);
    ap_close(l);
}

static void put_i64_or_null(struct ap *a, int64_t x, int present)
{
    if (present)
        ap_i64(a, x);
    else
        ap_null(a);
}

/* ---- rows ---------------------------------------------------------------- */

static void row_protocol(struct ap *a, const struct ingest_delta_protocol *p)
{
    struct ap *k = a->kids;
    ap_i64(&k[PR_MIN_READER], p->min_reader);
    ap_i64(&k[PR_MIN_WRITER], p->min_writer);
    char **const feats[2] = { p->reader_features, p->writer_features };
    for (int j = 0; j < 2; j++) {
        struct ap *l = &k[j ? PR_WRITER_FEATURES : PR_READER_FEATURES];
        size_t n = 0;
        if (!feats[j]) {
            ap_null(l);     /* reader 1 / writer 2: no feature lists */
            continue;
        }
        while (feats[j][n])
            n++;
        put_list(l, feats[j], n);
    }
    ap_close(a);
}

static void row_metadata(struct ap *a, const struct ingest_delta_metadata *m)
{
    struct ap *k = a->kids, *fmt = &k[MD_FORMAT];
    ap_str(&k[MD_ID], m->id);
    ap_str(&k[MD_NAME], m->name);
    ap_str(&k[MD_DESCRIPTION], m->description);
    ap_str(&fmt->kids[FMT_PROVIDER], m->format_provider ? m->format_provider : "parquet");
    put_map(&fmt->kids[FMT_OPTIONS], m->format_options, m->nformat_options);
    ap_close(fmt);
    ap_str(&k[MD_SCHEMA], m->schema_string);
    put_list(&k[MD_PART_COLS], m->partition_cols, m->npartition_cols);
    put_map(&k[MD_CONF], m->configuration, m->nconfiguration);
    put_i64_or_null(&k[MD_CREATED], m->created_time, m->created_time != -1);
    ap_close(a);
}

static void row_txn(struct ap *a, const struct ingest_delta_txn *t)
{
    struct ap *k = a->kids;
    ap_str(&k[TXN_APP_ID], t->app_id);
    ap_i64(&k[TXN_VERSION], t->version);
    put_i64_or_null(&k[TXN_LAST_UPDATED], t->last_updated, t->last_updated != -1);
    ap_close(a);
}

static void row_add(struct ap *a, const struct ingest_delta_file *f)
{
    struct ap *k = a->kids;
    ap_str(&k[ADD_PATH], f->path);
    put_map(&k[ADD_PART], f->part, f->npart);
    ap_i64(&k[ADD_SIZE], f->size);
    ap_i64(&k[ADD_MTIME], f->modification_time);
    ap_i64(&k[ADD_DATA_CHANGE], f->data_change != 0);
    if (f->ntags)
        put_map(&k[ADD_TAGS], f->tags, f->ntags);
    else
        ap_null(&k[ADD_TAGS]);
    ap_null(&k[ADD_DV]);
    ap_null(&k[ADD_BASE_ROW_ID]);
    ap_null(&k[ADD_DEFAULT_ROW_COMMIT]);
    ap_str(&k[ADD_STATS], f->stats);
    ap_close(a);
}

/* Spark's removes carry partitionValues and size when extendedFileMetadata
 * is set; a remove logged without it (older writers) keeps them null, and
 * the flag itself null rather than a false nobody wrote. */
static void row_remove(struct ap *a, const struct ingest_delta_file *f)
{
    struct ap *k = a->kids;
    int ext = f->extended_file_metadata != 0;
    ap_str(&k[RM_PATH], f->path);
    put_i64_or_null(&k[RM_DELETION_TS], f->deletion_timestamp, f->deletion_timestamp != -1);
    ap_i64(&k[RM_DATA_CHANGE], f->data_change != 0);
    put_i64_or_null(&k[RM_EXTENDED], 1, ext);
    if (ext)
        put_map(&k[RM_PART], f->part, f->npart);
    else
        ap_null(&k[RM_PART]);
    put_i64_or_null(&k[RM_SIZE], f->size, ext && f->size >= 0);
    ap_null(&k[RM_DV]);
    ap_null(&k[RM_BASE_ROW_ID]);
    ap_null(&k[RM_DEFAULT_ROW_COMMIT]);
    ap_close(a);
}

/* ---- batches ------------------------------------------------------------- */

static int expired(const struct ingest_delta_file *f, int64_t expire_before)
{
    return f->removed && f->deletion_timestamp != -1 && f->deletion_timestamp < expire_before;
}

/* Appends action number i as a row (column `col`), or returns 0 when the
 * action does not exist or is an expired tombstone. */
static int put_action(const struct ingest_delta_snapshot *s, size_t i, int64_t expire_before,
                      struct ap *cols, int *is_add)
{
    int col;
    const struct ingest_delta_file *f = NULL;
    *is_add = 0;
    if (i == 0) {
        if (!s->has_protocol)
            return 0;
        col = COL_PROTOCOL;
    } else if (i == 1) {
        if (!s->has_metadata)
            return 0;
        col = COL_META;
    } else if (i - 2 < s->ntxns) {
        col = COL_TXN;
    } else {
        f = &s->files[i - 2 - s->ntxns];
        if (expired(f, expire_before))
            return 0;
        col = f->removed ? COL_REMOVE : COL_ADD;
        *is_add = !f->removed;
    }
    for (int c = 0; c < NCOLS; c++)
        if (c != col)
            ap_null(&cols[c]);
    switch (col) {
    case COL_PROTOCOL: row_protocol(&cols[col], &s->protocol); break;
    case COL_META: row_metadata(&cols[col], &s->meta); break;
    case COL_TXN: row_txn(&cols[col], &s->txns[i - 2]); break;
    case COL_ADD: row_add(&cols[col], f); break;
    default: row_remove(&cols[col], f); break;
    }
    return 1;
}

int dl_ckpt_build(const struct ingest_delta_snapshot *s, struct dl_ckpt_cursor *cur,
                  size_t max_rows, struct ingest_batch *out)
{
    struct ap cols[NCOLS];
    int err = 0;
    memset(cols, 0, sizeof cols);
    memset(out, 0, sizeof *out);
    out->schema = &ckpt_schema;
    out->columns = calloc(NCOLS, sizeof *out->columns);
    if (!out->columns) {
        err = INGEST_ENOMEM;
        goto fail;
    }
    for (int c = 0; c < NCOLS; c++) {
        int rc = ap_init(&cols[c], &out->columns[c], &top_fields[c], &err);
        if (rc < 0) {
            err = rc;
            goto fail;
        }
    }
    size_t total = 2 + s->ntxns + s->nfiles, rows = 0;
    int64_t adds = 0;
    while (!err && rows < max_rows && cur->next < total) {
        int is_add;
        if (put_action(s, cur->next++, cur->expire_before, cols, &is_add)) {
            rows++;
            adds += is_add;
        }
    }
    if (err || rows == 0)
        goto fail;      /* rows == 0: done, nothing to hand out */
    out->nrows = rows;
    cur->rows += (int64_t)rows;
    cur->adds += adds;
    for (int c = 0; c < NCOLS; c++)
        ap_free(&cols[c]);
    return 0;
fail:
    for (int c = 0; c < NCOLS; c++)
        ap_free(&cols[c]);
    ingest_batch_free(out);
    memset(out, 0, sizeof *out);
    return err;
}
