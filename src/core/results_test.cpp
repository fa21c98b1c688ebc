#include "core/results.hpp"

#include <gtest/gtest.h>

namespace hypertest::core {
namespace {

TestResult result(const std::string& title, Status s) {
    TestResult r;
    r.test.id = "id-" + title;
    r.test.file = "dir/a.spec.ts";
    r.test.project = "chromium";
    r.test.title_path = {"suite", title};
    r.status = s;
    r.duration_ms = 1500;
    r.start_ms = 1000;
    r.end_ms = 2500;
    return r;
}

RunSummary sample() {
    RunSummary run;
    run.run_id = "run-1";
    run.start_ms = 0;
    run.end_ms = 5000;
    run.tests = {result("ok", Status::success), result("bad <&> \"q\"", Status::failed),
                 result("skip", Status::skipped), result("flake", Status::flaky)};
    run.tests[1].error_message = "Error: expected 1 to be 2";
    return run;
}

}  // namespace

TEST(Results, JsonHasTheEarlierToolsFieldsAndCounts) {
    Json j = results_json(sample());
    EXPECT_EQ(j["runId"], "run-1");
    EXPECT_EQ(j["duration"], 5000);
    EXPECT_EQ(j["tests"]["total"], 4);
    EXPECT_EQ(j["tests"]["success"], 1);
    EXPECT_EQ(j["tests"]["failed"], 1);
    EXPECT_EQ(j["tests"]["skipped"], 1);
    EXPECT_EQ(j["tests"]["flaky"], 1);
    EXPECT_EQ(j["status"], "failed");
    const Json& t = j["testResults"][1];
    EXPECT_EQ(t["testId"], "id-bad <&> \"q\"");
    EXPECT_EQ(t["filePath"], "dir/a.spec.ts");
    EXPECT_EQ(t["project"], "chromium");
    EXPECT_EQ(t["titlePath"][1], "bad <&> \"q\"");
    EXPECT_EQ(t["status"], "failed");
    EXPECT_EQ(t["error"]["message"], "Error: expected 1 to be 2");
    EXPECT_TRUE(t.contains("startDate"));
}

TEST(Results, ExitCodes) {
    RunSummary run = sample();
    EXPECT_EQ(exit_code_for(run), 1);
    run.tests.erase(run.tests.begin() + 1);
    EXPECT_EQ(exit_code_for(run), 0);  // flaky counts as passed
    run.tests.push_back(result("c", Status::cancelled));
    EXPECT_EQ(exit_code_for(run), 1);
    run.interrupted = true;
    EXPECT_EQ(exit_code_for(run), 130);
}

TEST(Results, JunitEscapesAndCounts) {
    std::string x = junit_xml(sample());
    EXPECT_NE(x.find("tests=\"4\" failures=\"1\" skipped=\"1\""), std::string::npos) << x;
    EXPECT_NE(x.find("bad &lt;&amp;&gt; &quot;q&quot;"), std::string::npos) << x;
    EXPECT_NE(x.find("<failure message=\"Error: expected 1 to be 2\""), std::string::npos) << x;
    EXPECT_NE(x.find("<skipped/>"), std::string::npos);
    EXPECT_EQ(x.find("bad <&>"), std::string::npos);
}

}  // namespace hypertest::core
