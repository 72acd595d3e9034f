/*
 * conf_apply.c - the machinery that turns an INI section into a struct by
 * way of a key table: typed values, defaults, required and unknown keys,
 * and error placement (FILE:LINE of the key, else of the section header).
 * config.c decides which table applies to which section.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf_ini.h"
#include "conf_apply.h"
#include "ingestd/error.h"
#include "ingestd/strutil.h"

int conf_key_line(const struct ingest_conf_diag *d, const char *key)
{
    if (d->sec) {
        const struct ini_entry *e = key ? ini_find(d->sec, key) : NULL;
        return e ? e->line : d->sec->line;
    }
    return d->fallback_line;
}

void ingest_conf_diag_error(struct ingest_conf_diag *d, const char *key, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ingest_conf_error(d->errs, d->file, conf_key_line(d, key), "%s", msg);
}

void ingest_conf_diag_error_at(struct ingest_conf_diag *d, int line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ingest_conf_error(d->errs, d->file, line, "%s", msg);
}

size_t ingest_conf_diag_count(const struct ingest_conf_diag *d)
{
    return d->errs->count;
}

/* ---- tables -> structs ------------------------------------------------- */

static int is_string_type(enum ingest_conf_type t)
{
    return t == INGEST_CT_STRING || t == INGEST_CT_PATH || t == INGEST_CT_NAME ||
           t == INGEST_CT_LISTEN || t == INGEST_CT_CUSTOM;
}

void conf_free_table(const struct ingest_conf_key *keys, size_t n, void *base)
{
    if (!base)
        return;
    for (size_t i = 0; i < n; i++)
        if (is_string_type(keys[i].type)) {
            char **p = (char **)((char *)base + keys[i].offset);
            free(*p);
            *p = NULL;
        }
}

static int enum_index(const char *choices, const char *v)
{
    int idx = 0;
    size_t vlen = strlen(v);
    for (const char *p = choices; *p; idx++) {
        size_t n = strcspn(p, "|");
        if (n == vlen && strncasecmp(p, v, n) == 0)
            return idx;
        p += n;
        if (*p == '|')
            p++;
    }
    return -1;
}

int conf_valid_name(const char *s)
{
    if (!*s || strlen(s) > 64)
        return 0;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_' || *s == '-'))
            return 0;
    return 1;
}

/* Parses one value into base+key->offset.  0 or -1 (reason in err). */
static int set_value(const struct ingest_conf_key *k, const char *v, const char *basedir,
                     void *base, char *err, size_t errlen)
{
    void *dst = (char *)base + k->offset;
    int64_t n = 0;
    int rc = 0;
    if (!*v && (k->type != INGEST_CT_STRING || (k->flags & INGEST_CK_REQUIRED))) {
        snprintf(err, errlen, "empty value");
        return -1;
    }
    switch (k->type) {
    case INGEST_CT_STRING:
    case INGEST_CT_LISTEN:
    case INGEST_CT_NAME:
        if (k->type == INGEST_CT_LISTEN && ingest_conf_parse_listen(v, err, errlen) < 0)
            return -1;
        if (k->type == INGEST_CT_NAME && !conf_valid_name(v)) {
            snprintf(err, errlen, "'%s' is not a valid name (lowercase letters, digits, _ and -; "
                     "at most 64)", v);
            return -1;
        }
        free(*(char **)dst);
        *(char **)dst = strdup(v);
        return *(char **)dst ? 0 : (snprintf(err, errlen, "out of memory"), -1);
    case INGEST_CT_PATH:
        free(*(char **)dst);
        *(char **)dst = ingest_conf_abspath(basedir, v);
        return *(char **)dst ? 0 : (snprintf(err, errlen, "out of memory"), -1);
    case INGEST_CT_CUSTOM: {
        char *out = NULL;
        if (k->parse(v, basedir, &out, err, errlen) < 0)
            return -1;
        free(*(char **)dst);
        *(char **)dst = out;
        return 0;
    }
    case INGEST_CT_BOOL:
        return ingest_conf_parse_bool(v, (int *)dst, err, errlen) < 0 ? -1 : 0;
    case INGEST_CT_ENUM: {
        int idx = enum_index(k->choices, v);
        if (idx < 0) {
            snprintf(err, errlen, "'%s' is not one of %s", v, k->choices);
            return -1;
        }
        *(int *)dst = idx;
        return 0;
    }
    case INGEST_CT_INT:
        rc = ingest_conf_parse_int(v, &n, err, errlen);
        break;
    case INGEST_CT_SIZE:
        rc = ingest_conf_parse_size(v, &n, err, errlen);
        break;
    case INGEST_CT_DURATION:
        rc = ingest_conf_parse_duration(v, &n, err, errlen);
        break;
    }
    if (rc < 0)
        return -1;
    if (n < k->min || (k->max && n > k->max)) {
        char lo[32], hi[32];
        snprintf(lo, sizeof lo, "%lld", (long long)k->min);
        snprintf(hi, sizeof hi, "%lld", (long long)k->max);
        if (k->type == INGEST_CT_SIZE)
            snprintf(err, errlen, "'%s' is out of range (%s..%s bytes)", v, lo,
                     k->max ? hi : "");
        else if (k->type == INGEST_CT_DURATION)
            snprintf(err, errlen, "'%s' is out of range (%sms..%sms)", v, lo, k->max ? hi : "");
        else
            snprintf(err, errlen, "'%s' is out of range (%s..%s)", v, lo, k->max ? hi : "");
        return -1;
    }
    *(int64_t *)dst = n;
    return 0;
}

