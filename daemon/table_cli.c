/*
 * table_cli.c - `ingestd table info|history PATH [--json]`: what an
 * operator asks of a Delta table without starting Spark.
 *
 * info replays the log (any writer's table, checkpoints included) and
 * prints the version, protocol, schema, partitioning, file/row/byte totals
 * and the latest txn per appId; rows come from each add's stats and, for
 * adds without stats, from the data file's Parquet footer.  history reads
 * every JSON commit still in the log, newest first: time, operation, rows
 * and files added, and the lineage ingestd stores in commitInfo.ingestd.
 * --json prints one JSON document for scripts (integers exact).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dirent.h>
#include <sys/stat.h>

#include "ingestd/buf.h"
#include "ingestd/strutil.h"
#include "ingestd/delta.h"
#include "ingestd/error.h"
#include "ingestd/json.h"
#include "ingestd/parquet_reader.h"
#include "ingestd/table_cli.h"
#include "delta/dl_fs.h"
#include "delta/dl_path.h"

static void fmt_size(int64_t b, char *buf, size_t len)
{
    static const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
    double v = (double)b;
    int i = 0;
    while (v >= 1024 && i < 5) {
        v /= 1024;
        i++;
    }
    snprintf(buf, len, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

/* Compact JSON text of a parsed node (numbers as written: exact). */
static void json_write(struct ingest_buf *b, const struct ingest_json *n)
{
    switch (n->type) {
    case INGEST_JSON_NULL: ingest_buf_puts(b, "null"); break;
    case INGEST_JSON_TRUE: ingest_buf_puts(b, "true"); break;
    case INGEST_JSON_FALSE: ingest_buf_puts(b, "false"); break;
    case INGEST_JSON_NUMBER: ingest_buf_append(b, n->str, n->len); break;
    case INGEST_JSON_STRING: ingest_buf_json_str(b, n->str); break;
    case INGEST_JSON_ARRAY:
    case INGEST_JSON_OBJECT: {
        int obj = n->type == INGEST_JSON_OBJECT;
        ingest_buf_putc(b, obj ? '{' : '[');
        for (const struct ingest_json *c = n->child; c; c = c->next) {
            if (c != n->child)
                ingest_buf_putc(b, ',');
            if (obj) {
                ingest_buf_json_str(b, c->key);
                ingest_buf_putc(b, ':');
            }
            json_write(b, c);
        }
        ingest_buf_putc(b, obj ? '}' : ']');
        break;
    }
    }
}

/* ---- info --------------------------------------------------------------- */

struct totals {
    int64_t files, rows, bytes, footer_reads;
    int     rows_unknown;       /* a file whose row count could not be read */
};

static void count(const struct ingest_delta_table *tbl, struct totals *t, FILE *errf)
{
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < tbl->snap.nfiles; i++) {
        const struct ingest_delta_file *f = &tbl->snap.files[i];
        if (f->removed)
            continue;
        t->files++;
        t->bytes += f->size > 0 ? f->size : 0;
        if (f->num_records >= 0) {
            t->rows += f->num_records;
            continue;
        }
        struct ingest_buf rel = INGEST_BUF_INIT, abs = INGEST_BUF_INIT;
        int64_t n = -1;
        char err[512];
        if (dl_uri_decode(f->path, &rel) == 0 && rel.data) {
            if (rel.data[0] == '/')
                ingest_buf_puts(&abs, rel.data);
            else
                ingest_buf_printf(&abs, "%s/%s", tbl->path, rel.data);
            if (ingest_parquet_read_num_rows(abs.data, &n, err, sizeof err) < 0) {
                fprintf(errf, "ingestd: warning: %s\n", err);
                n = -1;
            }
        }
        ingest_buf_free(&rel);
        ingest_buf_free(&abs);
        t->footer_reads++;
        if (n < 0)
            t->rows_unknown = 1;
        else
            t->rows += n;
    }
}

