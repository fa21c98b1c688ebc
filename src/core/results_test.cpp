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

TEST(Results, JsonHasTheDocumentedFieldsAndCounts) {
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

namespace hypertest::core {

TEST(FinalStatuses, NoProblemWhenEveryTestHasExactlyOne) {
    auto run = sample();
    std::vector<plugins::TestCase> selected;
    std::map<std::string, TestResult> results;
    std::map<std::string, int> finals;
    for (const auto& r : run.tests) {
        selected.push_back(r.test);
        results[r.test.id] = r;
        finals[r.test.id] = 1;
    }
    EXPECT_TRUE(check_final_statuses(selected, finals, results).empty());
    EXPECT_EQ(results["id-ok"].status, Status::success);
    EXPECT_EQ(results["id-flake"].status, Status::flaky);
}

TEST(FinalStatuses, ViolationsBecomeFailuresNamedAsHypertestBugs) {
    auto run = sample();
    std::vector<plugins::TestCase> selected;
    for (const auto& r : run.tests) selected.push_back(r.test);
    std::map<std::string, TestResult> results;
    results["id-ok"] = run.tests[0];                 // one final status: fine
    results["id-skip"] = run.tests[2];               // a result, but never finalized
    results["id-flake"] = run.tests[3];              // finalized twice
    results["stray"] = result("stray", Status::success);  // not selected
    std::map<std::string, int> finals = {{"id-ok", 1}, {"id-flake", 2}, {"stray", 1}};
    // "id-bad <&> \"q\"" has neither a result nor a count.
    auto problems = check_final_statuses(selected, finals, results);
    EXPECT_EQ(problems.size(), 4u);
    EXPECT_EQ(results["id-ok"].status, Status::success);
    const auto& missing = results["id-bad <&> \"q\""];
    EXPECT_EQ(missing.status, Status::failed);
    EXPECT_EQ(missing.error_message, "hypertest bug: no final status");
    EXPECT_EQ(missing.test.file, "dir/a.spec.ts");
    EXPECT_EQ(results["id-skip"].status, Status::failed);
    EXPECT_EQ(results["id-skip"].error_message, "hypertest bug: no final status");
    EXPECT_EQ(results["id-flake"].status, Status::failed);
    EXPECT_EQ(results["id-flake"].error_message, "hypertest bug: 2 final statuses");
    EXPECT_EQ(results.count("stray"), 0u);
    EXPECT_EQ(results.size(), 4u);
}

TEST(FinalStatuses, FlakyFailsTheRunOnlyWhenAskedTo) {
    RunSummary run;
    run.tests = {result("ok", Status::success), result("flake", Status::flaky)};
    EXPECT_EQ(exit_code_for(run), 0);
    EXPECT_EQ(results_json(run)["status"], "passed");
    run.fail_on_flaky = true;
    EXPECT_EQ(exit_code_for(run), 1);
    EXPECT_EQ(results_json(run)["status"], "failed");
    run.interrupted = true;
    EXPECT_EQ(exit_code_for(run), 130);
    EXPECT_EQ(results_json(run)["status"], "interrupted");
}

}  // namespace hypertest::core
