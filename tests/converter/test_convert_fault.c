/* SPDX-License-Identifier: MIT */
/*
 * Fault test of the converter: converts a real trace once to count the converter's
 * allocations, then again with each of them failing in turn (cv_alloc_fail_countdown). Every
 * run must end cleanly: success, or an error with a message, no crash and (under ASan) no
 * leak, and no output (profiles, trace.out, trace.json) left behind; and a run after the
 * failures must still give the same results. With MAX_RUNS, a conversion with more
 * allocations fails the first 100 and then MAX_RUNS - 100 spread evenly over the rest.
 * Usage: test_convert_fault TRACE_DIR WORK_DIR [MAX_RUNS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "converter.h"
#include "internal.h"

static int convert(const char *trace, const char *out, struct cv_summary *s,
                   struct ltprof_error *err)
{
    memset(err, 0, sizeof(*err));
    return cv_convert_dir(trace, out, CV_OUTPUT_ALL, s, NULL, NULL, err);
}

int main(int argc, char **argv)
{
    char out[4096];
    struct cv_summary base, s;
    struct ltprof_error err;
    CHECK(argc == 3 || argc == 4);
    long max_runs = argc == 4 ? atol(argv[3]) : 0;

    snprintf(out, sizeof(out), "%s/base", argv[2]);
    cv_alloc_count = 0;
    CHECK(convert(argv[1], out, &base, &err) == 0);
    CHECK(base.cpu_samples > 0);
    long total = cv_alloc_count;
    printf("a clean conversion makes %ld converter allocations (%llu samples)\n", total,
           (unsigned long long)base.cpu_samples);
    CHECK(total > 10);

    long failed = 0, survived = 0;
    long stride = max_runs > 100 && total > max_runs ? (total - 100) / (max_runs - 100) + 1 : 1;
    for (long n = 1; n <= total; n += n < 100 ? 1 : stride) {
        snprintf(out, sizeof(out), "%s/fail-%ld", argv[2], n);
        cv_alloc_fail_countdown = n;
        int rc = convert(argv[1], out, &s, &err);
        cv_alloc_fail_countdown = 0;
        if (rc == 0) {
            survived++; /* e.g. a failed cache insert that the code can do without */
        } else {
            failed++;
            if (err.message[0] == '\0') {
                fprintf(stderr, "allocation %ld: status %d without a message\n", n, rc);
                return 1;
            }
            char path[4200];
            struct stat sb;
            static const char *const outputs[] = {"trace.out", "trace.json", "cpu.pb.gz",
                                                   "mutex.pb.gz", "block.pb.gz",
                                                   "threadcreate.pb.gz", "heap.pb.gz",
                                                   "allocs.pb.gz"};
            for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++) {
                snprintf(path, sizeof(path), "%s/%s", out, outputs[i]);
                CHECK(stat(path, &sb) != 0); /* a failed conversion removes what it started */
            }
        }
    }
    printf("failing each allocation in turn: %ld runs reported an error, %ld completed\n",
           failed, survived);
    CHECK(failed > 0);

    snprintf(out, sizeof(out), "%s/after", argv[2]);
    CHECK(convert(argv[1], out, &s, &err) == 0);
    CHECK(s.cpu_samples == base.cpu_samples && s.events == base.events);
    CHECK(s.threads == base.threads && s.waits == base.waits && s.calls == base.calls);
    printf("ok convert_fault\n");
    return 0;
}
