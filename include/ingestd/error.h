/*
 * error.h - ingestd's error codes.
 *
 * Every function that can fail returns 0 or a negative INGEST_E* code, as
 * libuv does; constructors return NULL and write a reason into a caller's
 * errbuf.  One X-macro table generates the enum, the names and the messages
 * so the three never drift apart.
 */
#ifndef INGESTD_ERROR_H
#define INGESTD_ERROR_H

#define INGEST_ERRNO_MAP(XX)                                               \
    XX(EINVAL,    1, "invalid argument")                                   \
    XX(ENOMEM,    2, "out of memory")                                      \
    XX(EIO,       3, "input/output error")                                 \
    XX(ENOENT,    4, "no such file or directory")                          \
    XX(EEXIST,    5, "already exists")                                     \
    XX(EBUSY,     6, "resource busy or locked")                            \
    XX(ECONFIG,   7, "invalid configuration")                              \
    XX(EPARSE,    8, "malformed input")                                    \
    XX(ERANGE,    9, "value out of range")                                 \
    XX(ECORRUPT, 10, "corrupt data")                                       \
    XX(ECONFLICT,11, "concurrent modification")                            \
    XX(ENOSPC,   12, "no space left on device")                            \
    XX(EACCES,   13, "permission denied")                                  \
    XX(ETIMEDOUT,14, "timed out")                                          \
    XX(ECANCELED,15, "operation canceled")                                 \
    XX(ENOTSUP,  16, "operation not supported")                            \
    XX(ESYS,     17, "system call failed")

enum ingest_errno {
    INGEST_OK = 0,
#define XX(name, code, msg) INGEST_##name = -(code),
    INGEST_ERRNO_MAP(XX)
#undef XX
};

/* Static string describing err (never NULL; unknown codes get a generic text). */
const char *ingest_strerror(int err);
/* Static symbolic name, "EINVAL" etc. */
const char *ingest_err_name(int err);
/* Map a positive errno value from the C library to an INGEST_E* code. */
int ingest_err_from_errno(int errnum);

#endif
