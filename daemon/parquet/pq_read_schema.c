/*
 * pq_read_schema.c - the footer's flat SchemaElement list -> ingest_schema,
 * plus one pq_leaf per leaf column describing how its levels map onto the
 * vectors of batch.h (spec A7, B4, B7; LogicalTypes.md "Lists", "Maps"
 * backward-compatibility rules).
 *
 * Lists: a LIST group whose repeated child is a primitive, a group of
 * several fields, or is named "array" / "<list>_tuple" is the legacy
 * 2-level form (the repeated node is the required element); otherwise the
 * repeated group's only child is the element (3-level).  A repeated field
 * outside a LIST group is a non-null list of required elements.  Maps:
 * MAP / MAP_KEY_VALUE groups over a repeated group of key and value.
 *
 * Levels: a node adds a definition level when OPTIONAL or REPEATED and a
 * repetition level when REPEATED.  For each vector on a leaf's path we
 * record when a level entry creates a slot in it (pq_step); the first
 * leaf under a vector "owns" it and builds its validity and offsets.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingestd/error.h"
#include "pq_read.h"

struct snode {
    const struct pq_schema_element *el;
    struct snode *kids;
    uint32_t nkids;
};

struct conv {
    const struct pq_file_meta *fm;
    struct pq_arena *a;
    uint32_t next;                  /* next SchemaElement to build a node from */
    struct pq_leaf *leaves;
    size_t nleaves, cap;
    uint32_t top;
    struct pq_step stack[PQ_MAX_NEST];
    int owned[PQ_MAX_NEST];
    uint32_t depth;
    const char *names[2 * PQ_MAX_NEST + 2];
    uint32_t nnames;
    char *err;
    size_t errlen;
};

static int fail(struct conv *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct conv *c, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
    return rc;
}

