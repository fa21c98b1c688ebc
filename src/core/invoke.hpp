// Invoke: check drift, plan batches, dispatch them to the function, collect every report.
#pragma once

#include <optional>
#include <vector>

#include "core/deploy.hpp"
#include "core/planner.hpp"
#include "core/session.hpp"

namespace hypertest::core {

// Storage key of the last run's summary (run id, failed and cancelled test ids) that
// --last-failed reads.
std::string last_run_key(const Config& c);
// Applies --grep / --grep-invert (regex on "project file titles tags", case-insensitive) and
// --project. Throws util::Fatal for an invalid regex or an unknown project.
std::vector<plugins::TestCase> select_tests(const std::vector<plugins::TestCase>& tests,
                                            const Options& options);
// The planner's input: the tests, concurrency, timing history and (when the function's state
// is known) a batch limit from its timeout.
PlanInput plan_input(Session& s, const std::vector<plugins::TestCase>& tests,
                     const providers::FunctionState* state);
Plan plan_for(Session& s, const std::vector<plugins::TestCase>& tests);
// The start-up per invocation the planner assumes next time: `before` (the history's) moved
// halfway towards the mean of this run's samples; the mean alone when there was none before.
std::optional<double> learned_startup(std::optional<double> before, const std::vector<double>& samples);
// Compares the deployed state with the local project; acts per driftDetectionPolicy.
void check_drift(Session& s, const Manifest& m);
// Runs the tests and writes results, JUnit and HTML report. Returns the exit code.
int invoke(Session& s, const Manifest& m);

}  // namespace hypertest::core
