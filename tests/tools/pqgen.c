/*
 * pqgen - writes Parquet files with the ingestd writer from built-in cases,
 * each with the values it wrote as canonical JSON, for the reader
 * conformance tests (DuckDB, arrow-rs, hyparquet).
 *
 *   pqgen CASE OUTDIR        OUTDIR/CASE.parquet + OUTDIR/CASE.expect.json
 *   pqgen --all OUTDIR       every case
 *   pqgen --list             case names
 *   PQGEN_ROWS=N             rows of many_rows (default 200000)
 *
 * The expected JSON is produced from the very batches handed to the writer,
 * by an independent walk over the vectors, so it checks the writer's
 * shredding and encoding rather than repeating them.  Value forms:
 * null; true/false; integers as decimal strings; {"f32":"0x3f800000"},
 * {"f64":"0x..."} (16 hex digits) or {"f32"/"f64":"NaN"}; strings as JSON
 * strings; {"hex":"00ff"}; {"date":"<days>"}; {"ts_us":"<us>"};
 * {"dec":"-123.45"}; structs as objects in field order; lists as arrays;
 * maps as arrays of [key, value].
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ingestd/batch.h"
#include "ingestd/buf.h"
#include "ingestd/error.h"
#include "ingestd/parquet.h"
#include "canonical.h"
#include "vecbuild.h"


/* --- writing a case -------------------------------------------------------------- */

static const char *outdir;

static int write_file(const char *name, const char *text, size_t len)
{
    char path[8192];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", outdir, name) >= sizeof path) {
        fprintf(stderr, "pqgen: %s: path too long\n", name);
        return 1;
    }
    FILE *f = fopen(path, "w");
    if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "pqgen: %s: %s\n", path, strerror(errno));
        return 1;
    }
    return 0;
}

/* Writes CASE.parquet from the batches (same schema) and CASE.expect.json. */
static int emit_case(const char *name, const struct ingest_schema *schema,
                     struct ingest_batch *const *batches, size_t nb,
                     const struct ingest_parquet_opts *opts)
{
    char path[4096], err[256];
    snprintf(path, sizeof path, "%s/%s.parquet", outdir, name);
    unlink(path);
    struct ingest_parquet_writer *w = ingest_parquet_writer_open(path, schema, opts, err,
                                                                 sizeof err);
    if (!w) {
        fprintf(stderr, "pqgen: %s: %s\n", name, err);
        return 1;
    }
    for (size_t i = 0; i < nb; i++) {
        int rc = ingest_parquet_writer_write(w, batches[i]);
        if (rc < 0) {
            fprintf(stderr, "pqgen: %s: write: %s\n", name, ingest_strerror(rc));
            ingest_parquet_writer_abort(w);
            return 1;
        }
    }
    struct ingest_parquet_file_info info;
    int rc = ingest_parquet_writer_close(w, &info);
    if (rc < 0) {
        fprintf(stderr, "pqgen: %s: close: %s\n", name, ingest_strerror(rc));
        return 1;
    }
    fprintf(stderr, "pqgen: %s.parquet: %" PRId64 " rows, %zu row groups, %" PRIu64 " bytes\n",
            name, info.num_rows, info.num_row_groups, info.file_size);
    ingest_parquet_file_info_free(&info);

    struct ingest_buf o = INGEST_BUF_INIT;
    canon_begin(&o, schema);
    int first = 1;
    for (size_t i = 0; i < nb; i++)
        canon_rows(&o, batches[i], &first);
    canon_end(&o, first);
    if (o.oom) {
        fprintf(stderr, "pqgen: out of memory\n");
        exit(2);
    }
    snprintf(path, sizeof path, "%s.expect.json", name);
    rc = write_file(path, o.data, o.len);
    ingest_buf_free(&o);
    return rc;
}


static __int128 pow10_128(int n)
{
    __int128 x = 1;
    while (n--)
        x *= 10;
    return x;
}

