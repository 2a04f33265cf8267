/* SPDX-License-Identifier: MIT */
/*
 * Declares the babeltrace2 plugin "ltprof" (babeltrace2-plugin-ltprof.so) and its component
 * classes. No logic here: the methods live in sink.c.
 */
#include <babeltrace2/babeltrace.h>

#include "sink.h"

BT_PLUGIN_MODULE();
BT_PLUGIN(ltprof);
BT_PLUGIN_DESCRIPTION("ltprof: pprof profiles and Go execution traces from LTTng traces of "
                      "libltprof.so");
BT_PLUGIN_AUTHOR("ltprof developers");
BT_PLUGIN_LICENSE("MIT");

BT_PLUGIN_SINK_COMPONENT_CLASS(pprof, cv_sink_consume);
BT_PLUGIN_SINK_COMPONENT_CLASS_DESCRIPTION(pprof,
    "Write pprof profiles (cpu, heap, allocs, mutex, block, threadcreate) from ltprof events.");
BT_PLUGIN_SINK_COMPONENT_CLASS_HELP(pprof,
    "Parameter `path` (string): output folder, created if missing (default \"ltprof-out\").\n"
    "Writes <path>/cpu.pb.gz (CPU), heap.pb.gz and allocs.pb.gz (sampled allocations: in use at\n"
    "the end, and all), mutex.pb.gz (contended locks), block.pb.gz (all waits on\n"
    "synchronisation) and threadcreate.pb.gz (thread creation). Enable the events 'ltprof:*'\n"
    "and 'lttng_ust_statedump:*' when recording, and the vpid context when several processes\n"
    "share the trace's buffers.");
BT_PLUGIN_SINK_COMPONENT_CLASS_INITIALIZE_METHOD(pprof, cv_sink_pprof_init);
BT_PLUGIN_SINK_COMPONENT_CLASS_FINALIZE_METHOD(pprof, cv_sink_finalize);
BT_PLUGIN_SINK_COMPONENT_CLASS_GRAPH_IS_CONFIGURED_METHOD(pprof, cv_sink_graph_is_configured);

BT_PLUGIN_SINK_COMPONENT_CLASS(gotrace, cv_sink_consume);
BT_PLUGIN_SINK_COMPONENT_CLASS_DESCRIPTION(gotrace,
    "Write a Go execution trace (trace.out), and Chrome/Perfetto JSON (trace.json) if asked, "
    "from ltprof events.");
BT_PLUGIN_SINK_COMPONENT_CLASS_HELP(gotrace,
    "Parameter `path` (string): output folder, created if missing (default \"ltprof-out\").\n"
    "Parameter `json` (boolean, default false): also write trace.json.\n"
    "Writes <path>/trace.out for `go tool trace` (Go 1.19 and later) and, with json=yes,\n"
    "<path>/trace.json for ui.perfetto.dev. Enable the events 'ltprof:*' and 'lttng_ust_statedump:*' when recording.");
BT_PLUGIN_SINK_COMPONENT_CLASS_INITIALIZE_METHOD(gotrace, cv_sink_gotrace_init);
BT_PLUGIN_SINK_COMPONENT_CLASS_FINALIZE_METHOD(gotrace, cv_sink_finalize);
BT_PLUGIN_SINK_COMPONENT_CLASS_GRAPH_IS_CONFIGURED_METHOD(gotrace, cv_sink_graph_is_configured);
