/*
 * config.c - loads pipeline.conf files into struct ingest_conf.
 *
 * Per file: conf_ini.c reads the syntax; each section is matched with its
 * key table (conf_tables.c, or the connector's for [source]) and parsed by
 * conf_apply.c; then the pipeline's cross-key checks run (expressions parse,
 * the columns they use exist, quarantine has a table, ...).  Across files:
 * pipeline names and checkpoints are unique and [metrics] appears at most
 * once.  Every error is collected and nothing is returned unless all files
 * are clean, which is what lets SIGHUP keep the old config on a bad edit.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf_apply.h"
#include "conf_tables.h"
#include "ingestd/error.h"
#include "ingestd/expr.h"
#include "ingestd/source.h"
#include "ingestd/strutil.h"

struct load {
    struct ingest_conf_errors *errs;
    const char *(*getenv_fn)(const char *);
    struct ingest_conf *conf;
};

/* ---- freeing ----------------------------------------------------------- */

static void free_pipeline(struct ingest_pipeline_conf *pc)
{
    if (!pc)
        return;
    for (size_t i = 0; i < conf_nsections; i++)
        if (strcmp(conf_sections[i].name, "pipeline") == 0)
            conf_free_table(conf_sections[i].keys, conf_sections[i].nkeys, pc);
    const struct ingest_source_ops *ops = pc->source.ops;
    if (ops && pc->source.conf) {
        if (ops->conf_free)
            ops->conf_free(pc->source.conf);
        conf_free_table(ops->conf_keys, ops->conf_nkeys, pc->source.conf);
    }
    free(pc->source.conf);
    for (size_t i = 0; i < pc->source.nprops; i++) {
        free(pc->source.props[i].key);
        free(pc->source.props[i].value);
    }
    free(pc->source.props);
    for (size_t i = 0; i < pc->ncolumns; i++)
        free(pc->columns[i].name);
    free(pc->columns);
    free(pc->rescued_column);
    for (size_t i = 0; i < pc->ntransforms; i++) {
        free(pc->transforms[i].column);
        free(pc->transforms[i].expr);
    }
    free(pc->transforms);
    for (size_t i = 0; i < pc->nexpects; i++) {
        free(pc->expects[i].name);
        free(pc->expects[i].condition);
    }
    free(pc->expects);
    const struct conf_section_def *sink = conf_section_find("sink");
    conf_free_table(sink->keys, sink->nkeys, &pc->sink);
    for (size_t i = 0; i < pc->sink.npartition_cols; i++)
        free(pc->sink.partition_cols[i]);
    free(pc->sink.partition_cols);
    free(pc->file);
    free(pc->basedir);
    ini_free(pc->ini);
    free(pc);
}

void ingest_conf_free(struct ingest_conf *conf)
{
    if (!conf)
        return;
    for (size_t i = 0; i < conf->npipelines; i++)
        free_pipeline(conf->pipelines[i]);
    free(conf->pipelines);
    free(conf->metrics_listen);
    free(conf->metrics_file);
    free(conf);
}

/* ---- sections of one pipeline ------------------------------------------- */

static int valid_column_name(const char *s)
{
    if (!(isalpha((unsigned char)*s) || *s == '_'))
        return 0;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_'))
            return 0;
    return strlen(s) <= 255;
}