static void type_text(const struct ingest_json *t, struct ingest_buf *b)
{
    const char *k = ingest_json_string(ingest_json_get(t, "type"));
    if (t->type == INGEST_JSON_STRING) {
        ingest_buf_puts(b, t->str);
    } else if (k && strcmp(k, "struct") == 0) {
        ingest_buf_puts(b, "struct<");
        const struct ingest_json *fs = ingest_json_get(t, "fields");
        for (const struct ingest_json *f = fs ? fs->child : NULL; f; f = f->next) {
            if (f != fs->child)
                ingest_buf_puts(b, ", ");
            const char *name = ingest_json_string(ingest_json_get(f, "name"));
            ingest_buf_printf(b, "%s: ", name ? name : "?");
            const struct ingest_json *ft = ingest_json_get(f, "type");
            if (ft)
                type_text(ft, b);
        }
        ingest_buf_putc(b, '>');
    } else if (k && strcmp(k, "array") == 0) {
        ingest_buf_puts(b, "array<");
        const struct ingest_json *e = ingest_json_get(t, "elementType");
        if (e)
            type_text(e, b);
        ingest_buf_putc(b, '>');
    } else if (k && strcmp(k, "map") == 0) {
        ingest_buf_puts(b, "map<");
        const struct ingest_json *kt = ingest_json_get(t, "keyType");
        const struct ingest_json *vt = ingest_json_get(t, "valueType");
        if (kt)
            type_text(kt, b);
        ingest_buf_puts(b, ", ");
        if (vt)
            type_text(vt, b);
        ingest_buf_putc(b, '>');
    } else {
        ingest_buf_puts(b, "?");
    }
}

static void print_info_text(const struct ingest_delta_table *tbl, const struct totals *t,
                            const struct ingest_json *schema, FILE *out)
{
    const struct ingest_delta_snapshot *s = &tbl->snap;
    char when[40], size[32];
    fprintf(out, "table       %s\n", tbl->path);
    fprintf(out, "version     %" PRId64, s->version);
    if (s->checkpoint_version >= 0)
        fprintf(out, " (replayed from the checkpoint at %" PRId64 ")", s->checkpoint_version);
    fprintf(out, "\nprotocol    reader %d, writer %d\n", s->protocol.min_reader,
            s->protocol.min_writer);
    if (s->protocol.reader_features && s->protocol.reader_features[0]) {
        fprintf(out, "features   ");
        for (char **f = s->protocol.reader_features; *f; f++)
            fprintf(out, " %s", *f);
        fprintf(out, "\n            (counts below ignore what reader features change, e.g. "
                "rows removed by deletion vectors)\n");
    }
    fprintf(out, "id          %s\n", s->meta.id ? s->meta.id : "-");
    if (s->meta.name)
        fprintf(out, "name        %s\n", s->meta.name);
    ingest_fmt_ms(s->meta.created_time, when, sizeof when);
    fprintf(out, "created     %s\n", when);
    fprintf(out, "partitions  ");
    for (size_t i = 0; i < s->meta.npartition_cols; i++)
        fprintf(out, "%s%s", i ? ", " : "", s->meta.partition_cols[i]);
    fprintf(out, "%s\n", s->meta.npartition_cols ? "" : "(none)");
    fmt_size(t->bytes, size, sizeof size);
    fprintf(out, "files       %" PRId64 "\nsize        %s (%" PRId64 " bytes)\n", t->files, size,
            t->bytes);
    fprintf(out, "rows        %" PRId64 "%s\n", t->rows,
            t->rows_unknown ? " (at least: some files could not be read)" : "");
    fprintf(out, "schema\n");
    const struct ingest_json *fs = ingest_json_get(schema, "fields");
    for (const struct ingest_json *f = fs ? fs->child : NULL; f; f = f->next) {
        struct ingest_buf b = INGEST_BUF_INIT;
        const struct ingest_json *ft = ingest_json_get(f, "type");
        if (ft)
            type_text(ft, &b);
        const char *name = ingest_json_string(ingest_json_get(f, "name"));
        fprintf(out, "  %-20s %s%s\n", name ? name : "?", b.data ? b.data : "?",
                ingest_json_bool(ingest_json_get(f, "nullable")) == 0 ? " not null" : "");
        ingest_buf_free(&b);
    }
    fprintf(out, "txn%s\n", s->ntxns ? "" : "         (none)");
    for (size_t i = 0; i < s->ntxns; i++) {
        ingest_fmt_ms(s->txns[i].last_updated, when, sizeof when);
        fprintf(out, "  %-36s %" PRId64 "  (updated %s)\n", s->txns[i].app_id,
                s->txns[i].version, when);
    }
    if (s->meta.nconfiguration) {
        fprintf(out, "properties\n");
        for (size_t i = 0; i < s->meta.nconfiguration; i++)
            fprintf(out, "  %s = %s\n", s->meta.configuration[i].key,
                    s->meta.configuration[i].value ? s->meta.configuration[i].value : "null");
    }
}

