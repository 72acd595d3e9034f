/*
 * dl_replay.c - rebuilding a table's snapshot from its log
 * (specs/delta-parquet.md A1, A3, A9).
 *
 * Open lists _delta_log once: the JSON versions and the classic
 * checkpoints (single-file, or every part of a multi-part one).  The newest
 * checkpoint is loaded; if it cannot be read, the next older one, and
 * finally version 0; the JSON commits after it are applied in order and
 * must be contiguous.  _last_checkpoint is only a hint for object stores
 * without cheap listing; a local listing is cheaper than trusting it, and
 * readers must survive a stale or corrupt one anyway.
 *
 * Numbers come through json.h, which keeps them exact: txn versions, sizes
 * and offsets past 2^53 survive.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ingestd/error.h"
#include "ingestd/json.h"
#include "dl_checkpoint.h"
#include "dl_fs.h"
#include "dl_replay.h"
#include "dl_schema.h"
#include "dl_state.h"
#include "dl_stats.h"

/* ---- action parsing ---------------------------------------------------- */

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

/* A JSON object of string|null values. */
static int parse_kv(const struct ingest_json *obj, struct ingest_delta_kv **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!obj || obj->type == INGEST_JSON_NULL)
        return 0;
    if (obj->type != INGEST_JSON_OBJECT)
        return INGEST_ECORRUPT;
    if (obj->count == 0)
        return 0;
    struct ingest_delta_kv *kv = calloc(obj->count, sizeof *kv);
    if (!kv)
        return INGEST_ENOMEM;
    size_t i = 0;
    for (const struct ingest_json *m = obj->child; m; m = m->next, i++) {
        kv[i].key = dup_n(m->key, m->key_len);
        if (!kv[i].key)
            goto oom;
        if (m->type == INGEST_JSON_STRING) {
            kv[i].value = dup_n(m->str, m->len);
            if (!kv[i].value)
                goto oom;
        } else if (m->type != INGEST_JSON_NULL) {
            dl_kv_free(kv, i + 1);
            return INGEST_ECORRUPT;
        }
    }
    *out = kv;
    *n = i;
    return 0;
oom:
    dl_kv_free(kv, i + 1);
    return INGEST_ENOMEM;
}

static int get_str(const struct ingest_json *obj, const char *key, char **out, int required)
{
    const struct ingest_json *v = ingest_json_get(obj, key);
    *out = NULL;
    if (!v || v->type == INGEST_JSON_NULL)
        return required ? INGEST_ECORRUPT : 0;
    if (v->type != INGEST_JSON_STRING)
        return INGEST_ECORRUPT;
    *out = dup_n(v->str, v->len);
    return *out ? 0 : INGEST_ENOMEM;
}

static int get_i64(const struct ingest_json *obj, const char *key, int64_t *out, int required)
{
    const struct ingest_json *v = ingest_json_get(obj, key);
    *out = -1;
    if (!v || v->type == INGEST_JSON_NULL)
        return required ? INGEST_ECORRUPT : 0;
    return ingest_json_int64(v, out) == 0 ? 0 : INGEST_ECORRUPT;
}

static int get_bool(const struct ingest_json *obj, const char *key, int *out, int required)
{
    const struct ingest_json *v = ingest_json_get(obj, key);
    *out = 0;
    if (!v || v->type == INGEST_JSON_NULL)
        return required ? INGEST_ECORRUPT : 0;
    int b = ingest_json_bool(v);
    if (b < 0)
        return INGEST_ECORRUPT;
    *out = b;
    return 0;
}

/* Runs a field parser; on failure names the field and leaves. */
#define STEP(call, name)                                                                   \
    do {                                                                                   \
        if ((rc = (call)) < 0) {                                                           \
            *bad = name;                                                                   \
            goto fail;                                                                     \
        }                                                                                  \
    } while (0)

