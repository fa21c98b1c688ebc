#include "plugins/playwright/report.hpp"

#include <fstream>

#include "plugins/playwright/discovery.hpp"
#include "util/base64.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

namespace hypertest::plugins::playwright {
namespace {

using util::json_get;

constexpr std::size_t k_max_error_bytes = 16 * 1024;

std::string extension_for(const std::string& content_type) {
    static const std::pair<const char*, const char*> k_types[] = {
        {"image/png", ".png"},   {"image/jpeg", ".jpg"},      {"text/plain", ".txt"},
        {"text/html", ".html"},  {"text/markdown", ".md"},    {"application/json", ".json"},
        {"video/webm", ".webm"}, {"application/zip", ".zip"},
    };
    for (const auto& [type, ext] : k_types) {
        if (util::starts_with(content_type, type)) return ext;
    }
    return ".bin";
}

std::string safe_file_name(const std::string& name) {
    std::string out;
    for (char c : name) {
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '_' || c == '.';
        out.push_back(plain ? c : '_');
        if (out.size() >= 60) break;
    }
    return out.empty() ? "attachment" : out;
}

std::vector<Attachment> attachments_of(const Json& result, const std::string& id,
                                       const fs::path& dir) {
    std::vector<Attachment> out;
    int index = 0;
    for (const auto& a : json_get<Json>(result, "attachments", Json::array())) {
        Attachment att;
        att.name = json_get<std::string>(a, "name", "attachment");
        att.content_type = json_get<std::string>(a, "contentType", "application/octet-stream");
        std::string path = json_get<std::string>(a, "path", "");
        std::string body = json_get<std::string>(a, "body", "");
        ++index;
        if (!path.empty()) {
            std::error_code ec;
            if (!fs::is_regular_file(path, ec)) continue;  // e.g. a trace that was not kept
            att.path = path;
        } else if (!body.empty()) {
            att.path = dir / (id + "-" + std::to_string(index) + "-" + safe_file_name(att.name) +
                              extension_for(att.content_type));
            auto bytes = util::base64_decode(body);
            if (!bytes) {
                util::log_warn("attachment \"" + att.name + "\" of " + id +
                               " left out: " + bytes.error().message);
                continue;
            }
            if (!util::write_file_atomic(att.path, *bytes)) continue;
        } else {
            continue;
        }
        out.push_back(std::move(att));
    }
    return out;
}

std::string location_text(const Json& loc, const std::string& root_dir) {
    std::string file = json_get<std::string>(loc, "file", "");
    if (file.empty()) return {};
    if (!root_dir.empty() && util::starts_with(file, root_dir + "/"))
        file = file.substr(root_dir.size() + 1);
    return file + ":" + std::to_string(json_get<int>(loc, "line", 0)) + ":" +
           std::to_string(json_get<int>(loc, "column", 0));
}

void fill_error(TestOutcome& o, const Json& test, const Json& result, const std::string& root_dir) {
    std::vector<std::string> messages;
    std::string location;
    for (const auto& e : json_get<Json>(result, "errors", Json::array())) {
        messages.push_back(util::strip_ansi(json_get<std::string>(e, "message", "")));
        if (location.empty())
            location = location_text(json_get<Json>(e, "location", Json()), root_dir);
    }
    Json error = json_get<Json>(result, "error", Json::object());
    std::string stack = util::strip_ansi(json_get<std::string>(error, "stack", ""));
    Json error_location = json_get<Json>(result, "errorLocation", Json());
    if (!error_location.is_null()) location = location_text(error_location, root_dir);

    std::string last = json_get<std::string>(result, "status", "");
    if (messages.empty() && o.status == "failed") {
        // Playwright records no error for these; its list reporter prints these words.
        if (last == "passed" && json_get<std::string>(test, "expectedStatus", "") == "failed")
            messages.push_back("Expected to fail, but passed.");
        else if (last == "interrupted")
            messages.push_back("Test was interrupted before it finished.");
    }
    o.error_message = util::truncate_utf8(util::join(messages, "\n\n"), k_max_error_bytes);
    o.error_stack = util::truncate_utf8(stack, k_max_error_bytes);
    o.error_location = location;
}

std::string framework_status(const Json& test, const std::string& last_result) {
    if (last_result == "timedOut" || last_result == "interrupted") return last_result;
    return json_get<std::string>(test, "status", "");
}

}  // namespace

std::string outcome_status(const Json& test) {
    std::string status = json_get<std::string>(test, "status", "");
    Json results = json_get<Json>(test, "results", Json::array());
    std::string last = results.empty() ? "" : json_get<std::string>(results.back(), "status", "");
    if (status == "expected") return last == "skipped" ? "skipped" : "passed";
    if (status == "flaky") return "flaky";
    if (status == "skipped") return last == "interrupted" ? "failed" : "skipped";
    return "failed";
}

namespace {

TestOutcome outcome_of(const SpecTest& t, const Json& results, const std::string& root_dir,
                       const fs::path& attachments_dir) {
    const Json& last = results.back();
    TestOutcome o;
    o.id = spec_test_id(t);
    o.status = outcome_status(*t.test);
    std::string last_status = json_get<std::string>(last, "status", "");
    o.framework_status = framework_status(*t.test, last_status);
    o.duration_ms = static_cast<std::int64_t>(json_get<double>(last, "duration", 0));
    std::int64_t start = util::parse_iso8601_ms(json_get<std::string>(last, "startTime", ""));
    o.start_ms = start < 0 ? 0 : start;
    o.retry = json_get<int>(last, "retry", 0);
    if (o.status == "failed") fill_error(o, *t.test, last, root_dir);
    // A flaky test passed in the end; what failed before is the interesting part.
    if (o.status == "flaky") {
        for (const auto& r : results) {
            if (!json_get<Json>(r, "errors", Json::array()).empty())
                fill_error(o, *t.test, r, root_dir);
        }
    }
    o.attachments = attachments_of(last, o.id, attachments_dir);
    return o;
}

}  // namespace

util::Result<ReportOutcomes> parse_report(const Json& report, const fs::path& attachments_dir,
                                          NotStarted not_started) {
    if (!report.is_object() || !report.contains("suites") || !report.contains("config"))
        return util::make_error("the file is not a Playwright JSON report");
    std::string root_dir = json_get<std::string>(report["config"], "rootDir", "");
    ReportOutcomes out;
    for (const auto& e : json_get<Json>(report, "errors", Json::array()))
        out.errors.push_back(util::trim(util::strip_ansi(json_get<std::string>(e, "message", ""))));

    for_each_spec_test(report, [&](const SpecTest& t) {
        Json results = json_get<Json>(*t.test, "results", Json::array());
        if (results.empty()) {
            if (not_started == NotStarted::skipped) {
                TestOutcome o;
                o.id = spec_test_id(t);
                o.status = o.framework_status = "skipped";
                o.error_message = "Did not run.";  // Playwright's words for these
                out.outcomes.push_back(std::move(o));
            }
            return;
        }
        ++out.started;
        TestOutcome o = outcome_of(t, results, root_dir, attachments_dir);
        // Stopped by our deadline interrupt: a test Playwright reports as skipped may simply not
        // have started (still in worker or fixture set-up). Leave it out so it is re-queued.
        if (not_started == NotStarted::left_out && o.status == "skipped") return;
        out.outcomes.push_back(std::move(o));
    });
    return out;
}

}  // namespace hypertest::plugins::playwright
