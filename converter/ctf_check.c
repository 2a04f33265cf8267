/* SPDX-License-Identifier: MIT */
/*
 * Checks a CTF trace's `metadata` file before babeltrace2 opens it. babeltrace2 2.0.4 loops
 * forever on a packetized metadata file whose last packet is cut short (its packet decoder
 * retries the short read), so a truncated trace would hang `ltprof convert` instead of failing.
 * Walking the packet headers is cheap and turns that case into a one-line error.
 * Face: converter/internal.h (cv_check_metadata).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define METADATA_MAGIC 0x75d11d57u
#define HEADER_BYTES 37 /* magic, uuid[16], checksum, content_size, packet_size, 5 x u8 */

static uint32_t load_u32(const unsigned char *p, int swap)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return swap ? __builtin_bswap32(v) : v;
}

int cv_check_metadata(const char *path, struct ltprof_error *err)
{
    unsigned char hdr[HEADER_BYTES];
    FILE *f = fopen(path, "rb");
    int rc = 0;
    if (!f)
        return cv_error(err, LTPROF_ERR_IO, "cannot open \"%s\": %s", path, strerror(errno));
    size_t n = fread(hdr, 1, 4, f);
    if (n < 4) {
        rc = cv_error(err, LTPROF_ERR_INVALID, "the trace's metadata \"%s\" is empty or cut "
                      "short: the trace is damaged", path);
        goto end;
    }
    uint32_t magic = load_u32(hdr, 0);
    if (magic != METADATA_MAGIC && magic != __builtin_bswap32(METADATA_MAGIC))
        goto end; /* plain-text metadata: nothing to walk */
    int swap = magic != METADATA_MAGIC;
    for (long offset = 0;; ) {
        if (fseek(f, offset, SEEK_SET) != 0)
            break;
        n = fread(hdr, 1, sizeof(hdr), f);
        if (n == 0)
            break; /* the file ends after a whole packet */
        uint32_t content_bits = n == sizeof(hdr) ? load_u32(hdr + 24, swap) : 0;
        uint32_t packet_bits = n == sizeof(hdr) ? load_u32(hdr + 28, swap) : 0;
        if (n < sizeof(hdr) || load_u32(hdr, swap) != METADATA_MAGIC || packet_bits % 8 ||
            packet_bits < HEADER_BYTES * 8 || content_bits > packet_bits ||
            content_bits < HEADER_BYTES * 8) {
            rc = cv_error(err, LTPROF_ERR_INVALID, "the trace's metadata \"%s\" has a damaged "
                          "packet at byte %ld: the trace is truncated or corrupt", path, offset);
            goto end;
        }
        long next = offset + (long)(packet_bits / 8);
        if (fseek(f, next - 1, SEEK_SET) != 0 || fgetc(f) == EOF) {
            rc = cv_error(err, LTPROF_ERR_INVALID, "the trace's metadata \"%s\" is cut short in "
                          "the packet at byte %ld: the trace is truncated", path, offset);
            goto end;
        }
        offset = next;
    }
end:
    fclose(f);
    return rc;
}
