/* SPDX-License-Identifier: MIT */
/*
 * Decodes babeltrace2 messages into the converter's events (struct cv_event, internal.h) and
 * hands them to events.c. Field positions are resolved once per event class and cached,
 * holding a reference to the class so a freed class can never alias a new one. Each field is
 * read by its actual type, so a trace whose field has an unexpected type reads as 0, "" or an
 * empty array instead of reaching babeltrace2 with the wrong accessor.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define NO_FIELD UINT64_MAX

struct class_cache {
    const bt_event_class *cls; /* referenced */
    const struct cv_event_schema *schema; /* NULL: an event the converter does not read */
    uint64_t field[CV_EVENT_FIELDS];
    const char *missing_field; /* a field the schema has and this class lacks, or NULL */
};

struct cv_event_reader {
    struct cv_vec classes; /* struct class_cache */
    struct cv_vec scratch; /* uint64_t: the array fields of the event being read */
};

void cv_event_reader_destroy(struct cv_event_reader *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->classes.len; i++)
        bt_event_class_put_ref(CV_VEC_AT(&r->classes, struct class_cache, i)->cls);
    cv_vec_fini(&r->classes);
    cv_vec_fini(&r->scratch);
    free(r);
}

static uint64_t member_index(const bt_field_class *payload_fc, const char *name)
{
    uint64_t n = bt_field_class_structure_get_member_count(payload_fc);
    for (uint64_t i = 0; i < n; i++) {
        const bt_field_class_structure_member *m =
            bt_field_class_structure_borrow_member_by_index_const(payload_fc, i);
        if (strcmp(bt_field_class_structure_member_get_name(m), name) == 0)
            return i;
    }
    return NO_FIELD;
}

static void resolve_fields(struct class_cache *c, const struct cv_event_schema *schema,
                           const bt_event_class *cls)
{
    const bt_field_class *payload_fc = bt_event_class_borrow_payload_field_class_const(cls);
    if (payload_fc && bt_field_class_get_type(payload_fc) != BT_FIELD_CLASS_TYPE_STRUCTURE)
        payload_fc = NULL;
    c->schema = schema;
    for (size_t f = 0; f < CV_EVENT_FIELDS; f++) {
        const char *fname = schema->fields[f];
        c->field[f] = fname && payload_fc ? member_index(payload_fc, fname + (fname[0] == '?'))
                                          : NO_FIELD;
        if (fname && c->field[f] == NO_FIELD && fname[0] != '?')
            c->missing_field = fname;
    }
    /* LTTng's own events vary across versions: ignore a layout we do not know. */
    if (c->missing_field && (schema->kind == CV_EV_BIN_INFO || schema->kind == CV_EV_BUILD_ID))
        c->schema = NULL;
}

static struct class_cache *class_cache(struct cv_event_reader *r, const bt_event_class *cls)
{
    for (size_t i = 0; i < r->classes.len; i++) {
        struct class_cache *c = CV_VEC_AT(&r->classes, struct class_cache, i);
        if (c->cls == cls)
            return c;
    }
    struct class_cache *c = cv_vec_push(&r->classes);
    if (!c)
        return NULL;
    c->cls = cls;
    bt_event_class_get_ref(cls);
    const char *name = bt_event_class_get_name(cls);
    for (size_t k = 0; name && k < cv_event_schema_count; k++)
        if (strcmp(name, cv_event_schemas[k].name) == 0)
            resolve_fields(c, &cv_event_schemas[k], cls);
    return c;
}

static uint64_t field_u64(const bt_field *f)
{
    bt_field_class_type t = bt_field_get_class_type(f);
    if (bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER))
        return bt_field_integer_unsigned_get_value(f);
    if (bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_SIGNED_INTEGER))
        return (uint64_t)bt_field_integer_signed_get_value(f);
    return 0;
}

/* Appends the elements of an array field to the scratch buffer (non-integers read as 0; the
 * elements share one class, so the fast path checks the first). 0 or LTPROF_ERR_NOMEM. */
