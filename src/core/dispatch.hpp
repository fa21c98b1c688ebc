// Dispatches batches to the function with up to `concurrency` invocations in flight. Tests
// whose invocation failed are re-queued in smaller batches, then failed with the reason.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/planner.hpp"
#include "core/results.hpp"
#include "core/session.hpp"

namespace hypertest::core {

struct DispatchStats {
    int invocations = 0;
    int max_in_flight = 0;
    double billed_ms = 0;
    std::vector<std::string> blob_report_keys;
};

struct DispatchInput {
    std::string run_id;
    std::vector<Batch> batches;
    int concurrency = 1;
    int invocation_retries = 2;
    std::chrono::milliseconds function_timeout{900000};
    PlanInput estimates;  // for splitting re-queued tests
};

// Fills results (keyed by test id, pre-filled as cancelled) with final outcomes.
DispatchStats dispatch(Session& s, const DispatchInput& in, std::map<std::string, TestResult>& results);

}  // namespace hypertest::core
