/*
 * decode_json.c - NDJSON lines straight into the columns of the declared
 * schema (decode.h).
 *
 * One pass per line, no DOM.  memchr finds the newline; the object is then
 * scanned member by member and each value is converted as soon as its
 * token ends and written into the row being built.  A member's key is
 * matched to its column first against the column the same position held
 * on the previous line (event streams repeat their key order, so this is
 * one 16-byte compare and no hashing), then through an open-addressing table of
 * the schema's exact names, then through a table of their ASCII-folded
 * names.  The rescued-data column is in neither table, so an input key of
 * that name is an unknown field.
 *
 * The row being built lives just past the end of every column: fixed-width
 * values at index nrows (every column has room for one more row, ensured
 * when the line starts, so the write needs no check) and string bytes from
 * offsets[nrows] on.  Nothing counts until finish_row() ends the row with
 * nrows++, so a bad record needs no undo: the next line simply overwrites
 * the slot, which is the "truncate every column to its length before the
 * row" of the contract, for free.  A duplicate key overwrites the same
 * slot too, so the last one wins.  Validity bitmaps appear at a column's
 * first null, all ones; only a null clears its bit, and only in the last
 * step of finish_row, after everything that can fail.
 *
 * Per column, a row's state is unset, set, null or failed (a conversion
 * failure kind).  finish_row() decides in schema order: a not-null column
 * without a value is a bad record; a failed column is a bad record unless
 * there is a rescued-data column, in which case it goes null and its
 * member text joins the unknown fields' in the rescued JSON object, in
 * input order.  A syntax error ends the line at once and wins over any
 * conversion problem found before it.
 *
 * Buffers grow by doubling; take() hands them over (trimmed when much is
 * unused) and the next batch is presized from the last one's sizes.
 */
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "decode_int.h"
#include "ingestd/decode.h"
#include "ingestd/error.h"

#define MIN_ROWS     256

/* --- schema lookup ----------------------------------------------------------------- */

static uint64_t hash_key(const char *p, size_t n, int fold)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        unsigned c = (unsigned char)p[i];
        if (fold && c - 'A' < 26u)
            c |= 0x20;
        h = (h ^ c) * 0x100000001b3ULL;
    }
    return h;
}

static int fold_equal(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x - 'A' < 26u)
            x |= 0x20;
        if (y - 'A' < 26u)
            y |= 0x20;
        if (x != y)
            return 0;
    }
    return 1;
}

/* Column of an (unescaped) key: exact name first, then ASCII case folded;
 * -1 for an unknown field. */
static int lookup(const struct ingest_decoder *d, const char *k, size_t n)
{
    for (size_t i = hash_key(k, n, 0) & d->hmask; d->by_name[i]; i = (i + 1) & d->hmask) {
        const struct dec_col *c = &d->cols[d->by_name[i] - 1];
        if (c->name_len == n && memcmp(c->name, k, n) == 0)
            return (int)(d->by_name[i] - 1);
    }
    for (size_t i = hash_key(k, n, 1) & d->hmask; d->by_fold[i]; i = (i + 1) & d->hmask) {
        const struct dec_col *c = &d->cols[d->by_fold[i] - 1];
        if (c->name_len == n && fold_equal(c->name, k, n))
            return (int)(d->by_fold[i] - 1);
    }
    return -1;
}

/* Adds column ci under its name; with fold, only if no earlier column
 * folds to the same name (the first in schema order wins). */
static void table_add(struct ingest_decoder *d, uint32_t *tab, size_t ci, int fold)
{
    const struct dec_col *c = &d->cols[ci];
    size_t i = hash_key(c->name, c->name_len, fold) & d->hmask;
    for (; tab[i]; i = (i + 1) & d->hmask) {
        const struct dec_col *o = &d->cols[tab[i] - 1];
        if (fold && o->name_len == c->name_len && fold_equal(o->name, c->name, c->name_len))
            return;
    }
    tab[i] = (uint32_t)ci + 1;
}

/* A name is plain when it appears in JSON as its own bytes: valid UTF-8
 * without '"', '\\' or control characters. */
