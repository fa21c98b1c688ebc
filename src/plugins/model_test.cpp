#include "plugins/model.hpp"

#include <gtest/gtest.h>

namespace hypertest::plugins {
namespace {

TestCase sample_case() {
    TestCase t;
    t.file = "nested/deeper/x.spec.ts";
    t.title_path = {"outer \"describe\"", "café 🚀 `$x`"};
    t.project = "alpha";
    t.id = make_test_id(t.project, t.file, t.title_path);
    t.line = 12;
    t.column = 3;
    t.tags = {"@smoke", "@fast"};
    t.group = "file:[alpha] nested/deeper/x.spec.ts";
    t.order = 7;
    return t;
}

void expect_same(const TestCase& a, const TestCase& b) {
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.file, b.file);
    EXPECT_EQ(a.title_path, b.title_path);
    EXPECT_EQ(a.project, b.project);
    EXPECT_EQ(a.line, b.line);
    EXPECT_EQ(a.column, b.column);
    EXPECT_EQ(a.tags, b.tags);
    EXPECT_EQ(a.group, b.group);
    EXPECT_EQ(a.order, b.order);
}

TEST(Model, TestIdIsStableAndSeparatesItsParts) {
    std::string id = make_test_id("p", "a.spec.ts", {"d", "t"});
    EXPECT_EQ(id.size(), 20u);
    EXPECT_EQ(id, make_test_id("p", "a.spec.ts", {"d", "t"}));
    EXPECT_NE(id, make_test_id("q", "a.spec.ts", {"d", "t"}));
    EXPECT_NE(id, make_test_id("p", "a.spec.ts", {"d t"}));
    EXPECT_NE(id, make_test_id("p", "a.spec.ts", {"dt"}));
}

TEST(Model, DisplayNameShowsProjectFileAndTitles) {
    TestCase t = sample_case();
    EXPECT_EQ(t.display_name(),
              "[alpha] nested/deeper/x.spec.ts › outer \"describe\" › café 🚀 `$x`");
    t.project.clear();
    EXPECT_EQ(t.display_name(), "nested/deeper/x.spec.ts › outer \"describe\" › café 🚀 `$x`");
}

TEST(Model, TestCaseRoundTrips) {
    TestCase t = sample_case();
    Json j = to_json(t);
    EXPECT_EQ(j["titlePath"][1], "café 🚀 `$x`");
    auto back = test_case_from_json(Json::parse(j.dump()));
    ASSERT_TRUE(back) << back.error().message;
    expect_same(t, *back);

    t.group.clear();
    EXPECT_FALSE(to_json(t).contains("group"));
    EXPECT_FALSE(test_case_from_json(Json{{"file", "a"}}));
    EXPECT_FALSE(test_case_from_json(Json::array()));
}

TEST(Model, InvocationEventRoundTrips) {
    InvocationEvent e;
    e.run_id = "20261127-100000-ab12cd";
    e.invocation_id = "inv-3";
    e.attempt = 2;
    e.plugin = "playwright";
    e.plugin_options = {{"workers", 2}};
    e.tests = {sample_case(), sample_case()};
    e.tests[1].title_path.push_back("more");
    e.storage = {"s3", "", "bucket", "eu-west-1", "20261127-100000-ab12cd/"};
    e.deadline_ms = 1795773600123;
    auto back = invocation_event_from_json(Json::parse(to_json(e).dump()));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->run_id, e.run_id);
    EXPECT_EQ(back->invocation_id, e.invocation_id);
    EXPECT_EQ(back->attempt, 2);
    EXPECT_EQ(back->plugin, "playwright");
    EXPECT_EQ(back->plugin_options, e.plugin_options);
    ASSERT_EQ(back->tests.size(), 2u);
    expect_same(back->tests[1], e.tests[1]);
    EXPECT_EQ(back->storage.kind, "s3");
    EXPECT_EQ(back->storage.bucket, "bucket");
    EXPECT_EQ(back->storage.region, "eu-west-1");
    EXPECT_EQ(back->storage.prefix, e.storage.prefix);
    EXPECT_EQ(back->deadline_ms, e.deadline_ms);
}

TEST(Model, InvocationEventRejectsOtherVersionsAndMissingFields) {
    InvocationEvent e;
    e.run_id = "r";
    e.plugin = "playwright";
    Json j = to_json(e);
    EXPECT_TRUE(invocation_event_from_json(j));
    j["version"] = 2;
    EXPECT_FALSE(invocation_event_from_json(j));
    Json no_plugin = to_json(e);
    no_plugin.erase("plugin");
    EXPECT_FALSE(invocation_event_from_json(no_plugin));
    Json bad_test = to_json(e);
    bad_test["tests"] = Json::array({Json{{"titlePath", {"x"}}}});
    EXPECT_FALSE(invocation_event_from_json(bad_test));
}

