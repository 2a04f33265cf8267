/* SPDX-License-Identifier: MIT */
/*
 * Reads a pprof file (gzipped or raw profile.proto) into protobuf-c's Perftools__Profiles__Profile
 * and checks it the way pprof's CheckValid does, so callers can follow every index and id
 * without further checks. Used by `ltprof top` and by tests. Depends on protobuf-c and zlib.
 */
#ifndef LTPROF_PPROF_READER_H
#define LTPROF_PPROF_READER_H

#include <stddef.h>

#include <ltprof/ltprof.h>

#include "profile.pb-c.h"

/* Decodes `len` bytes (gzip is detected by its 1f 8b magic) and validates the result: string
 * table starting with "", every string index in range, one value per sample type, non-zero
 * unique ids, every location/function reference resolving. On success *out is the profile (free
 * it with pprof_profile_free) and 0 is returned; otherwise a negative ltprof_status
 * (LTPROF_ERR_INVALID for bad input, LTPROF_ERR_NOMEM) with a one-line reason in err. */
int pprof_read_buffer(const void *data, size_t len, Perftools__Profiles__Profile **out,
                      struct ltprof_error *err);

/* Same for the file at `path`; LTPROF_ERR_IO when it cannot be read. */
int pprof_read_file(const char *path, Perftools__Profiles__Profile **out, struct ltprof_error *err);

/* Frees a profile returned by pprof_read_*. Accepts NULL. */
void pprof_profile_free(Perftools__Profiles__Profile *profile);

/* The string at index `idx` of a validated profile ("" when out of range). */
const char *pprof_profile_string(const Perftools__Profiles__Profile *profile, int64_t idx);

#endif