static int name_is_plain(const char *p, size_t n)
{
    struct scan s = { .line = p, .end = p + n, .lim = p + n };
    struct str_tok t;
    for (size_t i = 0; i < n; i++)
        if (p[i] == '"' || p[i] == '\\')
            return 0;
    /* The scanner wants a closing quote: there is none, so an invalid
     * name fails early and a valid one runs into "unterminated". */
    return !dec_scan_string(&s, p, &t) && s.err_at == s.end;
}

/* --- construction ------------------------------------------------------------------ */

static int check_field(const struct ingest_field *f, char *err, size_t errlen)
{
    switch (f->type) {
    case INGEST_TYPE_STRUCT: case INGEST_TYPE_LIST: case INGEST_TYPE_MAP:
        snprintf(err, errlen, "column %s: nested type %s is not supported by the JSON decoder",
                 f->name, ingest_type_name(f->type));
        return -1;
    case INGEST_TYPE_DECIMAL:
        if (f->precision < 1 || f->precision > 38 || f->scale < 0 || f->scale > f->precision) {
            snprintf(err, errlen, "column %s: bad decimal(%d,%d)", f->name, f->precision,
                     f->scale);
            return -1;
        }
        return 0;
    default:
        if ((unsigned)f->type > INGEST_TYPE_MAP) {
            snprintf(err, errlen, "column %s: unknown type %d", f->name, (int)f->type);
            return -1;
        }
        return 0;
    }
}

static int check_opts(const struct ingest_decode_opts *o, char *err, size_t errlen)
{
    const struct ingest_schema *sc = o->schema;
    if (!sc || !sc->nfields) {
        snprintf(err, errlen, "the decoder needs a schema with at least one column");
        return -1;
    }
    if ((unsigned)o->epoch_unit > INGEST_EPOCH_US) {
        snprintf(err, errlen, "bad epoch unit %d", o->epoch_unit);
        return -1;
    }
    for (size_t i = 0; i < sc->nfields; i++) {
        if (!sc->fields[i].name) {
            snprintf(err, errlen, "column %zu has no name", i);
            return -1;
        }
        if (check_field(&sc->fields[i], err, errlen))
            return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(sc->fields[j].name, sc->fields[i].name) == 0) {
                snprintf(err, errlen, "column %s appears twice", sc->fields[i].name);
                return -1;
            }
    }
    if (o->rescued_col >= 0) {
        const struct ingest_field *f = (size_t)o->rescued_col < sc->nfields
                                           ? &sc->fields[o->rescued_col] : NULL;
        if (!f || f->type != INGEST_TYPE_STRING || !f->nullable) {
            snprintf(err, errlen, "the rescued-data column must be a nullable string column");
            return -1;
        }
    }
    return 0;
}

static void init_column(struct dec_col *c, const struct ingest_field *f)
{
    c->field = f;
    c->name = f->name;
    c->name_len = strlen(c->name);
    c->type = (uint8_t)f->type;
    c->width = (uint8_t)ingest_type_width(f);
    c->nullable = f->nullable != 0;
    c->plain = name_is_plain(c->name, c->name_len);
    if (c->plain && c->name_len < 16) {
        memcpy(c->pat, c->name, c->name_len);
        c->pat[c->name_len] = '"';
        c->pat_mask = (1u << (c->name_len + 1)) - 1;
    }
}

