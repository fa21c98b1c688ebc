// Progress events and the three ways to show them: a live TTY view, plain lines (a line an
// event, tagged like `[run:start] 24 tests · 2 batches`; also for non-TTY stdout) and JSON lines
// (--json). All methods are thread-safe.
#pragma once

#include <memory>
#include <string>

#include "core/results.hpp"

namespace hypertest::core {

enum class StepState { starting, done, skipped, error };

class Reporter {
public:
    virtual ~Reporter() = default;
    virtual void step(const std::string& phase, const std::string& name, StepState state,
                      double seconds, const std::string& detail) = 0;
    // estimated_ms: the plan's makespan estimate (0 when unknown).
    virtual void run_start(int tests, int batches, int concurrency, const std::string& run_id,
                           double estimated_ms) = 0;
    virtual void in_flight(int invocations_running) = 0;
    virtual void test_end(const TestResult& result) = 0;
    virtual void run_end(const RunSummary& run) = 0;
    virtual void warn(const std::string& message) = 0;
    // Plain informational text (dry-run plans, listings); JSON mode wraps it in an event.
    virtual void info(const std::string& message) = 0;
};

enum class OutputMode { tty, plain, json };
std::unique_ptr<Reporter> make_reporter(OutputMode mode);
// Writes to the given stream instead of stdout (for tests).
std::unique_ptr<Reporter> make_reporter(OutputMode mode, std::FILE* out);

}  // namespace hypertest::core
