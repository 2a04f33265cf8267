/* SPDX-License-Identifier: MIT */
/*
 * ltprof's routes on the application's own libmicrohttpd daemon, the way Go programs mount
 * net/http/pprof's handlers on their own mux. From the daemon's access handler:
 *
 *     if (ltprof_http_owns(url))
 *         return ltprof_http_handle(connection, url, method, upload_data, upload_data_size,
 *                                   req_cls);
 *
 * and from its MHD_OPTION_NOTIFY_COMPLETED callback: ltprof_http_request_completed(req_cls)
 * (it ignores requests ltprof did not handle only if *req_cls is NULL for them: keep your own
 * per-request state elsewhere for those URLs). Handlers that wait (seconds=N, recordings) block
 * the calling thread: run the daemon with MHD_USE_THREAD_PER_CONNECTION. The prefix is
 * LTPROF_HTTP_PREFIX (default /debug/pprof); LTPROF_HTTP_TOKEN applies here too.
 */
#ifndef LTPROF_LTPROF_HTTP_H
#define LTPROF_LTPROF_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <stdarg.h>

#include <microhttpd.h>

#include "ltprof/ltprof.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Non-zero when `url` is the prefix or below it. */
LTPROF_API int ltprof_http_owns(const char *url);
/* Serves one request; the arguments are those of MHD_AccessHandlerCallback. */
LTPROF_API enum MHD_Result ltprof_http_handle(struct MHD_Connection *connection, const char *url,
                                              const char *method, const char *upload_data,
                                              size_t *upload_data_size, void **req_cls);
/* Frees what ltprof_http_handle kept for the request (accepts *req_cls == NULL). */
LTPROF_API void ltprof_http_request_completed(void **req_cls);

#ifdef __cplusplus
}
#endif

#endif