static void load_source(struct load *ld, struct ingest_pipeline_conf *pc,
                        struct ini_section *sec)
{
    struct ingest_conf_diag d = { ld->errs, pc->file, sec, pc->line };
    struct ini_entry *type = ini_find(sec, "type");
    pc->source.line = sec->line;
    if (!type) {
        ingest_conf_error(ld->errs, pc->file, sec->line,
                          "[source] is missing required key 'type' (directory or kafka)");
        return;
    }
    type->used = 1;
    const struct ingest_source_ops *ops = ingest_source_lookup(type->value);
    if (!ops) {
        struct ingest_buf names = INGEST_BUF_INIT;
        for (size_t i = 0; ingest_sources[i]; i++)
            ingest_buf_printf(&names, "%s%s", i ? ", " : "", ingest_sources[i]->name);
        ingest_conf_error(ld->errs, pc->file, type->line,
                          "type: unknown source type '%s' (known: %s)", type->value,
                          names.data ? names.data : "");
        ingest_buf_free(&names);
        return;
    }
    pc->source.ops = ops;
    pc->source.conf = calloc(1, ops->conf_size);
    if (!pc->source.conf) {
        ingest_conf_error(ld->errs, pc->file, sec->line, "out of memory");
        return;
    }
    conf_apply_table(&d, ops->conf_keys, ops->conf_nkeys, pc->source.conf, pc->basedir,
                     "source");
    size_t plen = ops->passthrough_prefix ? strlen(ops->passthrough_prefix) : 0;
    for (size_t i = 0; i < sec->n; i++) {
        struct ini_entry *e = &sec->entries[i];
        if (e->used || !plen || strncmp(e->key, ops->passthrough_prefix, plen) != 0)
            continue;
        if (e->bad) {
            e->used = 1;
            continue;
        }
        e->used = 1;
        if (e->key[plen] == '\0') {
            ingest_conf_error(ld->errs, pc->file, e->line, "empty property name after '%s'",
                              ops->passthrough_prefix);
            continue;
        }
        struct ingest_conf_kv *p = realloc(pc->source.props,
                                           (pc->source.nprops + 1) * sizeof *p);
        if (!p)
            continue;
        pc->source.props = p;
        p[pc->source.nprops].key = strdup(e->key + plen);
        p[pc->source.nprops].value = strdup(e->value);
        p[pc->source.nprops].line = e->line;
        pc->source.nprops++;
    }
    /* Keys of the other connectors get a clearer message than "unknown". */
    for (size_t i = 0; i < sec->n; i++) {
        struct ini_entry *e = &sec->entries[i];
        for (size_t j = 0; !e->used && ingest_sources[j]; j++) {
            const struct ingest_source_ops *o = ingest_sources[j];
            int theirs = o->passthrough_prefix &&
                         strncmp(e->key, o->passthrough_prefix, strlen(o->passthrough_prefix)) == 0;
            for (size_t k = 0; !theirs && k < o->conf_nkeys; k++)
                theirs = strcmp(o->conf_keys[k].name, e->key) == 0;
            if (theirs && o != ops) {
                ingest_conf_error(ld->errs, pc->file, e->line,
                                  "key '%s' belongs to type = %s, not type = %s", e->key,
                                  o->name, ops->name);
                e->used = 1;
            }
        }
    }
    conf_report_unknown(&d, ops->conf_keys, ops->conf_nkeys, "source");
    if (ops->conf_check)
        ops->conf_check(pc, &d);
}

static void load_schema(struct load *ld, struct ingest_pipeline_conf *pc,
                        struct ini_section *sec)
{
    char err[512];
    pc->has_schema = 1;
    pc->columns = calloc(sec->n ? sec->n : 1, sizeof *pc->columns);
    if (!pc->columns)
        return;
    for (size_t i = 0; i < sec->n; i++) {
        struct ini_entry *e = &sec->entries[i];
        e->used = 1;
        if (e->bad)
            continue;
        if (!valid_column_name(e->key)) {
            ingest_conf_error(ld->errs, pc->file, e->line,
                              "column name '%s': use letters, digits and _, not starting with a "
                              "digit", e->key);
            continue;
        }
        int dup = 0;
        for (size_t j = 0; j < pc->ncolumns; j++)
            if (strcasecmp(pc->columns[j].name, e->key) == 0) {
                ingest_conf_error(ld->errs, pc->file, e->line,
                                  "column '%s' declared twice (first at line %d; Delta column "
                                  "names are case-insensitive)", e->key, pc->columns[j].line);
                dup = 1;
            }
        if (dup)
            continue;
        struct ingest_column_conf *col = &pc->columns[pc->ncolumns];
        if (ingest_conf_parse_coltype(e->value, col, err, sizeof err) < 0) {
            ingest_conf_error(ld->errs, pc->file, e->line, "column '%s': %s", e->key, err);
            continue;
        }
        col->name = strdup(e->key);
        col->line = e->line;
        pc->ncolumns++;
    }
    if (pc->ncolumns == 0 && sec->n == 0)
        ingest_conf_error(ld->errs, pc->file, sec->line,
                          "[schema] declares no column (remove it to infer the schema)");
}

