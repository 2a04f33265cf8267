/* SPDX-License-Identifier: MIT */
/*
 * Symbolized pprof locations: addresses of one process turned into locations of a pprof builder
 * through a symbolizer session, each module becoming a mapping (with its build ID, and the
 * has_* flags when our names can be trusted) the first time one of its addresses is used.
 * Shared by the converter (converter/profile_out.c) and the runtime's in-process profiles.
 * One per (builder, session); not thread-safe.
 */
#ifndef LTPROF_SYM_PPROF_H
#define LTPROF_SYM_PPROF_H

#include <stdint.h>

struct pprof_builder;
struct sym_session;
struct sym_module;
struct sym_pprof;

/* Returns NULL when out of memory. Neither argument is owned. */
struct sym_pprof *sym_pprof_create(struct pprof_builder *b, struct sym_session *s);

/* The mapping of module `mod`, added now if new (pprof takes the first mapping of a profile
 * for the main program: add the executable's first). 0 when out of memory. */
uint64_t sym_pprof_mapping(struct sym_pprof *sp, const struct sym_module *mod);

/* The location of `addr` (already stepped back into the call for return addresses), created
 * with its inline chain the first time. An address outside every module gets a location
 * without a mapping. Returns 0 when out of memory. */
uint64_t sym_pprof_location(struct sym_pprof *sp, uint64_t addr);

/* Accepts NULL. */
void sym_pprof_destroy(struct sym_pprof *sp);

#endif
