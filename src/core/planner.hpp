// Planning is a pure function: (tests, durations, limits) -> batches.
#pragma once

#include <map>
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
    double startup_ms = 2000;                     // per invocation (learned from past runs)
    double max_batch_ms = 0;                      // 0: unlimited (function timeout with margin)
};

struct Plan {
    std::vector<Batch> batches;  // longest first
    double lower_bound_ms = 0;   // max(longest test + start-up, (sum + batches x start-up) / C)
    double makespan_ms = 0;      // the plan's own estimate
    double startup_ms = 0;       // the start-up per invocation it assumed
};

double estimate_ms(const PlanInput& in, const plugins::TestCase& t);
Plan make_plan(const PlanInput& in);
// Splits tests (keeping groups whole) into at most `parts` batches of similar size.
std::vector<Batch> split_tests(const std::vector<plugins::TestCase>& tests, int parts,
                               const PlanInput& estimates);

}  // namespace hypertest::core
