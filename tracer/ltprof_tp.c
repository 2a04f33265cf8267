/* SPDX-License-Identifier: MIT */
/*
 * Creates the probes of the "ltprof" provider (tracer/ltprof_tp.h) and nothing else.
 * Definitions are hidden so a traced program with its own providers cannot clash with ours.
 */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#define LTTNG_UST_TRACEPOINT_HIDDEN_DEFINITION
#define LTTNG_UST_TRACEPOINT_PROVIDER_HIDDEN_DEFINITION
#include "ltprof_tp.h"
