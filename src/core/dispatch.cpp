#include "core/dispatch.hpp"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "util/log.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

namespace hypertest::core {
namespace {

constexpr std::chrono::milliseconds k_retry_after_max{20000};

struct Work {
    Batch batch;
    int attempt = 1;  // invocation attempt of these tests (re-queues after invocation failures)
};

Status status_from(const std::string& s) {
    if (s == "passed") return Status::success;
    if (s == "skipped") return Status::skipped;
    if (s == "flaky") return Status::flaky;
    return Status::failed;
}

// Playwright re-runs a whole serial group on retry; its plugin names such groups "serial:...".
bool retried_as_group(const plugins::TestCase& t) { return util::starts_with(t.group, "serial:"); }

// What one invocation answered.
struct Answer {
    std::string failure;  // why the invocation did not run all its tests ("" when it did)
    std::vector<plugins::TestOutcome> outcomes;
    std::string blob_report_key;
    double billed_ms = 0;
};

class Dispatcher {
public:
    Dispatcher(Session& s, const DispatchInput& in, std::map<std::string, TestResult>& results)
        : m_s(s), m_in(in), m_results(results), m_random(std::random_device{}()),
          m_target(std::max(1, in.concurrency)) {
        m_stats.lowest_target = m_target;
        for (const auto& b : in.batches) {
            m_queue.push_back(Work{b, 1});
            for (const auto& t : b.tests) {
                m_results[t.id].test = t;
                m_stats.final_reports[t.id] = 0;
            }
        }
    }

    DispatchStats run() {
        std::vector<std::thread> workers;
        int n = std::max(1, std::min<int>(m_in.concurrency, static_cast<int>(m_results.size())));
        for (int i = 0; i < n; ++i) workers.emplace_back([this] { work(); });
        // Ctrl-C: stop the function host so in-flight invocations end now.
        std::thread watcher([this] {
            std::unique_lock lock(m_mutex);
            while (!m_finished) {
                m_cv.wait_for(lock, std::chrono::milliseconds(50));
                if (interrupted() && !m_stopping) {
                    m_stopping = true;
                    m_cv.notify_all();
                    lock.unlock();
                    m_s.provider->functions().shutdown();
                    lock.lock();
                }
            }
        });
        for (auto& w : workers) w.join();
        {
            std::lock_guard lock(m_mutex);
            m_finished = true;
            finish_unfinished();
        }
        m_cv.notify_all();
        watcher.join();
        return m_stats;
    }

private:
    bool dispatching() const { return !m_stopping && !m_halted && !interrupted(); }

    void work() {
        while (true) {
            Work w;
            {
                std::unique_lock lock(m_mutex);
                m_cv.wait(lock, [&] {
                    return !dispatching() || (!m_queue.empty() && m_in_flight < m_target) ||
                           (m_queue.empty() && m_in_flight == 0);
                });
                if (!dispatching() || m_queue.empty()) {
                    m_cv.notify_all();
                    return;
                }
                w = std::move(m_queue.front());
                m_queue.pop_front();
                ++m_in_flight;
                ++m_stats.invocations;
                m_stats.max_in_flight = std::max(m_stats.max_in_flight, m_in_flight);
                for (const auto& t : w.batch.tests) ++m_runs[t.id];
                m_s.reporter->in_flight(m_in_flight);
            }
            std::int64_t started = util::now_ms();
            Answer a = call(w);
            {
                std::lock_guard lock(m_mutex);
                settle(w, a, started);
                --m_in_flight;
                m_s.reporter->in_flight(m_in_flight);
            }
            m_cv.notify_all();
        }
    }

    plugins::InvocationEvent event_for(const Work& w) {
        plugins::InvocationEvent ev;
        ev.run_id = m_in.run_id;
        {
            std::lock_guard lock(m_mutex);
            ev.invocation_id = "inv-" + std::to_string(++m_next_invocation);
        }
        ev.attempt = w.attempt;
        ev.plugin = m_s.config.runner_name;
        ev.plugin_options = m_s.config.runner_options;
        ev.tests = w.batch.tests;
        ev.storage = m_s.provider->storage().location();
        ev.storage.prefix = "";  // the runner adds "<runId>/" itself
        ev.deadline_ms = util::now_ms() + m_in.function_timeout.count();
        return ev;
    }

