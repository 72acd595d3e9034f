/*
 * dl_checkpoint.c - writing a classic checkpoint, _last_checkpoint and log
 * cleanup; loading a checkpoint into a snapshot (specs/delta-parquet.md
 * A8, A10).
 *
 * Writing: the snapshot is turned into rows a few thousand at a time
 * (dl_ckpt_build.c) and streamed through the Parquet writer (ZSTD, which
 * Spark, DuckDB, arrow-rs, Trino and Polars all read) into a dot-named
 * temp file in _delta_log, then fsynced and renamed over
 * <v>.checkpoint.parquet: two writers checkpointing the same version write
 * the same actions, so the last rename winning is benign.
 * _last_checkpoint follows (also by rename), unless another writer already
 * points it at a newer checkpoint.  Numbers are printed as integers, never
 * through a double.
 *
 * Cleanup follows Spark's MetadataCleanup: commit times are the JSON
 * files' mtimes, made strictly increasing by version (a commit is never
 * older than the one before it), so one late mtime holds back everything
 * after it; nothing newer than the checkpoint just written is touched, and
 * a failed unlink is left for the next checkpoint.
 *
 * Loading reads one row group at a time with the columns it needs, so
 * memory is bounded by a row group (plus the file itself, which the reader
 * holds in memory).  Columns are found by name and checked for type once
 * per row group; unknown columns and fields are ignored.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingestd/error.h"
#include "ingestd/json.h"
#include "ingestd/parquet.h"
#include "ingestd/parquet_reader.h"
#include "dl_checkpoint.h"
#include "dl_fs.h"
#include "dl_state.h"
#include "dl_stats.h"

#define CKPT_CHUNK_ROWS 4096
#define DAY_MS 86400000LL

static int64_t sub_sat(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r))
        return b > 0 ? INT64_MIN : INT64_MAX;
    return r;
}

/* ---- the checkpoint file ---------------------------------------------------- */

/* Streams the snapshot's rows into fd.  *bytes is the file size. */
static int write_rows(const struct ingest_delta_table *tbl, int fd, struct dl_ckpt_cursor *cur,
                      uint64_t *bytes, char *err, size_t errlen)
{
    struct ingest_parquet_opts o = { .codec = INGEST_PARQUET_ZSTD };
    struct ingest_parquet_file_info info;
    struct ingest_parquet_writer *w =
        ingest_parquet_writer_open_fd(fd, dl_ckpt_schema(), &o, err, errlen);
    int rc;
    if (!w)
        return INGEST_EIO;
    for (;;) {
        struct ingest_batch batch;
        rc = dl_ckpt_build(&tbl->snap, cur, CKPT_CHUNK_ROWS, &batch);
        if (rc < 0) {
            snprintf(err, errlen, "checkpoint rows: %s", ingest_strerror(rc));
            goto fail;
        }
        if (batch.nrows == 0)
            break;
        rc = ingest_parquet_writer_write(w, &batch);
        ingest_batch_free(&batch);
        if (rc < 0) {
            snprintf(err, errlen, "writing checkpoint: %s", ingest_strerror(rc));
            goto fail;
        }
    }
    rc = ingest_parquet_writer_close(w, &info);
    if (rc < 0) {
        snprintf(err, errlen, "writing checkpoint: %s", ingest_strerror(rc));
        return rc;
    }
    *bytes = info.file_size;
    ingest_parquet_file_info_free(&info);
    return 0;
fail:
    ingest_parquet_writer_abort(w);
    return rc;
}

/* The version _last_checkpoint names now, or -1. */
static int64_t last_checkpoint_version(const char *log_dir)
{
    char path[4096], *text, jerr[64];
    size_t len;
    int64_t v = -1;
    snprintf(path, sizeof path, "%s/_last_checkpoint", log_dir);
    if (dl_read_file(path, &text, &len) < 0)
        return -1;
    struct ingest_json_doc doc = { 0 };
    if (ingest_json_parse(text, len, &doc, jerr, sizeof jerr) == 0 &&
        ingest_json_int64(ingest_json_get(doc.root, "version"), &v) < 0)
        v = -1;
    ingest_json_doc_free(&doc);
    free(text);
    return v;
}

