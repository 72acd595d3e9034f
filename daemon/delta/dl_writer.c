/*
 * dl_writer.c - the data files of one commit (see delta.h).
 *
 * Rows are routed by the text of their partition values: each distinct
 * combination is a partition with its own Hive-style directory and its
 * own open Parquet writer.  An unpartitioned table has one partition and
 * writes the caller's batch as it is; a partitioned one gathers each
 * partition's rows (ingest_batch_take) and writes them without the
 * partition columns, which live only in the log (spec A7).  A file rolls
 * once its bytes on disk pass target_file_size.
 *
 * Nothing is visible until the commit: finish() fsyncs every file and
 * the directories that hold them, so the version file that names them
 * is only published over durable data.  An abort or a crash leaves
 * unreferenced files, never a reference to a missing one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingestd/error.h"
#include "dl_fs.h"
#include "dl_path.h"
#include "dl_schema.h"
#include "dl_state.h"
#include "dl_stats.h"

#define MAX_OPEN 64

struct done_file {
    char *rel;                  /* relative path, not encoded */
    struct ingest_parquet_file_info info;
};

struct part {
    char   *key;                /* the partition values, null marked apart (see route) */
    size_t  klen;
    uint64_t last_use;          /* for closing the least recently used file */
    char   *dir;                /* "a=1/b=x" or "" */
    char  **values;             /* per partition column; NULL = null */
    struct ingest_parquet_writer *pw;
    char   *cur_rel, *cur_abs;  /* the open file */
    struct done_file *done;
    size_t  ndone, cap;
    uint32_t *rows;             /* this batch's rows */
    size_t  nrows, rcap;
};

struct ingest_delta_writer {
    char   *root;
    struct ingest_schema schema;        /* the table's, copied */
    struct ingest_schema file_schema;   /* without partition columns (borrowed fields) */
    size_t *data_cols;                  /* table column index of each file column */
    size_t *part_cols;                  /* table column index of each partition column */
    char  **part_names;
    size_t  npart_cols;
    struct ingest_parquet_opts popts;
    int64_t target;
    int     num_indexed;
    char   *prefix;
    struct part *parts;
    size_t  nparts, pcap;
    size_t  file_seq;
    size_t  last;                       /* partition of the previous row */
    size_t  nopen;                      /* partitions with an open file */
    uint64_t clock;
    struct ingest_buf key, val;         /* scratch */
};

static void part_free(struct part *p, size_t nvals)
{
    if (p->pw)
        ingest_parquet_writer_abort(p->pw);    /* unlinks the open file */
    for (size_t i = 0; i < p->ndone; i++) {
        free(p->done[i].rel);
        ingest_parquet_file_info_free(&p->done[i].info);
    }
    free(p->done);
    free(p->cur_rel);
    free(p->cur_abs);
    free(p->dir);
    free(p->key);
    if (p->values)
        for (size_t i = 0; i < nvals; i++)
            free(p->values[i]);
    free(p->values);
    free(p->rows);
}

static void writer_free(struct ingest_delta_writer *w, int unlink_files)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->nparts; i++) {
        struct part *p = &w->parts[i];
        if (unlink_files)
            for (size_t k = 0; k < p->ndone; k++) {
                char abs[4096];
                snprintf(abs, sizeof abs, "%s/%s", w->root, p->done[k].rel);
                unlink(abs);
            }
        part_free(p, w->npart_cols);
    }
    free(w->parts);
    free(w->root);
    free(w->file_schema.fields);
    ingest_schema_free(&w->schema);
    free(w->data_cols);
    free(w->part_cols);
    free(w->part_names);
    free(w->prefix);
    ingest_buf_free(&w->key);
    ingest_buf_free(&w->val);
    free(w);
}

void ingest_delta_writer_abort(struct ingest_delta_writer *w)
{
    writer_free(w, 1);
}