/* --- case: all_types ---------------------------------------------------------------- */

static int case_all_types(void)
{
    static struct ingest_field fields[] = {
        F("b", INGEST_TYPE_BOOLEAN, 1),     F("i8", INGEST_TYPE_INT8, 1),
        F("i16", INGEST_TYPE_INT16, 1),     F("i32", INGEST_TYPE_INT32, 1),
        F("i64", INGEST_TYPE_INT64, 1),     F("f32", INGEST_TYPE_FLOAT, 1),
        F("f64", INGEST_TYPE_DOUBLE, 1),    F("s", INGEST_TYPE_STRING, 1),
        F("bin", INGEST_TYPE_BINARY, 1),    F("d", INGEST_TYPE_DATE, 1),
        F("ts", INGEST_TYPE_TIMESTAMP, 1),  FD("dec9", 9, 2, 1),
        FD("dec18", 18, 4, 1),              FD("dec38", 38, 10, 1),
        F("req_i64", INGEST_TYPE_INT64, 0), F("req_s", INGEST_TYPE_STRING, 0),
    };
    enum { NF = sizeof fields / sizeof fields[0] };
    static const int64_t ints[] = { 0, 1, -1, INT64_MIN, INT64_MAX, 42, -42, 127, -128, 1000000 };
    static const uint64_t f64bits[] = {
        0x0000000000000000ULL, 0x8000000000000000ULL, 0x7ff0000000000000ULL,
        0xfff0000000000000ULL, 0x7ff8000000000000ULL, 0x0000000000000001ULL,
        0x000fffffffffffffULL, 0x3ff0000000000000ULL, 0xc00921fb54442d18ULL,
        0x7fefffffffffffffULL,
    };
    static const uint32_t f32bits[] = {
        0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0x00000001,
        0x007fffff, 0x3f800000, 0xc0490fdb, 0x7f7fffff,
    };
    static const char *strs[] = {
        "", "a", "hello world", "\xc3\xa9t\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
        "\xf0\x9f\x98\x80 emoji", "quote\" back\\slash", "tab\tnewline\n", "\x7f\xc2\x80",
        "zzz",
    };
    static const int64_t dec9[] = { 0, 1, -1, 999999999, -999999999, 12345, -12345, 100, -100, 7 };
    static const int64_t dec18[] = {
        0, 1, -1, 999999999999999999LL, -999999999999999999LL, 123456789012LL,
        -123456789012LL, 10000, -5, 42,
    };
    struct vb_table t;
    vb_table_init(&t, fields, NF);
    size_t nrows = 24;
    for (size_t r = 0; r < nrows; r++) {
        size_t k = r % 10;
        int null = r % 7 == 3 || r == 20;     /* nullable columns' nulls */
        struct vb *c = t.cols;
        if (null) {
            for (int i = 0; i < 14; i++)
                vb_null(&c[i]);
        } else {
            vb_i64(&c[0], r % 3 == 0);
            vb_i64(&c[1], r & 1 ? -128 + (int64_t)r : 127 - (int64_t)r);
            vb_i64(&c[2], r & 1 ? INT16_MIN + (int64_t)r : INT16_MAX - (int64_t)r);
            vb_i64(&c[3], r & 1 ? INT32_MIN + (int64_t)r : INT32_MAX - (int64_t)r);
            vb_i64(&c[4], ints[k]);
            vb_f32_bits(&c[5], f32bits[k]);
            vb_f64_bits(&c[6], f64bits[k]);
            vb_str(&c[7], strs[k]);
            uint8_t bin[5] = { 0x00, 0xff, (uint8_t)r, 0x80, 0x7f };
            vb_bytes(&c[8], bin, r % 6);
            vb_i64(&c[9], r & 1 ? -719162 + (int64_t)r : 2932896 - (int64_t)r * 1000);
            vb_i64(&c[10], r & 1 ? -62135596800000000LL + (int64_t)r : 1700000000123456LL * (int64_t)(r % 4));
            vb_i64(&c[11], dec9[k]);
            vb_i64(&c[12], dec18[k]);
            __int128 big = pow10_128(38) - 1;
            __int128 d38 = k == 0 ? big : k == 1 ? -big : k == 2 ? 0 : k == 3 ? -1
                         : (__int128)dec18[k] * pow10_128(k + 10) * (k & 1 ? -1 : 1);
            vb_dec128(&c[13], d38);
        }
        vb_i64(&c[14], ints[(k + 3) % 10]);
        vb_str(&c[15], strs[(k + 1) % 10]);
    }
    vb_table_finish(&t);
    struct ingest_batch *b = &t.batch;
    static const struct ingest_parquet_kv kv[] = { { "ingestd.case", "all_types" },
                                                   { "empty.value", "" } };
    struct ingest_parquet_opts o = { .codec = INGEST_PARQUET_ZSTD, .kv = kv, .nkv = 2 };
    int rc = emit_case("all_types", &t.schema, &b, 1, &o);
    vb_table_free(&t);
    return rc;
}