static int write_last_checkpoint(const char *log_dir, int64_t version,
                                 const struct dl_ckpt_cursor *cur, uint64_t bytes, char *err,
                                 size_t errlen)
{
    /* Another writer's newer checkpoint stays the hint. */
    if (last_checkpoint_version(log_dir) > version)
        return 0;
    char text[256];
    int n = snprintf(text, sizeof text,
                     "{\"version\":%" PRId64 ",\"size\":%" PRId64 ",\"sizeInBytes\":%" PRIu64
                     ",\"numOfAddFiles\":%" PRId64 "}\n",
                     version, cur->rows, bytes, cur->adds);
    return dl_publish(log_dir, "_last_checkpoint", text, (size_t)n, 0, err, errlen);
}

/* ---- log cleanup ------------------------------------------------------------ */

enum log_kind { LOG_JSON, LOG_CRC, LOG_CKPT, LOG_CKPT_OTHER };

struct log_file {
    int64_t version;
    enum log_kind kind;
    int parts;                  /* LOG_CKPT: 1 classic, else multi-part total */
    int64_t mtime_ms;           /* LOG_JSON only */
    char name[96];
};

static int digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* Versioned log file names; 0 for anything else (temp files, .crc
 * companions, _last_checkpoint, compacted JSON). */
static int parse_log_name(const char *name, struct log_file *f)
{
    size_t n = strlen(name);
    if (n < 22 || n >= sizeof f->name || !digits(name, 20) || name[20] != '.')
        return 0;
    const char *rest = name + 21;
    f->version = strtoll(name, NULL, 10);
    f->parts = 1;
    if (strcmp(rest, "json") == 0)
        f->kind = LOG_JSON;
    else if (strcmp(rest, "crc") == 0)
        f->kind = LOG_CRC;
    else if (strcmp(rest, "checkpoint.parquet") == 0)
        f->kind = LOG_CKPT;
    else if (strlen(rest) == 40 && strncmp(rest, "checkpoint.", 11) == 0 &&
             digits(rest + 11, 10) && rest[21] == '.' && digits(rest + 22, 10) &&
             strcmp(rest + 32, ".parquet") == 0) {
        f->kind = LOG_CKPT;
        f->parts = atoi(rest + 22);
    } else if (strncmp(rest, "checkpoint.", 11) == 0 && n > 29 &&
               strcmp(name + n - 8, ".parquet") == 0)
        f->kind = LOG_CKPT_OTHER;   /* a UUID-named checkpoint: deletable, not a base */
    else
        return 0;
    memcpy(f->name, name, n + 1);
    return 1;
}

static int cmp_log_file(const void *a, const void *b)
{
    const struct log_file *x = a, *y = b;
    if (x->version != y->version)
        return x->version < y->version ? -1 : 1;
    return (int)x->kind - (int)y->kind;
}

/* Lists the versioned files of the log, sorted by version. */
static int list_log(const char *log_dir, struct log_file **out, size_t *n)
{
    DIR *d = opendir(log_dir);
    struct log_file *v = NULL;
    size_t cap = 0, used = 0;
    int rc = 0;
    if (!d)
        return ingest_err_from_errno(errno);
    struct dirent *de;
    while ((de = readdir(d))) {
        struct log_file f;
        if (!parse_log_name(de->d_name, &f))
            continue;
        if (f.kind == LOG_JSON) {
            struct stat st;
            if (fstatat(dirfd(d), de->d_name, &st, 0) != 0)
                continue;   /* deleted meanwhile */
            f.mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
        }
        if (used == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            struct log_file *nv = realloc(v, ncap * sizeof *nv);
            if (!nv) {
                rc = INGEST_ENOMEM;
                break;
            }
            v = nv;
            cap = ncap;
        }
        v[used++] = f;
    }
    closedir(d);
    if (rc < 0) {
        free(v);
        return rc;
    }
    if (used)
        qsort(v, used, sizeof *v, cmp_log_file);
    *out = v;
    *n = used;
    return 0;
}