struct ingest_delta_writer *ingest_delta_writer_open(const struct ingest_delta_table *tbl,
                                                     const struct ingest_delta_writer_opts *o,
                                                     char *err, size_t errlen)
{
    struct ingest_delta_writer *w = calloc(1, sizeof *w);
    const struct ingest_delta_metadata *m = &tbl->snap.meta;
    if (!w)
        goto oom;
    const struct ingest_schema *schema = o && o->schema ? o->schema : &tbl->schema;
    if (!(o && o->schema) && (tbl->schema_err || tbl->schema.nfields == 0)) {
        snprintf(err, errlen, "%s: no writable schema: %s", tbl->path,
                 tbl->schema_msg[0] ? tbl->schema_msg : "the table has no columns");
        goto fail;
    }
    w->root = strdup(tbl->path);
    w->prefix = strdup(o && o->file_prefix ? o->file_prefix : "part");
    if (!w->root || !w->prefix || dl_schema_copy(schema, &w->schema) < 0)
        goto oom;
    size_t nf = w->schema.nfields;
    w->data_cols = calloc(nf, sizeof *w->data_cols);
    w->part_cols = calloc(m->npartition_cols + 1, sizeof *w->part_cols);
    w->part_names = calloc(m->npartition_cols + 1, sizeof *w->part_names);
    w->file_schema.fields = calloc(nf, sizeof *w->file_schema.fields);
    if (!w->data_cols || !w->part_cols || !w->part_names || !w->file_schema.fields)
        goto oom;
    for (size_t k = 0; k < m->npartition_cols; k++) {
        size_t i = 0;
        while (i < nf && strcmp(w->schema.fields[i].name, m->partition_cols[k]) != 0)
            i++;
        if (i == nf) {
            snprintf(err, errlen, "%s: partition column %s is not in the schema", tbl->path,
                     m->partition_cols[k]);
            goto fail;
        }
        w->part_cols[k] = i;
        w->part_names[k] = w->schema.fields[i].name;
    }
    w->npart_cols = m->npartition_cols;
    for (size_t i = 0; i < nf; i++) {
        int is_part = 0;
        for (size_t k = 0; k < w->npart_cols; k++)
            is_part |= w->part_cols[k] == i;
        if (is_part)
            continue;
        w->data_cols[w->file_schema.nfields] = i;
        w->file_schema.fields[w->file_schema.nfields++] = w->schema.fields[i];
    }
    if (o)
        w->popts = o->parquet;
    w->target = o && o->target_file_size > 0 ? o->target_file_size : 128LL << 20;
    w->num_indexed = tbl->num_indexed_cols;
    return w;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    writer_free(w, 1);
    return NULL;
}

static const char *codec_suffix(int codec)
{
    switch (codec) {
    case INGEST_PARQUET_ZSTD: return "zstd.";
    case INGEST_PARQUET_SNAPPY: return "snappy.";
    default: return "";
    }
}

static int open_file(struct ingest_delta_writer *w, struct part *p, char *err, size_t errlen)
{
    char uuid[37], name[160], abs[4096];
    ingest_delta_uuid(uuid);
    snprintf(name, sizeof name, "%s-%05zu-%s-c000.%sparquet", w->prefix, w->file_seq++ % 100000,
             uuid, codec_suffix(w->popts.codec));
    struct ingest_buf rel = INGEST_BUF_INIT;
    if (p->dir[0]) {
        ingest_buf_puts(&rel, p->dir);
        ingest_buf_putc(&rel, '/');
        snprintf(abs, sizeof abs, "%s/%s", w->root, p->dir);
        int rc = dl_mkdirs(abs, 0755);
        if (rc < 0) {
            snprintf(err, errlen, "%s: cannot create: %s", abs, ingest_strerror(rc));
            ingest_buf_free(&rel);
            return rc;
        }
    }
    ingest_buf_puts(&rel, name);
    if (rel.oom) {
        ingest_buf_free(&rel);
        return INGEST_ENOMEM;
    }
    snprintf(abs, sizeof abs, "%s/%s", w->root, rel.data);
    char perr[256];
    p->pw = ingest_parquet_writer_open(abs, &w->file_schema, &w->popts, perr, sizeof perr);
    if (!p->pw) {
        snprintf(err, errlen, "%s: %s", abs, perr);
        ingest_buf_free(&rel);
        return INGEST_EIO;
    }
    p->cur_rel = ingest_buf_steal(&rel);
    p->cur_abs = strdup(abs);
    return p->cur_abs ? 0 : INGEST_ENOMEM;
}