static int parse_file(const struct ingest_json *a, int removed, struct ingest_delta_file *f,
                      const char **bad)
{
    int rc;
    memset(f, 0, sizeof *f);
    f->removed = removed;
    f->num_records = -1;
    STEP(get_str(a, "path", &f->path, 1), "path");
    STEP(parse_kv(ingest_json_get(a, "partitionValues"), &f->part, &f->npart), "partitionValues");
    STEP(get_i64(a, "size", &f->size, !removed), "size");
    STEP(get_bool(a, "dataChange", &f->data_change, 1), "dataChange");
    STEP(get_str(a, "stats", &f->stats, 0), "stats");
    STEP(parse_kv(ingest_json_get(a, "tags"), &f->tags, &f->ntags), "tags");
    if (removed) {
        STEP(get_i64(a, "deletionTimestamp", &f->deletion_timestamp, 0), "deletionTimestamp");
        STEP(get_bool(a, "extendedFileMetadata", &f->extended_file_metadata, 0),
             "extendedFileMetadata");
        f->modification_time = -1;
    } else {
        STEP(get_i64(a, "modificationTime", &f->modification_time, 1), "modificationTime");
        if (!ingest_json_get(a, "partitionValues")) {
            rc = INGEST_ECORRUPT;
            *bad = "partitionValues";
            goto fail;
        }
        f->deletion_timestamp = -1;
        if (f->stats) {
            int64_t nr;
            if (dl_stats_num_records(f->stats, strlen(f->stats), &nr) == 0)
                f->num_records = nr;
        }
    }
    return 0;
fail:
    dl_file_free(f);
    return rc;
}

/* An array of strings; the vector is also NULL-terminated. */
static int parse_strv(const struct ingest_json *arr, char ***out, size_t *n)
{
    *out = NULL;
    if (n)
        *n = 0;
    if (!arr || arr->type == INGEST_JSON_NULL)
        return 0;
    if (arr->type != INGEST_JSON_ARRAY)
        return INGEST_ECORRUPT;
    char **v = calloc(arr->count + 1, sizeof *v);
    if (!v)
        return INGEST_ENOMEM;
    size_t i = 0;
    for (const struct ingest_json *e = arr->child; e; e = e->next, i++) {
        if (e->type != INGEST_JSON_STRING || !(v[i] = dup_n(e->str, e->len))) {
            dl_strv_free(v, i);
            return e->type != INGEST_JSON_STRING ? INGEST_ECORRUPT : INGEST_ENOMEM;
        }
    }
    *out = v;
    if (n)
        *n = i;
    return 0;
}

static int parse_protocol(const struct ingest_json *a, struct ingest_delta_protocol *p,
                          const char **bad)
{
    int64_t r, w;
    memset(p, 0, sizeof *p);
    if (get_i64(a, "minReaderVersion", &r, 1) < 0 || get_i64(a, "minWriterVersion", &w, 1) < 0 ||
        r < 0 || r > 1000 || w < 0 || w > 1000) {
        *bad = "minReaderVersion/minWriterVersion";
        return INGEST_ECORRUPT;
    }
    p->min_reader = (int)r;
    p->min_writer = (int)w;
    int rc = parse_strv(ingest_json_get(a, "readerFeatures"), &p->reader_features, NULL);
    if (rc == 0)
        rc = parse_strv(ingest_json_get(a, "writerFeatures"), &p->writer_features, NULL);
    if (rc < 0) {
        *bad = "readerFeatures/writerFeatures";
        dl_protocol_free(p);
    }
    return rc;
}

static int parse_metadata(const struct ingest_json *a, struct ingest_delta_metadata *m,
                          const char **bad)
{
    int rc;
    memset(m, 0, sizeof *m);
    const struct ingest_json *fmt = ingest_json_get(a, "format");
    STEP(get_str(a, "id", &m->id, 1), "id");
    STEP(get_str(a, "name", &m->name, 0), "name");
    STEP(get_str(a, "description", &m->description, 0), "description");
    STEP(fmt && fmt->type == INGEST_JSON_OBJECT ? 0 : INGEST_ECORRUPT, "format");
    STEP(get_str(fmt, "provider", &m->format_provider, 1), "format.provider");
    STEP(parse_kv(ingest_json_get(fmt, "options"), &m->format_options, &m->nformat_options),
         "format.options");
    STEP(get_str(a, "schemaString", &m->schema_string, 1), "schemaString");
    STEP(parse_strv(ingest_json_get(a, "partitionColumns"), &m->partition_cols,
                    &m->npartition_cols), "partitionColumns");
    STEP(parse_kv(ingest_json_get(a, "configuration"), &m->configuration, &m->nconfiguration),
         "configuration");
    STEP(get_i64(a, "createdTime", &m->created_time, 0), "createdTime");
    return 0;
fail:
    dl_metadata_free(m);
    return rc;
}

