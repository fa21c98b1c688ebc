// Dispatches batches to the function with up to `concurrency` invocations in flight, from one
// event loop (the provider's start_invoke/poll; libcurl multi on AWS).
// - Tests whose invocation failed (error, crash, timeout, malformed answer) are re-queued in
//   smaller batches up to `invocation_retries` times, then failed with the reason.
// - Call errors marked retryable are retried with exponential backoff and jitter, waiting at
//   least the service's Retry-After. A throttled call (HTTP 429) halves the in-flight target
//   (never below 1); each successful call raises it by one, back up to `concurrency`.
// - Failed tests are re-run `retries` times in fresh invocations; passing on a re-run is flaky.
// - After `max_failures` failed tests, or on Ctrl-C (interrupted()), nothing new is dispatched
//   and tests that never finished end cancelled, with the reason.
// Every test of the batches ends with exactly one final status; stats.final_reports counts how
// often each test was given one (checked by check_final_statuses).
#pragma once

#include <chrono>
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
    int call_retries = 0;   // retried invoke calls (retryable call errors)
    int throttles = 0;      // of those, the service asked us to slow down (HTTP 429)
    int lowest_target = 0;  // the lowest in-flight target throttling led to
    double billed_ms = 0;
    std::vector<std::string> blob_report_keys;
    // Per answered invocation: its round trip minus its tests' durations (the start-up cost).
    std::vector<double> startup_samples_ms;
    std::map<std::string, int> final_reports;  // test id -> final statuses given (1 when correct)
    bool max_failures_reached = false;
    std::string suite_error;  // the framework's message when the suite could not start
};

struct DispatchInput {
    std::string run_id;
    std::vector<Batch> batches;
    int concurrency = 1;
    int invocation_retries = 2;  // re-queues of tests whose invocation failed
    int retries = 0;             // fresh re-runs of failed tests
    int max_failures = 0;        // stop dispatching after this many failed tests; 0: never
    std::chrono::milliseconds function_timeout{900000};
    int transport_retries = 4;  // retryable call errors, with exponential backoff and jitter
    std::chrono::milliseconds backoff_base{500};
    std::chrono::milliseconds backoff_max{8000};
    PlanInput estimates;  // for splitting re-queued tests
    std::map<std::string, std::string> suite_env;  // InvocationEvent::env
};

// Fills results (keyed by test id) with final outcomes.
DispatchStats dispatch(Session& s, const DispatchInput& in, std::map<std::string, TestResult>& results);

// The backoff before transport retry `attempt` (1-based): min(max, base x 2^(attempt-1)) scaled
// by `jitter` in [0, 1) into the upper half of that window ("equal jitter").
std::chrono::milliseconds backoff_delay(int attempt, std::chrono::milliseconds base,
                                        std::chrono::milliseconds max, double jitter);

}  // namespace hypertest::core
