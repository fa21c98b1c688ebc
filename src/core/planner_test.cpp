#include "core/planner.hpp"
#include "core/dispatch_fakes.hpp"
#include "core/invoke.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

namespace hypertest::core {
namespace {

using dispatch_fakes::tc;

std::set<std::string> ids(const Plan& p) {
    std::set<std::string> out;
    for (const auto& b : p.batches)
        for (const auto& t : b.tests) out.insert(t.id);
    return out;
}

}  // namespace

TEST(Planner, OneTestPerInvocationWhenTestsFitConcurrency) {
    PlanInput in;
    in.concurrency = 10;
    for (int i = 0; i < 4; ++i) in.tests.push_back(tc("t" + std::to_string(i), i));
    Plan p = make_plan(in);
    ASSERT_EQ(p.batches.size(), 4u);
    for (const auto& b : p.batches) EXPECT_EQ(b.tests.size(), 1u);
}

TEST(Planner, FewerInvocationsThanTestsAndEveryTestOnce) {
    PlanInput in;
    in.concurrency = 3;
    for (int i = 0; i < 20; ++i) in.tests.push_back(tc("t" + std::to_string(i), i));
    Plan p = make_plan(in);
    EXPECT_EQ(p.batches.size(), 3u);
    std::size_t total = 0;
    for (const auto& b : p.batches) total += b.tests.size();
    EXPECT_EQ(total, 20u);
    EXPECT_EQ(ids(p).size(), 20u);
}

TEST(Planner, LongestFirstBalancesBatches) {
    PlanInput in;
    in.concurrency = 2;
    in.startup_ms = 0;
    std::vector<double> d = {9000, 1000, 1000, 1000, 4000, 4000};
    for (std::size_t i = 0; i < d.size(); ++i) {
        in.tests.push_back(tc("t" + std::to_string(i), static_cast<int>(i)));
        in.durations_ms["t" + std::to_string(i)] = d[i];
    }
    Plan p = make_plan(in);
    ASSERT_EQ(p.batches.size(), 2u);
    EXPECT_DOUBLE_EQ(p.batches[0].estimate_ms, 10000);
    EXPECT_DOUBLE_EQ(p.batches[1].estimate_ms, 10000);
    EXPECT_DOUBLE_EQ(p.lower_bound_ms, 10000);
    EXPECT_GE(p.makespan_ms, p.lower_bound_ms);
}

TEST(Planner, GroupsStayTogetherInOrder) {
    PlanInput in;
    in.concurrency = 4;
    in.tests = {tc("s3", 3, "serial"), tc("x", 0), tc("s1", 1, "serial"), tc("s2", 2, "serial"),
                tc("y", 4), tc("z", 5)};
    Plan p = make_plan(in);
    int found = 0;
    for (const auto& b : p.batches) {
        for (std::size_t i = 0; i < b.tests.size(); ++i) {
            if (b.tests[i].id == "s1") {
                ASSERT_GE(b.tests.size(), i + 3);
                EXPECT_EQ(b.tests[i + 1].id, "s2");
                EXPECT_EQ(b.tests[i + 2].id, "s3");
                ++found;
            }
        }
    }
    EXPECT_EQ(found, 1);
    EXPECT_EQ(ids(p).size(), 6u);
}

TEST(Planner, FunctionTimeoutLimitsBatchSize) {
    PlanInput in;
    in.concurrency = 2;
    in.max_batch_ms = 3000;
    for (int i = 0; i < 10; ++i) in.tests.push_back(tc("t" + std::to_string(i), i));
    Plan p = make_plan(in);  // 10 s of work, 3 s per batch at most
    EXPECT_GE(p.batches.size(), 4u);
    for (const auto& b : p.batches) EXPECT_LE(b.estimate_ms, 3000);
}

TEST(Planner, SplitKeepsGroupsWhole) {
    PlanInput est;
    std::vector<plugins::TestCase> tests = {tc("a", 0, "g"), tc("b", 1, "g"), tc("c", 2), tc("d", 3)};
    auto parts = split_tests(tests, 2, est);
    ASSERT_EQ(parts.size(), 2u);
    for (const auto& b : parts) {
        bool has_a = false, has_b = false;
        for (const auto& t : b.tests) {
            has_a |= t.id == "a";
            has_b |= t.id == "b";
        }
        EXPECT_EQ(has_a, has_b);
    }
}

TEST(Planner, LowerBoundIsTheLongestTestOrTheAverageLoadWithStartUp) {
    PlanInput in;
    in.startup_ms = 500;
    in.concurrency = 2;
    // Average load dominates: 4 x 3000 + 2 batches x 500 = 13000 over 2 slots.
    for (int i = 0; i < 4; ++i) {
        in.tests.push_back(tc("t" + std::to_string(i), i));
        in.durations_ms["t" + std::to_string(i)] = 3000;
    }
    Plan p = make_plan(in);
    ASSERT_EQ(p.batches.size(), 2u);
    EXPECT_DOUBLE_EQ(p.lower_bound_ms, (4 * 3000 + 2 * 500) / 2.0);
    EXPECT_GE(p.makespan_ms, p.lower_bound_ms);
    // The longest test dominates: one 20 s test among short ones.
    in.durations_ms["t0"] = 20000;
    p = make_plan(in);
    EXPECT_DOUBLE_EQ(p.lower_bound_ms, 20000 + 500);
    EXPECT_GE(p.makespan_ms, p.lower_bound_ms);
}

}  // namespace hypertest::core