struct ingest_decoder *ingest_decoder_new(const struct ingest_decode_opts *o, char *err,
                                          size_t errlen)
{
    struct ingest_decoder *d = NULL;
    if (!o) {
        snprintf(err, errlen, "no decoder options");
        return NULL;
    }
    if (check_opts(o, err, errlen))
        return NULL;
    const struct ingest_schema *sc = o->schema;
    if (!(d = calloc(1, sizeof *d)))
        goto fail;
    d->schema = sc;
    d->ncols = sc->nfields;
    d->rescued = o->rescued_col >= 0 ? o->rescued_col : -1;
    d->rescue_unknown = d->rescued >= 0 && o->rescue_unknown;
    d->epoch_unit = o->epoch_unit;
    d->max_line = o->max_line ? o->max_line : (size_t)16 << 20;
    size_t tab = 8;
    while (tab < 2 * d->ncols)
        tab *= 2;
    d->hmask = tab - 1;
    d->cols = calloc(d->ncols, sizeof *d->cols);
    d->state = calloc(d->ncols, 1);
    d->by_name = calloc(tab, sizeof *d->by_name);
    d->by_fold = calloc(tab, sizeof *d->by_fold);
    if (!d->cols || !d->state || !d->by_name || !d->by_fold)
        goto fail;
    size_t longest = 0;
    for (size_t i = 0; i < d->ncols; i++) {
        init_column(&d->cols[i], &sc->fields[i]);
        if (d->cols[i].name_len > longest)
            longest = d->cols[i].name_len;
    }
    for (size_t i = 0; i < d->ncols; i++)
        if ((int)i != d->rescued) {
            table_add(d, d->by_name, i, 0);
            table_add(d, d->by_fold, i, 1);
        }
    /* An escaped key is at least a sixth of its raw length once unescaped
     * ("\u0041" -> "A"): a longer one cannot be any column's name. */
    d->keybuf_len = 6 * longest + 6;
    if (!(d->keybuf = malloc(d->keybuf_len)))
        goto fail;
    for (size_t k = 0; k < DEC_NPRED; k++)
        d->pred[k] = -1;
    return d;
fail:
    snprintf(err, errlen, "out of memory");
    ingest_decoder_free(d);
    return NULL;
}

static void free_columns(struct ingest_decoder *d)
{
    for (size_t i = 0; i < d->ncols; i++) {
        struct dec_col *c = &d->cols[i];
        free(c->values);
        free(c->offsets);
        free(c->data);
        free(c->validity);
        c->values = NULL;
        c->offsets = NULL;
        c->data = NULL;
        c->validity = NULL;
        c->dcap = c->null_count = 0;
    }
    d->rcap = d->nrows = 0;
}

void ingest_decoder_free(struct ingest_decoder *d)
{
    if (!d)
        return;
    if (d->cols)
        free_columns(d);
    free(d->cols);
    free(d->state);
    free(d->by_name);
    free(d->by_fold);
    free(d->keybuf);
    free(d->scratch);
    free(d->resc);
    free(d);
}

/* --- column buffers ---------------------------------------------------------------- */

/* Room for one more row in every column (called before a line). */
static int grow_rows(struct ingest_decoder *d)
{
    size_t cap = d->rcap ? d->rcap * 2 : d->rhint + d->rhint / 4;
    if (cap < MIN_ROWS)
        cap = MIN_ROWS;
    for (size_t i = 0; i < d->ncols; i++) {
        struct dec_col *c = &d->cols[i];
        if (c->width) {
            void *v = realloc(c->values, cap * c->width);
            if (!v)
                return INGEST_ENOMEM;
            c->values = v;
        } else {
            uint32_t *o = realloc(c->offsets, (cap + 1) * sizeof *o);
            if (!o)
                return INGEST_ENOMEM;
            if (!c->offsets)
                o[0] = 0;
            c->offsets = o;
            if (!c->data) {
                size_t dcap = c->dhint + c->dhint / 4;
                dcap = dcap < DEC_MIN_DATA ? DEC_MIN_DATA : dcap > UINT32_MAX ? UINT32_MAX : dcap;
                if (!(c->data = malloc(dcap)))
                    return INGEST_ENOMEM;
                c->dcap = dcap;
            }
        }
        if (c->validity) {
            size_t old = (d->rcap + 7) / 8, now = (cap + 7) / 8;
            uint8_t *v = realloc(c->validity, now);
            if (!v)
                return INGEST_ENOMEM;
            memset(v + old, 0xff, now - old);
            c->validity = v;
        }
    }
    d->rcap = cap;
    return 0;
}

/* --- rows -------------------------------------------------------------------------- */

static int resc_add(struct ingest_decoder *d, const char *k, size_t kn, const char *v, size_t vn)
{
    if (d->nresc == d->resc_cap) {
        size_t cap = d->resc_cap ? d->resc_cap * 2 : 16;
        struct resc_ent *e = realloc(d->resc, cap * sizeof *e);
        if (!e)
            return INGEST_ENOMEM;
        d->resc = e;
        d->resc_cap = cap;
    }
    d->resc[d->nresc++] = (struct resc_ent){ .k = k, .kn = kn, .v = v, .vn = vn };
    return 0;
}