static void print_info_json(const struct ingest_delta_table *tbl, const struct totals *t,
                            const struct ingest_json *schema, FILE *out)
{
    const struct ingest_delta_snapshot *s = &tbl->snap;
    struct ingest_buf b = INGEST_BUF_INIT;
    ingest_buf_puts(&b, "{\"path\":");
    ingest_buf_json_str(&b, tbl->path);
    ingest_buf_printf(&b, ",\"version\":%" PRId64 ",\"num_files\":%" PRId64
                          ",\"num_rows\":%" PRId64 ",\"size_bytes\":%" PRId64,
                      s->version, t->files, t->rows, t->bytes);
    ingest_buf_printf(&b, ",\"num_rows_complete\":%s", t->rows_unknown ? "false" : "true");
    ingest_buf_puts(&b, ",\"partition_columns\":[");
    for (size_t i = 0; i < s->meta.npartition_cols; i++) {
        if (i)
            ingest_buf_putc(&b, ',');
        ingest_buf_json_str(&b, s->meta.partition_cols[i]);
    }
    ingest_buf_puts(&b, "],\"schema\":");
    if (schema)
        json_write(&b, schema);
    else
        ingest_buf_puts(&b, "null");
    ingest_buf_puts(&b, ",\"txn\":{");
    for (size_t i = 0; i < s->ntxns; i++) {
        if (i)
            ingest_buf_putc(&b, ',');
        ingest_buf_json_str(&b, s->txns[i].app_id);
        ingest_buf_printf(&b, ":%" PRId64, s->txns[i].version);
    }
    ingest_buf_printf(&b, "},\"protocol\":{\"min_reader_version\":%d,\"min_writer_version\":%d}",
                      s->protocol.min_reader, s->protocol.min_writer);
    ingest_buf_puts(&b, ",\"id\":");
    ingest_buf_json_str(&b, s->meta.id ? s->meta.id : "");
    if (s->meta.name) {
        ingest_buf_puts(&b, ",\"name\":");
        ingest_buf_json_str(&b, s->meta.name);
    }
    ingest_buf_printf(&b, ",\"created_time\":%" PRId64 ",\"checkpoint_version\":%" PRId64,
                      s->meta.created_time, s->checkpoint_version);
    ingest_buf_puts(&b, ",\"configuration\":{");
    for (size_t i = 0; i < s->meta.nconfiguration; i++) {
        if (i)
            ingest_buf_putc(&b, ',');
        ingest_buf_json_str(&b, s->meta.configuration[i].key);
        ingest_buf_putc(&b, ':');
        if (s->meta.configuration[i].value)
            ingest_buf_json_str(&b, s->meta.configuration[i].value);
        else
            ingest_buf_puts(&b, "null");
    }
    ingest_buf_puts(&b, "}}\n");
    fputs(b.data, out);
    ingest_buf_free(&b);
}

static int cmd_info(const char *path, int json, FILE *out, FILE *errf)
{
    struct ingest_delta_table *tbl = NULL;
    char err[1024];
    int rc = ingest_delta_open(path, &tbl, err, sizeof err);
    if (rc < 0) {
        fprintf(errf, "ingestd: %s\n", err);
        return 1;
    }
    struct totals t;
    count(tbl, &t, errf);
    struct ingest_json_doc sdoc = { 0 };
    const char *ss = tbl->snap.meta.schema_string;
    if (ss && ingest_json_parse(ss, strlen(ss), &sdoc, err, sizeof err) < 0)
        fprintf(errf, "ingestd: warning: schemaString: %s\n", err);
    if (json)
        print_info_json(tbl, &t, sdoc.root, out);
    else
        print_info_text(tbl, &t, sdoc.root, out);
    ingest_json_doc_free(&sdoc);
    ingest_delta_close(tbl);
    return 0;
}

