/*
 * dl_state.c - the snapshot's reconciliation (see dl_state.h).
 *
 * Files live in one array in first-seen order; an open-addressing table
 * maps path -> array index (a later action for the path overwrites the
 * entry in place, so the array never has holes).  txns work the same way.
 * Tables grow at 50% load; hashing is FNV-1a, good enough for paths that
 * differ in a UUID.
 */
#include <stdlib.h>
#include <string.h>

#include "ingestd/error.h"
#include "dl_state.h"

struct slots {
    size_t *idx;        /* index + 1; 0 = empty */
    size_t  cap;        /* power of two */
    size_t  used;
};

struct snap_index {
    struct slots files, txns;
    size_t fcap, tcap;  /* capacities of the snapshot's arrays */
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

typedef const char *(*key_fn)(const struct ingest_delta_snapshot *, size_t);

static const char *file_key(const struct ingest_delta_snapshot *s, size_t i)
{
    return s->files[i].path;
}

static const char *txn_key(const struct ingest_delta_snapshot *s, size_t i)
{
    return s->txns[i].app_id;
}

/* The slot for key: holding it, or the empty one where it would go. */
static size_t *slot_for(const struct slots *t, const struct ingest_delta_snapshot *s,
                        key_fn key, const char *k)
{
    size_t mask = t->cap - 1;
    for (size_t i = hash_str(k) & mask;; i = (i + 1) & mask)
        if (!t->idx[i] || strcmp(key(s, t->idx[i] - 1), k) == 0)
            return &t->idx[i];
}

static int slots_grow(struct slots *t, const struct ingest_delta_snapshot *s, key_fn key)
{
    if (t->cap && (t->used + 1) * 2 <= t->cap)
        return 0;
    struct slots n = { .cap = t->cap ? t->cap * 2 : 64, .used = t->used };
    n.idx = calloc(n.cap, sizeof *n.idx);
    if (!n.idx)
        return INGEST_ENOMEM;
    for (size_t i = 0; i < t->cap; i++)
        if (t->idx[i])
            *slot_for(&n, s, key, key(s, t->idx[i] - 1)) = t->idx[i];
    free(t->idx);
    *t = n;
    return 0;
}

static struct snap_index *index_of(struct ingest_delta_snapshot *s)
{
    if (!s->index)
        s->index = calloc(1, sizeof(struct snap_index));
    return s->index;
}

void dl_snap_init(struct ingest_delta_snapshot *s)
{
    memset(s, 0, sizeof *s);
    s->version = -1;
    s->checkpoint_version = -1;
    s->oldest_version = -1;
}

void dl_strv_free(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void dl_kv_free(struct ingest_delta_kv *kv, size_t n)
{
    if (!kv)
        return;
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

void dl_file_free(struct ingest_delta_file *f)
{
    free(f->path);
    dl_kv_free(f->part, f->npart);
    free(f->stats);
    dl_kv_free(f->tags, f->ntags);
    memset(f, 0, sizeof *f);
}

void dl_txn_free(struct ingest_delta_txn *t)
{
    free(t->app_id);
    t->app_id = NULL;
}

static void strv_free_nt(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

void dl_protocol_free(struct ingest_delta_protocol *p)
{
    strv_free_nt(p->reader_features);
    strv_free_nt(p->writer_features);
    memset(p, 0, sizeof *p);
}

void dl_metadata_free(struct ingest_delta_metadata *m)
{
    free(m->id);
    free(m->name);
    free(m->description);
    free(m->format_provider);
    dl_kv_free(m->format_options, m->nformat_options);
    free(m->schema_string);
    dl_strv_free(m->partition_cols, m->npartition_cols);
    dl_kv_free(m->configuration, m->nconfiguration);
    memset(m, 0, sizeof *m);
}

void dl_snap_free(struct ingest_delta_snapshot *s)
{
    for (size_t i = 0; i < s->nfiles; i++)
        dl_file_free(&s->files[i]);
    free(s->files);
    for (size_t i = 0; i < s->ntxns; i++)
        dl_txn_free(&s->txns[i]);
    free(s->txns);
    dl_protocol_free(&s->protocol);
    dl_metadata_free(&s->meta);
    struct snap_index *ix = s->index;
    if (ix) {
        free(ix->files.idx);
        free(ix->txns.idx);
        free(ix);
    }
    dl_snap_init(s);
}

int dl_snap_put_file(struct ingest_delta_snapshot *s, struct ingest_delta_file *f)
{
    struct snap_index *ix = index_of(s);
    if (!ix || !f->path || slots_grow(&ix->files, s, file_key) < 0)
        goto fail;
    size_t *slot = slot_for(&ix->files, s, file_key, f->path);
    if (*slot) {
        struct ingest_delta_file *old = &s->files[*slot - 1];
        s->nlive -= !old->removed;
        dl_file_free(old);
        *old = *f;
    } else {
        if (s->nfiles == ix->fcap) {
            size_t ncap = ix->fcap ? ix->fcap * 2 : 64;
            struct ingest_delta_file *nf = realloc(s->files, ncap * sizeof *nf);
            if (!nf)
                goto fail;
            s->files = nf;
            ix->fcap = ncap;
        }
        s->files[s->nfiles++] = *f;
        *slot = s->nfiles;
        ix->files.used++;
    }
    s->nlive += !f->removed;
    memset(f, 0, sizeof *f);
    return 0;
fail:
    dl_file_free(f);
    return INGEST_ENOMEM;
}

int dl_snap_put_txn(struct ingest_delta_snapshot *s, struct ingest_delta_txn *t)
{
    struct snap_index *ix = index_of(s);
    if (!ix || !t->app_id || slots_grow(&ix->txns, s, txn_key) < 0)
        goto fail;
    size_t *slot = slot_for(&ix->txns, s, txn_key, t->app_id);
    if (*slot) {
        struct ingest_delta_txn *old = &s->txns[*slot - 1];
        dl_txn_free(old);
        *old = *t;
    } else {
        if (s->ntxns == ix->tcap) {
            size_t ncap = ix->tcap ? ix->tcap * 2 : 16;
            struct ingest_delta_txn *nt = realloc(s->txns, ncap * sizeof *nt);
            if (!nt)
                goto fail;
            s->txns = nt;
            ix->tcap = ncap;
        }
        s->txns[s->ntxns++] = *t;
        *slot = s->ntxns;
        ix->txns.used++;
    }
    t->app_id = NULL;
    return 0;
fail:
    dl_txn_free(t);
    return INGEST_ENOMEM;
}

void dl_snap_put_protocol(struct ingest_delta_snapshot *s, struct ingest_delta_protocol *p)
{
    dl_protocol_free(&s->protocol);
    s->protocol = *p;
    s->has_protocol = 1;
    memset(p, 0, sizeof *p);
}

void dl_snap_put_metadata(struct ingest_delta_snapshot *s, struct ingest_delta_metadata *m)
{
    dl_metadata_free(&s->meta);
    s->meta = *m;
    s->has_metadata = 1;
    memset(m, 0, sizeof *m);
}

const struct ingest_delta_file *dl_snap_find_file(const struct ingest_delta_snapshot *s,
                                                  const char *path)
{
    const struct snap_index *ix = s->index;
    if (!ix || !ix->files.cap)
        return NULL;
    size_t *slot = slot_for(&ix->files, s, file_key, path);
    return *slot ? &s->files[*slot - 1] : NULL;
}

const struct ingest_delta_txn *dl_snap_find_txn(const struct ingest_delta_snapshot *s,
                                                const char *app_id)
{
    const struct snap_index *ix = s->index;
    if (!ix || !ix->txns.cap)
        return NULL;
    size_t *slot = slot_for(&ix->txns, s, txn_key, app_id);
    return *slot ? &s->txns[*slot - 1] : NULL;
}
