// The Lambda client against a local server: the requests on the wire and real-shaped answers.
#include "aws/lambda_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>

#include "aws/test_server.hpp"
#include "aws/test_support.hpp"
#include "util/base64.hpp"

namespace hypertest::aws {
namespace {

using testing_support::LocalServer;
using testing_support::TestAws;

const std::string k_log =
    "START RequestId: 8f5e1c2a-1111-4c1e-9f7a-0123456789ab Version: $LATEST\n"
    "some test output mentioning Duration: 99 ms in passing\n"
    "END RequestId: 8f5e1c2a-1111-4c1e-9f7a-0123456789ab\n"
    "REPORT RequestId: 8f5e1c2a-1111-4c1e-9f7a-0123456789ab\tDuration: 1234.56 ms\tBilled "
    "Duration: 1235 ms\t"
    "Memory Size: 2048 MB\tMax Memory Used: 512 MB\tInit Duration: 321.09 ms\t\n";

const char* k_get_function = R"({
  "Configuration": {"FunctionName": "hypertest", "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:hypertest",
    "PackageType": "Image", "MemorySize": 4096, "Timeout": 600, "Architectures": ["arm64"],
    "State": "Active", "LastUpdateStatus": "%STATUS%", "LastUpdateStatusReason": "%REASON%"},
  "Code": {"RepositoryType": "ECR", "ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:latest",
    "ResolvedImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/repo@sha256:4c2a0d4f55e6a3b8a3a4bd0e1e2e3e4e5e6e7e8e9eaebecedeeef0f1f2f3f4f5"}
})";

std::string get_function_body(const std::string& status, const std::string& reason = "") {
    std::string s = k_get_function;
    s.replace(s.find("%STATUS%"), 8, status);
    s.replace(s.find("%REASON%"), 8, reason);
    return s;
}

TEST(LambdaClient, InvokeSendsRequestResponseWithTailAndParsesTheReport) {
    LocalServer server;
    server.post(R"(/2015-03-31/functions/([^/]+)/invocations)",
                [](const httplib::Request&, httplib::Response& res) {
                    res.set_header("X-Amz-Log-Result", util::base64_encode(k_log));
                    res.set_header("X-Amz-Executed-Version", "$LATEST");
                    res.set_content(R"({"version":1,"outcomes":[]})", "application/json");
                });
    server.start();
    TestAws aws(server.url());
    auto lambda = make_lambda_client(aws.config("Lambda"));
    auto out = lambda->invoke("hypertest", R"({"runId":"r1"})", std::chrono::seconds(30));
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ(out->payload, R"({"version":1,"outcomes":[]})");
    EXPECT_TRUE(out->function_error.empty());
    EXPECT_EQ(out->log_tail, k_log);
    ASSERT_TRUE(out->report.has_value());
    EXPECT_DOUBLE_EQ(out->report->duration_ms, 1234.56);
    EXPECT_DOUBLE_EQ(out->report->billed_ms, 1235);
    EXPECT_EQ(out->report->memory_mb, 2048);
    EXPECT_EQ(out->report->max_memory_used_mb, 512);
    EXPECT_DOUBLE_EQ(out->report->init_ms, 321.09);

    auto seen = server.seen();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].method, "POST");
    EXPECT_EQ(seen[0].path, "/2015-03-31/functions/hypertest/invocations");
    EXPECT_EQ(seen[0].body, R"({"runId":"r1"})");
    EXPECT_EQ(seen[0].header("X-Amz-Invocation-Type"), "RequestResponse");
    EXPECT_EQ(seen[0].header("X-Amz-Log-Type"), "Tail");
    EXPECT_EQ(seen[0].header("X-Amz-Date"), "20231114T221320Z");
    std::string auth = seen[0].header("Authorization");
    EXPECT_EQ(
        auth.rfind(
            "AWS4-HMAC-SHA256 Credential=AKIDTESTWIRE/20231114/us-east-1/lambda/aws4_request", 0),
        0u)
        << auth;
    EXPECT_EQ(auth.find(testing_support::k_test_secret), std::string::npos);
}

