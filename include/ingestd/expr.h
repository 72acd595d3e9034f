/*
 * expr.h - the SQL-like expressions of [transform] and [expect NAME].
 *
 *   order_date   = to_date(ts)
 *   condition    = amount >= 0 AND amount < 1e9
 *
 * The dialect is Spark SQL's, cut down to what a per-row expression needs
 * (no aggregates, no subqueries).  ingest_expr_parse() turns the text into a
 * small typed tree; the config loader parses every expression at load time,
 * so a mistake is reported as "at column 12: <reason>" before anything runs.
 * Columns are 1-based and count characters, not bytes.
 *
 * The tree is meant to be compiled, not interpreted row by row: an evaluator
 * walks it once per batch schema, resolves column references to vectors and
 * picks a kernel per node.  For that, every node carries its kind, an operator
 * or a function descriptor, its position in the text, and a static type.  The
 * parser knows the type of literals, casts, predicates and most functions;
 * what depends on column types is INGEST_EXPR_T_UNKNOWN until the evaluator
 * resolves it against the schema with ingest_expr_type_common() and
 * ingest_expr_func_result(), which implement the same rules the parser uses.
 *
 * Hostile input is expected (configs are edited by hand): the text is
 * limited to INGEST_EXPR_MAX_LEN bytes, its nesting to INGEST_EXPR_MAX_NESTING
 * and the height of the tree to INGEST_EXPR_MAX_DEPTH, so both the parser
 * and any recursive walk over a parsed tree (free, format, an evaluator)
 * have a bounded stack.
 *
 * Threads: no shared state; any function may run on any thread.  A tree is
 * immutable after parsing and may be read from several threads at once.
 */
#ifndef INGESTD_EXPR_H
#define INGESTD_EXPR_H

#include <stddef.h>
#include <stdint.h>

struct ingest_buf;

#define INGEST_EXPR_MAX_LEN   65536  /* bytes of expression text */
#define INGEST_EXPR_MAX_DEPTH 256    /* height of a parsed tree */
/* Nesting of parentheses, NOT, signs, arguments and CASE parts in the text.
 * Twice the height, because the fully parenthesised form of a tree of height
 * h nests up to 2h deep and must read back; about 0.5 MiB of stack. */
#define INGEST_EXPR_MAX_NESTING (2 * INGEST_EXPR_MAX_DEPTH)
#define INGEST_EXPR_VARIADIC  (-1)   /* max_args of a function without upper bound */

/* --- types --------------------------------------------------------------- */

/* The value types of the table schema, plus UNKNOWN and NULL.  Keep in step
 * with the [schema] types: string long int double float boolean date
 * timestamp binary decimal(p,s). */
enum ingest_expr_type_id {
    INGEST_EXPR_T_UNKNOWN = 0, /* depends on column types; resolved later */
    INGEST_EXPR_T_NULL,        /* the type of the literal NULL; fits any type */
    INGEST_EXPR_T_BOOLEAN,
    INGEST_EXPR_T_INT,         /* 32-bit */
    INGEST_EXPR_T_LONG,        /* 64-bit */
    INGEST_EXPR_T_FLOAT,
    INGEST_EXPR_T_DOUBLE,
    INGEST_EXPR_T_DECIMAL,     /* precision 1..38, scale 0..precision */
    INGEST_EXPR_T_STRING,      /* UTF-8 */
    INGEST_EXPR_T_BINARY,
    INGEST_EXPR_T_DATE,        /* days since 1970-01-01 */
    INGEST_EXPR_T_TIMESTAMP,   /* microseconds since 1970-01-01T00:00:00Z */
};

#define INGEST_EXPR_DECIMAL_MAX_PRECISION 38

struct ingest_expr_type {
    enum ingest_expr_type_id id;
    int precision;             /* DECIMAL only, else 0 */
    int scale;                 /* DECIMAL only, else 0 */
};

/* Static name: "long", "decimal", "unknown"... */
const char *ingest_expr_type_name(enum ingest_expr_type_id id);
/* Appends the type as written in a schema: "decimal(10,2)", "string".
 * Returns 0 or INGEST_ENOMEM. */