static int read_array(struct cv_vec *scratch, const bt_field *arr, uint64_t *n_out)
{
    uint64_t n = bt_field_array_get_length(arr);
    *n_out = 0;
    if (n == 0)
        return 0;
    uint64_t *out = n <= SIZE_MAX ? cv_vec_grow(scratch, (size_t)n) : NULL;
    if (!out)
        return LTPROF_ERR_NOMEM;
    const bt_field *first = bt_field_array_borrow_element_field_by_index_const(arr, 0);
    if (bt_field_class_type_is(bt_field_get_class_type(first),
                               BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER)) {
        for (uint64_t i = 0; i < n; i++)
            out[i] = bt_field_integer_unsigned_get_value(
                bt_field_array_borrow_element_field_by_index_const(arr, i));
    } else {
        for (uint64_t i = 0; i < n; i++)
            out[i] = field_u64(bt_field_array_borrow_element_field_by_index_const(arr, i));
    }
    *n_out = n;
    return 0;
}

/* Fills ev->f from the payload. 0 or LTPROF_ERR_NOMEM. */
static int read_fields(struct cv_event_reader *r, const struct class_cache *c,
                       const bt_field *payload, struct cv_event *ev)
{
    size_t at[CV_EVENT_FIELDS] = {0};
    r->scratch.len = 0;
    for (size_t i = 0; i < CV_EVENT_FIELDS && c->schema->fields[i]; i++) {
        struct cv_field *f = &ev->f[i];
        f->s = "";
        if (c->field[i] == NO_FIELD || !payload)
            continue;
        const bt_field *m = bt_field_structure_borrow_member_field_by_index_const(payload,
                                                                                 c->field[i]);
        bt_field_class_type t = bt_field_get_class_type(m);
        if (t == BT_FIELD_CLASS_TYPE_STRING) {
            f->s = bt_field_string_get_value(m);
        } else if (bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_ARRAY)) {
            at[i] = r->scratch.len;
            if (read_array(&r->scratch, m, &f->n))
                return LTPROF_ERR_NOMEM;
        } else {
            f->u = field_u64(m);
        }
    }
    /* The scratch buffer may have moved while growing: point into it only now. */
    for (size_t i = 0; i < CV_EVENT_FIELDS; i++)
        if (ev->f[i].n)
            ev->f[i].a = CV_VEC_AT(&r->scratch, uint64_t, at[i]);
    return 0;
}

/* The process an event belongs to: the vpid context, else the trace's vpid, else 0. */
static int64_t event_pid(const bt_event *ev)
{
    const bt_field *ctx = bt_event_borrow_common_context_field_const(ev);
    if (ctx) {
        const bt_field *f = bt_field_structure_borrow_member_field_by_name_const(ctx, "vpid");
        if (f)
            return (int64_t)field_u64(f);
    }
    const bt_trace *t = bt_stream_borrow_trace_const(bt_event_borrow_stream_const(ev));
    const bt_value *v = bt_trace_borrow_environment_entry_value_by_name_const(t, "vpid");
    return v && bt_value_is_signed_integer(v) ? bt_value_integer_signed_get(v) : 0;
}

/* The emitting thread: the vtid context (ltprof:trace_info has no tid field), else 0. */
static int64_t event_tid(const bt_event *ev)
{
    const bt_field *ctx = bt_event_borrow_common_context_field_const(ev);
    const bt_field *f = ctx ? bt_field_structure_borrow_member_field_by_name_const(ctx, "vtid")
                            : NULL;
    return f ? (int64_t)field_u64(f) : 0;
}