static int parse_txn(const struct ingest_json *a, struct ingest_delta_txn *t, const char **bad)
{
    memset(t, 0, sizeof *t);
    int rc = get_str(a, "appId", &t->app_id, 1);
    if (rc == 0)
        rc = get_i64(a, "version", &t->version, 1);
    if (rc == 0)
        rc = get_i64(a, "lastUpdated", &t->last_updated, 0);
    if (rc < 0) {
        *bad = "appId/version";
        dl_txn_free(t);
    }
    return rc;
}

/* ---- commits ------------------------------------------------------------ */

struct pending_adds {
    struct ingest_delta_file *v;
    size_t n, cap;
};

static int apply_line(struct ingest_delta_snapshot *s, const struct ingest_json *root,
                      struct pending_adds *adds, struct dl_seen *seen, const char **bad)
{
    int rc = 0;
    if (root->type != INGEST_JSON_OBJECT) {
        *bad = "action (not an object)";
        return INGEST_ECORRUPT;
    }
    for (const struct ingest_json *act = root->child; act; act = act->next) {
        const char *k = act->key;
        if (act->type != INGEST_JSON_OBJECT) {
            if (strcmp(k, "commitInfo") == 0 || act->type == INGEST_JSON_NULL)
                continue;
            *bad = k;
            return INGEST_ECORRUPT;
        }
        if (strcmp(k, "add") == 0) {
            if (adds->n == adds->cap) {
                size_t ncap = adds->cap ? adds->cap * 2 : 16;
                struct ingest_delta_file *nv = realloc(adds->v, ncap * sizeof *nv);
                if (!nv)
                    return INGEST_ENOMEM;
                adds->v = nv;
                adds->cap = ncap;
            }
            rc = parse_file(act, 0, &adds->v[adds->n], bad);
            if (rc == 0)
                adds->n++;
        } else if (strcmp(k, "remove") == 0) {
            struct ingest_delta_file f;
            rc = parse_file(act, 1, &f, bad);
            if (rc == 0)
                rc = dl_snap_put_file(s, &f);
        } else if (strcmp(k, "txn") == 0) {
            struct ingest_delta_txn t;
            rc = parse_txn(act, &t, bad);
            if (rc == 0)
                rc = dl_snap_put_txn(s, &t);
        } else if (strcmp(k, "metaData") == 0) {
            struct ingest_delta_metadata m;
            rc = parse_metadata(act, &m, bad);
            if (rc == 0) {
                dl_snap_put_metadata(s, &m);
                if (seen)
                    seen->metadata = 1;
            }
        } else if (strcmp(k, "protocol") == 0) {
            struct ingest_delta_protocol p;
            rc = parse_protocol(act, &p, bad);
            if (rc == 0) {
                dl_snap_put_protocol(s, &p);
                if (seen)
                    seen->protocol = 1;
            }
        }
        /* commitInfo, cdc, domainMetadata, unknown actions: not state we keep. */
        if (rc < 0)
            return rc;
    }
    return 0;
}

