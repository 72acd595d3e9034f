/*
 * json.c - the exact-number JSON DOM reader (see json.h).
 *
 * Memory.  A document owns one arena: a list of blocks, the first 16 KiB
 * (it also holds the arena's own header), each next one twice the last up
 * to 1 MiB; a request bigger than a quarter of the next block size (a long
 * string) gets a block of its own so the current block is not abandoned.
 * Nodes, member names, strings and number literals are all copied there,
 * so the tree never points into the caller's text.
 *
 * Parsing is one pass over the text by an explicit state machine: open
 * containers sit on a fixed stack of MAX_DEPTH frames inside the parser, so
 * 100k '[' cost no C stack and are refused at the 513th.  Each frame keeps
 * its last child so appending is O(1).
 *
 * Strings are read twice: scan_string() walks to the closing quote and
 * checks everything (escapes, surrogate pairs, control characters, UTF-8
 * per RFC 3629), eight bytes at a time while nothing needs a look; then the
 * bytes are copied, with memcpy when there was no escape, else through
 * unescape(), which may trust the text.  Checking first means the first
 * error in the text is the one reported.
 *
 * Errors are INGEST_EPARSE with "offset N: what" (N a 0-based byte offset)
 * or INGEST_ENOMEM; either way the arena is freed and the doc is empty.
 * ingest_json_double uses strtod, which assumes the "C" locale: ingestd
 * never calls setlocale().
 */
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingestd/error.h"
#include "ingestd/json.h"

#define MAX_DEPTH   512
#define BLOCK_FIRST ((size_t)16 * 1024)
#define BLOCK_MAX   ((size_t)1024 * 1024)

/* --- arena ------------------------------------------------------------------------- */

/* Block header; the union makes the data after it max-aligned. */
union block {
    union block *next;
    max_align_t align;
};

struct arena {
    union block *blocks;        /* every block; the first one also holds this header */
    char *cur;                  /* free space in the block being filled */
    size_t left;
    size_t next_size;           /* size of the next general block */
};

static struct arena *arena_new(void)
{
    union block *b = malloc(BLOCK_FIRST);
    if (!b)
        return NULL;
    b->next = NULL;
    struct arena *a = (struct arena *)(b + 1);
    a->blocks = b;
    a->cur = (char *)(a + 1);
    a->left = BLOCK_FIRST - sizeof *b - sizeof *a;
    a->next_size = BLOCK_FIRST * 2;
    return a;
}

static void arena_free(struct arena *a)
{
    if (!a)
        return;
    /* The header lives in one of the blocks: read the list head first. */
    union block *b = a->blocks;
    while (b) {
        union block *next = b->next;
        free(b);
        b = next;
    }
}

/* Slow path of arena_alloc: a new block, whose data is max-aligned so any
 * alignment asked for holds. */
static void *arena_grow(struct arena *a, size_t n)
{
    union block *b;
    if (n > a->next_size / 4) {
        if (n > SIZE_MAX - sizeof *b)
            return NULL;
        b = malloc(sizeof *b + n);
        if (!b)
            return NULL;
        b->next = a->blocks->next;          /* keep filling the current block */
        a->blocks->next = b;
        return b + 1;
    }
    b = malloc(a->next_size);
    if (!b)
        return NULL;
    b->next = a->blocks;
    a->blocks = b;
    a->cur = (char *)(b + 1) + n;
    a->left = a->next_size - sizeof *b - n;
    if (a->next_size < BLOCK_MAX)
        a->next_size *= 2;
    return b + 1;
}

static inline void *arena_alloc(struct arena *a, size_t n, size_t align)
{
    size_t pad = (size_t)(-(uintptr_t)a->cur) & (align - 1);
    if (n <= a->left && pad <= a->left - n) {
        void *p = a->cur + pad;
        a->cur += pad + n;
        a->left -= pad + n;
        return p;
    }
    return arena_grow(a, n);
}

/* --- parser state and errors ----------------------------------------------------- */

struct frame {
    struct ingest_json *node;   /* the open array or object */
    struct ingest_json *last;   /* its last child so far */
};