/* --- case: zero_rows ------------------------------------------------------------------ */

static int case_zero_rows(void)
{
    static struct ingest_field elem[] = { F("element", INGEST_TYPE_INT32, 1) };
    static struct ingest_field fields[] = {
        F("id", INGEST_TYPE_INT64, 0), F("name", INGEST_TYPE_STRING, 1),
        FG("tags", INGEST_TYPE_LIST, 1, elem),
    };
    struct ingest_schema s = { fields, 3 };
    struct ingest_parquet_opts o = { .codec = INGEST_PARQUET_ZSTD };
    return emit_case("zero_rows", &s, NULL, 0, &o);
}

/* --- case: deep_nesting ------------------------------------------------------------------ */
/* s: struct<id int64 not null, items: list<struct<name string, attrs map<string,int32>>>>
 * m: map<string, list<int64>>  ll: list<list<int32>> */

static int case_deep_nesting(void)
{
    static struct ingest_field kv[] = { F("key", INGEST_TYPE_STRING, 0),
                                        F("value", INGEST_TYPE_INT32, 1) };
    static struct ingest_field item_fields[] = { F("name", INGEST_TYPE_STRING, 1),
                                                 FG("attrs", INGEST_TYPE_MAP, 1, kv) };
    static struct ingest_field item[] = { FG("element", INGEST_TYPE_STRUCT, 1, item_fields) };
    static struct ingest_field s_fields[] = { F("id", INGEST_TYPE_INT64, 0),
                                              FG("items", INGEST_TYPE_LIST, 1, item) };
    static struct ingest_field lelem[] = { F("element", INGEST_TYPE_INT64, 1) };
    static struct ingest_field mkv[] = { F("key", INGEST_TYPE_STRING, 0),
                                         FG("value", INGEST_TYPE_LIST, 1, lelem) };
    static struct ingest_field inner[] = { F("element", INGEST_TYPE_INT32, 1) };
    static struct ingest_field outer[] = { FG("element", INGEST_TYPE_LIST, 1, inner) };
    static struct ingest_field fields[] = {
        F("row", INGEST_TYPE_INT32, 0),
        FG("s", INGEST_TYPE_STRUCT, 1, s_fields),
        FG("m", INGEST_TYPE_MAP, 1, mkv),
        FG("ll", INGEST_TYPE_LIST, 1, outer),
    };
    struct vb_table t;
    vb_table_init(&t, fields, 4);
    struct vb *row = &t.cols[0], *s = &t.cols[1], *m = &t.cols[2], *ll = &t.cols[3];
    struct vb *id = &s->kids[0], *items = &s->kids[1], *it = &items->kids[0];
    struct vb *name = &it->kids[0], *attrs = &it->kids[1];
    struct vb *ak = &attrs->kids[0], *av = &attrs->kids[1];
    struct vb *mk = &m->kids[0], *mv = &m->kids[1], *mve = &mv->kids[0];
    struct vb *lo = &ll->kids[0], *li = &lo->kids[0];

    for (int r = 0; r < 40; r++) {
        vb_i64(row, r);
        /* s: cycles through null at every level */
        switch (r % 10) {
        case 0: vb_null(s); break;                                  /* s null */
        case 1: vb_i64(id, r); vb_null(items); vb_close(s); break;  /* items null */
        case 2: vb_i64(id, r); vb_close(items); vb_close(s); break; /* items [] */
        case 3: vb_i64(id, r); vb_null(it); vb_close(items); vb_close(s); break; /* [null] */
        case 4:                                                     /* [{null, null}] */
            vb_i64(id, r);
            vb_null(name); vb_null(attrs); vb_close(it);
            vb_close(items); vb_close(s);
            break;
        case 5:                                                     /* [{"", {}}] */
            vb_i64(id, r);
            vb_str(name, ""); vb_close(attrs); vb_close(it);
            vb_close(items); vb_close(s);
            break;
        case 6:                                                     /* {k: null} */
            vb_i64(id, r);
            vb_str(name, "x"); vb_str(ak, "k"); vb_null(av); vb_close(attrs); vb_close(it);
            vb_close(items); vb_close(s);
            break;
        default: {                                                  /* several of each */
            vb_i64(id, r);
            int n = r % 10 - 5;
            for (int j = 0; j < n; j++) {
                if (j == 1) {
                    vb_null(it);
                    continue;
                }
                char buf[32];
                snprintf(buf, sizeof buf, "n%d-%d \xe2\x82\xac", r, j);
                vb_str(name, buf);
                for (int a = 0; a < j + 1; a++) {
                    snprintf(buf, sizeof buf, "a%d", a);
                    vb_str(ak, buf);
                    if (a == 1)
                        vb_null(av);
                    else
                        vb_i64(av, r * 100 + a - 50);
                }
                vb_close(attrs);
                vb_close(it);
            }
            vb_close(items);
            vb_close(s);
        }
        }
        /* m: map<string, list<int64>> */
        switch (r % 5) {
        case 0: vb_null(m); break;
        case 1: vb_close(m); break;
        case 2: vb_str(mk, "a"); vb_null(mv); vb_str(mk, "b"); vb_close(mv); vb_close(m); break;
        case 3:
            vb_str(mk, "c"); vb_null(mve); vb_i64(mve, INT64_MIN); vb_close(mv);
            vb_close(m);
            break;
        default:
            for (int j = 0; j < 3; j++) {
                char k[8];
                snprintf(k, sizeof k, "k%d", j);
                vb_str(mk, k);
                for (int e = 0; e <= j; e++)
                    vb_i64(mve, (int64_t)r * 1000 + e);
                vb_close(mv);
            }
            vb_close(m);
        }
        /* ll: list<list<int32>> */
        switch (r % 6) {
        case 0: vb_null(ll); break;
        case 1: vb_close(ll); break;                                /* [] */
        case 2: vb_null(lo); vb_close(ll); break;                   /* [null] */
        case 3: vb_close(lo); vb_close(ll); break;                  /* [[]] */
        case 4: vb_null(li); vb_close(lo); vb_close(lo); vb_close(ll); break; /* [[null],[]] */
        default:
            for (int j = 0; j < 3; j++) {
                for (int e = 0; e < j + 1; e++)
                    vb_i64(li, r * 10 + e);
                vb_close(lo);
            }
            vb_close(ll);
        }
    }
    vb_table_finish(&t);
    struct ingest_batch *b = &t.batch;
    /* small pages so the nested columns span several pages */
    struct ingest_parquet_opts o = { .codec = INGEST_PARQUET_SNAPPY, .page_bytes = 64 };
    int rc = emit_case("deep_nesting", &t.schema, &b, 1, &o);
    vb_table_free(&t);
    return rc;
}

