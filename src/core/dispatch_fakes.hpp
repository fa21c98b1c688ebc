// Test doubles for core's tests (dispatcher, planner): test cases, in-memory storage and a
// scripted asynchronous function (answers computed at start_invoke, handed back by poll).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "providers/provider.hpp"

namespace hypertest::core::dispatch_fakes {

using plugins::InvocationEvent;
using providers::InvokeResponse;
using Answer = util::Result<InvokeResponse>;
namespace fs = std::filesystem;

class MemoryStorage : public providers::Storage {
public:
    util::Status put(const std::string& key, std::string_view bytes) override {
        std::lock_guard lock(m_mutex);
        m_objects[key] = std::string(bytes);
        return util::ok_status();
    }
    util::Status put_file(const std::string&, const fs::path&) override { return util::ok_status(); }
    util::Result<std::optional<std::string>> get(const std::string& key) override {
        std::lock_guard lock(m_mutex);
        auto it = m_objects.find(key);
        return it == m_objects.end() ? std::optional<std::string>() : std::optional(it->second);
    }
    std::string url(const std::string& key) const override { return "mem://" + key; }
    plugins::StorageLocation location() const override { return {}; }
    util::Status check_writable() override { return util::ok_status(); }

private:
    std::mutex m_mutex;
    std::map<std::string, std::string> m_objects;
};

inline Answer function_error(const std::string& message) {
    InvokeResponse r;
    r.function_error = true;
    r.error_message = message;
    return r;
}

// Answers each invocation with `script(event, call number)` as it starts; poll hands the
// answers back. Records the batches it saw.
class ScriptedFunctions : public providers::Functions {
public:
    std::function<Answer(const InvocationEvent&, int)> script;
    bool block_until_shutdown = false;  // every invocation waits for shutdown(), then errors
    int answer_after_polls = 0;         // answers stay in flight for this many polls
    std::set<std::thread::id> threads;  // that called start_invoke or poll
    std::size_t most_in_flight = 0;

    util::Result<providers::FunctionState> state() override { return providers::FunctionState{}; }
    util::Status update(const std::string&) override { return util::ok_status(); }
    void start_invoke(providers::CallId id, const util::Json& event, std::chrono::milliseconds) override {
        auto ev = plugins::invocation_event_from_json(event);
        EXPECT_TRUE(ev.ok());
        int n = static_cast<int>(batches.size());
        std::vector<std::string> ids;
        for (const auto& t : ev->tests) ids.push_back(t.id);
        batches.push_back(ids);
        threads.insert(std::this_thread::get_id());
        most_in_flight = std::max(most_in_flight, in_flight() + 1);
        if (block_until_shutdown) {
            m_blocked.push_back(id);
            return;
        }
        m_pending.push_back({{id, script(*ev, n)}, answer_after_polls});
    }
    std::vector<providers::InvokeCompletion> poll(std::chrono::milliseconds wait) override {
        threads.insert(std::this_thread::get_id());
        std::vector<providers::InvokeCompletion> done;
        for (auto it = m_pending.begin(); it != m_pending.end();) {
            if (it->second-- > 0) {
                ++it;
                continue;
            }
            done.push_back(std::move(it->first));
            it = m_pending.erase(it);
        }
        for (auto& c : std::exchange(m_done, {})) done.push_back(std::move(c));
        if (done.empty()) std::this_thread::sleep_for(std::min(wait, std::chrono::milliseconds(5)));
        return done;
    }
    std::size_t in_flight() const override { return m_pending.size() + m_done.size() + m_blocked.size(); }
    void shutdown() override {
        ++shutdowns;
        for (auto id : std::exchange(m_blocked, {}))
            m_done.push_back({id, function_error("the function host was shut down during the invocation")});
    }

    std::vector<std::vector<std::string>> batches;
    int shutdowns = 0;

private:
    std::vector<providers::CallId> m_blocked;
    std::vector<std::pair<providers::InvokeCompletion, int>> m_pending;  // polls left
    std::vector<providers::InvokeCompletion> m_done;
};

class FakeProvider : public providers::Provider {
public:
    std::string name() const override { return "fake"; }
    providers::Storage& storage() override { return m_storage; }
    providers::Functions& functions() override { return fns; }
    fs::path image_layout_dir() const override { return {}; }
    std::vector<providers::DoctorCheck> doctor() override { return {}; }
    ScriptedFunctions fns;

private:
    MemoryStorage m_storage;
};

inline plugins::TestCase tc(const std::string& id, int order = 0, const std::string& group = "") {
    plugins::TestCase t;
    t.id = id;
    t.file = "a.spec.ts";
    t.title_path = {id};
    t.order = order;
    t.group = group;
    return t;
}

inline plugins::TestOutcome outcome(const std::string& id, const std::string& status) {
    plugins::TestOutcome o;
    o.id = id;
    o.status = status;
    o.framework_status = status == "passed" ? "expected" : "unexpected";
    o.duration_ms = 10;
    if (status == "failed") o.error_message = "expected 1 to be 2";
    return o;
}

// An answer with `status_of(test id)` for every test of the batch.
inline Answer answer(const InvocationEvent& ev, const std::function<std::string(const std::string&)>& status_of) {
    plugins::InvocationResult r;
    r.invocation_id = ev.invocation_id;
    for (const auto& t : ev.tests) r.outcomes.push_back(outcome(t.id, status_of(t.id)));
    InvokeResponse resp;
    resp.payload = plugins::to_json(r);
    resp.billed_ms = 100;
    return resp;
}

inline Answer all_pass(const InvocationEvent& ev) {
    return answer(ev, [](const std::string&) { return "passed"; });
}


}  // namespace hypertest::core::dispatch_fakes