int ingest_expr_type_format(const struct ingest_expr_type *t, struct ingest_buf *out);
/* Parses a type name as written in [schema] and CAST: string long int double
 * float boolean date timestamp binary decimal[(p[,s])], and the aliases
 * bigint and integer; case-insensitive, surrounding blanks allowed.
 * Returns 0, or INGEST_EPARSE with "at column N: reason" in errbuf. */
int ingest_expr_type_parse(const char *text, struct ingest_expr_type *out,
                           char *errbuf, size_t errlen);
/* The type both a and b convert to without loss of meaning, as Spark's
 * coercion for coalesce/CASE/IN does: NULL fits anything, numbers widen
 * (int < long < decimal < float < double), date widens to timestamp, and
 * anything but binary widens to string.  UNKNOWN in, UNKNOWN out.
 * Returns 0, or INGEST_EINVAL when there is none (boolean and int). */
int ingest_expr_type_common(const struct ingest_expr_type *a,
                            const struct ingest_expr_type *b,
                            struct ingest_expr_type *out);

/* --- functions ------------------------------------------------------------ */

/* How a function's result type follows from its argument types. */
enum ingest_expr_rule {
    INGEST_EXPR_RULE_FIXED,       /* always `result` */
    INGEST_EXPR_RULE_ARG0,        /* the type of the first argument (abs, round, nullif) */
    INGEST_EXPR_RULE_COMMON,      /* common type of all arguments (coalesce, greatest) */
    INGEST_EXPR_RULE_COMMON_TAIL, /* common type of all but the first (if) */
    INGEST_EXPR_RULE_INTEGRAL,    /* long, or decimal(p-s+1,0) for decimal(p,s) (floor, ceil) */
};

/* Function flags: what the evaluator must know beyond the arguments. */
#define INGEST_EXPR_F_PER_BATCH 0x1u /* one value per micro-batch (current_timestamp) */
#define INGEST_EXPR_F_RANDOM    0x2u /* a new value per row (uuid) */
#define INGEST_EXPR_F_SOURCE    0x4u /* reads the row's source metadata (input_file) */

/*
 * The function table: one line per function generates the id enum, the
 * descriptor table and the `ingestd --help-config` text.
 * XX(ID, name, min_args, max_args, rule, result type, flags, synopsis, description)
 */
