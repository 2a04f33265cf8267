/* SPDX-License-Identifier: MIT */
/*
 * Responses with Go's headers, request parameters, memory files for bodies, and the one way a
 * handler waits (a delta profile's or a recording's seconds): until the time is up, the client
 * hangs up, or the server stops.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "http.h"

static void common_headers(struct MHD_Response *resp, const char *type)
{
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
}

static enum MHD_Result queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *resp)
{
    if (!resp)
        return MHD_NO; /* out of memory: libmicrohttpd closes the connection */
    enum MHD_Result rc = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

enum MHD_Result http_send_fd(struct MHD_Connection *c, int fd, const char *type,
                             const char *filename)
{
    off_t size = lseek(fd, 0, SEEK_END);
    if (size < 0) {
        close(fd);
        return http_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read the profile");
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)size, fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    common_headers(resp, type);
    if (filename) {
        char value[160];
        snprintf(value, sizeof(value), "attachment; filename=\"%s\"", filename);
        MHD_add_response_header(resp, "Content-Disposition", value);
    }
    return queue(c, MHD_HTTP_OK, resp);
}

enum MHD_Result http_send_body(struct MHD_Connection *c, unsigned status, const char *type,
                               const char *text, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)text, MHD_RESPMEM_MUST_COPY);
    if (resp)
        common_headers(resp, type);
    return queue(c, status, resp);
}

enum MHD_Result http_send_error(struct MHD_Connection *c, unsigned status, const char *message)
{
    char body[600];
    int n = snprintf(body, sizeof(body), "%s\n", message);
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        n < 0 ? 0 : (size_t)n < sizeof(body) ? (size_t)n : sizeof(body) - 1, body,
        MHD_RESPMEM_MUST_COPY);
    if (resp) {
        common_headers(resp, "text/plain; charset=utf-8");
        MHD_add_response_header(resp, "X-Go-Pprof", "1");
    }
    return queue(c, status, resp);
}

int http_memfd(void)
{
    return memfd_create("ltprof-http", MFD_CLOEXEC);
}

void *http_memfd_read(int fd, size_t *len)
{
    off_t size = lseek(fd, 0, SEEK_END);
    char *buf = size >= 0 ? malloc((size_t)size + 1) : NULL;
    size_t got = 0;
    while (buf && got < (size_t)size) {
        ssize_t n = pread(fd, buf + got, (size_t)size - got, (off_t)got);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            free(buf);
            return NULL;
        }
        got += (size_t)n;
    }
    *len = got;
    return buf;
}

/* ---- waiting ---- */

static int stop_fd = -1; /* an eventfd, readable while the server stops */

static int stop_event(void)
{
    int fd = __atomic_load_n(&stop_fd, __ATOMIC_ACQUIRE);
    if (fd >= 0)
        return fd;
    int made = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int expected = -1;
    if (made >= 0 && !__atomic_compare_exchange_n(&stop_fd, &expected, made, 0, __ATOMIC_ACQ_REL,
                                                  __ATOMIC_ACQUIRE))
        close(made);
    return __atomic_load_n(&stop_fd, __ATOMIC_ACQUIRE);
}

void http_wait_wake_all(void)
{
    uint64_t one = 1;
    int fd = stop_event();
    if (fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
        /* the counter is non-zero already: every waiter wakes anyway */
    }
}

void http_wait_reset(void)
{
    uint64_t value;
    int fd = stop_event();
    if (fd >= 0 && read(fd, &value, sizeof(value)) < 0) {
        /* EAGAIN: nothing was pending */
    }
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

enum http_wait_result http_wait(struct MHD_Connection *c, uint64_t ns)
{
    const union MHD_ConnectionInfo *info =
        c ? MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD) : NULL;
    struct pollfd fds[2] = {
        {.fd = stop_event(), .events = POLLIN},
        /* POLLRDHUP: the client closed its side. Data it sends early (a pipelined request)
         * does not wake us: it waits in the socket for libmicrohttpd. */
        {.fd = info ? info->connect_fd : -1, .events = POLLRDHUP},
    };
    uint64_t end = now_ns() + ns;
    for (;;) {
        uint64_t now = now_ns();
        if (now >= end)
            return HTTP_WAIT_DONE;
        uint64_t left_ms = (end - now + 999999) / 1000000;
        int n = poll(fds, 2, left_ms > 60000 ? 60000 : (int)left_ms);
        if (n < 0 && errno != EINTR)
            return HTTP_WAIT_DONE;
        if (n > 0 && fds[0].revents)
            return HTTP_WAIT_STOPPING;
        if (n > 0 && fds[1].revents & (POLLRDHUP | POLLHUP | POLLERR))
            return HTTP_WAIT_CLIENT_GONE;
    }
}

/* ---- parameters ---- */

const char *http_param(struct MHD_Connection *c, struct http_req *r, const char *name)
{
    if (r && r->form && r->body && !r->form_copy)
        r->form_copy = http_parse_form(r->body, r->len);
    const char *value = http_form_value(r ? r->form_copy : NULL, name);
    if (value)
        return value;
    return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}
