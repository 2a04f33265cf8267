/* SPDX-License-Identifier: MIT */
/*
 * What the HTTP layer reads from requests, as pure functions (no connection, no server): Go's
 * integer and address syntax, form bodies, the seconds of /profile and /trace, /symbol's
 * address lists and the bearer token. The handlers call them, and so does the fuzzer
 * (tests/fuzz/fuzz_http_parse.c).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int http_go_atoi(const char *text, long long *out)
{
    if (!text || !*text)
        return -1;
    const char *p = text + (*text == '+' || *text == '-');
    if (!*p)
        return -1;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return -1;
    errno = 0;
    char *end;
    long long v = strtoll(text, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

int http_parse_address(const char *word, size_t len, uint64_t *out)
{
    char buf[40];
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, word, len);
    buf[len] = '\0';
    for (size_t i = 0; i < len; i++)
        if (!isxdigit((unsigned char)buf[i]) && !(i == 1 && (buf[i] == 'x' || buf[i] == 'X')))
            return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(buf, &end, 0);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

char *http_parse_form(const char *body, size_t len)
{
    char *out = malloc(len * 2 + 3), *w = out;
    if (!out)
        return NULL;
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && body[end] != '&')
            end++;
        size_t eq = i;
        while (eq < end && body[eq] != '=')
            eq++;
        if (eq == i) { /* "&&" or "=x": no name */
            i = end + 1;
            continue;
        }
        for (int part = 0; part < 2; part++) {
            size_t from = part ? (eq < end ? eq + 1 : end) : i, to = part ? end : eq;
            char *start = w;
            for (size_t k = from; k < to; k++)
                *w++ = body[k] == '+' ? ' ' : body[k];
            *w = '\0';
            MHD_http_unescape(start);
            /* "%00" decodes to a NUL: the name or value ends there, or the pairs could not be
             * walked as C strings (http_form_value would run past the end). */
            w = start + strlen(start) + 1;
        }
        i = end + 1;
    }
    *w = '\0';
    return out;
}

const char *http_form_value(const char *pairs, const char *name)
{
    for (const char *p = pairs; p && *p;) {
        const char *value = p + strlen(p) + 1;
        if (strcmp(p, name) == 0)
            return value;
        p = value + strlen(value) + 1;
    }
    return NULL;
}

long long http_profile_seconds(const char *text)
{
    char *end;
    long long seconds = text && *text ? strtoll(text, &end, 10) : 0;
    if (!text || !*text || *end || seconds <= 0)
        seconds = 30;
    return seconds;
}

double http_trace_seconds(const char *text)
{
    char *end;
    double seconds = text && *text ? strtod(text, &end) : 0;
    if (!text || !*text || *end || !(seconds > 0) || !isfinite(seconds))
        seconds = 1;
    return seconds;
}

size_t http_symbol_addresses(const char *input, size_t len,
                             void (*each)(void *ctx, uint64_t addr), void *ctx)
{
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t end = i;
        while (end < len && input[end] != '+' && input[end] != ' ')
            end++;
        uint64_t addr = 0;
        if (http_parse_address(input + i, end - i, &addr) == 0 && addr != 0) {
            each(ctx, addr);
            n++;
        }
        i = end + 1;
    }
    return n;
}

int http_token_matches(const char *want, const char *header)
{
    if (!want[0])
        return 1;
    if (!header || strncmp(header, "Bearer ", 7) != 0)
        return 0;
    const char *got = header + 7;
    /* Constant time in the length of the expected token. */
    size_t n = strlen(want), m = strlen(got);
    unsigned diff = n != m;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)want[i] ^ (unsigned char)(i < m ? got[i] : 0);
    return diff == 0;
}