/* --- case: dictionary ---------------------------------------------------------------- */

static int case_dictionary(void)
{
    static struct ingest_field fields[] = {
        F("low", INGEST_TYPE_STRING, 1), F("high", INGEST_TYPE_STRING, 0),
        F("lowint", INGEST_TYPE_INT64, 0), F("lowdbl", INGEST_TYPE_DOUBLE, 1),
        F("highint", INGEST_TYPE_INT64, 0),
    };
    static const char *words[] = { "alpha", "beta", "gamma", "\xce\xb4\xce\xad\xce\xbb\xcf\x84\xce\xb1", "" };
    struct vb_table t;
    vb_table_init(&t, fields, 5);
    for (int r = 0; r < 60000; r++) {
        if (r % 11 == 0)
            vb_null(&t.cols[0]);
        else
            vb_str(&t.cols[0], words[(r * 7) % 5]);
        char buf[64];
        snprintf(buf, sizeof buf, "high-cardinality-value-%08d-%x", r, r * 2654435761u);
        vb_str(&t.cols[1], buf);
        vb_i64(&t.cols[2], (r % 3) - 1);
        if (r % 13 == 0)
            vb_null(&t.cols[3]);
        else
            vb_f64(&t.cols[3], r % 4 == 0 ? -0.0 : r % 4 == 1 ? 0.0 : r % 4 == 2 ? 1.5 : NAN);
        vb_i64(&t.cols[4], (int64_t)r * 2654435761LL);
    }
    vb_table_finish(&t);
    struct ingest_batch *b = &t.batch;
    struct ingest_parquet_opts o = { .codec = INGEST_PARQUET_ZSTD, .page_bytes = 256 << 10,
                                     .dict_max_bytes = 512 << 10 };
    int rc = emit_case("dictionary", &t.schema, &b, 1, &o);
    vb_table_free(&t);
    return rc;
}