static void load_policy(struct load *ld, struct ingest_pipeline_conf *pc,
                        struct ini_section *sec)
{
    const struct conf_section_def *def = conf_section_find("schema_policy");
    struct ingest_policy_keys k = { 0, NULL };
    struct ingest_conf_diag d = { ld->errs, pc->file, sec, pc->line };
    conf_apply_table(&d, def->keys, def->nkeys, &k, pc->basedir, "schema_policy");
    conf_report_unknown(&d, def->keys, def->nkeys, "schema_policy");
    pc->evolution = k.evolution;
    pc->rescued_column = k.rescued_column;
    if (pc->rescued_column && !valid_column_name(pc->rescued_column))
        ingest_conf_diag_error(&d, "rescued_column", "rescued_column: '%s' is not a valid "
                               "column name", pc->rescued_column);
    if (!pc->rescued_column && pc->evolution == INGEST_EVOLVE_RESCUE)
        pc->rescued_column = strdup("_rescued_data");
}

/* Known column names for reference checks; NULL list when schema is inferred. */
struct colset {
    const char **names;
    size_t n, cap;
};

static void colset_add(struct colset *cs, const char *name)
{
    if (cs->n == cs->cap) {
        size_t cap = cs->cap ? cs->cap * 2 : 16;
        const char **p = realloc(cs->names, cap * sizeof *p);
        if (!p)
            return;
        cs->names = p;
        cs->cap = cap;
    }
    cs->names[cs->n++] = name;
}

static int colset_has(const struct colset *cs, const char *name)
{
    /* ingest_expr_columns gives the top-level column of a.b references. */
    for (size_t i = 0; i < cs->n; i++)
        if (strcasecmp(cs->names[i], name) == 0)
            return 1;
    return 0;
}

struct refcheck {
    const struct colset *cs;
    const char *missing;
};

static int refcheck_cb(void *ud, const char *name)
{
    struct refcheck *rc = ud;
    if (!colset_has(rc->cs, name)) {
        rc->missing = name;
        return 1;   /* stop: one unknown column is enough to report */
    }
    return 0;
}

/* Parses an expression and checks its columns; reports at `line`. */
static struct ingest_expr *check_expr(struct load *ld, struct ingest_pipeline_conf *pc,
                                      const char *what, const char *text, int line,
                                      const struct colset *cs)
{
    char err[512];
    struct ingest_expr *e = ingest_expr_parse(text, err, sizeof err);
    if (!e) {
        ingest_conf_error(ld->errs, pc->file, line, "%s: %s", what, err);
        return NULL;
    }
    if (pc->has_schema) {
        struct refcheck rc = { cs, NULL };
        ingest_expr_columns(e, refcheck_cb, &rc);
        if (rc.missing)
            ingest_conf_error(ld->errs, pc->file, line,
                              "%s: unknown column '%s' (not in [schema] or an earlier "
                              "[transform])", what, rc.missing);
    }
    return e;
}

