#include "core/dispatch.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <random>
#include <set>

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
    bool suite_error = false;
};

// One event loop: starts invocations up to the in-flight target, polls the provider for the
// ones that ended, and settles them. Call retries wait out their backoff in the loop too.
class Dispatcher {
public:
    Dispatcher(Session& s, const DispatchInput& in, std::map<std::string, TestResult>& results)
        : m_s(s), m_in(in), m_results(results), m_fn(s.provider->functions()),
          m_key_prefix(in.run_id + "/"), m_random(std::random_device{}()), m_target(std::max(1, in.concurrency)) {
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
        while (true) {
            if (interrupted() && !m_stopping) stop();
            auto now = Clock::now();
            start_due_retries(now);
            while (dispatching() && !m_queue.empty() && in_flight() < m_target) {
                Work w = std::move(m_queue.front());
                m_queue.pop_front();
                Call call;
                call.work = std::move(w);
                call.invocation_id = next_invocation_id();
                start(std::move(call));
            }
            if (in_flight() == 0) break;
            auto wait = k_tick;
            for (const auto& [due, call] : m_backoff) {
                wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(due - now));
            }
            for (auto& c : m_fn.poll(std::max(wait, std::chrono::milliseconds(0)))) completed(c);
        }
        finish_unfinished();
        return m_stats;
    }