#define INGEST_EXPR_FUNC_MAP(XX)                                                      \
    XX(CURRENT_TIMESTAMP, "current_timestamp", 0, 0, FIXED, TIMESTAMP, INGEST_EXPR_F_PER_BATCH, \
       "current_timestamp()", "start time of the micro-batch, the same for all its rows") \
    XX(CURRENT_DATE, "current_date", 0, 0, FIXED, DATE, INGEST_EXPR_F_PER_BATCH,      \
       "current_date()", "UTC date of the micro-batch's start")                       \
    XX(INPUT_FILE, "input_file", 0, 0, FIXED, STRING, INGEST_EXPR_F_SOURCE,           \
       "input_file()", "path of the file the row was read from; NULL for Kafka")      \
    XX(TO_DATE, "to_date", 1, 2, FIXED, DATE, 0,                                      \
       "to_date(x[, fmt])", "string or timestamp to date; fmt is a pattern like 'yyyy-MM-dd'") \
    XX(TO_TIMESTAMP, "to_timestamp", 1, 2, FIXED, TIMESTAMP, 0,                       \
       "to_timestamp(x[, fmt])", "string or date to timestamp (UTC unless x has an offset)") \
    XX(DATE_FORMAT, "date_format", 2, 2, FIXED, STRING, 0,                            \
       "date_format(ts, fmt)", "date or timestamp as text, pattern like 'yyyy-MM-dd HH:mm'") \
    XX(YEAR, "year", 1, 1, FIXED, INT, 0, "year(x)", "year of a date or timestamp")   \
    XX(MONTH, "month", 1, 1, FIXED, INT, 0, "month(x)", "month (1-12) of a date or timestamp") \
    XX(DAY, "day", 1, 1, FIXED, INT, 0, "day(x)", "day of month (1-31) of a date or timestamp") \
    XX(HOUR, "hour", 1, 1, FIXED, INT, 0, "hour(x)", "hour (0-23, UTC) of a timestamp") \
    XX(LOWER, "lower", 1, 1, FIXED, STRING, 0, "lower(s)", "s in lower case")         \
    XX(UPPER, "upper", 1, 1, FIXED, STRING, 0, "upper(s)", "s in upper case")         \
    XX(TRIM, "trim", 1, 1, FIXED, STRING, 0, "trim(s)", "s without leading and trailing spaces") \
    XX(LENGTH, "length", 1, 1, FIXED, INT, 0,                                         \
       "length(s)", "number of characters of s (bytes of a binary)")                  \
    XX(SUBSTRING, "substring", 2, 3, FIXED, STRING, 0,                                \
       "substring(s, pos[, len])", "len characters of s from pos (1-based; < 0 from the end)") \
    XX(CONCAT, "concat", 1, INGEST_EXPR_VARIADIC, FIXED, STRING, 0,                   \
       "concat(s, ...)", "the arguments joined; NULL if any is NULL")                 \
    XX(COALESCE, "coalesce", 1, INGEST_EXPR_VARIADIC, COMMON, UNKNOWN, 0,             \
       "coalesce(x, ...)", "the first argument that is not NULL")                     \
    XX(ABS, "abs", 1, 1, ARG0, UNKNOWN, 0, "abs(x)", "absolute value")                \
    XX(ROUND, "round", 1, 2, ARG0, UNKNOWN, 0,                                        \
       "round(x[, d])", "x rounded half up to d decimal places (default 0)")          \
    XX(FLOOR, "floor", 1, 1, INTEGRAL, LONG, 0, "floor(x)", "largest integer not above x") \
    XX(CEIL, "ceil", 1, 1, INTEGRAL, LONG, 0, "ceil(x)", "smallest integer not below x") \
    XX(REGEXP_EXTRACT, "regexp_extract", 2, 3, FIXED, STRING, 0,                      \
       "regexp_extract(s, pattern[, idx])", "group idx (default 1) of the first match, or ''") \
    XX(REGEXP_LIKE, "regexp_like", 2, 2, FIXED, BOOLEAN, 0,                           \
       "regexp_like(s, pattern)", "true if the regular expression matches anywhere in s") \
    XX(SHA2, "sha2", 2, 2, FIXED, STRING, 0,                                          \
       "sha2(x, bits)", "hex SHA-2 digest of x; bits is 224, 256, 384 or 512")        \
    XX(MD5, "md5", 1, 1, FIXED, STRING, 0, "md5(x)", "hex MD5 digest of x")           \
    XX(HASH, "hash", 1, INGEST_EXPR_VARIADIC, FIXED, INT, 0,                          \
       "hash(x, ...)", "32-bit Murmur3 hash of the arguments, as Spark's hash()")     \
    XX(UUID, "uuid", 0, 0, FIXED, STRING, INGEST_EXPR_F_RANDOM,                       \
       "uuid()", "a random UUID, new for every row")                                  \
    XX(NULLIF, "nullif", 2, 2, ARG0, UNKNOWN, 0, "nullif(a, b)", "NULL if a = b, else a") \
    XX(IF, "if", 3, 3, COMMON_TAIL, UNKNOWN, 0, "if(c, a, b)", "a if c is true, else b") \
    XX(GREATEST, "greatest", 1, INGEST_EXPR_VARIADIC, COMMON, UNKNOWN, 0,             \
       "greatest(x, ...)", "largest argument, skipping NULLs")                        \
    XX(LEAST, "least", 1, INGEST_EXPR_VARIADIC, COMMON, UNKNOWN, 0,                   \
       "least(x, ...)", "smallest argument, skipping NULLs")                          \
    XX(SIZE, "size", 1, 1, FIXED, INT, 0,                                             \
       "size(x)", "number of elements of a JSON array or object")                     \
    XX(GET_JSON_OBJECT, "get_json_object", 2, 2, FIXED, STRING, 0,                    \
       "get_json_object(json, path)", "value at a JSONPath like '$.a.b[0]', as JSON text") \
    XX(SPLIT_PART, "split_part", 3, 3, FIXED, STRING, 0,                              \
       "split_part(s, delim, n)", "n-th field (1-based; negative from the end) of s split at delim")

enum ingest_expr_func_id {
#define XX(id, name, mn, mx, rule, rt, flags, syn, desc) INGEST_FN_##id,
    INGEST_EXPR_FUNC_MAP(XX)
#undef XX
    INGEST_FN_COUNT_
};

