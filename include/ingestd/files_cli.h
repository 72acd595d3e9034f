/* files_cli.h - `ingestd files --config FILE [--json]` (daemon/files_cli.c). */
#ifndef INGESTD_FILES_CLI_H
#define INGESTD_FILES_CLI_H

#include <stdio.h>

/* argv[0] is "files".  Returns the exit code (0, 1 unreadable state, 2 usage). */
int ingest_files_cli(int argc, char **argv, FILE *out, FILE *errf);

#endif