TEST(LambdaClient, FunctionErrorHeaderIsReportedWithTheErrorMessage) {
    LocalServer server;
    server.post(R"(/2015-03-31/functions/([^/]+)/invocations)", [](const httplib::Request&,
                                                                   httplib::Response& res) {
        res.set_header("X-Amz-Function-Error", "Unhandled");
        res.set_content(
            R"({"errorMessage":"2024-01-01T00:00:00.000Z 1234 Task timed out after 900.00 seconds",)"
            R"("errorType":"Runtime.ExitError","stackTrace":[]})",
            "application/json");
    });
    server.start();
    TestAws aws(server.url());
    auto out =
        make_lambda_client(aws.config("Lambda"))->invoke("fn", "{}", std::chrono::seconds(5));
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ(out->function_error, "Unhandled");
    EXPECT_EQ(
        out->error_message,
        "Runtime.ExitError: 2024-01-01T00:00:00.000Z 1234 Task timed out after 900.00 seconds");
    EXPECT_FALSE(out->report.has_value());
}

TEST(LambdaClient, ThrottlingIsRetryableNamesTheReasonAndIsNotRetriedByTheClient) {
    LocalServer server;
    server.post(R"(/2015-03-31/functions/([^/]+)/invocations)", [](const httplib::Request&,
                                                                   httplib::Response& res) {
        res.status = 429;
        res.set_header(
            "x-amzn-ErrorType",
            "TooManyRequestsException:http://internal.amazon.com/coral/com.amazonaws.awslambda/");
        res.set_header("Retry-After", "1");
        res.set_content(
            R"({"Reason":"ConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."})",
            "application/json");
    });
    server.start();
    TestAws aws(server.url());
    auto out =
        make_lambda_client(aws.config("Lambda"))->invoke("fn", "{}", std::chrono::seconds(5));
    ASSERT_FALSE(out.ok());
    EXPECT_TRUE(out.error().retryable);
    EXPECT_NE(out.error().message.find("TooManyRequestsException (HTTP 429)"), std::string::npos)
        << out.error().message;
    EXPECT_NE(out.error().message.find("ConcurrentInvocationLimitExceeded"), std::string::npos)
        << out.error().message;
    EXPECT_EQ(server.seen().size(), 1u);
}

TEST(LambdaInvokeRequest, IsASignedRequestResponseInvokeWithTheCallersTimeout) {
    TestAws aws("http://127.0.0.1:9");
    auto request =
        invoke_request(aws.config("Lambda"), "my fn", R"({"a":1})", std::chrono::minutes(15));
    ASSERT_TRUE(request.ok()) << request.error().message;
    EXPECT_EQ(request->method, "POST");
    EXPECT_EQ(request->url, "http://127.0.0.1:9/2015-03-31/functions/my%20fn/invocations");
    EXPECT_EQ(request->body, R"({"a":1})");
    EXPECT_EQ(request->timeout, std::chrono::minutes(15));
    std::map<std::string, std::string> headers(request->headers.begin(), request->headers.end());
    EXPECT_EQ(headers["X-Amz-Invocation-Type"], "RequestResponse");
    EXPECT_EQ(headers["X-Amz-Log-Type"], "Tail");
    EXPECT_EQ(
        headers["Authorization"].rfind(
            "AWS4-HMAC-SHA256 Credential=AKIDTESTWIRE/20231114/us-east-1/lambda/aws4_request", 0),
        0u)
        << headers["Authorization"];

    TestAws anonymous("http://127.0.0.1:9");
    anonymous.system = system_with_env({{"AWS_ENDPOINT_URL", "http://127.0.0.1:9"}});
    auto unsigned_request =
        invoke_request(anonymous.config("Lambda"), "fn", "{}", std::chrono::seconds(1));
    ASSERT_FALSE(unsigned_request.ok());
    EXPECT_NE(unsigned_request.error().message.find("no AWS credentials found"), std::string::npos)
        << unsigned_request.error().message;
}

