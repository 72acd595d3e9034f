/*
 * notify_listen.c - plays systemd's side of sd_notify for tests: binds an
 * AF_UNIX datagram socket at PATH and prints every message it receives,
 * followed by a line "--", flushing after each, until SECONDS have passed.
 *
 *   notify_listen PATH SECONDS
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: notify_listen PATH SECONDS\n");
        return 2;
    }
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (fd < 0 || strlen(argv[1]) >= sizeof sa.sun_path) {
        perror("socket");
        return 1;
    }
    strcpy(sa.sun_path, argv[1]);
    unlink(argv[1]);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        perror("bind");
        return 1;
    }
    long long deadline = now_ms() + (long long)(atof(argv[2]) * 1000);
    char buf[4096];
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0)
            break;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
        if (n < 0)
            continue;
        buf[n] = '\0';
        printf("%s%s--\n", buf, n > 0 && buf[n - 1] == '\n' ? "" : "\n");
        fflush(stdout);
    }
    close(fd);
    unlink(argv[1]);
    return 0;
}