/* The newest commit older than cutoff, with Spark's monotonic times. */
static int64_t newest_expired_commit(const struct log_file *v, size_t n, int64_t cutoff)
{
    int64_t found = -1, prev = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        if (v[i].kind != LOG_JSON)
            continue;
        int64_t t = v[i].mtime_ms;
        if (prev != INT64_MIN && t <= prev)
            t = prev + 1;
        if (t > cutoff)
            break;
        found = v[i].version;
        prev = t;
    }
    return found;
}

/* The newest complete classic or multi-part checkpoint <= max, or -1. */
static int64_t newest_checkpoint(const struct log_file *v, size_t n, int64_t max)
{
    for (size_t i = n; i-- > 0;) {
        if (v[i].kind != LOG_CKPT || v[i].version > max)
            continue;
        int have = 0;
        for (size_t j = i + 1; j-- > 0 && v[j].version == v[i].version;)
            have += v[j].kind == LOG_CKPT && v[j].parts == v[i].parts;
        if (have == v[i].parts)
            return v[i].version;
    }
    return -1;
}

static int cleanup_enabled(const struct ingest_delta_metadata *m)
{
    for (size_t i = 0; i < m->nconfiguration; i++)
        if (strcmp(m->configuration[i].key, "delta.enableExpiredLogCleanup") == 0)
            return !(m->configuration[i].value &&
                     strcasecmp(m->configuration[i].value, "false") == 0);
    return 1;
}

/* Deletes the commits, checkpoints and checksums behind the newest
 * checkpoint (<= written) that is older than the log retention. */