struct parser {
    const unsigned char *text;  /* start of the input, for offsets */
    const unsigned char *end;
    struct arena *arena;
    char *err;
    size_t errlen;
    struct ingest_json *root;
    const char *key;            /* member name read, waiting for its value */
    size_t key_len;
    int depth;
    struct frame stack[MAX_DEPTH];
};

__attribute__((format(printf, 3, 4)))
static int fail(struct parser *ps, const unsigned char *at, const char *fmt, ...)
{
    if (ps->err && ps->errlen) {
        int n = snprintf(ps->err, ps->errlen, "offset %zu: ", (size_t)(at - ps->text));
        if (n >= 0 && (size_t)n < ps->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return INGEST_EPARSE;
}

/* "expected X", saying so when the input simply ended. */
static int expected(struct parser *ps, const unsigned char *at, const char *what)
{
    if (at == ps->end)
        return fail(ps, at, "expected %s, found end of input", what);
    return fail(ps, at, "expected %s", what);
}

static int oom(struct parser *ps)
{
    if (ps->err && ps->errlen)
        snprintf(ps->err, ps->errlen, "out of memory");
    return INGEST_ENOMEM;
}

static inline const unsigned char *skip_ws(const unsigned char *s, const unsigned char *end)
{
    while (s < end && (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t'))
        s++;
    return s;
}

static inline int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* --- strings ---------------------------------------------------------------------- */

/* Bytes that stand for themselves inside a string: 0x20..0x7f but '"' and '\\'. */
static const unsigned char plain[256] = {
    [0x20 ... 0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0x7f] = 1,
};

#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Nonzero when one of the eight bytes is < 0x20, '"', '\\' or >= 0x80.
 * (Bytes after the first such one may be flagged wrongly; the caller
 * only needs "all eight are plain" to be exact.) */
static inline uint64_t word_special(const unsigned char *p)
{
    uint64_t x;
    memcpy(&x, p, sizeof x);
    uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');
    return ((x - ONES * 0x20) | (q - ONES) | (b - ONES) | x) & HIGHS;
}

/* Length of the well-formed UTF-8 sequence at p (2..4), or 0.  RFC 3629
 * table: no overlongs, no encoded surrogates, nothing past U+10FFFF. */
static inline size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    size_t avail = (size_t)(end - p);
    unsigned c = p[0], lo = 0x80, hi = 0xbf;
#define CONT(b) ((b) >= 0x80 && (b) <= 0xbf)
    if (c >= 0xc2 && c <= 0xdf)
        return avail >= 2 && CONT(p[1]) ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
        return avail >= 3 && p[1] >= lo && p[1] <= hi && CONT(p[2]) ? 3 : 0;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
        return avail >= 4 && p[1] >= lo && p[1] <= hi && CONT(p[2]) && CONT(p[3]) ? 4 : 0;
    }
#undef CONT
    return 0;
}

/* The four hex digits at p as a number, or -1. */
static long hex4(const unsigned char *p, const unsigned char *end)
{
    long v = 0;
    if (end - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i];
        if (c >= '0' && c <= '9')
            v = v * 16 + (c - '0');
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            v = v * 16 + ((c | 0x20) - 'a' + 10);
        else
            return -1;
    }
    return v;
}

/* Checks the escape at p (a backslash with at least one byte after it);
 * returns how many bytes it spans, or INGEST_EPARSE. */
static int check_escape(struct parser *ps, const unsigned char *p)
{
    switch (p[1]) {
    case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        return 2;
    case 'u':
        break;
    default:
        return fail(ps, p, "invalid escape");
    }
    long cp = hex4(p + 2, ps->end);
    if (cp < 0)
        return fail(ps, p, "invalid \\u escape");
    if (cp < 0xd800 || cp > 0xdfff)
        return 6;
    if (cp <= 0xdbff && ps->end - p >= 8 && p[6] == '\\' && p[7] == 'u') {
        long lo = hex4(p + 8, ps->end);
        if (lo < 0)
            return fail(ps, p + 6, "invalid \\u escape");
        if (lo >= 0xdc00 && lo <= 0xdfff)
            return 12;
    }
    return fail(ps, p, "lone surrogate in \\u escape");
}

/* Walks the string whose opening quote is at q and checks it; on success
 * *close is its closing quote and *escaped says whether it holds escapes. */
static int scan_string(struct parser *ps, const unsigned char *q,
                       const unsigned char **close, int *escaped)
{
    const unsigned char *p = q + 1, *end = ps->end;
    int esc = 0;
    for (;;) {
        while (end - p >= 8 && !word_special(p))
            p += 8;
        while (p < end && plain[*p])
            p++;
        if (p == end)
            return fail(ps, q, "unterminated string");
        if (*p == '"')
            break;
        if (*p == '\\') {
            if (end - p < 2)
                return fail(ps, q, "unterminated string");
            int n = check_escape(ps, p);
            if (n < 0)
                return n;
            p += n;
            esc = 1;
        } else if (*p < 0x20) {
            return fail(ps, p, "control character in string");
        } else {
            size_t n = utf8_len(p, end);
            if (!n)
                return fail(ps, p, "invalid UTF-8 in string");
            p += n;
        }
    }
    *close = p;
    *escaped = esc;
    return 0;
}

static char *put_utf8(char *d, unsigned long cp)
{
    if (cp < 0x80) {
        *d++ = (char)cp;
    } else if (cp < 0x800) {
        *d++ = (char)(0xc0 | (cp >> 6));
        *d++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *d++ = (char)(0xe0 | (cp >> 12));
        *d++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *d++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *d++ = (char)(0xf0 | (cp >> 18));
        *d++ = (char)(0x80 | ((cp >> 12) & 0x3f));
        *d++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *d++ = (char)(0x80 | (cp & 0x3f));
    }
    return d;
}

/* Copies s..close to dst decoding escapes; scan_string() has checked them.
 * Returns the decoded length (never more than close - s). */
static size_t unescape(char *dst, const unsigned char *s, const unsigned char *close)
{
    char *d = dst;
    for (;;) {
        const unsigned char *bs = memchr(s, '\\', (size_t)(close - s));
        size_t run = (size_t)((bs ? bs : close) - s);
        memcpy(d, s, run);
        d += run;
        if (!bs)
            break;
        s = bs + 2;
        switch (bs[1]) {
        case 'b': *d++ = '\b'; break;
        case 'f': *d++ = '\f'; break;
        case 'n': *d++ = '\n'; break;
        case 'r': *d++ = '\r'; break;
        case 't': *d++ = '\t'; break;
        case 'u': {
            unsigned long cp = (unsigned long)hex4(s, close);
            s += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + ((unsigned long)hex4(s + 2, close) - 0xdc00);
                s += 6;
            }
            d = put_utf8(d, cp);
            break;
        }
        default: *d++ = (char)bs[1]; break;          /* '"', '\\', '/' */
        }
    }
    return (size_t)(d - dst);
}