struct ingest_expr_func {
    enum ingest_expr_func_id id;
    const char *name;              /* lower case */
    int min_args;
    int max_args;                  /* or INGEST_EXPR_VARIADIC */
    enum ingest_expr_rule rule;
    struct ingest_expr_type result; /* for INGEST_EXPR_RULE_FIXED */
    unsigned flags;                /* INGEST_EXPR_F_* */
    const char *synopsis;          /* "to_date(x[, fmt])" */
    const char *description;       /* one line, for --help-config */
};

/* The whole table (static storage), in documentation order; *n gets its size. */
const struct ingest_expr_func *ingest_expr_func_table(size_t *n);
/* Case-insensitive lookup; NULL if unknown.  The result is static. */
const struct ingest_expr_func *ingest_expr_func_lookup(const char *name);
/* Result type of fn applied to arguments of types args[0..nargs-1].
 * Returns 0, or INGEST_EINVAL when a COMMON rule finds no common type. */
int ingest_expr_func_result(const struct ingest_expr_func *fn,
                            const struct ingest_expr_type *args, int nargs,
                            struct ingest_expr_type *out);

/* --- the tree ---------------------------------------------------------------- */

enum ingest_expr_kind {
    INGEST_EXPR_LITERAL,  /* u.lit */
    INGEST_EXPR_COLUMN,   /* u.col: a, a.b.c, `weird name` */
    INGEST_EXPR_UNARY,    /* op NEG, PLUS or NOT; args[0] */
    INGEST_EXPR_BINARY,   /* op OR AND EQ..GE CONCAT ADD..MOD; args[0] op args[1] */
    INGEST_EXPR_IS_NULL,  /* args[0] IS [NOT] NULL */
    INGEST_EXPR_IN,       /* args[0] [NOT] IN (args[1], ..., args[nargs-1]) */
    INGEST_EXPR_BETWEEN,  /* args[0] [NOT] BETWEEN args[1] AND args[2] */
    INGEST_EXPR_LIKE,     /* op LIKE or RLIKE; args[0] [NOT] LIKE args[1] */
    INGEST_EXPR_CASE,     /* see INGEST_EXPR_CASE_* for the layout of args */
    INGEST_EXPR_CAST,     /* CAST(args[0] AS type) */
    INGEST_EXPR_CALL,     /* u.func(args...) */
};

enum ingest_expr_op {
    INGEST_EXPR_OP_NONE = 0,
    INGEST_EXPR_OP_NEG, INGEST_EXPR_OP_PLUS, INGEST_EXPR_OP_NOT,          /* unary */
    INGEST_EXPR_OP_OR, INGEST_EXPR_OP_AND,
    INGEST_EXPR_OP_EQ, INGEST_EXPR_OP_NE,                                 /* = == ; != <> */
    INGEST_EXPR_OP_LT, INGEST_EXPR_OP_LE, INGEST_EXPR_OP_GT, INGEST_EXPR_OP_GE,
    INGEST_EXPR_OP_CONCAT,                                                /* || */
    INGEST_EXPR_OP_ADD, INGEST_EXPR_OP_SUB,
    INGEST_EXPR_OP_MUL, INGEST_EXPR_OP_DIV, INGEST_EXPR_OP_MOD,
    INGEST_EXPR_OP_LIKE, INGEST_EXPR_OP_RLIKE,
};

/* flags of a node */
#define INGEST_EXPR_NEGATED          0x1u /* IS NOT NULL, NOT IN, NOT BETWEEN, NOT LIKE */
#define INGEST_EXPR_CASE_HAS_OPERAND 0x2u /* CASE x WHEN v THEN r ...: args[0] is x */
#define INGEST_EXPR_CASE_HAS_ELSE    0x4u /* the last of args is the ELSE result */
/* CASE args: [operand] when1 then1 when2 then2 ... [else] */

/* A literal value.  The field used depends on type.id:
 *   BOOLEAN, INT, LONG: i (0/1 for booleans)
 *   FLOAT, DOUBLE:      d
 *   DECIMAL:            s = the unscaled digits (exact, any precision),
 *                       i = the unscaled value when precision <= 18,
 *                       d = the nearest double
 *   STRING:             s, len (NUL-terminated, valid UTF-8)
 *   DATE:               i = days since 1970-01-01
 *   TIMESTAMP:          i = microseconds since the epoch, UTC
 *   NULL:               nothing */
