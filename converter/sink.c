/* SPDX-License-Identifier: MIT */
/*
 * The babeltrace2 sink component class sink.ltprof.pprof: a thin wrapper that feeds every
 * message to the conversion state (events.c) and writes the profiles when the stream ends.
 * The same methods serve the plugin (plugin.c) and in-process graphs (cv_sink_class_create).
 * Parameter: `path` (string), the output folder; default "ltprof-out". In-process graphs pass
 * a struct cv_summary * as initialization data to receive the summary.
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

bt_component_class_initialize_method_status
cv_sink_init(bt_self_component_sink *self, bt_self_component_sink_configuration *cfg,
             const bt_value *params, void *init_data)
{
    (void)cfg;
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
    struct sink_priv *priv = cv_calloc(1, sizeof(*priv));
    if (!priv || !(priv->st = cv_state_create(path))) {
        free(priv);
        goto nomem;
    }
    priv->summary_out = init_data;
    bt_self_component_set_data(comp, priv);
    if (bt_self_component_sink_add_input_port(self, "in", NULL, NULL) !=
        BT_SELF_COMPONENT_ADD_PORT_STATUS_OK)
        goto nomem;
    return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_OK;
nomem:
    BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(comp, "out of memory");
    return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR;
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
    bt_component_class_sink *cls = bt_component_class_sink_create("pprof", cv_sink_consume);
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