/* The rescued column's value: {"key":value,...} in input order.  Entries
 * point into the line, so their addresses give that order. */
static int put_rescued(struct ingest_decoder *d, size_t row)
{
    struct resc_ent *e = d->resc;
    size_t n = d->nresc, total = 2;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && e[j].k < e[j - 1].k; j--) {
            struct resc_ent tmp = e[j];
            e[j] = e[j - 1];
            e[j - 1] = tmp;
        }
    for (size_t i = 0; i < n; i++)
        total += e[i].kn + e[i].vn + 2;
    struct dec_col *c = &d->cols[d->rescued];
    size_t at = c->offsets[row];
    int rc = dec_reserve(c, at, total);
    if (rc)
        return rc;
    char *o = c->data + at;
    *o++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (i)
            *o++ = ',';
        memcpy(o, e[i].k, e[i].kn);
        o += e[i].kn;
        *o++ = ':';
        memcpy(o, e[i].v, e[i].vn);
        o += e[i].vn;
    }
    *o++ = '}';
    dec_end_bytes(c, row, (size_t)(o - (c->data + at)));
    d->state[d->rescued] = DEC_ST_SET;
    return 0;
}

static void conv_reason(struct ingest_decoder *d, const struct dec_col *c, int kind)
{
    static const char *const not_a[] = {
        [INGEST_TYPE_BOOLEAN] = "not a boolean",
        [INGEST_TYPE_INT8] = "not an integer",
        [INGEST_TYPE_INT16] = "not an integer",
        [INGEST_TYPE_INT32] = "not an integer",
        [INGEST_TYPE_INT64] = "not an integer",
        [INGEST_TYPE_FLOAT] = "not a number",
        [INGEST_TYPE_DOUBLE] = "not a number",
        [INGEST_TYPE_STRING] = "not a string",
        [INGEST_TYPE_BINARY] = "not a base64 string",
        [INGEST_TYPE_DATE] = "not a date (YYYY-MM-DD)",
        [INGEST_TYPE_TIMESTAMP] = "not a timestamp",
        [INGEST_TYPE_DECIMAL] = "not a decimal",
    };
    int p = c->field->precision, s = c->field->scale;
    switch (kind) {
    case DEC_RANGE:
        if (c->type == INGEST_TYPE_DECIMAL)
            snprintf(d->reason, sizeof d->reason, "column %s: out of range for decimal(%d,%d)",
                     c->name, p, s);
        else
            snprintf(d->reason, sizeof d->reason, "column %s: out of range for %s", c->name,
                     ingest_type_name((enum ingest_type_id)c->type));
        break;
    case DEC_SCALE:
        snprintf(d->reason, sizeof d->reason,
                 "column %s: more than %d fraction digits for decimal(%d,%d)", c->name, s, p, s);
        break;
    case DEC_PREC:
        snprintf(d->reason, sizeof d->reason,
                 "column %s: more than %d integer digits for decimal(%d,%d)", c->name, p - s, p, s);
        break;
    default:
        snprintf(d->reason, sizeof d->reason, "column %s: %s", c->name, not_a[c->type]);
        break;
    }
}