/* Builds the tree from the depth-first list (root first). */
static int build_tree(struct conv *c, struct snode *n, int depth)
{
    if (c->next >= c->fm->nschema)
        return fail(c, INGEST_ECORRUPT, "schema tree needs more elements than the %u listed",
                    c->fm->nschema);
    const struct pq_schema_element *el = &c->fm->schema[c->next++];
    n->el = el;
    if (depth > 2 * PQ_MAX_NEST)
        return fail(c, INGEST_ECORRUPT, "schema nested too deeply");
    if (el->num_children <= 0 && !(depth == 0 && el->num_children == 0))
        return 0;
    if ((uint32_t)el->num_children > c->fm->nschema - c->next)
        return fail(c, INGEST_ECORRUPT, "schema element %s claims %d children, %u remain",
                    el->name, el->num_children, c->fm->nschema - c->next);
    n->nkids = (uint32_t)el->num_children;
    if (!(n->kids = pq_arena_alloc(c->a, n->nkids * sizeof *n->kids)))
        return fail(c, INGEST_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < n->nkids; i++) {
        int rc = build_tree(c, &n->kids[i], depth + 1);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int is_group(const struct snode *n)
{
    return n->el->num_children > 0;
}

/* The batch.h type of a primitive node (leaf fields' conv set too). */
static int leaf_type(struct conv *c, const struct pq_schema_element *el, struct ingest_field *f,
                     int *conv)
{
    const struct pq_logical_type *lt = &el->logical;
    int ct = el->converted;
    *conv = PQ_CONV_NONE;
    if (lt->kind == PQ_LT_DECIMAL || ct == PQ_CT_DECIMAL) {
        f->type = INGEST_TYPE_DECIMAL;
        f->precision = lt->kind == PQ_LT_DECIMAL ? lt->precision : el->precision;
        f->scale = lt->kind == PQ_LT_DECIMAL ? lt->scale : el->scale;
        if (f->precision < 1 || f->precision > 38 || f->scale < 0 || f->scale > f->precision)
            return fail(c, INGEST_ENOTSUP, "column %s: decimal(%d,%d)", el->name, f->precision,
                        f->scale);
        if (el->type == PQ_INT32 || el->type == PQ_INT64 || el->type == PQ_BYTE_ARRAY ||
            el->type == PQ_FLBA)
            return 0;
        return fail(c, INGEST_ECORRUPT, "column %s: decimal on physical type %d", el->name,
                    el->type);
    }
    switch (el->type) {
    case PQ_BOOLEAN: f->type = INGEST_TYPE_BOOLEAN; return 0;
    case PQ_FLOAT: f->type = INGEST_TYPE_FLOAT; return 0;
    case PQ_DOUBLE: f->type = INGEST_TYPE_DOUBLE; return 0;
    case PQ_INT96: f->type = INGEST_TYPE_TIMESTAMP; *conv = PQ_CONV_INT96; return 0;
    case PQ_INT32:
        f->type = INGEST_TYPE_INT32;
        if (lt->kind == PQ_LT_DATE || ct == PQ_CT_DATE)
            f->type = INGEST_TYPE_DATE;
        else if ((lt->kind == PQ_LT_INTEGER && lt->is_signed && lt->bit_width == 8) ||
                 ct == PQ_CT_INT_8)
            f->type = INGEST_TYPE_INT8;
        else if ((lt->kind == PQ_LT_INTEGER && lt->is_signed && lt->bit_width == 16) ||
                 ct == PQ_CT_INT_16)
            f->type = INGEST_TYPE_INT16;
        else if ((lt->kind == PQ_LT_INTEGER && !lt->is_signed && lt->bit_width == 8) ||
                 ct == PQ_CT_UINT_8)
            f->type = INGEST_TYPE_INT16, *conv = PQ_CONV_UNSIGNED;
        else if ((lt->kind == PQ_LT_INTEGER && !lt->is_signed && lt->bit_width == 16) ||
                 ct == PQ_CT_UINT_16)
            f->type = INGEST_TYPE_INT32, *conv = PQ_CONV_UNSIGNED;
        else if ((lt->kind == PQ_LT_INTEGER && !lt->is_signed) || ct == PQ_CT_UINT_32)
            f->type = INGEST_TYPE_INT64, *conv = PQ_CONV_UNSIGNED;
        return 0;
    case PQ_INT64:
        f->type = INGEST_TYPE_INT64;
        if (lt->kind == PQ_LT_TIMESTAMP) {
            f->type = INGEST_TYPE_TIMESTAMP;
            *conv = lt->unit == PQ_UNIT_MILLIS ? PQ_CONV_MILLIS
                  : lt->unit == PQ_UNIT_NANOS ? PQ_CONV_NANOS : PQ_CONV_NONE;
        } else if (ct == PQ_CT_TIMESTAMP_MICROS) {
            f->type = INGEST_TYPE_TIMESTAMP;
        } else if (ct == PQ_CT_TIMESTAMP_MILLIS) {
            f->type = INGEST_TYPE_TIMESTAMP;
            *conv = PQ_CONV_MILLIS;
        }
        return 0;
    case PQ_BYTE_ARRAY:
        f->type = INGEST_TYPE_BINARY;
        if (lt->kind == PQ_LT_STRING || lt->kind == PQ_LT_ENUM || lt->kind == PQ_LT_JSON ||
            ct == PQ_CT_UTF8 || ct == PQ_CT_ENUM || ct == PQ_CT_JSON)
            f->type = INGEST_TYPE_STRING;
        return 0;
    case PQ_FLBA:
        if (el->type_length <= 0)
            return fail(c, INGEST_ECORRUPT, "column %s: fixed length %d", el->name,
                        el->type_length);
        f->type = INGEST_TYPE_BINARY;
        return 0;
    default:
        return fail(c, INGEST_ECORRUPT, "column %s: physical type %d", el->name, el->type);
    }
}

static int push(struct conv *c, uint32_t child, int kind, int slot_rep, int slot_def,
                int def_present, int elem_def)
{
    if (c->depth >= PQ_MAX_NEST)
        return fail(c, INGEST_ENOTSUP, "schema nested deeper than %d", PQ_MAX_NEST);
    struct pq_step *s = &c->stack[c->depth];
    s->child = child;
    s->kind = (uint8_t)kind;
    s->owner = 0;
    s->slot_rep = (uint8_t)slot_rep;
    s->slot_def = (uint8_t)slot_def;
    s->def_present = (uint8_t)def_present;
    s->elem_def = (uint8_t)elem_def;
    c->owned[c->depth] = 0;
    c->depth++;
    return 0;
}

static int emit_leaf(struct conv *c, const struct snode *n, const struct ingest_field *f,
                     int conv, int max_def, int max_rep)
{
    if (c->nleaves == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        struct pq_leaf *l = realloc(c->leaves, cap * sizeof *l);
        if (!l)
            return fail(c, INGEST_ENOMEM, "out of memory");
        c->leaves = l;
        c->cap = cap;
    }
    struct pq_leaf *leaf = &c->leaves[c->nleaves++];
    memset(leaf, 0, sizeof *leaf);
    leaf->top = c->top;
    leaf->el = n->el;
    leaf->field = f;
    leaf->conv = conv;
    leaf->max_def = (uint8_t)max_def;
    leaf->max_rep = (uint8_t)max_rep;
    leaf->nsteps = c->depth;
    for (uint32_t i = 0; i < c->depth; i++) {
        leaf->steps[i] = c->stack[i];
        if (!c->owned[i])
            leaf->steps[i].owner = 1, c->owned[i] = 1;
    }
    leaf->npath = c->nnames;
    leaf->path = pq_arena_alloc(c->a, c->nnames * sizeof *leaf->path);
    size_t len = 1;
    for (uint32_t i = 0; i < c->nnames; i++)
        len += strlen(c->names[i]) + 1;
    leaf->name = pq_arena_alloc(c->a, len);
    if (!leaf->path || !leaf->name)
        return fail(c, INGEST_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < c->nnames; i++) {
        leaf->path[i] = c->names[i];
        if (i)
            strcat(leaf->name, ".");
        strcat(leaf->name, c->names[i]);
    }
    return 0;
}

static int convert(struct conv *c, const struct snode *n, struct ingest_field *f, uint32_t child,
                   int d_in, int r_in, int slot_def, int slot_rep, int as_element);

static int alloc_children(struct conv *c, struct ingest_field *f, size_t n)
{
    if (!(f->children = calloc(n, sizeof *f->children)))
        return fail(c, INGEST_ENOMEM, "out of memory");
    f->nchildren = n;
    return 0;
}

/* Converts a group into LIST / MAP / STRUCT; d is its own definition level. */
static int convert_group(struct conv *c, const struct snode *n, struct ingest_field *f,
                         uint32_t child, int d, int r_in, int slot_def, int slot_rep)
{
    const struct pq_schema_element *el = n->el;
    int rc;
    int is_list = el->logical.kind == PQ_LT_LIST || el->converted == PQ_CT_LIST;
    int is_map = el->logical.kind == PQ_LT_MAP || el->converted == PQ_CT_MAP ||
                 el->converted == PQ_CT_MAP_KEY_VALUE;
    const struct snode *q = n->nkids == 1 ? &n->kids[0] : NULL;
    if (q && q->el->repetition != PQ_REPEATED)
        q = NULL;
    if (is_list && q) {
        f->type = INGEST_TYPE_LIST;
        if ((rc = alloc_children(c, f, 1)) < 0 ||
            (rc = push(c, child, PQ_V_LIST, slot_rep, slot_def, d, d + 1)) < 0)
            return rc;
        size_t nl = strlen(el->name);
        int legacy = !is_group(q) || q->nkids > 1 || !strcmp(q->el->name, "array") ||
                     (!strncmp(q->el->name, el->name, nl) && !strcmp(q->el->name + nl, "_tuple"));
        c->names[c->nnames++] = q->el->name;
        if (legacy)
            rc = convert(c, q, &f->children[0], 0, d + 1, r_in + 1, d + 1, r_in + 1, 1);
        else
            rc = convert(c, &q->kids[0], &f->children[0], 0, d + 1, r_in + 1, d + 1, r_in + 1, 0);
        c->nnames--;
        c->depth--;
        return rc;
    }
    if (is_map && q && is_group(q) && q->nkids <= 2) {
        if (q->nkids != 2)
            return fail(c, INGEST_ENOTSUP, "map %s has no value column", el->name);
        f->type = INGEST_TYPE_MAP;
        if ((rc = alloc_children(c, f, 2)) < 0 ||
            (rc = push(c, child, PQ_V_MAP, slot_rep, slot_def, d, d + 1)) < 0)
            return rc;
        c->names[c->nnames++] = q->el->name;
        for (uint32_t i = 0; i < 2 && rc == 0; i++)
            rc = convert(c, &q->kids[i], &f->children[i], i, d + 1, r_in + 1, d + 1, r_in + 1, 0);
        c->nnames--;
        c->depth--;
        return rc;
    }
    f->type = INGEST_TYPE_STRUCT;
    if ((rc = alloc_children(c, f, n->nkids)) < 0 ||
        (rc = push(c, child, PQ_V_STRUCT, slot_rep, slot_def, d, 0)) < 0)
        return rc;
    for (uint32_t i = 0; i < n->nkids && rc == 0; i++)
        rc = convert(c, &n->kids[i], &f->children[i], i, d, r_in, slot_def, slot_rep, 0);
    c->depth--;
    return rc;
}

/*
 * n: the node; f: its field; d_in/r_in: levels of its parent; slot_def/
 * slot_rep: when a slot exists in f's vector; as_element: n is a repeated
 * node standing for a list's (required) element.
 */
static int convert(struct conv *c, const struct snode *n, struct ingest_field *f, uint32_t child,
                   int d_in, int r_in, int slot_def, int slot_rep, int as_element)
{
    const struct pq_schema_element *el = n->el;
    int rep = as_element ? PQ_REQUIRED : el->repetition < 0 ? PQ_REQUIRED : el->repetition;
    int rc;
    if (rep > PQ_REPEATED)
        return fail(c, INGEST_ECORRUPT, "column %s: repetition %d", el->name, rep);
    if (c->nnames >= sizeof c->names / sizeof c->names[0] - 1)
        return fail(c, INGEST_ENOTSUP, "schema nested deeper than %d", PQ_MAX_NEST);
    if (!(f->name = strdup(as_element ? "element" : el->name)))
        return fail(c, INGEST_ENOMEM, "out of memory");
    if (!as_element)
        c->names[c->nnames++] = el->name;
    f->nullable = rep == PQ_OPTIONAL;
    if (rep == PQ_REPEATED) {
        /* a bare repeated field: a non-null list of required elements */
        f->type = INGEST_TYPE_LIST;
        if ((rc = alloc_children(c, f, 1)) < 0 ||
            (rc = push(c, child, PQ_V_LIST, slot_rep, slot_def, d_in, d_in + 1)) < 0)
            return rc;
        rc = convert(c, n, &f->children[0], 0, d_in + 1, r_in + 1, d_in + 1, r_in + 1, 1);
        c->depth--;
    } else if (is_group(n)) {
        rc = convert_group(c, n, f, child, d_in + f->nullable, r_in, slot_def, slot_rep);
    } else {
        int conv, d = d_in + f->nullable;
        if ((rc = leaf_type(c, el, f, &conv)) < 0 ||
            (rc = push(c, child, PQ_V_LEAF, slot_rep, slot_def, d, 0)) < 0)
            return rc;
        rc = emit_leaf(c, n, f, conv, d, r_in);
        c->depth--;
    }
    if (!as_element)
        c->nnames--;
    return rc;
}

int pq_schema_convert(const struct pq_file_meta *fm, struct pq_arena *a,
                      struct ingest_schema *schema, struct pq_leaf **leaves, size_t *nleaves,
                      char *err, size_t errlen)
{
    struct conv c = { .fm = fm, .a = a, .err = err, .errlen = errlen };
    struct snode root;
    int rc;
    memset(&root, 0, sizeof root);
    memset(schema, 0, sizeof *schema);
    if ((rc = build_tree(&c, &root, 0)) < 0)
        goto fail;
    if (c.next != fm->nschema) {
        rc = fail(&c, INGEST_ECORRUPT, "schema has %u elements, the tree uses %u", fm->nschema,
                  c.next);
        goto fail;
    }
    if (!root.nkids) {
        rc = fail(&c, INGEST_ECORRUPT, "schema has no columns");
        goto fail;
    }
    if (!(schema->fields = calloc(root.nkids, sizeof *schema->fields))) {
        rc = fail(&c, INGEST_ENOMEM, "out of memory");
        goto fail;
    }
    schema->nfields = root.nkids;
    for (uint32_t i = 0; i < root.nkids; i++) {
        c.top = i;
        if ((rc = convert(&c, &root.kids[i], &schema->fields[i], i, 0, 0, 0, 0, 0)) < 0)
            goto fail;
    }
    *leaves = c.leaves;
    *nleaves = c.nleaves;
    return 0;
fail:
    ingest_schema_free(schema);
    free(c.leaves);
    return rc;
}