int dl_apply_commit(struct ingest_delta_snapshot *s, const char *text, size_t len,
                    const char *fname, struct dl_seen *seen, char *err, size_t errlen)
{
    struct pending_adds adds = { 0 };
    struct ingest_json_doc doc = { 0 };
    int rc = 0, line = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        line++;
        const char *q = p;
        while (q < le && (*q == ' ' || *q == '\t' || *q == '\r'))
            q++;
        if (q < le) {
            char jerr[160];
            rc = ingest_json_parse(p, (size_t)(le - p), &doc, jerr, sizeof jerr);
            if (rc < 0) {
                snprintf(err, errlen, "%s:%d: %s", fname, line, jerr);
                rc = rc == INGEST_ENOMEM ? rc : INGEST_ECORRUPT;
                goto out;
            }
            const char *bad = "?";
            rc = apply_line(s, doc.root, &adds, seen, &bad);
            ingest_json_doc_free(&doc);
            if (rc < 0) {
                snprintf(err, errlen, "%s:%d: %s in field %s", fname, line,
                         rc == INGEST_ENOMEM ? "out of memory" : "malformed action",
                         bad);
                goto out;
            }
        }
        p = nl ? nl + 1 : end;
    }
    for (size_t i = 0; i < adds.n; i++) {
        rc = dl_snap_put_file(s, &adds.v[i]);
        if (rc < 0) {
            snprintf(err, errlen, "%s: out of memory", fname);
            for (size_t j = i + 1; j < adds.n; j++)
                dl_file_free(&adds.v[j]);
            adds.n = 0;
            goto out;
        }
        if (seen)
            seen->num_adds++;
    }
    adds.n = 0;
out:
    for (size_t i = 0; i < adds.n; i++)
        dl_file_free(&adds.v[i]);
    free(adds.v);
    return rc;
}

/* ---- listing ------------------------------------------------------------ */

struct ckpt {
    int64_t version;
    int     parts;              /* 1 = classic single file; else multi-part */
    int     found;              /* parts seen */
};

struct listing {
    int64_t *json;              /* sorted */
    size_t   njson, jcap;
    struct ckpt *ckpts;
    size_t   nckpts, ccap;
};

static int parse_digits(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_ckpt_desc(const void *a, const void *b)
{
    const struct ckpt *x = a, *y = b;
    if (x->version != y->version)
        return x->version > y->version ? -1 : 1;
    return x->parts - y->parts;     /* prefer the single-file form */
}

static int note_ckpt(struct listing *l, int64_t v, int parts)
{
    for (size_t i = 0; i < l->nckpts; i++)
        if (l->ckpts[i].version == v && l->ckpts[i].parts == parts) {
            l->ckpts[i].found++;
            return 0;
        }
    if (l->nckpts == l->ccap) {
        size_t ncap = l->ccap ? l->ccap * 2 : 8;
        struct ckpt *nc = realloc(l->ckpts, ncap * sizeof *nc);
        if (!nc)
            return INGEST_ENOMEM;
        l->ckpts = nc;
        l->ccap = ncap;
    }
    l->ckpts[l->nckpts++] = (struct ckpt){ v, parts, 1 };
    return 0;
}

/* Names: <20 digits>.json, <20>.checkpoint.parquet,
 * <20>.checkpoint.<10>.<10>.parquet; everything else is ignored. */
static int list_log(const char *dir, struct listing *l)
{
    DIR *d = opendir(dir);
    if (!d)
        return ingest_err_from_errno(errno);
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        const char *n = e->d_name;
        size_t len = strlen(n);
        int64_t v, part, parts;
        if (len < 21 || parse_digits(n, 20, &v) < 0 || n[20] != '.')
            continue;
        const char *rest = n + 21;
        if (strcmp(rest, "json") == 0) {
            if (l->njson == l->jcap) {
                size_t ncap = l->jcap ? l->jcap * 2 : 64;
                int64_t *nj = realloc(l->json, ncap * sizeof *nj);
                if (!nj) {
                    rc = INGEST_ENOMEM;
                    break;
                }
                l->json = nj;
                l->jcap = ncap;
            }
            l->json[l->njson++] = v;
        } else if (strcmp(rest, "checkpoint.parquet") == 0) {
            rc = note_ckpt(l, v, 1);
        } else if (strlen(rest) == 40 && strncmp(rest, "checkpoint.", 11) == 0 &&
                   parse_digits(rest + 11, 10, &part) == 0 && rest[21] == '.' &&
                   parse_digits(rest + 22, 10, &parts) == 0 &&
                   strcmp(rest + 32, ".parquet") == 0 && parts > 1 && parts < 100000 &&
                   part >= 1 && part <= parts) {
            rc = note_ckpt(l, v, (int)parts);
        }
    }
    closedir(d);
    if (rc == 0) {
        if (l->njson)       /* qsort(NULL, 0) is undefined behaviour */
            qsort(l->json, l->njson, sizeof *l->json, cmp_i64);
        if (l->nckpts)
            qsort(l->ckpts, l->nckpts, sizeof *l->ckpts, cmp_ckpt_desc);
    }
    return rc;
}

