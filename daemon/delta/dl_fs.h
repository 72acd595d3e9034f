/*
 * dl_fs.h - the file-system steps of Delta commits and checkpoints.
 *
 * Durability order matters more than anything else here: a version file
 * becomes visible only complete and fsynced (temp file, fsync, link(2)
 * so an existing version is never replaced, fsync of the directory), and
 * checkpoints/_last_checkpoint, which any writer may redo, are replaced
 * with rename(2) after the same fsync.  Blocking; any thread.
 */
#ifndef INGESTD_DL_FS_H
#define INGESTD_DL_FS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Writes data to dir/name, visible only once complete and durable.
 * no_replace = 1: put-if-absent (returns INGEST_EEXIST when the name is
 * taken; the existing file is untouched); 0: replaces atomically.
 * Returns 0 or INGEST_E* with err ("_delta_log/00..01.json: No space left"). */
int dl_publish(const char *dir, const char *name, const void *data, size_t len,
               int no_replace, char *err, size_t errlen);

/* Like dl_publish for a file someone already wrote at tmp_path (same
 * directory): fsyncs it, renames (or links, no_replace) it to dir/name and
 * fsyncs dir.  The temp file is gone afterwards in every case. */
int dl_publish_file(const char *tmp_path, const char *dir, const char *name, int no_replace,
                    char *err, size_t errlen);

/* fsync of a directory.  0 or INGEST_E*. */
int dl_fsync_dir(const char *dir);

/* Reads a whole file into a malloc'd, NUL-terminated buffer (caller frees).
 * Returns 0, INGEST_ENOENT or another INGEST_E*. */
int dl_read_file(const char *path, char **data, size_t *len);

/* mkdir -p.  0 or INGEST_E*. */
int dl_mkdirs(const char *path, mode_t mode);

/* Milliseconds since the epoch (the table's override when set). */
int64_t dl_now_ms(int64_t override_ms);

#endif
