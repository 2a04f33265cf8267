/* SPDX-License-Identifier: MIT */
/*
 * The HTTP server (libmicrohttpd, a thread per connection) and the dispatch of Go's
 * net/http/pprof routes under the prefix (LTPROF_HTTP_PREFIX, default /debug/pprof). Started by
 * LTPROF_HTTP at load time or by ltprof_http_start(); stopped by ltprof_http_stop() or at exit;
 * a forked child has no server. Its threads are created inside the tracer's guard, so they are
 * ltprof's own for their whole life: never sampled, never counted, never traced.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "guard.h"
#include "http.h"
#include "internal.h"
#include "ltprof/ltprof.h"
#include "ltprof/ltprof_http.h"

static struct {
    pthread_mutex_t lock;
    struct MHD_Daemon *daemon;
    pid_t pid;             /* the process that started it (a forked child has none) */
    char address[300];     /* what it listens on, as a user would write it */
    char unix_path[108];   /* the socket file to remove at stop, or "" */
    char error[512];       /* why the last start failed */
    atomic_int active;     /* requests of our daemon not completed yet */
} server = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* ---- listening ---- */

static int fail(const char *address, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(const char *address, const char *fmt, ...)
{
    char why[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    snprintf(server.error, sizeof(server.error), "cannot serve HTTP on \"%s\": %s", address, why);
    return -1;
}

/* A listening socket for `address`: "unix:/path", "[v6]:port", "v4:port", "localhost:port",
 * or "port" / ":port" (loopback: another interface only when named). -1 with server.error. */
static int listen_on(const char *address, char *unix_path)
{
    union {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
        struct sockaddr_un un;
    } a;
    memset(&a, 0, sizeof(a));
    socklen_t len;
    unix_path[0] = '\0';
    if (strncmp(address, "unix:", 5) == 0) {
        const char *path = address + 5;
        if (!*path || strlen(path) >= sizeof(a.un.sun_path))
            return fail(address, "a socket path of 1 to %zu bytes is needed",
                        sizeof(a.un.sun_path) - 1);
        a.un.sun_family = AF_UNIX;
        memcpy(a.un.sun_path, path, strlen(path) + 1); /* length checked above */
        len = sizeof(a.un);
    } else {
        char host[256] = "127.0.0.1";
        const char *colon = strrchr(address, ':');
        const char *port_text = colon ? colon + 1 : address;
        if (colon && colon > address) {
            size_t n = (size_t)(colon - address);
            if (n >= sizeof(host))
                return fail(address, "the host is too long");
            memcpy(host, address, n);
            host[n] = '\0';
        }
        char *end;
        errno = 0;
        unsigned long port = strtoul(port_text, &end, 10);
        if (!*port_text || *end || errno || port > 65535 || *port_text == '-' || *port_text == '+')
            return fail(address, "expected HOST:PORT with a port from 0 to 65535, PORT, or "
                                 "unix:/path");
        if (strcmp(host, "localhost") == 0)
            strcpy(host, "127.0.0.1");
        size_t hl = strlen(host);
        if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
            host[hl - 1] = '\0';
            a.in6.sin6_family = AF_INET6;
            a.in6.sin6_port = htons((uint16_t)port);
            if (inet_pton(AF_INET6, host + 1, &a.in6.sin6_addr) != 1)
                return fail(address, "\"%s\" is not an IPv6 address", host + 1);
            len = sizeof(a.in6);
        } else {
            a.in.sin_family = AF_INET;
            a.in.sin_port = htons((uint16_t)port);
            if (inet_pton(AF_INET, host, &a.in.sin_addr) != 1)
                return fail(address, "\"%s\" is not a numeric IPv4 address (nor [IPv6] or "
                                     "localhost)", host);
            len = sizeof(a.in);
        }
    }
    int fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail(address, "socket: %s", strerror(errno));
    int one = 1;
    if (a.sa.sa_family != AF_UNIX)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, &a.sa, len) != 0 || listen(fd, 128) != 0) {
        int e = errno;
        close(fd);
        return fail(address, "%s", strerror(e));
    }
    if (a.sa.sa_family == AF_UNIX) {
        memcpy(unix_path, a.un.sun_path, strlen(a.un.sun_path) + 1); /* shorter than 108 bytes */
        snprintf(server.address, sizeof(server.address), "unix:%s", unix_path);
    } else {
        len = sizeof(a);
        getsockname(fd, &a.sa, &len);
        char text[INET6_ADDRSTRLEN] = "";
        if (a.sa.sa_family == AF_INET6) {
            inet_ntop(AF_INET6, &a.in6.sin6_addr, text, sizeof(text));
            snprintf(server.address, sizeof(server.address), "[%s]:%u", text,
                     ntohs(a.in6.sin6_port));
        } else {
            inet_ntop(AF_INET, &a.in.sin_addr, text, sizeof(text));
            snprintf(server.address, sizeof(server.address), "%s:%u", text,
                     ntohs(a.in.sin_port));
        }
    }
    return fd;
}

