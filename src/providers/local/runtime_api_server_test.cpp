#include "providers/local/runtime_api_server.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "util/http.hpp"
#include "util/json.hpp"
#include "util/time.hpp"

namespace hypertest::providers {
namespace {

using std::chrono::milliseconds;

struct Api {
    std::unique_ptr<RuntimeApiServer> server;
    std::unique_ptr<util::HttpClient> http = util::make_curl_http_client();
    std::string base;

    explicit Api(std::size_t max_bytes = k_max_response_bytes) {
        auto s = start_runtime_api_server("arn:test", max_bytes);
        EXPECT_TRUE(s);
        server = std::move(*s);
        base = "http://" + server->address() + "/2018-06-01/runtime";
    }
    util::HttpResponse send(const std::string& method, const std::string& path,
                            const std::string& body = "",
                            std::vector<std::pair<std::string, std::string>> headers = {}) {
        auto r = http->send({method, base + path, std::move(headers), body, milliseconds(5000)});
        EXPECT_TRUE(r) << (r ? "" : r.error().message);
        return r ? *r : util::HttpResponse{};
    }
};

TEST(RuntimeApiServer, DeliversTheEventWithLambdaHeadersAndTakesTheResponse) {
    Api api;
    EXPECT_FALSE(api.server->first_next_at());
    std::string id = api.server->submit(R"({"a":1})", milliseconds(2000));
    std::int64_t before = util::now_ms();
    auto next = api.send("GET", "/invocation/next");
    EXPECT_EQ(next.status, 200);
    EXPECT_EQ(next.body, R"({"a":1})");
    EXPECT_EQ(next.header("lambda-runtime-aws-request-id"), id);
    std::int64_t deadline = std::stoll(next.header("lambda-runtime-deadline-ms"));
    EXPECT_GE(deadline, before + 2000);
    EXPECT_LE(deadline, util::now_ms() + 2000);
    EXPECT_EQ(next.header("lambda-runtime-invoked-function-arn"), "arn:test");
    EXPECT_FALSE(next.header("lambda-runtime-trace-id").empty());
    EXPECT_TRUE(api.server->first_next_at());
    EXPECT_TRUE(api.server->delivered_at());

    EXPECT_FALSE(api.server->wait_reply(milliseconds(10)));
    EXPECT_EQ(api.send("POST", "/invocation/wrong-id/response", "{}").status, 400);
    EXPECT_EQ(api.send("POST", "/invocation/" + id + "/response", R"({"ok":true})").status, 202);
    auto reply = api.server->wait_reply(milliseconds(1000));
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->kind, RuntimeReply::Kind::response);
    EXPECT_EQ(reply->body, R"({"ok":true})");
    // Answered once: a second answer for the same id is refused.
    EXPECT_EQ(api.send("POST", "/invocation/" + id + "/error", "{}").status, 400);
}

TEST(RuntimeApiServer, NextBlocksUntilAnEventIsSubmitted) {
    Api api;
    util::HttpResponse next;
    std::thread runtime([&] { next = api.send("GET", "/invocation/next"); });
    std::this_thread::sleep_for(milliseconds(100));
    EXPECT_TRUE(api.server->first_next_at());
    EXPECT_FALSE(api.server->delivered_at());
    std::string id = api.server->submit("{}", milliseconds(1000));
    runtime.join();
    EXPECT_EQ(next.header("lambda-runtime-aws-request-id"), id);
}

TEST(RuntimeApiServer, ErrorsAndInitErrorsCarryTheirType) {
    Api api;
    std::string id = api.server->submit("{}", milliseconds(1000));
    api.send("GET", "/invocation/next");
    api.send("POST", "/invocation/" + id + "/error", R"({"errorMessage":"bad"})",
             {{"Lambda-Runtime-Function-Error-Type", "Runtime.X"}});
    auto reply = api.server->wait_reply(milliseconds(1000));
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->kind, RuntimeReply::Kind::error);
    EXPECT_EQ(reply->error_type, "Runtime.X");

    EXPECT_EQ(api.send("POST", "/init/error", R"({"errorMessage":"init"})").status, 202);
    reply = api.server->wait_reply(milliseconds(1000));
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->kind, RuntimeReply::Kind::init_error);
}

TEST(RuntimeApiServer, OversizedResponseBecomesAnError) {
    Api api(100);
    std::string id = api.server->submit("{}", milliseconds(1000));
    api.send("GET", "/invocation/next");
    EXPECT_EQ(api.send("POST", "/invocation/" + id + "/response", std::string(200, 'x')).status, 413);
    auto reply = api.server->wait_reply(milliseconds(1000));
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->kind, RuntimeReply::Kind::error);
    EXPECT_EQ(reply->error_type, "Function.ResponseSizeTooLarge");

    // Far past the limit: refused while reading, still reported.
    id = api.server->submit("{}", milliseconds(1000));
    api.send("GET", "/invocation/next");
    EXPECT_EQ(api.send("POST", "/invocation/" + id + "/response", std::string(2 << 20, 'x')).status,
              413);
    reply = api.server->wait_reply(milliseconds(1000));
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->error_type, "Function.ResponseSizeTooLarge");
}

TEST(RuntimeApiServer, StopWakesABlockedNext) {
    Api api;
    util::HttpResponse next;
    std::thread runtime([&] { next = api.send("GET", "/invocation/next"); });
    std::this_thread::sleep_for(milliseconds(100));
    auto start = std::chrono::steady_clock::now();
    api.server->stop();
    runtime.join();
    EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(3000));
    EXPECT_EQ(next.status, 410);
}

}  // namespace
}  // namespace hypertest::providers
