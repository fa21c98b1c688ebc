#include "plugins/playwright/playwright_plugin.hpp"

#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <thread>

#include "plugins/playwright/blob_combine.hpp"
#include "plugins/playwright/discovery.hpp"
#include "plugins/playwright/options.hpp"
#include "plugins/playwright/report.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

namespace hypertest::plugins {
namespace {

using namespace playwright;

constexpr std::int64_t k_interrupt_before_deadline_ms = 5000;
constexpr std::int64_t k_kill_after_interrupt_ms = 3000;
constexpr std::size_t k_log_tail_lines = 40;

const std::vector<std::string> k_dependency_files = {"node_modules",      "package.json",
                                                     "package-lock.json", "npm-shrinkwrap.json",
                                                     "yarn.lock",         "pnpm-lock.yaml"};
// Playwright's own outputs never go into the image (hypertest's are dropped by core's deploy).
const std::set<std::string> k_never_shipped = {"test-results", "playwright-report", "blob-report"};

std::string last_lines(const std::string& text, std::size_t count) {
    auto lines = util::split(util::strip_ansi(text), '\n');
    while (!lines.empty() && util::trim(lines.back()).empty()) lines.pop_back();
    if (lines.size() > count) lines.erase(lines.begin(), lines.end() - static_cast<long>(count));
    return util::join(lines, "\n");
}

std::string read_or_empty(const fs::path& path) {
    auto text = util::read_file(path);
    return text ? *text : std::string();
}

util::Status write_test_list(const fs::path& file, const std::vector<TestCase>& tests) {
    std::set<std::string> seen;
    std::string content;
    for (const auto& t : tests) {
        std::string line = test_list_line(t);
        if (seen.insert(line).second) content += line + "\n";
    }
    return util::write_file_atomic(file, content);
}

// Playwright's version from the package.json beside its cli.js: {major, minor}, {0, 0} unknown.
std::pair<int, int> playwright_version(const fs::path& cli) {
    auto text = util::read_file(cli.parent_path() / "package.json");
    auto pkg = text ? util::parse_json(*text, "package.json") : util::Result<Json>(util::make_error(""));
    if (!pkg) return {0, 0};
    auto parts = util::split(util::json_get<std::string>(*pkg, "version", ""), '.');
    if (parts.size() < 2) return {0, 0};
    return {std::atoi(parts[0].c_str()), std::atoi(parts[1].c_str())};
}

// Before --test-list (Playwright 1.56), tests are picked by location: "file:line" filters (the
// file part is a regular expression over the absolute path, anchored here to the file's end)
// and --project for each project. A line with several tests selects them all; only the batch's
// own tests are reported.
std::vector<std::string> location_filters(const std::vector<TestCase>& tests) {
    std::set<std::string> projects, locations;
    for (const auto& t : tests) {
        if (!t.project.empty()) projects.insert(t.project);
        std::string re = "/";
        for (char c : t.file) {
            if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) re += '\\';
            re += c;
        }
        locations.insert(re + "$:" + std::to_string(t.line));
    }
    std::vector<std::string> args;
    for (const auto& p : projects) args.push_back("--project=" + p);
    args.insert(args.end(), locations.begin(), locations.end());
    return args;
}

util::ProcessSpec batch_spec(const BatchRequest& req, const fs::path& cli, const Options& options) {
    const fs::path& w = req.work_dir;
    util::ProcessSpec spec;
    spec.argv = {"node", cli.string(), "test"};
    if (!options.config.empty()) spec.argv.insert(spec.argv.end(), {"--config", options.config});
    // An unknown version is taken for a current one.
    auto version = playwright_version(cli);
    bool known = version.first > 0;
    if (!known || version >= std::pair{1, 56}) {
        spec.argv.insert(spec.argv.end(), {"--test-list", (w / "test-list.txt").string()});
    } else {
        auto filters = location_filters(req.tests);
        spec.argv.insert(spec.argv.end(), filters.begin(), filters.end());
    }
    // The blob reporter (for the merged HTML report) came with Playwright 1.37.
    spec.argv.push_back(!known || version >= std::pair{1, 37} ? "--reporter=json,blob" : "--reporter=json");
    spec.argv.insert(spec.argv.end(),
                     {"--output", (w / "test-results").string(), "--retries=0",
                      // The suite's maxFailures counts across the whole run: a batch gets
                      // what is left of it (0: none), the dispatcher stops the rest.
                      "--max-failures=" + std::to_string(req.max_failures),
                      "--workers=" + std::to_string(options.workers)});
    spec.cwd = req.task_root;
    spec.kill_with_parent = true;
    for (const auto& [name, value] : req.env)
        if (!std::getenv(name.c_str())) spec.env_set[name] = value;
    std::map<std::string, std::string> own = {{"PLAYWRIGHT_JSON_OUTPUT_NAME", (w / "report.json").string()},
                    {"PLAYWRIGHT_BLOB_OUTPUT_FILE", (w / "blob" / "report.zip").string()},
                    {"HOME", (w / "home").string()},
                    {"TMPDIR", (w / "tmp").string()},
                    {"HT_TEST_ARTIFACTS_OUTPUT_PATH", (w / "artifacts").string()},
                    {"FORCE_COLOR", "0"}};
    for (auto& [name, value] : own) spec.env_set[name] = std::move(value);
    spec.env_unset = {"PLAYWRIGHT_JSON_OUTPUT_FILE", "PLAYWRIGHT_JSON_OUTPUT_DIR",
                      "PLAYWRIGHT_BLOB_OUTPUT_DIR", "PLAYWRIGHT_BLOB_OUTPUT_NAME"};
    spec.stdout_file = w / "playwright.stdout.log";
    spec.stderr_file = w / "playwright.stderr.log";
    return spec;
}

struct RunEnd {
    int exit_code = 0;
    bool interrupted = false;  // stopped by us before the deadline
};

// Runs to the end, or interrupts Playwright (SIGINT, so it still writes its reports) a few
// seconds before the deadline and kills the group if it does not stop.
util::Result<RunEnd> run_until_deadline(const util::ProcessSpec& spec, std::int64_t deadline_ms) {
    std::int64_t interrupt_at = deadline_ms > 0 ? deadline_ms - k_interrupt_before_deadline_ms : 0;
    if (interrupt_at > 0 && util::now_ms() >= interrupt_at) {
        return util::make_error("only " + std::to_string(deadline_ms - util::now_ms()) +
                                " ms were left before the invocation's deadline: too little to run "
                                "Playwright");
    }
    auto child = util::Child::spawn(spec);
    if (!child) {
        return util::make_error(
            "cannot run Playwright with node (is Node.js installed and on "
            "PATH?): " +
            child.error().message);
    }
    RunEnd end;
    bool killed = false;
    while (!(*child)->poll()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        std::int64_t now = util::now_ms();
        if (interrupt_at > 0 && !end.interrupted && now >= interrupt_at) {
            end.interrupted = true;
            (*child)->kill_group(SIGINT);
        }
        if (end.interrupted && !killed && now >= interrupt_at + k_kill_after_interrupt_ms) {
            killed = true;
            (*child)->kill_group(SIGKILL);
        }
    }
    end.exit_code = (*child)->wait();
    return end;
}

std::vector<TestOutcome> batch_outcomes(std::vector<TestOutcome> all,
                                        const std::vector<TestCase>& tests) {
    // A line that had to stop at a describe also ran its neighbours: keep the batch's tests only.
    std::set<std::string> wanted;
    for (const auto& t : tests) wanted.insert(t.id);
    std::vector<TestOutcome> kept;
    for (auto& o : all) {
        if (wanted.erase(o.id)) kept.push_back(std::move(o));
    }
    return kept;
}

void collect_report(const BatchRequest& req, const RunEnd& end, BatchOutcome& out) {
    const fs::path report_file = req.work_dir / "report.json";
    std::string exit_text = "exit code " + std::to_string(end.exit_code);
    std::error_code ec;
    if (!fs::exists(report_file, ec)) {
        out.error = "Playwright wrote no JSON report (" + exit_text + ")";
        return;
    }
    auto text = util::read_file(report_file);
    if (!text) {
        out.error = text.error().message;
        return;
    }
    auto doc = util::parse_json(*text, "Playwright JSON report");
    // Only a run that ended on its own says which tests Playwright decided not to run.
    bool ended_by_itself = !end.interrupted && (end.exit_code == 0 || end.exit_code == 1);
    auto parsed = doc ? parse_report(*doc, req.work_dir / "attachments",
                                     ended_by_itself ? NotStarted::skipped : NotStarted::left_out)
                      : doc.error();
    if (!parsed) {
        out.error = parsed.error().message;
        return;
    }
    // Stopping at the batch's share of maxFailures is what we asked for, not an error.
    if (req.max_failures > 0) {
        auto& errors = parsed->errors;
        errors.erase(std::remove_if(errors.begin(), errors.end(),
                                    [](const std::string& e) {
                                        return e.rfind("Testing stopped early after", 0) == 0;
                                    }),
                     errors.end());
    }
    // Errors before any test started: the config, globalSetup or webServer failed, which
    // every invocation would repeat. Its tests did not run for that reason alone.
    out.suite_error = !parsed->errors.empty() && !end.interrupted && parsed->started == 0;
    if (!out.suite_error) out.outcomes = batch_outcomes(std::move(parsed->outcomes), req.tests);
    if (fs::exists(req.work_dir / "blob" / "report.zip", ec))
        out.blob_report = req.work_dir / "blob" / "report.zip";
    if (!parsed->errors.empty()) {
        out.error = "Playwright reported: " + util::join(parsed->errors, "\n");
    } else if (end.interrupted) {
        out.error = "Playwright was interrupted " +
                    std::to_string(k_interrupt_before_deadline_ms / 1000) +
                    " s before the invocation's deadline";
    } else if (end.exit_code != 0 && end.exit_code != 1) {
        out.error = "Playwright ended with " + exit_text;
    }
}

std::vector<fs::path> blob_files(const fs::path& dir) {
    std::vector<fs::path> blobs;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->path().extension() == ".zip" && it->is_regular_file(ec))
            blobs.push_back(it->path());
    }
    std::sort(blobs.begin(), blobs.end());
    return blobs;
}