static int close_file(struct part *p, char *err, size_t errlen)
{
    if (!p->pw)
        return 0;
    if (p->ndone == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 4;
        struct done_file *nd = realloc(p->done, ncap * sizeof *nd);
        if (!nd)
            return INGEST_ENOMEM;
        p->done = nd;
        p->cap = ncap;
    }
    struct done_file *d = &p->done[p->ndone];
    memset(d, 0, sizeof *d);
    int rc = ingest_parquet_writer_close(p->pw, &d->info);
    p->pw = NULL;
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", p->cur_abs, ingest_strerror(rc));
        free(p->cur_rel);
        free(p->cur_abs);
        p->cur_rel = p->cur_abs = NULL;
        return rc;
    }
    d->rel = p->cur_rel;
    p->cur_rel = NULL;
    free(p->cur_abs);
    p->cur_abs = NULL;
    p->ndone++;
    return 0;
}

/* The partition of row r, created when new.  The key is built in scratch
 * buffers; values are copied only when a partition is first seen. */
static int route(struct ingest_delta_writer *w, const struct ingest_batch *b, size_t r,
                 struct part **out, char *err, size_t errlen)
{
    /* Rows are grouped by their values (with null marked apart), not by
     * the directory name: a null and the string "__HIVE_DEFAULT_PARTITION__"
     * share a directory but are different partitions. */
    struct ingest_buf *k = &w->key, *v = &w->val;
    int rc = 0;
    ingest_buf_reset(k);
    for (size_t c = 0; c < w->npart_cols; c++) {
        int is_null = 0;
        ingest_buf_reset(v);
        rc = dl_partition_value(&b->columns[w->part_cols[c]], r, v, &is_null);
        if (rc < 0) {
            snprintf(err, errlen, "partition column %s: %s", w->part_names[c],
                     ingest_strerror(rc));
            return rc;
        }
        /* The protocol reads "" as null, so it is stored as null. */
        if (is_null || v->len == 0)
            ingest_buf_append(k, "N", 2);
        else {
            ingest_buf_putc(k, 'V');
            ingest_buf_append(k, v->data, v->len + 1);
        }
    }
    if (k->oom || v->oom)
        return INGEST_ENOMEM;
    const char *key = k->data ? k->data : "";
    size_t klen = k->len;
    if (w->last < w->nparts && w->parts[w->last].klen == klen &&
        memcmp(w->parts[w->last].key, key, klen) == 0) {
        *out = &w->parts[w->last];
        return 0;
    }
    for (size_t i = 0; i < w->nparts; i++)
        if (w->parts[i].klen == klen && memcmp(w->parts[i].key, key, klen) == 0) {
            w->last = i;
            *out = &w->parts[i];
            return 0;
        }
    if (w->nparts == w->pcap) {
        size_t ncap = w->pcap ? w->pcap * 2 : 8;
        struct part *np = realloc(w->parts, ncap * sizeof *np);
        if (!np)
            return INGEST_ENOMEM;
        w->parts = np;
        w->pcap = ncap;
    }
    struct part *p = &w->parts[w->nparts];
    memset(p, 0, sizeof *p);
    struct ingest_buf dir = INGEST_BUF_INIT;
    p->key = malloc(klen ? klen : 1);
    p->klen = klen;
    p->values = calloc(w->npart_cols + 1, sizeof *p->values);
    if (!p->key || !p->values)
        goto oom;
    memcpy(p->key, key, klen);
    for (size_t c = 0; c < w->npart_cols; c++) {
        int is_null = 0;
        ingest_buf_reset(v);
        dl_partition_value(&b->columns[w->part_cols[c]], r, v, &is_null);
        if (!is_null && v->len && !(p->values[c] = strdup(v->data)))
            goto oom;
        if (c)
            ingest_buf_putc(&dir, '/');
        dl_partition_dir(w->part_names[c], p->values[c], &dir);
    }
    if (dir.oom)
        goto oom;
    p->dir = dir.data ? ingest_buf_steal(&dir) : strdup("");
    if (!p->dir)
        goto oom;
    w->last = w->nparts++;
    *out = p;
    return 0;
oom:
    ingest_buf_free(&dir);
    part_free(p, w->npart_cols);
    return INGEST_ENOMEM;
}