    // Invokes, retrying retryable call errors with backoff (at least the Retry-After asked for);
    // throttling lowers the in-flight target, success raises it. Sleeps wake on Ctrl-C.
    util::Result<providers::InvokeResponse> invoke_with_backoff(const Json& event) {
        for (int retry = 1;; ++retry) {
            auto resp = m_s.provider->functions().invoke(event, m_in.function_timeout + std::chrono::seconds(30));
            std::unique_lock lock(m_mutex);
            if (resp) {
                if (m_target < m_in.concurrency) {
                    ++m_target;
                    m_cv.notify_all();
                }
                return resp;
            }
            const util::Error& e = resp.error();
            if (e.throttled) {
                ++m_stats.throttles;
                m_target = std::max(1, m_target / 2);
                m_stats.lowest_target = std::min(m_stats.lowest_target, m_target);
                util::log_debug("throttled: at most " + std::to_string(m_target) + " invocations in flight");
            }
            if (!e.retryable || retry > m_in.transport_retries) return resp;
            ++m_stats.call_retries;
            auto delay = backoff_delay(retry, m_in.backoff_base, m_in.backoff_max,
                                       std::uniform_real_distribution<double>(0, 1)(m_random));
            delay = std::max(delay, std::min(std::chrono::milliseconds(e.retry_after_ms), k_retry_after_max));
            util::log_debug("invoke failed (" + e.message + "); retry " +
                            std::to_string(retry) + " in " + std::to_string(delay.count()) + " ms");
            if (m_cv.wait_for(lock, delay, [&] { return m_stopping || interrupted(); })) return resp;
        }
    }

    Answer call(const Work& w) {
        Answer a;
        auto resp = invoke_with_backoff(plugins::to_json(event_for(w)));
        if (!resp) {
            a.failure = resp.error().message;
            return a;
        }
        a.billed_ms = static_cast<double>(resp->billed_ms);
        if (resp->function_error) {
            a.failure = resp->error_message.empty() ? "the function failed" : resp->error_message;
            return a;
        }
        auto r = plugins::invocation_result_from_json(resp->payload);
        if (!r) {
            a.failure = "malformed answer from the function: " + r.error().message;
            return a;
        }
        a.outcomes = std::move(r->outcomes);
        a.blob_report_key = r->blob_report_key;
        if (!r->error.empty()) {
            a.failure = r->error;
            if (!r->log_tail.empty()) a.failure += "\n" + r->log_tail;
        }
        return a;
    }

    // Caller holds m_mutex.
    void settle(const Work& w, Answer& a, std::int64_t started) {
        m_stats.billed_ms += a.billed_ms;
        if (!a.blob_report_key.empty()) m_stats.blob_report_keys.push_back(a.blob_report_key);
        std::map<std::string, const plugins::TestCase*> in_batch;
        for (const auto& t : w.batch.tests) in_batch[t.id] = &t;
        // Outcomes that count: known, first per test; a test the runner stopped at the
        // invocation's deadline did not finish and is treated like one without an outcome.
        std::map<std::string, const plugins::TestOutcome*> got;
        for (const auto& o : a.outcomes) {
            if (!in_batch.count(o.id)) {
                util::log_debug("ignoring an outcome for test " + o.id + ", which was not in the batch");
                continue;
            }
            if (!a.failure.empty() && o.framework_status == "interrupted") continue;
            got.emplace(o.id, &o);
        }
        // Serial groups with a failure that will be re-run go back whole.
        std::set<std::string> rerun_groups;
        for (const auto& [id, o] : got) {
            const auto* t = in_batch[id];
            if (status_from(o->status) == Status::failed && retried_as_group(*t) && will_retry(id))
                rerun_groups.insert(t->group);
        }
        std::vector<plugins::TestCase> rerun, unfinished;
        for (const auto& t : w.batch.tests) {
            auto it = got.find(t.id);
            if (it == got.end()) {
                (rerun_groups.count(t.group) ? rerun : unfinished).push_back(t);
                continue;
            }
            const auto& o = *it->second;
            TestResult& r = m_results[t.id];
            fill(r, o);
            bool failed = r.status == Status::failed;
            if (failed) ++m_failed_attempts[t.id];
            if ((failed && will_retry_after_failure(t.id)) || rerun_groups.count(t.group)) {
                m_provisional.insert(t.id);  // final unless the re-run happens
                rerun.push_back(t);
                continue;
            }
            if (r.status == Status::success && m_failed_attempts[t.id] > 0) r.status = Status::flaky;
            finalize(t.id);
        }
        if (!rerun.empty()) {
            for (const auto& t : rerun) {
                if (m_failed_attempts[t.id] > 0 && m_results[t.id].status == Status::failed) {
                    m_s.reporter->info("retrying " + t.display_name() + " (retry " +
                                       std::to_string(m_failed_attempts[t.id]) + " of " +
                                       std::to_string(m_in.retries) + ")");
                }
            }
            for (auto& b : split_tests(rerun, 1, m_in.estimates)) m_queue.push_back(Work{std::move(b), 1});
        }
        if (unfinished.empty() || !dispatching()) return;  // unfinished ones end cancelled
        std::string failure = a.failure.empty() ? "the function answered without a result for this test" : a.failure;
        if (w.attempt <= m_in.invocation_retries) {
            int parts = std::min<int>(2, static_cast<int>(unfinished.size()));
            for (auto& b : split_tests(unfinished, parts, m_in.estimates)) {
                m_queue.push_back(Work{std::move(b), w.attempt + 1});
            }
            return;
        }
        for (const auto& t : unfinished) {
            auto& r = m_results[t.id];
            r.status = Status::failed;
            r.framework_status = "infrastructureError";
            r.start_ms = started;
            r.end_ms = util::now_ms();
            r.duration_ms = 0;
            r.error_stack.clear();
            r.error_location.clear();
            r.error_message = "hypertest could not run this test after " + std::to_string(w.attempt) +
                              " invocations: " + util::truncate_utf8(failure, 8000);
            finalize(t.id);
        }
    }