static void load_transforms(struct load *ld, struct ingest_pipeline_conf *pc,
                            struct ini_section *sec, struct colset *cs)
{
    pc->transforms = calloc(sec->n ? sec->n : 1, sizeof *pc->transforms);
    if (!pc->transforms)
        return;
    for (size_t i = 0; i < sec->n; i++) {
        struct ini_entry *e = &sec->entries[i];
        char what[300];
        e->used = 1;
        if (e->bad)
            continue;
        snprintf(what, sizeof what, "transform '%s'", e->key);
        if (!valid_column_name(e->key)) {
            ingest_conf_error(ld->errs, pc->file, e->line,
                              "column name '%s': use letters, digits and _", e->key);
            continue;
        }
        struct ingest_expr *x = check_expr(ld, pc, what, e->value, e->line, cs);
        ingest_expr_free(x);
        struct ingest_transform_conf *t = &pc->transforms[pc->ntransforms++];
        t->column = strdup(e->key);
        t->expr = strdup(e->value);
        t->line = e->line;
        colset_add(cs, t->column);
    }
}

static void load_expect(struct load *ld, struct ingest_pipeline_conf *pc,
                        struct ini_section *sec)
{
    const struct conf_section_def *def = conf_section_find("expect");
    struct ingest_conf_diag d = { ld->errs, pc->file, sec, pc->line };
    for (size_t i = 0; i < pc->nexpects; i++)
        if (strcmp(pc->expects[i].name, sec->arg) == 0) {
            ingest_conf_error(ld->errs, pc->file, sec->line,
                              "duplicate [expect %s] (first at line %d)", sec->arg,
                              pc->expects[i].line);
            return;
        }
    struct ingest_expect_keys k = { NULL, 0 };
    conf_apply_table(&d, def->keys, def->nkeys, &k, pc->basedir, "expect");
    conf_report_unknown(&d, def->keys, def->nkeys, "expect");
    struct ingest_expect_conf *x = realloc(pc->expects, (pc->nexpects + 1) * sizeof *x);
    if (!x) {
        free(k.condition);
        return;
    }
    pc->expects = x;
    x = &pc->expects[pc->nexpects++];
    x->name = strdup(sec->arg);
    x->condition = k.condition;
    x->action = k.action;
    x->line = sec->line;
}

/* Known not to be true/false for a record?  A bare column is judged by its
 * declared type; what depends on the data is given the benefit of the doubt. */
static int is_predicate(const struct ingest_pipeline_conf *pc, const struct ingest_expr *e)
{
    if (ingest_expr_is_boolean(e))
        return 1;
    if (e->kind == INGEST_EXPR_COLUMN && e->u.col.nparts == 1) {
        for (size_t i = 0; i < pc->ncolumns; i++)
            if (strcasecmp(pc->columns[i].name, e->u.col.parts[0]) == 0)
                return pc->columns[i].type == INGEST_TYPE_BOOLEAN;
        return 1;   /* a transform's column: its type is known only at run time */
    }
    if (e->kind == INGEST_EXPR_UNARY && e->op != INGEST_EXPR_OP_NOT)
        return 0;   /* -x, +x */
    if (e->kind == INGEST_EXPR_BINARY) {
        switch (e->op) {
        case INGEST_EXPR_OP_ADD: case INGEST_EXPR_OP_SUB: case INGEST_EXPR_OP_MUL:
        case INGEST_EXPR_OP_DIV: case INGEST_EXPR_OP_MOD: case INGEST_EXPR_OP_CONCAT:
            return 0;
        default:
            break;
        }
    }
    return e->type.id == INGEST_EXPR_T_UNKNOWN;
}