// The directory merge-reports reads: one combined blob when there are several (so that a test
// retried in another invocation shows once, with its retries), else `blob_dir` itself.
fs::path blobs_to_merge(const fs::path& blob_dir, const fs::path& combined_dir) {
    auto blobs = blob_files(blob_dir);
    if (blobs.size() < 2) return blob_dir;
    std::error_code ec;
    fs::remove_all(combined_dir, ec);
    auto combined = combine_blobs(blobs, combined_dir / "report.zip");
    if (combined) return combined_dir;
    util::log_warn("cannot combine the blob reports (" + combined.error().message +
                   "): the HTML report shows each attempt of a retried test as a separate test");
    return blob_dir;
}

class PlaywrightPlugin : public Plugin {
  public:
    explicit PlaywrightPlugin(std::shared_ptr<util::ProcessRunner> processes)
        : m_processes(std::move(processes)) {}

    std::string name() const override { return "playwright"; }

    util::Result<Discovery> discover(const DiscoverRequest& request) override {
        auto options = parse_options(request.options);
        if (!options) return options.error();
        return discover_tests(*m_processes, request.project_dir, *options);
    }

    util::Result<LayerInputs> layer_inputs(const fs::path& project_dir, const Json&) override {
        std::error_code ec;
        fs::directory_iterator it(project_dir, ec);
        if (ec)
            return util::make_error("cannot list " + project_dir.string() + ": " + ec.message());
        LayerInputs inputs;
        for (const auto& entry : it) {
            std::string name = entry.path().filename().string();
            if (k_never_shipped.count(name)) continue;
            bool dependency = std::find(k_dependency_files.begin(), k_dependency_files.end(),
                                        name) != k_dependency_files.end();
            (dependency ? inputs.dependencies : inputs.tests).push_back(name);
        }
        inputs.skip = output_folders(project_dir);
        std::sort(inputs.dependencies.begin(), inputs.dependencies.end());
        std::sort(inputs.tests.begin(), inputs.tests.end());
        return inputs;
    }

