/* SPDX-License-Identifier: MIT */
/*
 * A library that tests/tracer/test_allocs.c dlopens and dlcloses: it allocates in its
 * constructor, frees in its destructor, and hands out blocks from its own code in between.
 */
#include <stdlib.h>

static void *kept;

__attribute__((constructor)) static void plugin_load(void)
{
    kept = malloc(4096);
}

__attribute__((destructor)) static void plugin_unload(void)
{
    free(kept);
}

__attribute__((visibility("default"))) void *plugin_alloc(size_t n)
{
    return calloc(1, n);
}

__attribute__((visibility("default"))) void plugin_free(void *p)
{
    free(p);
}
