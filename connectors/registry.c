/* registry.c - the list of connectors; `[source] type` picks one by name. */
#include <string.h>

#include "ingestd/source.h"

const struct ingest_source_ops *const ingest_sources[] = {
    &ingest_source_directory,
    &ingest_source_kafka,
    NULL,
};

const struct ingest_source_ops *ingest_source_lookup(const char *name)
{
    for (size_t i = 0; ingest_sources[i]; i++)
        if (strcmp(ingest_sources[i]->name, name) == 0)
            return ingest_sources[i];
    return NULL;
}
