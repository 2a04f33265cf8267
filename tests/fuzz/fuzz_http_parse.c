/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: what the HTTP layer reads from requests (runtime/http_parse.c): debug and
 * seconds values, /symbol's address lists, form bodies, the Authorization header. The first
 * byte picks the parser; the rest is the text. Besides memory safety (ASan, UBSan), each
 * parser's contract is checked against its definition.
 */
#include <errno.h>
#include <math.h>

#include "fuzz_input.h"
#include "http.h"

static void count_address(void *ctx, uint64_t addr)
{
    FZ_CHECK(addr != 0);
    (*(size_t *)ctx)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t which = data[0];
    size_t len = size - 1;
    char *text = malloc(len + 1);
    if (!text)
        return 0;
    memcpy(text, data + 1, len);
    text[len] = '\0';
    size_t slen = strlen(text); /* the C string a query parameter would be */
    switch (which % 6) {
    case 0: { /* debug=, seconds= on named profiles: Go's Atoi */
        long long v = 0;
        if (http_go_atoi(text, &v) == 0) {
            errno = 0;
            FZ_CHECK(strtoll(text, NULL, 10) == v && errno == 0);
            for (const char *p = text + (*text == '+' || *text == '-'); *p; p++)
                FZ_CHECK(*p >= '0' && *p <= '9');
        }
        break;
    }
    case 1: { /* one word of /symbol */
        uint64_t v = 0;
        if (http_parse_address(text, slen, &v) == 0)
            FZ_CHECK(strtoull(text, NULL, 0) == v && slen > 0 && slen < 40);
        break;
    }
    case 2: { /* /symbol's whole input, GET or POST */
        size_t n = 0, words = 1;
        for (size_t i = 0; i < len; i++)
            words += text[i] == '+' || text[i] == ' ';
        size_t got = http_symbol_addresses(text, len, count_address, &n);
        FZ_CHECK(got == n && n <= words);
        break;
    }
    case 3: { /* an application/x-www-form-urlencoded body */
        char *pairs = http_parse_form(text, len);
        if (!pairs)
            break;
        size_t used = 0, n = 0;
        const char *first = NULL;
        for (const char *p = pairs; *p; n++) {
            const char *value = p + strlen(p) + 1;
            if (!first)
                first = p;
            p = value + strlen(value) + 1;
            used = (size_t)(p - pairs);
        }
        FZ_CHECK(used + 1 <= len * 2 + 3);
        if (first)
            FZ_CHECK(http_form_value(pairs, first) != NULL);
        free(pairs);
        break;
    }
    case 4: { /* seconds= of /profile and /trace */
        FZ_CHECK(http_profile_seconds(text) > 0);
        double s = http_trace_seconds(text);
        FZ_CHECK(s > 0 && isfinite(s));
        break;
    }
    case 5: { /* Authorization against a token: "want\0header" */
        const char *want = text;
        const char *header = slen < len ? text + slen + 1 : NULL;
        int ok = http_token_matches(want, header);
        if (!want[0])
            FZ_CHECK(ok == 1);
        else
            FZ_CHECK(ok == (header && strncmp(header, "Bearer ", 7) == 0 &&
                            strcmp(header + 7, want) == 0));
        break;
    }
    }
    free(text);
    return 0;
}
