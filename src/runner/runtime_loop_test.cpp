#include "runner/runtime_loop.hpp"

#include <gtest/gtest.h>

#include <deque>

namespace hypertest::runner {
namespace {

// Answers requests from a script, in order, and records what was sent.
class FakeHttp : public util::HttpClient {
public:
    std::deque<util::Result<util::HttpResponse>> script;
    std::vector<util::HttpRequest> sent;

    util::Result<util::HttpResponse> send(const util::HttpRequest& r) override {
        sent.push_back(r);
        if (script.empty()) return util::make_error("connection refused", true);
        auto next = script.front();
        script.pop_front();
        return next;
    }
};

util::HttpResponse next_event(const std::string& id, const std::string& body,
                              const std::string& deadline = "1700000000123") {
    util::HttpResponse r;
    r.status = 200;
    r.body = body;
    if (!id.empty()) r.headers["lambda-runtime-aws-request-id"] = id;
    if (!deadline.empty()) r.headers["lambda-runtime-deadline-ms"] = deadline;
    r.headers["lambda-runtime-invoked-function-arn"] = "arn:aws:lambda:local:0:function:f";
    r.headers["lambda-runtime-trace-id"] = "Root=1-abc";
    return r;
}

util::HttpResponse accepted() {
    util::HttpResponse r;
    r.status = 202;
    return r;
}

std::string header(const util::HttpRequest& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
        if (k == name) return v;
    }
    return {};
}

const std::string k_base = "http://127.0.0.1:9001/2018-06-01/runtime";

TEST(RuntimeLoop, PostsHandlerAnswerToResponse) {
    FakeHttp http;
    http.script = {next_event("req-1", R"({"n":41})"), accepted()};
    Context seen;
    RuntimeLoop loop(http, "127.0.0.1:9001", [&](const Json& e, const Context& c) {
        seen = c;
        return util::Result<Json>(Json{{"n", e["n"].get<int>() + 1}});
    });
    ASSERT_TRUE(loop.run_one());
    ASSERT_EQ(http.sent.size(), 2u);
    EXPECT_EQ(http.sent[0].method, "GET");
    EXPECT_EQ(http.sent[0].url, k_base + "/invocation/next");
    EXPECT_EQ(http.sent[0].timeout.count(), 0);  // long poll: no client timeout
    EXPECT_EQ(http.sent[1].method, "POST");
    EXPECT_EQ(http.sent[1].url, k_base + "/invocation/req-1/response");
    EXPECT_EQ(Json::parse(http.sent[1].body)["n"], 42);
    EXPECT_EQ(seen.request_id, "req-1");
    EXPECT_EQ(seen.deadline_ms, 1700000000123);
    EXPECT_EQ(seen.invoked_function_arn, "arn:aws:lambda:local:0:function:f");
    EXPECT_EQ(seen.trace_id, "Root=1-abc");
}

TEST(RuntimeLoop, HandlerErrorGoesToErrorEndpoint) {
    FakeHttp http;
    http.script = {next_event("req-2", "{}"), accepted()};
    RuntimeLoop loop(http, "127.0.0.1:9001", [](const Json&, const Context&) {
        return util::Result<Json>(util::make_error("plugin exploded"));
    });
    ASSERT_TRUE(loop.run_one());
    ASSERT_EQ(http.sent.size(), 2u);
    const auto& post = http.sent[1];
    EXPECT_EQ(post.url, k_base + "/invocation/req-2/error");
    EXPECT_EQ(header(post, "Lambda-Runtime-Function-Error-Type"), "Runtime.HandlerError");
    Json body = Json::parse(post.body);
    EXPECT_EQ(body["errorMessage"], "plugin exploded");
    EXPECT_EQ(body["errorType"], "Runtime.HandlerError");
    EXPECT_TRUE(body["stackTrace"].is_array());
}

TEST(RuntimeLoop, ThrowingHandlerAndMalformedEventGoToError) {
    FakeHttp http;
    http.script = {next_event("a", "{}"), accepted(), next_event("b", "not json"), accepted()};
    int calls = 0;
    RuntimeLoop loop(http, "h:1", [&](const Json&, const Context&) -> util::Result<Json> {
        ++calls;
        throw std::runtime_error("boom");
    });
    ASSERT_TRUE(loop.run_one());
    ASSERT_TRUE(loop.run_one());
    EXPECT_EQ(calls, 1);  // the malformed event never reaches the handler
    EXPECT_EQ(http.sent[1].url, "http://h:1/2018-06-01/runtime/invocation/a/error");
    EXPECT_NE(Json::parse(http.sent[1].body)["errorMessage"].get<std::string>().find("boom"),
              std::string::npos);
    EXPECT_EQ(http.sent[3].url, "http://h:1/2018-06-01/runtime/invocation/b/error");
    EXPECT_EQ(header(http.sent[3], "Lambda-Runtime-Function-Error-Type"), "Runtime.MalformedEvent");
}

TEST(RuntimeLoop, InitErrorPostsToInitEndpoint) {
    FakeHttp http;
    http.script = {accepted()};
    RuntimeLoop loop(http, "h:1", [](const Json&, const Context&) { return util::Result<Json>(Json{}); });
    ASSERT_TRUE(loop.post_init_error("no task root", "Runtime.InitError"));
    ASSERT_EQ(http.sent.size(), 1u);
    EXPECT_EQ(http.sent[0].url, "http://h:1/2018-06-01/runtime/init/error");
    EXPECT_EQ(header(http.sent[0], "Lambda-Runtime-Function-Error-Type"), "Runtime.InitError");
    EXPECT_EQ(Json::parse(http.sent[0].body)["errorMessage"], "no task root");
}

TEST(RuntimeLoop, MissingRequestIdIsAFailureWithoutPosting) {
    FakeHttp http;
    http.script = {next_event("", "{}")};
    bool called = false;
    RuntimeLoop loop(http, "h:1", [&](const Json&, const Context&) {
        called = true;
        return util::Result<Json>(Json{});
    });
    auto s = loop.run_one();
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find("Lambda-Runtime-Aws-Request-Id"), std::string::npos);
    EXPECT_FALSE(called);
    EXPECT_EQ(http.sent.size(), 1u);
}

