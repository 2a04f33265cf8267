/* SPDX-License-Identifier: MIT */
/*
 * `ltprof view FILE_OR_DIR...`: serves the browser viewer (viewer/, embedded) and the given
 * traces, profiles and thread dumps on loopback, prints the URL and, when $BROWSER names a
 * browser, opens it. The page asks api/sources for what it can open and fetches files/NAME;
 * a folder is listed again at every request, so files written later show up on a reload.
 * Only the files listed can be fetched: names are matched exactly, never joined to a path.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <microhttpd.h>

#include "assets.h"
#include "commands.h"

struct source {
    char name[NAME_MAX + 16];
    char path[PATH_MAX];
    long long size;
};

#define MAX_FILES 1000
#define SOURCES_CAP (256 * 1024)

/* The listing is built in these, one request at a time (connections have their threads). */
static pthread_mutex_t listing_lock = PTHREAD_MUTEX_INITIALIZER;
static struct source listing[MAX_FILES];

static const char usage[] =
    "usage: ltprof view FILE_OR_DIR... [--port P] [--addr ADDRESS]\n"
    "\n"
    "Serves the browser viewer with the given Go execution traces (trace.out), pprof profiles\n"
    "(*.pb.gz) and thread dumps (goroutine?debug=1 text) and prints its URL. A folder offers\n"
    "every file in it (an `ltprof record -o DIR` folder, say); a single file opens at once.\n"
    "Everything runs in the page: no network access is needed. Stop with Ctrl-C.\n"
    "\n"
    "  --port P          TCP port (default 0: any free port, printed)\n"
    "  --addr ADDRESS    numeric IPv4 address or localhost to listen on (default 127.0.0.1;\n"
    "                    anything but loopback shows your files to the network)\n"
    "  -h, --help        this text\n"
    "\n"
    "When $BROWSER is set, it is run with the URL.\n";


struct view {
    char **paths; /* the command line's files and folders */
    int n_paths;
};

static int regular_size(const char *path, long long *size)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return -1;
    *size = (long long)st.st_size;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct source *)a)->name, ((const struct source *)b)->name);
}

/* The files offered now: each file given, each regular file of each folder given (sorted),
 * names made unique with " (2)"... Returns how many were put in `out`. */
static int list_sources(const struct view *v, struct source *out, int cap)
{
    int n = 0;
    for (int i = 0; i < v->n_paths && n < cap; i++) {
        struct stat st;
        if (stat(v->paths[i], &st) != 0)
            continue;
        int first = n;
        if (S_ISDIR(st.st_mode)) {
            DIR *d = opendir(v->paths[i]);
            struct dirent *e;
            while (d && n < cap && (e = readdir(d))) {
                if (e->d_name[0] == '.')
                    continue;
                struct source *s = &out[n];
                if (snprintf(s->path, sizeof(s->path), "%s/%s", v->paths[i], e->d_name) >=
                        (int)sizeof(s->path) ||
                    regular_size(s->path, &s->size) != 0)
                    continue;
                snprintf(s->name, sizeof(s->name), "%s", e->d_name);
                n++;
            }
            if (d)
                closedir(d);
            qsort(out + first, (size_t)(n - first), sizeof(*out), by_name);
        } else if (regular_size(v->paths[i], &out[n].size) == 0) {
            const char *base = strrchr(v->paths[i], '/');
            snprintf(out[n].name, sizeof(out[n].name), "%s", base ? base + 1 : v->paths[i]);
            snprintf(out[n].path, sizeof(out[n].path), "%s", v->paths[i]);
            n++;
        }
        for (int k = first; k < n; k++) { /* same name from two places: number them */
            int dup = 1;
            for (int j = 0; j < first; j++)
                if (strcmp(out[j].name, out[k].name) == 0)
                    dup++;
            if (dup > 1) {
                size_t l = strlen(out[k].name);
                snprintf(out[k].name + l, sizeof(out[k].name) - l, " (%d)", dup);
            }
        }
    }
    return n;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *type,
                                 const char *text, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
    return send_text(c, status, "text/plain; charset=utf-8", msg, strlen(msg));
}

/* `in` percent-encoded for a URL (unreserved characters kept) into out[cap]. */
static void url_escape(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && n + 4 < cap; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p))
            out[n++] = (char)*p;
        else
            n += (size_t)snprintf(out + n, cap - n, "%%%02X", *p);
    }
    out[n] = '\0';
}

/* {"title": ..., "sources": [{"name", "url", "size"}...]} */
static enum MHD_Result send_sources(struct MHD_Connection *c, const struct view *v)
{
    static char json[SOURCES_CAP];
    struct source *list = listing;
    int n = list_sources(v, list, MAX_FILES);
    size_t len = 0;
    char title[PATH_MAX + 32];
    snprintf(title, sizeof(title), "ltprof view: %s%s", v->paths[0], v->n_paths > 1 ? " ..." : "");
    int bad = 0;
    len = (size_t)snprintf(json, sizeof(json), "{\"title\": ");
    bad |= viewer_json_string(json, sizeof(json), &len, title);
    bad |= len + 20 > sizeof(json);
    if (!bad)
        len += (size_t)snprintf(json + len, sizeof(json) - len, ", \"sources\": [");
    for (int i = 0; i < n && !bad; i++) {
        char url[sizeof(list[i].name) * 3 + 8] = "files/";
        url_escape(list[i].name, url + 6, sizeof(url) - 6);
        bad = viewer_json_source(json, sizeof(json), &len, list[i].name, url, list[i].size,
                                 i == 0) != 0;
    }
    if (bad || len + 4 >= sizeof(json))
        return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "too many files to list\n");
    len += (size_t)snprintf(json + len, sizeof(json) - len, "]}\n");
    return send_text(c, MHD_HTTP_OK, "application/json", json, len);
}