/* Ends the row.  0: appended; 1: a bad record (d->reason); or INGEST_E*. */
static int finish_row(struct ingest_decoder *d)
{
    size_t row = d->nrows;
    int rc;
    for (size_t i = 0; i < d->ncols; i++) {
        struct dec_col *c = &d->cols[i];
        int st = d->state[i];
        if (st == DEC_ST_SET)
            continue;
        if (st >= DEC_ST_FAIL && (d->rescued < 0 || !c->nullable)) {
            conv_reason(d, c, st - DEC_ST_FAIL);
            return 1;
        }
        if (!c->nullable) {
            snprintf(d->reason, sizeof d->reason, "column %s: %s in a not null column", c->name,
                     st == DEC_ST_NULL ? "null" : "no value");
            return 1;
        }
        if (st >= DEC_ST_FAIL && (rc = resc_add(d, c->fkey, c->fkey_n, c->fval, c->fval_n)))
            return rc;
    }
    if (d->nresc && (rc = put_rescued(d, row)))
        return rc;
    /* Nulls last: a bitmap may still need allocating, and nothing may
     * fail once a bit is cleared. */
    for (size_t i = 0; i < d->ncols; i++) {
        struct dec_col *c = &d->cols[i];
        if (d->state[i] != DEC_ST_SET && !c->validity) {
            if (!(c->validity = malloc((d->rcap + 7) / 8)))
                return INGEST_ENOMEM;
            memset(c->validity, 0xff, (d->rcap + 7) / 8);
        }
    }
    for (size_t i = 0; i < d->ncols; i++) {
        struct dec_col *c = &d->cols[i];
        if (d->state[i] == DEC_ST_SET)
            continue;
        c->validity[row >> 3] &= (uint8_t)~(1u << (row & 7));
        c->null_count++;
        if (c->width)
            memset(c->values + row * c->width, 0, c->width);
        else
            c->offsets[row + 1] = c->offsets[row];
    }
    d->nrows++;
    d->stats.rows++;
    d->stats.rescued += d->nresc != 0;
    return 0;
}

/* A bad record for the syntax error in s; returns 1. */
static int syntax(struct ingest_decoder *d, const struct scan *s)
{
    snprintf(d->reason, sizeof d->reason, "offset %zu: %s", (size_t)(s->err_at - s->line), s->err);
    return 1;
}

static int syntax_at(struct ingest_decoder *d, struct scan *s, const char *at, const char *what)
{
    s->err_at = at;
    s->err = what;
    return syntax(d, s);
}

static inline const char *ws(const char *p, const char *end)
{
    while (DEC_UNLIKELY(p < end && (*p == ' ' || *p == '\t' || *p == '\r')))
        p++;
    return p;
}

/* Whether the key at p (after its opening quote) is exactly c's plain
 * name.  The 16-byte compare may look past the line's end (up to lim):
 * the line's terminator is a control character, which no plain name and
 * no quote matches, so a match never crosses it. */
static inline int key_is(const struct dec_col *c, const char *p, const struct scan *s)
{
#if defined(__SSE2__)
    if (c->pat_mask && s->lim - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i y = _mm_loadu_si128((const __m128i *)(const void *)c->pat);
        unsigned eq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, y));
        return (eq & c->pat_mask) == c->pat_mask;
    }
#endif
    return (size_t)(s->end - p) > c->name_len && p[c->name_len] == '"' &&
           memcmp(p, c->name, c->name_len) == 0;
}

/* The key at p (after its opening quote): its column or -1, and the byte
 * after the closing quote, or NULL on a syntax error. */
static const char *member_key(struct ingest_decoder *d, struct scan *s, const char *p, unsigned k,
                              int *ci)
{
    if (k < DEC_NPRED && d->pred[k] >= 0 && key_is(&d->cols[d->pred[k]], p, s)) {
        *ci = d->pred[k];
        return p + d->cols[*ci].name_len + 1;
    }
    struct str_tok t;
    const char *q = dec_string(s, p, &t);
    if (!q)
        return NULL;
    if (!t.esc)
        *ci = lookup(d, t.p, t.n);
    else if (t.n <= d->keybuf_len)  /* longer: unescaped still past the longest name */
        *ci = lookup(d, d->keybuf, dec_unescape(t.p, t.n, d->keybuf));
    else
        *ci = -1;
    if (k < DEC_NPRED)
        d->pred[k] = *ci >= 0 && d->cols[*ci].plain ? *ci : -1;
    return q;
}

/* A member's value: into its column, or validated and skipped (or
 * rescued) for an unknown key.  key[0..key_n) is the key's text with its
 * quotes, for the rescued-data object.  Returns the byte after the value,
 * or NULL with *rc = 1 (bad record) or INGEST_E*. */
