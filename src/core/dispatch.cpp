#include "core/dispatch.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "util/strings.hpp"
#include "util/time.hpp"

namespace hypertest::core {
namespace {

struct Work {
    Batch batch;
    int attempt = 1;
};

Status status_from(const std::string& s) {
    if (s == "passed") return Status::success;
    if (s == "skipped") return Status::skipped;
    if (s == "flaky") return Status::flaky;
    return Status::failed;
}

class Dispatcher {
public:
    Dispatcher(Session& s, const DispatchInput& in, std::map<std::string, TestResult>& results)
        : m_s(s), m_in(in), m_results(results) {
        for (const auto& b : in.batches) m_queue.push_back(Work{b, 1});
    }

    DispatchStats run() {
        std::vector<std::thread> workers;
        int n = std::max(1, std::min<int>(m_in.concurrency, static_cast<int>(m_queue.size())));
        for (int i = 0; i < n; ++i) workers.emplace_back([this] { work(); });
        // Ctrl-C: stop the function host so in-flight invocations end now.
        std::thread watcher([this] {
            std::unique_lock lock(m_mutex);
            while (!m_finished) {
                m_cv.wait_for(lock, std::chrono::milliseconds(50));
                if (interrupted() && !m_stopping) {
                    m_stopping = true;
                    lock.unlock();
                    m_s.provider->functions().shutdown();
                    lock.lock();
                    m_cv.notify_all();
                }
            }
        });
        for (auto& w : workers) w.join();
        {
            std::lock_guard lock(m_mutex);
            m_finished = true;
        }
        m_cv.notify_all();
        watcher.join();
        return m_stats;
    }

private:
    void work() {
        while (true) {
            Work w;
            {
                std::unique_lock lock(m_mutex);
                m_cv.wait(lock, [&] { return m_stopping || !m_queue.empty() || m_in_flight == 0; });
                if (m_stopping || m_queue.empty()) {
                    m_cv.notify_all();
                    return;
                }
                w = std::move(m_queue.front());
                m_queue.pop_front();
                ++m_in_flight;
                ++m_stats.invocations;
                m_stats.max_in_flight = std::max(m_stats.max_in_flight, m_in_flight);
                m_s.reporter->in_flight(m_in_flight);
            }
            run_one(w);
            {
                std::lock_guard lock(m_mutex);
                --m_in_flight;
                m_s.reporter->in_flight(m_in_flight);
            }
            m_cv.notify_all();
        }
    }

    void run_one(const Work& w) {
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
        std::int64_t started = util::now_ms();
        auto resp = m_s.provider->functions().invoke(plugins::to_json(ev),
                                                     m_in.function_timeout + std::chrono::seconds(30));
        std::string failure;
        std::vector<plugins::TestOutcome> outcomes;
        if (!resp) {
            failure = resp.error().message;
        } else if (resp->function_error) {
            failure = resp->error_message.empty() ? "the function failed" : resp->error_message;
        } else {
            auto r = plugins::invocation_result_from_json(resp->payload);
            if (!r) {
                failure = r.error().message;
            } else {
                outcomes = std::move(r->outcomes);
                if (!r->error.empty()) {
                    failure = r->error;
                    if (!r->log_tail.empty()) failure += "\n" + r->log_tail;
                }
                if (!r->blob_report_key.empty()) {
                    std::lock_guard lock(m_mutex);
                    m_stats.blob_report_keys.push_back(r->blob_report_key);
                }
            }
        }
        std::lock_guard lock(m_mutex);
        if (resp) m_stats.billed_ms += static_cast<double>(resp->billed_ms);
        std::set<std::string> in_batch;
        for (const auto& t : w.batch.tests) in_batch.insert(t.id);
        std::set<std::string> done;
        for (auto& o : outcomes) {
            if (!in_batch.count(o.id) || done.count(o.id)) continue;
            done.insert(o.id);
            record(o, w.attempt);
        }
        std::vector<plugins::TestCase> missing;
        for (const auto& t : w.batch.tests) {
            if (!done.count(t.id)) missing.push_back(t);
        }
        if (missing.empty()) return;
        if (m_stopping || interrupted()) return;  // they stay cancelled
        if (failure.empty()) failure = "the function answered without a result for this test";
        if (w.attempt <= m_in.invocation_retries) {
            int parts = std::min<int>(2, static_cast<int>(missing.size()));
            for (auto& b : split_tests(missing, parts, m_in.estimates)) {
                m_queue.push_back(Work{std::move(b), w.attempt + 1});
            }
            return;
        }
        for (const auto& t : missing) {
            auto& r = m_results[t.id];
            r.status = Status::failed;
            r.framework_status = "infrastructureError";
            r.attempts = w.attempt;
            r.start_ms = started;
            r.end_ms = util::now_ms();
            r.error_message = "hypertest could not run this test after " + std::to_string(w.attempt) +
                              " invocations: " + util::truncate_utf8(failure, 8000);
            m_s.reporter->test_end(r);
        }
    }

    // Caller holds m_mutex.
    void record(const plugins::TestOutcome& o, int attempt) {
        auto& r = m_results[o.id];
        r.status = status_from(o.status);
        r.framework_status = o.framework_status;
        r.attempts = attempt;
        r.duration_ms = o.duration_ms;
        r.start_ms = o.start_ms;
        r.end_ms = o.start_ms + o.duration_ms;
        r.error_message = o.error_message;
        r.error_stack = o.error_stack;
        r.error_location = o.error_location;
        r.artifacts.clear();
        for (const auto& k : o.artifact_keys) r.artifacts.push_back(m_s.provider->storage().url(k));
        m_s.reporter->test_end(r);
    }

    Session& m_s;
    const DispatchInput& m_in;
    std::map<std::string, TestResult>& m_results;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<Work> m_queue;
    int m_in_flight = 0;
    int m_next_invocation = 0;
    bool m_stopping = false;
    bool m_finished = false;
    DispatchStats m_stats;
};

}  // namespace

DispatchStats dispatch(Session& s, const DispatchInput& in, std::map<std::string, TestResult>& results) {
    Dispatcher d(s, in, results);
    return d.run();
}

}  // namespace hypertest::core