static void check_expects(struct load *ld, struct ingest_pipeline_conf *pc,
                          struct ini_file *f, const struct colset *cs)
{
    for (size_t i = 0; i < pc->nexpects; i++) {
        struct ingest_expect_conf *x = &pc->expects[i];
        const struct ini_section *sec = NULL;
        for (size_t j = 0; j < f->n; j++)
            if (f->sections[j].line == x->line)
                sec = &f->sections[j];
        struct ingest_conf_diag d = { ld->errs, pc->file, sec, x->line };
        char what[300];
        snprintf(what, sizeof what, "condition of [expect %s]", x->name);
        if (x->condition) {
            struct ingest_expr *e = check_expr(ld, pc, what, x->condition,
                                               conf_key_line(&d, "condition"), cs);
            if (e && !is_predicate(pc, e))
                ingest_conf_diag_error(&d, "condition", "%s: '%s' is not a predicate (it must "
                                       "be true or false for a record)", what, x->condition);
            ingest_expr_free(e);
        }
        if (x->action == INGEST_ACT_QUARANTINE && !pc->sink.quarantine)
            ingest_conf_diag_error(&d, "action", "action = quarantine needs [sink] quarantine "
                                   "= PATH (the quarantine table)");
    }
}

static void load_sink(struct load *ld, struct ingest_pipeline_conf *pc,
                      struct ini_section *sec, const struct colset *cs)
{
    const struct conf_section_def *def = conf_section_find("sink");
    struct ingest_conf_diag d = { ld->errs, pc->file, sec, pc->line };
    conf_apply_table(&d, def->keys, def->nkeys, &pc->sink, pc->basedir, "sink");
    conf_report_unknown(&d, def->keys, def->nkeys, "sink");
    if (pc->sink.path && pc->checkpoint && strcmp(pc->sink.path, pc->checkpoint) == 0)
        ingest_conf_diag_error(&d, "path", "path: the table and the checkpoint must be "
                               "different directories");
    if (pc->sink.quarantine && pc->sink.path && strcmp(pc->sink.quarantine, pc->sink.path) == 0)
        ingest_conf_diag_error(&d, "quarantine", "quarantine: must be another table than path");
    if (!pc->sink.partition_by)
        return;
    char *list = strdup(pc->sink.partition_by), *save = NULL;
    if (!list)
        return;
    for (char *c = strtok_r(list, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
        while (*c == ' ' || *c == '\t')
            c++;
        size_t n = strlen(c);
        while (n && (c[n - 1] == ' ' || c[n - 1] == '\t'))
            c[--n] = '\0';
        if (!valid_column_name(c)) {
            ingest_conf_diag_error(&d, "partition_by", "partition_by: '%s' is not a column name",
                                   c);
            continue;
        }
        if (pc->has_schema && !colset_has(cs, c)) {
            ingest_conf_diag_error(&d, "partition_by", "partition_by: unknown column '%s' (not "
                                   "in [schema] or [transform])", c);
            continue;
        }
        int dup = 0;
        for (size_t i = 0; i < pc->sink.npartition_cols; i++)
            dup |= strcasecmp(pc->sink.partition_cols[i], c) == 0;
        if (dup) {
            ingest_conf_diag_error(&d, "partition_by", "partition_by: '%s' listed twice", c);
            continue;
        }
        char **p = realloc(pc->sink.partition_cols,
                           (pc->sink.npartition_cols + 1) * sizeof *p);
        if (!p)
            break;
        pc->sink.partition_cols = p;
        p[pc->sink.npartition_cols++] = strdup(c);
    }
    free(list);
    if (pc->sink.npartition_cols == 0)
        ingest_conf_diag_error(&d, "partition_by", "partition_by: no column given");
}

/* ---- one file ------------------------------------------------------------ */

static char *dir_of(const char *path)
{
    char cwd[4096];
    const char *slash = strrchr(path, '/');
    struct ingest_buf b = INGEST_BUF_INIT;
    if (path[0] != '/') {
        if (!getcwd(cwd, sizeof cwd))
            return NULL;
        ingest_buf_puts(&b, cwd);
        ingest_buf_putc(&b, '/');
    }
    if (slash)
        ingest_buf_append(&b, path, (size_t)(slash - path) + 1);
    if (b.oom) {
        ingest_buf_free(&b);
        return NULL;
    }
    char *abs = ingest_conf_abspath("/", b.data);
    ingest_buf_free(&b);
    return abs;
}

enum { SEC_PIPELINE, SEC_SOURCE, SEC_SCHEMA, SEC_POLICY, SEC_TRANSFORM, SEC_EXPECT, SEC_SINK,
       SEC_METRICS, SEC_COUNT };

static int section_index(const char *name)
{
    static const char *const names[SEC_COUNT] = { "pipeline", "source", "schema",
        "schema_policy", "transform", "expect", "sink", "metrics" };
    for (int i = 0; i < SEC_COUNT; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

static void check_duplicate_keys(struct load *ld, const char *file, struct ini_section *s)
{
    for (size_t j = 1; j < s->n; j++)
        for (size_t i = 0; i < j; i++)
            if (strcmp(s->entries[i].key, s->entries[j].key) == 0) {
                ingest_conf_error(ld->errs, file, s->entries[j].line,
                                  "duplicate key '%s' in [%s] (first at line %d)",
                                  s->entries[j].key, s->name, s->entries[i].line);
                s->entries[j].used = 1;
                break;
            }
}

/* Sorts sections by kind; reports unknown and duplicate sections. */
static void classify(struct load *ld, struct ini_file *f, struct ini_section *by[SEC_COUNT])
{
    for (size_t i = 0; i < f->n; i++) {
        struct ini_section *s = &f->sections[i];
        if (s->bad)
            continue;   /* reported by the INI reader */
        int idx = section_index(s->name);
        if (idx < 0) {
            const char *best = NULL;
            size_t bestd = 3;
            for (size_t j = 0; j < conf_nsections; j++) {
                size_t dd = ingest_edit_distance(s->name, conf_sections[j].name);
                if (dd < bestd) {
                    bestd = dd;
                    best = conf_sections[j].name;
                }
            }
            if (best)
                ingest_conf_error(ld->errs, f->path, s->line,
                                  "unknown section [%s] (did you mean [%s]?)", s->name, best);
            else
                ingest_conf_error(ld->errs, f->path, s->line, "unknown section [%s]", s->name);
            continue;
        }
        check_duplicate_keys(ld, f->path, s);
        if (idx == SEC_EXPECT) {
            if (!s->arg)
                ingest_conf_error(ld->errs, f->path, s->line,
                                  "[expect] needs a name: [expect NAME]");
            else if (!conf_valid_name(s->arg))
                ingest_conf_error(ld->errs, f->path, s->line,
                                  "expectation name '%s': use lowercase letters, digits, _ and -",
                                  s->arg);
            else
                by[SEC_EXPECT] = s;   /* marks "has expectations"; all are walked later */
            continue;
        }
        if (s->arg) {
            ingest_conf_error(ld->errs, f->path, s->line, "[%s] takes no name (found '%s')",
                              s->name, s->arg);
            continue;
        }
        if (by[idx]) {
            ingest_conf_error(ld->errs, f->path, s->line,
                              "duplicate section [%s] (first at line %d; one file describes one "
                              "pipeline)", s->name, by[idx]->line);
            continue;
        }
        by[idx] = s;
    }
}

static void load_metrics(struct load *ld, struct ini_file *f, struct ini_section *sec)
{
    const struct conf_section_def *def = conf_section_find("metrics");
    struct ingest_conf_diag d = { ld->errs, f->path, sec, sec->line };
    struct ingest_metrics_conf m = { NULL };
    if (ld->conf->metrics_file) {
        ingest_conf_error(ld->errs, f->path, sec->line,
                          "[metrics] is already given in %s:%d (it belongs to the process: one "
                          "file at most)", ld->conf->metrics_file, ld->conf->metrics_line);
        return;
    }
    conf_apply_table(&d, def->keys, def->nkeys, &m, "/", "metrics");
    conf_report_unknown(&d, def->keys, def->nkeys, "metrics");
    ld->conf->metrics_listen = m.listen;
    ld->conf->metrics_file = strdup(f->path);
    ld->conf->metrics_line = sec->line;
}

static int add_pipeline(struct ingest_conf *conf, struct ingest_pipeline_conf *pc)
{
    struct ingest_pipeline_conf **p = realloc(conf->pipelines,
                                              (conf->npipelines + 1) * sizeof *p);
    if (!p)
        return INGEST_ENOMEM;
    conf->pipelines = p;
    p[conf->npipelines++] = pc;
    return 0;
}

/* FNV-1a over every section and entry: a reload compares these to tell an
 * unchanged pipeline from one that must restart. */
static uint64_t fingerprint(const struct ini_file *f)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < f->n; i++) {
        const struct ini_section *s = &f->sections[i];
        const char *parts[] = { "[", s->name, " ", s->arg ? s->arg : "", "]" };
        for (size_t k = 0; k < 5; k++)
            for (const char *p = parts[k]; *p; p++)
                h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        for (size_t j = 0; j < s->n; j++)
            for (const char *kv[] = { s->entries[j].key, "=", s->entries[j].value, "\n" },
                 **q = kv; q < kv + 4; q++)
                for (const char *p = *q; *p; p++)
                    h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    }
    return h;
}

/* Takes ownership of f: the pipeline keeps it (so later checks such as the
 * --check probe can name FILE:LINE without reading the file again), or it
 * is freed here. */
static void load_file(struct load *ld, struct ini_file *f)
{
    struct ini_section *by[SEC_COUNT] = { 0 };
    classify(ld, f, by);
    if (by[SEC_METRICS])
        load_metrics(ld, f, by[SEC_METRICS]);
    int any = 0;
    for (int i = 0; i < SEC_COUNT; i++)
        any |= i != SEC_METRICS && by[i] != NULL;
    if (!any) {
        if (!by[SEC_METRICS])
            ingest_conf_error(ld->errs, f->path, 0, "no [pipeline] section: nothing to run");
        ini_free(f);
        return;
    }
    int eof_line = f->nlines > 0 ? f->nlines : 1;
    struct ingest_pipeline_conf *pc = calloc(1, sizeof *pc);
    if (!pc || !(pc->file = strdup(f->path)) || !(pc->basedir = dir_of(f->path))) {
        ingest_conf_error(ld->errs, f->path, 0, "out of memory");
        free_pipeline(pc);
        ini_free(f);
        return;
    }
    pc->ini = f;
    pc->line = by[SEC_PIPELINE] ? by[SEC_PIPELINE]->line : eof_line;
    pc->fingerprint = fingerprint(f);
    static const char *const required[] = { [SEC_PIPELINE] = "pipeline",
                                            [SEC_SOURCE] = "source", [SEC_SINK] = "sink" };
    for (int i = 0; i <= SEC_SINK; i++)
        if (i < (int)(sizeof required / sizeof required[0]) && required[i] && !by[i])
            ingest_conf_error(ld->errs, f->path, eof_line, "missing required section [%s]",
                              required[i]);

    const struct conf_section_def *pdef = conf_section_find("pipeline");
    struct ingest_conf_diag d = { ld->errs, f->path, by[SEC_PIPELINE], pc->line };
    conf_apply_table(&d, pdef->keys, pdef->nkeys, pc, pc->basedir, "pipeline");
    conf_report_unknown(&d, pdef->keys, pdef->nkeys, "pipeline");
    if (by[SEC_SOURCE])
        load_source(ld, pc, by[SEC_SOURCE]);
    if (by[SEC_SCHEMA])
        load_schema(ld, pc, by[SEC_SCHEMA]);
    load_policy(ld, pc, by[SEC_POLICY]);

    struct colset cs = { NULL, 0, 0 };
    for (size_t i = 0; i < pc->ncolumns; i++)
        colset_add(&cs, pc->columns[i].name);
    if (pc->rescued_column)
        colset_add(&cs, pc->rescued_column);
    if (by[SEC_TRANSFORM])
        load_transforms(ld, pc, by[SEC_TRANSFORM], &cs);
    if (by[SEC_SINK])
        load_sink(ld, pc, by[SEC_SINK], &cs);
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->sections[i].name, "expect") == 0 && f->sections[i].arg &&
            conf_valid_name(f->sections[i].arg))
            load_expect(ld, pc, &f->sections[i]);
    check_expects(ld, pc, f, &cs);
    free(cs.names);
    if (add_pipeline(ld->conf, pc) < 0) {
        ingest_conf_error(ld->errs, f->path, 0, "out of memory");
        free_pipeline(pc);
    }
}