static const char *suggest(const char *key, const struct ingest_conf_key *keys, size_t n)
{
    const char *best = NULL;
    size_t bestd = 3;
    for (size_t i = 0; i < n; i++) {
        size_t d = ingest_edit_distance(key, keys[i].name);
        if (d < bestd) {
            bestd = d;
            best = keys[i].name;
        }
    }
    return best;
}

/*
 * Fills base from the section's entries (sec may be NULL: defaults only).
 * Marks claimed entries used.
 */
void conf_apply_table(struct ingest_conf_diag *d, const struct ingest_conf_key *keys,
                        size_t n, void *base, const char *basedir, const char *secname)
{
    char err[512];
    for (size_t i = 0; i < n; i++) {
        const struct ingest_conf_key *k = &keys[i];
        struct ini_entry *e = d->sec ? ini_find(d->sec, k->name) : NULL;
        if (e && e->bad) {
            e->used = 1;    /* its error was reported by the INI reader */
        } else if (e) {
            e->used = 1;
            if (set_value(k, e->value, basedir, base, err, sizeof err) < 0)
                ingest_conf_error(d->errs, d->file, e->line, "%s: %s", k->name, err);
        } else if (k->flags & INGEST_CK_REQUIRED) {
            if (d->sec)
                ingest_conf_error(d->errs, d->file, d->sec->line,
                                  "[%s] is missing required key '%s'", secname, k->name);
        } else if (k->def) {
            if (set_value(k, k->def, basedir, base, err, sizeof err) < 0)
                ingest_conf_error(d->errs, d->file, conf_key_line(d, NULL),
                                  "internal: bad default for %s: %s", k->name, err);
        }
    }
}

void conf_report_unknown(struct ingest_conf_diag *d, const struct ingest_conf_key *keys,
                           size_t n, const char *secname)
{
    if (!d->sec)
        return;
    for (size_t i = 0; i < d->sec->n; i++) {
        const struct ini_entry *e = &d->sec->entries[i];
        if (e->used)
            continue;
        const char *s = suggest(e->key, keys, n);
        if (s)
            ingest_conf_error(d->errs, d->file, e->line,
                              "unknown key '%s' in [%s] (did you mean '%s'?)", e->key, secname,
                              s);
        else
            ingest_conf_error(d->errs, d->file, e->line, "unknown key '%s' in [%s]", e->key,
                              secname);
    }
}