/* Reads the string at *sp (its opening quote) into the arena. */
static int read_string(struct parser *ps, const unsigned char **sp, const char **out, size_t *len)
{
    const unsigned char *s = *sp, *close = NULL;
    int escaped = 0, rc = scan_string(ps, s, &close, &escaped);
    if (rc < 0)
        return rc;
    size_t raw = (size_t)(close - (s + 1));
    char *dst = arena_alloc(ps->arena, raw + 1, 1);
    if (!dst)
        return oom(ps);
    if (escaped) {
        *len = unescape(dst, s + 1, close);
    } else {
        memcpy(dst, s + 1, raw);
        *len = raw;
    }
    dst[*len] = '\0';
    *out = dst;
    *sp = close + 1;
    return 0;
}

/* --- scalars --------------------------------------------------------------------- */

/* Reads a number per RFC 8259 section 6 and keeps its literal text. */
static int read_number(struct parser *ps, const unsigned char **sp, struct ingest_json *node)
{
    const unsigned char *s = *sp, *p = s, *end = ps->end;
    if (*p == '-')
        p++;
    if (p == end || !is_digit(*p))
        return expected(ps, p, "a digit after '-'");
    if (*p == '0') {
        if (++p < end && is_digit(*p))
            return fail(ps, p - 1, "leading zero in number");
    } else {
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && *p == '.') {
        if (++p == end || !is_digit(*p))
            return expected(ps, p, "a digit after '.'");
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        if (++p < end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || !is_digit(*p))
            return expected(ps, p, "a digit in exponent");
        while (p < end && is_digit(*p))
            p++;
    }
    size_t n = (size_t)(p - s);
    char *lit = arena_alloc(ps->arena, n + 1, 1);
    if (!lit)
        return oom(ps);
    memcpy(lit, s, n);
    lit[n] = '\0';
    node->type = INGEST_JSON_NUMBER;
    node->str = lit;
    node->len = n;
    *sp = p;
    return 0;
}