/* ---- history ------------------------------------------------------------ */

struct commit_summary {
    int64_t version, timestamp, rows, files, bytes;
    int     rows_known;
    char   *operation;
    char   *engine;
    char   *lineage;            /* JSON text or NULL */
};

static int summarize(const char *text, size_t len, struct commit_summary *c)
{
    struct ingest_json_doc doc = { 0 };
    const char *p = text, *end = text + len;
    int64_t metric_rows = -1, stat_rows = 0;
    int all_stats = 1;
    char err[128];
    c->timestamp = -1;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (le > p && ingest_json_parse(p, (size_t)(le - p), &doc, err, sizeof err) == 0) {
            const struct ingest_json *ci = ingest_json_get(doc.root, "commitInfo");
            const struct ingest_json *add = ingest_json_get(doc.root, "add");
            if (ci) {
                ingest_json_int64(ingest_json_get(ci, "timestamp"), &c->timestamp);
                const char *op = ingest_json_string(ingest_json_get(ci, "operation"));
                const char *eng = ingest_json_string(ingest_json_get(ci, "engineInfo"));
                c->operation = strdup(op ? op : "?");
                c->engine = eng ? strdup(eng) : NULL;
                const struct ingest_json *m = ingest_json_get(ci, "operationMetrics");
                const char *nr = ingest_json_string(ingest_json_get(m, "numOutputRows"));
                if (nr)
                    metric_rows = strtoll(nr, NULL, 10);
                const struct ingest_json *lin = ingest_json_get(ci, "ingestd");
                if (lin) {
                    struct ingest_buf b = INGEST_BUF_INIT;
                    json_write(&b, lin);
                    c->lineage = ingest_buf_steal(&b);
                }
            }
            if (add) {
                int64_t sz = 0, nr = -1;
                c->files++;
                if (ingest_json_int64(ingest_json_get(add, "size"), &sz) == 0)
                    c->bytes += sz;
                const char *st = ingest_json_string(ingest_json_get(add, "stats"));
                struct ingest_json_doc sd = { 0 };
                if (st && ingest_json_parse(st, strlen(st), &sd, err, sizeof err) == 0 &&
                    ingest_json_int64(ingest_json_get(sd.root, "numRecords"), &nr) == 0)
                    stat_rows += nr;
                else
                    all_stats = 0;
                ingest_json_doc_free(&sd);
            }
            ingest_json_doc_free(&doc);
        }
        p = nl ? nl + 1 : end;
    }
    if (c->files == 0 || all_stats) {
        c->rows = stat_rows;
        c->rows_known = 1;
    } else if (metric_rows >= 0) {
        c->rows = metric_rows;
        c->rows_known = 1;
    }
    return 0;
}

static int cmp_desc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x > y ? -1 : x < y;
}