static void cleanup_log(const struct ingest_delta_table *tbl, int64_t written)
{
    struct log_file *v = NULL;
    size_t n = 0;
    if (!cleanup_enabled(&tbl->snap.meta) || list_log(tbl->log_dir, &v, &n) < 0)
        return;
    int64_t t = sub_sat(dl_now_ms(tbl->now_ms_override), tbl->log_retention_ms);
    int64_t cutoff = t / DAY_MS * DAY_MS;
    if (t % DAY_MS < 0)
        cutoff -= DAY_MS;   /* midnight UTC before a pre-1970 instant */
    int64_t commit = newest_expired_commit(v, n, cutoff);
    int64_t base = commit < 0 ? -1 : newest_checkpoint(v, n, commit < written ? commit : written);
    int dfd = base < 0 ? -1 : open(tbl->log_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (size_t i = 0; dfd >= 0 && i < n && v[i].version < base; i++) {
        char crc[128];
        unlinkat(dfd, v[i].name, 0);
        /* Hadoop's checksum companion, which Spark leaves next to each file. */
        snprintf(crc, sizeof crc, ".%s.crc", v[i].name);
        unlinkat(dfd, crc, 0);
    }
    if (dfd >= 0)
        close(dfd);
    free(v);
}

/* ---- ingest_delta_checkpoint ------------------------------------------------ */

int ingest_delta_checkpoint(struct ingest_delta_table *tbl, char *err, size_t errlen)
{
    const struct ingest_delta_snapshot *s = &tbl->snap;
    char name[96], tmp[4096], uuid[37];
    int rc;
    if (s->version < 0 || !s->has_protocol || !s->has_metadata) {
        snprintf(err, errlen, "%s: no version with protocol and metaData to checkpoint",
                 tbl->log_dir);
        return INGEST_EINVAL;
    }
    if (s->protocol.min_reader > 1 || s->protocol.min_writer > 2) {
        /* Features such as deletion vectors live in fields this writer
         * does not carry: its checkpoint would change the table. */
        snprintf(err, errlen, "%s: protocol %d/%d: ingestd checkpoints only reader 1 / writer 2 "
                 "tables", tbl->log_dir, s->protocol.min_reader, s->protocol.min_writer);
        return INGEST_ENOTSUP;
    }
    int64_t now = dl_now_ms(tbl->now_ms_override);
    struct dl_ckpt_cursor cur = { .expire_before = sub_sat(now, tbl->tombstone_retention_ms) };
    ingest_delta_version_name(s->version, ".checkpoint.parquet", name, sizeof name);
    ingest_delta_uuid(uuid);
    snprintf(tmp, sizeof tmp, "%s/.tmp-%s-%s", tbl->log_dir, uuid, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = ingest_err_from_errno(errno);
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return rc;
    }
    uint64_t bytes = 0;
    rc = write_rows(tbl, fd, &cur, &bytes, err, errlen);
    close(fd);
    if (rc < 0) {
        unlink(tmp);
        return rc;
    }
    rc = dl_publish_file(tmp, tbl->log_dir, name, 0, err, errlen);
    if (rc == 0)
        rc = write_last_checkpoint(tbl->log_dir, s->version, &cur, bytes, err, errlen);
    if (rc < 0)
        return rc;
    cleanup_log(tbl, s->version);
    tbl->checkpoint_pending = 0;
    tbl->checkpoint_last_err = 0;
    tbl->checkpoint_msg[0] = 0;
    return 0;
}

/* ---- loading ------------------------------------------------------------------ */

/* The vectors a row group is read through, found by name.  Kinds: T struct,
 * S string, I integer, B boolean, M map<string,string>, L list<string>.
 * A parent precedes its fields. */
enum slot {
    S_TXN, S_ADD, S_REMOVE, S_META, S_PROTO, S_DOMAIN, S_CKPT_META, S_SIDECAR,
    S_TXN_APP, S_TXN_VER, S_TXN_UPD,
    S_ADD_PATH, S_ADD_PART, S_ADD_SIZE, S_ADD_MTIME, S_ADD_DC, S_ADD_TAGS, S_ADD_STATS,
    S_RM_PATH, S_RM_TS, S_RM_DC, S_RM_EXT, S_RM_PART, S_RM_SIZE,
    S_MD_ID, S_MD_NAME, S_MD_DESC, S_MD_FMT, S_MD_PROVIDER, S_MD_OPTIONS, S_MD_SCHEMA,
    S_MD_PCOLS, S_MD_CONF, S_MD_CREATED,
    S_PR_READER, S_PR_WRITER, S_PR_RFEAT, S_PR_WFEAT,
    NSLOTS
};

static const struct {
    int parent;                 /* -1: a top-level column */
    char kind;
    const char *name;
} slot_def[NSLOTS] = {
    [S_TXN] = { -1, 'T', "txn" },               [S_ADD] = { -1, 'T', "add" },
    [S_REMOVE] = { -1, 'T', "remove" },         [S_META] = { -1, 'T', "metaData" },
    [S_PROTO] = { -1, 'T', "protocol" },
    /* Actions we skip, read only so their rows do not look empty. */
    [S_DOMAIN] = { -1, 'T', "domainMetadata" }, [S_CKPT_META] = { -1, 'T', "checkpointMetadata" },
    [S_SIDECAR] = { -1, 'T', "sidecar" },
    [S_TXN_APP] = { S_TXN, 'S', "appId" },      [S_TXN_VER] = { S_TXN, 'I', "version" },
    [S_TXN_UPD] = { S_TXN, 'I', "lastUpdated" },
    [S_ADD_PATH] = { S_ADD, 'S', "path" },      [S_ADD_PART] = { S_ADD, 'M', "partitionValues" },
    [S_ADD_SIZE] = { S_ADD, 'I', "size" },      [S_ADD_MTIME] = { S_ADD, 'I', "modificationTime" },
    [S_ADD_DC] = { S_ADD, 'B', "dataChange" },  [S_ADD_TAGS] = { S_ADD, 'M', "tags" },
    [S_ADD_STATS] = { S_ADD, 'S', "stats" },
    [S_RM_PATH] = { S_REMOVE, 'S', "path" },    [S_RM_TS] = { S_REMOVE, 'I', "deletionTimestamp" },
    [S_RM_DC] = { S_REMOVE, 'B', "dataChange" },
    [S_RM_EXT] = { S_REMOVE, 'B', "extendedFileMetadata" },
    [S_RM_PART] = { S_REMOVE, 'M', "partitionValues" }, [S_RM_SIZE] = { S_REMOVE, 'I', "size" },
    [S_MD_ID] = { S_META, 'S', "id" },          [S_MD_NAME] = { S_META, 'S', "name" },
    [S_MD_DESC] = { S_META, 'S', "description" }, [S_MD_FMT] = { S_META, 'T', "format" },
    [S_MD_PROVIDER] = { S_MD_FMT, 'S', "provider" }, [S_MD_OPTIONS] = { S_MD_FMT, 'M', "options" },
    [S_MD_SCHEMA] = { S_META, 'S', "schemaString" },
    [S_MD_PCOLS] = { S_META, 'L', "partitionColumns" },
    [S_MD_CONF] = { S_META, 'M', "configuration" }, [S_MD_CREATED] = { S_META, 'I', "createdTime" },
    [S_PR_READER] = { S_PROTO, 'I', "minReaderVersion" },
    [S_PR_WRITER] = { S_PROTO, 'I', "minWriterVersion" },
    [S_PR_RFEAT] = { S_PROTO, 'L', "readerFeatures" },
    [S_PR_WFEAT] = { S_PROTO, 'L', "writerFeatures" },
};

static const char *const load_columns[] = {
    "txn", "add", "remove", "metaData", "protocol", "domainMetadata", "checkpointMetadata",
    "sidecar", NULL,
};

struct rows {
    struct ingest_delta_snapshot *s;
    const struct ingest_vector *c[NSLOTS];
    const char *file;
    size_t row;                 /* row in the file, for messages */
    char *err;
    size_t errlen;
};

static int is_str(const struct ingest_field *f)
{
    return f->type == INGEST_TYPE_STRING || f->type == INGEST_TYPE_BINARY;
}

static int kind_ok(const struct ingest_field *f, char kind)
{
    switch (kind) {
    case 'T': return f->type == INGEST_TYPE_STRUCT;
    case 'S': return is_str(f);
    case 'B': return f->type == INGEST_TYPE_BOOLEAN;
    case 'I': return f->type >= INGEST_TYPE_INT8 && f->type <= INGEST_TYPE_INT64;
    case 'M': return f->type == INGEST_TYPE_MAP && f->nchildren == 2 &&
                     is_str(&f->children[0]) && is_str(&f->children[1]);
    default: return f->type == INGEST_TYPE_LIST && f->nchildren == 1 &&
                    is_str(&f->children[0]);
    }
}

static const struct ingest_vector *find(const struct ingest_vector *v, size_t n,
                                        const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].field->name, name) == 0)
            return &v[i];
    return NULL;
}

