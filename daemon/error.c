/* error.c - names and messages for the INGEST_E* codes (see error.h). */
#include <errno.h>

#include "ingestd/error.h"

const char *ingest_strerror(int err)
{
    switch (err) {
    case INGEST_OK: return "success";
#define XX(name, code, msg) case INGEST_##name: return msg;
    INGEST_ERRNO_MAP(XX)
#undef XX
    }
    return "unknown error";
}

const char *ingest_err_name(int err)
{
    switch (err) {
    case INGEST_OK: return "OK";
#define XX(name, code, msg) case INGEST_##name: return #name;
    INGEST_ERRNO_MAP(XX)
#undef XX
    }
    return "EUNKNOWN";
}

int ingest_err_from_errno(int errnum)
{
    switch (errnum) {
    case 0:       return INGEST_OK;
    case EINVAL:  return INGEST_EINVAL;
    case ENOMEM:  return INGEST_ENOMEM;
    case ENOENT:  return INGEST_ENOENT;
    case EEXIST:  return INGEST_EEXIST;
    case EBUSY:
    case EWOULDBLOCK: return INGEST_EBUSY;
    case ERANGE:  return INGEST_ERANGE;
    case ENOSPC:
    case EDQUOT:  return INGEST_ENOSPC;
    case EACCES:
    case EPERM:
    case EROFS:   return INGEST_EACCES;
    case ETIMEDOUT: return INGEST_ETIMEDOUT;
    case ECANCELED: return INGEST_ECANCELED;
    case ENOTSUP: return INGEST_ENOTSUP;
    case EIO:     return INGEST_EIO;
    }
    return INGEST_ESYS;
}