    bool will_retry(const std::string& id) { return m_failed_attempts[id] + 1 <= m_in.retries && dispatching(); }
    bool will_retry_after_failure(const std::string& id) {
        return m_failed_attempts[id] <= m_in.retries && dispatching();
    }

    void fill(TestResult& r, const plugins::TestOutcome& o) {
        r.status = status_from(o.status);
        r.framework_status = o.framework_status;
        r.duration_ms = o.duration_ms;
        r.start_ms = o.start_ms;
        r.end_ms = o.start_ms + o.duration_ms;
        r.error_message = o.error_message;
        r.error_stack = o.error_stack;
        r.error_location = o.error_location;
        r.artifacts.clear();
        for (const auto& k : o.artifact_keys) r.artifacts.push_back(m_s.provider->storage().url(k));
    }

    // Caller holds m_mutex. The test's current result becomes final.
    void finalize(const std::string& id) {
        m_provisional.erase(id);
        auto& r = m_results[id];
        r.attempts = m_runs[id];
        ++m_stats.final_reports[id];
        if (r.status == Status::failed && ++m_failed >= m_in.max_failures && m_in.max_failures > 0 &&
            !m_halted) {
            m_halted = true;
            m_stats.max_failures_reached = true;
            m_s.reporter->warn(std::to_string(m_failed) + " tests failed (--max-failures " +
                               std::to_string(m_in.max_failures) + "): no new invocations");
            m_cv.notify_all();
        }
        m_s.reporter->test_end(r);
    }

    // Caller holds m_mutex; the workers have ended. Tests left without a final status after a
    // stop: a result waiting for a re-run becomes final, the others are cancelled with the
    // reason. Without a stop nothing is left; if something is, check_final_statuses reports it.
    void finish_unfinished() {
        if (!m_stopping && !m_halted && !interrupted()) return;
        std::string why = m_stopping || interrupted()
                              ? "cancelled before it finished (interrupted)"
                              : "not run: --max-failures " + std::to_string(m_in.max_failures) + " reached";
        for (auto& [id, count] : m_stats.final_reports) {
            if (count > 0) continue;
            if (!m_provisional.count(id)) {
                auto& r = m_results[id];
                r.status = Status::cancelled;
                r.framework_status.clear();
                r.error_message = why;
            }
            finalize(id);
        }
    }

    Session& m_s;
    const DispatchInput& m_in;
    std::map<std::string, TestResult>& m_results;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<Work> m_queue;
    std::map<std::string, int> m_runs;             // invocations that carried the test
    std::map<std::string, int> m_failed_attempts;  // failed outcomes so far
    std::set<std::string> m_provisional;           // has a result, waiting for a re-run
    std::mt19937 m_random;
    int m_target;  // invocations in flight at most, lowered by throttling
    int m_in_flight = 0;
    int m_next_invocation = 0;
    int m_failed = 0;
    bool m_stopping = false;  // Ctrl-C
    bool m_halted = false;    // --max-failures reached
    bool m_finished = false;
    DispatchStats m_stats;
};

}  // namespace

std::chrono::milliseconds backoff_delay(int attempt, std::chrono::milliseconds base,
                                        std::chrono::milliseconds max, double jitter) {
    double window = std::min(static_cast<double>(max.count()),
                             static_cast<double>(base.count()) * std::pow(2.0, std::max(0, attempt - 1)));
    jitter = std::clamp(jitter, 0.0, 1.0);
    return std::chrono::milliseconds(static_cast<std::int64_t>(window / 2 + window / 2 * jitter));
}

DispatchStats dispatch(Session& s, const DispatchInput& in, std::map<std::string, TestResult>& results) {
    Dispatcher d(s, in, results);
    return d.run();
}

}  // namespace hypertest::core