/* Fills x->c from batch; a column of the wrong type is corruption. */
static int resolve(struct rows *x, const struct ingest_batch *batch)
{
    for (int i = 0; i < NSLOTS; i++) {
        const struct ingest_vector *p = slot_def[i].parent < 0 ? NULL : x->c[slot_def[i].parent];
        const struct ingest_vector *v =
            slot_def[i].parent < 0 ? find(batch->columns, batch->schema->nfields, slot_def[i].name)
            : p ? find(p->children, p->nchildren, slot_def[i].name) : NULL;
        if (v && !kind_ok(v->field, slot_def[i].kind)) {
            snprintf(x->err, x->errlen, "%s: column %s%s%s has type %s", x->file,
                     p ? p->field->name : "", p ? "." : "", slot_def[i].name,
                     ingest_type_name(v->field->type));
            return INGEST_ECORRUPT;
        }
        x->c[i] = v;
    }
    return 0;
}

static int has(const struct rows *x, enum slot sl, size_t i)
{
    return x->c[sl] && ingest_vector_valid(x->c[sl], i);
}

static int64_t int_at(const struct rows *x, enum slot sl, size_t i)
{
    const struct ingest_vector *v = x->c[sl];
    switch (ingest_type_width(v->field)) {
    case 1: return ((const int8_t *)v->values)[i];
    case 2: return ((const int16_t *)v->values)[i];
    case 4: return ((const int32_t *)v->values)[i];
    default: return ((const int64_t *)v->values)[i];
    }
}

