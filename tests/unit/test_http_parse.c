/*
 * test_http_parse.c - ingest_http_parse and ingest_http_parse_listen.
 *
 * Every input is copied into a heap block of exactly its length, so a read
 * one byte too far is caught by ASan/valgrind rather than landing on a NUL.
 * The last tests throw random and mutated bytes at the parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ingestd/http.h"

#define HEAD_MAX 8192

static int parse_n(const char *data, size_t len, size_t max, struct ingest_http_request *req)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, data, len);
    int rc = ingest_http_parse(copy, len, max, req);
    free(copy);
    return rc;
}

static int parse(const char *s, struct ingest_http_request *req)
{
    return parse_n(s, strlen(s), HEAD_MAX, req);
}

static int status_of(const char *s)
{
    struct ingest_http_request req;
    return parse(s, &req);
}

static void test_parse_simple_get_returns_head_length(void **state)
{
    (void)state;
    struct ingest_http_request req;
    const char *s = "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n";
    assert_int_equal(parse(s, &req), (int)strlen(s));
    assert_string_equal(req.method, "GET");
    assert_string_equal(req.target, "/metrics");
    assert_int_equal(req.minor, 1);
    assert_int_equal(req.keep_alive, 1);
    assert_int_equal(req.has_body, 0);
}

static void test_parse_incomplete_returns_zero(void **state)
{
    (void)state;
    struct ingest_http_request req;
    const char *s = "HEAD /a?b=c HTTP/1.0\r\nConnection: keep-alive\r\nX: y\r\n\r\n";
    size_t len = strlen(s);
    for (size_t n = 0; n < len; n++)
        assert_int_equal(parse_n(s, n, HEAD_MAX, &req), 0);
    assert_int_equal(parse_n(s, len, HEAD_MAX, &req), (int)len);
    assert_string_equal(req.method, "HEAD");
    assert_string_equal(req.target, "/a?b=c");
    assert_int_equal(req.keep_alive, 1);
}

static void test_parse_empty_or_null_input_is_incomplete(void **state)
{
    (void)state;
    struct ingest_http_request req;
    assert_int_equal(ingest_http_parse(NULL, 0, HEAD_MAX, &req), 0);
    assert_int_equal(ingest_http_parse(NULL, 10, HEAD_MAX, &req), 0);
    assert_int_equal(parse_n("", 0, HEAD_MAX, &req), 0);
}

static void test_parse_accepts_bare_lf(void **state)
{
    (void)state;
    struct ingest_http_request req;
    const char *s = "GET /x HTTP/1.1\nHost: x\n\n";
    assert_int_equal(parse(s, &req), (int)strlen(s));
    assert_string_equal(req.target, "/x");
    s = "GET /x HTTP/1.1\r\nHost: x\n\r\n";     /* mixed */
    assert_int_equal(parse(s, &req), (int)strlen(s));
}

static void test_parse_skips_leading_empty_lines(void **state)
{
    (void)state;
    struct ingest_http_request req;
    const char *s = "\r\n\n\r\nGET / HTTP/1.1\r\n\r\n";
    assert_int_equal(parse(s, &req), (int)strlen(s));
    assert_string_equal(req.target, "/");
    assert_int_equal(status_of("\r\n\r\n"), 0);
    assert_int_equal(status_of("\rX"), -400);
}

static void test_parse_pipelined_returns_first_head_only(void **state)
{
    (void)state;
    struct ingest_http_request req;
    const char *first = "GET /one HTTP/1.1\r\n\r\n";
    const char *s = "GET /one HTTP/1.1\r\n\r\nGET /two HTTP/1.1\r\n\r\n";
    int n = parse(s, &req);
    assert_int_equal(n, (int)strlen(first));
    assert_string_equal(req.target, "/one");
    assert_int_equal(parse(s + n, &req), (int)strlen(first));
    assert_string_equal(req.target, "/two");
}

