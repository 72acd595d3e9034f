/*
 * fuzz_parquet_read.c - libFuzzer target for the Parquet reader: open the
 * input as a file image, read every row group (all columns), close.  Any
 * crash, leak or sanitizer report is a bug; errors are the expected
 * outcome for most inputs.  Built and run by tests/e2e/fuzz_parquet.sh.
 */
#include <stddef.h>
#include <stdint.h>

#include "ingestd/batch.h"
#include "ingestd/parquet_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    struct ingest_parquet_reader *r = ingest_parquet_reader_open_buf(data, size, err, sizeof err);
    if (!r)
        return 0;
    /* keep one input's memory far below libFuzzer's 2 GB limit */
    ingest_parquet_reader_set_max_values(r, (size_t)1 << 22);
    for (size_t g = 0; g < ingest_parquet_reader_num_row_groups(r); g++) {
        struct ingest_batch b;
        if (ingest_parquet_reader_read_row_group(r, g, NULL, &b, err, sizeof err) == 0)
            ingest_batch_free(&b);
    }
    ingest_parquet_reader_close(r);
    return 0;
}
