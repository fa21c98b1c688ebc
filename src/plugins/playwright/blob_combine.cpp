#include "plugins/playwright/blob_combine.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <string_view>

#include "util/json.hpp"

namespace hypertest::plugins::playwright {
namespace {

using util::Json;

// Events merge-reports takes from every blob and merges itself; all others concern one test.
const std::set<std::string> k_run_events = {"onBlobReportMetadata", "onConfigure", "onProject",
                                            "onBegin", "onEnd"};

struct Report {
    std::string name;  // for messages
    Json metadata;
    Json config = Json::object();
    std::vector<Json> projects;
    Json end;                              // onEnd's result; null when the blob has none
    std::vector<std::string> test_events;  // the other lines, unparsed
    double start_time = std::numeric_limits<double>::infinity();
};

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// A line can only be event `method` if it names it; other lines stay unparsed.
bool may_be(std::string_view line, std::string_view method) {
    return line.find(method) != std::string_view::npos;
}

util::Result<Json> parse_event(std::string_view line, const std::string& what) {
    auto j = util::parse_json(line, what);
    if (!j) return j.error();
    if (!j->is_object() || !(*j)["method"].is_string())
        return util::make_error(what + ": a line is not a reporter event");
    return j;
}

// Keeps what merge-reports would take from run event `event` (parsed from `line`).
util::Status take_run_event(Report& r, Json& event, std::string_view line) {
    const std::string method = event["method"];
    const Json& params = event["params"];
    if (method == "onBlobReportMetadata") {
        int version = util::json_get<int>(params, "version", 0);
        if (version != k_blob_report_version) {
            return util::make_error(r.name + " has blob format version " + std::to_string(version) +
                                    "; hypertest combines version " +
                                    std::to_string(k_blob_report_version));
        }
        r.metadata = params;
    } else if (method == "onConfigure") {
        r.config = util::json_get<Json>(params, "config", Json::object());
    } else if (method == "onProject") {
        r.projects.push_back(util::json_get<Json>(params, "project", Json::object()));
    } else if (method == "onEnd") {
        r.end = util::json_get<Json>(params, "result", Json());
        r.start_time = util::json_get<double>(r.end, "startTime", r.start_time);
    } else if (method != "onBegin") {
        r.test_events.emplace_back(line);  // a test event that merely mentions a run event
    }
    return util::ok_status();
}

util::Result<Report> parse_report(const std::string& text, std::size_t index) {
    Report r;
    r.name = "blob report " + std::to_string(index + 1);
    bool first = true;
    for (std::size_t at = 0, nl = 0; at < text.size(); at = nl + 1) {
        nl = std::min(text.find('\n', at), text.size());
        std::string_view line(text.data() + at, nl - at);
        if (line.empty()) continue;
        bool run_event = std::any_of(k_run_events.begin(), k_run_events.end(),
                                     [&](const std::string& m) { return may_be(line, m); });
        if (!run_event && !first) {
            r.test_events.emplace_back(line);
            continue;
        }
        auto event = parse_event(line, r.name);
        if (!event) return event.error();
        if (first && (*event)["method"] != "onBlobReportMetadata")
            return util::make_error(r.name + " does not start with Playwright's blob metadata");
        first = false;
        if (auto s = take_run_event(r, *event, line); !s) return s.error();
    }
    if (first) return util::make_error(r.name + " is empty");
    return r;
}

// Adds the suites and tests of `from` missing in `to` (entries lists of a project or suite).
// Suites match by title, as merge-reports matches them; a test id is the same in every blob.
void merge_entries(Json& to, const Json& from, std::set<std::string>& test_ids) {
    for (const auto& entry : from) {
        if (entry.contains("testId")) {
            if (test_ids.insert(util::json_get<std::string>(entry, "testId", "")).second)
                to.push_back(entry);
            continue;
        }
        auto same = std::find_if(to.begin(), to.end(), [&](const Json& e) {
            return !e.contains("testId") && e.value("title", "") == entry.value("title", "");
        });
        if (same == to.end()) {
            Json suite = entry;
            suite["entries"] = Json::array();
            to.push_back(std::move(suite));
            same = to.end() - 1;
        }
        if (!(*same)["entries"].is_array()) (*same)["entries"] = Json::array();
        merge_entries((*same)["entries"], entry.value("entries", Json::array()), test_ids);
    }
}

// One project per name, holding every test any blob listed for it, in first-seen order.
std::vector<Json> merge_projects(const std::vector<Report>& reports) {
    std::vector<Json> projects;
    std::map<std::string, std::size_t> by_name;
    std::set<std::string> test_ids;
    for (const auto& r : reports) {
        for (const auto& p : r.projects) {
            std::string name = p.value("name", "");
            auto [it, added] = by_name.emplace(name, projects.size());
            if (added) {
                projects.push_back(p);
                projects.back()["suites"] = Json::array();
            }
            merge_entries(projects[it->second]["suites"], p.value("suites", Json::array()),
                          test_ids);
        }
    }
    return projects;
}

// As merge-reports merges configs: workers add up, later values win, no shard.
Json merge_configs(const std::vector<Report>& reports) {
    Json config = reports.front().config;
    int workers = 0;
    int actual_workers = 0;
    Json metadata = Json::object();
    for (const auto& r : reports) {
        workers += util::json_get<int>(r.config, "workers", 0);
        Json m = util::json_get<Json>(r.config, "metadata", Json::object());
        actual_workers += util::json_get<int>(m, "actualWorkers", 0);
        if (m.is_object()) metadata.update(m);
    }
    metadata["actualWorkers"] = actual_workers;
    config["metadata"] = metadata;
    config["workers"] = workers;
    config["shard"] = nullptr;
    return config;
}

// As merge-reports merges run results: the worst status, from the first start to the last end.
Json merge_ends(const std::vector<Report>& reports) {
    const std::vector<std::string> worse_first = {"failed", "timedout", "interrupted"};
    std::size_t worst = worse_first.size();
    double start = std::numeric_limits<double>::infinity();
    double end = 0;
    for (const auto& r : reports) {
        if (!r.end.is_object()) continue;
        std::string status = util::json_get<std::string>(r.end, "status", "passed");
        auto at = std::find(worse_first.begin(), worse_first.end(), status);
        worst = std::min(worst, static_cast<std::size_t>(at - worse_first.begin()));
        double s = util::json_get<double>(r.end, "startTime", 0);
        start = std::min(start, s);
        end = std::max(end, s + util::json_get<double>(r.end, "duration", 0));
    }
    if (start > end) start = end;
    return {{"status", worst < worse_first.size() ? worse_first[worst] : "passed"},
            {"startTime", start},
            {"duration", end - start}};
}

// Appends the blobs' test events in order; the n-th start of a test becomes its retry n.
util::Status append_test_events(const std::vector<Report>& reports, std::string& out) {
    std::map<std::string, int> attempts;  // by test id
    int worker_base = 0;  // worker indexes of later blobs follow those of earlier ones
    for (const auto& report : reports) {
        int max_worker = 0;
        for (const auto& line : report.test_events) {
            if (!may_be(line, "onTestBegin")) {
                out += line + "\n";
                continue;
            }
            auto event = parse_event(line, report.name);
            if (!event) return event.error();
            Json& params = (*event)["params"];
            if ((*event)["method"] != "onTestBegin" || !params.is_object() ||
                !params["result"].is_object()) {
                out += line + "\n";
                continue;
            }
            Json& result = params["result"];
            result["retry"] = attempts[util::json_get<std::string>(params, "testId", "")]++;
            int worker = util::json_get<int>(result, "workerIndex", 0);
            max_worker = std::max(max_worker, worker);
            result["workerIndex"] = worker + worker_base;
            out += dump(*event) + "\n";
        }
        worker_base += max_worker + 1;
    }
    return util::ok_status();
}

}  // namespace

util::Result<std::string> combine_blob_events(const std::vector<std::string>& texts) {
    if (texts.empty()) return util::make_error("no blob reports to combine");
    std::vector<Report> reports;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        auto r = parse_report(texts[i], i);
        if (!r) return r.error();
        reports.push_back(std::move(*r));
    }
    // Invocation order: a retry starts after the invocation of the attempt before it ended.
    std::stable_sort(reports.begin(), reports.end(),
                     [](const Report& a, const Report& b) { return a.start_time < b.start_time; });

    Json metadata = reports.front().metadata;
    metadata.erase("shard");
    std::string out = dump({{"method", "onBlobReportMetadata"}, {"params", metadata}}) + "\n";
    out +=
        dump({{"method", "onConfigure"}, {"params", {{"config", merge_configs(reports)}}}}) + "\n";
    for (const auto& p : merge_projects(reports))
        out += dump({{"method", "onProject"}, {"params", {{"project", p}}}}) + "\n";
    out += dump({{"method", "onBegin"}}) + "\n";

    if (auto s = append_test_events(reports, out); !s) return s.error();
    out += dump({{"method", "onEnd"}, {"params", {{"result", merge_ends(reports)}}}}) + "\n";
    return out;
}

}  // namespace hypertest::plugins::playwright
