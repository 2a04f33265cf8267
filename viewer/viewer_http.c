/* SPDX-License-Identifier: MIT */
/*
 * Serving the embedded viewer over libmicrohttpd (assets.h), the same way from `ltprof view`
 * and from the runtime's /debug/pprof/ui/.
 */
#include "assets.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

const struct viewer_asset *viewer_asset_find(const char *path)
{
    if (!path || !*path)
        path = "index.html";
    for (const struct viewer_asset *a = viewer_assets; a->path; a++)
        if (strcmp(a->path, path) == 0)
            return a;
    return NULL;
}

enum MHD_Result viewer_send_asset(struct MHD_Connection *c, const char *path)
{
    const struct viewer_asset *a = viewer_asset_find(path);
    static const char missing[] = "404 page not found\n";
    struct MHD_Response *resp =
        a ? MHD_create_response_from_buffer(a->size, (void *)(uintptr_t)a->data,
                                            MHD_RESPMEM_PERSISTENT)
          : MHD_create_response_from_buffer(sizeof(missing) - 1, (void *)(uintptr_t)missing,
                                            MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            a ? a->type : "text/plain; charset=utf-8");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    /* The page talks only to the server it came from. */
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data:; style-src 'self' "
                            "'unsafe-inline'; connect-src 'self'");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    enum MHD_Result rc = MHD_queue_response(c, a ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND, resp);
    MHD_destroy_response(resp);
    return rc;
}

int viewer_json_string(char *out, size_t cap, size_t *len, const char *s)
{
    size_t n = *len;
    if (n + 2 >= cap)
        return -1;
    out[n++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        size_t m;
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\', esc[1] = (char)*p, m = 2;
        } else if (*p < 0x20) {
            static const char hex[] = "0123456789abcdef";
            memcpy(esc, "\\u00", 4); // NOLINT(bugprone-not-null-terminated-result): bytes, not a string
            esc[4] = hex[*p >> 4], esc[5] = hex[*p & 15], m = 6;
        } else {
            esc[0] = (char)*p, m = 1;
        }
        if (n + m + 2 > cap)
            return -1;
        memcpy(out + n, esc, m);
        n += m;
    }
    out[n++] = '"';
    out[n] = '\0';
    *len = n;
    return 0;
}

int viewer_json_source(char *out, size_t cap, size_t *len, const char *name, const char *url,
                       long long size, int first)
{
    if (*len + 16 >= cap)
        return -1;
    *len += (size_t)snprintf(out + *len, cap - *len, "%s{\"name\": ", first ? "" : ", ");
    if (viewer_json_string(out, cap, len, name) != 0 || *len + 16 >= cap)
        return -1;
    *len += (size_t)snprintf(out + *len, cap - *len, ", \"url\": ");
    if (viewer_json_string(out, cap, len, url) != 0 || *len + 32 >= cap)
        return -1;
    if (size >= 0)
        *len += (size_t)snprintf(out + *len, cap - *len, ", \"size\": %lld", size);
    out[(*len)++] = '}';
    out[*len] = '\0';
    return 0;
}
