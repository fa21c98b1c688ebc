#include "plugins/model.hpp"

#include <algorithm>
#include <regex>
#include <set>

#include "util/sha256.hpp"
#include "util/strings.hpp"

namespace hypertest::plugins {

using util::json_get;

std::string TestCase::display_name() const {
    std::string name = file;
    for (const auto& t : title_path) name += " › " + t;
    return project.empty() ? name : "[" + project + "] " + name;
}

std::string make_test_id(const std::string& project, const std::string& file,
                         const std::vector<std::string>& title_path) {
    std::string key = project + '\x1f' + file;
    for (const auto& t : title_path) key += '\x1f' + t;
    return util::sha256_hex(key).substr(0, 20);
}

Json to_json(const TestCase& t) {
    Json j = {{"id", t.id},       {"file", t.file}, {"titlePath", t.title_path},
              {"project", t.project}, {"line", t.line}, {"column", t.column},
              {"tags", t.tags}};
    if (!t.group.empty()) j["group"] = t.group;
    j["order"] = t.order;
    return j;
}

util::Result<TestCase> test_case_from_json(const Json& j) {
    if (!j.is_object() || !j.contains("id") || !j.contains("file"))
        return util::make_error("test case without id or file");
    TestCase t;
    t.id = json_get<std::string>(j, "id", "");
    t.file = json_get<std::string>(j, "file", "");
    t.title_path = json_get<std::vector<std::string>>(j, "titlePath", {});
    t.project = json_get<std::string>(j, "project", "");
    t.line = json_get<int>(j, "line", 0);
    t.column = json_get<int>(j, "column", 0);
    t.tags = json_get<std::vector<std::string>>(j, "tags", {});
    t.group = json_get<std::string>(j, "group", "");
    t.order = json_get<int>(j, "order", 0);
    return t;
}

Json to_json(const InvocationEvent& e) {
    Json tests = Json::array();
    for (const auto& t : e.tests) tests.push_back(to_json(t));
    return {{"version", 1},
            {"runId", e.run_id},
            {"invocationId", e.invocation_id},
            {"attempt", e.attempt},
            {"plugin", e.plugin},
            {"pluginOptions", e.plugin_options},
            {"tests", tests},
            {"storage",
             {{"kind", e.storage.kind},
              {"root", e.storage.root},
              {"bucket", e.storage.bucket},
              {"region", e.storage.region},
              {"prefix", e.storage.prefix}}},
            {"deadlineMs", e.deadline_ms},
            {"env", e.env},
            {"maxFailures", e.max_failures}};
}

util::Result<InvocationEvent> invocation_event_from_json(const Json& j) {
    if (!j.is_object()) return util::make_error("invocation event is not a JSON object");
    if (json_get<int>(j, "version", 0) != 1)
        return util::make_error("invocation event has an unsupported version (expected 1)");
    InvocationEvent e;
    e.run_id = json_get<std::string>(j, "runId", "");
    e.invocation_id = json_get<std::string>(j, "invocationId", "");
    e.attempt = json_get<int>(j, "attempt", 1);
    e.plugin = json_get<std::string>(j, "plugin", "");
    e.plugin_options = json_get<Json>(j, "pluginOptions", Json::object());
    e.deadline_ms = json_get<std::int64_t>(j, "deadlineMs", 0);
    e.max_failures = std::max(0, json_get<int>(j, "maxFailures", 0));
    if (auto env = j.find("env"); env != j.end() && env->is_object()) {
        for (const auto& [name, value] : env->items())
            if (value.is_string() && !name.empty() && name.find('=') == std::string::npos)
                e.env[name] = value.get<std::string>();
    }
    if (e.run_id.empty() || e.plugin.empty())
        return util::make_error("invocation event lacks runId or plugin");
    for (const auto& tj : json_get<Json>(j, "tests", Json::array())) {
        auto t = test_case_from_json(tj);
        if (!t) return t.error();
        e.tests.push_back(std::move(*t));
    }
    Json s = json_get<Json>(j, "storage", Json::object());
    e.storage.kind = json_get<std::string>(s, "kind", "local");
    e.storage.root = json_get<std::string>(s, "root", "");
    e.storage.bucket = json_get<std::string>(s, "bucket", "");
    e.storage.region = json_get<std::string>(s, "region", "");
    e.storage.prefix = json_get<std::string>(s, "prefix", "");
    return e;
}

Json to_json(const TestOutcome& o) {
    Json j = {{"id", o.id},
              {"status", o.status},
              {"frameworkStatus", o.framework_status},
              {"durationMs", o.duration_ms},
              {"startMs", o.start_ms},
              {"retry", o.retry},
              {"artifacts", o.artifact_keys}};
    if (!o.error_message.empty() || !o.error_stack.empty()) {
        j["error"] = {{"message", o.error_message},
                      {"stack", o.error_stack},
                      {"location", o.error_location}};
    }
    return j;
}

util::Result<TestOutcome> test_outcome_from_json(const Json& j) {
    if (!j.is_object() || !j.contains("id") || !j.contains("status"))
        return util::make_error("test outcome without id or status");
    TestOutcome o;
    o.id = json_get<std::string>(j, "id", "");
    o.status = json_get<std::string>(j, "status", "");
    if (o.status != "passed" && o.status != "failed" && o.status != "skipped" &&
        o.status != "flaky")
        return util::make_error("test outcome has unknown status '" + o.status + "'");
    // The answer comes from inside the function, where tests run: only plausible values pass.
    o.framework_status = json_get<std::string>(j, "frameworkStatus", "");
    static const std::regex status_word("[A-Za-z]{1,32}");
    if (!std::regex_match(o.framework_status, status_word)) o.framework_status.clear();
    constexpr std::int64_t k_day_ms = 24LL * 3600 * 1000;
    o.duration_ms = std::clamp<std::int64_t>(json_get<std::int64_t>(j, "durationMs", 0), 0, k_day_ms);
    o.start_ms = std::clamp<std::int64_t>(json_get<std::int64_t>(j, "startMs", 0), 0, 100 * 365 * k_day_ms);
    o.retry = json_get<int>(j, "retry", 0);
    o.artifact_keys = json_get<std::vector<std::string>>(j, "artifacts", {});
    Json err = json_get<Json>(j, "error", Json::object());
    o.error_message = json_get<std::string>(err, "message", "");
    o.error_stack = json_get<std::string>(err, "stack", "");
    o.error_location = json_get<std::string>(err, "location", "");
    return o;
}

Json to_json(const InvocationResult& r) {
    Json outcomes = Json::array();
    for (const auto& o : r.outcomes) outcomes.push_back(to_json(o));
    Json j = {{"version", 1},
              {"invocationId", r.invocation_id},
              {"outcomes", outcomes},
              {"blobReport", r.blob_report_key},
              {"runner",
               {{"version", r.runner_version},
                {"coldStart", r.cold_start},
                {"initMs", r.init_ms},
                {"durationMs", r.duration_ms}}}};
    if (!r.error.empty()) j["error"] = r.error;
    if (!r.log_tail.empty()) j["logTail"] = r.log_tail;
    if (r.suite_error) j["suiteError"] = true;
    return j;
}

util::Result<InvocationResult> invocation_result_from_json(const Json& j) {
    if (!j.is_object() || json_get<int>(j, "version", 0) != 1 || !j.contains("outcomes"))
        return util::make_error("function answer is not a hypertest invocation result");
    InvocationResult r;
    r.invocation_id = json_get<std::string>(j, "invocationId", "");
    r.blob_report_key = json_get<std::string>(j, "blobReport", "");
    Json runner = json_get<Json>(j, "runner", Json::object());
    r.runner_version = json_get<std::string>(runner, "version", "");
    r.cold_start = json_get<bool>(runner, "coldStart", false);
    r.init_ms = json_get<std::int64_t>(runner, "initMs", 0);
    r.duration_ms = json_get<std::int64_t>(runner, "durationMs", 0);
    r.error = json_get<std::string>(j, "error", "");
    r.log_tail = json_get<std::string>(j, "logTail", "");
    r.suite_error = json_get<bool>(j, "suiteError", false);
    if (!j["outcomes"].is_array()) return util::make_error("function answer: outcomes is not a list");
    for (const auto& oj : j["outcomes"]) {
        auto o = test_outcome_from_json(oj);
        if (!o) return util::make_error("function answer: " + o.error().message);
        r.outcomes.push_back(std::move(*o));
    }
    return r;
}

std::string answer_key_problem(std::string_view key, std::string_view prefix) {
    if (key.size() > 1024) return "longer than 1024 bytes";
    if (!util::starts_with(key, prefix)) return "not below " + std::string(prefix);
    for (char c : key) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '\\')
            return "holds a control character or a backslash";
    }
    for (const auto& part : util::split(key, '/')) {
        if (part.empty() || part == "." || part == "..") return "holds an empty, \".\" or \"..\" part";
    }
    return "";
}

