// SPDX-License-Identifier: MIT
// C++ allocations for tests/tracer/test_allocs.c: operator new and delete, which libstdc++
// implements with malloc and free, so they reach ltprof's interposers. Each round allocates
// and frees 4 blocks.
#include <memory>
#include <string>
#include <vector>

extern "C" size_t cxx_allocate_and_free(int rounds)
{
    size_t total = 0;
    for (int i = 0; i < rounds; i++) {
        auto v = std::make_unique<std::vector<int>>(100 + i); // new, then new[] inside vector
        std::string *s = new std::string(200, 'x');
        total += v->size() + s->size();
        delete s;
    }
    return total;
}