TestOutcome sample_outcome() {
    TestOutcome o;
    o.id = "abc";
    o.status = "failed";
    o.framework_status = "timedOut";
    o.duration_ms = 1234;
    o.start_ms = 1795773600000;
    o.retry = 1;
    o.error_message = "Test timeout of 1000ms exceeded.";
    o.error_stack = "Error: ...\n    at basic.spec.ts:21:40";
    o.error_location = "basic.spec.ts:21:40";
    o.artifact_keys = {"run/abc/screenshot.png"};
    return o;
}

TEST(Model, TestOutcomeRoundTripsAndChecksStatus) {
    TestOutcome o = sample_outcome();
    auto back = test_outcome_from_json(Json::parse(to_json(o).dump()));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->id, o.id);
    EXPECT_EQ(back->status, "failed");
    EXPECT_EQ(back->framework_status, "timedOut");
    EXPECT_EQ(back->duration_ms, 1234);
    EXPECT_EQ(back->start_ms, o.start_ms);
    EXPECT_EQ(back->retry, 1);
    EXPECT_EQ(back->error_message, o.error_message);
    EXPECT_EQ(back->error_stack, o.error_stack);
    EXPECT_EQ(back->error_location, o.error_location);
    EXPECT_EQ(back->artifact_keys, o.artifact_keys);

    o.error_message.clear();
    o.error_stack.clear();
    EXPECT_FALSE(to_json(o).contains("error"));
    for (const char* s : {"passed", "failed", "skipped", "flaky"}) {
        o.status = s;
        EXPECT_TRUE(test_outcome_from_json(to_json(o))) << s;
    }
    o.status = "expected";
    EXPECT_FALSE(test_outcome_from_json(to_json(o)));
}

TEST(Model, InvocationResultRoundTrips) {
    InvocationResult r;
    r.invocation_id = "inv-1";
    r.outcomes = {sample_outcome()};
    r.blob_report_key = "run/blobs/inv-1.zip";
    r.runner_version = "0.1.0";
    r.cold_start = true;
    r.init_ms = 250;
    r.duration_ms = 9000;
    r.error = "Playwright was interrupted";
    r.log_tail = "1 interrupted";
    auto back = invocation_result_from_json(Json::parse(to_json(r).dump()));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->invocation_id, "inv-1");
    ASSERT_EQ(back->outcomes.size(), 1u);
    EXPECT_EQ(back->outcomes[0].framework_status, "timedOut");
    EXPECT_EQ(back->blob_report_key, r.blob_report_key);
    EXPECT_EQ(back->runner_version, "0.1.0");
    EXPECT_TRUE(back->cold_start);
    EXPECT_EQ(back->init_ms, 250);
    EXPECT_EQ(back->duration_ms, 9000);
    EXPECT_EQ(back->error, r.error);
    EXPECT_EQ(back->log_tail, r.log_tail);
}

TEST(Model, InvocationResultRejectsWhatIsNotOne) {
    EXPECT_FALSE(
        invocation_result_from_json(Json{{"errorMessage", "boom"}, {"errorType", "Runtime"}}));
    InvocationResult r;
    Json j = to_json(r);
    j["outcomes"] = Json::array({Json{{"id", "x"}, {"status", "weird"}}});
    auto bad = invocation_result_from_json(j);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("weird"), std::string::npos);
}

TEST(Model, SuiteEnvironmentKeepsTheShellsSettingsOnly) {
    std::vector<std::string> vars = {"CI=true",        "BASE_URL=http://x", "PATH=/usr/bin",
                                     "HOME=/root",     "AWS_SECRET_ACCESS_KEY=s", "LC_ALL=C",
                                     "HYPERTEST_REGISTRY_PASSWORD=p", "no-equals", "=empty"};
    std::vector<char*> environ_vars;
    for (auto& v : vars) environ_vars.push_back(v.data());
    environ_vars.push_back(nullptr);
    auto env = suite_environment(environ_vars.data());
    EXPECT_EQ(env, (std::map<std::string, std::string>{{"BASE_URL", "http://x"}, {"CI", "true"}}));
    // Bounded: what does not fit is left out.
    EXPECT_EQ(suite_environment(environ_vars.data(), 10).size(), 1u);
}

TEST(Model, InvocationEventCarriesEnvironmentAndMaxFailures) {
    InvocationEvent e;
    e.run_id = "r";
    e.plugin = "playwright";
    e.env = {{"CI", "1"}};
    e.max_failures = 3;
    auto back = invocation_event_from_json(to_json(e));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->env, e.env);
    EXPECT_EQ(back->max_failures, 3);
    InvocationResult r;
    r.suite_error = true;
    auto res = invocation_result_from_json(to_json(r));
    ASSERT_TRUE(res);
    EXPECT_TRUE(res->suite_error);
}

}  // namespace
}  // namespace hypertest::plugins