static const char *member_value(struct ingest_decoder *d, struct scan *s, int ci,
                                const char *key, size_t key_n, const char *p, int *rc)
{
    const char *q;
    if (ci < 0) {
        if (!(q = dec_skip_value(s, p))) {
            *rc = syntax(d, s);
            return NULL;
        }
        if (d->rescue_unknown && (*rc = resc_add(d, key, key_n, p, (size_t)(q - p))) < 0)
            return NULL;
        return q;
    }
    struct dec_col *c = &d->cols[ci];
    int v = 0;
    if (!(q = dec_column_value(d, s, c, p, &v))) {
        *rc = syntax(d, s);
        return NULL;
    }
    if (DEC_LIKELY(v == 0)) {
        d->state[ci] = DEC_ST_SET;
    } else if (v == DEC_PUT_NULL) {
        d->state[ci] = DEC_ST_NULL;
    } else if (v > 0) {
        d->state[ci] = (uint8_t)(DEC_ST_FAIL + v);
        c->fkey = key;
        c->fkey_n = key_n;
        c->fval = p;
        c->fval_n = (size_t)(q - p);
    } else {
        *rc = v;
        return NULL;
    }
    return q;
}

/* One non-blank line at p (its first non-blank byte).  0: a row was
 * appended; 1: a bad record (d->reason); or INGEST_E*. */
static int decode_line(struct ingest_decoder *d, struct scan *s, const char *p)
{
    const char *end = s->end;
    int rc = 0;
    if (*p != '{')
        return syntax_at(d, s, p, "not a JSON object");
    if (DEC_UNLIKELY(d->nrows >= d->rcap) && (rc = grow_rows(d)))
        return rc;
    memset(d->state, DEC_ST_UNSET, d->ncols);
    d->nresc = 0;
    p = ws(p + 1, end);
    if (p < end && *p == '}') {
        p++;
    } else {
        for (unsigned k = 0;; k++) {
            int ci = -1;
            const char *key = p;
            if (p >= end || *p != '"')
                return syntax_at(d, s, p, k ? "expected '\"' (member name)"
                                            : "expected '\"' (member name) or '}'");
            if (!(p = member_key(d, s, p + 1, k, &ci)))
                return syntax(d, s);
            size_t key_n = (size_t)(p - key);
            p = ws(p, end);
            if (p >= end || *p != ':')
                return syntax_at(d, s, p, "expected ':' after member name");
            p = ws(p + 1, end);
            if (p >= end)
                return syntax_at(d, s, p, "expected a value");
            const char *q = member_value(d, s, ci, key, key_n, p, &rc);
            if (!q)
                return rc;
            p = ws(q, end);
            if (p < end && *p == ',') {
                p = ws(p + 1, end);
                continue;
            }
            if (p < end && *p == '}') {
                p++;
                break;
            }
            return syntax_at(d, s, p, "expected ',' or '}'");
        }
    }
    p = ws(p, end);
    if (p != end)
        return syntax_at(d, s, p, "trailing characters after the object");
    return finish_row(d);
}

/* --- feeding ----------------------------------------------------------------------- */

static int blank(const char *p, const char *end, const char **first)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
        p++;
    *first = p;
    return p == end;
}

int ingest_decoder_feed(struct ingest_decoder *d, const char *buf, size_t len,
                        uint64_t first_line_no, ingest_bad_record_fn bad, void *ud)
{
    const char *p = buf, *bend = buf + len;
    uint64_t line_no = first_line_no;
    while (p < bend) {
        const char *nl = memchr(p, '\n', (size_t)(bend - p));
        const char *ls = p, *le = nl ? nl : bend, *first;
        p = nl ? nl + 1 : bend;
        if (line_no == 1 && le - ls >= 3 && memcmp(ls, "\xEF\xBB\xBF", 3) == 0)
            ls += 3;
        if (le > ls && le[-1] == '\r')
            le--;
        struct scan s = { .line = ls, .end = le, .lim = bend };
        int rc;
        if ((size_t)(le - ls) > d->max_line) {
            snprintf(d->reason, sizeof d->reason, "line too long (%zu bytes, max_line %zu)",
                     (size_t)(le - ls), d->max_line);
            rc = 1;
        } else if (blank(ls, le, &first)) {
            d->stats.blank++;
            rc = 0;
        } else if ((rc = decode_line(d, &s, first)) < 0) {
            return rc;              /* the line is not counted: see decode.h */
        }
        d->stats.lines++;
        if (rc == 1) {
            d->stats.bad++;
            if (bad)
                bad(ud, line_no, d->reason, ls, (size_t)(le - ls));
        }
        line_no++;
    }
    return 0;
}