static void test_parse_keep_alive_follows_version_and_connection(void **state)
{
    (void)state;
    static const struct { const char *head; int keep; } cases[] = {
        { "GET / HTTP/1.1\r\n\r\n", 1 },
        { "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 0 },
        { "GET / HTTP/1.1\r\ncOnNeCtIoN:   ClOsE   \r\n\r\n", 0 },
        { "GET / HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\n\r\n", 1 },
        { "GET / HTTP/1.1\r\nConnection: foo,close\r\n\r\n", 0 },
        { "GET / HTTP/1.1\r\nConnection: closed\r\n\r\n", 1 },
        { "GET / HTTP/1.0\r\n\r\n", 0 },
        { "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 1 },
        { "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", 0 },
        { "GET / HTTP/1.2\r\n\r\n", 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ingest_http_request req;
        assert_int_equal(parse(cases[i].head, &req), (int)strlen(cases[i].head));
        assert_int_equal(req.keep_alive, cases[i].keep);
    }
}

static void test_parse_other_methods_return_405_without_waiting_for_headers(void **state)
{
    (void)state;
    struct ingest_http_request req;
    assert_int_equal(parse("POST /x HTTP/1.1\r\n", &req), -405);
    assert_string_equal(req.method, "POST");
    assert_int_equal(status_of("PUT / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"), -405);
    assert_int_equal(status_of("get / HTTP/1.1\r\n\r\n"), -405);   /* case-sensitive */
    assert_int_equal(status_of("OPTIONS * HTTP/1.1\r\n\r\n"), -405);
    assert_int_equal(parse("PROPFIND / HTTP/1.1\r\n\r\n", &req), -405);
    assert_string_equal(req.method, "PROPFIN");              /* truncated, still a string */
}

static void test_parse_junk_returns_400_early(void **state)
{
    (void)state;
    assert_int_equal(status_of("\x16\x03\x01"), -400);            /* a TLS hello */
    assert_int_equal(parse_n("\0\0\0", 3, HEAD_MAX, &(struct ingest_http_request){ 0 }), -400);
    assert_int_equal(status_of(" GET / HTTP/1.1\r\n\r\n"), -400);
    assert_int_equal(status_of("GET\t/ HTTP/1.1\r\n\r\n"), -400);
    assert_int_equal(status_of("GET  / HTTP/1.1\r\n\r\n"), -400);   /* empty target */
    char method[40];
    memset(method, 'A', sizeof method);
    assert_int_equal(parse_n(method, sizeof method, HEAD_MAX, &(struct ingest_http_request){ 0 }), -400);
}

static void test_parse_control_chars_in_target_return_400(void **state)
{
    (void)state;
    assert_int_equal(status_of("GET /a\x01 HTTP/1.1\r\n\r\n"), -400);
    assert_int_equal(status_of("GET /a\x7f HTTP/1.1\r\n\r\n"), -400);
    assert_int_equal(status_of("GET /a\tb HTTP/1.1\r\n\r\n"), -400);
    assert_int_equal(parse_n("GET /a\0b HTTP/1.1\r\n\r\n", 21, HEAD_MAX, &(struct ingest_http_request){ 0 }),
                     -400);
    struct ingest_http_request req;             /* high bytes are passed through */
    assert_true(parse("GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", &req) > 0);
    assert_string_equal(req.target, "/caf\xc3\xa9");
}

static void test_parse_missing_or_malformed_version_returns_400(void **state)
{
    (void)state;
    assert_int_equal(status_of("GET /\r\n\r\n"), -400);
    assert_int_equal(status_of("GET /\n\n"), -400);
    assert_int_equal(status_of("GET / \r\n\r\n"), -400);
    assert_int_equal(status_of("GET / HTTX/1.1\r\n\r\n"), -400);
    assert_int_equal(status_of("GET / http/1.1\r\n\r\n"), -400);
    assert_int_equal(status_of("GET / HTTP/1.1x\r\n\r\n"), -400);
    assert_int_equal(status_of("GET / HTTP/1\r\n\r\n"), -400);
    assert_int_equal(status_of("GET / HTTP/.1\r\n\r\n"), -400);
    assert_int_equal(status_of("GET / HTTP/1.1 \r\n\r\n"), -400);
    assert_int_equal(status_of("GET / HTTP/1.1\rX\r\n\r\n"), -400);
    assert_int_equal(status_of("GET / HTTP/1111.1\r\n\r\n"), -400);
}

static void test_parse_unknown_version_returns_505(void **state)
{
    (void)state;
    assert_int_equal(status_of("GET / HTTP/2.0\r\n\r\n"), -505);
    assert_int_equal(status_of("GET / HTTP/0.9\r\n\r\n"), -505);
    assert_int_equal(status_of("GET / HTTP/3.0\r\n\r\n"), -505);
    assert_int_equal(status_of("GET / HTTP/1.10\r\n\r\n"), -505);
    assert_int_equal(status_of("POST / HTTP/2.0\r\n\r\n"), -505);   /* version first */
}

static void test_parse_long_target_returns_414(void **state)
{
    (void)state;
    struct ingest_http_request req;
    char buf[4096];
    /* "/" and 2046 more: 2047 bytes fit (plus the NUL). */
    memcpy(buf, "GET /", 5);
    memset(buf + 5, 'a', 2046);
    int n = 5 + 2046;
    n += sprintf(buf + n, " HTTP/1.1\r\n\r\n");
    assert_int_equal(parse_n(buf, (size_t)n, HEAD_MAX, &req), n);
    assert_int_equal(strlen(req.target), 2047);
    /* One more is 414, known before the line ends. */
    memset(buf + 5, 'a', 2047);
    assert_int_equal(parse_n(buf, 4 + 2048, HEAD_MAX, &req), -414);
}

static void test_parse_head_larger_than_max_returns_431(void **state)
{
    (void)state;
    struct ingest_http_request req;
    const char *s = "GET / HTTP/1.1\r\nX-Pad: 0123456789\r\n\r\n";
    size_t len = strlen(s);
    assert_int_equal(parse_n(s, len, len, &req), (int)len);        /* exactly max: fine */
    assert_int_equal(parse_n(s, len, len - 1, &req), -431);
    assert_int_equal(parse_n(s, len - 1, len - 1, &req), -431);    /* full, no end */
    assert_int_equal(parse_n(s, len - 2, len - 1, &req), 0);       /* room left */
    assert_int_equal(parse_n(s, len, 0, &req), -431);
    /* A 20 KiB header in an 8 KiB budget. */
    size_t big = 20 * 1024;
    char *buf = malloc(big);
    assert_non_null(buf);
    memcpy(buf, "GET / HTTP/1.1\r\nX-Big: ", 23);
    memset(buf + 23, 'b', big - 23);
    assert_int_equal(parse_n(buf, big, HEAD_MAX, &req), -431);
    free(buf);
}

static void test_parse_malformed_headers_return_400(void **state)
{
    (void)state;
    static const char *bad[] = {
        "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
        "GET / HTTP/1.1\r\nName : v\r\n\r\n",
        "GET / HTTP/1.1\r\n: v\r\n\r\n",
        "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",
        "GET / HTTP/1.1\r\nA: b\x01\r\n\r\n",
        "GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n",
        "GET / HTTP/1.1\r\nA(b): c\r\n\r\n",
        "GET / HTTP/1.1\r\nA: b\r\n\rX",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        print_message("case %zu\n", i);
        assert_int_equal(status_of(bad[i]), -400);
    }
    struct ingest_http_request req;             /* tabs and high bytes are fine */
    assert_true(parse("GET / HTTP/1.1\r\nA: b\tc \xff\r\nB:\r\n\r\n", &req) > 0);
}

static void test_parse_request_with_body_is_answered_then_closed(void **state)
{
    (void)state;
    struct ingest_http_request req;
    const char *head = "GET /x HTTP/1.1\r\nContent-Length: 5\r\n\r\n";
    char s[128];
    snprintf(s, sizeof s, "%shello", head);
    assert_int_equal(parse(s, &req), (int)strlen(head));     /* the body is not ours */
    assert_int_equal(req.has_body, 1);
    assert_int_equal(req.keep_alive, 0);
    assert_true(parse("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &req) > 0);
    assert_int_equal(req.has_body, 1);
    assert_int_equal(req.keep_alive, 0);
    assert_true(parse("GET / HTTP/1.1\r\nContent-Length: 0\r\ncontent-length: 00\r\n\r\n", &req) > 0);
    assert_int_equal(req.has_body, 0);
    assert_int_equal(req.keep_alive, 1);
}

static void test_parse_bad_content_length_returns_400(void **state)
{
    (void)state;
    assert_int_equal(status_of("GET / HTTP/1.1\r\nContent-Length: abc\r\n\r\n"), -400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"), -400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n"), -400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nContent-Length:\r\n\r\n"), -400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n"), -400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), -400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"),
                     -400);
}

static void test_parse_absolute_form_is_reduced_to_path(void **state)
{
    (void)state;
    static const struct { const char *target, *want; } cases[] = {
        { "http://example.com/a/b?c=d", "/a/b?c=d" },
        { "HTTPS://example.com:8443/m", "/m" },
        { "http://example.com", "/" },
        { "http://example.com?x=1", "/?x=1" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char s[256];
        struct ingest_http_request req;
        snprintf(s, sizeof s, "GET %s HTTP/1.1\r\n\r\n", cases[i].target);
        assert_int_equal(parse(s, &req), (int)strlen(s));
        assert_string_equal(req.target, cases[i].want);
    }
    assert_int_equal(status_of("GET * HTTP/1.1\r\n\r\n"), -400);
    assert_int_equal(status_of("GET x/y HTTP/1.1\r\n\r\n"), -400);
    assert_int_equal(status_of("GET ftp://h/x HTTP/1.1\r\n\r\n"), -400);
}

/* Random bytes and mutations of a valid head: the answer is always one of
 * the documented ones and never claims more bytes than were given. */
static void check_sane(const unsigned char *data, size_t len, size_t max)
{
    struct ingest_http_request req;
    int rc = parse_n((const char *)data, len, max, &req);
    if (rc > 0) {
        assert_true((size_t)rc <= len && (size_t)rc <= max);
        assert_true(strlen(req.target) < sizeof req.target && req.target[0] == '/');
        assert_true(strcmp(req.method, "GET") == 0 || strcmp(req.method, "HEAD") == 0);
    } else if (rc < 0) {
        assert_true(rc == -400 || rc == -405 || rc == -414 || rc == -431 || rc == -505);
    }
}

static void test_parse_random_and_mutated_input_is_handled(void **state)
{
    (void)state;
    unsigned seed = 12345;
    const char *valid = "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
                        "Content-Length: 0\r\n\r\n";
    size_t vlen = strlen(valid);
    unsigned char buf[512];
    static const char alphabet[] = "GET HEAD/ HTTP1.0:\r\n\t,?aA\x00\xff";
    for (int i = 0; i < 20000; i++) {
        size_t len = (size_t)rand_r(&seed) % sizeof buf;
        int mode = i % 3;
        for (size_t j = 0; j < len; j++)
            buf[j] = mode == 0 ? (unsigned char)rand_r(&seed)
                               : (unsigned char)alphabet[rand_r(&seed) % (sizeof alphabet - 1)];
        if (mode == 2) {    /* mutate a valid head in a few places */
            len = vlen;
            memcpy(buf, valid, vlen);
            for (int k = 0; k < 3; k++)
                buf[rand_r(&seed) % vlen] = (unsigned char)alphabet[rand_r(&seed) % (sizeof alphabet - 1)];
        }
        check_sane(buf, len, 1 + (size_t)rand_r(&seed) % 600);
        check_sane(buf, len, HEAD_MAX);
    }
}

/* --- listen addresses --------------------------------------------------------- */

static void test_parse_listen_accepts_the_three_forms(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    char err[256];
    char ip[INET6_ADDRSTRLEN];

    assert_int_equal(ingest_http_parse_listen("127.0.0.1:8080", &ss, err, sizeof err), 0);
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    assert_int_equal(ss.ss_family, AF_INET);
    assert_int_equal(ntohs(sin->sin_port), 8080);
    assert_string_equal(inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip), "127.0.0.1");

    assert_int_equal(ingest_http_parse_listen(":0", &ss, err, sizeof err), 0);
    assert_int_equal(ss.ss_family, AF_INET);
    assert_string_equal(inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip), "0.0.0.0");
    assert_int_equal(ntohs(sin->sin_port), 0);

    assert_int_equal(ingest_http_parse_listen("[::1]:65535", &ss, err, sizeof err), 0);
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_int_equal(ntohs(sin6->sin6_port), 65535);
    assert_string_equal(inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip), "::1");

    assert_int_equal(ingest_http_parse_listen("[::]:9", &ss, err, sizeof err), 0);
    assert_int_equal(ingest_http_parse_listen("localhost:9", &ss, err, sizeof err), 0);
    assert_int_equal(ntohs(ss.ss_family == AF_INET ? sin->sin_port : sin6->sin6_port), 9);
}