util::HttpResponse answer(long status, std::map<std::string, std::string> headers,
                          std::string body) {
    util::HttpResponse r;
    r.status = status;
    r.headers = std::move(headers);
    r.body = std::move(body);
    return r;
}

TEST(LambdaInvokeOutput, TellsOutputsFunctionErrorsThrottlingAndServiceErrorsApart) {
    auto ok = invoke_output(
        answer(200, {{"x-amz-log-result", util::base64_encode(k_log)}}, "[1]"), "fn");
    ASSERT_TRUE(ok.ok()) << ok.error().message;
    EXPECT_EQ(ok->payload, "[1]");
    ASSERT_TRUE(ok->report.has_value());
    EXPECT_DOUBLE_EQ(ok->report->billed_ms, 1235);

    auto crashed = invoke_output(
        answer(200, {{"x-amz-function-error", "Unhandled"}},
               R"({"errorType":"Runtime.ExitError","errorMessage":"signal: killed"})"),
        "fn");
    ASSERT_TRUE(crashed.ok()) << crashed.error().message;
    EXPECT_EQ(crashed->function_error, "Unhandled");
    EXPECT_EQ(crashed->error_message, "Runtime.ExitError: signal: killed");

    auto throttled = invoke_output(
        answer(429, {{"x-amzn-errortype", "TooManyRequestsException"}, {"retry-after", "3"}},
               R"({"Reason":"ConcurrentInvocationLimitExceeded","message":"Rate Exceeded."})"),
        "fn");
    ASSERT_FALSE(throttled.ok());
    EXPECT_TRUE(throttled.error().retryable);
    EXPECT_TRUE(throttled.error().throttled);
    EXPECT_EQ(throttled.error().retry_after_ms, 3000);
    EXPECT_NE(
        throttled.error().message.find("Lambda Invoke fn: TooManyRequestsException (HTTP 429)"),
        std::string::npos)
        << throttled.error().message;

    auto unavailable = invoke_output(
        answer(503, {{"x-amzn-errortype", "ServiceException"}}, R"({"message":"busy"})"), "fn");
    ASSERT_FALSE(unavailable.ok());
    EXPECT_TRUE(unavailable.error().retryable);
    EXPECT_FALSE(unavailable.error().throttled);

    auto missing = invoke_output(
        answer(404, {{"x-amzn-errortype", "ResourceNotFoundException"}},
               R"({"Message":"Function not found: arn:aws:lambda:us-east-1:1:function:fn"})"),
        "fn");
    ASSERT_FALSE(missing.ok());
    EXPECT_FALSE(missing.error().retryable);
    EXPECT_NE(missing.error().message.find("ResourceNotFoundException (HTTP 404)"),
              std::string::npos)
        << missing.error().message;
}

TEST(LambdaInvokeOutput, TransportErrorsNameTheCallKeepRetryableAndHideSecrets) {
    TestAws aws("http://127.0.0.1:9");
    auto config = aws.config("Lambda");
    auto error = transport_error(
        config, invoke_operation("fn"),
        util::make_error(std::string("POST x: reset; key ") + testing_support::k_test_secret,
                         true));
    EXPECT_TRUE(error.retryable);
    EXPECT_EQ(
        error.message.rfind("Lambda Invoke fn: cannot reach http://127.0.0.1:9: POST x: reset", 0),
        0u)
        << error.message;
    EXPECT_EQ(error.message.find(testing_support::k_test_secret), std::string::npos);
    EXPECT_FALSE(transport_error(config, "op", util::make_error("cancelled")).retryable);
}