/* ---- requests ---- */

static int token_ok(struct MHD_Connection *c)
{
    return http_token_matches(rt_config_get()->http_token,
                              MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"));
}

static enum MHD_Result redirect(struct MHD_Connection *c, const char *to)
{
    char body[300];
    int n = snprintf(body, sizeof(body), "<a href=\"%s\">Moved Permanently</a>.\n\n", to);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, to);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
    enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_MOVED_PERMANENTLY, resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result route(struct MHD_Connection *c, struct http_req *r, const char *url,
                             const char *method)
{
    if (!token_ok(c)) {
        static const char denied[] =
            "Unauthorized: this server needs Authorization: Bearer <LTPROF_HTTP_TOKEN>\n";
        struct MHD_Response *resp = MHD_create_response_from_buffer(
            sizeof(denied) - 1, (void *)(uintptr_t)denied, MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
        MHD_add_response_header(resp, "X-Go-Pprof", "1");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"ltprof\"");
        enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_UNAUTHORIZED, resp);
        MHD_destroy_response(resp);
        return rc;
    }
    if (r->too_big)
        return http_send_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
    const char *prefix = rt_config_get()->http_prefix;
    size_t pl = strlen(prefix);
    if (strncmp(url, prefix, pl) != 0 || (url[pl] != '\0' && url[pl] != '/'))
        return http_send_error(c, MHD_HTTP_NOT_FOUND, "404 page not found");
    const char *rest = url + pl;
    if (!*rest) {
        char to[200];
        snprintf(to, sizeof(to), "%s/", prefix);
        return redirect(c, to);
    }
    rest++; /* the '/' */
    if (!*rest)
        return http_index(c);
    if (strcmp(rest, "cmdline") == 0)
        return http_cmdline(c);
    if (strcmp(rest, "symbol") == 0)
        return http_symbol(c, r, method);
    if (strcmp(rest, "profile") == 0)
        return http_cpu_profile(c, r);
    if (strcmp(rest, "trace") == 0)
        return http_trace(c, r);
    if (strcmp(rest, "ui") == 0) {
        char to[200];
        snprintf(to, sizeof(to), "%s/ui/", prefix);
        return redirect(c, to);
    }
    if (strncmp(rest, "ui/", 3) == 0)
        return http_ui(c, method, rest + 3);
    return http_named_profile(c, r, rest);
}

LTPROF_API int ltprof_http_owns(const char *url)
{
    const char *prefix = rt_config_get()->http_prefix;
    size_t pl = strlen(prefix);
    return url && strncmp(url, prefix, pl) == 0 && (url[pl] == '\0' || url[pl] == '/');
}

LTPROF_API enum MHD_Result ltprof_http_handle(struct MHD_Connection *c, const char *url,
                                              const char *method, const char *upload_data,
                                              size_t *upload_data_size, void **req_cls)
{
    struct http_req *r = *req_cls;
    if (!r) { /* the headers arrived: the body, if any, comes next */
        tr_guard_enter();
        r = calloc(1, sizeof(*r));
        const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
        if (r)
            r->form = type && strncmp(type, "application/x-www-form-urlencoded", 33) == 0;
        tr_guard_leave();
        *req_cls = r;
        return r ? MHD_YES : MHD_NO;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->too_big || r->len + n > HTTP_MAX_BODY) {
            r->too_big = 1;
            return MHD_YES;
        }
        tr_guard_enter();
        if (r->len + n + 1 > r->cap) {
            size_t cap = (r->len + n + 1) * 2;
            char *body = realloc(r->body, cap);
            if (body)
                r->body = body, r->cap = cap;
            else
                r->too_big = 1;
        }
        if (!r->too_big) {
            memcpy(r->body + r->len, upload_data, n);
            r->len += n;
            r->body[r->len] = '\0';
        }
        tr_guard_leave();
        return MHD_YES;
    }
    tr_guard_enter();
    enum MHD_Result rc = route(c, r, url, method);
    tr_guard_leave();
    return rc;
}

LTPROF_API void ltprof_http_request_completed(void **req_cls)
{
    struct http_req *r = req_cls ? *req_cls : NULL;
    if (!r)
        return;
    tr_guard_enter();
    free(r->body);
    free(r->form_copy);
    free(r);
    tr_guard_leave();
    *req_cls = NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    (void)cls, (void)version;
    int first = *req_cls == NULL;
    int whole = !first && *upload_data_size == 0; /* the body, if any, is in: it is routed */
    if (whole)
        http_deadline_request_arrived(c);
    enum MHD_Result rc = ltprof_http_handle(c, url, method, upload_data, upload_data_size, req_cls);
    if (first && *req_cls)
        atomic_fetch_add(&server.active, 1);
    return rc;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)toe;
    if (*req_cls)
        atomic_fetch_sub(&server.active, 1);
    ltprof_http_request_completed(req_cls);
    http_deadline_request_done(c);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    if (!rt_log_enabled(RT_LOG_DEBUG))
        return;
    char line[400];
    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    rt_log_write(RT_LOG_DEBUG, "http", "libmicrohttpd: %s", line);
}

