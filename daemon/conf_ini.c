/*
 * conf_ini.c - INI syntax for pipeline.conf (see conf_ini.h).
 *
 * Syntax, in the spirit of redis.conf and systemd units:
 *   [section] or [section argument]      ; argument: [expect valid_id]
 *   key = value                          ; whitespace around both is trimmed
 *   ; comment    # comment               ; whole-line comments
 *   key = value   ; inline comment       ; after whitespace, outside quotes
 *   key = "quoted ; value"               ; \" \\ \n \t escapes inside quotes
 *   key = ${ENV_VAR}/x                   ; expanded; undefined is an error; $$ is '$'
 * CRLF line ends and a UTF-8 byte-order mark are accepted.  Debian's libinih
 * reports no line numbers, which is why this reader is ours.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_ini.h"
#include "ingestd/error.h"

#define INI_MAX_FILE (4u << 20)   /* a config larger than this is a mistake */

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *q = realloc(*p, ncap * size);
    if (!q)
        return INGEST_ENOMEM;
    *p = q;
    *cap = ncap;
    return 0;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

static int valid_key(const char *k)
{
    if (!*k)
        return 0;
    for (; *k; k++)
        if (!isalnum((unsigned char)*k) && *k != '_' && *k != '-' && *k != '.')
            return 0;
    return 1;
}

/* Expands ${VAR} and $$ in s into out.  Returns 0 or an error reason. */
static const char *expand(const char *s, struct ingest_buf *out,
                          const char *(*getenv_fn)(const char *), char *name, size_t namelen)
{
    for (const char *p = s; *p; p++) {
        if (*p != '$') {
            ingest_buf_putc(out, *p);
            continue;
        }
        if (p[1] == '$') {
            ingest_buf_putc(out, '$');
            p++;
            continue;
        }
        if (p[1] != '{') {
            ingest_buf_putc(out, '$');
            continue;
        }
        const char *end = strchr(p + 2, '}');
        if (!end)
            return "unterminated ${ in value";
        size_t n = (size_t)(end - (p + 2));
        if (n == 0 || n >= namelen)
            return n ? "environment variable name too long" : "empty ${} in value";
        memcpy(name, p + 2, n);
        name[n] = '\0';
        for (size_t i = 0; i < n; i++)
            if (!isalnum((unsigned char)name[i]) && name[i] != '_')
                return "invalid environment variable name in ${...}";
        const char *v = getenv_fn(name);
        if (!v)
            return "undefined";
        ingest_buf_puts(out, v);
        p = end;
    }
    return NULL;
}

/* Splits the raw value into its text: handles quotes and inline comments.
 * Writes the result into out.  Returns NULL or a reason. */
static const char *unquote(char *raw, struct ingest_buf *out)
{
    char *v = trim(raw);
    if (*v == '"') {
        char *p = v + 1;
        for (; *p && *p != '"'; p++) {
            if (*p == '\\') {
                p++;
                switch (*p) {
                case 'n': ingest_buf_putc(out, '\n'); break;
                case 't': ingest_buf_putc(out, '\t'); break;
                case '"': case '\\': ingest_buf_putc(out, *p); break;
                case '$': ingest_buf_puts(out, "$$"); break;   /* expand() makes it '$' */
                case '\0': return "unterminated quoted value";
                default: return "unknown escape in quoted value (use \\\" \\\\ \\n \\t)";
                }
                continue;
            }
            ingest_buf_putc(out, *p);
        }
        if (*p != '"')
            return "unterminated quoted value";
        char *rest = trim(p + 1);
        if (*rest && *rest != ';' && *rest != '#')
            return "text after closing quote";
        return NULL;
    }
    /* Unquoted: a ';' or '#' preceded by whitespace starts a comment. */
    for (char *p = v; *p; p++) {
        if ((*p == ';' || *p == '#') && p > v && (p[-1] == ' ' || p[-1] == '\t')) {
            *p = '\0';
            break;
        }
    }
    ingest_buf_puts(out, trim(v));
    return NULL;
}

static int add_section(struct ini_file *f, const char *name, const char *arg, int line)
{
    if (grow((void **)&f->sections, &f->cap, f->n, sizeof *f->sections) < 0)
        return INGEST_ENOMEM;
    struct ini_section *s = &f->sections[f->n];
    memset(s, 0, sizeof *s);
    s->name = strdup(name);
    s->arg = arg ? strdup(arg) : NULL;
    s->line = line;
    s->bad = 0;
    f->n++;
    if (!s->name || (arg && !s->arg))
        return INGEST_ENOMEM;
    return 0;
}

static int add_entry(struct ini_section *s, const char *key, char *value, int line)
{
    if (grow((void **)&s->entries, &s->cap, s->n, sizeof *s->entries) < 0)
        return INGEST_ENOMEM;
    struct ini_entry *e = &s->entries[s->n];
    e->key = strdup(key);
    e->value = value;
    e->line = line;
    e->used = 0;
    e->bad = 0;
    s->n++;
    if (!e->key)
        return INGEST_ENOMEM;
    return 0;
}

/* A malformed header still opens a section: its keys land there, marked
 * bad, instead of being blamed on the section before it. */
static int add_bad_section(struct ini_file *f, int line)
{
    int rc = add_section(f, "", NULL, line);
    if (rc == 0)
        f->sections[f->n - 1].bad = 1;
    return rc;
}

