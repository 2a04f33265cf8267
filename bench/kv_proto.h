/* SPDX-License-Identifier: MIT */
/*
 * The wire format shared by ltprof-bench-kv-server (kv_server.c) and ltprof-bench-kv-load
 * (kv_load.c): binary, host byte order (both ends run on the same machine), one response per
 * request, in order. A request is a struct kv_request, then `key_bytes` of key, then (SET only)
 * `value_bytes` of value; a response is a struct kv_response, then `value_bytes` of value.
 */
#ifndef LTPROF_BENCH_KV_PROTO_H
#define LTPROF_BENCH_KV_PROTO_H

#include <stdint.h>

#define KV_KEY_MAX 32
#define KV_VALUE_MAX 512

enum kv_op { KV_OP_GET = 1, KV_OP_SET = 2 };
enum kv_status { KV_OK = 0, KV_NOT_FOUND = 1, KV_BAD_REQUEST = 2 };

struct kv_request {
    uint8_t op;           /* enum kv_op */
    uint8_t key_bytes;    /* 1..KV_KEY_MAX */
    uint16_t value_bytes; /* SET: 0..KV_VALUE_MAX; GET: 0 */
};

struct kv_response {
    uint8_t status;       /* enum kv_status */
    uint8_t pad;
    uint16_t value_bytes; /* GET hit: the value's length, else 0 */
    uint32_t checksum;    /* the server's checksum of the value (its "CPU work") */
};

/* The key of index `i`, as both ends spell it ("key:00000042"); returns its length. */
static inline int kv_key_format(char *buf, uint32_t i)
{
    static const char digits[] = "0123456789";
    buf[0] = 'k', buf[1] = 'e', buf[2] = 'y', buf[3] = ':';
    for (int d = 11; d >= 4; d--, i /= 10)
        buf[d] = digits[i % 10];
    return 12;
}

#endif
