/*
 * pqdump - prints what ingestd's Parquet reader reads from a file, as the
 * reader harness's canonical JSON, so DuckDB, arrow-rs and hyparquet can
 * judge our reader on files others wrote (tests/e2e/parquet_readers.sh).
 *
 *   pqdump FILE.parquet > FILE.ours.json
 */
#include <stdio.h>

#include "canonical.h"
#include "ingestd/error.h"
#include "ingestd/parquet_reader.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: pqdump FILE.parquet\n");
        return 2;
    }
    char err[512];
    struct ingest_parquet_reader *r = ingest_parquet_reader_open(argv[1], err, sizeof err);
    if (!r) {
        fprintf(stderr, "pqdump: %s: %s\n", argv[1], err);
        return 1;
    }
    struct ingest_buf o = INGEST_BUF_INIT;
    canon_begin(&o, ingest_parquet_reader_schema(r));
    int first = 1, rc = 0;
    for (size_t rg = 0; rg < ingest_parquet_reader_num_row_groups(r) && rc == 0; rg++) {
        struct ingest_batch b = { 0 };
        rc = ingest_parquet_reader_read_row_group(r, rg, NULL, &b, err, sizeof err);
        if (rc == 0)
            canon_rows(&o, &b, &first);
        ingest_batch_free(&b);
    }
    canon_end(&o, first);
    if (rc < 0)
        fprintf(stderr, "pqdump: %s: %s\n", argv[1], err);
    else if (o.oom)
        fprintf(stderr, "pqdump: out of memory\n");
    else
        fwrite(o.data, 1, o.len, stdout);
    ingest_buf_free(&o);
    ingest_parquet_reader_close(r);
    return rc < 0 || o.oom ? 1 : 0;
}
