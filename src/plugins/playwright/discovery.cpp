#include "plugins/playwright/discovery.hpp"

#include <algorithm>
#include <map>

#include "util/strings.hpp"

namespace hypertest::plugins::playwright {
namespace {

using util::json_get;

constexpr const char* k_separator = " › ";

// The array under `key`, by reference (json_get copies), or an empty one.
const Json& array_at(const Json& j, const char* key) {
    static const Json k_empty = Json::array();
    if (!j.is_object()) return k_empty;
    auto it = j.find(key);
    return it != j.end() && it->is_array() ? *it : k_empty;
}

void walk_suite(const Json& suite, const std::string& file, std::vector<std::string> titles,
                const std::function<void(const SpecTest&)>& visit) {
    for (const auto& spec : array_at(suite, "specs")) {
        SpecTest t;
        t.spec = &spec;
        t.file = json_get<std::string>(spec, "file", file);
        t.title_path = titles;
        t.title_path.push_back(json_get<std::string>(spec, "title", ""));
        for (const auto& test : array_at(spec, "tests")) {
            t.test = &test;
            t.project = json_get<std::string>(test, "projectName", "");
            visit(t);
        }
    }
    for (const auto& child : array_at(suite, "suites")) {
        auto child_titles = titles;
        // Anonymous describes have no title and are not part of Playwright's title path.
        std::string title = json_get<std::string>(child, "title", "");
        if (!title.empty()) child_titles.push_back(title);
        walk_suite(child, file, std::move(child_titles), visit);
    }
}

// Absolute paths in Playwright's messages, made relative to the project for the user.
std::string relative_paths(std::string text, const std::string& base_dir) {
    if (base_dir.empty()) return text;
    std::string prefix = base_dir + "/";
    for (auto pos = text.find(prefix); pos != std::string::npos; pos = text.find(prefix, pos))
        text.erase(pos, prefix.size());
    return text;
}

std::string describe_load_errors(const Json& document) {
    Json config = json_get<Json>(document, "config", Json::object());
    std::string base = fs::path(json_get<std::string>(config, "configFile", "")).parent_path();
    std::vector<std::string> lines;
    for (const auto& e : json_get<Json>(document, "errors", Json::array())) {
        std::string message = util::trim(util::strip_ansi(json_get<std::string>(e, "message", "")));
        if (message == "Error: No tests found") continue;  // a consequence of the others
        Json loc = json_get<Json>(e, "location", Json::object());
        std::string where = json_get<std::string>(loc, "file", "");
        if (!where.empty()) {
            where = relative_paths(where, base) + ":" +
                    std::to_string(json_get<int>(loc, "line", 0)) + ":" +
                    std::to_string(json_get<int>(loc, "column", 0)) + ": ";
        }
        std::string line = where + relative_paths(message, base);
        std::string snippet = util::strip_ansi(json_get<std::string>(e, "snippet", ""));
        if (!snippet.empty()) line += "\n" + relative_paths(snippet, base);
        lines.push_back(line);
    }
    if (lines.empty()) {
        return "Playwright found no tests in " +
               json_get<std::string>(config, "rootDir", "the project") +
               " (check testDir and testMatch in the Playwright config)";
    }
    return "Playwright could not load the tests:\n" + util::join(lines, "\n");
}

// The outermost serial describe the test sits in, as "line:column"; empty when none.
std::string serial_scope(const Json& test) {
    std::pair<int, int> best{0, 0};
    for (const auto& a : json_get<Json>(test, "annotations", Json::array())) {
        if (json_get<std::string>(a, "type", "") != "serial") continue;
        Json loc = json_get<Json>(a, "location", Json::object());
        std::pair<int, int> at{json_get<int>(loc, "line", 0), json_get<int>(loc, "column", 0)};
        if (best.first == 0 || at < best) best = at;
    }
    if (best.first == 0) return {};
    return std::to_string(best.first) + ":" + std::to_string(best.second);
}

std::string group_of(const SpecTest& t, bool fully_parallel) {
    std::string where = "[" + t.project + "] " + t.file;
    // Default mode: Playwright runs a file's tests in one worker, in order.
    if (!fully_parallel) return "file:" + where;
    std::string scope = serial_scope(*t.test);
    return scope.empty() ? std::string() : "serial:" + where + ":" + scope;
}

TestCase make_case(const SpecTest& t, bool fully_parallel) {
    TestCase c;
    c.id = spec_test_id(t);
    c.file = t.file;
    c.title_path = t.title_path;
    c.project = t.project;
    c.line = json_get<int>(*t.spec, "line", 0);
    c.column = json_get<int>(*t.spec, "column", 0);
    // The JSON drops the '@' users write; keep the written form.
    for (const auto& tag : json_get<std::vector<std::string>>(*t.spec, "tags", {}))
        c.tags.push_back(util::starts_with(tag, "@") ? tag : "@" + tag);
    c.group = group_of(t, fully_parallel);
    return c;
}

// JSON may follow whatever the config printed to stdout; the reporter starts it at a line's
// beginning with the "config" key.
std::string_view json_part(std::string_view out) {
    auto pos = out.find("{\n  \"config\"");
    return pos == std::string_view::npos ? out : out.substr(pos);
}

// The diagnosis without Node's stack frames, shortened in the middle when long.
std::string head_and_tail(const std::string& text) {
    std::vector<std::string> lines;
    for (auto& line : util::split(util::trim(util::strip_ansi(text)), '\n')) {
        if (!util::starts_with(util::trim(line), "at ")) lines.push_back(std::move(line));
    }
    if (lines.size() <= 20) return util::join(lines, "\n");
    std::vector<std::string> kept(lines.begin(), lines.begin() + 12);
    kept.push_back("…");
    kept.insert(kept.end(), lines.end() - 6, lines.end());
    return util::join(kept, "\n");
}

}  // namespace

void for_each_spec_test(const Json& document, const std::function<void(const SpecTest&)>& visit) {
    for (const auto& file_suite : array_at(document, "suites")) {
        std::string file = json_get<std::string>(file_suite, "file", "");
        walk_suite(file_suite, file, {}, visit);
    }
}

std::string spec_test_id(const SpecTest& t) {
    return make_test_id(t.project, t.file, t.title_path);
}

util::Result<Discovery> parse_list_json(const Json& document, std::optional<bool> fully_parallel) {
    if (!document.is_object() || !document.contains("config"))
        return util::make_error("Playwright's --list output is not its JSON report");
    Json config = json_get<Json>(document, "config", Json::object());
    bool parallel = fully_parallel.value_or(json_get<bool>(config, "fullyParallel", false));
    if (!json_get<Json>(document, "errors", Json::array()).empty())
        return util::make_error(describe_load_errors(document));

    // Per file, in Playwright's file order; inside a file, source order. A suite lists its own
    // specs before its child suites, so document order is not source order.
    std::vector<std::string> files;
    std::map<std::string, std::vector<TestCase>> by_file;
    for_each_spec_test(document, [&](const SpecTest& t) {
        auto [it, added] = by_file.try_emplace(t.file);
        if (added) files.push_back(t.file);
        it->second.push_back(make_case(t, parallel));
    });
    Discovery d;
    d.framework_version = json_get<std::string>(config, "version", "");
    d.max_failures = std::max(0, json_get<int>(config, "maxFailures", 0));
    for (const auto& file : files) {
        auto& cases = by_file[file];
        std::stable_sort(cases.begin(), cases.end(), [](const TestCase& a, const TestCase& b) {
            return std::pair(a.line, a.column) < std::pair(b.line, b.column);
        });
        for (auto& c : cases) {
            c.order = static_cast<int>(d.tests.size());
            d.tests.push_back(std::move(c));
        }
    }
    if (d.tests.empty()) return util::make_error(describe_load_errors(document));
    return d;
}

util::Result<Discovery> discover_tests(util::ProcessRunner& processes, const fs::path& project_dir,
                                       const Options& options) {
    auto cli = locate_cli(project_dir);
    if (!cli) return cli.error();
    util::ProcessSpec spec;
    spec.argv = {"node", cli->string(), "test", "--list", "--reporter=json"};
    if (!options.config.empty()) {
        spec.argv.push_back("--config");
        spec.argv.push_back(options.config);
    }
    spec.cwd = project_dir;
    spec.env_set = {{"FORCE_COLOR", "0"}};
    // The JSON must come to stdout, whatever the user's shell has set.
    spec.env_unset = {"PLAYWRIGHT_JSON_OUTPUT_NAME", "PLAYWRIGHT_JSON_OUTPUT_FILE",
                      "PLAYWRIGHT_JSON_OUTPUT_DIR"};
    spec.timeout = std::chrono::minutes(5);
    auto run = processes.run(spec);
    if (!run) {
        return util::make_error(
            "cannot run Playwright with node (is Node.js installed and on "
            "PATH?): " +
            run.error().message);
    }
    if (run->timed_out) return util::make_error("listing the Playwright tests took over 5 minutes");
    auto doc = util::parse_json(json_part(run->out), "playwright --list output");
    if (!doc || !doc->is_object() || !doc->contains("config")) {
        std::string detail = head_and_tail(run->err.empty() ? run->out : run->err);
        return util::make_error("Playwright did not list the tests (exit code " +
                                std::to_string(run->exit_code) + ")" +
                                (detail.empty() ? std::string() : ":\n" + detail));
    }
    return parse_list_json(*doc, options.fully_parallel);
}

std::string test_list_line(const TestCase& t) {
    std::string line = "[" + t.project + "]" + k_separator + t.file;
    for (const auto& title : t.title_path) {
        bool writable = !title.empty() && title == util::trim(title) &&
                        title.find("›") == std::string::npos &&
                        title.find_first_of("\r\n") == std::string::npos;
        if (!writable) break;
        line += k_separator + title;
    }
    return line;
}

}  // namespace hypertest::plugins::playwright
