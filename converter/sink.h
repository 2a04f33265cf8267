/* SPDX-License-Identifier: MIT */
/*
 * Internal to converter/: the methods of the ltprof sink component classes, shared by the
 * plugin's class declarations (plugin.c) and cv_sink_class_create() (sink.c).
 */
#ifndef LTPROF_CONVERTER_SINK_H
#define LTPROF_CONVERTER_SINK_H

#include <babeltrace2/babeltrace.h>

/* In-process graphs (init_data: struct cv_sink_init *), sink.ltprof.pprof, sink.ltprof.gotrace. */
bt_component_class_initialize_method_status
cv_sink_init(bt_self_component_sink *self, bt_self_component_sink_configuration *cfg,
             const bt_value *params, void *init_data);
bt_component_class_initialize_method_status
cv_sink_pprof_init(bt_self_component_sink *self, bt_self_component_sink_configuration *cfg,
                   const bt_value *params, void *init_data);
bt_component_class_initialize_method_status
cv_sink_gotrace_init(bt_self_component_sink *self, bt_self_component_sink_configuration *cfg,
                     const bt_value *params, void *init_data);
bt_component_class_sink_graph_is_configured_method_status
cv_sink_graph_is_configured(bt_self_component_sink *self);
bt_component_class_sink_consume_method_status cv_sink_consume(bt_self_component_sink *self);
void cv_sink_finalize(bt_self_component_sink *self);

#endif