/* Writes rows of table batch b (all of it when rows == NULL) to p. */
static int write_part(struct ingest_delta_writer *w, struct part *p,
                      const struct ingest_batch *b, char *err, size_t errlen)
{
    int rc;
    p->last_use = ++w->clock;
    if (!p->pw) {
        /* Many partitions in one commit: keep at most MAX_OPEN files (and
         * their row groups) open; the least recently used one is finished
         * and a later row of its partition starts a new file. */
        if (w->nopen >= MAX_OPEN) {
            struct part *lru = NULL;
            for (size_t i = 0; i < w->nparts; i++)
                if (w->parts[i].pw && (!lru || w->parts[i].last_use < lru->last_use))
                    lru = &w->parts[i];
            if (lru && (rc = close_file(lru, err, errlen)) < 0)
                return rc;
            if (lru)
                w->nopen--;
        }
        if ((rc = open_file(w, p, err, errlen)) < 0)
            return rc;
        w->nopen++;
    }
    struct ingest_vector cols[w->file_schema.nfields ? w->file_schema.nfields : 1];
    for (size_t i = 0; i < w->file_schema.nfields; i++)
        cols[i] = b->columns[w->data_cols[i]];
    struct ingest_batch view = { .schema = &w->file_schema, .nrows = b->nrows, .columns = cols };
    rc = ingest_parquet_writer_write(p->pw, &view);
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", p->cur_abs, ingest_strerror(rc));
        return rc;
    }
    struct stat st;
    if (stat(p->cur_abs, &st) == 0 && st.st_size >= w->target) {
        w->nopen--;
        return close_file(p, err, errlen);
    }
    return 0;
}

int ingest_delta_writer_write(struct ingest_delta_writer *w, const struct ingest_batch *batch,
                              char *err, size_t errlen)
{
    int rc = 0;
    if (!batch->schema || batch->schema->nfields != w->schema.nfields) {
        snprintf(err, errlen, "batch has %zu columns, the table %zu",
                 batch->schema ? batch->schema->nfields : 0, w->schema.nfields);
        return INGEST_EINVAL;
    }
    for (size_t i = 0; i < w->schema.nfields; i++) {
        const struct ingest_field *have = &batch->schema->fields[i], *want = &w->schema.fields[i];
        if (strcasecmp(have->name, want->name) != 0 || have->type != want->type ||
            (have->type == INGEST_TYPE_DECIMAL &&
             (have->precision != want->precision || have->scale != want->scale))) {
            snprintf(err, errlen, "batch column %zu is %s %s, the table's is %s %s", i,
                     have->name, ingest_type_name(have->type), want->name,
                     ingest_type_name(want->type));
            return INGEST_EINVAL;
        }
    }
    if (batch->nrows == 0)
        return 0;
    if (batch->nrows > UINT32_MAX) {
        snprintf(err, errlen, "batch of %zu rows is too large", batch->nrows);
        return INGEST_ERANGE;
    }
    if (w->npart_cols == 0) {
        struct part *p;
        if ((rc = route(w, batch, 0, &p, err, errlen)) < 0)
            return rc;
        return write_part(w, p, batch, err, errlen);
    }
    for (size_t i = 0; i < w->nparts; i++)
        w->parts[i].nrows = 0;
    for (size_t r = 0; r < batch->nrows; r++) {
        struct part *p;
        if ((rc = route(w, batch, r, &p, err, errlen)) < 0)
            return rc;
        if (p->nrows == p->rcap) {
            size_t ncap = p->rcap ? p->rcap * 2 : 1024;
            uint32_t *nr = realloc(p->rows, ncap * sizeof *nr);
            if (!nr)
                return INGEST_ENOMEM;
            p->rows = nr;
            p->rcap = ncap;
        }
        p->rows[p->nrows++] = (uint32_t)r;
    }
    for (size_t i = 0; i < w->nparts && rc == 0; i++) {
        struct part *p = &w->parts[i];
        if (p->nrows == 0)
            continue;
        if (p->nrows == batch->nrows) {
            rc = write_part(w, p, batch, err, errlen);
            continue;
        }
        struct ingest_batch sub;
        rc = ingest_batch_take(batch, p->rows, p->nrows, &sub);
        if (rc < 0) {
            snprintf(err, errlen, "splitting a batch by partition: %s", ingest_strerror(rc));
            break;
        }
        rc = write_part(w, p, &sub, err, errlen);
        ingest_batch_free(&sub);
    }
    return rc;
}