static void check_across_files(struct load *ld)
{
    struct ingest_conf *c = ld->conf;
    for (size_t j = 1; j < c->npipelines; j++)
        for (size_t i = 0; i < j; i++) {
            struct ingest_pipeline_conf *a = c->pipelines[i], *b = c->pipelines[j];
            if (a->name && b->name && strcmp(a->name, b->name) == 0)
                ingest_conf_error(ld->errs, b->file, b->line,
                                  "pipeline name '%s' is already used by %s:%d", b->name,
                                  a->file, a->line);
            else if (a->checkpoint && b->checkpoint && strcmp(a->checkpoint, b->checkpoint) == 0)
                ingest_conf_error(ld->errs, b->file, b->line,
                                  "checkpoint %s is already used by pipeline '%s' (%s:%d)",
                                  b->checkpoint, a->name ? a->name : "?", a->file, a->line);
        }
}

static int finish(struct load *ld, size_t errors_before, struct ingest_conf **out)
{
    if (ld->errs->count == errors_before && ld->conf->npipelines == 0)
        ingest_conf_error(ld->errs, "ingestd", 0, "no pipeline in any config file");
    if (ld->errs->count > errors_before) {
        ingest_conf_free(ld->conf);
        return INGEST_ECONFIG;
    }
    *out = ld->conf;
    return 0;
}