static int read_literal(struct parser *ps, const unsigned char **sp, struct ingest_json *node,
                        const char *word, enum ingest_json_type type)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - *sp) < n || memcmp(*sp, word, n) != 0)
        return fail(ps, *sp, "invalid literal, expected '%s'", word);
    node->type = type;
    *sp += n;
    return 0;
}

/* Any value but an array or object, at *sp (whitespace skipped). */
static int read_scalar(struct parser *ps, const unsigned char **sp, struct ingest_json *node)
{
    if (*sp == ps->end)
        return expected(ps, *sp, "a value");
    switch (**sp) {
    case '"':
        node->type = INGEST_JSON_STRING;
        return read_string(ps, sp, &node->str, &node->len);
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return read_number(ps, sp, node);
    case 't':
        return read_literal(ps, sp, node, "true", INGEST_JSON_TRUE);
    case 'f':
        return read_literal(ps, sp, node, "false", INGEST_JSON_FALSE);
    case 'n':
        return read_literal(ps, sp, node, "null", INGEST_JSON_NULL);
    }
    return expected(ps, *sp, "a value");
}

/* --- containers ------------------------------------------------------------------ */

/* A zeroed node appended to the open container (with the pending member
 * name), or the root. */
static int new_node(struct parser *ps, struct ingest_json **out)
{
    struct ingest_json *node = arena_alloc(ps->arena, sizeof *node, alignof(struct ingest_json));
    if (!node)
        return oom(ps);
    memset(node, 0, sizeof *node);
    if (ps->depth == 0) {
        ps->root = node;
    } else {
        struct frame *f = &ps->stack[ps->depth - 1];
        if (f->last)
            f->last->next = node;
        else
            f->node->child = node;
        f->last = node;
        f->node->count++;
        if (f->node->type == INGEST_JSON_OBJECT) {
            node->key = ps->key;
            node->key_len = ps->key_len;
        }
    }
    *out = node;
    return 0;
}

static int push(struct parser *ps, const unsigned char *s, struct ingest_json *node)
{
    if (ps->depth == MAX_DEPTH)
        return fail(ps, s, "nesting deeper than %d", MAX_DEPTH);
    node->type = *s == '[' ? INGEST_JSON_ARRAY : INGEST_JSON_OBJECT;
    ps->stack[ps->depth].node = node;
    ps->stack[ps->depth].last = NULL;
    ps->depth++;
    return 0;
}

/* A member name and its ':' at *sp (whitespace skipped); sets ps->key. */
static int read_member_name(struct parser *ps, const unsigned char **sp)
{
    if (*sp == ps->end || **sp != '"')
        return expected(ps, *sp, "a member name");
    int rc = read_string(ps, sp, &ps->key, &ps->key_len);
    if (rc < 0)
        return rc;
    *sp = skip_ws(*sp, ps->end);
    if (*sp == ps->end || **sp != ':')
        return expected(ps, *sp, "':' after member name");
    *sp = skip_ws(*sp + 1, ps->end);
    return 0;
}

/* What follows in the innermost open container: right after its opening
 * bracket (first) or after an element.  Returns 1 when an element follows
 * (its member name already read), 0 when the container closed (popped). */
static int next_element(struct parser *ps, const unsigned char **sp, int first)
{
    const struct ingest_json *top = ps->stack[ps->depth - 1].node;
    int is_obj = top->type == INGEST_JSON_OBJECT;
    const unsigned char *s = skip_ws(*sp, ps->end);
    if (s < ps->end && *s == (is_obj ? '}' : ']')) {
        ps->depth--;
        *sp = s + 1;
        return 0;
    }
    if (!first) {
        if (s == ps->end || *s != ',')
            return expected(ps, s, is_obj ? "',' or '}' after object member"
                                          : "',' or ']' after array element");
        s = skip_ws(s + 1, ps->end);
    }
    *sp = s;
    if (!is_obj)
        return 1;
    int rc = read_member_name(ps, sp);
    return rc < 0 ? rc : 1;
}

