/* SPDX-License-Identifier: MIT */
/*
 * Integration-test program, C++ flavour of stacks.c: threads "worker-1".."worker-3"
 * (std::thread) and the main thread run ltprof_test::Burner::run → Burner::stage_a →
 * stage_b<T> (template) → stage_c_trampoline → call_with (lambda) → Burner::stage_d → leaves:
 * Burner::spin and std::sort with a burning comparator (ltprof_test::burn_compare).
 * About 1.8 s of CPU (times LTPROF_TEST_SCALE). Built -O2 -fomit-frame-pointer -g.
 */
#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#define NOINLINE __attribute__((noipa))

namespace ltprof_test {

volatile uint64_t sink;

static double thread_cpu_s()
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline uint64_t mix_step(uint64_t x)
{
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
}

NOINLINE bool burn_compare(uint64_t a, uint64_t b)
{
    uint64_t h = a | 1;
    for (int i = 0; i < 96; i++)
        h = mix_step(h) + (uint64_t)i;
    sink += h;
    return a < b;
}

class Burner {
public:
    explicit Burner(unsigned id) : id_(id) {}
    uint64_t run(double budget_s);
    uint64_t stage_d(uint64_t s, unsigned n);

private:
    uint64_t stage_a(uint64_t s, unsigned n);
    uint64_t spin(uint64_t s);
    uint64_t sort_burn(uint64_t s);
    unsigned id_;
};

template <typename T>
NOINLINE T stage_b(Burner *b, T s, unsigned n, uint64_t (*next)(Burner *, T, unsigned))
{
    T r = next(b, s * 3 + 1, n);
    sink += r;
    return r + s;
}

template <typename F> NOINLINE uint64_t call_with(F fn, uint64_t s)
{
    uint64_t r = fn(s + 7);
    sink += r;
    return r ^ s;
}

NOINLINE uint64_t Burner::spin(uint64_t s)
{
    uint64_t x = s | 1;
    for (uint64_t i = 0; i < 150000; i++)
        x = mix_step(x) + i;
    return x;
}

NOINLINE uint64_t Burner::sort_burn(uint64_t s)
{
    std::vector<uint64_t> v(256);
    uint64_t x = s | 1;
    for (auto &e : v)
        e = x = mix_step(x);
    std::sort(v.begin(), v.end(), [](uint64_t a, uint64_t b) { return burn_compare(a, b); });
    return v.front() ^ v.back();
}

NOINLINE uint64_t Burner::stage_d(uint64_t s, unsigned n)
{
    uint64_t r = (n & 1) ? sort_burn(s) : spin(s);
    sink += r;
    return r + id_;
}

static uint64_t stage_c_trampoline(Burner *b, uint64_t s, unsigned n);

NOINLINE uint64_t Burner::stage_a(uint64_t s, unsigned n)
{
    uint64_t r = stage_b<uint64_t>(this, s + 1, n, stage_c_trampoline);
    sink += r;
    return r * 5;
}

NOINLINE uint64_t Burner::run(double budget_s)
{
    double start = thread_cpu_s();
    uint64_t acc = 0;
    unsigned n = 0;
    while (thread_cpu_s() - start < budget_s)
        acc += stage_a(acc + n, n), n++;
    return acc;
}

/* stage_b's callee: hands over to a lambda, which calls back into the class. */
NOINLINE static uint64_t stage_c_trampoline(Burner *b, uint64_t s, unsigned n)
{
    uint64_t r = call_with([b, n](uint64_t v) NOINLINE { return b->stage_d(v, n); }, s);
    sink += r;
    return r + 2;
}

} // namespace ltprof_test

static void worker_main(unsigned id, double budget_s)
{
    char name[16];
    snprintf(name, sizeof name, "worker-%u", id);
    pthread_setname_np(pthread_self(), name);
    ltprof_test::Burner burner(id);
    ltprof_test::sink += burner.run(budget_s);
}

int main()
{
    const char *scale = getenv("LTPROF_TEST_SCALE");
    double budget_s = 0.45;
    if (scale && atof(scale) > 0)
        budget_s *= atof(scale);

    std::vector<std::thread> threads;
    for (unsigned i = 1; i <= 3; i++)
        threads.emplace_back(worker_main, i, budget_s);
    ltprof_test::Burner main_burner(0);
    ltprof_test::sink += main_burner.run(budget_s);
    for (auto &t : threads)
        t.join();
    printf("stacks_cpp: 4 threads x %.2f s CPU done\n", budget_s);
    return 0;
}
