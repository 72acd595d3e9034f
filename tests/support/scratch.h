/* scratch.h - test support: a scratch directory per test binary. */
#ifndef INGEST_TEST_SCRATCH_H
#define INGEST_TEST_SCRATCH_H

#include <stddef.h>

/* Creates a fresh directory /tmp/<prefix>.<random> into dir; 0 or -1. */
int scratch_make(char *dir, size_t len, const char *prefix);
/* Removes it and everything below it; 0 or -1. */
int scratch_remove(const char *dir);

#endif