static int parse_text(struct parser *ps)
{
    const unsigned char *s = ps->text;
    for (;;) {
        struct ingest_json *node = NULL;
        int rc;
        s = skip_ws(s, ps->end);
        if ((rc = new_node(ps, &node)) < 0)
            return rc;
        if (s < ps->end && (*s == '[' || *s == '{')) {
            if ((rc = push(ps, s, node)) < 0)
                return rc;
            s++;
            rc = next_element(ps, &s, 1);
        } else {
            rc = read_scalar(ps, &s, node);
        }
        /* A value is complete (rc 0): close containers until one goes on. */
        while (rc == 0 && ps->depth > 0)
            rc = next_element(ps, &s, 0);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            s = skip_ws(s, ps->end);
            if (s != ps->end)
                return fail(ps, s, "unexpected data after the value");
            return 0;
        }
    }
}

/* --- public API ------------------------------------------------------------------ */

int ingest_json_parse(const char *text, size_t len, struct ingest_json_doc *doc,
                      char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!doc || (!text && len)) {
        if (err && errlen)
            snprintf(err, errlen, "invalid argument");
        return INGEST_EINVAL;
    }
    doc->root = NULL;
    doc->arena = NULL;
    /* The parser holds the 512-frame stack: 8 KiB of C stack, no malloc,
     * and not zeroed (frames are written before they are read). */
    struct parser ps;
    ps.text = (const unsigned char *)(text ? text : "");
    ps.end = ps.text + len;
    ps.err = err;
    ps.errlen = errlen;
    ps.root = NULL;
    ps.key = NULL;
    ps.key_len = 0;
    ps.depth = 0;
    if (!(ps.arena = arena_new()))
        return oom(&ps);
    int rc = parse_text(&ps);
    if (rc < 0) {
        arena_free(ps.arena);
        return rc;
    }
    doc->root = ps.root;
    doc->arena = ps.arena;
    return 0;
}

void ingest_json_doc_free(struct ingest_json_doc *doc)
{
    if (!doc)
        return;
    arena_free(doc->arena);
    doc->arena = NULL;
    doc->root = NULL;
}

const struct ingest_json *ingest_json_get(const struct ingest_json *obj, const char *key)
{
    if (!obj || obj->type != INGEST_JSON_OBJECT || !key)
        return NULL;
    size_t n = strlen(key);
    for (const struct ingest_json *m = obj->child; m; m = m->next)
        if (m->key_len == n && memcmp(m->key, key, n) == 0)
            return m;
    return NULL;
}

int ingest_json_int64(const struct ingest_json *n, int64_t *out)
{
    if (!n || n->type != INGEST_JSON_NUMBER || !n->str || !out)
        return INGEST_EINVAL;
    const char *p = n->str, *end = n->str + n->len;
    int neg = p < end && *p == '-';
    p += neg;
    if (p == end)
        return INGEST_EINVAL;
    for (const char *q = p; q < end; q++)                 /* fraction, exponent */
        if (!is_digit((unsigned char)*q))
            return INGEST_EINVAL;
    /* Accumulate the magnitude unsigned: -INT64_MIN does not fit in int64. */
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, v = 0;
    for (; p < end; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (limit - d) / 10)
            return INGEST_ERANGE;
        v = v * 10 + d;
    }
    if (!neg)
        *out = (int64_t)v;
    else
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    return 0;
}

int ingest_json_double(const struct ingest_json *n, double *out)
{
    if (!n || n->type != INGEST_JSON_NUMBER || !n->str || !out)
        return INGEST_EINVAL;
    *out = strtod(n->str, NULL);        /* beyond range: +-HUGE_VAL or 0, as strtod */
    return 0;
}

const char *ingest_json_string(const struct ingest_json *n)
{
    return n && n->type == INGEST_JSON_STRING ? n->str : NULL;
}

int ingest_json_bool(const struct ingest_json *n)
{
    if (!n)
        return -1;
    if (n->type == INGEST_JSON_TRUE)
        return 1;
    if (n->type == INGEST_JSON_FALSE)
        return 0;
    return -1;
}