static void listing_free(struct listing *l)
{
    free(l->json);
    free(l->ckpts);
}

/* ---- replay ------------------------------------------------------------- */

static int read_commit(struct ingest_delta_table *tbl, int64_t v, struct dl_seen *seen,
                       char *err, size_t errlen)
{
    char name[64], path[4096];
    ingest_delta_version_name(v, ".json", name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", tbl->log_dir, name);
    char *text;
    size_t len;
    int rc = dl_read_file(path, &text, &len);
    if (rc < 0) {
        if (rc != INGEST_ENOENT)
            snprintf(err, errlen, "%s: %s", path, ingest_strerror(rc));
        return rc;
    }
    rc = dl_apply_commit(&tbl->snap, text, len, path, seen, err, errlen);
    free(text);
    if (rc == 0)
        tbl->snap.version = v;
    return rc;
}

static int load_ckpt(struct ingest_delta_table *tbl, const struct ckpt *c, char *err,
                     size_t errlen)
{
    char **paths = calloc((size_t)c->parts, sizeof *paths);
    int rc = INGEST_ENOMEM;
    if (!paths)
        return rc;
    for (int i = 0; i < c->parts; i++) {
        char name[96];
        if (c->parts == 1)
            ingest_delta_version_name(c->version, ".checkpoint.parquet", name, sizeof name);
        else {
            char sfx[64];
            snprintf(sfx, sizeof sfx, ".checkpoint.%010d.%010d.parquet", i + 1, c->parts);
            ingest_delta_version_name(c->version, sfx, name, sizeof name);
        }
        size_t n = strlen(tbl->log_dir) + strlen(name) + 2;
        if (!(paths[i] = malloc(n)))
            goto out;
        snprintf(paths[i], n, "%s/%s", tbl->log_dir, name);
    }
    rc = dl_checkpoint_load(&tbl->snap, (const char *const *)paths, (size_t)c->parts, err,
                            errlen);
    if (rc == 0) {
        tbl->snap.version = c->version;
        tbl->snap.checkpoint_version = c->version;
        tbl->snap.oldest_version = c->version;
    }
out:
    for (int i = 0; i < c->parts; i++)
        free(paths[i]);
    free(paths);
    return rc;
}

static int json_has(const struct listing *l, int64_t v)
{
    return l->njson && bsearch(&v, l->json, l->njson, sizeof *l->json, cmp_i64) != NULL;
}

int dl_replay(struct ingest_delta_table *tbl, char *err, size_t errlen)
{
    struct listing l = { 0 };
    int rc = list_log(tbl->log_dir, &l);
    char cerr[512] = "";
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", tbl->log_dir, ingest_strerror(rc));
        goto out;
    }
    if (l.njson == 0 && l.nckpts == 0) {
        rc = INGEST_ENOENT;
        snprintf(err, errlen, "%s: no Delta table here (no commits in _delta_log)", tbl->path);
        goto out;
    }
    int64_t latest = l.njson ? l.json[l.njson - 1] : -1;
    /* Newest complete checkpoint that loads. */
    int loaded = 0;
    for (size_t i = 0; i < l.nckpts && !loaded; i++) {
        const struct ckpt *c = &l.ckpts[i];
        if (c->found != c->parts)
            continue;
        rc = load_ckpt(tbl, c, cerr, sizeof cerr);
        if (rc == 0)
            loaded = 1;
        else {
            dl_snap_free(&tbl->snap);
            if (rc == INGEST_ENOMEM)
                goto out;
        }
    }
    if (!loaded) {
        if (!json_has(&l, 0)) {
            rc = INGEST_ECORRUPT;
            if (cerr[0])
                snprintf(err, errlen, "%s: no readable checkpoint (%s) and no version 0",
                         tbl->log_dir, cerr);
            else
                snprintf(err, errlen, "%s: version 0 is missing and there is no checkpoint",
                         tbl->log_dir);
            goto out;
        }
        tbl->snap.oldest_version = 0;
    }
    int64_t from = tbl->snap.version + 1;
    for (int64_t v = from; v <= latest; v++) {
        if (!json_has(&l, v)) {
            rc = INGEST_ECORRUPT;
            snprintf(err, errlen, "%s: version %lld is missing (versions must be contiguous)",
                     tbl->log_dir, (long long)v);
            goto out;
        }
        rc = read_commit(tbl, v, NULL, err, errlen);
        if (rc < 0) {
            if (rc == INGEST_ENOENT) {
                rc = INGEST_ECORRUPT;
                snprintf(err, errlen, "%s: version %lld vanished while reading",
                         tbl->log_dir, (long long)v);
            }
            goto out;
        }
    }
    if (!tbl->snap.has_metadata || !tbl->snap.has_protocol) {
        rc = INGEST_ECORRUPT;
        snprintf(err, errlen, "%s: the log has no %s action", tbl->log_dir,
                 tbl->snap.has_metadata ? "protocol" : "metaData");
        goto out;
    }
    dl_table_refresh_meta(tbl);
    rc = 0;
out:
    listing_free(&l);
    return rc;
}

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int dl_update(struct ingest_delta_table *tbl, struct dl_seen *seen, char *err, size_t errlen)
{
    int changed = 0;
again:
    for (;;) {
        struct dl_seen one = { 0 };
        int rc = read_commit(tbl, tbl->snap.version + 1, &one, err, errlen);
        if (rc == INGEST_ENOENT)
            break;
        if (rc < 0)
            return rc;
        if (seen) {
            seen->protocol |= one.protocol;
            seen->metadata |= one.metadata;
            seen->num_adds += one.num_adds;
        }
        changed |= one.metadata;
    }
    /* A handle left behind by more than the log retention may find its next
     * version deleted by cleanup: then the table is only reachable through
     * the checkpoint, so start over rather than write into a hole. */
    char path[4096], *text;
    size_t len;
    snprintf(path, sizeof path, "%s/_last_checkpoint", tbl->log_dir);
    if (dl_read_file(path, &text, &len) == 0) {
        struct ingest_json_doc doc = { 0 };
        int64_t v = -1;
        char jerr[64];
        if (ingest_json_parse(text, len, &doc, jerr, sizeof jerr) == 0)
            ingest_json_int64(ingest_json_get(doc.root, "version"), &v);
        ingest_json_doc_free(&doc);
        free(text);
        if (v > tbl->snap.version) {
            /* Another writer may simply have committed and checkpointed since
             * the loop above looked: then there is no hole, read on. */
            char name[64], next[4200];
            ingest_delta_version_name(tbl->snap.version + 1, ".json", name, sizeof name);
            snprintf(next, sizeof next, "%s/%s", tbl->log_dir, name);
            if (access(next, F_OK) == 0)
                goto again;
            int64_t override = tbl->now_ms_override;
            int old_reader = tbl->snap.protocol.min_reader, old_writer = tbl->snap.protocol.min_writer;
            char *old_schema = tbl->snap.meta.schema_string ? strdup(tbl->snap.meta.schema_string)
                                                            : NULL;
            char *old_id = tbl->snap.meta.id ? strdup(tbl->snap.meta.id) : NULL;
            dl_snap_free(&tbl->snap);
            ingest_schema_free(&tbl->schema);
            int rc = dl_replay(tbl, err, errlen);
            tbl->now_ms_override = override;
            if (seen && rc == 0) {
                seen->protocol |= tbl->snap.protocol.min_reader != old_reader ||
                                  tbl->snap.protocol.min_writer != old_writer;
                seen->metadata |= !same_str(old_schema, tbl->snap.meta.schema_string) ||
                                  !same_str(old_id, tbl->snap.meta.id);
            }
            free(old_schema);
            free(old_id);
            return rc;
        }
    }
    if (changed)
        dl_table_refresh_meta(tbl);
    return 0;
}

