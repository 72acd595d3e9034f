/*
 * metrics.c - Prometheus registry and text exposition (see metrics.h).
 *
 * Values are doubles stored as their bit patterns in atomic 64-bit words:
 * adds are a compare-and-swap loop, which keeps counters exact up to 2^53
 * and lets worker threads update without a lock.  The family and series
 * lists only change on the loop thread, which is also the only reader of
 * their structure.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingestd/metrics.h"

struct ingest_series {
    struct ingest_series *next;
    const struct ingest_metric *family;   /* histogram bucket bounds */
    char **values;
    _Atomic uint64_t bits;          /* counter/gauge value; histogram sum */
    _Atomic uint64_t *counts;       /* histogram: per bucket (non-cumulative) + overflow */
    _Atomic uint64_t count;         /* histogram observations */
};

struct ingest_metric {
    struct ingest_metric *next;
    char *name, *help;
    enum ingest_metric_type type;
    char **labels;
    size_t nlabels;
    double *buckets;
    size_t nbuckets;
    struct ingest_series *series, **tail;
};

struct ingest_metrics {
    struct ingest_metric *families, **tail;
};

static double from_bits(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

static uint64_t to_bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

struct ingest_metrics *ingest_metrics_new(void)
{
    struct ingest_metrics *m = calloc(1, sizeof *m);
    if (m)
        m->tail = &m->families;
    return m;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

static void series_free(struct ingest_metric *f, struct ingest_series *s)
{
    free_strv(s->values, f->nlabels);
    free(s->counts);
    free(s);
}

static void family_free(struct ingest_metric *f)
{
    struct ingest_series *s = f->series;
    while (s) {
        struct ingest_series *next = s->next;
        series_free(f, s);
        s = next;
    }
    free_strv(f->labels, f->nlabels);
    free(f->buckets);
    free(f->name);
    free(f->help);
    free(f);
}

void ingest_metrics_free(struct ingest_metrics *m)
{
    if (!m)
        return;
    struct ingest_metric *f = m->families;
    while (f) {
        struct ingest_metric *next = f->next;
        family_free(f);
        f = next;
    }
    free(m);
}

static char **dup_strv(const char *const *v, size_t n)
{
    char **out = calloc(n ? n : 1, sizeof *out);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!(out[i] = strdup(v[i]))) {
            free_strv(out, n);
            return NULL;
        }
    return out;
}

struct ingest_metric *ingest_metrics_family(struct ingest_metrics *m, const char *name,
                                            enum ingest_metric_type type, const char *help,
                                            const char *const *labels, const double *buckets,
                                            size_t nbuckets)
{
    for (struct ingest_metric *f = m->families; f; f = f->next)
        if (strcmp(f->name, name) == 0)
            return f;
    struct ingest_metric *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    while (labels && labels[f->nlabels])
        f->nlabels++;
    f->type = type;
    f->tail = &f->series;
    f->name = strdup(name);
    f->help = strdup(help);
    f->labels = dup_strv(labels, f->nlabels);
    if (type == INGEST_METRIC_HISTOGRAM) {
        f->nbuckets = nbuckets;
        f->buckets = malloc((nbuckets ? nbuckets : 1) * sizeof *f->buckets);
        if (f->buckets)
            memcpy(f->buckets, buckets, nbuckets * sizeof *buckets);
    }
    if (!f->name || !f->help || !f->labels || (type == INGEST_METRIC_HISTOGRAM && !f->buckets)) {
        family_free(f);
        return NULL;
    }
    *m->tail = f;
    m->tail = &f->next;
    return f;
}

struct ingest_series *ingest_metric_series(struct ingest_metric *f, const char *const *values)
{
    if (!f)
        return NULL;
    for (struct ingest_series *s = f->series; s; s = s->next) {
        size_t i = 0;
        while (i < f->nlabels && strcmp(s->values[i], values[i]) == 0)
            i++;
        if (i == f->nlabels)
            return s;
    }
    struct ingest_series *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->family = f;
    s->values = dup_strv(values, f->nlabels);
    if (f->type == INGEST_METRIC_HISTOGRAM)
        s->counts = calloc(f->nbuckets + 1, sizeof *s->counts);
    if (!s->values || (f->type == INGEST_METRIC_HISTOGRAM && !s->counts)) {
        series_free(f, s);
        return NULL;
    }
    atomic_store(&s->bits, to_bits(0.0));
    *f->tail = s;
    f->tail = &s->next;
    return s;
}

static void add_bits(_Atomic uint64_t *p, double v)
{
    uint64_t old = atomic_load_explicit(p, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(p, &old, to_bits(from_bits(old) + v),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

void ingest_series_add(struct ingest_series *s, double v)
{
    if (s)
        add_bits(&s->bits, v);
}

void ingest_series_set(struct ingest_series *s, double v)
{
    if (s)
        atomic_store_explicit(&s->bits, to_bits(v), memory_order_relaxed);
}

double ingest_series_get(const struct ingest_series *s)
{
    if (!s)
        return 0;
    if (s->counts)
        return (double)atomic_load(&((struct ingest_series *)s)->count);
    return from_bits(atomic_load(&((struct ingest_series *)s)->bits));
}

void ingest_series_observe(struct ingest_series *s, double v)
{
    if (!s || !s->counts)
        return;
    const struct ingest_metric *f = s->family;
    size_t b = 0;
    while (b < f->nbuckets && v > f->buckets[b])
        b++;
    atomic_fetch_add_explicit(&s->counts[b], 1, memory_order_relaxed);
    add_bits(&s->bits, v);
    atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
}

void ingest_metrics_remove_label(struct ingest_metrics *m, const char *label, const char *value)
{
    for (struct ingest_metric *f = m->families; f; f = f->next) {
        size_t li = 0;
        while (li < f->nlabels && strcmp(f->labels[li], label) != 0)
            li++;
        if (li == f->nlabels)
            continue;
        struct ingest_series **pp = &f->series;
        while (*pp) {
            struct ingest_series *s = *pp;
            if (strcmp(s->values[li], value) == 0) {
                *pp = s->next;
                series_free(f, s);
            } else {
                pp = &s->next;
            }
        }
        f->tail = &f->series;
        while (*f->tail)
            f->tail = &(*f->tail)->next;
    }
}

static void put_escaped(struct ingest_buf *out, const char *s, int help)
{
    for (; *s; s++) {
        if (*s == '\\')
            ingest_buf_puts(out, "\\\\");
        else if (*s == '\n')
            ingest_buf_puts(out, "\\n");
        else if (*s == '"' && !help)
            ingest_buf_puts(out, "\\\"");
        else
            ingest_buf_putc(out, *s);
    }
}

static void put_number(struct ingest_buf *out, double v)
{
    if (isnan(v))
        ingest_buf_puts(out, "NaN");
    else if (isinf(v))
        ingest_buf_puts(out, v > 0 ? "+Inf" : "-Inf");
    else if (v == (double)(int64_t)v && fabs(v) < 9007199254740992.0)
        ingest_buf_printf(out, "%lld", (long long)v);
    else
        ingest_buf_printf(out, "%.17g", v);
}

/* {a="x",b="y"[,le="0.5"]} */
static void put_labels(struct ingest_buf *out, const struct ingest_metric *f,
                       const struct ingest_series *s, const char *le)
{
    if (f->nlabels == 0 && !le)
        return;
    ingest_buf_putc(out, '{');
    for (size_t i = 0; i < f->nlabels; i++) {
        ingest_buf_printf(out, "%s%s=\"", i ? "," : "", f->labels[i]);
        put_escaped(out, s->values[i], 0);
        ingest_buf_putc(out, '"');
    }
    if (le)
        ingest_buf_printf(out, "%sle=\"%s\"", f->nlabels ? "," : "", le);
    ingest_buf_putc(out, '}');
}

static void render_histogram(struct ingest_buf *out, const struct ingest_metric *f,
                             struct ingest_series *s)
{
    uint64_t cum = 0;
    char le[64];
    for (size_t b = 0; b <= f->nbuckets; b++) {
        cum += atomic_load_explicit(&s->counts[b], memory_order_relaxed);
        if (b < f->nbuckets)
            snprintf(le, sizeof le, "%g", f->buckets[b]);
        else
            snprintf(le, sizeof le, "+Inf");
        ingest_buf_printf(out, "%s_bucket", f->name);
        put_labels(out, f, s, le);
        ingest_buf_printf(out, " %llu\n", (unsigned long long)cum);
    }
    ingest_buf_printf(out, "%s_sum", f->name);
    put_labels(out, f, s, NULL);
    ingest_buf_putc(out, ' ');
    put_number(out, from_bits(atomic_load(&s->bits)));
    ingest_buf_printf(out, "\n%s_count", f->name);
    put_labels(out, f, s, NULL);
    /* The +Inf bucket is the count as of this read: keep the two equal. */
    ingest_buf_printf(out, " %llu\n", (unsigned long long)cum);
}

void ingest_metrics_render(struct ingest_metrics *m, struct ingest_buf *out)
{
    static const char *const type_names[] = { "counter", "gauge", "histogram" };
    for (struct ingest_metric *f = m->families; f; f = f->next) {
        ingest_buf_printf(out, "# HELP %s ", f->name);
        put_escaped(out, f->help, 1);
        ingest_buf_printf(out, "\n# TYPE %s %s\n", f->name, type_names[f->type]);
        for (struct ingest_series *s = f->series; s; s = s->next) {
            if (f->type == INGEST_METRIC_HISTOGRAM) {
                render_histogram(out, f, s);
                continue;
            }
            ingest_buf_puts(out, f->name);
            put_labels(out, f, s, NULL);
            ingest_buf_putc(out, ' ');
            put_number(out, from_bits(atomic_load_explicit(&s->bits, memory_order_relaxed)));
            ingest_buf_putc(out, '\n');
        }
    }
}
