/* SPDX-License-Identifier: MIT */
/*
 * Go's legacy text profiles (debug=1; runtime/internal.h: rt_text_*): buffered output to a
 * file descriptor, and stacks as Go prints them: "@ <return addresses>" then one line per
 * frame, "#\t0x<pc-1>\t<function>+0x<offset>\t<file>:<line>" ("#\t0x<pc>" alone when unknown),
 * symbolized in-process. pprof's legacy parsers read the "@" addresses; the frame lines are for
 * people (Go aligns them with a tabwriter; pprof splits on white space, so we do not).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "internal.h"
#include "sym.h"

#define MAX_LINES 16

int rt_text_open(struct rt_text *t, int fd)
{
    struct sym_module *exe;
    *t = (struct rt_text){.fd = fd};
    t->sym = rt_self_symbolizer(&exe);
    return t->sym ? 0 : LTPROF_ERR_NOMEM;
}

static void flush(struct rt_text *t)
{
    const char *p = t->buf;
    while (t->n > 0 && !t->failed) {
        ssize_t w = write(t->fd, p, t->n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            t->failed = 1;
            break;
        }
        p += w, t->n -= (size_t)w;
    }
    t->n = 0;
}

void rt_text_printf(struct rt_text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char line[1024];
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
    if (t->n + len > sizeof(t->buf))
        flush(t);
    for (size_t i = 0; i < len; i++)
        t->buf[t->n++] = line[i];
}

void rt_text_stack(struct rt_text *t, const uint64_t *pcs, size_t n, int exact_leaf,
                   const char *comment)
{
    rt_text_printf(t, "@");
    for (size_t i = 0; i < n; i++)
        rt_text_printf(t, " 0x%llx", (unsigned long long)pcs[i]);
    rt_text_printf(t, "\n");
    if (comment)
        rt_text_printf(t, "%s\n", comment);
    if (n == 0)
        rt_text_printf(t, "#\t0x0\n");
    for (size_t i = 0; i < n; i++) {
        uint64_t addr = i == 0 && exact_leaf ? pcs[i] : pcs[i] - 1;
        struct sym_frame frames[MAX_LINES];
        size_t k = sym_lookup(t->sym, NULL, addr, frames, MAX_LINES);
        if (k == 0 || !frames[0].function) {
            rt_text_printf(t, "#\t0x%llx\n", (unsigned long long)pcs[i]);
            continue;
        }
        uint64_t off = sym_symbol_offset(t->sym, addr);
        for (size_t j = 0; j < k; j++)
            rt_text_printf(t, "#\t0x%llx\t%s+0x%llx\t%s:%d\n", (unsigned long long)addr,
                           frames[j].function ? frames[j].function : "?",
                           (unsigned long long)off, frames[j].file ? frames[j].file : "?",
                           frames[j].line);
    }
    rt_text_printf(t, "\n");
}

void rt_text_panic_stack(struct rt_text *t, const uint64_t *pcs, size_t n, int exact_leaf)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t addr = i == 0 && exact_leaf ? pcs[i] : pcs[i] - 1;
        struct sym_frame frames[MAX_LINES];
        size_t k = sym_lookup(t->sym, NULL, addr, frames, MAX_LINES);
        if (k == 0 || !frames[0].function) {
            rt_text_printf(t, "?()\n\t?:0 pc=0x%llx\n", (unsigned long long)addr);
            continue;
        }
        uint64_t off = sym_symbol_offset(t->sym, addr);
        for (size_t j = 0; j < k; j++)
            rt_text_printf(t, "%s(...)\n\t%s:%d +0x%llx\n", frames[j].function,
                           frames[j].file ? frames[j].file : "?", frames[j].line,
                           (unsigned long long)off);
    }
    rt_text_printf(t, "\n");
}

int rt_text_finish(struct rt_text *t, int rc)
{
    flush(t);
    rt_self_symbolizer_release(t->sym);
    t->sym = NULL;
    return rc ? rc : t->failed ? LTPROF_ERR_IO : 0;
}
