/* SPDX-License-Identifier: MIT */
/*
 * Internal to runtime/'s HTTP layer (libmicrohttpd): Go's net/http/pprof routes. The server and
 * the dispatch are in http_server.c; responses and waiting in http_response.c; the named
 * profiles, deltas, index and cmdline in http_profiles.c; /symbol in http_symbol.c; /profile
 * and /trace in http_record.c; the viewer at /ui/ in http_ui.c; the deadline of a request in
 * http_deadline.c. Every handler runs on a thread that is ltprof's own (inside the
 * tracer's guard), so nothing it does is traced or profiled.
 */
#ifndef LTPROF_RUNTIME_HTTP_H
#define LTPROF_RUNTIME_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#define HTTP_MAX_BODY (64 * 1024) /* request bodies (symbol lookups, forms) */
#define HTTP_CONNECTION_LIMIT 256
#define HTTP_IDLE_TIMEOUT_S 30     /* no byte either way for this long closes a connection */
#define HTTP_REQUEST_DEADLINE_S 10 /* a whole request (head and body) must arrive in this */

/* One request, across libmicrohttpd's calls of the handler. */
struct http_req {
    char *body;
    size_t len, cap;
    int too_big; /* the body went over HTTP_MAX_BODY */
    int form;    /* the body is application/x-www-form-urlencoded */
    char *form_copy; /* the body parsed into pairs, for http_param */
};

/* ---- http_parse.c: what requests say, as pure functions (also fuzzed) ---- */

/* Go's strconv.Atoi: optional sign, decimal digits, fits 64 bits. 0 or -1. */
int http_go_atoi(const char *text, long long *out);
/* Go's strconv.ParseUint(word, 0, 64) of the `len` bytes at `word`. 0 or -1. */
int http_parse_address(const char *word, size_t len, uint64_t *out);
/* "a=1&b=x+y%21" into "a\01\0b\0x y!\0\0" (decoded, NUL-separated pairs, malloc'ed; at
 * most 2 * len + 3 bytes; a name or value ends at a decoded %00); NULL when out of memory. */
char *http_parse_form(const char *body, size_t len);
/* The first value of `name` in http_parse_form's pairs (NULL: none). */
const char *http_form_value(const char *pairs, const char *name);
/* /profile's seconds, as Go reads them: an integer; missing, bad or not positive: 30. */
long long http_profile_seconds(const char *text);
/* /trace's seconds: a float; missing, bad, not positive or not finite: 1. */
double http_trace_seconds(const char *text);
/* /symbol's input: words split on '+' and ' ', each nonzero address (Go's ParseUint syntax)
 * passed to `each`. Returns how many. */
size_t http_symbol_addresses(const char *input, size_t len,
                             void (*each)(void *ctx, uint64_t addr), void *ctx);
/* The Authorization header against the token `want` ("" = none needed), in constant time in
 * the length of `want`. 1 when it matches. */
int http_token_matches(const char *want, const char *header);

/* ---- http_deadline.c: HTTP_REQUEST_DEADLINE_S for the server's own connections ---- */

/* The watcher thread; 0, or -1 when it cannot start (the server then runs without it). */
int http_deadline_start(void);
void http_deadline_stop(void);
/* In a forked child: no watcher, no connections. */
void http_deadline_forget(void);
/* libmicrohttpd's MHD_OPTION_NOTIFY_CONNECTION callback: a connection opens or closes. */
void http_deadline_on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                                 enum MHD_ConnectionNotificationCode toe);
/* A request of `c` arrived whole (its clock stops), or its response ended (the next starts). */
void http_deadline_request_arrived(struct MHD_Connection *c);
void http_deadline_request_done(struct MHD_Connection *c);
/* Connections closed for being late since the process started. */
unsigned long http_deadline_cut(void);

/* ---- http_response.c ---- */

/* 200 with the bytes of memory file `fd` (taken over: closed either way), Content-Type `type`
 * and, for a download, Content-Disposition attachment `filename` (NULL: none). */
enum MHD_Result http_send_fd(struct MHD_Connection *c, int fd, const char *type,
                             const char *filename);
/* `status` with body `len` bytes of `text` (copied) as Content-Type `type`. */
enum MHD_Result http_send_body(struct MHD_Connection *c, unsigned status, const char *type,
                               const char *text, size_t len);
/* An error as Go's pprof handlers send it: text/plain, X-Go-Pprof: 1, `message` + "\n". */
enum MHD_Result http_send_error(struct MHD_Connection *c, unsigned status, const char *message);
/* A memory file for a response body; -1 with errno when none can be made. */
int http_memfd(void);
/* Reads a whole memory file into a malloc'ed buffer (*len bytes); NULL when out of memory. */
void *http_memfd_read(int fd, size_t *len);

enum http_wait_result { HTTP_WAIT_DONE, HTTP_WAIT_CLIENT_GONE, HTTP_WAIT_STOPPING };
/* Sleeps `ns` nanoseconds, or until the client closes its connection or the server stops. */
enum http_wait_result http_wait(struct MHD_Connection *c, uint64_t ns);
/* Wakes every http_wait (the server is stopping); http_wait_reset() re-arms after a stop. */
void http_wait_wake_all(void);
void http_wait_reset(void);

/* A query or form parameter (the form's first, as Go's FormValue), or NULL. */
const char *http_param(struct MHD_Connection *c, struct http_req *r, const char *name);

/* ---- http_profiles.c ---- */

/* The index page at the prefix. */
enum MHD_Result http_index(struct MHD_Connection *c);
/* /cmdline: argv joined with NUL bytes. */
enum MHD_Result http_cmdline(struct MHD_Connection *c);
/* A named profile (heap, allocs, goroutine, threadcreate, block, mutex, user-defined), with
 * Go's debug, gc and seconds (delta) parameters. */
enum MHD_Result http_named_profile(struct MHD_Connection *c, struct http_req *r,
                                   const char *name);

/* ---- http_symbol.c ---- */

/* /symbol, Go's protocol: GET with addresses in the query, or POST with them in the body. */
enum MHD_Result http_symbol(struct MHD_Connection *c, struct http_req *r, const char *method);

/* ---- http_record.c ---- */

/* /profile?seconds=N (default 30) and /trace?seconds=N (default 1, fractions allowed). */
enum MHD_Result http_cpu_profile(struct MHD_Connection *c, struct http_req *r);
enum MHD_Result http_trace(struct MHD_Connection *c, struct http_req *r);

/* ---- http_ui.c ---- */

/* /ui/...: the browser viewer's files and its api/sources (`rest` is the path after "ui/"). */
enum MHD_Result http_ui(struct MHD_Connection *c, const char *method, const char *rest);

#endif
