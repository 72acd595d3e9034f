/*
 * metrics.h - a small Prometheus registry.
 *
 * Families (counter, gauge, histogram) are registered once, on the loop
 * thread, with fixed label names; a series is looked up by its label values
 * and then kept by the caller, so the hot path is one atomic add with no
 * lookup and no lock.  Values may be updated from any thread; rendering
 * (GET /metrics) runs on the loop thread and reads them atomically.
 */
#ifndef INGESTD_METRICS_H
#define INGESTD_METRICS_H

#include <stddef.h>

#include "ingestd/buf.h"

enum ingest_metric_type { INGEST_METRIC_COUNTER, INGEST_METRIC_GAUGE, INGEST_METRIC_HISTOGRAM };

struct ingest_metrics;   /* the registry */
struct ingest_metric;    /* a family */
struct ingest_series;    /* one set of label values */

/* Returns NULL on allocation failure.  Free with ingest_metrics_free. */
struct ingest_metrics *ingest_metrics_new(void);
void ingest_metrics_free(struct ingest_metrics *m);

/*
 * Registers a family (or returns the existing one of that name).  labels is
 * a NULL-terminated list of label names (may be NULL); buckets, for
 * histograms, are ascending upper bounds without +Inf.  The strings are
 * copied.  Loop thread.
 */
struct ingest_metric *ingest_metrics_family(struct ingest_metrics *m, const char *name,
                                            enum ingest_metric_type type, const char *help,
                                            const char *const *labels, const double *buckets,
                                            size_t nbuckets);

/* Gets or creates the series with these label values (same count as the
 * family's labels).  The pointer stays valid until the series is removed or
 * the registry freed.  Loop thread. */
struct ingest_series *ingest_metric_series(struct ingest_metric *f, const char *const *values);

/* Any thread. */
void ingest_series_add(struct ingest_series *s, double v);   /* counter, gauge */
void ingest_series_set(struct ingest_series *s, double v);   /* gauge */
void ingest_series_observe(struct ingest_series *s, double v); /* histogram */
double ingest_series_get(const struct ingest_series *s);     /* counter/gauge value; histogram count */

/* Removes every series whose label `label` equals `value` (a removed
 * pipeline).  Loop thread; no other thread may still hold those series. */
void ingest_metrics_remove_label(struct ingest_metrics *m, const char *label, const char *value);

/* Appends the exposition text (format 0.0.4).  Loop thread. */
void ingest_metrics_render(struct ingest_metrics *m, struct ingest_buf *out);

/* Appends the process_* metrics of the calling process (from /proc). */
void ingest_metrics_render_process(struct ingest_buf *out);

#endif