static void test_parse_listen_rejects_malformed_addresses(void **state)
{
    (void)state;
    static const char *bad[] = {
        "", "nonsense", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
        "127.0.0.1:80x", "127.0.0.1:123456", "::1:80", "[::1]80", "[::1]", "[::1", "[zz]:80",
        "[127.0.0.1]:80",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct sockaddr_storage ss;
        char err[256] = "";
        print_message("%s\n", bad[i]);
        assert_int_equal(ingest_http_parse_listen(bad[i], &ss, err, sizeof err), -1);
        assert_true(strlen(err) > 0);
    }
    char err[256] = "";
    assert_int_equal(ingest_http_parse_listen(NULL, &(struct sockaddr_storage){ 0 }, err, sizeof err), -1);
    assert_non_null(strstr(err, "(null)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_simple_get_returns_head_length),
        cmocka_unit_test(test_parse_incomplete_returns_zero),
        cmocka_unit_test(test_parse_empty_or_null_input_is_incomplete),
        cmocka_unit_test(test_parse_accepts_bare_lf),
        cmocka_unit_test(test_parse_skips_leading_empty_lines),
        cmocka_unit_test(test_parse_pipelined_returns_first_head_only),
        cmocka_unit_test(test_parse_keep_alive_follows_version_and_connection),
        cmocka_unit_test(test_parse_other_methods_return_405_without_waiting_for_headers),
        cmocka_unit_test(test_parse_junk_returns_400_early),
        cmocka_unit_test(test_parse_control_chars_in_target_return_400),
        cmocka_unit_test(test_parse_missing_or_malformed_version_returns_400),
        cmocka_unit_test(test_parse_unknown_version_returns_505),
        cmocka_unit_test(test_parse_long_target_returns_414),
        cmocka_unit_test(test_parse_head_larger_than_max_returns_431),
        cmocka_unit_test(test_parse_malformed_headers_return_400),
        cmocka_unit_test(test_parse_request_with_body_is_answered_then_closed),
        cmocka_unit_test(test_parse_bad_content_length_returns_400),
        cmocka_unit_test(test_parse_absolute_form_is_reduced_to_path),
        cmocka_unit_test(test_parse_random_and_mutated_input_is_handled),
        cmocka_unit_test(test_parse_listen_accepts_the_three_forms),
        cmocka_unit_test(test_parse_listen_rejects_malformed_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