private:
    using Clock = std::chrono::steady_clock;
    // How long the loop sleeps at most: Ctrl-C is noticed within this.
    static constexpr std::chrono::milliseconds k_tick{50};

    // One invocation's journey: the tests, and the call retries it took.
    struct Call {
        Work work;
        std::string invocation_id;
        int call_retries = 0;
        std::int64_t started_ms = 0;  // first call, wall clock
        Clock::time_point sent;       // this call
    };

    bool dispatching() const { return !m_stopping && !m_halted && !interrupted(); }
    int in_flight() const { return static_cast<int>(m_calls.size() + m_backoff.size()); }
    std::string next_invocation_id() { return "inv-" + std::to_string(++m_next_invocation); }

    // Ctrl-C: nothing new starts, calls waiting to be retried end, the provider ends the rest.
    void stop() {
        m_stopping = true;
        auto waiting = std::exchange(m_backoff, {});
        for (auto& [due, call] : waiting) {
            Answer a;
            a.failure = "interrupted";
            end(call, a);
        }
        m_fn.shutdown();
    }

    void start(Call call) {
        if (call.call_retries == 0) {
            ++m_stats.invocations;
            call.started_ms = util::now_ms();
            for (const auto& t : call.work.batch.tests) ++m_runs[t.id];
        }
        call.sent = Clock::now();
        providers::CallId id = ++m_next_call;
        m_fn.start_invoke(id, plugins::to_json(event_for(call)), m_in.function_timeout + std::chrono::seconds(30));
        m_calls.emplace(id, std::move(call));
        m_stats.max_in_flight = std::max(m_stats.max_in_flight, in_flight());
        m_s.reporter->in_flight(in_flight());
    }

    void start_due_retries(Clock::time_point now) {
        while (!m_backoff.empty() && m_backoff.begin()->first <= now) {
            auto node = m_backoff.extract(m_backoff.begin());
            start(std::move(node.mapped()));
        }
    }

    plugins::InvocationEvent event_for(const Call& c) {
        plugins::InvocationEvent ev;
        ev.run_id = m_in.run_id;
        ev.invocation_id = c.invocation_id;
        ev.attempt = c.work.attempt;
        ev.plugin = m_s.config.runner_name;
        ev.plugin_options = m_s.config.runner_options;
        ev.tests = c.work.batch.tests;
        ev.storage = m_s.provider->storage().location();
        ev.storage.prefix = "";  // the runner adds "<runId>/" itself
        ev.deadline_ms = util::now_ms() + m_in.function_timeout.count();
        ev.env = m_in.suite_env;
        if (m_in.max_failures > 0) ev.max_failures = std::max(1, m_in.max_failures - m_failed);
        return ev;
    }

    // A call ended: an answer to settle, or a call error to retry with backoff (at least the
    // Retry-After asked for). Throttling lowers the in-flight target, success raises it.
    void completed(providers::InvokeCompletion& c) {
        auto node = m_calls.extract(c.id);
        if (node.empty()) {
            util::log_debug("ignoring the end of an unknown call " + std::to_string(c.id));
            return;
        }
        Call call = std::move(node.mapped());
        if (c.response) {
            if (m_target < m_in.concurrency) ++m_target;
            Answer a = answer_from(*c.response);
            learn_startup(call, a);
            end(call, a);
            return;
        }
        const util::Error& e = c.response.error();
        if (e.throttled) {
            ++m_stats.throttles;
            m_target = std::max(1, m_target / 2);
            m_stats.lowest_target = std::min(m_stats.lowest_target, m_target);
            util::log_debug("throttled: at most " + std::to_string(m_target) + " invocations in flight");
        }
        if (!e.retryable || call.call_retries >= m_in.transport_retries || !dispatching()) {
            Answer a;
            a.failure = e.message;
            end(call, a);
            return;
        }
        ++call.call_retries;
        ++m_stats.call_retries;
        auto delay = backoff_delay(call.call_retries, m_in.backoff_base, m_in.backoff_max,
                                   std::uniform_real_distribution<double>(0, 1)(m_random));
        delay = std::max(delay, std::min(std::chrono::milliseconds(e.retry_after_ms), k_retry_after_max));
        util::log_debug("invoke failed (" + e.message + "); retry " + std::to_string(call.call_retries) +
                        " in " + std::to_string(delay.count()) + " ms");
        m_backoff.emplace(Clock::now() + delay, std::move(call));
    }

    void end(Call& call, Answer& a) {
        settle(call.work, a, call.started_ms);
        m_s.reporter->in_flight(in_flight());
    }

    static Answer answer_from(const providers::InvokeResponse& resp) {
        Answer a;
        a.billed_ms = static_cast<double>(resp.billed_ms);
        if (resp.function_error) {
            a.failure = resp.error_message.empty() ? "the function failed" : resp.error_message;
            return a;
        }
        auto r = plugins::invocation_result_from_json(resp.payload);
        if (!r) {
            a.failure = "malformed answer from the function: " + r.error().message;
            return a;
        }
        a.outcomes = std::move(r->outcomes);
        a.blob_report_key = r->blob_report_key;
        a.suite_error = r->suite_error;
        if (!r->error.empty()) {
            a.failure = r->error;
            if (!r->log_tail.empty()) a.failure += "\n" + r->log_tail;
        }
        return a;
    }

    // What an invocation cost beyond its tests' own durations: the start-up the planner adds
    // per batch (cold start, framework start, reporting, the round trip).
    void learn_startup(const Call& call, const Answer& a) {
        if (!a.failure.empty() || a.outcomes.empty()) return;
        double tests_ms = 0;
        for (const auto& o : a.outcomes) tests_ms += static_cast<double>(std::max<std::int64_t>(0, o.duration_ms));
        double wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - call.sent).count();
        m_stats.startup_samples_ms.push_back(std::max(0.0, wall_ms - tests_ms));
    }

    void settle(const Work& w, Answer& a, std::int64_t started) {
        m_stats.billed_ms += a.billed_ms;
        if (a.suite_error && m_stats.suite_error.empty()) {
            // Every invocation would fail the same way: stop at once, like Ctrl-C.
            m_stats.suite_error = a.failure.empty() ? "the test suite could not start" : a.failure;
            if (!m_stopping) stop();
        }
        if (!a.blob_report_key.empty() && acceptable_key(a.blob_report_key, "blob report"))
            m_stats.blob_report_keys.push_back(a.blob_report_key);
        std::map<std::string, const plugins::TestCase*> in_batch;
        for (const auto& t : w.batch.tests) in_batch[t.id] = &t;
        // Outcomes that count: known, first per test; a test the runner stopped at the
        // invocation's deadline did not finish and is treated like one without an outcome.
        std::map<std::string, const plugins::TestOutcome*> got;
        std::set<std::string> running;  // what ran when the invocation was stopped
        for (const auto& o : a.outcomes) {
            if (!in_batch.count(o.id)) {
                util::log_debug("ignoring an outcome for test " + o.id + ", which was not in the batch");
                continue;
            }
            if (!a.failure.empty() && o.framework_status == "interrupted") {
                running.insert(o.id);
                continue;
            }
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
        requeue(w, unfinished, running, a.failure, started);
    }

    // Tests a failed invocation did not finish go back to the queue (plan_requeue says how),
    // or fail with the reason once their invocations are used up.
    void requeue(const Work& w, const std::vector<plugins::TestCase>& unfinished,
                 const std::set<std::string>& running, const std::string& why, std::int64_t started) {
        Requeue r = plan_requeue(unfinished, running, w.attempt, m_in.invocation_retries, m_in.estimates);
        for (auto& again : r.again) m_queue.push_back(Work{std::move(again.batch), again.attempt});
        std::string failure = why.empty() ? "the function answered without a result for this test" : why;
        for (const auto& t : r.given_up) {
            auto& res = m_results[t.id];
            res.status = Status::failed;
            res.framework_status = "infrastructureError";
            res.start_ms = started;
            res.end_ms = util::now_ms();
            res.duration_ms = 0;
            res.error_stack.clear();
            res.error_location.clear();
            res.error_message = "hypertest could not run this test after " + std::to_string(w.attempt) +
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
        for (const auto& k : o.artifact_keys)
            if (acceptable_key(k, "artifact")) r.artifacts.push_back(m_s.provider->storage().url(k));
    }

    // Keys come from inside the function: only the run's own, plain ones are followed.
    bool acceptable_key(const std::string& key, const char* what) {
        std::string why = plugins::answer_key_problem(key, m_key_prefix);
        if (why.empty()) return true;
        m_s.reporter->warn(std::string("ignoring ") + what + " key \"" + util::truncate_utf8(key, 200) +
                           "\" from the function: " + why);
        return false;
    }

    // The test's current result becomes final.
    void finalize(const std::string& id) {
        m_provisional.erase(id);
        auto& r = m_results[id];
        r.attempts = m_runs[id];
        ++m_stats.final_reports[id];
        if (r.status == Status::failed && ++m_failed >= m_in.max_failures && m_in.max_failures > 0 &&
            !m_halted) {
            m_halted = true;
            m_stats.max_failures_reached = true;
            m_s.reporter->warn(std::to_string(m_failed) + " tests failed (maxFailures " +
                               std::to_string(m_in.max_failures) + "): no new invocations");
        }
        m_s.reporter->test_end(r);
    }

    // Nothing is in flight any more. Tests left without a final status after a
    // stop: a result waiting for a re-run becomes final, the others are cancelled with the
    // reason. Without a stop nothing is left; if something is, check_final_statuses reports it.
    void finish_unfinished() {
        if (!m_stopping && !m_halted && !interrupted()) return;
        bool cancelled = m_stopping || interrupted();
        // Like Playwright: tests that did not run because maxFailures was reached are skipped.
        std::string why = !m_stats.suite_error.empty() ? "did not run: the test suite could not start"
                          : cancelled ? "cancelled before it finished (interrupted)"
                                      : "did not run: maxFailures " + std::to_string(m_in.max_failures) + " reached";
        for (auto& [id, count] : m_stats.final_reports) {
            if (count > 0) continue;
            if (!m_provisional.count(id)) {
                auto& r = m_results[id];
                r.status = cancelled ? Status::cancelled : Status::skipped;
                r.framework_status.clear();
                r.error_message = why;
            }
            finalize(id);
        }
    }

    Session& m_s;
    const DispatchInput& m_in;
    std::map<std::string, TestResult>& m_results;
    providers::Functions& m_fn;
    const std::string m_key_prefix;  // of every storage key an answer may name: "<runId>/"
    std::deque<Work> m_queue;
    std::map<providers::CallId, Call> m_calls;         // started, not ended
    std::multimap<Clock::time_point, Call> m_backoff;  // waiting to be retried
    std::map<std::string, int> m_runs;                 // invocations that carried the test
    std::map<std::string, int> m_failed_attempts;      // failed outcomes so far
    std::set<std::string> m_provisional;               // has a result, waiting for a re-run
    std::mt19937 m_random;
    int m_target;  // invocations in flight at most, lowered by throttling
    providers::CallId m_next_call = 0;
    int m_next_invocation = 0;
    int m_failed = 0;
    bool m_stopping = false;  // Ctrl-C, or a suite that cannot start (m_stats.suite_error)
    bool m_halted = false;    // maxFailures reached
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
