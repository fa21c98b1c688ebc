#include "plugins/playwright/report.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include <map>
#include <set>

#include "plugins/playwright/discovery.hpp"
#include "plugins/playwright/test_support.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

namespace hypertest::plugins::playwright {
namespace {

using namespace testing;

struct Parsed {
    std::map<std::string, TestOutcome> by_id;
    std::map<std::string, TestCase> cases;  // discovered from list.json, by id
};

// Outcomes of a captured report, keyed by the ids discovery gave the fixture's tests.
Parsed parse(const std::string& report_name, const fs::path& attachments) {
    Parsed p;
    for (auto& t : parse_list_json(data_json("list.json"), std::nullopt).take_or_fatal().tests)
        p.cases[t.id] = t;
    auto r = parse_report(data_json(report_name), attachments, NotStarted::skipped).take_or_fatal();
    for (auto& o : r.outcomes) p.by_id[o.id] = o;
    return p;
}

const TestOutcome& outcome(const Parsed& p, const std::string& project, const std::string& title) {
    for (const auto& [id, t] : p.cases) {
        if (t.project == project && t.title_path.back() == title) return p.by_id.at(id);
    }
    throw std::runtime_error("no test " + title);
}

TEST(PlaywrightReport, IdsMatchDiscoveryForEveryTest) {
    TempDir dir;
    Parsed p = parse("report.json", dir.path());
    std::set<std::string> reported, discovered;
    for (const auto& [id, _] : p.by_id) reported.insert(id);
    for (const auto& [id, _] : p.cases) discovered.insert(id);
    EXPECT_EQ(reported, discovered);
    EXPECT_EQ(reported.size(), 78u);
}

TEST(PlaywrightReport, StatusesMatchPlaywrightsOwnCounts) {
    TempDir dir;
    Parsed p = parse("report.json", dir.path());
    const std::map<std::string, std::string> expected = {
        {"passes with a page", "passed"},
        {"fails an expect", "failed"},
        {"throws an error", "failed"},
        {"times out", "failed"},
        {"declared with test.skip", "skipped"},
        {"declared with test.fixme", "skipped"},
        {"skips itself in the body", "skipped"},
        {"is expected to fail and fails", "passed"},
        {"is expected to fail but passes", "failed"},
        {"fails on the first attempt only", "failed"},
        {"breaks the chain", "failed"},
        {"never runs after the failure", "skipped"},
        {"has a › separator inside", "passed"},
        {"café, 日本語 and emoji 🚀", "passed"},
    };
    for (const char* project : {"alpha", "beta"}) {
        for (const auto& [title, status] : expected)
            EXPECT_EQ(outcome(p, project, title).status, status) << project << " " << title;
    }
    EXPECT_EQ(outcome(p, "alpha", "skips only in beta").status, "passed");
    EXPECT_EQ(outcome(p, "beta", "skips only in beta").status, "skipped");
    // Totals as the report's own stats count them: expected 57, skipped 9, unexpected 12.
    std::map<std::string, int> totals;
    for (const auto& [_, o] : p.by_id) ++totals[o.status];
    EXPECT_EQ(totals["passed"], 57);
    EXPECT_EQ(totals["skipped"], 9);
    EXPECT_EQ(totals["failed"], 12);
}

TEST(PlaywrightReport, KeepsFrameworkStatusTimingAndErrors) {
    TempDir dir;
    Parsed p = parse("report.json", dir.path());
    const auto& timeout = outcome(p, "alpha", "times out");
    EXPECT_EQ(timeout.framework_status, "timedOut");
    EXPECT_NE(timeout.error_message.find("Test timeout of 1000ms exceeded."), std::string::npos);
    EXPECT_NE(timeout.error_message.find("waiting for locator('#never-appears')"),
              std::string::npos);
    EXPECT_EQ(timeout.error_location, "basic.spec.ts:21:40");

    const auto& expect_failure = outcome(p, "beta", "fails an expect");
    EXPECT_EQ(expect_failure.framework_status, "unexpected");
    EXPECT_NE(expect_failure.error_message.find("Expected: \"Goodbye\""), std::string::npos);
    EXPECT_EQ(expect_failure.error_message.find('\x1b'), std::string::npos);
    EXPECT_NE(expect_failure.error_stack.find("basic.spec.ts:10"), std::string::npos);
    EXPECT_GT(expect_failure.duration_ms, 0);
    EXPECT_GT(expect_failure.start_ms, util::parse_iso8601_ms("2026-01-01T00:00:00.000Z"));

    EXPECT_EQ(outcome(p, "alpha", "is expected to fail but passes").error_message,
              "Expected to fail, but passed.");
    const auto& passed = outcome(p, "alpha", "passes with a page");
    EXPECT_EQ(passed.framework_status, "expected");
    EXPECT_TRUE(passed.error_message.empty());
}

TEST(PlaywrightReport, WritesInlineAttachmentsToFiles) {
    TempDir dir;
    Json report = data_json("report.json");
    for_each_spec_test(report, [&](const SpecTest& t) {
        for (auto& r : const_cast<Json&>(*t.test)["results"]) {
            for (auto& a : r["attachments"]) {
                if (a.contains("path")) a["path"] = (dir.path() / "gone.html").string();
            }
        }
    });
    auto parsed = parse_report(report, dir.path(), NotStarted::skipped).take_or_fatal();
    std::map<std::string, Attachment> by_name;
    for (const auto& o : parsed.outcomes) {
        for (const auto& a : o.attachments) {
            if (util::starts_with(a.path.filename().string(), o.id)) by_name[a.name] = a;
        }
    }
    ASSERT_TRUE(by_name.count("screenshot"));
    EXPECT_EQ(by_name["screenshot"].content_type, "image/png");
    EXPECT_EQ(by_name["screenshot"].path.parent_path(), dir.path());
    std::string png = util::read_file(by_name["screenshot"].path).take_or_fatal();
    EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
    ASSERT_TRUE(by_name.count("note"));
    EXPECT_EQ(util::read_file(by_name["note"].path).take_or_fatal(), "inline text body");
    // Files that are gone (a trace that was not kept) are left out.
    EXPECT_FALSE(by_name.count("page source"));
    EXPECT_EQ(by_name.size(), 2u);
}

TEST(PlaywrightReport, LeavesOutInlineAttachmentsThatAreNotBase64) {
    TempDir dir;
    Json report = data_json("report.json");
    for_each_spec_test(report, [&](const SpecTest& t) {
        for (auto& r : const_cast<Json&>(*t.test)["results"]) {
            for (auto& a : r["attachments"]) {
                if (a.value("name", "") == "note") a["body"] = "bm90ZQ=\n";  // stray line break
            }
        }
    });
    auto parsed = parse_report(report, dir.path(), NotStarted::skipped).take_or_fatal();
    std::set<std::string> names;
    for (const auto& o : parsed.outcomes) {
        for (const auto& a : o.attachments) names.insert(a.name);
    }
    EXPECT_TRUE(names.count("screenshot"));
    EXPECT_FALSE(names.count("note"));
}

TEST(PlaywrightReport, KeepsAttachmentsGivenByPath) {
    TempDir dir;
    fs::path html = dir.path() / "page.html";
    ASSERT_TRUE(util::write_file_atomic(html, "<p>"));
    Json report = data_json("report.json");
    for_each_spec_test(report, [&](const SpecTest& t) {
        for (auto& r : const_cast<Json&>(*t.test)["results"]) {
            for (auto& a : r["attachments"]) {
                if (a.contains("path")) a["path"] = html.string();
            }
        }
    });
    auto parsed = parse_report(report, dir.path(), NotStarted::skipped).take_or_fatal();
    int with_html = 0;
    for (const auto& o : parsed.outcomes) {
        for (const auto& a : o.attachments) with_html += a.path == html;
    }
    // "page source" twice, plus an error-context.md for each of the 12 failures.
    EXPECT_EQ(with_html, 2 + 12);
}

TEST(PlaywrightReport, RetriedTestsReportFlakyAndTheLastAttempt) {
    TempDir dir;
    auto r = parse_report(data_json("report-retries.json"), dir.path(), NotStarted::skipped)
                 .take_or_fatal();
    Parsed p = parse("report-retries.json", dir.path());
    EXPECT_EQ(r.outcomes.size(), 8u);
    const auto& flaky = outcome(p, "alpha", "fails on the first attempt only");
    EXPECT_EQ(flaky.status, "flaky");
    EXPECT_EQ(flaky.framework_status, "flaky");
    EXPECT_EQ(flaky.retry, 1);
    EXPECT_NE(flaky.error_message.find("passes when retried"), std::string::npos);
    const auto& failed = outcome(p, "alpha", "throws an error");
    EXPECT_EQ(failed.status, "failed");
    EXPECT_EQ(failed.retry, 1);
    EXPECT_NE(failed.error_message.find("boom from the test body"), std::string::npos);
}

TEST(PlaywrightReport, InterruptedRunLeavesOutTestsThatNeverStarted) {
    TempDir dir;
    auto r = parse_report(data_json("report-interrupted.json"), dir.path(), NotStarted::left_out)
                 .take_or_fatal();
    ASSERT_EQ(r.outcomes.size(), 2u);  // the report lists 72 tests; two had started
    EXPECT_EQ(r.outcomes[0].status, "passed");
    EXPECT_EQ(r.outcomes[1].status, "failed");
    EXPECT_EQ(r.outcomes[1].framework_status, "interrupted");
    EXPECT_EQ(r.outcomes[1].error_message, "Test was interrupted before it finished.");
}

TEST(PlaywrightReport, TestsThatDidNotRunAfterAFailedDependencyAreSkipped) {
    TempDir dir;
    // Project "main" depends on "setup", whose only test failed: Playwright did not run "one".
    Json report = data_json("report-dependency-failed.json");
    auto r = parse_report(report, dir.path(), NotStarted::skipped).take_or_fatal();
    ASSERT_EQ(r.outcomes.size(), 2u);
    EXPECT_EQ(r.outcomes[0].status, "failed");
    EXPECT_EQ(r.outcomes[0].id, make_test_id("setup", "auth.setup.ts", {"log in"}));
    EXPECT_EQ(r.outcomes[1].id, make_test_id("main", "a.spec.ts", {"one"}));
    EXPECT_EQ(r.outcomes[1].status, "skipped");
    EXPECT_EQ(r.outcomes[1].error_message, "Did not run.");
    // The same tests after an interrupted run: no result means no time, not a decision.
    auto interrupted = parse_report(report, dir.path(), NotStarted::left_out).take_or_fatal();
    ASSERT_EQ(interrupted.outcomes.size(), 1u);
    EXPECT_EQ(interrupted.outcomes[0].status, "failed");
}

TEST(PlaywrightReport, InterruptedRunReQueuesSkippedResults) {
    TempDir dir;
    // A run that ended by itself: skipped tests (test.skip, fixme, after a serial failure) count.
    Json report = data_json("report.json");
    auto whole = parse_report(report, dir.path(), NotStarted::skipped).take_or_fatal();
    auto count = [](const ReportOutcomes& r, const std::string& status) {
        return std::count_if(r.outcomes.begin(), r.outcomes.end(),
                             [&](const TestOutcome& o) { return o.status == status; });
    };
    ASSERT_GT(count(whole, "skipped"), 0);
    // Stopped by our interrupt, a "skipped" result may be a test that had not started yet.
    auto stopped = parse_report(report, dir.path(), NotStarted::left_out).take_or_fatal();
    EXPECT_EQ(count(stopped, "skipped"), 0);
    EXPECT_EQ(count(stopped, "passed"), count(whole, "passed"));
    EXPECT_EQ(count(stopped, "failed"), count(whole, "failed"));
}

TEST(PlaywrightReport, TruncatesHugeErrorsAndRejectsOtherDocuments) {
    TempDir dir;
    Json report = data_json("report.json");
    for_each_spec_test(report, [&](const SpecTest& t) {
        for (auto& r : const_cast<Json&>(*t.test)["results"]) {
            for (auto& e : r["errors"]) e["message"] = std::string(100000, 'x') + "é";
        }
    });
    auto parsed = parse_report(report, dir.path(), NotStarted::skipped).take_or_fatal();
    for (const auto& o : parsed.outcomes) EXPECT_LT(o.error_message.size(), 17u * 1024);
    EXPECT_FALSE(parse_report(Json::array(), dir.path(), NotStarted::skipped));
    EXPECT_FALSE(
        parse_report(data_json("list-broken.json").at("errors"), dir.path(), NotStarted::skipped));
}

}  // namespace
}  // namespace hypertest::plugins::playwright
