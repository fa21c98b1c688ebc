// The dispatcher against a scripted fake function: no processes, no network.
#include "core/dispatch.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "core/dispatch_fakes.hpp"
#include "util/time.hpp"

namespace hypertest::core {
namespace {

using namespace dispatch_fakes;

class DispatchTest : public ::testing::Test {
protected:
    void SetUp() override {
        m_out = std::tmpfile();
        s.reporter = make_reporter(OutputMode::plain, m_out);
        auto p = std::make_unique<FakeProvider>();
        provider = p.get();
        s.provider = std::move(p);
        s.config.runner_name = "fake";
        in.run_id = "run-1";
        in.concurrency = 2;
        in.backoff_base = std::chrono::milliseconds(1);
        in.backoff_max = std::chrono::milliseconds(4);
    }
    void TearDown() override {
        interrupted() = false;
        std::fclose(m_out);
    }

    void batches(const std::vector<std::vector<plugins::TestCase>>& bs) {
        for (const auto& b : bs) in.batches.push_back(Batch{b, 0});
    }
    DispatchStats go() { return dispatch(s, in, results); }
    std::string output() {
        std::fflush(m_out);
        std::rewind(m_out);
        std::string text;
        char buf[4096];
        while (std::size_t n = std::fread(buf, 1, sizeof buf, m_out)) text.append(buf, n);
        return text;
    }
    void expect_one_final_status_each(const DispatchStats& st) {
        for (const auto& b : in.batches) {
            for (const auto& t : b.tests) EXPECT_EQ(st.final_reports.at(t.id), 1) << t.id;
        }
    }

