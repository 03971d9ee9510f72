/* test_relay.c - published ports through the relay, on real loopback
 * sockets: bytes both ways and half-closes, a taken port refused with
 * nothing held, an unpublish that frees the port and resets what was open,
 * a refused inside reset at the client, UDP flows per peer. The relay
 * runs in place (the "container" is this process's own namespace). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../../src/engine/hostport.h"
#include "../../../src/engine/relay.h"

#define NS "/dev/null" /* in place: any file opens */

/* A socket bound to 127.0.0.1 on a port the kernel picks: fd, *port. */
static int bound(int type, uint16_t *port)
{
        int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof a;
        assert_int_equal(bind(fd, (struct sockaddr *)&a, len), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
        *port = ntohs(a.sin_port);
        return fd;
}

static uint16_t free_port(int type)
{
        uint16_t port;
        close(bound(type, &port));
        return port;
}

static int dial(int type, uint16_t port)
{
        int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
        struct timeval tv = {5, 0}; /* no test waits for ever */
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        struct sockaddr_in a = {
                .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

/* A TCP socket made now, to connect later (when no descriptor is left). */
static int dial_later(void)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        struct timeval tv = {5, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        return fd;
}

static lcd_port_t port_of(uint16_t host, uint16_t inside, bool udp)
{
        lcd_port_t p = {.host_port = host, .container_port = inside, .udp = udp};
        snprintf(p.host_ip, sizeof p.host_ip, "127.0.0.1");
        return p;
}

/* The "container": a TCP server that echoes each connection, reversed in
 * case (so the test sees it went through), until the client half-closes. */
static void *echo_main(void *arg)
{
        int ls = *(int *)arg;
        for (;;) {
                int fd = accept(ls, NULL, NULL);
                if (fd < 0 && (errno == EMFILE || errno == EINTR)) { /* the descriptor test starves us too */
                        usleep(10000);
                        continue;
                }
                if (fd < 0)
                        return NULL;
                char buf[4096];
                ssize_t n;
                while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
                        for (ssize_t i = 0; i < n; i++)
                                buf[i] = (char)(buf[i] ^ 0x20);
                        if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
                                break;
                }
                shutdown(fd, SHUT_WR); /* after the client's half-close: it still reads our end */
                close(fd);
        }
}

typedef struct {
        int ls;
        uint16_t port;
        pthread_t th;
} echo_t;

static void echo_start(echo_t *e)
{
        e->ls = bound(SOCK_STREAM, &e->port);
        assert_int_equal(listen(e->ls, 16), 0);
        assert_int_equal(pthread_create(&e->th, NULL, echo_main, &e->ls), 0);
}

static void echo_stop(echo_t *e)
{
        shutdown(e->ls, SHUT_RDWR); /* wakes its accept */
        pthread_join(e->th, NULL);
        close(e->ls);
}

/* An echo server, and a relay publishing a free host port (*p) to it. */
static lcd_relay_t *relay_to_echo(echo_t *e, lcd_port_t *p)
{
        echo_start(e);
        lcd_relay_t *r = lcd_relay_new(true);
        assert_non_null(r);
        *p = port_of(free_port(SOCK_STREAM), e->port, false);
        lcd_error_t *err = NULL;
        assert_int_equal(lcd_relay_publish(r, "c1", NS, p, 1, &err), 0);
        return r;
}

static void test_bytes_both_ways_and_half_close(void **state)
{
        echo_t e;
        lcd_port_t p;
        lcd_relay_t *r = relay_to_echo(&e, &p);
        uint16_t host = p.host_port;

        enum { SIZE = 1 << 20 }; /* many times the relay's buffers */
        char *out = malloc(SIZE), *in = malloc(SIZE);
        assert_non_null(out);
        assert_non_null(in);
        for (size_t i = 0; i < SIZE; i++)
                out[i] = (char)('a' + i % 26);
        int fd = dial(SOCK_STREAM, host);
        assert_true(fd >= 0);
        size_t sent = 0, got = 0;
        while (got < SIZE) { /* write and read together: neither side's buffers hold a megabyte */
                struct pollfd pf = {.fd = fd, .events = POLLIN | (sent < SIZE ? POLLOUT : 0)};
                assert_true(poll(&pf, 1, 5000) > 0);
                if ((pf.revents & POLLOUT) && sent < SIZE) {
                        ssize_t n = send(fd, out + sent, SIZE - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
                        assert_true(n > 0);
                        if ((sent += (size_t)n) == SIZE)
                                shutdown(fd, SHUT_WR); /* the half-close travels through */
                }
                if (pf.revents & POLLIN) {
                        ssize_t n = recv(fd, in + got, SIZE - got, MSG_DONTWAIT);
                        assert_true(n > 0);
                        got += (size_t)n;
                }
        }
        for (size_t i = 0; i < SIZE; i++)
                if (in[i] != (char)(out[i] ^ 0x20))
                        fail_msg("byte %zu differs", i);
        char c;
        assert_int_equal(recv(fd, &c, 1, 0), 0); /* and the server's end of stream */
        close(fd);

        lcd_relay_counts_t k;
        for (int i = 0; i < 500; i++) { /* the relay closes its two ends once both directions ended */
                lcd_relay_counts(r, &k);
                if (k.conns_open == 0)
                        break;
                usleep(10000);
        }
        assert_int_equal(k.conns_open, 0);
        assert_int_equal(k.conns_total, 1);
        assert_int_equal(k.conns_dropped, 0);
        free(out);
        free(in);
        lcd_relay_free(r);
        echo_stop(&e);
}

static void test_a_taken_port_is_a_conflict_and_nothing_is_held(void **state)
{
        lcd_relay_t *r = lcd_relay_new(true);
        assert_non_null(r);
        uint16_t taken;
        int holder = bound(SOCK_STREAM, &taken);
        assert_int_equal(listen(holder, 1), 0);
        uint16_t first = free_port(SOCK_STREAM);
        lcd_port_t ports[2] = {port_of(first, 80, false), port_of(taken, 81, false)};
        lcd_error_t *err = NULL;
        assert_int_equal(lcd_relay_publish(r, "c1", NS, ports, 2, &err), LCD_ERR);
        assert_int_equal(err->kind, LCD_E_CONFLICT);
        char want[64];
        snprintf(want, sizeof want, "127.0.0.1:%u/tcp", taken);
        assert_non_null(strstr(err->msg, want));
        lcd_error_free(err);
        err = NULL;
        int fd; /* the port bound before the taken one is not held */
        assert_int_equal(lcd_hostport_bind(&ports[0], 0, true, &fd, &err), 0);
        close(fd);
        /* an address that is not this host's */
        lcd_port_t bad = port_of(first, 80, false);
        snprintf(bad.host_ip, sizeof bad.host_ip, "192.0.2.1");
        assert_int_equal(lcd_relay_publish(r, "c2", NS, &bad, 1, &err), LCD_ERR);
        assert_int_equal(err->kind, LCD_E_INVALID);
        assert_string_equal(err->param, "ports");
        lcd_error_free(err);
        close(holder);
        lcd_relay_free(r);
}

static void test_unpublish_frees_the_port_and_resets_what_was_open(void **state)
{
        echo_t e;
        lcd_port_t p;
        lcd_relay_t *r = relay_to_echo(&e, &p);
        uint16_t host = p.host_port;
        lcd_error_t *err = NULL;
        int fd = dial(SOCK_STREAM, host);
        assert_true(fd >= 0);
        char buf[8];
        assert_int_equal(send(fd, "ping", 4, MSG_NOSIGNAL), 4);
        assert_int_equal(recv(fd, buf, 4, MSG_WAITALL), 4); /* through: the connection is open */
        assert_memory_equal(buf, "PING", 4);

        lcd_relay_unpublish(r, "c1");
        int again; /* free the moment unpublish returns */
        assert_int_equal(lcd_hostport_bind(&p, 0, true, &again, &err), 0);
        close(again);
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        assert_true(n <= 0);
        if (n < 0)
                assert_int_equal(errno, ECONNRESET);
        close(fd);
        lcd_relay_unpublish(r, "c1"); /* idempotent */
        lcd_relay_counts_t k;
        lcd_relay_counts(r, &k);
        assert_int_equal(k.conns_open, 0);
        lcd_relay_free(r);
        echo_stop(&e);
}

static void test_nothing_listening_inside_resets_the_client(void **state)
{
        lcd_relay_t *r = lcd_relay_new(true);
        assert_non_null(r);
        uint16_t host = free_port(SOCK_STREAM), inside = free_port(SOCK_STREAM);
        lcd_port_t p = port_of(host, inside, false);
        lcd_error_t *err = NULL;
        assert_int_equal(lcd_relay_publish(r, "c1", NS, &p, 1, &err), 0);
        int fd = dial(SOCK_STREAM, host);
        assert_true(fd >= 0);
        char c;
        ssize_t n = recv(fd, &c, 1, 0);
        assert_int_equal(n, -1);
        assert_int_equal(errno, ECONNRESET); /* a refusal, not an empty reply */
        close(fd);
        lcd_relay_counts_t k;
        lcd_relay_counts(r, &k);
        assert_int_equal(k.conns_dropped, 1);
        assert_int_equal(k.conns_open, 0);
        lcd_relay_free(r);
}

static double cpu_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void test_out_of_descriptors_the_listener_rests_then_serves(void **state)
{
        echo_t e;
        lcd_port_t p;
        lcd_relay_t *r = relay_to_echo(&e, &p);
        int fd = dial_later();
        struct rlimit old, low;
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
        low = old;
        low.rlim_cur = 256;
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
        int fill[256], n_fill = 0; /* every descriptor below the limit taken */
        while (n_fill < 256 && (fill[n_fill] = fcntl(fd, F_DUPFD_CLOEXEC, 0)) >= 0)
                n_fill++;
        assert_int_equal(errno, EMFILE);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(p.host_port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0); /* into the backlog */
        double t0 = cpu_ms();
        usleep(500000);
        double spent = cpu_ms() - t0;
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
        for (int i = 0; i < n_fill; i++)
                close(fill[i]);
        assert_true(spent < 150); /* the relay rested, it did not spin on the readable listener */
        char buf[8];
        assert_int_equal(send(fd, "ping", 4, MSG_NOSIGNAL), 4);
        assert_int_equal(recv(fd, buf, 4, MSG_WAITALL), 4); /* served once descriptors are back */
        assert_memory_equal(buf, "PING", 4);
        close(fd);
        lcd_relay_counts_t k;
        lcd_relay_counts(r, &k);
        assert_int_equal(k.conns_dropped, 0);
        lcd_relay_free(r);
        echo_stop(&e);
}

/* The UDP "container": answers each datagram with it reversed in case. */
static void *udp_echo_main(void *arg)
{
        int fd = *(int *)arg;
        char buf[2048];
        for (;;) {
                struct sockaddr_storage peer;
                socklen_t len = sizeof peer;
                ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&peer, &len);
                if (n <= 0)
                        return NULL;
                for (ssize_t i = 0; i < n; i++)
                        buf[i] = (char)(buf[i] ^ 0x20);
                sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&peer, len);
        }
}

static void test_udp_flows_per_peer(void **state)
{
        uint16_t inside;
        int srv = bound(SOCK_DGRAM, &inside);
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, udp_echo_main, &srv), 0);
        lcd_relay_t *r = lcd_relay_new(true);
        assert_non_null(r);
        uint16_t host = free_port(SOCK_DGRAM);
        lcd_port_t p = port_of(host, inside, true);
        lcd_error_t *err = NULL;
        assert_int_equal(lcd_relay_publish(r, "c1", NS, &p, 1, &err), 0);
        int a = dial(SOCK_DGRAM, host), b = dial(SOCK_DGRAM, host);
        assert_true(a >= 0 && b >= 0);
        char buf[16];
        for (int round = 0; round < 3; round++) { /* each peer its own answers, flow kept between datagrams */
                assert_int_equal(send(a, "alpha", 5, 0), 5);
                assert_int_equal(send(b, "beta", 4, 0), 4);
                assert_int_equal(recv(a, buf, sizeof buf, 0), 5);
                assert_memory_equal(buf, "ALPHA", 5);
                assert_int_equal(recv(b, buf, sizeof buf, 0), 4);
                assert_memory_equal(buf, "BETA", 4);
        }
        lcd_relay_counts_t k;
        lcd_relay_counts(r, &k);
        assert_int_equal(k.flows_open, 2);
        lcd_relay_unpublish(r, "c1");
        lcd_relay_counts(r, &k);
        assert_int_equal(k.flows_open, 0);
        close(a);
        close(b);
        lcd_relay_free(r);
        shutdown(srv, SHUT_RDWR);
        pthread_join(th, NULL);
        close(srv);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bytes_both_ways_and_half_close),
                cmocka_unit_test(test_a_taken_port_is_a_conflict_and_nothing_is_held),
                cmocka_unit_test(test_unpublish_frees_the_port_and_resets_what_was_open),
                cmocka_unit_test(test_nothing_listening_inside_resets_the_client),
                cmocka_unit_test(test_udp_flows_per_peer),
                cmocka_unit_test(test_out_of_descriptors_the_listener_rests_then_serves),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
