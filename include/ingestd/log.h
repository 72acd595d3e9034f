/*
 * log.h - one line per event, logfmt, to stderr.
 *
 *   ts=2026-11-22T03:07:31.123Z level=info pipeline=orders msg="batch committed" version=12 rows=1000
 *
 * The logger is a small caller-owned struct (main.c owns the process's one)
 * passed to every component that logs; there is no global logger.  Values are
 * typed key/value pairs, quoted and escaped here, so a path with spaces or a
 * reason with quotes never breaks a line.  The macros check the level before
 * any argument is formatted.  Each line is written with a single write(2), so
 * lines from worker threads never interleave.
 */
#ifndef INGESTD_LOG_H
#define INGESTD_LOG_H

enum ingest_level {
    INGEST_LEVEL_ERROR = 0,
    INGEST_LEVEL_WARN  = 1,
    INGEST_LEVEL_INFO  = 2,
    INGEST_LEVEL_DEBUG = 3,
};

struct ingest_log {
    int level;  /* events above this level are dropped */
    int fd;     /* usually 2 */
};

enum ingest_kv_type { INGEST_KV_T_END, INGEST_KV_T_STR, INGEST_KV_T_INT, INGEST_KV_T_UINT,
                      INGEST_KV_T_DBL };

struct ingest_kv {
    const char *key;
    int type;
    union {
        const char *s;
        long long i;
        unsigned long long u;
        double d;
    } v;
};

#define INGEST_KV_STR(k, x)  ((struct ingest_kv){ .key = (k), .type = INGEST_KV_T_STR, .v.s = (x) })
#define INGEST_KV_INT(k, x)  ((struct ingest_kv){ .key = (k), .type = INGEST_KV_T_INT, .v.i = (long long)(x) })
#define INGEST_KV_UINT(k, x) ((struct ingest_kv){ .key = (k), .type = INGEST_KV_T_UINT, .v.u = (unsigned long long)(x) })
#define INGEST_KV_DBL(k, x)  ((struct ingest_kv){ .key = (k), .type = INGEST_KV_T_DBL, .v.d = (double)(x) })
#define INGEST_KV_END        ((struct ingest_kv){ .key = 0, .type = INGEST_KV_T_END })

/* Writes one line; the variadic part is a list of struct ingest_kv ending with
 * INGEST_KV_END.  pipeline may be NULL for process-wide events.  Thread-safe. */
void ingest_log_emit(const struct ingest_log *log, int level, const char *pipeline,
                     const char *msg, ...);

#define INGEST_LOG_AT(log, lvl, pipe, msg, ...)                                    \
    do {                                                                           \
        const struct ingest_log *log_ = (log);                                     \
        if (log_ && (lvl) <= log_->level)                                          \
            ingest_log_emit(log_, (lvl), (pipe), (msg), ##__VA_ARGS__, INGEST_KV_END); \
    } while (0)

#define INGEST_LOG_ERROR(log, pipe, msg, ...) INGEST_LOG_AT(log, INGEST_LEVEL_ERROR, pipe, msg, ##__VA_ARGS__)
#define INGEST_LOG_WARN(log, pipe, msg, ...)  INGEST_LOG_AT(log, INGEST_LEVEL_WARN, pipe, msg, ##__VA_ARGS__)
#define INGEST_LOG_INFO(log, pipe, msg, ...)  INGEST_LOG_AT(log, INGEST_LEVEL_INFO, pipe, msg, ##__VA_ARGS__)
#define INGEST_LOG_DEBUG(log, pipe, msg, ...) INGEST_LOG_AT(log, INGEST_LEVEL_DEBUG, pipe, msg, ##__VA_ARGS__)

/* "error", "warn", "info", "debug" -> level; returns -1 for anything else. */
int ingest_log_level_parse(const char *name);
const char *ingest_log_level_name(int level);

#endif