/* ---- table properties --------------------------------------------------- */

int dl_parse_interval(const char *s, int64_t *ms)
{
    static const struct { const char *unit; int64_t ms; } units[] = {
        { "millisecond", 1 }, { "second", 1000 }, { "minute", 60000 },
        { "hour", 3600000 }, { "day", 86400000 }, { "week", 604800000 },
    };
    int64_t total = 0;
    int any = 0;
    while (*s == ' ')
        s++;
    if (strncasecmp(s, "interval", 8) == 0 && (s[8] == ' ' || !s[8]))
        s += 8;
    for (;;) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        char *end;
        errno = 0;
        long long n = strtoll(s, &end, 10);
        if (end == s || errno || n < 0)
            return INGEST_EINVAL;
        s = end;
        while (*s == ' ')
            s++;
        size_t ul = 0;
        while (s[ul] && s[ul] != ' ')
            ul++;
        int64_t mul = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            size_t bl = strlen(units[i].unit);
            if ((ul == bl || (ul == bl + 1 && s[bl] == 's')) &&
                strncasecmp(s, units[i].unit, bl) == 0)
                mul = units[i].ms;
        }
        if (!mul || n > INT64_MAX / mul || total > INT64_MAX - n * mul)
            return INGEST_EINVAL;
        total += n * mul;
        any = 1;
        s += ul;
    }
    if (!any)
        return INGEST_EINVAL;
    *ms = total;
    return 0;
}