static int64_t int_or(const struct rows *x, enum slot sl, size_t i, int64_t dflt)
{
    return has(x, sl, i) ? int_at(x, sl, i) : dflt;
}

/* Entry i of a string vector as a new string; NULL for null. */
static int dup_at(const struct ingest_vector *v, size_t i, char **out)
{
    *out = NULL;
    if (!v || !ingest_vector_valid(v, i))
        return 0;
    size_t n = v->offsets[i + 1] - v->offsets[i];
    if (!(*out = malloc(n + 1)))
        return INGEST_ENOMEM;
    memcpy(*out, v->data + v->offsets[i], n);
    (*out)[n] = 0;
    return 0;
}

static int corrupt(struct rows *x, const char *what)
{
    snprintf(x->err, x->errlen, "%s: row %zu: %s", x->file, x->row, what);
    return INGEST_ECORRUPT;
}

static int oom(struct rows *x)
{
    snprintf(x->err, x->errlen, "%s: row %zu: out of memory", x->file, x->row);
    return INGEST_ENOMEM;
}

/* Checks that the row has each of the fields, or names the first missing. */
static int need(struct rows *x, size_t i, const enum slot *sl, size_t n, const char *action)
{
    for (size_t k = 0; k < n; k++)
        if (!has(x, sl[k], i)) {
            char what[96];
            snprintf(what, sizeof what, "%s.%s is missing", action, slot_def[sl[k]].name);
            return corrupt(x, what);
        }
    return 0;
}

/* A map row as kv pairs (null map: none).  INGEST_ECORRUPT on a null key. */
static int get_kv(struct rows *x, enum slot sl, size_t i, struct ingest_delta_kv **out,
                  size_t *n)
{
    const struct ingest_vector *m = x->c[sl];
    *out = NULL;
    *n = 0;
    if (!has(x, sl, i) || m->offsets[i + 1] == m->offsets[i])
        return 0;
    size_t b = m->offsets[i], cnt = m->offsets[i + 1] - b;
    struct ingest_delta_kv *kv = calloc(cnt, sizeof *kv);
    if (!kv)
        return oom(x);
    for (size_t k = 0; k < cnt; k++) {
        if (!ingest_vector_valid(&m->children[0], b + k)) {
            dl_kv_free(kv, cnt);
            char what[96];
            snprintf(what, sizeof what, "%s has a null key", slot_def[sl].name);
            return corrupt(x, what);
        }
        if (dup_at(&m->children[0], b + k, &kv[k].key) < 0 ||
            dup_at(&m->children[1], b + k, &kv[k].value) < 0) {
            dl_kv_free(kv, cnt);
            return oom(x);
        }
    }
    *out = kv;
    *n = cnt;
    return 0;
}

/* A list row as a NULL-terminated vector (null list: NULL); null
 * elements are corruption (partition columns and features are names). */
static int get_strv(struct rows *x, enum slot sl, size_t i, char ***out, size_t *n)
{
    const struct ingest_vector *l = x->c[sl];
    *out = NULL;
    *n = 0;
    if (!has(x, sl, i))
        return 0;
    size_t b = l->offsets[i], cnt = l->offsets[i + 1] - b;
    char **v = calloc(cnt + 1, sizeof *v);
    if (!v)
        return oom(x);
    for (size_t k = 0; k < cnt; k++) {
        int rc = dup_at(&l->children[0], b + k, &v[k]);
        if (rc < 0 || !v[k]) {
            dl_strv_free(v, cnt);
            if (rc < 0)
                return oom(x);
            char what[96];
            snprintf(what, sizeof what, "%s has a null element", slot_def[sl].name);
            return corrupt(x, what);
        }
    }
    *out = v;
    *n = cnt;
    return 0;
}

static int dup_slot(struct rows *x, enum slot sl, size_t i, char **out)
{
    return dup_at(x->c[sl], i, out) < 0 ? oom(x) : 0;
}