size_t ingest_delta_writer_buffered_bytes(const struct ingest_delta_writer *w)
{
    size_t n = 0;
    for (size_t i = 0; i < w->nparts; i++)
        if (w->parts[i].pw)
            n += ingest_parquet_writer_buffered_bytes(w->parts[i].pw);
    return n;
}

/* The add action of a finished file. */
static int make_add(struct ingest_delta_writer *w, const struct part *p,
                    const struct done_file *d, struct ingest_delta_add *a)
{
    char abs[4096];
    struct stat st;
    struct ingest_buf stats = INGEST_BUF_INIT;
    memset(a, 0, sizeof *a);
    snprintf(abs, sizeof abs, "%s/%s", w->root, d->rel);
    if (stat(abs, &st) != 0)
        return ingest_err_from_errno(errno);
    a->path = strdup(d->rel);
    a->size = (int64_t)st.st_size;
    a->modification_time = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    a->num_records = d->info.num_rows;
    if (dl_stats_json(&w->file_schema, &d->info, w->num_indexed, &stats) < 0 || !stats.data)
        goto oom;
    a->stats = ingest_buf_steal(&stats);
    if (w->npart_cols) {
        a->part = calloc(w->npart_cols, sizeof *a->part);
        if (!a->part)
            goto oom;
        a->npart = w->npart_cols;
        for (size_t c = 0; c < w->npart_cols; c++) {
            a->part[c].key = strdup(w->part_names[c]);
            a->part[c].value = p->values[c] ? strdup(p->values[c]) : NULL;
            if (!a->part[c].key || (p->values[c] && !a->part[c].value))
                goto oom;
        }
    }
    if (!a->path)
        goto oom;
    return 0;
oom:
    ingest_buf_free(&stats);
    ingest_delta_add_free(a);
    return INGEST_ENOMEM;
}

int ingest_delta_writer_finish(struct ingest_delta_writer *w, struct ingest_delta_add **adds,
                               size_t *nadds, char *err, size_t errlen)
{
    struct ingest_delta_add *out = NULL;
    size_t n = 0, total = 0;
    int rc = 0;
    *adds = NULL;
    *nadds = 0;
    for (size_t i = 0; i < w->nparts && rc == 0; i++)
        rc = close_file(&w->parts[i], err, errlen);
    if (rc < 0)
        goto fail;
    for (size_t i = 0; i < w->nparts; i++)
        total += w->parts[i].ndone;
    out = calloc(total ? total : 1, sizeof *out);
    if (!out) {
        rc = INGEST_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < w->nparts; i++) {
        struct part *p = &w->parts[i];
        for (size_t k = 0; k < p->ndone; k++) {
            char abs[4096];
            snprintf(abs, sizeof abs, "%s/%s", w->root, p->done[k].rel);
            /* fsyncs the file and the directory entry that names it. */
            rc = ingest_parquet_fsync_path(abs);
            if (rc < 0) {
                snprintf(err, errlen, "%s: fsync: %s", abs, ingest_strerror(rc));
                goto fail;
            }
            rc = make_add(w, p, &p->done[k], &out[n]);
            if (rc < 0) {
                snprintf(err, errlen, "%s: %s", abs, ingest_strerror(rc));
                goto fail;
            }
            n++;
        }
        if (p->dir[0]) {
            /* New partition directories must be durable in their parents. */
            char dir[4096];
            snprintf(dir, sizeof dir, "%s/%s", w->root, p->dir);
            size_t rootlen = strlen(w->root);
            for (char *s = strrchr(dir, '/'); s && s >= dir + rootlen; s = strrchr(dir, '/')) {
                *s = 0;
                dl_fsync_dir(dir);
            }
        }
    }
    writer_free(w, 0);
    *adds = out;
    *nadds = n;
    return 0;
fail:
    for (size_t i = 0; i < n; i++)
        ingest_delta_add_free(&out[i]);
    free(out);
    writer_free(w, 1);
    return rc;
}
