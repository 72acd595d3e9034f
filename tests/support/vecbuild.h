/*
 * vecbuild.h - test support: build columnar batches (include/ingestd/batch.h)
 * value by value, for tests and tools that need exact, hand-chosen data.
 *
 * Not for the daemon: it aborts the process when memory runs out, which is
 * right for a test and wrong for a service.  Ownership: the vectors' buffers
 * belong to the batch (free with vb_table_free); the schema's fields are the
 * caller's (usually static arrays built with the F/FD/FG macros).
 */
#ifndef INGEST_TEST_VECBUILD_H
#define INGEST_TEST_VECBUILD_H

#include <stddef.h>
#include <stdint.h>

#include "ingestd/batch.h"

/* Schema fields: F(name, type, nullable), FD for decimals, FG for groups. */
#define F(n, t, nl) { .name = (char *)(n), .type = (t), .nullable = (nl) }
#define FD(n, p, s, nl) { .name = (char *)(n), .type = INGEST_TYPE_DECIMAL, .precision = (p), \
                          .scale = (s), .nullable = (nl) }
#define FG(n, t, nl, kids) { .name = (char *)(n), .type = (t), .nullable = (nl),           \
                             .children = (kids), .nchildren = sizeof(kids) / sizeof((kids)[0]) }

/* Appends to one vector (and, for nested types, to its children). */
struct vb {
    struct ingest_vector *v;
    const struct ingest_field *f;
    size_t cap, dcap;
    struct vb *kids;
    size_t nkids;
};

void vb_null(struct vb *b);                       /* any type; structs null their fields */
void vb_i64(struct vb *b, int64_t x);             /* integer types, date, timestamp, decimal p<=18 */
void vb_f64(struct vb *b, double x);              /* float (rounded) or double */
void vb_f32_bits(struct vb *b, uint32_t bits);    /* float, exact bit pattern */
void vb_f64_bits(struct vb *b, uint64_t bits);    /* double, exact bit pattern */
void vb_dec128(struct vb *b, __int128 x);         /* decimal p>18, unscaled */
void vb_bytes(struct vb *b, const void *p, size_t n);   /* string, binary */
void vb_str(struct vb *b, const char *s);
/* Ends a valid list/map/struct slot after its children were appended
 * (kids[0] of a list is the element; kids[0]/kids[1] of a map are key/value). */
void vb_close(struct vb *b);

/* A batch under construction: one builder per top-level field. */
struct vb_table {
    struct ingest_schema schema;
    struct ingest_batch batch;
    struct vb *cols;
};

void vb_table_init(struct vb_table *t, struct ingest_field *fields, size_t n);
/* Sets nrows and drops validity bitmaps without nulls (validity == NULL). */
void vb_table_finish(struct vb_table *t);
void vb_table_free(struct vb_table *t);

#endif