static int load_add(struct rows *x, size_t i)
{
    static const enum slot req[] = { S_ADD_PATH, S_ADD_PART, S_ADD_SIZE, S_ADD_MTIME, S_ADD_DC };
    struct ingest_delta_file f;
    int rc = need(x, i, req, sizeof req / sizeof req[0], "add");
    if (rc < 0)
        return rc;
    memset(&f, 0, sizeof f);
    f.num_records = -1;
    f.deletion_timestamp = -1;
    f.size = int_at(x, S_ADD_SIZE, i);
    f.modification_time = int_at(x, S_ADD_MTIME, i);
    f.data_change = int_at(x, S_ADD_DC, i) != 0;
    if ((rc = dup_slot(x, S_ADD_PATH, i, &f.path)) < 0 ||
        (rc = get_kv(x, S_ADD_PART, i, &f.part, &f.npart)) < 0 ||
        (rc = get_kv(x, S_ADD_TAGS, i, &f.tags, &f.ntags)) < 0 ||
        (rc = dup_slot(x, S_ADD_STATS, i, &f.stats)) < 0)
        goto fail;
    int64_t nr;
    if (f.stats && dl_stats_num_records(f.stats, strlen(f.stats), &nr) == 0)
        f.num_records = nr;
    return dl_snap_put_file(x->s, &f) < 0 ? oom(x) : 0;
fail:
    dl_file_free(&f);
    return rc;
}

static int load_remove(struct rows *x, size_t i)
{
    static const enum slot req[] = { S_RM_PATH, S_RM_DC };
    struct ingest_delta_file f;
    int rc = need(x, i, req, sizeof req / sizeof req[0], "remove");
    if (rc < 0)
        return rc;
    memset(&f, 0, sizeof f);
    f.removed = 1;
    f.num_records = -1;
    f.modification_time = -1;
    f.data_change = int_at(x, S_RM_DC, i) != 0;
    f.deletion_timestamp = int_or(x, S_RM_TS, i, -1);
    f.extended_file_metadata = int_or(x, S_RM_EXT, i, 0) != 0;
    f.size = int_or(x, S_RM_SIZE, i, -1);
    if ((rc = dup_slot(x, S_RM_PATH, i, &f.path)) < 0 ||
        (rc = get_kv(x, S_RM_PART, i, &f.part, &f.npart)) < 0)
        goto fail;
    return dl_snap_put_file(x->s, &f) < 0 ? oom(x) : 0;
fail:
    dl_file_free(&f);
    return rc;
}

static int load_txn(struct rows *x, size_t i)
{
    static const enum slot req[] = { S_TXN_APP, S_TXN_VER };
    struct ingest_delta_txn t = { 0 };
    int rc = need(x, i, req, sizeof req / sizeof req[0], "txn");
    if (rc < 0)
        return rc;
    t.version = int_at(x, S_TXN_VER, i);
    t.last_updated = int_or(x, S_TXN_UPD, i, -1);
    if ((rc = dup_slot(x, S_TXN_APP, i, &t.app_id)) < 0)
        return rc;
    return dl_snap_put_txn(x->s, &t) < 0 ? oom(x) : 0;
}

static int load_metadata(struct rows *x, size_t i)
{
    static const enum slot req[] = { S_MD_ID, S_MD_FMT, S_MD_PROVIDER, S_MD_SCHEMA };
    struct ingest_delta_metadata m;
    int rc = need(x, i, req, sizeof req / sizeof req[0], "metaData");
    if (rc < 0)
        return rc;
    memset(&m, 0, sizeof m);
    m.created_time = int_or(x, S_MD_CREATED, i, -1);
    if ((rc = dup_slot(x, S_MD_ID, i, &m.id)) < 0 ||
        (rc = dup_slot(x, S_MD_NAME, i, &m.name)) < 0 ||
        (rc = dup_slot(x, S_MD_DESC, i, &m.description)) < 0 ||
        (rc = dup_slot(x, S_MD_PROVIDER, i, &m.format_provider)) < 0 ||
        (rc = get_kv(x, S_MD_OPTIONS, i, &m.format_options, &m.nformat_options)) < 0 ||
        (rc = dup_slot(x, S_MD_SCHEMA, i, &m.schema_string)) < 0 ||
        (rc = get_strv(x, S_MD_PCOLS, i, &m.partition_cols, &m.npartition_cols)) < 0 ||
        (rc = get_kv(x, S_MD_CONF, i, &m.configuration, &m.nconfiguration)) < 0) {
        dl_metadata_free(&m);
        return rc;
    }
    dl_snap_put_metadata(x->s, &m);
    return 0;
}

