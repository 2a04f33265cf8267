/* SPDX-License-Identifier: MIT */
/*
 * pprof reader (face: pprof_reader.h): gunzip with zlib, unpack with protobuf-c, then validate
 * ids and string indices like pprof's CheckValid. Errors are one line in a caller's
 * struct ltprof_error. Allocates with malloc; the profile is freed with protobuf-c's allocator.
 */
#include "pprof_reader.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#define MAX_PROFILE_BYTES ((size_t)1 << 30) /* refuse to inflate beyond 1 GiB */

__attribute__((format(printf, 2, 3))) static int fail(struct ltprof_error *err, const char *fmt,
                                                      ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
    }
    return LTPROF_ERR_INVALID;
}

/* Inflates a gzip stream into a malloc'ed buffer (*out, *out_len). */
static int gunzip(const uint8_t *data, size_t len, uint8_t **out, size_t *out_len,
                  struct ltprof_error *err) {
    z_stream zs = {0};
    size_t cap = len * 4 + 4096, used = 0;
    uint8_t *buf = malloc(cap);
    int rc = LTPROF_OK, zrc = Z_OK;
    if (!buf || inflateInit2(&zs, 16 + 15) != Z_OK) {
        free(buf);
        snprintf(err->message, sizeof(err->message), "out of memory");
        return LTPROF_ERR_NOMEM;
    }
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)(len < UINT32_MAX ? len : UINT32_MAX);
    while (zrc != Z_STREAM_END) {
        if (used == cap) {
            uint8_t *p = cap < MAX_PROFILE_BYTES ? realloc(buf, cap * 2) : NULL;
            if (!p) {
                rc = cap < MAX_PROFILE_BYTES ? LTPROF_ERR_NOMEM
                                             : fail(err, "decompressed profile exceeds 1 GiB");
                goto end;
            }
            buf = p, cap *= 2;
        }
        size_t room = cap - used < UINT32_MAX ? cap - used : UINT32_MAX;
        zs.next_out = buf + used, zs.avail_out = (uInt)room;
        zrc = inflate(&zs, Z_NO_FLUSH);
        used += room - zs.avail_out;
        if (zrc == Z_BUF_ERROR || (zrc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0)) {
            rc = fail(err, "truncated gzip data");
            goto end;
        }
        if (zrc != Z_OK && zrc != Z_STREAM_END) {
            rc = zrc == Z_MEM_ERROR ? LTPROF_ERR_NOMEM
                                    : fail(err, "bad gzip data: %s", zs.msg ? zs.msg : "error");
            goto end;
        }
    }
end:
    inflateEnd(&zs);
    if (rc == LTPROF_ERR_NOMEM)
        snprintf(err->message, sizeof(err->message), "out of memory");
    if (rc != LTPROF_OK) {
        free(buf);
        return rc;
    }
    *out = buf, *out_len = used;
    return LTPROF_OK;
}

/* ---- validation ----------------------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Sorted ids of `n` messages whose id sits at the same offset: fills ids, rejects 0 and dups. */
#define SORTED_IDS(ids, arr, n, what)                                                              \
    ({                                                                                             \
        int r_ = LTPROF_OK;                                                                        \
        for (size_t i_ = 0; i_ < (n); i_++)                                                        \
            (ids)[i_] = (arr)[i_]->id;                                                             \
        qsort((ids), (n), sizeof(uint64_t), cmp_u64);                                              \
        for (size_t i_ = 0; r_ == LTPROF_OK && i_ < (n); i_++) {                                   \
            if ((ids)[i_] == 0)                                                                    \
                r_ = fail(err, "malformed profile: %s with reserved id 0", what);                  \
            else if (i_ > 0 && (ids)[i_] == (ids)[i_ - 1])                                         \
                r_ = fail(err, "malformed profile: several %ss with id %llu", what,                \
                          (unsigned long long)(ids)[i_]);                                          \
        }                                                                                          \
        r_;                                                                                        \
    })

static bool has_id(const uint64_t *ids, size_t n, uint64_t id) {
    return bsearch(&id, ids, n, sizeof(uint64_t), cmp_u64) != NULL;
}

static bool str_ok(const Perftools__Profiles__Profile *p, int64_t idx) {
    return idx >= 0 && (uint64_t)idx < p->n_string_table;
}

static int check_strings(const Perftools__Profiles__Profile *p, struct ltprof_error *err) {
    bool ok = str_ok(p, p->drop_frames) && str_ok(p, p->keep_frames) &&
              str_ok(p, p->default_sample_type) && str_ok(p, p->doc_url);
    for (size_t i = 0; ok && i < p->n_sample_type; i++)
        ok = str_ok(p, p->sample_type[i]->type) && str_ok(p, p->sample_type[i]->unit);
    if (ok && p->period_type)
        ok = str_ok(p, p->period_type->type) && str_ok(p, p->period_type->unit);
    for (size_t i = 0; ok && i < p->n_comment; i++)
        ok = str_ok(p, p->comment[i]);
    for (size_t i = 0; ok && i < p->n_mapping; i++)
        ok = str_ok(p, p->mapping[i]->filename) && str_ok(p, p->mapping[i]->build_id);
    for (size_t i = 0; ok && i < p->n_function; i++) {
        const Perftools__Profiles__Function *f = p->function[i];
        ok = str_ok(p, f->name) && str_ok(p, f->system_name) && str_ok(p, f->filename);
    }
    for (size_t i = 0; ok && i < p->n_sample; i++) {
        for (size_t j = 0; ok && j < p->sample[i]->n_label; j++) {
            const Perftools__Profiles__Label *l = p->sample[i]->label[j];
            ok = str_ok(p, l->key) && str_ok(p, l->str) && str_ok(p, l->num_unit);
        }
    }
    return ok ? LTPROF_OK : fail(err, "malformed profile: string index out of range");
}