/* --- taking the batch -------------------------------------------------------------- */

/* Gives back capacity past `used` when more than an eighth is unused. */
static void *trim(void *p, size_t used, size_t cap)
{
    if (!used || cap - used <= cap / 8)
        return p;
    void *q = realloc(p, used);
    return q ? q : p;
}

static int empty_vector(struct dec_col *c, struct ingest_vector *v)
{
    if (c->width)
        return (v->values = calloc(1, c->width)) ? 0 : INGEST_ENOMEM;
    v->offsets = calloc(1, sizeof *v->offsets);
    v->data = malloc(1);
    return v->offsets && v->data ? 0 : INGEST_ENOMEM;
}

int ingest_decoder_take(struct ingest_decoder *d, struct ingest_batch *out)
{
    struct ingest_vector *cols = calloc(d->ncols, sizeof *cols);
    if (!cols)
        return INGEST_ENOMEM;
    size_t n = d->nrows;
    for (size_t i = 0; i < d->ncols; i++) {
        struct dec_col *c = &d->cols[i];
        struct ingest_vector *v = &cols[i];
        v->field = c->field;
        if (!d->rcap) {
            if (empty_vector(c, v) == 0)
                continue;
            for (size_t j = 0; j <= i; j++)
                ingest_vector_free(&cols[j]);
            free(cols);
            return INGEST_ENOMEM;
        }
        v->length = n;
        v->null_count = c->null_count;
        if (c->null_count)
            v->validity = c->validity;
        else
            free(c->validity);
        if (c->width) {
            v->values = trim(c->values, n * c->width, d->rcap * c->width);
        } else {
            size_t used = c->offsets[n];
            v->offsets = trim(c->offsets, (n + 1) * sizeof *c->offsets,
                              (d->rcap + 1) * sizeof *c->offsets);
            v->data = trim(c->data, used, c->dcap);
            c->dhint = used;
        }
        c->values = NULL;
        c->offsets = NULL;
        c->data = NULL;
        c->validity = NULL;
        c->dcap = c->null_count = 0;
    }
    if (n)
        d->rhint = n;
    d->nrows = d->rcap = 0;
    out->schema = d->schema;
    out->nrows = n;
    out->columns = cols;
    return 0;
}

void ingest_decoder_recycle(struct ingest_decoder *d, struct ingest_batch *b)
{
    /* Only into an empty decoder (just after take): its next batch then
     * grows into pages that are already mapped instead of fresh ones. */
    if (d->nrows == 0 && d->rcap == 0 && b->columns && b->schema == d->schema) {
        for (size_t i = 0; i < d->ncols; i++) {
            struct dec_col *c = &d->cols[i];
            struct ingest_vector *v = &b->columns[i];
            if (c->width && !c->values && v->values) {
                c->values = v->values;
                v->values = NULL;
            } else if (!c->width && !c->offsets && !c->data && v->offsets && v->data) {
                c->offsets = v->offsets;
                c->data = (char *)v->data;
                size_t cap = malloc_usable_size(c->data);
                c->dcap = cap > UINT32_MAX ? UINT32_MAX : cap;
                c->offsets[0] = 0;
                v->offsets = NULL;
                v->data = NULL;
            }
        }
    }
    ingest_batch_free(b);
}

size_t ingest_decoder_rows(const struct ingest_decoder *d)
{
    return d->nrows;
}

size_t ingest_decoder_memory(const struct ingest_decoder *d)
{
    size_t total = 0;
    for (size_t i = 0; d->rcap && i < d->ncols; i++) {
        const struct dec_col *c = &d->cols[i];
        total += c->width ? d->rcap * c->width : (d->rcap + 1) * sizeof *c->offsets + c->dcap;
        if (c->validity)
            total += (d->rcap + 7) / 8;
    }
    return total;
}

const struct ingest_decode_stats *ingest_decoder_stats(const struct ingest_decoder *d)
{
    return &d->stats;
}
