/* SPDX-License-Identifier: MIT */
/*
 * /symbol, Go's remote symbolization protocol (what `go tool pprof` POSTs when a profile has
 * unsymbolized addresses): the addresses come in the POST body or, for any other method, in
 * the query string, separated by '+', each with C's base prefixes (0x hex, 0 octal, decimal).
 * The answer starts "num_symbols: 1" and has one "0x<hex> <function>" line per address that
 * resolves, in input order; tokens that do not parse, 0, and unknown addresses are skipped.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "internal.h"
#include "sym.h"

/* The query string, rebuilt from libmicrohttpd's parsed arguments: it decodes '+' to ' ', so
 * each key and value is split again on spaces. */
struct query {
    char *text;
    size_t len, cap;
};

static void query_add(struct query *q, const char *s)
{
    size_t n = strlen(s);
    if (q->len + n + 2 > q->cap) {
        size_t cap = (q->len + n + 2) * 2;
        char *t = realloc(q->text, cap);
        if (!t)
            return;
        q->text = t, q->cap = cap;
    }
    memcpy(q->text + q->len, s, n);
    q->len += n;
    q->text[q->len++] = '+';
    q->text[q->len] = '\0';
}

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    (void)kind;
    struct query *q = cls;
    if (q->len > HTTP_MAX_BODY)
        return MHD_NO;
    query_add(q, key);
    if (value && *value)
        query_add(q, value);
    return MHD_YES;
}

struct answer {
    FILE *out;
    struct sym_session *sym;
};

/* One line per address that names a function, as Go's handler writes it. */
static void answer_one(void *ctx, uint64_t addr)
{
    struct answer *a = ctx;
    struct sym_frame frame;
    if (sym_lookup(a->sym, NULL, addr, &frame, 1) > 0 && frame.function)
        fprintf(a->out, "%#llx %s\n", (unsigned long long)addr, frame.function);
}

enum MHD_Result http_symbol(struct MHD_Connection *c, struct http_req *r, const char *method)
{
    struct query q = {0};
    const char *input = "";
    size_t input_len = 0;
    if (strcmp(method, "POST") == 0) {
        input = r->body ? r->body : "", input_len = r->len;
    } else {
        MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect, &q);
        input = q.text ? q.text : "", input_len = q.len;
    }
    char *out = NULL;
    size_t out_len = 0;
    FILE *f = open_memstream(&out, &out_len);
    struct sym_session *sym = f ? rt_self_symbolizer(NULL) : NULL;
    if (!sym) {
        if (f)
            fclose(f);
        free(out), free(q.text);
        return http_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    fputs("num_symbols: 1\n", f);
    struct answer a = {f, sym};
    http_symbol_addresses(input, input_len, answer_one, &a);
    rt_self_symbolizer_release(sym);
    free(q.text);
    int failed = fclose(f) != 0;
    enum MHD_Result rc =
        failed ? http_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory")
               : http_send_body(c, MHD_HTTP_OK, "text/plain; charset=utf-8", out, out_len);
    free(out);
    return rc;
}
