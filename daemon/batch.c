/* batch.c - helpers for columnar batches (see batch.h). */
#include <stdlib.h>

#include "ingestd/batch.h"

size_t ingest_type_width(const struct ingest_field *f)
{
    switch (f->type) {
    case INGEST_TYPE_BOOLEAN: case INGEST_TYPE_INT8: return 1;
    case INGEST_TYPE_INT16: return 2;
    case INGEST_TYPE_INT32: case INGEST_TYPE_FLOAT: case INGEST_TYPE_DATE: return 4;
    case INGEST_TYPE_INT64: case INGEST_TYPE_DOUBLE: case INGEST_TYPE_TIMESTAMP: return 8;
    case INGEST_TYPE_DECIMAL: return f->precision <= 18 ? 8 : 16;
    default: return 0;
    }
}

const char *ingest_type_name(enum ingest_type_id t)
{
    static const char *const names[] = {
        "boolean", "byte", "short", "int", "long", "float", "double", "string", "binary",
        "date", "timestamp", "decimal", "struct", "array", "map",
    };
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

void ingest_vector_free(struct ingest_vector *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->nchildren; i++)
        ingest_vector_free(&v->children[i]);
    free(v->children);
    free(v->validity);
    free(v->values);
    free(v->offsets);
    free(v->data);
    v->children = NULL;
    v->validity = NULL;
    v->values = NULL;
    v->offsets = NULL;
    v->data = NULL;
    v->nchildren = v->length = v->null_count = 0;
}

void ingest_batch_free(struct ingest_batch *b)
{
    if (!b || !b->columns)
        return;
    for (size_t i = 0; b->schema && i < b->schema->nfields; i++)
        ingest_vector_free(&b->columns[i]);
    free(b->columns);
    b->columns = NULL;
    b->nrows = 0;
}

static void field_free(struct ingest_field *f)
{
    for (size_t i = 0; i < f->nchildren; i++)
        field_free(&f->children[i]);
    free(f->children);
    free(f->name);
}

void ingest_schema_free(struct ingest_schema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nfields; i++)
        field_free(&s->fields[i]);
    free(s->fields);
    s->fields = NULL;
    s->nfields = 0;
}
