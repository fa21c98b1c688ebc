#include "core/invoke.hpp"

#include <algorithm>
#include <cmath>
#include <regex>
#include <set>

#include <unistd.h>

#include "core/dispatch.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

namespace hypertest::core {
namespace {

using util::Fatal;

std::regex compile(const std::string& pattern, const char* flag) {
    try {
        return std::regex(pattern, std::regex::ECMAScript | std::regex::icase);
    } catch (const std::regex_error& e) {
        throw Fatal(std::string(flag) + " \"" + pattern + "\" is not a valid regular expression: " +
                    e.what());
    }
}

std::string grep_subject(const plugins::TestCase& t) {
    std::vector<std::string> parts = {t.project, t.file};
    parts.insert(parts.end(), t.title_path.begin(), t.title_path.end());
    parts.insert(parts.end(), t.tags.begin(), t.tags.end());
    return util::join(parts, " ");
}

// The timing history: last known duration per test and the learned start-up per invocation.
struct Timings {
    std::map<std::string, double> tests;
    std::optional<double> startup_ms;
};

Timings read_timings(Session& s) {
    Timings out;
    auto got = s.provider->storage().get(timings_key(s.config));
    if (!got || !*got) return out;
    auto j = util::parse_json(**got, "timing history");
    if (!j || !j->is_object()) return out;
    const Json tests = util::json_get<Json>(*j, "tests", Json::object());
    for (const auto& [id, v] : tests.items()) {
        if (v.is_number()) out.tests[id] = v.get<double>();
    }
    if (auto it = j->find("startupMs"); it != j->end() && it->is_number() && it->get<double>() >= 0)
        out.startup_ms = it->get<double>();
    return out;
}

void write_timings(Session& s, const RunSummary& run, const std::vector<double>& startup_samples) {
    auto history = read_timings(s);
    for (const auto& t : run.tests) {
        if (t.status == Status::success || t.status == Status::failed || t.status == Status::flaky) {
            if (t.duration_ms > 0) history.tests[t.test.id] = static_cast<double>(t.duration_ms);
        }
    }
    Json j = {{"version", 1}, {"tests", history.tests}};
    if (auto startup = learned_startup(history.startup_ms, startup_samples)) j["startupMs"] = *startup;
    if (auto st = s.provider->storage().put(timings_key(s.config), j.dump()); !st) {
        s.reporter->warn("could not update the timing history: " + st.error().message);
    }
}

// Fetches the batches' blob reports and merges them into one HTML report.
std::string merge_html(Session& s, const std::vector<std::string>& keys, const std::string& run_id) {
    if (keys.empty()) return "";
    fs::path blob_dir = s.config.project_dir / ".hypertest" / "tmp" / ("blobs-" + run_id);
    std::error_code ec;
    fs::remove_all(blob_dir, ec);
    if (!util::ensure_dir(blob_dir)) return "";
    int n = 0;
    for (const auto& key : keys) {
        auto got = s.provider->storage().get(key);
        if (!got || !*got) {
            s.reporter->warn("the HTML report lacks the batch report " + key + ": " +
                             (got ? std::string("not in storage") : got.error().message));
            continue;
        }
        if (auto w = util::write_file_atomic(blob_dir / ("report-" + std::to_string(++n) + ".zip"), **got); !w)
            s.reporter->warn("the HTML report lacks the batch report " + key + ": " + w.error().message);
    }
    fs::path out = s.cwd / s.config.html_report_dir;
    auto st = s.plugin->merge_reports(s.config.project_dir, blob_dir, out);
    fs::remove_all(blob_dir, ec);
    if (!st) {
        s.reporter->warn("could not build the HTML report: " + st.error().message);
        return "";
    }
    return (out / "index.html").string();
}

// Tests whose last result was failed or cancelled: they are what --last-failed runs again.
std::vector<std::string> not_passed(const RunSummary& run) {
    std::vector<std::string> ids;
    for (const auto& t : run.tests) {
        if (t.status == Status::failed || t.status == Status::cancelled) ids.push_back(t.test.id);
    }
    return ids;
}

void write_last_run(Session& s, const RunSummary& run) {
    Json j = {{"version", 1},
              {"runId", run.run_id},
              {"status", results_json(run)["status"]},
              {"resultsKey", run.run_id + "/" + s.config.results_file_name},
              {"failedTestIds", not_passed(run)}};
    if (auto st = s.provider->storage().put(last_run_key(s.config), j.dump(2)); !st) {
        s.reporter->warn("could not record the run for --last-failed: " + st.error().message);
    }
}

// The tests --last-failed selects; throws Fatal when no run was recorded.
std::vector<plugins::TestCase> last_failed(Session& s, const std::vector<plugins::TestCase>& tests) {
    std::string key = last_run_key(s.config);
    auto got = s.provider->storage().get(key);
    if (!got) throw Fatal("--last-failed: cannot read " + s.provider->storage().url(key) + ": " + got.error().message);
    if (!*got) {
        throw Fatal("--last-failed: no run of function \"" + s.config.function_name +
                    "\" was recorded yet (" + s.provider->storage().url(key) +
                    "): run the tests once without --last-failed");
    }
    auto j = util::parse_json(**got, s.provider->storage().url(key));
    if (!j || !j->is_object() || !j->contains("failedTestIds") || !(*j)["failedTestIds"].is_array()) {
        throw Fatal("--last-failed: " + s.provider->storage().url(key) +
                    " is damaged: run the tests once without --last-failed to rewrite it");
    }
    std::set<std::string> ids;
    for (const auto& id : (*j)["failedTestIds"]) {
        if (id.is_string()) ids.insert(id.get<std::string>());
    }
    std::vector<plugins::TestCase> out;
    for (const auto& t : tests) {
        if (ids.count(t.id)) out.push_back(t);
    }
    s.reporter->info("--last-failed: " + std::to_string(out.size()) + " tests that failed or were cancelled in run " +
                     util::json_get<std::string>(*j, "runId", "?"));
    return out;
}

void write_reports(Session& s, RunSummary& run) {
    Json results = results_json(run);
    std::string text = results.dump(2, ' ', false, Json::error_handler_t::replace);
    fs::path local = s.cwd / s.config.results_file_name;
    if (auto st = util::write_file_atomic(local, text); !st) {
        s.reporter->warn("could not write " + local.string() + ": " + st.error().message);
    }
    std::string key = run.run_id + "/" + s.config.results_file_name;
    if (auto st = s.provider->storage().put(key, text); !st) {
        s.reporter->warn("could not store the results: " + st.error().message);
    }
    fs::path junit = s.cwd / s.config.junit_file_name;
    if (auto st = util::write_file_atomic(junit, junit_xml(run)); !st) {
        s.reporter->warn("could not write " + junit.string() + ": " + st.error().message);
    }
}

}  // namespace

std::string last_run_key(const Config& c) { return "_hypertest/" + c.function_name + "/last-run.json"; }

std::vector<plugins::TestCase> select_tests(const std::vector<plugins::TestCase>& tests,
                                            const Options& o) {
    std::set<std::string> known_projects;
    for (const auto& t : tests) known_projects.insert(t.project);
    for (const auto& p : o.projects) {
        if (!known_projects.count(p)) {
            std::vector<std::string> names(known_projects.begin(), known_projects.end());
            throw Fatal("--project \"" + p + "\" matches no project" + util::did_you_mean_hint(p, names) +
                        "; projects: " + util::join(names, ", "));
        }
    }
    std::optional<std::regex> grep, invert;
    if (!o.grep.empty()) grep = compile(o.grep, "--grep");
    if (!o.grep_invert.empty()) invert = compile(o.grep_invert, "--grep-invert");
    std::vector<plugins::TestCase> out;
    for (const auto& t : tests) {
        if (!o.projects.empty() &&
            std::find(o.projects.begin(), o.projects.end(), t.project) == o.projects.end())
            continue;
        std::string subject = grep_subject(t);
        if (grep && !std::regex_search(subject, *grep)) continue;
        if (invert && std::regex_search(subject, *invert)) continue;
        out.push_back(t);
    }
    return out;
}

// Halfway, so one odd run (a cold account, a slow network) does not swing the next plan.
std::optional<double> learned_startup(std::optional<double> before, const std::vector<double>& samples) {
    if (samples.empty()) return before;
    double mean = 0;
    for (double v : samples) mean += v;
    mean /= static_cast<double>(samples.size());
    return std::round(before ? (*before + mean) / 2 : mean);
}

PlanInput plan_input(Session& s, const std::vector<plugins::TestCase>& tests,
                     const providers::FunctionState* state) {
    PlanInput in;
    in.tests = tests;
    in.concurrency = s.concurrency;
    Timings history = read_timings(s);
    in.durations_ms = std::move(history.tests);
    if (history.startup_ms) in.startup_ms = *history.startup_ms;
    estimate_unknown_tests(in);
    if (state) in.max_batch_ms = state->timeout_s * 1000.0 * 0.7;
    return in;
}

Plan plan_for(Session& s, const std::vector<plugins::TestCase>& tests) {
    auto state = s.provider->functions().state();
    return make_plan(plan_input(s, tests, state ? &*state : nullptr));
}

void check_drift(Session& s, const Manifest& m) {
    if (s.config.drift_policy == "silence") return;
    std::vector<std::string> problems;
    auto state = s.provider->functions().state();
    if (state && state->image_digest != m.image_digest) {
        problems.push_back("function \"" + s.config.function_name + "\" runs image " +
                           (state->image_digest.empty() ? "(none)" : state->image_digest) +
                           " but the manifest names " + m.image_digest);
    }
    if (!s.options.dry_run) {
        BuiltImage local = build_layers(s);
        if (local.inputs_hash != m.inputs_hash) {
            problems.push_back("the local tests or dependencies changed since the last deploy");
        }
    }
    if (problems.empty()) return;
    std::string msg = "drift: " + util::join(problems, "; ") + " (run `hypertest deploy`, or use `hypertest run`)";
    if (s.config.drift_policy == "error") throw Fatal(msg + "; driftDetectionPolicy is \"error\"");
    s.reporter->warn(msg);
}

int invoke(Session& s, const Manifest& m) {
    auto tests = select_tests(m.tests, s.options);
    if (tests.empty()) throw Fatal("no tests match the filters (--grep / --project)");
    if (s.options.last_failed) {
        tests = last_failed(s, tests);
        if (tests.empty()) {
            s.reporter->info("--last-failed: nothing to run again");
            return 0;
        }
    }
    // One look at the function and the history serves the plan, the dispatch and the summary.
    auto state = s.provider->functions().state();
    const providers::FunctionState* function = state ? &*state : nullptr;
    PlanInput planning = plan_input(s, tests, function);
    Plan plan = make_plan(planning);
    RunSummary run;
    run.run_id = util::make_run_id();
    run.provider = s.config.provider_name;
    run.function_name = s.config.function_name;
    run.image_digest = m.image_digest;
    run.concurrency = s.concurrency;
    run.fail_on_flaky = s.options.fail_on_flaky;
    run.start_ms = util::now_ms();
    if (s.options.dry_run) {
        s.reporter->info("dry run: would run " + std::to_string(tests.size()) + " tests in " +
                         std::to_string(plan.batches.size()) + " invocations (concurrency " +
                         std::to_string(s.concurrency) + "); nothing invoked, nothing written");
        return 0;
    }
    if (auto st = s.provider->storage().check_writable(); !st) throw Fatal(st.error().message);
    // The estimate is shown only when the history knows most of the tests; otherwise it would
    // be built on the 1 s default.
    std::size_t known = 0;
    for (const auto& t : tests) known += planning.durations_ms.count(t.id);
    double estimate = 2 * known >= tests.size() ? plan.makespan_ms : 0;
    s.reporter->run_start(static_cast<int>(tests.size()), static_cast<int>(plan.batches.size()),
                          s.concurrency, run.run_id, estimate);

    std::map<std::string, TestResult> results;
    for (const auto& t : tests) results[t.id].test = t;
    DispatchInput in;
    in.run_id = run.run_id;
    in.batches = plan.batches;
    in.concurrency = s.concurrency;
    in.invocation_retries = s.config.invocation_retries;
    in.retries = s.config.retries;
    // --max-failures, else the suite's own maxFailures: either counts across the whole run.
    in.max_failures = s.options.max_failures > 0 ? s.options.max_failures : m.max_failures;
    if (function) in.function_timeout = std::chrono::seconds(function->timeout_s);
    in.estimates = planning;
    in.suite_env = plugins::suite_environment(environ);
    in.estimates.tests.clear();  // only the durations are needed to split re-queued tests
    DispatchStats stats;
    try {
        stats = dispatch(s, in, results);
    } catch (...) {
        // Never lose a run: whatever finished is written before the error surfaces.
        for (const auto& t : tests) run.tests.push_back(results[t.id]);
        run.end_ms = util::now_ms();
        write_reports(s, run);
        throw;
    }
    s.provider->functions().shutdown();
    run.interrupted = interrupted();
    for (const auto& problem : check_final_statuses(tests, stats.final_reports, results)) {
        util::log_error("hypertest bug: " + problem);
        s.reporter->warn("hypertest bug (please report it): " + problem);
    }
    std::set<std::string> listed;
    for (const auto& t : tests) {
        if (listed.insert(t.id).second) run.tests.push_back(results[t.id]);
    }
    run.invocations = stats.invocations;
    run.concurrency_reached = stats.max_in_flight;
    int memory_mb = function ? function->memory_mb : 2048;
    run.billed_gb_seconds = stats.billed_ms / 1000.0 * memory_mb / 1024.0;
    run.junit_file = (s.cwd / s.config.junit_file_name).string();
    run.end_ms = util::now_ms();
    write_reports(s, run);
    if (!run.interrupted) {
        run.html_report = merge_html(s, stats.blob_report_keys, run.run_id);
        if (!run.html_report.empty()) write_reports(s, run);  // record the report's path
    }
    write_timings(s, run, stats.startup_samples_ms);
    write_last_run(s, run);
    s.reporter->run_end(run);
    if (!stats.suite_error.empty()) {
        // Not a test failure: the suite cannot start anywhere (config, globalSetup, webServer).
        s.reporter->warn("the test suite could not start; the run stopped (exit 2):\n" + stats.suite_error);
        return 2;
    }
    return exit_code_for(run);
}

}  // namespace hypertest::core