namespace hypertest::core {

TEST(Planner, HeavyTailedWorkloadIsNearTheLowerBound) {
    // The shape of bench/makespan.sh: 1,000 tests, lognormal durations, 2 s start-up, 100 slots.
    std::mt19937 rng(20261127);
    std::lognormal_distribution<double> dist(std::log(3000.0), 1.0);
    PlanInput in;
    in.concurrency = 100;
    in.startup_ms = 2000;
    for (int i = 0; i < 1000; ++i) {
        plugins::TestCase t;
        t.id = "t" + std::to_string(i);
        t.order = i;
        in.tests.push_back(t);
        in.durations_ms[t.id] = std::clamp(dist(rng), 50.0, 60000.0);
    }
    Plan p = make_plan(in);
    EXPECT_EQ(p.batches.size(), 100u);
    EXPECT_LE(p.makespan_ms, 1.05 * p.lower_bound_ms)
        << "plan " << p.makespan_ms << " ms, lower bound " << p.lower_bound_ms << " ms";
}

TEST(Planner, StartupIsLearnedFromRunsAndShownInThePlan) {
    EXPECT_EQ(learned_startup(std::nullopt, {}), std::nullopt);
    EXPECT_EQ(learned_startup(1500.0, {}), 1500.0);
    EXPECT_EQ(learned_startup(std::nullopt, {300, 500}), 400.0);
    EXPECT_EQ(learned_startup(2000.0, {300, 500}), 1200.0);  // halfway from 2000 to 400
    PlanInput in;
    in.concurrency = 2;
    in.startup_ms = 1200;
    in.tests = {plugins::TestCase{}};
    in.tests[0].id = "a";
    in.durations_ms["a"] = 800;
    Plan p = make_plan(in);
    EXPECT_EQ(p.startup_ms, 1200);
    EXPECT_DOUBLE_EQ(p.lower_bound_ms, 2000);  // the longest test + the learned start-up
}

TEST(Planner, UnknownTestsAreEstimatedLikeTheirFileThenLikeTheSuite) {
    PlanInput in;
    auto add = [&](const std::string& id, const std::string& file) {
        plugins::TestCase t;
        t.id = id;
        t.file = file;
        in.tests.push_back(t);
        return t;
    };
    auto slow_known = add("s1", "slow.spec.ts");
    add("s2", "slow.spec.ts");
    add("s3", "slow.spec.ts");
    auto slow_new = add("s4", "slow.spec.ts");
    add("q1", "quick.spec.ts");
    auto other_new = add("n1", "new.spec.ts");
    in.durations_ms = {{"s1", 30000}, {"s2", 20000}, {"s3", 40000}, {"q1", 100}};
    auto before = estimate_ms(in, slow_new);
    EXPECT_DOUBLE_EQ(before, in.default_ms);  // nothing learned yet: the fixed default
    estimate_unknown_tests(in);
    EXPECT_DOUBLE_EQ(estimate_ms(in, slow_known), 30000);  // known tests keep their history
    EXPECT_DOUBLE_EQ(estimate_ms(in, slow_new), 30000);    // median of its file
    EXPECT_DOUBLE_EQ(estimate_ms(in, other_new), 25000);   // median of all known: 100, 20k, 30k, 40k
    PlanInput empty;
    estimate_unknown_tests(empty);
    EXPECT_DOUBLE_EQ(empty.default_ms, 1000);
}

std::vector<std::string> ids_of(const Batch& b) {
    std::vector<std::string> ids;
    for (const auto& t : b.tests) ids.push_back(t.id);
    return ids;
}

TEST(Requeue, TheTestRunningAtTheDeadlineGoesBackAloneTheOthersWithoutBlame) {
    std::vector<plugins::TestCase> unfinished = {tc("slow"), tc("a"), tc("b"), tc("c")};
    PlanInput est;
    auto r = plan_requeue(unfinished, {"slow"}, 1, 2, est);
    ASSERT_EQ(r.again.size(), 3u);  // the innocent in two halves, the suspect alone
    EXPECT_TRUE(r.given_up.empty());
    int innocent_tests = 0;
    for (const auto& a : r.again) {
        auto ids = ids_of(a.batch);
        if (ids == std::vector<std::string>{"slow"}) {
            EXPECT_EQ(a.attempt, 2);
        } else {
            EXPECT_EQ(a.attempt, 1) << "never started: no attempt counted";
            EXPECT_EQ(std::count(ids.begin(), ids.end(), "slow"), 0);
            innocent_tests += static_cast<int>(ids.size());
        }
    }
    EXPECT_EQ(innocent_tests, 3);
    // Out of re-queues: the suspect is given up, the others still go back.
    auto last = plan_requeue(unfinished, {"slow"}, 3, 2, est);
    ASSERT_EQ(last.given_up.size(), 1u);
    EXPECT_EQ(last.given_up[0].id, "slow");
    for (const auto& a : last.again) EXPECT_EQ(a.attempt, 3);
}

TEST(Requeue, WithoutSuspectsTheTestsAreHalvedAndASerialGroupStaysWithItsSuspect) {
    std::vector<plugins::TestCase> unfinished = {tc("a", 0, "serial:x"), tc("b", 1, "serial:x"), tc("c", 2),
                                                 tc("d", 3)};
    PlanInput est;
    auto crash = plan_requeue(unfinished, {}, 1, 2, est);
    ASSERT_EQ(crash.again.size(), 2u);
    for (const auto& a : crash.again) EXPECT_EQ(a.attempt, 2);
    auto grouped = plan_requeue(unfinished, {"b"}, 1, 2, est);
    bool group_whole = false;
    for (const auto& a : grouped.again) {
        auto ids = ids_of(a.batch);
        if (std::count(ids.begin(), ids.end(), "b")) {
            group_whole = std::count(ids.begin(), ids.end(), "a") == 1;
            EXPECT_EQ(a.attempt, 2);
        }
    }
    EXPECT_TRUE(group_whole) << "a is in b's serial group and must go back with it";
    EXPECT_TRUE(plan_requeue(unfinished, {}, 3, 2, est).again.empty());
    EXPECT_EQ(plan_requeue(unfinished, {}, 3, 2, est).given_up.size(), 4u);
}

}  // namespace hypertest::core