    util::Status merge_reports(const fs::path& project_dir, const fs::path& blob_dir,
                               const fs::path& out_dir) override;
    std::vector<Json> init_option_choices(const fs::path& project_dir) override {
        std::vector<Json> out;
        for (const auto& c : config_candidates(project_dir)) out.push_back(Json{{"config", c}});
        return out;
    }
    BatchOutcome run_batch(const BatchRequest& request) override;

  private:
    std::shared_ptr<util::ProcessRunner> m_processes;
};

util::Status PlaywrightPlugin::merge_reports(const fs::path& project_dir, const fs::path& blob_dir,
                                             const fs::path& out_dir) {
    auto cli = locate_cli(project_dir);
    if (!cli) return cli.error();
    // merge-reports empties its output folder first: never one that holds something else.
    std::error_code ec;
    if (fs::is_directory(out_dir, ec) && !fs::is_empty(out_dir, ec) && !is_html_report(out_dir)) {
        return util::make_error(out_dir.string() + " holds files that are not a Playwright HTML report, which "
                                "merge-reports would delete; set htmlReportDir to a folder of its own, e.g. "
                                "\"hypertest-report\"");
    }
    if (auto s = util::ensure_dir(out_dir); !s) return s;
    // merge-reports extracts the blobs into the directory it reads: a subdirectory of blob_dir
    // that it would not take for a blob.
    const fs::path combined_dir = fs::absolute(blob_dir) / "hypertest-combined";
    fs::path merge_dir = blobs_to_merge(fs::absolute(blob_dir), combined_dir);
    util::ProcessSpec spec;
    spec.argv = {"node", cli->string(), "merge-reports", "--reporter=html", merge_dir.string()};
    spec.cwd = project_dir;
    spec.env_set = {{"PLAYWRIGHT_HTML_OUTPUT_DIR", fs::absolute(out_dir).string()},
                    {"PLAYWRIGHT_HTML_OPEN", "never"},
                    {"FORCE_COLOR", "0"}};
    spec.timeout = std::chrono::minutes(10);
    auto run = m_processes->run(spec);
    fs::remove_all(combined_dir, ec);
    if (!run)
        return util::make_error("cannot run Playwright's merge-reports: " + run.error().message);
    if (run->exit_code != 0) {
        return util::make_error("Playwright's merge-reports failed (exit code " +
                                std::to_string(run->exit_code) + "):\n" +
                                last_lines(run->err + run->out, 15));
    }
    return util::ok_status();
}

