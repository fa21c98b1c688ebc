// Lambda invocations through the aws provider: the blocking invoke() and many invocations in
// flight at once through start_invoke/poll, with throttling, signing failures and shutdown.
#include "providers/aws/aws_functions.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>

#include "providers/aws/aws_test_support.hpp"

namespace hypertest::providers {
namespace {

using testing_support::AwsProviderTest;

TEST_F(AwsProviderTest, InvokeReturnsThePayloadAndTheBilledAndInitTimes) {
    auto p = provider();
    util::Json event = {{"version", 1}, {"runId", "r"}};
    auto r = p->functions().invoke(event, std::chrono::seconds(30));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_FALSE(r->function_error);
    EXPECT_EQ(r->payload.at("invocationId"), "inv-1");
    EXPECT_EQ(r->billed_ms, 1501);
    EXPECT_EQ(r->init_ms, 250);
    EXPECT_EQ(r->duration_ms, 1500);
    ASSERT_EQ(fake.invoked.size(), 1u);
    EXPECT_EQ(util::parse_json(fake.invoked[0], "e").value(), event);
}

TEST_F(AwsProviderTest, FunctionErrorsAndThrottlingAreToldApart) {
    auto p = provider();
    fake.invoke_error = "Unhandled";
    auto failed = p->functions().invoke(util::Json::object(), std::chrono::seconds(30));
    ASSERT_TRUE(failed.ok()) << failed.error().message;
    EXPECT_TRUE(failed->function_error);
    EXPECT_NE(
        failed->error_message.find(
            "Runtime.ExitError: RequestId: r1 Error: Runtime exited with error: signal: killed"),
        std::string::npos)
        << failed->error_message;
    EXPECT_NE(failed->error_message.find("REPORT RequestId: r1"), std::string::npos);

    fake.throttle = 1;
    auto throttled = p->functions().invoke(util::Json::object(), std::chrono::seconds(30));
    ASSERT_FALSE(throttled.ok());
    EXPECT_TRUE(throttled.error().retryable);
    EXPECT_TRUE(throttled.error().throttled);
    EXPECT_EQ(throttled.error().retry_after_ms, 2000);
    EXPECT_NE(throttled.error().message.find("ReservedFunctionConcurrentInvocationLimitExceeded"),
              std::string::npos)
        << throttled.error().message;
}

// Polls until nothing is in flight (or 30 s pass); fails on a call coming back twice.
std::map<CallId, util::Result<InvokeResponse>> poll_all(Functions& functions) {
    std::map<CallId, util::Result<InvokeResponse>> done;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (functions.in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
        for (auto& c : functions.poll(std::chrono::milliseconds(100))) {
            EXPECT_EQ(done.count(c.id), 0u) << "call " << c.id << " came back twice";
            done.emplace(c.id, std::move(c.response));
        }
    }
    return done;
}

TEST_F(AwsProviderTest, FiftyInvocationsInFlightAtOnceComeBackThroughPollThrottledOnesRetryable) {
    constexpr int k_calls = 50;
    fake.hold_until = k_calls;  // answers only once all 50 are in flight
    fake.throttle = 3;
    auto p = provider(util::Json(), k_calls);
    auto& functions = p->functions();
    for (int i = 0; i < k_calls; ++i)
        functions.start_invoke(100 + i, {{"n", i}}, std::chrono::seconds(30));
    EXPECT_EQ(functions.in_flight(), static_cast<std::size_t>(k_calls));
    auto done = poll_all(functions);
    ASSERT_EQ(done.size(), static_cast<std::size_t>(k_calls));
    int throttled = 0;
    for (const auto& [id, response] : done) {
        EXPECT_GE(id, 100u);
        EXPECT_LT(id, 100u + k_calls);
        if (!response.ok()) {
            ++throttled;
            EXPECT_TRUE(response.error().retryable);
            EXPECT_TRUE(response.error().throttled);
            EXPECT_EQ(response.error().retry_after_ms, 2000);
            EXPECT_NE(
                response.error().message.find("Lambda Invoke hypertest: TooManyRequestsException"),
                std::string::npos)
                << response.error().message;
            continue;
        }
        EXPECT_FALSE(response->function_error);
        EXPECT_EQ(response->payload.at("invocationId"), "inv-1");
        EXPECT_EQ(response->billed_ms, 1501);
    }
    EXPECT_EQ(throttled, 3);
    EXPECT_EQ(functions.in_flight(), 0u);
    std::lock_guard lock(fake.mutex);
    EXPECT_EQ(fake.arrived, k_calls);
    std::set<int> invoked;
    for (const auto& body : fake.invoked)
        invoked.insert(util::parse_json(body, "e")->at("n").get<int>());
    EXPECT_EQ(invoked.size(), static_cast<std::size_t>(k_calls - 3));
}

TEST_F(AwsProviderTest, InvocationsThatCannotBeSignedComeBackFromTheNextPoll) {
    auto p = provider(util::Json(), 2, /*with_credentials=*/false);
    auto& functions = p->functions();
    functions.start_invoke(7, util::Json::object(), std::chrono::seconds(30));
    functions.start_invoke(8, util::Json::object(), std::chrono::seconds(30));
    EXPECT_EQ(functions.in_flight(), 2u);
    auto began = std::chrono::steady_clock::now();
    auto done = functions.poll(std::chrono::seconds(10));
    EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(5));
    ASSERT_EQ(done.size(), 2u);
    for (const auto& c : done) {
        ASSERT_FALSE(c.response.ok());
        EXPECT_NE(c.response.error().message.find("no AWS credentials found"), std::string::npos)
            << c.response.error().message;
    }
    EXPECT_EQ(done[0].id + done[1].id, 15u);
    EXPECT_EQ(functions.in_flight(), 0u);
    EXPECT_TRUE(fake.invoked.empty());
}

TEST_F(AwsProviderTest, ShutdownEndsInvocationsInFlightAsCancelledFailures) {
    fake.hold_until = 1000;  // never answered in time
    auto p = provider();
    auto& functions = p->functions();
    for (CallId id = 1; id <= 4; ++id)
        functions.start_invoke(id, util::Json::object(), std::chrono::seconds(30));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
        EXPECT_TRUE(functions.poll(std::chrono::milliseconds(20)).empty());
        std::lock_guard lock(fake.mutex);
        if (fake.arrived == 4) break;
    }
    functions.shutdown();
    auto done = functions.poll(std::chrono::seconds(10));
    fake.release();
    ASSERT_EQ(done.size(), 4u);
    for (const auto& c : done) {
        ASSERT_FALSE(c.response.ok());
        EXPECT_FALSE(c.response.error().retryable);
        EXPECT_NE(c.response.error().message.find("cancelled"), std::string::npos)
            << c.response.error().message;
    }
    EXPECT_EQ(functions.in_flight(), 0u);
}

}  // namespace
}  // namespace hypertest::providers