TEST(LambdaClient, GetFunctionReadsConfigurationAndResolvedImage) {
    LocalServer server;
    server.get(R"(/2015-03-31/functions/([^/]+))",
               [](const httplib::Request&, httplib::Response& res) {
                   res.set_content(get_function_body("Successful"), "application/json");
               });
    server.start();
    TestAws aws(server.url());
    auto info = make_lambda_client(aws.config("Lambda"))->get_function("hypertest");
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->package_type, "Image");
    EXPECT_EQ(info->memory_mb, 4096);
    EXPECT_EQ(info->timeout_s, 600);
    EXPECT_EQ(info->architectures, std::vector<std::string>{"arm64"});
    EXPECT_EQ(info->last_update_status, "Successful");
    EXPECT_EQ(info->image_digest(),
              "sha256:4c2a0d4f55e6a3b8a3a4bd0e1e2e3e4e5e6e7e8e9eaebecedeeef0f1f2f3f4f5");
    EXPECT_EQ(server.seen().at(0).path, "/2015-03-31/functions/hypertest");
}

TEST(LambdaClient, MissingFunctionIsAnActionableNotRetriedError) {
    LocalServer server;
    server.get(R"(/2015-03-31/functions/([^/]+))", [](const httplib::Request&,
                                                      httplib::Response& res) {
        res.status = 404;
        res.set_header("x-amzn-ErrorType", "ResourceNotFoundException");
        res.set_header("x-amzn-RequestId", "req-404");
        res.set_content(
            R"({"Type":"User","Message":"Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope"})",
            "application/json");
    });
    server.start();
    TestAws aws(server.url());
    auto info = make_lambda_client(aws.config("Lambda"))->get_function("nope");
    ASSERT_FALSE(info.ok());
    EXPECT_FALSE(info.error().retryable);
    EXPECT_NE(
        info.error().message.find(
            "Lambda GetFunction nope: ResourceNotFoundException (HTTP 404): Function not found"),
        std::string::npos)
        << info.error().message;
    EXPECT_NE(info.error().message.find("req-404"), std::string::npos);
    EXPECT_EQ(server.seen().size(), 1u);
}

TEST(LambdaClient, ServerErrorsAreRetriedWithBackoff) {
    LocalServer server;
    std::atomic<int> calls{0};
    server.get(R"(/2015-03-31/functions/([^/]+))",
               [&](const httplib::Request&, httplib::Response& res) {
                   if (++calls < 3) {
                       res.status = 500;
                       res.set_header("x-amzn-ErrorType", "ServiceException");
                       res.set_content(R"({"message":"internal"})", "application/json");
                       return;
                   }
                   res.set_content(get_function_body("Successful"), "application/json");
               });
    server.start();
    TestAws aws(server.url());
    auto info = make_lambda_client(aws.config("Lambda"))->get_function("hypertest");
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(calls.load(), 3);
    ASSERT_EQ(aws.sleeps.size(), 2u);
    EXPECT_LT(aws.sleeps[0], aws.sleeps[1]);
}

TEST(LambdaClient, UpdateFunctionCodePutsTheImageUriThenTheWaiterPollsUntilSuccessful) {
    LocalServer server;
    std::atomic<int> polls{0};
    server.put(R"(/2015-03-31/functions/([^/]+)/code)", [](const httplib::Request&,
                                                           httplib::Response& res) {
        res.set_content(
            R"({"FunctionName":"hypertest","PackageType":"Image","LastUpdateStatus":"InProgress"})",
            "application/json");
    });
    server.get(R"(/2015-03-31/functions/([^/]+))",
               [&](const httplib::Request&, httplib::Response& res) {
                   res.set_content(get_function_body(++polls < 3 ? "InProgress" : "Successful"),
                                   "application/json");
               });
    server.start();
    TestAws aws(server.url());
    auto lambda = make_lambda_client(aws.config("Lambda"));
    const std::string uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/repo@sha256:abc";
    auto updated = lambda->update_function_code("hypertest", uri);
    ASSERT_TRUE(updated.ok()) << updated.error().message;
    EXPECT_EQ(updated->last_update_status, "InProgress");
    auto done =
        lambda->wait_until_updated("hypertest", std::chrono::seconds(60), std::chrono::seconds(1));
    ASSERT_TRUE(done.ok()) << done.error().message;
    EXPECT_EQ(done->last_update_status, "Successful");
    EXPECT_EQ(polls.load(), 3);
    EXPECT_EQ(aws.sleeps, (std::vector<std::chrono::milliseconds>{std::chrono::seconds(1),
                                                                  std::chrono::seconds(1)}));
    auto seen = server.seen();
    EXPECT_EQ(seen[0].method, "PUT");
    EXPECT_EQ(seen[0].path, "/2015-03-31/functions/hypertest/code");
    EXPECT_EQ(util::parse_json(seen[0].body, "body").value(), util::Json({{"ImageUri", uri}}));
}