static const char *conf_get(const struct ingest_delta_metadata *m, const char *key)
{
    for (size_t i = 0; i < m->nconfiguration; i++)
        if (strcmp(m->configuration[i].key, key) == 0)
            return m->configuration[i].value;
    return NULL;
}

void dl_table_refresh_meta(struct ingest_delta_table *tbl)
{
    const struct ingest_delta_metadata *m = &tbl->snap.meta;
    const char *v;
    char *end;
    tbl->checkpoint_interval = 10;
    tbl->num_indexed_cols = 32;
    tbl->log_retention_ms = 30LL * 86400000;
    tbl->tombstone_retention_ms = 7LL * 86400000;
    tbl->append_only = 0;
    if ((v = conf_get(m, "delta.checkpointInterval"))) {
        long long n = strtoll(v, &end, 10);
        if (end != v && !*end && n > 0)
            tbl->checkpoint_interval = n;
    }
    if ((v = conf_get(m, "delta.dataSkippingNumIndexedCols"))) {
        long n = strtol(v, &end, 10);
        if (end != v && !*end && n >= -1 && n < 100000)
            tbl->num_indexed_cols = (int)n;
    }
    int64_t ms;
    if ((v = conf_get(m, "delta.logRetentionDuration")) && dl_parse_interval(v, &ms) == 0)
        tbl->log_retention_ms = ms;
    if ((v = conf_get(m, "delta.deletedFileRetentionDuration")) &&
        dl_parse_interval(v, &ms) == 0)
        tbl->tombstone_retention_ms = ms;
    if ((v = conf_get(m, "delta.appendOnly")))
        tbl->append_only = strcasecmp(v, "true") == 0;

    ingest_schema_free(&tbl->schema);
    tbl->schema_err = 0;
    tbl->schema_msg[0] = 0;
    if (m->schema_string) {
        tbl->schema_err = dl_schema_from_json(m->schema_string, strlen(m->schema_string),
                                              &tbl->schema, tbl->schema_msg,
                                              sizeof tbl->schema_msg);
        if (tbl->schema_err > 0)
            tbl->schema_err = 0;
    }
}