static int load_protocol(struct rows *x, size_t i)
{
    static const enum slot req[] = { S_PR_READER, S_PR_WRITER };
    struct ingest_delta_protocol p;
    size_t n;
    int rc = need(x, i, req, sizeof req / sizeof req[0], "protocol");
    if (rc < 0)
        return rc;
    memset(&p, 0, sizeof p);
    int64_t r = int_at(x, S_PR_READER, i), w = int_at(x, S_PR_WRITER, i);
    if (r < 0 || r > 1000 || w < 0 || w > 1000)
        return corrupt(x, "protocol versions out of range");
    p.min_reader = (int)r;
    p.min_writer = (int)w;
    if ((rc = get_strv(x, S_PR_RFEAT, i, &p.reader_features, &n)) < 0 ||
        (rc = get_strv(x, S_PR_WFEAT, i, &p.writer_features, &n)) < 0) {
        dl_protocol_free(&p);
        return rc;
    }
    dl_snap_put_protocol(x->s, &p);
    return 0;
}

/* One row: each action present goes into the snapshot (a checkpoint row
 * holds exactly one; more are taken as they come, none is corruption). */
static int load_row(struct rows *x, size_t i)
{
    static int (*const load[])(struct rows *, size_t) = {
        [S_TXN] = load_txn, [S_ADD] = load_add, [S_REMOVE] = load_remove,
        [S_META] = load_metadata, [S_PROTO] = load_protocol,
    };
    int any = 0;
    for (int sl = S_TXN; sl <= S_SIDECAR; sl++) {
        if (!has(x, (enum slot)sl, i))
            continue;
        any = 1;
        if (sl <= S_PROTO) {
            int rc = load[sl](x, i);
            if (rc < 0)
                return rc;
        }
    }
    return any ? 0 : corrupt(x, "no action");
}

static int load_part(struct ingest_delta_snapshot *s, const char *path, int64_t *rows,
                     char *err, size_t errlen)
{
    char perr[256];
    struct rows x = { .s = s, .file = path, .err = err, .errlen = errlen };
    struct ingest_parquet_reader *r = ingest_parquet_reader_open(path, perr, sizeof perr);
    int rc = 0;
    if (!r) {
        rc = access(path, R_OK) != 0 ? ingest_err_from_errno(errno) : INGEST_ECORRUPT;
        snprintf(err, errlen, "%s: %s", path, perr);
        return rc;
    }
    size_t nrg = ingest_parquet_reader_num_row_groups(r);
    for (size_t rg = 0; rg < nrg && rc == 0; rg++) {
        struct ingest_batch batch;
        rc = ingest_parquet_reader_read_row_group(r, rg, load_columns, &batch, perr,
                                                  sizeof perr);
        if (rc < 0) {
            snprintf(err, errlen, "%s: %s", path, perr);
            break;
        }
        rc = resolve(&x, &batch);
        for (size_t i = 0; rc == 0 && i < batch.nrows; i++, x.row++)
            rc = load_row(&x, i);
        *rows += (int64_t)batch.nrows;
        ingest_batch_free(&batch);
    }
    ingest_parquet_reader_close(r);
    return rc;
}

int dl_checkpoint_load_rows(struct ingest_delta_snapshot *s, const char *const *paths,
                            size_t nparts, int64_t *rows, char *err, size_t errlen)
{
    int64_t n = 0;
    int rc = 0;
    for (size_t p = 0; p < nparts && rc == 0; p++)
        rc = load_part(s, paths[p], &n, err, errlen);
    if (rows)
        *rows = n;
    return rc;
}

int dl_checkpoint_load(struct ingest_delta_snapshot *s, const char *const *paths,
                       size_t nparts, char *err, size_t errlen)
{
    return dl_checkpoint_load_rows(s, paths, nparts, NULL, err, errlen);
}