static int parse_section(struct ini_file *f, char *line, int lineno,
                         struct ingest_conf_errors *errs)
{
    char *close = strchr(line, ']');
    if (!close) {
        ingest_conf_error(errs, f->path, lineno, "missing ']' in section header");
        return add_bad_section(f, lineno);
    }
    char *rest = trim(close + 1);
    if (*rest && *rest != ';' && *rest != '#') {
        ingest_conf_error(errs, f->path, lineno, "text after section header");
        return add_bad_section(f, lineno);
    }
    *close = '\0';
    char *inner = trim(line + 1);
    char *arg = inner + strcspn(inner, " \t");
    if (*arg) {
        *arg++ = '\0';
        arg = trim(arg);
    } else {
        arg = NULL;
    }
    if (!*inner || !valid_key(inner)) {
        ingest_conf_error(errs, f->path, lineno, "invalid section name '%s'", inner);
        return add_bad_section(f, lineno);
    }
    return add_section(f, inner, arg, lineno);
}

static int parse_pair(struct ini_file *f, char *line, int lineno,
                      const char *(*getenv_fn)(const char *), struct ingest_conf_errors *errs)
{
    char *eq = strchr(line, '=');
    if (!eq) {
        ingest_conf_error(errs, f->path, lineno, "expected 'key = value' or '[section]'");
        return 0;
    }
    *eq = '\0';
    char *key = trim(line);
    if (!valid_key(key)) {
        ingest_conf_error(errs, f->path, lineno, "invalid key '%s'", key);
        return 0;
    }
    if (f->n == 0) {
        ingest_conf_error(errs, f->path, lineno, "key '%s' outside of any [section]", key);
        return 0;
    }
    struct ingest_buf raw = INGEST_BUF_INIT, val = INGEST_BUF_INIT;
    char name[256];
    const char *why = unquote(eq + 1, &raw);
    if (!why)
        why = expand(raw.data ? raw.data : "", &val, getenv_fn, name, sizeof name);
    if (why) {
        if (strcmp(why, "undefined") == 0)
            ingest_conf_error(errs, f->path, lineno,
                              "%s: environment variable '%s' is not set", key, name);
        else
            ingest_conf_error(errs, f->path, lineno, "%s: %s", key, why);
        ingest_buf_free(&raw);
        ingest_buf_free(&val);
        /* Keep the key, marked bad, so it is not also reported as missing. */
        char *empty = strdup("");
        if (!empty || add_entry(&f->sections[f->n - 1], key, empty, lineno) < 0)
            return INGEST_ENOMEM;
        struct ini_section *s = &f->sections[f->n - 1];
        s->entries[s->n - 1].bad = 1;
        return 0;
    }
    int oom = raw.oom || val.oom;
    ingest_buf_free(&raw);
    if (oom) {
        ingest_buf_free(&val);
        return INGEST_ENOMEM;
    }
    int rc = add_entry(&f->sections[f->n - 1], key, ingest_buf_steal(&val), lineno);
    return rc;
}

struct ini_file *ini_parse(const char *path, const char *text, size_t len,
                           const char *(*getenv_fn)(const char *),
                           struct ingest_conf_errors *errs)
{
    struct ini_file *f = calloc(1, sizeof *f);
    char *copy = NULL;
    if (!f || !(f->path = strdup(path)))
        goto oom;
    if (!getenv_fn)
        getenv_fn = (const char *(*)(const char *))getenv;
    if (memchr(text, '\0', len)) {
        ingest_conf_error(errs, path, 0, "file contains NUL bytes: not a text config");
        return f;
    }
    if (!(copy = malloc(len + 1)))
        goto oom;
    memcpy(copy, text, len);
    copy[len] = '\0';
    char *p = copy;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    int lineno = 0;
    while (*p) {
        char *nl = strchr(p, '\n');
        char *next = nl ? nl + 1 : p + strlen(p);
        if (nl)
            *nl = '\0';
        lineno++;
        size_t n = strlen(p);
        if (n && p[n - 1] == '\r')
            p[n - 1] = '\0';
        char *line = trim(p);
        int rc = 0;
        if (*line == '\0' || *line == ';' || *line == '#')
            rc = 0;
        else if (*line == '[')
            rc = parse_section(f, line, lineno, errs);
        else
            rc = parse_pair(f, line, lineno, getenv_fn, errs);
        if (rc < 0)
            goto oom;
        p = next;
    }
    f->nlines = lineno;
    free(copy);
    return f;
oom:
    free(copy);
    ini_free(f);
    ingest_conf_error(errs, path, 0, "out of memory");
    return NULL;
}

struct ini_file *ini_read(const char *path, const char *(*getenv_fn)(const char *),
                          struct ingest_conf_errors *errs)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        ingest_conf_error(errs, path, 0, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct ingest_buf b = INGEST_BUF_INIT;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
        if (b.len + n > INI_MAX_FILE) {
            ingest_conf_error(errs, path, 0, "larger than %u bytes: not a config file",
                              INI_MAX_FILE);
            goto fail;
        }
        if (ingest_buf_append(&b, chunk, n) < 0) {
            ingest_conf_error(errs, path, 0, "out of memory");
            goto fail;
        }
    }
    if (ferror(fp)) {
        ingest_conf_error(errs, path, 0, "cannot read: %s", strerror(errno));
        goto fail;
    }
    fclose(fp);
    struct ini_file *f = ini_parse(path, b.data ? b.data : "", b.len, getenv_fn, errs);
    ingest_buf_free(&b);
    return f;
fail:
    fclose(fp);
    ingest_buf_free(&b);
    return NULL;
}

void ini_free(struct ini_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++) {
        struct ini_section *s = &f->sections[i];
        for (size_t j = 0; j < s->n; j++) {
            free(s->entries[j].key);
            free(s->entries[j].value);
        }
        free(s->entries);
        free(s->name);
        free(s->arg);
    }
    free(f->sections);
    free(f->path);
    free(f);
}

struct ini_entry *ini_find(const struct ini_section *s, const char *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->entries[i].key, key) == 0)
            return &s->entries[i];
    return NULL;
}
