#include "core/events.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "util/strings.hpp"
#include "util/time.hpp"

namespace hypertest::core {
namespace {

const char* mark(Status s) {
    switch (s) {
        case Status::success: return "✓";
        case Status::failed: return "✕";
        case Status::skipped: return "◯";
        case Status::flaky: return "±";
        case Status::cancelled: return "⊘";
    }
    return "?";
}

std::string summary_line(const RunSummary& run) {
    std::string s = std::to_string(run.tests.size()) + " tests · " +
                    std::to_string(run.count(Status::success)) + " passed · " +
                    std::to_string(run.count(Status::skipped)) + " skipped · " +
                    std::to_string(run.count(Status::failed)) + " failed";
    if (run.count(Status::flaky)) s += " · " + std::to_string(run.count(Status::flaky)) + " flaky";
    if (run.count(Status::cancelled))
        s += " · " + std::to_string(run.count(Status::cancelled)) + " cancelled";
    return s;
}

std::string state_text(StepState st, double seconds, const std::string& detail) {
    switch (st) {
        case StepState::starting: return "starting";
        case StepState::done:
            return "done (" + util::format_duration(seconds) + ")" + (detail.empty() ? "" : " " + detail);
        case StepState::skipped: return "skipped" + (detail.empty() ? "" : " (" + detail + ")");
        case StepState::error: return "error: " + detail;
    }
    return "";
}

std::string error_excerpt(const TestResult& r) {
    if (r.error_message.empty()) return "";
    std::string first = util::split(r.error_message, '\n').front();
    return "    " + util::truncate_utf8(first, 300) + "\n";
}

// Serialises writes from the dispatcher's threads to one stream.
class LockedStream {
public:
    explicit LockedStream(std::FILE* out) : m_out(out) {}

protected:
    void print(const std::string& s) {
        std::lock_guard lock(m_mutex);
        std::fputs(s.c_str(), m_out);
        std::fflush(m_out);
    }
    std::FILE* m_out;
    std::mutex m_mutex;
};

// Lines carry text from tests (titles, errors, output), so what reaches the terminal is
// terminal_safe: colours pass, nothing that moves the cursor, retitles or clears the screen.
class PlainReporter : public Reporter, protected LockedStream {
public:
    explicit PlainReporter(std::FILE* out) : LockedStream(out) {}
    void print(const std::string& s) { LockedStream::print(util::terminal_safe(s)); }
    void step(const std::string& phase, const std::string& name, StepState st, double seconds,
              const std::string& detail) override {
        print("[" + phase + "] " + name + " " + state_text(st, seconds, detail) + "\n");
    }
    void run_start(int tests, int batches, int concurrency, const std::string& run_id, double) override {
        print("[run:start] " + std::to_string(tests) + " tests · " + std::to_string(batches) +
              " batches · concurrency " + std::to_string(concurrency) + " · run " + run_id + "\n");
    }
    void in_flight(int) override {}
    void test_end(const TestResult& r) override {
        std::string line = "[test:end] " + std::string(mark(r.status)) + " " + r.test.display_name() +
                           " (" + util::format_duration(r.duration_ms / 1000.0) + ")\n";
        if (r.status == Status::failed) line += error_excerpt(r);
        print(line);
    }
    void run_end(const RunSummary& run) override {
        std::string s = "[run:end] " + summary_line(run) + " · " +
                        util::format_duration((run.end_ms - run.start_ms) / 1000.0) + "\n";
        if (!run.html_report.empty()) s += "[run:end] HTML report: " + run.html_report + "\n";
        print(s);
    }
    void warn(const std::string& m) override { print("[warning] " + m + "\n"); }
    void info(const std::string& m) override { print(m + "\n"); }
};

class JsonReporter : public Reporter, private LockedStream {
public:
    explicit JsonReporter(std::FILE* out) : LockedStream(out) {}
    void step(const std::string& phase, const std::string& name, StepState st, double seconds,
              const std::string& detail) override {
        static const char* names[] = {"starting", "done", "skipped", "error"};
        emit({{"event", "step"}, {"phase", phase}, {"step", name},
              {"state", names[static_cast<int>(st)]}, {"seconds", seconds}, {"detail", detail}});
    }
    void run_start(int tests, int batches, int concurrency, const std::string& run_id,
                   double estimated_ms) override {
        emit({{"event", "run:start"}, {"tests", tests}, {"batches", batches},
              {"concurrency", concurrency}, {"runId", run_id},
              {"estimatedMs", static_cast<std::int64_t>(estimated_ms)}});
    }
    void in_flight(int n) override { emit({{"event", "invocations"}, {"running", n}}); }
    void test_end(const TestResult& r) override {
        RunSummary one;
        one.tests.push_back(r);
        Json j = results_json(one)["testResults"][0];
        j["event"] = "test:end";
        emit(j);
    }
    void run_end(const RunSummary& run) override {
        Json j = results_json(run);
        j.erase("testResults");
        j["event"] = "run:end";
        emit(j);
    }
    void warn(const std::string& m) override { emit({{"event", "warning"}, {"message", m}}); }
    void info(const std::string& m) override { emit({{"event", "info"}, {"message", m}}); }

private:
    void emit(const Json& j) { print(j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n"); }
};

// Finished rows scroll; one status line at the bottom is redrawn with a spinner.
class TtyReporter : public PlainReporter {
public:
    explicit TtyReporter(std::FILE* out) : PlainReporter(out), m_ticker([this] { tick(); }) {}
    ~TtyReporter() override {
        {
            std::lock_guard lock(m_mutex);
            m_stop = true;
        }
        m_cv.notify_all();
        m_ticker.join();
    }
    void step(const std::string& phase, const std::string& name, StepState st, double seconds,
              const std::string& detail) override {
        std::lock_guard lock(m_mutex);
        if (st == StepState::starting) {
            m_status = phase + ": " + name;
            m_status_start = util::now_ms();
        } else {
            const char* m = st == StepState::error ? "✕" : st == StepState::skipped ? "◯" : "✓";
            m_status.clear();
            line(std::string(m) + " " + phase + ": " + name + " " + state_text(st, seconds, detail));
        }
        redraw();
    }
    void run_start(int tests, int batches, int concurrency, const std::string& run_id,
                   double estimated_ms) override {
        std::lock_guard lock(m_mutex);
        m_total = tests;
        m_estimated_s = estimated_ms / 1000.0;
        m_status_start = util::now_ms();
        m_running = true;
        line("Running " + std::to_string(tests) + " tests in " + std::to_string(batches) +
             " batches · concurrency " + std::to_string(concurrency) + " · run " + run_id);
        redraw();
    }
    void in_flight(int n) override {
        std::lock_guard lock(m_mutex);
        m_in_flight = n;
        redraw();
    }
    void test_end(const TestResult& r) override {
        std::lock_guard lock(m_mutex);
        ++m_done;
        m_failed += r.status == Status::failed ? 1 : 0;
        const char* colour = r.status == Status::failed    ? "\x1b[31m"
                             : r.status == Status::success ? "\x1b[32m"
                                                           : "\x1b[33m";
        std::string s = std::string(colour) + mark(r.status) + "\x1b[0m " + r.test.display_name() +
                        " \x1b[2m(" + util::format_duration(r.duration_ms / 1000.0) + ")\x1b[0m";
        if (r.status == Status::failed && !r.error_message.empty()) {
            s += "\n\x1b[31m" + error_excerpt(r) + "\x1b[0m";
            s.pop_back();
        }
        line(s);
        redraw();
    }
    void run_end(const RunSummary& run) override {
        std::lock_guard lock(m_mutex);
        m_running = false;
        m_status.clear();
        line("\n" + summary_line(run) + " · " +
             util::format_duration((run.end_ms - run.start_ms) / 1000.0));
        if (!run.html_report.empty()) line("HTML report: " + run.html_report);
        redraw();
    }
    void warn(const std::string& m) override {
        std::lock_guard lock(m_mutex);
        line("\x1b[33mwarning:\x1b[0m " + m);
        redraw();
    }
    void info(const std::string& m) override {
        std::lock_guard lock(m_mutex);
        line(m);
        redraw();
    }

private:
    // Callers hold m_mutex.
    void line(const std::string& s) {
        std::fputs(("\r\x1b[2K" + util::terminal_safe(s) + "\n").c_str(), m_out);
    }
    void redraw() {
        static const char* frames[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};
        std::string s = "\r\x1b[2K";
        double elapsed = (util::now_ms() - m_status_start) / 1000.0;
        if (m_running) {
            s += std::string(frames[m_frame % 10]) + " " + std::to_string(m_done) + "/" +
                 std::to_string(m_total) + " done · " + std::to_string(m_in_flight) +
                 " invocations running · " + std::to_string(m_failed) + " failed · " +
                 util::format_duration(elapsed);
            // The plan's estimate, from the timing history: "12s of ~40s".
            if (m_estimated_s > 0) s += " of ~" + util::format_duration(m_estimated_s);
        } else if (!m_status.empty()) {
            s += std::string(frames[m_frame % 10]) + " " + m_status + " " + util::format_duration(elapsed);
        }
        std::fputs(s.c_str(), m_out);
        std::fflush(m_out);
    }
    void tick() {
        std::unique_lock lock(m_mutex);
        while (!m_stop) {
            m_cv.wait_for(lock, std::chrono::milliseconds(100));
            ++m_frame;
            if (m_running || !m_status.empty()) redraw();
        }
    }

    std::condition_variable m_cv;
    bool m_stop = false;
    bool m_running = false;
    std::string m_status;
    std::int64_t m_status_start = 0;
    int m_frame = 0, m_total = 0, m_done = 0, m_failed = 0, m_in_flight = 0;
    double m_estimated_s = 0;
    std::thread m_ticker;
};

}  // namespace

std::unique_ptr<Reporter> make_reporter(OutputMode mode, std::FILE* out) {
    switch (mode) {
        case OutputMode::tty: return std::make_unique<TtyReporter>(out);
        case OutputMode::json: return std::make_unique<JsonReporter>(out);
        case OutputMode::plain: break;
    }
    return std::make_unique<PlainReporter>(out);
}

std::unique_ptr<Reporter> make_reporter(OutputMode mode) { return make_reporter(mode, stdout); }

}  // namespace hypertest::core