/* --- case: codecs ------------------------------------------------------------------------- */

static int case_codecs(void)
{
    static struct ingest_field elem[] = { F("element", INGEST_TYPE_STRING, 1) };
    static struct ingest_field fields[] = {
        F("id", INGEST_TYPE_INT64, 0), F("text", INGEST_TYPE_STRING, 1),
        F("x", INGEST_TYPE_DOUBLE, 1), FG("tags", INGEST_TYPE_LIST, 1, elem),
        FD("amount", 12, 2, 1),
    };
    struct vb_table t;
    vb_table_init(&t, fields, 5);
    for (int r = 0; r < 5000; r++) {
        char buf[80];
        vb_i64(&t.cols[0], r);
        if (r % 17 == 0) {
            vb_null(&t.cols[1]);
        } else {
            snprintf(buf, sizeof buf, "event %d from host-%d: status=%s", r, r % 13,
                     r % 5 ? "ok" : "error");
            vb_str(&t.cols[1], buf);
        }
        if (r % 19 == 0)
            vb_null(&t.cols[2]);
        else
            vb_f64(&t.cols[2], r * 0.25 - 100);
        if (r % 7 == 0) {
            vb_null(&t.cols[3]);
        } else {
            struct vb *e = &t.cols[3].kids[0];
            for (int j = 0; j < r % 4; j++) {
                snprintf(buf, sizeof buf, "tag%d", (r + j) % 9);
                vb_str(e, buf);
            }
            vb_close(&t.cols[3]);
        }
        vb_i64(&t.cols[4], (int64_t)r * 12345 - 3000000);
    }
    vb_table_finish(&t);
    struct ingest_batch *b = &t.batch;
    static const struct { const char *name; int codec; } cs[] = {
        { "codecs_none", INGEST_PARQUET_UNCOMPRESSED },
        { "codecs_snappy", INGEST_PARQUET_SNAPPY },
        { "codecs_zstd", INGEST_PARQUET_ZSTD },
    };
    int rc = 0;
    for (size_t i = 0; i < 3; i++) {
        struct ingest_parquet_opts o = { .codec = cs[i].codec, .page_bytes = 16 << 10 };
        rc |= emit_case(cs[i].name, &t.schema, &b, 1, &o);
    }
    vb_table_free(&t);
    return rc;
}

