/* table_cli.h - `ingestd table info|history PATH [--json]` (daemon/table_cli.c). */
#ifndef INGESTD_TABLE_CLI_H
#define INGESTD_TABLE_CLI_H

#include <stdio.h>

/* argv holds the words after "table".  Prints to out (errors to errf);
 * returns the exit code: 0 ok, 1 the table could not be read, 2 usage. */
int ingest_table_cli(int argc, char **argv, FILE *out, FILE *errf);

#endif
