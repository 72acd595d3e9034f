/* scratch.c - test support: scratch directories (see scratch.h). */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

#include "scratch.h"

int scratch_make(char *dir, size_t len, const char *prefix)
{
    /* mkdtemp's template: the trailing six X are replaced by random letters. */
    if ((size_t)snprintf(dir, len, "/tmp/%s.XXXXXX", prefix) >= len)
        return -1;
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

int scratch_remove(const char *dir)
{
    return nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}