/* --- case: many_rows ------------------------------------------------------------------------ */

static int case_many_rows(void)
{
    static struct ingest_field fields[] = {
        F("id", INGEST_TYPE_INT64, 0), F("v", INGEST_TYPE_DOUBLE, 1),
        F("cat", INGEST_TYPE_STRING, 1), F("ts", INGEST_TYPE_TIMESTAMP, 1),
        F("flag", INGEST_TYPE_BOOLEAN, 1),
    };
    const char *env = getenv("PQGEN_ROWS");
    long total = env ? strtol(env, NULL, 10) : 200000;
    if (total < 0)
        total = 0;
    static const char *cats[] = { "red", "green", "blue", "cyan", "magenta", "yellow" };
    enum { PER_BATCH = 7001 };
    size_t nb = (size_t)(total + PER_BATCH - 1) / PER_BATCH;
    struct vb_table *ts = calloc(nb ? nb : 1, sizeof *ts);
    if (!ts) {
        fprintf(stderr, "pqgen: out of memory\n");
        return 2;
    }
    struct ingest_batch **bs = calloc(nb ? nb : 1, sizeof *bs);
    if (!bs)
        return 1;
    long r = 0;
    for (size_t i = 0; i < nb; i++) {
        struct vb_table *t = &ts[i];
        vb_table_init(t, fields, 5);
        for (long k = 0; k < PER_BATCH && r < total; k++, r++) {
            vb_i64(&t->cols[0], r);
            if (r % 10 == 9)
                vb_null(&t->cols[1]);
            else
                vb_f64(&t->cols[1], (double)(r * 37 % 1000) / 8.0);
            if (r % 23 == 0)
                vb_null(&t->cols[2]);
            else
                vb_str(&t->cols[2], cats[r % 6]);
            vb_i64(&t->cols[3], 1700000000000000LL + r * 1000003LL);
            if (r % 5 == 4)
                vb_null(&t->cols[4]);
            else
                vb_i64(&t->cols[4], (r / 3) & 1);
        }
        vb_table_finish(t);
        bs[i] = &t->batch;
    }
    struct ingest_parquet_opts o = { .codec = INGEST_PARQUET_ZSTD, .page_bytes = 64 << 10,
                                     .row_group_bytes = 1 << 20 };
    struct ingest_schema schema = { fields, 5 };
    int rc = emit_case("many_rows", &schema, bs, nb, &o);
    for (size_t i = 0; i < nb; i++)
        vb_table_free(&ts[i]);
    free(ts);
    free(bs);
    return rc;
}

/* --- main --------------------------------------------------------------------------------------- */

static const struct {
    const char *name;
    int (*fn)(void);
} cases[] = {
    { "all_types", case_all_types },     { "zero_rows", case_zero_rows },
    { "deep_nesting", case_deep_nesting }, { "dictionary", case_dictionary },
    { "codecs", case_codecs },           { "many_rows", case_many_rows },
};

int main(int argc, char **argv)
{
    size_t ncases = sizeof cases / sizeof cases[0];
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < ncases; i++)
            printf("%s\n", cases[i].name);
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: pqgen CASE|--all OUTDIR   (pqgen --list)\n");
        return 2;
    }
    outdir = argv[2];
    mkdir(outdir, 0755);
    int all = strcmp(argv[1], "--all") == 0, found = 0, rc = 0;
    for (size_t i = 0; i < ncases; i++) {
        if (all || strcmp(argv[1], cases[i].name) == 0) {
            found = 1;
            rc |= cases[i].fn();
        }
    }
    if (!found) {
        fprintf(stderr, "pqgen: unknown case '%s' (pqgen --list)\n", argv[1]);
        return 2;
    }
    return rc ? 1 : 0;
}