TEST(RuntimeLoop, MissingOrBadDeadlineIsZero) {
    FakeHttp http;
    http.script = {next_event("a", "{}", ""), accepted(), next_event("b", "{}", "12x"), accepted()};
    std::vector<std::int64_t> deadlines;
    RuntimeLoop loop(http, "h:1", [&](const Json&, const Context& c) {
        deadlines.push_back(c.deadline_ms);
        return util::Result<Json>(Json{});
    });
    ASSERT_TRUE(loop.run_one());
    ASSERT_TRUE(loop.run_one());
    EXPECT_EQ(deadlines, (std::vector<std::int64_t>{0, 0}));
}

TEST(RuntimeLoop, RetriesNextWithBackoffThenGivesUp) {
    FakeHttp http;
    util::HttpResponse server_error;
    server_error.status = 500;
    // Two failures, one good invocation (resets the count), then failures until it gives up.
    http.script = {util::make_error("refused", true), server_error, next_event("a", "{}"),
                   accepted()};
    std::vector<long> sleeps;
    RuntimeLoopOptions opts;
    opts.max_consecutive_failures = 3;
    opts.initial_backoff = std::chrono::milliseconds(10);
    opts.max_backoff = std::chrono::milliseconds(15);
    opts.sleep = [&](std::chrono::milliseconds d) { sleeps.push_back(static_cast<long>(d.count())); };
    int handled = 0;
    RuntimeLoop loop(http, "h:1", [&](const Json&, const Context&) {
        ++handled;
        return util::Result<Json>(Json{});
    }, opts);
    util::Error err = loop.run_forever();
    EXPECT_EQ(handled, 1);
    EXPECT_NE(err.message.find("3 failures in a row"), std::string::npos);
    // 2 sleeps before the success, then 2 more before the third failure in a row.
    EXPECT_EQ(sleeps, (std::vector<long>{10, 15, 10, 15}));
    EXPECT_EQ(http.sent.size(), 2u + 2u + 3u);
}

TEST(RuntimeLoop, OversizedAnswerIsReportedAsError) {
    FakeHttp http;
    util::HttpResponse too_large;
    too_large.status = 413;
    http.script = {next_event("a", "{}"), too_large, accepted()};
    RuntimeLoop loop(http, "h:1", [](const Json&, const Context&) {
        return util::Result<Json>(Json{{"big", std::string(100, 'x')}});
    });
    ASSERT_TRUE(loop.run_one());
    ASSERT_EQ(http.sent.size(), 3u);
    EXPECT_EQ(http.sent[2].url, "http://h:1/2018-06-01/runtime/invocation/a/error");
    EXPECT_EQ(header(http.sent[2], "Lambda-Runtime-Function-Error-Type"), "Runtime.ResponseTooLarge");
}

}  // namespace
}  // namespace hypertest::runner