namespace {

bool machine_specific(const std::string& name) {
    static const std::set<std::string> exact = {
        "PATH", "HOME", "PWD", "OLDPWD", "SHELL", "SHLVL", "USER", "LOGNAME", "MAIL", "HOSTNAME",
        "TMPDIR", "TMP", "TEMP", "LANG", "LANGUAGE", "TERM", "COLORTERM", "DISPLAY", "WAYLAND_DISPLAY",
        "DBUS_SESSION_BUS_ADDRESS", "GPG_AGENT_INFO", "_", "PLAYWRIGHT_BROWSERS_PATH",
        "PLAYWRIGHT_HTML_OUTPUT_DIR", "PLAYWRIGHT_HTML_OPEN"};
    static const std::vector<std::string> prefixes = {
        "AWS_", "HYPERTEST_", "HT_", "LAMBDA_", "_X_AMZN", "LD_", "LC_", "XDG_", "SSH_",
        "PLAYWRIGHT_JSON_", "PLAYWRIGHT_BLOB_", "npm_", "TERM_"};
    if (exact.count(name)) return true;
    for (const auto& p : prefixes)
        if (name.rfind(p, 0) == 0) return true;
    return false;
}

}  // namespace

std::map<std::string, std::string> suite_environment(char** environ_vars, std::size_t max_bytes) {
    std::map<std::string, std::string> env;
    std::size_t total = 0;
    for (char** v = environ_vars; v && *v; ++v) {
        std::string entry = *v;
        auto eq = entry.find('=');
        if (eq == std::string::npos || eq == 0) continue;
        std::string name = entry.substr(0, eq);
        if (machine_specific(name) || total + entry.size() > max_bytes) continue;
        total += entry.size();
        env[name] = entry.substr(eq + 1);
    }
    return env;
}

}  // namespace hypertest::plugins
