/* SPDX-License-Identifier: MIT */
/*
 * The babeltrace2 sink component classes: thin wrappers that feed every message to the
 * conversion state (events.c) and write the outputs when the stream ends. sink.ltprof.pprof
 * writes the profiles, sink.ltprof.gotrace the execution trace (trace.out, and trace.json when
 * `json` is true); in-process graphs (cv_sink_class_create) choose through struct
 * cv_sink_init. Parameter `path` (string): the output folder, default "ltprof-out".
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sink.h"

struct sink_priv {
    bt_message_iterator *it;
    struct cv_state *st;
    struct cv_summary *summary_out; /* in-process graphs: where to copy the summary, or NULL */
};

/* Reads the parameters and makes the conversion state. `outputs` may be widened or narrowed
 * by the `json` parameter (sink.ltprof.gotrace). */
static bt_component_class_initialize_method_status
sink_setup(bt_self_component_sink *self, const bt_value *params, unsigned outputs,
           struct cv_summary *summary_out)
{
    bt_self_component *comp = bt_self_component_sink_as_self_component(self);
    const char *path = "ltprof-out";
    const bt_value *v = bt_value_map_borrow_entry_value_const(params, "path");
    if (v) {
        if (!bt_value_is_string(v)) {
            BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(
                comp, "parameter `path` must be a string, e.g. -p 'path=\"out\"'");
            return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_ERROR;
        }
        path = bt_value_string_get(v);
    }
    v = bt_value_map_borrow_entry_value_const(params, "json");
    if (v) {
        if (!bt_value_is_bool(v)) {
            BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(
                comp, "parameter `json` must be a boolean, e.g. -p 'json=yes'");
            return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_ERROR;
        }
        outputs = bt_value_bool_get(v) ? outputs | CV_OUTPUT_JSON : outputs & ~CV_OUTPUT_JSON;
    }
    struct sink_priv *priv = cv_calloc(1, sizeof(*priv));
    if (!priv || !(priv->st = cv_state_create(path, outputs))) {
        free(priv);
        goto nomem;
    }
    priv->summary_out = summary_out;
    bt_self_component_set_data(comp, priv);
    if (bt_self_component_sink_add_input_port(self, "in", NULL, NULL) !=
        BT_SELF_COMPONENT_ADD_PORT_STATUS_OK)
        goto nomem;
    return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_OK;
nomem:
    BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(comp, "out of memory");
    return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR;
}

bt_component_class_initialize_method_status
cv_sink_init(bt_self_component_sink *self, bt_self_component_sink_configuration *cfg,
             const bt_value *params, void *init_data)
{
    (void)cfg;
    const struct cv_sink_init *init = init_data;
    return sink_setup(self, params, init ? init->outputs : CV_OUTPUT_DEFAULT,
                      init ? init->summary : NULL);
}

bt_component_class_initialize_method_status
cv_sink_pprof_init(bt_self_component_sink *self, bt_self_component_sink_configuration *cfg,
                   const bt_value *params, void *init_data)
{
    (void)cfg;
    (void)init_data;
    return sink_setup(self, params, CV_OUTPUT_PPROF, NULL);
}

bt_component_class_initialize_method_status
cv_sink_gotrace_init(bt_self_component_sink *self, bt_self_component_sink_configuration *cfg,
                     const bt_value *params, void *init_data)
{
    (void)cfg;
    (void)init_data;
    return sink_setup(self, params, CV_OUTPUT_GOTRACE, NULL);
}

bt_component_class_sink_graph_is_configured_method_status
cv_sink_graph_is_configured(bt_self_component_sink *self)
{
    struct sink_priv *priv =
        bt_self_component_get_data(bt_self_component_sink_as_self_component(self));
    bt_self_component_port_input *in = bt_self_component_sink_borrow_input_port_by_name(self, "in");
    if (bt_message_iterator_create_from_sink_component(self, in, &priv->it) !=
        BT_MESSAGE_ITERATOR_CREATE_FROM_SINK_COMPONENT_STATUS_OK)
        return BT_COMPONENT_CLASS_SINK_GRAPH_IS_CONFIGURED_METHOD_STATUS_ERROR;
    return BT_COMPONENT_CLASS_SINK_GRAPH_IS_CONFIGURED_METHOD_STATUS_OK;
}

static bt_component_class_sink_consume_method_status finish(bt_self_component *comp,
                                                            struct sink_priv *priv)
{
    struct ltprof_error err = {{0}};
    if (cv_state_finish(priv->st, priv->summary_out, &err) != 0) {
        BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(comp, "%s", err.message);
        return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR;
    }
    return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_END;
}

bt_component_class_sink_consume_method_status cv_sink_consume(bt_self_component_sink *self)
{
    bt_self_component *comp = bt_self_component_sink_as_self_component(self);
    struct sink_priv *priv = bt_self_component_get_data(comp);
    bt_message_array_const msgs;
    uint64_t count;
    struct ltprof_error err = {{0}};
    int rc = 0;

    switch (bt_message_iterator_next(priv->it, &msgs, &count)) {
    case BT_MESSAGE_ITERATOR_NEXT_STATUS_OK:
        break;
    case BT_MESSAGE_ITERATOR_NEXT_STATUS_END:
        bt_message_iterator_put_ref(priv->it);
        priv->it = NULL;
        return finish(comp, priv);
    case BT_MESSAGE_ITERATOR_NEXT_STATUS_AGAIN:
        return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_AGAIN;
    case BT_MESSAGE_ITERATOR_NEXT_STATUS_MEMORY_ERROR:
        return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_MEMORY_ERROR;
    default:
        return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR;
    }
    for (uint64_t i = 0; i < count; i++) {
        if (rc == 0)
            rc = cv_state_handle_message(priv->st, msgs[i], &err);
        bt_message_put_ref(msgs[i]);
    }
    if (priv->summary_out) /* progress for cv_convert_dir; the full summary comes at the end */
        priv->summary_out->events = cv_state_events_read(priv->st);
    if (rc != 0) {
        BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(comp, "%s", err.message);
        return rc == LTPROF_ERR_NOMEM ? BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_MEMORY_ERROR
                                      : BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR;
    }
    return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_OK;
}

void cv_sink_finalize(bt_self_component_sink *self)
{
    struct sink_priv *priv =
        bt_self_component_get_data(bt_self_component_sink_as_self_component(self));
    if (!priv)
        return;
    bt_message_iterator_put_ref(priv->it);
    cv_state_destroy(priv->st);
    free(priv);
}

bt_component_class_sink *cv_sink_class_create(void)
{
    bt_component_class_sink *cls = bt_component_class_sink_create("ltprof", cv_sink_consume);
    if (!cls)
        return NULL;
    if (bt_component_class_sink_set_initialize_method(cls, cv_sink_init) ||
        bt_component_class_sink_set_finalize_method(cls, cv_sink_finalize) ||
        bt_component_class_sink_set_graph_is_configured_method(cls, cv_sink_graph_is_configured)) {
        bt_component_class_sink_put_ref(cls);
        return NULL;
    }
    return cls;
}
