/* SPDX-License-Identifier: MIT */
/*
 * What the fuzz targets share: reading the fuzzer's bytes as a stream of choices (a byte, a
 * number, a string), a memory sink for the writers, and saving generated outputs for the property tests (LTPROF_FUZZ_SAVE,
 * see property_test.sh). Header-only: each target is one program.
 */
#ifndef LTPROF_FUZZ_INPUT_H
#define LTPROF_FUZZ_INPUT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fz {
    const uint8_t *p;
    size_t n;
};

static inline int fz_empty(const struct fz *f) { return f->n == 0; }

/* The next byte; 0 once the input is used up. */
static inline uint8_t fz_byte(struct fz *f)
{
    if (!f->n)
        return 0;
    f->n--;
    return *f->p++;
}

/* A number below `limit` (limit > 0) from up to 8 bytes. */
static inline uint64_t fz_below(struct fz *f, uint64_t limit)
{
    uint64_t v = 0;
    for (uint64_t m = limit - 1; m; m >>= 8)
        v = (v << 8) | fz_byte(f);
    return limit ? v % limit : 0;
}

/* A string of up to `max` bytes (any bytes but NUL), into buf (max + 1 bytes). */
static inline const char *fz_string(struct fz *f, char *buf, size_t max)
{
    size_t len = (size_t)fz_below(f, max + 1), i = 0;
    while (i < len && f->n) {
        uint8_t c = fz_byte(f);
        buf[i++] = c ? (char)c : 'x';
    }
    buf[i] = '\0';
    return buf;
}

/* A growing buffer the writers under test write into (their write callbacks' context). */
struct fz_mem {
    uint8_t *data;
    size_t len, cap;
};

static inline int fz_mem_write(void *ctx, const void *data, size_t len)
{
    struct fz_mem *m = ctx;
    if (m->len + len > m->cap) {
        size_t cap = (m->len + len) * 2;
        uint8_t *d = realloc(m->data, cap);
        if (!d)
            return -1;
        m->data = d, m->cap = cap;
    }
    memcpy(m->data + m->len, data, len);
    m->len += len;
    return 0;
}

/* With LTPROF_FUZZ_SAVE=DIR, the first LTPROF_FUZZ_SAVE_MAX (default 300) outputs of a run go
 * to DIR/NAME-N.EXT, for the property tests to give to the real readers. */
static inline void fz_save(const char *name, const char *ext, const void *data, size_t len)
{
    static long saved;
    const char *dir = getenv("LTPROF_FUZZ_SAVE");
    const char *max = getenv("LTPROF_FUZZ_SAVE_MAX");
    if (!dir || saved >= (max ? atol(max) : 300))
        return;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s-%ld.%s", dir, name, saved++, ext);
    FILE *out = fopen(path, "wb");
    if (out) {
        fwrite(data, 1, len, out);
        fclose(out);
    }
}

/* A failed property: say which, then abort so the fuzzer keeps the input. */
#define FZ_CHECK(cond)                                                                         \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);        \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

#endif
