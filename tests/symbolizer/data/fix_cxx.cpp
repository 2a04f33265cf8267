/* SPDX-License-Identifier: MIT */
/*
 * Symbolizer fixture (b): a C++ program with a namespace, a class member function and a
 * function template, each recording a return address at a marker line (fix_lines.h).
 * `fix_cxx dump` prints the addresses and modules the test symbolizes (fix_common.h).
 */
#include <cstring>

#include "fix_common.h"
#include "fix_lines.h"

volatile int fix_sink;

namespace ns {
class Widget {
  public:
    int frob(int x);
};

__attribute__((noinline)) int Widget::frob(int x) {
    static_assert(__LINE__ + 1 == FIX_CXX_LINE_FROB, "the next line is the marker");
    fix_capture(1);
    return x * 7 + fix_sink;
}

template <typename T> __attribute__((noinline)) T twice(T v) {
    fix_sink += 1;
    static_assert(__LINE__ + 1 == FIX_CXX_LINE_TWICE, "the next line is the marker");
    fix_capture(2);
    return v + v + fix_sink;
}
} // namespace ns

int main(int argc, char **argv) {
    ns::Widget w;
    int r = w.frob(argc) + ns::twice<int>(argc);
    if (argc > 1 && std::strcmp(argv[1], "dump") == 0) {
        FIX_PRINT_FN("twice_int", &ns::twice<int>);
        fix_dump();
    }
    return r == 12345;
}