/* ---- start, stop, fork ---- */

static void forget_in_child(void)
{
    /* The threads did not come along: the child has no server. The listening socket is
     * closed so the child does not keep the port; the rest stays as the parent's. */
    if (server.daemon) {
        const union MHD_DaemonInfo *info =
            MHD_get_daemon_info(server.daemon, MHD_DAEMON_INFO_LISTEN_FD);
        if (info)
            close(info->listen_fd);
    }
    server.daemon = NULL;
    server.unix_path[0] = '\0';
    pthread_mutex_init(&server.lock, NULL);
    http_deadline_forget();
}

static void install_fork_handler(void)
{
    pthread_atfork(NULL, NULL, forget_in_child);
}

LTPROF_API int ltprof_http_start(const char *address)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install_fork_handler);
    if (!address || !*address) {
        snprintf(server.error, sizeof(server.error), "no address given");
        return LTPROF_ERR_INVALID;
    }
    pthread_mutex_lock(&server.lock);
    if (server.daemon && server.pid == getpid()) {
        snprintf(server.error, sizeof(server.error), "the server runs already on %s",
                 server.address);
        pthread_mutex_unlock(&server.lock);
        return LTPROF_ERR_BUSY;
    }
    char unix_path[sizeof(server.unix_path)];
    int fd = listen_on(address, unix_path);
    if (fd < 0) {
        pthread_mutex_unlock(&server.lock);
        return LTPROF_ERR_IO;
    }
    http_wait_reset();
    /* libmicrohttpd's threads are created from here: they are ltprof's (the guard), and they
     * block SIGPIPE, which sendfile() to a client that hung up would raise in the process. */
    sigset_t pipe, old;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, &old);
    tr_guard_enter();
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL |
            MHD_USE_ITC | MHD_USE_ERROR_LOG,
        0, NULL, NULL, on_request, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTION_LIMIT,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_TIMEOUT_S,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_NOTIFY_CONNECTION, http_deadline_on_connection, NULL,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_END);
    tr_guard_leave();
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!d) {
        close(fd);
        if (unix_path[0])
            unlink(unix_path);
        fail(address, "libmicrohttpd did not start");
        pthread_mutex_unlock(&server.lock);
        return LTPROF_ERR_IO;
    }
    server.daemon = d;
    server.pid = getpid();
    memcpy(server.unix_path, unix_path, sizeof(unix_path));
    server.error[0] = '\0';
    if (http_deadline_start() != 0)
        RT_LOG(RT_LOG_WARN, "http", "no deadline for requests: its thread did not start");
    pthread_mutex_unlock(&server.lock);
    RT_LOG(RT_LOG_INFO, "http", "serving http://%s%s/", server.address,
           rt_config_get()->http_prefix);
    return LTPROF_OK;
}

LTPROF_API int ltprof_http_stop(void)
{
    pthread_mutex_lock(&server.lock);
    struct MHD_Daemon *d = server.pid == getpid() ? server.daemon : NULL;
    server.daemon = NULL;
    if (!d) {
        pthread_mutex_unlock(&server.lock);
        return LTPROF_ERR_NOT_FOUND;
    }
    /* No new connections (the port closes now); handlers waiting out seconds= return at once,
     * and the requests in progress get their answers (up to 2 s) before the threads stop. */
    tr_guard_enter();
    MHD_socket listen_fd = MHD_quiesce_daemon(d);
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);
    http_wait_wake_all();
    for (int i = 0; i < 200 && atomic_load(&server.active) > 0; i++)
        usleep(10000);
    MHD_stop_daemon(d); /* joins every connection thread */
    http_deadline_stop();
    atomic_store(&server.active, 0);
    tr_guard_leave();
    http_wait_reset();
    if (server.unix_path[0])
        unlink(server.unix_path);
    server.unix_path[0] = '\0';
    pthread_mutex_unlock(&server.lock);
    return LTPROF_OK;
}

LTPROF_API const char *ltprof_http_address(void)
{
    return server.daemon && server.pid == getpid() ? server.address : NULL;
}

LTPROF_API const char *ltprof_http_error(void)
{
    return server.error;
}

void rt_http_start_from_env(const char *address)
{
    char expanded[300];
    if (!address[0])
        return;
    if (!rt_expand_pid(address, expanded, sizeof(expanded)))
        fprintf(stderr, "ltprof: LTPROF_HTTP: \"%s\" is too long with the pid in it\n", address);
    else if (ltprof_http_start(expanded) != LTPROF_OK)
        fprintf(stderr, "ltprof: LTPROF_HTTP: %s\n", server.error);
}

void rt_http_stop_at_exit(void)
{
    ltprof_http_stop();
}