/* The same file twice would define its pipeline twice: say so plainly. */
static int given_twice(const char *const *files, size_t i, struct ingest_conf_errors *errs)
{
    char *me = realpath(files[i], NULL);
    int dup = 0;
    for (size_t j = 0; me && j < i && !dup; j++) {
        char *other = realpath(files[j], NULL);
        dup = other && strcmp(me, other) == 0;
        free(other);
    }
    free(me);
    if (dup)
        ingest_conf_error(errs, files[i], 0, "given twice with --config");
    return dup;
}

/* Loads `nfiles` files, or, with text != NULL, one in-memory file. */
static int load_all(const char *const *files, size_t nfiles, const char *text,
                    const struct ingest_conf_load_opts *opts, struct ingest_conf **out,
                    struct ingest_conf_errors *errs)
{
    struct load ld = { errs, opts ? opts->getenv_fn : NULL, calloc(1, sizeof(struct ingest_conf)) };
    size_t before = errs->count;
    *out = NULL;
    if (!ld.conf)
        return INGEST_ENOMEM;
    for (size_t i = 0; i < nfiles; i++) {
        if (!text && given_twice(files, i, errs))
            continue;
        struct ini_file *f = text ? ini_parse(files[i], text, strlen(text), ld.getenv_fn, errs)
                                  : ini_read(files[i], ld.getenv_fn, errs);
        if (f)
            load_file(&ld, f);
    }
    check_across_files(&ld);
    return finish(&ld, before, out);
}

int ingest_conf_load(const char *const *files, size_t nfiles,
                     const struct ingest_conf_load_opts *opts,
                     struct ingest_conf **out, struct ingest_conf_errors *errs)
{
    return load_all(files, nfiles, NULL, opts, out, errs);
}

int ingest_conf_load_text(const char *name, const char *text,
                          const struct ingest_conf_load_opts *opts,
                          struct ingest_conf **out, struct ingest_conf_errors *errs)
{
    const char *one[] = { name };
    return load_all(one, 1, text, opts, out, errs);
}
