/*
 * kafka.c - the Kafka source.
 *
 * Consumption will go through librdkafka in a consumer group, with offsets
 * kept in the Delta table itself (one txn per partition, kafka-delta-ingest's
 * scheme), not in Kafka's committed offsets, so exactly-once holds across
 * rebalances.  This file holds the connector's configuration today: its key
 * table, the check of every `kafka.*` passthrough property against
 * librdkafka itself (so a typo is a FILE:LINE error, not a runtime
 * surprise), and the --check probe, which asks the brokers for metadata.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "ingestd/error.h"
#include "ingestd/source.h"
#include "ingestd/strutil.h"

#define K(field) offsetof(struct ingest_kafka_conf, field)
static const struct ingest_conf_key kafka_keys[] = {
    { "brokers", INGEST_CT_STRING, NULL, INGEST_CK_REQUIRED, 0, 0, NULL, K(brokers), NULL,
      "bootstrap brokers, HOST:PORT[,HOST:PORT...]" },
    { "topic", INGEST_CT_STRING, NULL, INGEST_CK_REQUIRED, 0, 0, NULL, K(topic), NULL,
      "topic to consume (several: comma-separated)" },
    { "group", INGEST_CT_STRING, NULL, 0, 0, 0, NULL, K(group), NULL,
      "consumer group; default ingestd-<pipeline name>. Instances in one group share "
      "the partitions" },
    { "format", INGEST_CT_ENUM, "json", 0, 0, 0, "json|text|binary", K(format), NULL,
      "message value format" },
    { "starting_offsets", INGEST_CT_ENUM, "earliest", 0, 0, 0, "earliest|latest",
      K(starting_offsets), NULL, "where a partition with no offset in the table starts" },
    { "bad_records_path", INGEST_CT_PATH, NULL, 0, 0, 0, NULL, K(bad_records_path), NULL,
      "NDJSON files of bad records; default <checkpoint>/bad_records" },
    { "timestamp_epoch_unit", INGEST_CT_ENUM, "s", 0, 0, 0, "s|ms|us", K(timestamp_epoch_unit),
      NULL, "unit of numeric timestamps" },
    { "max_message_size", INGEST_CT_SIZE, "16MiB", 0, 1024, 1024LL * 1024 * 1024, NULL,
      K(max_message_size), NULL, "larger messages are bad records" },
};
#undef K

/* Properties ingestd sets itself: letting users override them would break
 * exactly-once (auto commit) or the group/broker keys above. */
static const char *const reserved[] = {
    "enable.auto.commit", "enable.auto.offset.store", "group.id", "bootstrap.servers",
    "metadata.broker.list", "auto.offset.reset", "enable.partition.eof", NULL,
};

/* Next topic of a comma-separated list, spaces trimmed: *n gets its length.
 * Returns a pointer into the list (not terminated), or NULL at the end. */
static const char *next_topic(const char **list, size_t *n)
{
    const char *t = *list;
    if (!t || !*t)
        return NULL;
    size_t len = strcspn(t, ",");
    *list = t[len] == ',' ? t + len + 1 : t + len;
    while (len && *t == ' ') {
        t++;
        len--;
    }
    while (len && t[len - 1] == ' ')
        len--;
    *n = len;
    return t;
}

static int valid_topic(const char *t, size_t n)
{
    if (n == 0 || n > 249)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return !(n == 1 && t[0] == '.') && !(n == 2 && t[0] == '.' && t[1] == '.');
}