/* The event's time, and the offset from CLOCK_MONOTONIC (the clock's raw value, in ns) to it. */
static void read_time(const bt_message *msg, struct cv_event *ev)
{
    const bt_clock_snapshot *cs = bt_message_event_borrow_default_clock_snapshot_const(msg);
    if (!cs || bt_clock_snapshot_get_ns_from_origin(cs, &ev->ns) !=
                   BT_CLOCK_SNAPSHOT_GET_NS_FROM_ORIGIN_STATUS_OK)
        return;
    uint64_t cycles = bt_clock_snapshot_get_value(cs);
    uint64_t freq = bt_clock_class_get_frequency(bt_clock_snapshot_borrow_clock_class_const(cs));
    double scaled = freq ? (double)cycles * 1e9 / (double)freq : 0;
    uint64_t raw_ns = freq == 1000000000u ? cycles
                      : scaled < 18446744073709551615.0 ? (uint64_t)scaled : 0;
    ev->has_time = true;
    ev->mono_to_ns = (int64_t)((uint64_t)ev->ns - raw_ns); /* wraps, as times do on add */
}

static int on_event_message(struct cv_state *st, const bt_message *msg, struct ltprof_error *err)
{
    struct cv_event_reader *r = st->reader;
    const bt_event *bev = bt_message_event_borrow_event_const(msg);
    struct class_cache *c = class_cache(r, bt_event_borrow_class_const(bev));
    if (!c)
        return cv_error(err, LTPROF_ERR_NOMEM, "out of memory");
    struct cv_event ev = {.kind = c->schema ? c->schema->kind : CV_EV_OTHER};
    read_time(msg, &ev);
    if (c->schema && c->missing_field)
        return cv_error(err, LTPROF_ERR_UNSUPPORTED,
                        "event %s has no field \"%s\": the trace was recorded with an "
                        "incompatible ltprof event schema", c->schema->name, c->missing_field);
    if (c->schema) {
        ev.pid = event_pid(bev);
        ev.tid = event_tid(bev);
        if (read_fields(r, c, bt_event_borrow_payload_field_const(bev), &ev))
            return cv_error(err, LTPROF_ERR_NOMEM, "out of memory while reading events");
    }
    return cv_state_handle_event(st, &ev, err);
}

/* A stream's discarded-events message: how many the tracer lost, and from when. */
static int on_discarded_events(struct cv_state *st, const bt_message *msg,
                               struct ltprof_error *err)
{
    struct cv_event ev = {.kind = CV_EV_LOST};
    if (bt_message_discarded_events_get_count(msg, &ev.f[0].u) !=
            BT_PROPERTY_AVAILABILITY_AVAILABLE ||
        ev.f[0].u == 0)
        return 0;
    const bt_stream *s = bt_message_discarded_events_borrow_stream_const(msg);
    const bt_value *v = bt_trace_borrow_environment_entry_value_by_name_const(
        bt_stream_borrow_trace_const(s), "vpid");
    ev.pid = v && bt_value_is_signed_integer(v) ? bt_value_integer_signed_get(v) : 0;
    const bt_stream_class *sc = bt_stream_borrow_class_const(s);
    if (bt_stream_class_discarded_events_have_default_clock_snapshots(sc)) {
        const bt_clock_snapshot *cs =
            bt_message_discarded_events_borrow_beginning_default_clock_snapshot_const(msg);
        ev.has_time = bt_clock_snapshot_get_ns_from_origin(cs, &ev.ns) ==
                      BT_CLOCK_SNAPSHOT_GET_NS_FROM_ORIGIN_STATUS_OK;
    }
    return cv_state_handle_event(st, &ev, err);
}

int cv_state_handle_message(struct cv_state *st, const bt_message *msg, struct ltprof_error *err)
{
    if (!st->reader) {
        st->reader = cv_calloc(1, sizeof(*st->reader));
        if (!st->reader)
            return cv_error(err, LTPROF_ERR_NOMEM, "out of memory");
        cv_vec_init(&st->reader->classes, sizeof(struct class_cache));
        cv_vec_init(&st->reader->scratch, sizeof(uint64_t));
    }
    switch (bt_message_get_type(msg)) {
    case BT_MESSAGE_TYPE_EVENT:
        return on_event_message(st, msg, err);
    case BT_MESSAGE_TYPE_DISCARDED_EVENTS:
        return on_discarded_events(st, msg, err);
    default:
        return 0;
    }
}