    Session s;
    FakeProvider* provider = nullptr;
    DispatchInput in;
    std::map<std::string, TestResult> results;
    std::FILE* m_out = nullptr;
};

TEST_F(DispatchTest, EveryTestPassesOnce) {
    batches({{tc("a"), tc("b")}, {tc("c")}});
    provider->fns.script = [](const InvocationEvent& ev, int) { return all_pass(ev); };
    auto st = go();
    EXPECT_EQ(st.invocations, 2);
    EXPECT_DOUBLE_EQ(st.billed_ms, 200);
    for (const auto& id : {"a", "b", "c"}) {
        EXPECT_EQ(results[id].status, Status::success) << id;
        EXPECT_EQ(results[id].attempts, 1);
    }
    expect_one_final_status_each(st);
}

TEST_F(DispatchTest, OneThreadKeepsTheWholeConcurrencyInFlight) {
    in.concurrency = 50;
    std::vector<std::vector<plugins::TestCase>> bs;
    for (int i = 0; i < 200; ++i) bs.push_back({tc("t" + std::to_string(i))});
    batches(bs);
    provider->fns.answer_after_polls = 3;
    provider->fns.script = [](const InvocationEvent& ev, int) { return all_pass(ev); };
    auto st = go();
    EXPECT_EQ(st.invocations, 200);
    EXPECT_EQ(st.max_in_flight, 50);
    EXPECT_EQ(provider->fns.most_in_flight, 50u);
    EXPECT_EQ(provider->fns.threads, std::set<std::thread::id>{std::this_thread::get_id()});
    EXPECT_EQ(provider->fns.in_flight(), 0u);
    // Every answered invocation yields a start-up sample (round trip minus test durations).
    EXPECT_EQ(st.startup_samples_ms.size(), 200u);
    for (double v : st.startup_samples_ms) EXPECT_GE(v, 0);
    expect_one_final_status_each(st);
}

TEST_F(DispatchTest, CrashedInvocationIsRequeuedThenSucceeds) {
    batches({{tc("a", 0), tc("b", 1), tc("c", 2)}});
    provider->fns.script = [](const InvocationEvent& ev, int n) {
        return n == 0 ? function_error("Runtime exited with error: signal: killed") : all_pass(ev);
    };
    auto st = go();
    // The crashed batch came back split in two.
    ASSERT_EQ(provider->fns.batches.size(), 3u);
    EXPECT_EQ(provider->fns.batches[1].size() + provider->fns.batches[2].size(), 3u);
    for (const auto& id : {"a", "b", "c"}) {
        EXPECT_EQ(results[id].status, Status::success) << id;
        EXPECT_EQ(results[id].attempts, 2);
    }
    expect_one_final_status_each(st);
}

TEST_F(DispatchTest, PermanentCrashFailsWithTheReasonAfterTheLimit) {
    in.invocation_retries = 2;
    batches({{tc("a", 0), tc("b", 1), tc("c", 2), tc("d", 3)}});
    provider->fns.script = [](const InvocationEvent&, int) {
        return function_error("Runtime exited with error: signal: killed");
    };
    auto st = go();
    EXPECT_EQ(st.invocations, 1 + 2 + 4);
    for (const auto& id : {"a", "b", "c", "d"}) {
        const auto& r = results[id];
        EXPECT_EQ(r.status, Status::failed);
        EXPECT_EQ(r.framework_status, "infrastructureError");
        EXPECT_EQ(r.attempts, 3);
        EXPECT_NE(r.error_message.find("after 3 invocations"), std::string::npos) << r.error_message;
        EXPECT_NE(r.error_message.find("signal: killed"), std::string::npos) << r.error_message;
    }
    expect_one_final_status_each(st);
}

TEST_F(DispatchTest, MalformedAnswerIsRequeuedAndNamedWhenItPersists) {
    in.invocation_retries = 1;
    batches({{tc("a")}, {tc("b")}});
    provider->fns.script = [](const InvocationEvent& ev, int) -> Answer {
        if (ev.tests[0].id == "a") return all_pass(ev);
        InvokeResponse r;
        r.payload = Json{{"hello", "world"}};
        return r;
    };
    auto st = go();
    EXPECT_EQ(results["a"].status, Status::success);
    EXPECT_EQ(results["b"].status, Status::failed);
    EXPECT_EQ(results["b"].attempts, 2);
    EXPECT_NE(results["b"].error_message.find("malformed answer"), std::string::npos);
    expect_one_final_status_each(st);
}

TEST_F(DispatchTest, FunctionErrorKeepsPartialOutcomesAndRequeuesTheRest) {
    batches({{tc("a", 0), tc("b", 1)}});
    provider->fns.script = [](const InvocationEvent& ev, int n) -> Answer {
        if (n > 0) return all_pass(ev);
        plugins::InvocationResult r;
        r.outcomes.push_back(outcome("a", "failed"));
        r.error = "Playwright ended with exit code 130";
        InvokeResponse resp;
        resp.payload = plugins::to_json(r);
        return resp;
    };
    auto st = go();
    ASSERT_EQ(provider->fns.batches.size(), 2u);
    EXPECT_EQ(provider->fns.batches[1], std::vector<std::string>{"b"});
    EXPECT_EQ(results["a"].status, Status::failed);  // its own outcome: not re-run
    EXPECT_EQ(results["a"].attempts, 1);
    EXPECT_EQ(results["b"].status, Status::success);
    expect_one_final_status_each(st);
}

TEST_F(DispatchTest, OutcomeForAnUnknownTestIsIgnored) {
    batches({{tc("a")}});
    provider->fns.script = [](const InvocationEvent& ev, int) -> Answer {
        plugins::InvocationResult r;
        r.outcomes = {outcome("intruder", "failed"), outcome("a", "passed"), outcome("a", "failed")};
        InvokeResponse resp;
        resp.payload = plugins::to_json(r);
        (void)ev;
        return resp;
    };
    auto st = go();
    EXPECT_EQ(results.count("intruder"), 0u);
    EXPECT_EQ(st.final_reports.count("intruder"), 0u);
    EXPECT_EQ(results["a"].status, Status::success);  // the first outcome for a test counts
    expect_one_final_status_each(st);
}

// Keys and statuses come from inside the function, where tests run.
TEST_F(DispatchTest, ForgedKeysAndStatusesFromAnAnswerAreDropped) {
    batches({{tc("a")}});
    provider->fns.script = [](const InvocationEvent&, int) -> Answer {
        plugins::InvocationResult r;
        auto o = outcome("a", "failed");
        o.framework_status = "<injected-element/>";
        o.artifact_keys = {"run-1/a/attempt-1/trace.zip", "../../../../etc/passwd", "run-2/a/x", "run-1/../x"};
        r.outcomes = {o};
        r.blob_report_key = "run-1/../../etc/shadow";
        InvokeResponse resp;
        resp.payload = plugins::to_json(r);
        return resp;
    };
    auto st = go();
    EXPECT_EQ(results["a"].artifacts, (std::vector<std::string>{"mem://run-1/a/attempt-1/trace.zip"}));
    EXPECT_EQ(results["a"].framework_status, "");
    EXPECT_TRUE(st.blob_report_keys.empty());
    EXPECT_NE(output().find("ignoring artifact key \"../../../../etc/passwd\""), std::string::npos) << output();
}

TEST_F(DispatchTest, RetriesRunFailedTestsInFreshInvocationsAndMarkFlaky) {
    in.retries = 2;
    batches({{tc("flaky", 0), tc("broken", 1), tc("fine", 2)}});
    provider->fns.script = [](const InvocationEvent& ev, int n) {
        return answer(ev, [n](const std::string& id) {
            if (id == "broken") return "failed";
            if (id == "flaky") return n == 0 ? "failed" : "passed";
            return "passed";
        });
    };
    auto st = go();
    ASSERT_EQ(provider->fns.batches.size(), 3u);
    EXPECT_EQ(provider->fns.batches[1], (std::vector<std::string>{"flaky", "broken"}));
    EXPECT_EQ(provider->fns.batches[2], std::vector<std::string>{"broken"});
    EXPECT_EQ(results["flaky"].status, Status::flaky);
    EXPECT_EQ(results["flaky"].attempts, 2);
    EXPECT_EQ(results["broken"].status, Status::failed);
    EXPECT_EQ(results["broken"].attempts, 3);
    EXPECT_EQ(results["fine"].status, Status::success);
    EXPECT_EQ(results["fine"].attempts, 1);
    EXPECT_NE(output().find("retrying a.spec.ts › broken (retry 2 of 2)"), std::string::npos) << output();
    expect_one_final_status_each(st);
}

TEST_F(DispatchTest, ASerialGroupIsRetriedWhole) {
    in.retries = 1;
    batches({{tc("s1", 0, "serial:x"), tc("s2", 1, "serial:x"), tc("s3", 2, "serial:x")}});
    provider->fns.script = [](const InvocationEvent& ev, int n) {
        return answer(ev, [n](const std::string& id) {
            if (n > 0) return "passed";
            return id == "s1" ? "passed" : id == "s2" ? "failed" : "skipped";
        });
    };
    auto st = go();
    ASSERT_EQ(provider->fns.batches.size(), 2u);
    EXPECT_EQ(provider->fns.batches[1], (std::vector<std::string>{"s1", "s2", "s3"}));
    EXPECT_EQ(results["s1"].status, Status::success);
    EXPECT_EQ(results["s2"].status, Status::flaky);
    EXPECT_EQ(results["s3"].status, Status::success);
    expect_one_final_status_each(st);
}

TEST_F(DispatchTest, MaxFailuresStopsDispatchingAndCancelsTheRest) {
    in.concurrency = 1;
    in.max_failures = 2;
    batches({{tc("a")}, {tc("b")}, {tc("c")}, {tc("d")}});
    provider->fns.script = [](const InvocationEvent& ev, int) {
        return answer(ev, [](const std::string&) { return "failed"; });
    };
    auto st = go();
    EXPECT_TRUE(st.max_failures_reached);
    EXPECT_EQ(st.invocations, 2);
    int failed = 0, not_run = 0;
    for (const auto& [id, r] : results) {
        failed += r.status == Status::failed;
        // As under Playwright: tests that did not run are skipped, saying why.
        if (r.status == Status::skipped) {
            ++not_run;
            EXPECT_NE(r.error_message.find("did not run: maxFailures 2"), std::string::npos);
        }
    }
    EXPECT_EQ(failed, 2);
    EXPECT_EQ(not_run, 2);
    expect_one_final_status_each(st);
}

TEST_F(DispatchTest, CtrlCShutsTheFunctionsDownAndCancelsUnfinishedTests) {
    in.concurrency = 1;
    batches({{tc("a")}, {tc("b")}, {tc("c")}});
    provider->fns.block_until_shutdown = true;
    std::thread ctrl_c([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        interrupted() = true;
    });
    auto st = go();
    ctrl_c.join();
    EXPECT_GE(provider->fns.shutdowns, 1);
    EXPECT_EQ(st.invocations, 1);  // nothing new after the signal, no re-queue
    for (const auto& id : {"a", "b", "c"}) {
        EXPECT_EQ(results[id].status, Status::cancelled) << id;
        EXPECT_NE(results[id].error_message.find("interrupted"), std::string::npos);
    }
    expect_one_final_status_each(st);
}

TEST_F(DispatchTest, RetryableCallErrorsAreRetriedWithBackoff) {
    in.transport_retries = 3;
    batches({{tc("a")}});
    provider->fns.script = [](const InvocationEvent& ev, int n) -> Answer {
        if (n < 2) return util::make_error("connection reset", true);
        return all_pass(ev);
    };
    auto st = go();
    EXPECT_EQ(provider->fns.batches.size(), 3u);
    EXPECT_EQ(st.invocations, 1);  // one invocation, three calls
    EXPECT_EQ(results["a"].status, Status::success);
    EXPECT_EQ(results["a"].attempts, 1);
}

TEST_F(DispatchTest, NonRetryableCallErrorGoesThroughTheRequeuePath) {
    in.invocation_retries = 0;
    batches({{tc("a")}});
    provider->fns.script = [](const InvocationEvent&, int) -> Answer {
        return util::make_error("access denied", false);
    };
    go();
    EXPECT_EQ(provider->fns.batches.size(), 1u);
    EXPECT_EQ(results["a"].status, Status::failed);
    EXPECT_NE(results["a"].error_message.find("access denied"), std::string::npos);
}

TEST_F(DispatchTest, TestStoppedAtTheDeadlineIsRunAgainThenFailsWithTheReason) {
    in.invocation_retries = 1;
    batches({{tc("slow", 0), tc("quick", 1)}});
    provider->fns.script = [](const InvocationEvent& ev, int) -> Answer {
        plugins::InvocationResult r;
        for (const auto& t : ev.tests) {
            auto o = outcome(t.id, t.id == "slow" ? "failed" : "passed");
            if (t.id == "slow") o.framework_status = "interrupted";
            r.outcomes.push_back(o);
        }
        r.error = "Playwright was interrupted 5 s before the invocation's deadline";
        InvokeResponse resp;
        resp.payload = plugins::to_json(r);
        return resp;
    };
    auto st = go();
    EXPECT_EQ(results["quick"].status, Status::success);
    EXPECT_EQ(results["slow"].status, Status::failed);
    EXPECT_EQ(results["slow"].attempts, 2);
    EXPECT_NE(results["slow"].error_message.find("deadline"), std::string::npos);
    expect_one_final_status_each(st);
}

// The test running at the deadline is the suspect: it goes back alone; the tests that never
// started go back without an attempt counted against them, so they pass.
TEST_F(DispatchTest, OnlyTheTestRunningAtTheDeadlineIsBlamed) {
    in.invocation_retries = 1;
    batches({{tc("slow", 0), tc("a", 1), tc("b", 2), tc("c", 3)}});
    provider->fns.script = [](const InvocationEvent& ev, int) -> Answer {
        bool has_slow = false;
        for (const auto& t : ev.tests) has_slow = has_slow || t.id == "slow";
        if (!has_slow) return all_pass(ev);
        plugins::InvocationResult r;
        auto o = outcome("slow", "failed");
        o.framework_status = "interrupted";
        r.outcomes.push_back(o);  // the others never started
        r.error = "Playwright was interrupted 5 s before the invocation's deadline";
        InvokeResponse resp;
        resp.payload = plugins::to_json(r);
        return resp;
    };
    auto st = go();
    for (const auto& id : {"a", "b", "c"}) {
        EXPECT_EQ(results[id].status, Status::success) << id;
        EXPECT_EQ(results[id].attempts, 2) << id;
    }
    EXPECT_EQ(results["slow"].status, Status::failed);
    EXPECT_EQ(results["slow"].attempts, 2);
    EXPECT_NE(results["slow"].error_message.find("after 2 invocations"), std::string::npos);
    // The slow test ran alone the second time.
    int slow_alone = 0;
    for (const auto& b : provider->fns.batches) slow_alone += b == std::vector<std::string>{"slow"};
    EXPECT_EQ(slow_alone, 1);
    expect_one_final_status_each(st);
}

TEST(Backoff, GrowsExponentiallyWithinTheJitterWindowAndIsCapped) {
    using std::chrono::milliseconds;
    EXPECT_EQ(backoff_delay(1, milliseconds(100), milliseconds(5000), 0.0), milliseconds(50));
    EXPECT_EQ(backoff_delay(1, milliseconds(100), milliseconds(5000), 1.0), milliseconds(100));
    EXPECT_EQ(backoff_delay(3, milliseconds(100), milliseconds(5000), 0.0), milliseconds(200));
    EXPECT_EQ(backoff_delay(3, milliseconds(100), milliseconds(5000), 1.0), milliseconds(400));
    EXPECT_EQ(backoff_delay(20, milliseconds(100), milliseconds(5000), 1.0), milliseconds(5000));
}

util::Error throttled(int retry_after_ms) {
    util::Error e = util::make_error("Lambda Invoke ht: TooManyRequestsException (HTTP 429)", true);
    e.throttled = true;
    e.retry_after_ms = retry_after_ms;
    return e;
}

TEST_F(DispatchTest, ThrottlingWaitsRetryAfterAndHalvesTheInFlightTargetThenRaisesIt) {
    in.concurrency = 4;
    in.transport_retries = 3;
    batches({{tc("a")}, {tc("b")}, {tc("c")}, {tc("d")}, {tc("e")}, {tc("f")}});
    std::mutex mutex;
    std::vector<std::int64_t> call_ms;
    provider->fns.script = [&](const InvocationEvent& ev, int n) -> Answer {
        {
            std::lock_guard lock(mutex);
            call_ms.push_back(util::now_ms());
        }
        if (n == 0) return throttled(120);
        if (n == 1) return throttled(-1);
        // Both throttles are counted before the first success raises the target again.
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        return all_pass(ev);
    };
    auto start = util::now_ms();
    auto st = go();
    EXPECT_EQ(st.throttles, 2);
    EXPECT_EQ(st.call_retries, 2);
    EXPECT_EQ(st.lowest_target, 1);  // 4 -> 2 -> 1
    EXPECT_EQ(st.invocations, 6);
    EXPECT_EQ(provider->fns.batches.size(), 8u);
    // The throttled call waited its Retry-After (backoff alone is at most 4 ms here).
    EXPECT_GE(util::now_ms() - start, 120);
    for (const auto& id : {"a", "b", "c", "d", "e", "f"}) EXPECT_EQ(results[id].status, Status::success) << id;
    expect_one_final_status_each(st);
}

TEST_F(DispatchTest, PersistentThrottlingFailsTheTestsWithTheReason) {
    in.concurrency = 2;
    in.transport_retries = 2;
    in.invocation_retries = 0;
    batches({{tc("a")}});
    provider->fns.script = [](const InvocationEvent&, int) -> Answer { return throttled(0); };
    auto st = go();
    EXPECT_EQ(provider->fns.batches.size(), 3u);
    EXPECT_EQ(st.throttles, 3);
    EXPECT_EQ(st.lowest_target, 1);
    EXPECT_EQ(results["a"].status, Status::failed);
    EXPECT_NE(results["a"].error_message.find("TooManyRequestsException"), std::string::npos);
    expect_one_final_status_each(st);
}

}  // namespace
}  // namespace hypertest::core
