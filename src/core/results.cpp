#include "core/results.hpp"

#include <map>
#include <set>
#include <sstream>

#include "util/strings.hpp"
#include "util/time.hpp"

namespace hypertest::core {

std::string to_string(Status s) {
    switch (s) {
        case Status::success: return "success";
        case Status::failed: return "failed";
        case Status::skipped: return "skipped";
        case Status::flaky: return "flaky";
        case Status::cancelled: return "cancelled";
    }
    return "failed";
}

int RunSummary::count(Status s) const {
    int n = 0;
    for (const auto& t : tests) n += t.status == s ? 1 : 0;
    return n;
}

std::vector<std::string> check_final_statuses(const std::vector<plugins::TestCase>& selected,
                                              const std::map<std::string, int>& finals,
                                              std::map<std::string, TestResult>& results) {
    std::vector<std::string> problems;
    std::set<std::string> wanted;
    for (const auto& t : selected) {
        if (!wanted.insert(t.id).second) {
            problems.push_back("test id " + t.id + " was selected twice (" + t.display_name() + ")");
            continue;
        }
        auto f = finals.find(t.id);
        int n = f == finals.end() ? 0 : f->second;
        auto r = results.find(t.id);
        if (n == 1 && r != results.end()) continue;
        std::string what = n == 0 || r == results.end() ? "no final status"
                                                        : std::to_string(n) + " final statuses";
        problems.push_back(t.display_name() + ": " + what);
        TestResult& res = results[t.id];
        res.test = t;
        res.status = Status::failed;
        res.framework_status = "hypertestError";
        res.error_message = "hypertest bug: " + what;
        res.error_stack.clear();
    }
    for (auto it = results.begin(); it != results.end();) {
        if (wanted.count(it->first)) {
            ++it;
            continue;
        }
        problems.push_back("a result for test " + it->first + ", which was not selected, was dropped");
        it = results.erase(it);
    }
    return problems;
}

Json results_json(const RunSummary& run) {
    Json results = Json::array();
    for (const auto& t : run.tests) {
        Json r = {{"testId", t.test.id},
                  {"name", t.test.display_name()},
                  {"filePath", t.test.file},
                  {"project", t.test.project},
                  {"titlePath", t.test.title_path},
                  {"tags", t.test.tags},
                  {"line", t.test.line},
                  {"status", to_string(t.status)},
                  {"frameworkStatus", t.framework_status},
                  {"startDate", t.start_ms ? Json(util::iso8601_ms(t.start_ms)) : Json()},
                  {"endDate", t.end_ms ? Json(util::iso8601_ms(t.end_ms)) : Json()},
                  {"duration", t.duration_ms},
                  {"attempts", t.attempts},
                  {"artifacts", t.artifacts}};
        if (!t.error_message.empty() || !t.error_stack.empty()) {
            r["error"] = {{"message", t.error_message},
                          {"stackTrace", t.error_stack},
                          {"location", t.error_location}};
        }
        results.push_back(std::move(r));
    }
    std::string status = run.interrupted ? "interrupted" : exit_code_for(run) ? "failed" : "passed";
    return {{"version", 1},
            {"runId", run.run_id},
            {"status", status},
            {"startDate", util::iso8601_ms(run.start_ms)},
            {"endDate", util::iso8601_ms(run.end_ms)},
            {"duration", run.end_ms - run.start_ms},
            {"provider", run.provider},
            {"functionName", run.function_name},
            {"imageDigest", run.image_digest},
            {"tests",
             {{"total", run.tests.size()},
              {"success", run.count(Status::success)},
              {"skipped", run.count(Status::skipped)},
              {"failed", run.count(Status::failed)},
              {"flaky", run.count(Status::flaky)},
              {"cancelled", run.count(Status::cancelled)}}},
            {"invocations", run.invocations},
            {"concurrency", run.concurrency},
            {"concurrencyReached", run.concurrency_reached},
            {"billedGbSeconds", run.billed_gb_seconds},
            {"estimatedCostUsd", run.estimated_cost_usd},
            {"htmlReport", run.html_report},
            {"junitFile", run.junit_file},
            {"testResults", results}};
}

std::string junit_xml(const RunSummary& run) {
    // One <testsuite> per file (and project), like Playwright's own JUnit reporter.
    std::map<std::string, std::vector<const TestResult*>> suites;
    for (const auto& t : run.tests) {
        std::string key = t.test.project.empty() ? t.test.file : "[" + t.test.project + "] " + t.test.file;
        suites[key].push_back(&t);
    }
    auto secs = [](std::int64_t ms) {
        std::ostringstream s;
        s.precision(3);
        s << std::fixed << static_cast<double>(ms) / 1000.0;
        return s.str();
    };
    std::ostringstream x;
    x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    int failures = run.count(Status::failed) + run.count(Status::cancelled);
    x << "<testsuites name=\"hypertest\" tests=\"" << run.tests.size() << "\" failures=\""
      << failures << "\" skipped=\"" << run.count(Status::skipped) << "\" errors=\"0\" time=\""
      << secs(run.end_ms - run.start_ms) << "\">\n";
    for (const auto& [name, tests] : suites) {
        int f = 0, s = 0;
        std::int64_t total = 0;
        for (const auto* t : tests) {
            f += (t->status == Status::failed || t->status == Status::cancelled) ? 1 : 0;
            s += t->status == Status::skipped ? 1 : 0;
            total += t->duration_ms;
        }
        x << "  <testsuite name=\"" << util::xml_escape(name) << "\" tests=\"" << tests.size()
          << "\" failures=\"" << f << "\" skipped=\"" << s << "\" errors=\"0\" time=\""
          << secs(total) << "\">\n";
        for (const auto* t : tests) {
            std::vector<std::string> titles = t->test.title_path;
            x << "    <testcase name=\"" << util::xml_escape(util::join(titles, " › "))
              << "\" classname=\"" << util::xml_escape(name) << "\" time=\"" << secs(t->duration_ms)
              << "\">\n";
            if (t->status == Status::skipped) {
                x << "      <skipped/>\n";
            } else if (t->status == Status::failed || t->status == Status::cancelled) {
                std::string msg = t->status == Status::cancelled ? "cancelled" : t->error_message;
                x << "      <failure message=\"" << util::xml_escape(util::truncate_utf8(msg, 1000))
                  << "\" type=\"" << util::xml_escape(t->framework_status.empty() ? "failed" : t->framework_status)
                  << "\">" << util::xml_escape(t->error_stack.empty() ? msg : t->error_stack)
                  << "</failure>\n";
            }
            if (t->status == Status::flaky) {
                x << "      <system-out>flaky: passed after " << t->attempts
                  << " attempts</system-out>\n";
            }
            x << "    </testcase>\n";
        }
        x << "  </testsuite>\n";
    }
    x << "</testsuites>\n";
    return x.str();
}

int exit_code_for(const RunSummary& run) {
    if (run.interrupted) return 130;
    if (run.count(Status::failed) || run.count(Status::cancelled)) return 1;
    if (run.fail_on_flaky && run.count(Status::flaky)) return 1;
    return 0;
}

}  // namespace hypertest::core
