/* SPDX-License-Identifier: MIT */
/*
 * Thread labels in the public API (ltprof/ltprof.h: ltprof_labels_push, ltprof_labels_pop,
 * ltprof_label), over the tracer's label sets (tracer/labels.c).
 */
#include "ltprof/ltprof.h"
#include "tracer.h"

LTPROF_API int ltprof_labels_push(const char *key, const char *value)
{
    return tr_labels_push(key, value);
}

LTPROF_API void ltprof_labels_pop(void)
{
    tr_labels_pop();
}

LTPROF_API const char *ltprof_label(const char *key)
{
    return tr_label_value(key);
}