TEST(LambdaClient, WaiterStopsOnFailedWithTheReasonAndOnItsDeadline) {
    LocalServer server;
    server.get("/2015-03-31/functions/broken", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(
            get_function_body("Failed", "The image manifest or layer media type is not supported."),
            "application/json");
    });
    server.get("/2015-03-31/functions/slow", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(get_function_body("InProgress"), "application/json");
    });
    server.start();
    TestAws aws(server.url());
    auto lambda = make_lambda_client(aws.config("Lambda"));
    auto failed =
        lambda->wait_until_updated("broken", std::chrono::seconds(60), std::chrono::seconds(1));
    ASSERT_FALSE(failed.ok());
    EXPECT_NE(failed.error().message.find("media type is not supported"), std::string::npos)
        << failed.error().message;
    auto slow =
        lambda->wait_until_updated("slow", std::chrono::seconds(5), std::chrono::seconds(1));
    ASSERT_FALSE(slow.ok());
    EXPECT_NE(slow.error().message.find("still updating after 5 s"), std::string::npos)
        << slow.error().message;
    EXPECT_NE(slow.error().message.find("lambdaUpdateMaxWaitTime"), std::string::npos);
    EXPECT_EQ(aws.sleeps.size(), 5u);
}

TEST(LambdaClient, AccountSettingsGiveTheConcurrencyLimit) {
    LocalServer server;
    server.get("/2016-08-19/account-settings", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(
            R"({"AccountLimit":{"TotalCodeSize":80530636800,"CodeSizeUnzipped":262144000,)"
            R"("CodeSizeZipped":52428800,"ConcurrentExecutions":1000,"UnreservedConcurrentExecutions":900},)"
            R"("AccountUsage":{"TotalCodeSize":0,"FunctionCount":1}})",
            "application/json");
    });
    server.start();
    TestAws aws(server.url());
    auto settings = make_lambda_client(aws.config("Lambda"))->get_account_settings();
    ASSERT_TRUE(settings.ok()) << settings.error().message;
    EXPECT_EQ(settings->concurrent_executions, 1000);
    EXPECT_EQ(settings->unreserved_concurrent_executions, 900);
}

TEST(ReportLine, ParsesWarmAndColdLinesAndIgnoresLogsWithout) {
    auto warm = parse_report_line(
        "REPORT RequestId: x\tDuration: 2.50 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 40 MB\t");
    ASSERT_TRUE(warm.has_value());
    EXPECT_DOUBLE_EQ(warm->duration_ms, 2.5);
    EXPECT_DOUBLE_EQ(warm->billed_ms, 3);
    EXPECT_EQ(warm->memory_mb, 128);
    EXPECT_EQ(warm->max_memory_used_mb, 40);
    EXPECT_EQ(warm->init_ms, 0);
    EXPECT_FALSE(parse_report_line("START RequestId: x\nEND RequestId: x\n").has_value());
    // The last REPORT line wins (a log tail may hold the previous invocation's).
    auto last = parse_report_line(
        "REPORT RequestId: a\tDuration: 1 ms\tBilled Duration: 1 ms\n"
        "REPORT RequestId: b\tDuration: 7 ms\tBilled Duration: 8 ms\n");
    ASSERT_TRUE(last.has_value());
    EXPECT_DOUBLE_EQ(last->billed_ms, 8);
}

}  // namespace
}  // namespace hypertest::aws