static int cmd_history(const char *path, int json, int64_t limit, FILE *out, FILE *errf)
{
    struct ingest_delta_table *tbl = NULL;
    char err[1024];
    /* Open first: it validates the table and gives the latest version. */
    int rc = ingest_delta_open(path, &tbl, err, sizeof err);
    if (rc < 0) {
        fprintf(errf, "ingestd: %s\n", err);
        return 1;
    }
    int64_t *versions = NULL;
    size_t n = 0, cap = 0;
    DIR *d = opendir(tbl->log_dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len != 25 || strcmp(e->d_name + 20, ".json") != 0 ||
            strspn(e->d_name, "0123456789") != 20)
            continue;
        int64_t v = strtoll(e->d_name, NULL, 10);
        if (v > tbl->snap.version)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            int64_t *nv = realloc(versions, cap * sizeof *nv);
            if (!nv)
                break;
            versions = nv;
        }
        versions[n++] = v;
    }
    if (d)
        closedir(d);
    if (n)
        qsort(versions, n, sizeof *versions, cmp_desc);
    if (limit > 0 && (size_t)limit < n)
        n = (size_t)limit;
    if (json)
        fputs("[", out);
    else
        fprintf(out, "%-8s %-24s %-18s %10s %6s  %s\n", "VERSION", "TIMESTAMP", "OPERATION",
                "ROWS", "FILES", "LINEAGE");
    for (size_t i = 0; i < n; i++) {
        char name[64], fpath[4096], *text;
        size_t len;
        struct commit_summary c = { .version = versions[i] };
        ingest_delta_version_name(versions[i], ".json", name, sizeof name);
        snprintf(fpath, sizeof fpath, "%s/%s", tbl->log_dir, name);
        if (dl_read_file(fpath, &text, &len) < 0)
            continue;
        summarize(text, len, &c);
        free(text);
        struct stat st;
        if (c.timestamp < 0 && stat(fpath, &st) == 0)     /* no commitInfo: the file's time */
            c.timestamp = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
        if (json) {
            struct ingest_buf b = INGEST_BUF_INIT;
            ingest_buf_printf(&b, "%s{\"version\":%" PRId64 ",\"timestamp\":%" PRId64
                                  ",\"operation\":", i ? "," : "", c.version, c.timestamp);
            ingest_buf_json_str(&b, c.operation ? c.operation : "");
            if (c.rows_known)
                ingest_buf_printf(&b, ",\"rows_added\":%" PRId64, c.rows);
            else
                ingest_buf_puts(&b, ",\"rows_added\":null");
            ingest_buf_printf(&b, ",\"files_added\":%" PRId64 ",\"bytes_added\":%" PRId64
                                  ",\"engine_info\":", c.files, c.bytes);
            if (c.engine)
                ingest_buf_json_str(&b, c.engine);
            else
                ingest_buf_puts(&b, "null");
            ingest_buf_printf(&b, ",\"lineage\":%s}", c.lineage ? c.lineage : "null");
            fputs(b.data, out);
            ingest_buf_free(&b);
        } else {
            char when[40], rows[24];
            ingest_fmt_ms(c.timestamp, when, sizeof when);
            if (c.rows_known)
                snprintf(rows, sizeof rows, "%" PRId64, c.rows);
            else
                snprintf(rows, sizeof rows, "?");
            fprintf(out, "%-8" PRId64 " %-24s %-18s %10s %6" PRId64 "  %s\n", c.version, when,
                    c.operation ? c.operation : "?", rows, c.files,
                    c.lineage ? c.lineage : "");
        }
        free(c.operation);
        free(c.engine);
        free(c.lineage);
    }
    if (json)
        fputs("]\n", out);
    free(versions);
    ingest_delta_close(tbl);
    return 0;
}

static void table_usage(FILE *f)
{
    fputs("usage: ingestd table info PATH [--json]\n"
          "       ingestd table history PATH [--json] [--limit N]\n"
          "\n"
          "  info     version, protocol, schema, partition columns, number of files,\n"
          "           rows and bytes, and the latest txn version per appId\n"
          "  history  the commits still in the log, newest first: time, operation,\n"
          "           rows and files added, and ingestd's lineage (pipeline, batch,\n"
          "           source files or offsets)\n"
          "  --json   one JSON document for scripts\n", f);
}

int ingest_table_cli(int argc, char **argv, FILE *out, FILE *errf)
{
    const char *cmd = NULL, *path = NULL;
    int json = 0;
    int64_t limit = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
            char *end;
            limit = strtoll(argv[++i], &end, 10);
            if (*end || end == argv[i] || limit <= 0) {
                fprintf(errf, "ingestd table: --limit wants a positive number, not '%s'\n",
                        argv[i]);
                return 2;
            }
        }
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            table_usage(out);
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(errf, "ingestd table: unknown option '%s'\n", argv[i]);
            table_usage(errf);
            return 2;
        } else if (!cmd)
            cmd = argv[i];
        else if (!path)
            path = argv[i];
        else {
            fprintf(errf, "ingestd table: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!cmd || !path || (strcmp(cmd, "info") != 0 && strcmp(cmd, "history") != 0)) {
        table_usage(errf);
        return 2;
    }
    if (strcmp(cmd, "info") == 0)
        return cmd_info(path, json, out, errf);
    return cmd_history(path, json, limit, out, errf);
}
