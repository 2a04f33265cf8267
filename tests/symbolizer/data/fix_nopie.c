/* SPDX-License-Identifier: MIT */
/*
 * Symbolizer fixture (c): a non-PIE (ET_EXEC) C program, so the load bias is 0.
 * nopie_work() records a return address at a marker line (fix_lines.h).
 * `fix_nopie dump` prints the addresses and modules the test symbolizes (fix_common.h).
 */
#define _GNU_SOURCE /* dl_iterate_phdr in fix_common.h */
#include <string.h>

#include "fix_common.h"
#include "fix_lines.h"

volatile int fix_sink;

__attribute__((noinline)) int nopie_work(int n) {
    fix_sink += n;
    _Static_assert(__LINE__ + 1 == FIX_NOPIE_LINE_CAPTURE, "the next line is the marker");
    fix_capture(3);
    return fix_sink * 3;
}

int main(int argc, char **argv) {
    int r = nopie_work(argc);
    if (argc > 1 && strcmp(argv[1], "dump") == 0) {
        FIX_PRINT_FN("nopie_work", &nopie_work);
        fix_dump();
    }
    return r == 12345;
}
