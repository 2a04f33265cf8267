/* SPDX-License-Identifier: MIT */
/*
 * Delta profiles, as Go's net/http/pprof serves `heap?seconds=N` (and godeltaprof its
 * delta_heap, delta_mutex, delta_block): the later of two snapshots of one profile minus the
 * earlier. Samples are matched by their stack (addresses and symbols of
 * every frame) and labels; those that cancel are dropped; every value column is subtracted, so
 * in-use and thread counts can come out negative, as in Go. Depends on the builder and reader.
 */
#ifndef LTPROF_PPROF_DELTA_H
#define LTPROF_PPROF_DELTA_H

#include <stddef.h>

#include "pprof_builder.h"
#include "pprof_reader.h"

/* Every value column is subtracted (Go's ?seconds=N). */
#define PPROF_DELTA_ALL 0xffu

/*
 * Writes `later` - `earlier` (two encoded profiles of kind `kind`, gzipped or not) as a gzipped
 * profile to `write`: the later one's time, a duration from the earlier one's time to it, the
 * later one's period and comments. Only the value columns whose bit is set in `columns` are
 * subtracted; the others are the later profile's as they are (godeltaprof's delta_heap keeps
 * the in-use columns: bits 0 and 1 only). 0 or a negative ltprof_status with a one-line reason
 * in err (LTPROF_ERR_INVALID when an input does not parse or their sample types differ from the
 * kind's).
 */
int pprof_delta_write(const struct pprof_kind *kind, const void *earlier, size_t earlier_len,
                      const void *later, size_t later_len, unsigned columns,
                      pprof_write_fn write, void *ctx, struct ltprof_error *err);

#endif
