/* SPDX-License-Identifier: MIT */
/*
 * C++ names for the symbolizer (sym_internal.h): demangles with libstdc++'s __cxa_demangle
 * and drops the return type that the Itanium ABI encodes for function templates
 * ("unsigned long ns::f<int>(int)" → "ns::f<int>(int)"), so names read and match (pprof
 * -focus, drop_frames) like those of other functions. Pure string work, no state.
 */
#include <stdlib.h>
#include <string.h>

#include "sym_internal.h"

/* From libstdc++ (cxxabi.h is C++ only). Returns a malloc'd string when *status == 0. */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

static const char anon_ns[] = "(anonymous namespace)";

/* Length of an operator name starting at s ("operator<<", "operator()", "operator new"...),
 * or 0 when s does not start with one. Conversion operators ("operator int") run to '('. */
static size_t operator_len(const char *s)
{
    static const char op[] = "operator";
    size_t n = sizeof(op) - 1;
    if (strncmp(s, op, n) != 0)
        return 0;
    if (s[n] == ' ') /* conversion operator, new, delete: up to the parameter list */
        return strcspn(s, "(");
    if (s[n] == '(' && s[n + 1] == ')')
        return n + 2;
    if (s[n] == '[' && s[n + 1] == ']')
        return n + 2;
    size_t k = n;
    while (s[k] && strchr("+-*/%^&|~!=<>,", s[k]))
        k++;
    return k;
}

size_t sym_cxx_name_start(const char *d)
{
    size_t start = 0;
    int depth = 0;
    for (size_t i = 0; d[i];) {
        if (strncmp(d + i, anon_ns, sizeof(anon_ns) - 1) == 0) {
            i += sizeof(anon_ns) - 1;
            continue;
        }
        size_t op = (i == 0 || d[i - 1] == ':' || d[i - 1] == ' ') ? operator_len(d + i) : 0;
        if (op) {
            i += op;
            if (d[i] == ' ' && d[i + 1] == '<')
                i++; /* "operator< <int>": the space only separates template arguments */
            continue;
        }
        char c = d[i];
        if (c == '(' && depth == 0)
            break; /* the parameter list: what came before is [return type ]name */
        if (c == '<' || c == '[' || c == '{' || c == '(')
            depth++;
        else if ((c == '>' || c == ']' || c == '}' || c == ')') && depth > 0)
            depth--;
        else if (c == ' ' && depth == 0)
            start = i + 1;
        i++;
    }
    return start;
}

char *sym_demangle(const char *mangled)
{
    if (!mangled || mangled[0] != '_' || mangled[1] != 'Z')
        return NULL;
    int status = -1;
    char *d = __cxa_demangle(mangled, NULL, NULL, &status);
    if (status != 0 || !d) {
        free(d);
        return NULL;
    }
    size_t start = sym_cxx_name_start(d);
    if (start)
        memmove(d, d + start, strlen(d + start) + 1);
    return d;
}