/* Builds the librdkafka config the consumer (and the probe) will use. */
static rd_kafka_conf_t *make_conf(const struct ingest_pipeline_conf *pc,
                                  struct ingest_conf_diag *d)
{
    const struct ingest_kafka_conf *c = pc->source.conf;
    rd_kafka_conf_t *kc = rd_kafka_conf_new();
    char err[512];
    if (c->brokers &&
        rd_kafka_conf_set(kc, "bootstrap.servers", c->brokers, err, sizeof err) != RD_KAFKA_CONF_OK)
        ingest_conf_diag_error(d, "brokers", "brokers: %s", err);
    for (size_t i = 0; i < pc->source.nprops; i++) {
        const struct ingest_conf_kv *p = &pc->source.props[i];
        int bad = 0;
        for (size_t j = 0; reserved[j]; j++)
            if (strcmp(p->key, reserved[j]) == 0) {
                ingest_conf_diag_error_at(d, p->line,
                                          "kafka.%s is set by ingestd and cannot be overridden",
                                          p->key);
                bad = 1;
            }
        if (!bad && rd_kafka_conf_set(kc, p->key, p->value, err, sizeof err) != RD_KAFKA_CONF_OK)
            ingest_conf_diag_error_at(d, p->line, "kafka.%s: %s", p->key, err);
    }
    return kc;
}

static void kafka_check(const struct ingest_pipeline_conf *pc, struct ingest_conf_diag *d)
{
    struct ingest_kafka_conf *c = pc->source.conf;
    const char *list = c->topic, *s;
    size_t n;
    while ((s = next_topic(&list, &n)))
        if (!valid_topic(s, n))
            ingest_conf_diag_error(d, "topic", "topic: '%.*s' is not a valid topic name "
                                   "(letters, digits, '.', '_', '-'; at most 249)", (int)n, s);
    /* The table's index order is json|text|binary; the pipeline speaks enum
     * ingest_format. */
    static const int formats[] = { INGEST_FMT_JSON, INGEST_FMT_TEXT, INGEST_FMT_BINARY };
    if (c->format >= 0 && c->format < 3)
        c->format = formats[c->format];
    if (c->group && !*c->group)
        ingest_conf_diag_error(d, "group", "group: empty consumer group");
    if (!c->group && pc->name) {
        size_t len = strlen(pc->name) + sizeof "ingestd-";
        c->group = malloc(len);
        if (c->group)
            snprintf(c->group, len, "ingestd-%s", pc->name);
    }
    if (!c->bad_records_path && pc->checkpoint)
        c->bad_records_path = ingest_path_join(pc->checkpoint, "bad_records");
    rd_kafka_conf_destroy(make_conf(pc, d));
}

static void kafka_probe(const struct ingest_pipeline_conf *pc, struct ingest_conf_diag *d)
{
    const struct ingest_kafka_conf *c = pc->source.conf;
    char err[512];
    size_t before = ingest_conf_diag_count(d);
    rd_kafka_conf_t *kc = make_conf(pc, d);
    if (ingest_conf_diag_count(d) != before) {
        rd_kafka_conf_destroy(kc);
        return;
    }
    rd_kafka_conf_set(kc, "log_level", "0", err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof err);
    if (!rk) {
        ingest_conf_diag_error(d, "brokers", "brokers: cannot create Kafka client: %s", err);
        rd_kafka_conf_destroy(kc);   /* rd_kafka_new takes it only on success */
        return;
    }
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, 5000);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        ingest_conf_diag_error(d, "brokers", "brokers: %s did not answer: %s", c->brokers,
                               rd_kafka_err2str(e));
    } else {
        const char *list = c->topic, *t;
        size_t n;
        while ((t = next_topic(&list, &n))) {
            int found = 0;
            for (int i = 0; i < md->topic_cnt; i++)
                if (strlen(md->topics[i].topic) == n && strncmp(md->topics[i].topic, t, n) == 0)
                    found = 1;
            if (!found)
                ingest_conf_diag_error(d, "topic", "topic: '%.*s' does not exist on %s", (int)n,
                                       t, c->brokers);
        }
        rd_kafka_metadata_destroy(md);
    }
    rd_kafka_destroy(rk);
}

const struct ingest_source_ops ingest_source_kafka = {
    .name = "kafka",
    .help = "messages of Kafka topics, in a consumer group",
    .conf_keys = kafka_keys,
    .conf_nkeys = sizeof kafka_keys / sizeof kafka_keys[0],
    .conf_size = sizeof(struct ingest_kafka_conf),
    .passthrough_prefix = "kafka.",
    .conf_check = kafka_check,
    .conf_probe = kafka_probe,
    .conf_free = NULL,
};