/* Every sample has one value per type, every referenced location and function exists. */
static int check_refs(const Perftools__Profiles__Profile *p, const uint64_t *loc_ids,
                      const uint64_t *fn_ids, struct ltprof_error *err) {
    for (size_t i = 0; i < p->n_sample; i++) {
        const Perftools__Profiles__Sample *s = p->sample[i];
        if (s->n_value != p->n_sample_type)
            return fail(err, "malformed profile: sample has %zu values vs. %zu types", s->n_value,
                        p->n_sample_type);
        for (size_t j = 0; j < s->n_location_id; j++) {
            if (!has_id(loc_ids, p->n_location, s->location_id[j]))
                return fail(err, "malformed profile: sample references missing location %llu",
                            (unsigned long long)s->location_id[j]);
        }
    }
    for (size_t i = 0; i < p->n_location; i++) {
        for (size_t j = 0; j < p->location[i]->n_line; j++) {
            if (!has_id(fn_ids, p->n_function, p->location[i]->line[j]->function_id))
                return fail(err, "malformed profile: location %llu has a line with no function",
                            (unsigned long long)p->location[i]->id);
        }
    }
    return LTPROF_OK;
}

static int validate(const Perftools__Profiles__Profile *p, struct ltprof_error *err) {
    if (p->n_string_table == 0 || p->string_table[0][0] != '\0')
        return fail(err, "not a pprof profile: string table must start with \"\"");
    if (p->n_sample > 0 && p->n_sample_type == 0)
        return fail(err, "malformed profile: missing sample type information");
    int rc = check_strings(p, err);
    if (rc != LTPROF_OK)
        return rc;
    uint64_t *loc_ids = malloc((p->n_location + 1) * sizeof(uint64_t));
    uint64_t *fn_ids = malloc((p->n_function + 1) * sizeof(uint64_t));
    uint64_t *map_ids = malloc((p->n_mapping + 1) * sizeof(uint64_t));
    if (!loc_ids || !fn_ids || !map_ids) {
        rc = LTPROF_ERR_NOMEM;
        snprintf(err->message, sizeof(err->message), "out of memory");
        goto end;
    }
    rc = SORTED_IDS(map_ids, p->mapping, p->n_mapping, "mapping");
    if (rc == LTPROF_OK)
        rc = SORTED_IDS(loc_ids, p->location, p->n_location, "location");
    if (rc == LTPROF_OK)
        rc = SORTED_IDS(fn_ids, p->function, p->n_function, "function");
    if (rc == LTPROF_OK)
        rc = check_refs(p, loc_ids, fn_ids, err);
end:
    free(loc_ids);
    free(fn_ids);
    free(map_ids);
    return rc;
}

/* ---- public API ----------------------------------------------------------------------------- */

int pprof_read_buffer(const void *data, size_t len, Perftools__Profiles__Profile **out,
                      struct ltprof_error *err) {
    struct ltprof_error scratch;
    err = err ? err : &scratch;
    err->message[0] = '\0';
    *out = NULL;
    if (len == 0)
        return fail(err, "empty input file");
    const uint8_t *bytes = data;
    uint8_t *raw = NULL;
    int rc = LTPROF_OK;
    if (len >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) {
        rc = gunzip(bytes, len, &raw, &len, err);
        if (rc != LTPROF_OK)
            return rc;
        bytes = raw;
        if (len == 0) {
            free(raw);
            return fail(err, "empty profile after decompression");
        }
    }
    Perftools__Profiles__Profile *p = perftools__profiles__profile__unpack(NULL, len, bytes);
    free(raw);
    if (!p)
        return fail(err, "not a pprof profile (protobuf decoding failed)");
    rc = validate(p, err);
    if (rc != LTPROF_OK) {
        pprof_profile_free(p);
        return rc;
    }
    *out = p;
    return LTPROF_OK;
}

/* Reads the whole file into a malloc'ed buffer. */
static int slurp(const char *path, uint8_t **out, size_t *out_len, struct ltprof_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err->message, sizeof(err->message), "%s", strerror(errno));
        return LTPROF_ERR_IO;
    }
    size_t cap = 65536, len = 0, got;
    uint8_t *buf = malloc(cap);
    int rc = LTPROF_OK;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            uint8_t *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = p, cap *= 2;
        }
    }
    if (!buf) {
        rc = LTPROF_ERR_NOMEM;
        snprintf(err->message, sizeof(err->message), "out of memory");
    } else if (ferror(f)) {
        rc = LTPROF_ERR_IO;
        snprintf(err->message, sizeof(err->message), "read error: %s", strerror(errno));
        free(buf);
    }
    fclose(f);
    if (rc == LTPROF_OK)
        *out = buf, *out_len = len;
    return rc;
}

int pprof_read_file(const char *path, Perftools__Profiles__Profile **out,
                    struct ltprof_error *err) {
    struct ltprof_error scratch;
    err = err ? err : &scratch;
    *out = NULL;
    uint8_t *buf;
    size_t len;
    int rc = slurp(path, &buf, &len, err);
    if (rc != LTPROF_OK)
        return rc;
    rc = pprof_read_buffer(buf, len, out, err);
    free(buf);
    return rc;
}

void pprof_profile_free(Perftools__Profiles__Profile *profile) {
    if (profile)
        perftools__profiles__profile__free_unpacked(profile, NULL);
}

const char *pprof_profile_string(const Perftools__Profiles__Profile *profile, int64_t idx) {
    return idx >= 0 && (uint64_t)idx < profile->n_string_table ? profile->string_table[idx] : "";
}
