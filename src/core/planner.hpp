// Planning is a pure function: (tests, durations, limits) -> batches.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "plugins/model.hpp"

namespace hypertest::core {

struct Batch {
    std::vector<plugins::TestCase> tests;  // in run order
    double estimate_ms = 0;                // sum of test estimates, without start-up
};

struct PlanInput {
    std::vector<plugins::TestCase> tests;
    int concurrency = 1;
    std::map<std::string, double> durations_ms;  // test id -> last known duration
    double default_ms = 1000;                     // for tests without history
    // For tests without history, by file: the median known duration of that file's tests
    // (see estimate_unknown_tests).
    std::map<std::string, double> file_default_ms;
    double startup_ms = 2000;                     // per invocation (learned from past runs)
    double max_batch_ms = 0;                      // 0: unlimited (function timeout with margin)
};

struct Plan {
    std::vector<Batch> batches;  // longest first
    double lower_bound_ms = 0;   // max(longest test + start-up, (sum + batches x start-up) / C)
    double makespan_ms = 0;      // the plan's own estimate
    double startup_ms = 0;       // the start-up per invocation it assumed
};

// A test's last known duration; without one, its file's default, else default_ms.
double estimate_ms(const PlanInput& in, const plugins::TestCase& t);
// Estimates for tests the history does not know yet, from the ones it does among `in.tests`:
// per file the median of that file's known durations, and default_ms the median of all of
// them (unchanged when none is known).
void estimate_unknown_tests(PlanInput& in);
Plan make_plan(const PlanInput& in);
// Splits tests (keeping groups whole) into at most `parts` batches of similar size.
std::vector<Batch> split_tests(const std::vector<plugins::TestCase>& tests, int parts,
                               const PlanInput& estimates);

// What happens to the tests a failed invocation did not finish (its `attempt`-th in a row).
// When `running` names the tests that were running when the function was stopped at its
// deadline, those are the suspects: each goes back alone, one attempt further; the tests that
// never started go back as they were, with no attempt counted against them (each round isolates
// a suspect, so this ends). Without suspects (a crash, a malformed answer) all go back in two
// halves, one attempt further. Suspects past `invocation_retries` re-queues are given up.
struct Requeue {
    struct Again {
        Batch batch;
        int attempt = 1;
    };
    std::vector<Again> again;
    std::vector<plugins::TestCase> given_up;
};
Requeue plan_requeue(const std::vector<plugins::TestCase>& unfinished, const std::set<std::string>& running,
                     int attempt, int invocation_retries, const PlanInput& estimates);

}  // namespace hypertest::core
