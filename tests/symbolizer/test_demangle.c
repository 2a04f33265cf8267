/* SPDX-License-Identifier: MIT */
/*
 * Tests symbolizer/sym_demangle.c: demangled C++ names lose a template's return type and
 * nothing else, whatever operators, anonymous namespaces and lambdas they hold.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sym_internal.h"

static int failures;

static void expect(const char *mangled, const char *want)
{
    char *got = sym_demangle(mangled);
    if ((want == NULL) != (got == NULL) || (want && strcmp(got, want) != 0)) {
        fprintf(stderr, "FAIL %s: got \"%s\", want \"%s\"\n", mangled, got ? got : "(null)",
                want ? want : "(null)");
        failures++;
    }
    free(got);
}

static void expect_start(const char *demangled, const char *want)
{
    const char *got = demangled + sym_cxx_name_start(demangled);
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "FAIL start of \"%s\": got \"%s\", want \"%s\"\n", demangled, got, want);
        failures++;
    }
}

int main(void)
{
    /* Plain functions and members keep everything. */
    expect("_ZN2ns6Widget4frobEi", "ns::Widget::frob(int)");
    expect("_Z3fooPKc", "foo(char const*)");
    /* Function templates lose their return type. */
    expect("_ZN2ns5twiceIiEET_S1_", "ns::twice<int>(int)");
    expect("_ZN11ltprof_test7stage_bImEET_S1_", "ltprof_test::stage_b<unsigned long>(unsigned long)");
    /* Internal linkage, anonymous namespaces. */
    expect("_ZN12_GLOBAL__N_13fooEv", "(anonymous namespace)::foo()");
    /* Not C++ or not demangleable. */
    expect("main", NULL);
    expect("_Zinvalid!!", NULL);
    expect(NULL, NULL);
    /* Operators, conversion operators, lambdas and templates with spaces keep their name. */
    expect_start("std::vector<int, std::allocator<int> >::operator[](unsigned long)",
                 "std::vector<int, std::allocator<int> >::operator[](unsigned long)");
    expect_start("bool ns::operator< <int>(ns::X<int> const&, ns::X<int> const&)",
                 "ns::operator< <int>(ns::X<int> const&, ns::X<int> const&)");
    expect_start("ns::Klass::operator unsigned long() const", "ns::Klass::operator unsigned long() const");
    expect_start("ns::run()::{lambda(int)#1}::operator()(int) const",
                 "ns::run()::{lambda(int)#1}::operator()(int) const");
    expect_start("void (anonymous namespace)::call<void (*)(int)>(void (*)(int))",
                 "(anonymous namespace)::call<void (*)(int)>(void (*)(int))");
    if (failures)
        return 1;
    printf("ok sym_demangle\n");
    return 0;
}
