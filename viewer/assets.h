/* SPDX-License-Identifier: MIT */
/*
 * The browser viewer, embedded: the HTML, CSS and JavaScript of viewer/ compiled into the
 * binaries that serve them (`ltprof view` and libltprof.so's /debug/pprof/ui/), so nothing is
 * installed beside them. This header is the component's face.
 */
#ifndef LTPROF_VIEWER_ASSETS_H
#define LTPROF_VIEWER_ASSETS_H

#include <stddef.h>

#include <microhttpd.h>

struct viewer_asset {
    const char *path; /* "index.html", "app.js"... */
    const char *type; /* its Content-Type */
    const unsigned char *data;
    size_t size;
};

/* Generated at build time (embed.cmake): every file, then an entry with path NULL. */
extern const struct viewer_asset viewer_assets[];

/* The file at `path` (relative to the viewer's root; "" is index.html), or NULL. */
const struct viewer_asset *viewer_asset_find(const char *path);

/* Answers a GET of the viewer's file `path` (as viewer_asset_find takes it): 200 with the file,
 * or 404 as text. Both servers of the viewer call it. */
enum MHD_Result viewer_send_asset(struct MHD_Connection *c, const char *path);

/* Appends `s` to `out` (size `cap`, used `*len`) as a JSON string with its quotes; returns -1
 * when it does not fit. For the servers' api/sources answers. */
int viewer_json_string(char *out, size_t cap, size_t *len, const char *s);

/* Appends one api/sources entry {"name", "url"[, "size"]} (size < 0: none), preceded by ", "
 * unless `first`; -1 when it does not fit. */
int viewer_json_source(char *out, size_t cap, size_t *len, const char *name, const char *url,
                       long long size, int first);

#endif
