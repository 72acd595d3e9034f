/* vecbuild.c - test support: batches built value by value (see vecbuild.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vecbuild.h"

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fprintf(stderr, "vecbuild: out of memory\n");
        abort();
    }
    return p;
}

static void vb_init(struct vb *b, struct ingest_vector *v, const struct ingest_field *f)
{
    memset(b, 0, sizeof *b);
    memset(v, 0, sizeof *v);
    b->v = v;
    b->f = f;
    v->field = f;
    if (f->type == INGEST_TYPE_STRING || f->type == INGEST_TYPE_BINARY ||
        f->type == INGEST_TYPE_LIST || f->type == INGEST_TYPE_MAP) {
        v->offsets = xrealloc(NULL, sizeof *v->offsets);
        v->offsets[0] = 0;
    }
    if (f->nchildren) {
        v->children = xrealloc(NULL, f->nchildren * sizeof *v->children);
        v->nchildren = f->nchildren;
        b->kids = xrealloc(NULL, f->nchildren * sizeof *b->kids);
        b->nkids = f->nchildren;
        for (size_t k = 0; k < f->nchildren; k++)
            vb_init(&b->kids[k], &v->children[k], &f->children[k]);
    }
}

static void vb_free(struct vb *b)
{
    for (size_t k = 0; k < b->nkids; k++)
        vb_free(&b->kids[k]);
    free(b->kids);
}

static void vb_grow(struct vb *b)
{
    struct ingest_vector *v = b->v;
    if (v->length < b->cap)
        return;
    size_t cap = b->cap ? b->cap * 2 : 64;
    size_t w = ingest_type_width(b->f);
    if (w) {
        v->values = xrealloc(v->values, cap * w);
        memset((char *)v->values + b->cap * w, 0, (cap - b->cap) * w);
    }
    if (v->offsets)
        v->offsets = xrealloc(v->offsets, (cap + 1) * sizeof *v->offsets);
    size_t old = b->cap ? b->cap / 8 + 1 : 0;
    v->validity = xrealloc(v->validity, cap / 8 + 1);
    memset(v->validity + old, 0, cap / 8 + 1 - old);
    b->cap = cap;
}

/* Ends slot v->length: valid or not. */
static void vb_end(struct vb *b, int valid)
{
    struct ingest_vector *v = b->v;
    size_t i = v->length;
    if (valid)
        v->validity[i >> 3] |= (uint8_t)(1u << (i & 7));
    else
        v->null_count++;
    v->length++;
}

void vb_null(struct vb *b)
{
    vb_grow(b);
    struct ingest_vector *v = b->v;
    if (v->offsets)
        v->offsets[v->length + 1] = v->offsets[v->length];
    if (b->f->type == INGEST_TYPE_STRUCT)
        for (size_t k = 0; k < b->nkids; k++)
            vb_null(&b->kids[k]);
    vb_end(b, 0);
}

void vb_i64(struct vb *b, int64_t x)
{
    vb_grow(b);
    void *p = b->v->values;
    size_t i = b->v->length;
    switch (ingest_type_width(b->f)) {
    case 1: ((int8_t *)p)[i] = (int8_t)x; break;
    case 2: ((int16_t *)p)[i] = (int16_t)x; break;
    case 4: ((int32_t *)p)[i] = (int32_t)x; break;
    default: ((int64_t *)p)[i] = x; break;
    }
    vb_end(b, 1);
}

void vb_f64(struct vb *b, double x)
{
    vb_grow(b);
    size_t i = b->v->length;
    if (b->f->type == INGEST_TYPE_FLOAT)
        ((float *)b->v->values)[i] = (float)x;
    else
        ((double *)b->v->values)[i] = x;
    vb_end(b, 1);
}

void vb_f32_bits(struct vb *b, uint32_t bits)
{
    vb_grow(b);
    memcpy((float *)b->v->values + b->v->length, &bits, 4);
    vb_end(b, 1);
}

void vb_f64_bits(struct vb *b, uint64_t bits)
{
    vb_grow(b);
    memcpy((double *)b->v->values + b->v->length, &bits, 8);
    vb_end(b, 1);
}

void vb_dec128(struct vb *b, __int128 x)
{
    vb_grow(b);
    unsigned __int128 u = (unsigned __int128)x;
    uint8_t *p = (uint8_t *)b->v->values + b->v->length * 16;
    for (int k = 0; k < 16; k++)
        p[k] = (uint8_t)(u >> (8 * k));
    vb_end(b, 1);
}

void vb_bytes(struct vb *b, const void *p, size_t n)
{
    vb_grow(b);
    struct ingest_vector *v = b->v;
    uint32_t at = v->offsets[v->length];
    if (at + n > b->dcap) {
        size_t cap = b->dcap ? b->dcap : 256;
        while (cap < at + n)
            cap *= 2;
        v->data = xrealloc(v->data, cap);
        b->dcap = cap;
    }
    if (n)
        memcpy(v->data + at, p, n);
    v->offsets[v->length + 1] = at + (uint32_t)n;
    vb_end(b, 1);
}

void vb_str(struct vb *b, const char *s)
{
    vb_bytes(b, s, strlen(s));
}

void vb_close(struct vb *b)
{
    vb_grow(b);
    if (b->v->offsets)
        b->v->offsets[b->v->length + 1] = (uint32_t)b->kids[0].v->length;
    vb_end(b, 1);
}

static void vb_finish(struct vb *b)
{
    if (b->v->null_count == 0) {
        free(b->v->validity);
        b->v->validity = NULL;
    }
    for (size_t k = 0; k < b->nkids; k++)
        vb_finish(&b->kids[k]);
}

void vb_table_init(struct vb_table *t, struct ingest_field *fields, size_t n)
{
    t->schema.fields = fields;
    t->schema.nfields = n;
    t->batch.schema = &t->schema;
    t->batch.nrows = 0;
    t->batch.columns = xrealloc(NULL, n * sizeof *t->batch.columns);
    t->cols = xrealloc(NULL, n * sizeof *t->cols);
    for (size_t i = 0; i < n; i++)
        vb_init(&t->cols[i], &t->batch.columns[i], &fields[i]);
}

void vb_table_finish(struct vb_table *t)
{
    for (size_t i = 0; i < t->schema.nfields; i++)
        vb_finish(&t->cols[i]);
    t->batch.nrows = t->schema.nfields ? t->batch.columns[0].length : 0;
}

void vb_table_free(struct vb_table *t)
{
    for (size_t i = 0; i < t->schema.nfields; i++)
        vb_free(&t->cols[i]);
    free(t->cols);
    ingest_batch_free(&t->batch);
}