BatchOutcome PlaywrightPlugin::run_batch(const BatchRequest& req) {
    BatchOutcome out;
    auto options = parse_options(req.options);
    auto cli = locate_cli(req.task_root);
    if (!options || !cli) {
        out.error = !options ? options.error().message : cli.error().message;
        return out;
    }
    for (const char* dir : {"home", "tmp", "artifacts", "attachments", "blob"}) {
        if (auto s = util::ensure_dir(req.work_dir / dir); !s) {
            out.error = s.error().message;
            return out;
        }
    }
    if (auto s = write_test_list(req.work_dir / "test-list.txt", req.tests); !s) {
        out.error = s.error().message;
        return out;
    }
    util::ProcessSpec spec = batch_spec(req, *cli, *options);
    auto end = run_until_deadline(spec, req.deadline_ms);
    out.log_tail = last_lines(read_or_empty(*spec.stdout_file) + read_or_empty(*spec.stderr_file),
                              k_log_tail_lines);
    if (!end) {
        out.error = end.error().message;
        return out;
    }
    out.test_artifacts_dir = req.work_dir / "artifacts";
    collect_report(req, *end, out);
    return out;
}

}  // namespace

std::unique_ptr<Plugin> make_playwright_plugin(std::shared_ptr<util::ProcessRunner> processes) {
    return std::make_unique<PlaywrightPlugin>(std::move(processes));
}

std::vector<std::string> playwright_option_keys() { return playwright::option_keys(); }

}  // namespace hypertest::plugins