static enum MHD_Result send_file(struct MHD_Connection *c, const struct view *v,
                                 const char *name)
{
    struct source *list = listing;
    int n = list_sources(v, list, MAX_FILES);
    for (int i = 0; i < n; i++) {
        if (strcmp(list[i].name, name) != 0)
            continue;
        int fd = open(list[i].path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            if (fd >= 0)
                close(fd);
            return send_error(c, MHD_HTTP_NOT_FOUND, "the file cannot be read any more\n");
        }
        struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
        if (!r) {
            close(fd);
            return MHD_NO;
        }
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
        enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_OK, r);
        MHD_destroy_response(r);
        return rc;
    }
    return send_error(c, MHD_HTTP_NOT_FOUND, "404 no such file among those served\n");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    (void)version, (void)upload_data;
    const struct view *v = cls;
    if (!*req_cls) { /* headers first; answer once the request is whole */
        *req_cls = (void *)1;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0; /* no request has a body worth reading */
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    if (url[0] != '/')
        return send_error(c, MHD_HTTP_BAD_REQUEST, "bad path\n");
    url++;
    enum MHD_Result rc;
    pthread_mutex_lock(&listing_lock);
    if (strcmp(url, "api/sources") == 0)
        rc = send_sources(c, v);
    else if (strncmp(url, "files/", 6) == 0)
        rc = send_file(c, v, url + 6);
    else
        rc = viewer_send_asset(c, url);
    pthread_mutex_unlock(&listing_lock);
    return rc;
}

static int parse_port(const char *s, unsigned *port)
{
    char *end;
    errno = 0;
    unsigned long p = strtoul(s, &end, 10);
    if (!*s || *end || errno || p > 65535 || *s == '-' || *s == '+')
        return -1;
    *port = (unsigned)p;
    return 0;
}

static void open_browser(const char *url)
{
    const char *browser = getenv("BROWSER");
    if (!browser || !*browser)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        /* $BROWSER may hold arguments ("firefox --new-window"): the shell splits it */
        execl("/bin/sh", "sh", "-c", "$BROWSER \"$1\"", "sh", url, (char *)NULL);
        _exit(127);
    }
    if (pid < 0)
        fprintf(stderr, "ltprof view: could not start $BROWSER: %s\n", strerror(errno));
}

int cli_view(int argc, char **argv)
{
    struct view v = {0};
    unsigned port = 0;
    const char *addr = "127.0.0.1";
    char **paths = calloc((size_t)argc, sizeof(*paths));
    if (!paths) {
        fputs("ltprof view: out of memory\n", stderr);
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            free(paths);
            return 0;
        } else if (strcmp(argv[i], "--port") == 0 || strcmp(argv[i], "--addr") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "ltprof view: %s needs a value\n\n%s", argv[i], usage);
                free(paths);
                return 2;
            }
            if (argv[i][2] == 'p' && parse_port(argv[i + 1], &port) != 0) {
                fprintf(stderr, "ltprof view: --port \"%s\": expected 0 to 65535\n", argv[i + 1]);
                free(paths);
                return 2;
            }
            if (argv[i][2] == 'a')
                addr = argv[i + 1];
            i++;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "ltprof view: unknown option \"%s\"\n\n%s", argv[i], usage);
            free(paths);
            return 2;
        } else {
            struct stat st;
            if (stat(argv[i], &st) != 0) {
                fprintf(stderr, "ltprof view: %s: %s\n", argv[i], strerror(errno));
                free(paths);
                return 1;
            }
            if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
                fprintf(stderr, "ltprof view: %s: neither a file nor a folder\n", argv[i]);
                free(paths);
                return 1;
            }
            paths[v.n_paths++] = argv[i];
        }
    }
    if (v.n_paths == 0) {
        fprintf(stderr, "ltprof view: name a trace, a profile or a folder\n\n%s", usage);
        free(paths);
        return 2;
    }
    v.paths = paths;

    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (strcmp(addr, "localhost") == 0)
        addr = "127.0.0.1";
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        fprintf(stderr, "ltprof view: --addr \"%s\": expected a numeric IPv4 address\n", addr);
        free(paths);
        return 2;
    }
    /* Ctrl-C and SIGTERM end the wait below; libmicrohttpd's threads must not take them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL, 0, NULL,
        NULL, on_request, &v, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "ltprof view: cannot listen on %s:%u: %s\n", addr, port,
                errno ? strerror(errno) : "libmicrohttpd did not start");
        free(paths);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned bound = info ? info->port : port;

    /* One file given: open it at once. */
    struct source *list = listing;
    int n = list_sources(&v, list, MAX_FILES);
    char url[sizeof(list[0].name) * 3 + 100];
    int single = v.n_paths == 1 && n == 1 && strcmp(list[0].path, v.paths[0]) == 0;
    if (single) {
        char query[sizeof(list[0].name) * 3 + 1];
        url_escape(list[0].name, query, sizeof(query));
        snprintf(url, sizeof(url), "http://%s:%u/?open=%s", addr, bound, query);
    } else {
        snprintf(url, sizeof(url), "http://%s:%u/", addr, bound);
    }
    printf("ltprof view: %d file%s at %s\n", n, n == 1 ? "" : "s", url);
    printf("ltprof view: press Ctrl-C to stop\n");
    fflush(stdout);
    if (n == 0)
        fprintf(stderr, "ltprof view: warning: nothing to show there yet (the page can still "
                        "open files from disk)\n");
    open_browser(url);
    int sig = 0;
    while (sigwait(&stop, &sig) == 0 && sig == SIGPIPE)
        ;
    MHD_stop_daemon(d);
    free(paths);
    printf("ltprof view: stopped\n");
    return 0;
}