struct ingest_expr_value {
    int64_t i;
    double  d;
    char   *s;
    size_t  len;
};

/*
 * A node.  Read-only for everyone but the parser; the evaluator switches on
 * kind and recurses over args (at most INGEST_EXPR_MAX_DEPTH deep).
 */
struct ingest_expr {
    enum ingest_expr_kind kind;
    enum ingest_expr_op op;        /* UNARY, BINARY, LIKE; else NONE */
    unsigned flags;                /* INGEST_EXPR_NEGATED, INGEST_EXPR_CASE_* */
    int pos;                       /* 1-based column where the node's text starts */
    int op_pos;                    /* column of the operator of an infix node
                                    * (a + b, x IS NULL, x NOT IN ...); else pos */
    struct ingest_expr_type type;  /* static type; UNKNOWN when it depends on columns */
    int height;                    /* 1 for a leaf */
    int nargs;
    struct ingest_expr **args;
    union {
        struct ingest_expr_value lit;              /* LITERAL */
        struct {
            char **parts;                          /* a.b.c: {"a","b","c"}, unquoted */
            int nparts;
        } col;                                     /* COLUMN */
        const struct ingest_expr_func *func;       /* CALL (static table entry) */
    } u;
};

/* --- parsing ----------------------------------------------------------------- */

/*
 * Parses one expression.  Returns a tree the caller owns (free it with
 * ingest_expr_free), or NULL with "at column N: reason" written to errbuf
 * (truncated to errlen; errbuf may be NULL).  Besides syntax, it rejects
 * unknown functions and wrong argument counts, integers beyond 64 bits,
 * invalid DATE/TIMESTAMP literals, comparisons with a NULL literal, and
 * non-boolean operands of AND/OR/NOT/WHEN whose type is known.  It does not
 * know the schema: check column names with ingest_expr_columns().
 */
struct ingest_expr *ingest_expr_parse(const char *text, char *errbuf, size_t errlen);

/* Frees a tree from ingest_expr_parse; NULL is fine. */
void ingest_expr_free(struct ingest_expr *e);

/*
 * Calls cb with the top-level name of every column reference ("a" for a.b,
 * unquoted), in source order, duplicates included.  Stops at the first
 * nonzero return of cb and returns it; 0 when all were visited.  The name is
 * valid for the lifetime of e.
 */
int ingest_expr_columns(const struct ingest_expr *e,
                        int (*cb)(void *ud, const char *name), void *ud);

/* Calls cb on every node, parents before children, in source order; stops
 * at the first nonzero return and returns it.  For callers that need more
 * than a name, such as the position of a column reference. */
int ingest_expr_walk(const struct ingest_expr *e,
                     int (*cb)(void *ud, const struct ingest_expr *node), void *ud);

/*
 * 1 when e is known to give a boolean: a comparison, AND/OR/NOT, IS NULL,
 * IN, BETWEEN, LIKE/RLIKE, TRUE/FALSE, a boolean function (regexp_like), or
 * a CASE/if/coalesce whose branches are all of those; else 0.  A value that
 * depends on a column's type, such as a bare column `is_valid`, gives 0 and
 * has type INGEST_EXPR_T_UNKNOWN: check that against the schema.
 */
int ingest_expr_is_boolean(const struct ingest_expr *e);

/*
 * Appends e fully parenthesised, in a form ingest_expr_parse reads back to
 * the same tree: "((a + 1) > b)", "to_date(ts)", "(x NOT IN (1, 2))".  For
 * tests and debug logs.  Returns 0 or INGEST_ENOMEM.
 */
int ingest_expr_format(const struct ingest_expr *e, struct ingest_buf *out);

/* Static names for debug output: "binary", "AND", "<=". */
const char *ingest_expr_kind_name(enum ingest_expr_kind kind);
const char *ingest_expr_op_name(enum ingest_expr_op op);

/* Testing: the n-th allocation of the parser from now on fails (1 = the
 * next one); 0 turns it off.  Per thread. */
void ingest_expr_test_fail_alloc(long n);

#endif
