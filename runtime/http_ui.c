/* SPDX-License-Identifier: MIT */
/*
 * /debug/pprof/ui/: the browser viewer (viewer/, embedded) served by the process itself. Its
 * api/sources lists the process's profiles as they are now (the named profiles and a thread
 * dump) and the two recordings the page can ask for (../trace and ../profile with seconds=N),
 * all relative to the prefix, so a proxy that moves the prefix keeps the page working.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "assets.h"
#include "http.h"
#include "ltprof/ltprof.h"

static enum MHD_Result send_sources(struct MHD_Connection *c)
{
    size_t n = ltprof_profiles(NULL, 0);
    const char **names = calloc(n + 1, sizeof(*names));
    size_t cap = 4096 + n * 600, len = 0;
    char *json = malloc(cap);
    if (!names || !json) {
        free(names), free(json);
        return http_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    n = ltprof_profiles(names, n);
    char title[300];
    snprintf(title, sizeof(title), "ltprof: %s (pid %d)", program_invocation_short_name,
             (int)getpid());
    len = (size_t)snprintf(json, cap, "{\"title\": ");
    int bad = viewer_json_string(json, cap, &len, title);
    if (!bad)
        len += (size_t)snprintf(json + len, cap - len,
                                ", \"live\": true, \"record\": {\"trace\": \"../trace\", "
                                "\"profile\": \"../profile\"}, \"sources\": [");
    bad = bad ||
          viewer_json_source(json, cap, &len, "thread dump", "../goroutine?debug=1", -1, 1);
    for (size_t i = 0; i < n && !bad; i++) {
        char url[300];
        snprintf(url, sizeof(url), "../%s", names[i]);
        bad = viewer_json_source(json, cap, &len, names[i], url, -1, 0) != 0;
    }
    if (!bad && len + 4 < cap)
        len += (size_t)snprintf(json + len, cap - len, "]}\n");
    else
        bad = 1;
    free(names);
    enum MHD_Result rc =
        bad ? http_send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory")
            : http_send_body(c, MHD_HTTP_OK, "application/json", json, len);
    free(json);
    return rc;
}

enum MHD_Result http_ui(struct MHD_Connection *c, const char *method, const char *rest)
{
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return http_send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD");
    if (strcmp(rest, "api/sources") == 0)
        return send_sources(c);
    return viewer_send_asset(c, rest);
}
