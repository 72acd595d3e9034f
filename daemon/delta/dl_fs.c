/*
 * dl_fs.c - durable publication of Delta log files (see dl_fs.h).
 *
 * Temp files are named ".tmp-<uuid>-<name>" in the target directory, so a
 * crash leaves at worst a dot file that readers ignore (Delta readers skip
 * names that do not parse as versions).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ingestd/delta.h"
#include "ingestd/error.h"
#include "dl_fs.h"

int64_t dl_now_ms(int64_t override_ms)
{
    if (override_ms)
        return override_ms;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int dl_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return ingest_err_from_errno(errno);
    int rc = fsync(fd) == 0 ? 0 : ingest_err_from_errno(errno);
    close(fd);
    return rc;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return ingest_err_from_errno(errno);
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int dl_publish_file(const char *tmp_path, const char *dir, const char *name, int no_replace,
                    char *err, size_t errlen)
{
    char final[4096];
    int rc;
    snprintf(final, sizeof final, "%s/%s", dir, name);
    int fd = open(tmp_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        rc = ingest_err_from_errno(errno);
        snprintf(err, errlen, "%s: fsync: %s", tmp_path, strerror(errno));
        goto fail;
    }
    close(fd);
    fd = -1;
    if (no_replace) {
        /* link(2) fails with EEXIST instead of replacing: the put-if-absent
         * that makes two writers of one version impossible. */
        if (link(tmp_path, final) != 0) {
            rc = errno == EEXIST ? INGEST_EEXIST : ingest_err_from_errno(errno);
            snprintf(err, errlen, "%s: %s", final, strerror(errno));
            goto fail;
        }
        unlink(tmp_path);
    } else if (rename(tmp_path, final) != 0) {
        rc = ingest_err_from_errno(errno);
        snprintf(err, errlen, "%s: rename: %s", final, strerror(errno));
        goto fail;
    }
    /* The name is published now: a failed fsync of the directory must not
     * make the caller believe otherwise (a retry would publish the data
     * twice).  The next fsync of the directory (the next commit's) makes
     * the entry durable. */
    dl_fsync_dir(dir);
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp_path);
    return rc;
}

int dl_publish(const char *dir, const char *name, const void *data, size_t len,
               int no_replace, char *err, size_t errlen)
{
    char tmp[4096], uuid[37];
    ingest_delta_uuid(uuid);
    snprintf(tmp, sizeof tmp, "%s/.tmp-%s-%s", dir, uuid, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        int rc = ingest_err_from_errno(errno);
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return rc;
    }
    int rc = write_all(fd, data, len);
    if (rc < 0) {
        snprintf(err, errlen, "%s: write: %s", tmp, ingest_strerror(rc));
        close(fd);
        unlink(tmp);
        return rc;
    }
    close(fd);
    return dl_publish_file(tmp, dir, name, no_replace, err, errlen);
}

int dl_read_file(const char *path, char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ingest_err_from_errno(errno);
    struct stat st;
    int rc = 0;
    char *buf = NULL;
    if (fstat(fd, &st) != 0) {
        rc = ingest_err_from_errno(errno);
        goto fail;
    }
    size_t cap = (size_t)st.st_size + 1, used = 0;
    buf = malloc(cap);
    if (!buf) {
        rc = INGEST_ENOMEM;
        goto fail;
    }
    for (;;) {
        if (used + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                rc = INGEST_ENOMEM;
                goto fail;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + used, cap - 1 - used);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = ingest_err_from_errno(errno);
            goto fail;
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    buf[used] = 0;
    close(fd);
    *data = buf;
    *len = used;
    return 0;
fail:
    free(buf);
    close(fd);
    return rc;
}

int dl_mkdirs(const char *path, mode_t mode)
{
    char tmp[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp)
        return INGEST_EINVAL;
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, mode) != 0 && errno != EEXIST)
            return ingest_err_from_errno(errno);
        *p = '/';
    }
    if (mkdir(tmp, mode) != 0 && errno != EEXIST)
        return ingest_err_from_errno(errno);
    return 0;
}

void ingest_delta_version_name(int64_t version, const char *suffix, char *buf, size_t len)
{
    snprintf(buf, len, "%020lld%s", (long long)version, suffix ? suffix : "");
}

void ingest_delta_uuid(char out[37])
{
    uint8_t b[16];
    /* getrandom never blocks after boot; fall back to the clock and pid
     * only so a name stays unique if it fails. */
    if (getentropy(b, sizeof b) != 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)getpid() << 48;
        for (int i = 0; i < 16; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            b[i] = (uint8_t)(x >> 56);
        }
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
}
