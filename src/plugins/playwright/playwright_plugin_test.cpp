#include "plugins/playwright/playwright_plugin.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <map>
#include <set>

#include "plugins/playwright/discovery.hpp"
#include "plugins/playwright/test_support.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

namespace hypertest::plugins::playwright {
namespace {

using namespace testing;

// Stands in for Playwright's cli.js: records how it was started, then acts out HT_FAKE_PW_MODE.
constexpr const char* k_fake_cli = R"JS(
const fs = require('fs');
const path = require('path');
const out = process.env.PLAYWRIGHT_JSON_OUTPUT_NAME;
const env = {};
for (const k of ['HOME', 'TMPDIR', 'CI', 'SUITE_SETTING', 'FORCE_COLOR', 'HT_TEST_ARTIFACTS_OUTPUT_PATH',
                 'PLAYWRIGHT_BLOB_OUTPUT_FILE']) env[k] = process.env[k];
fs.writeFileSync(path.join(path.dirname(out), 'fake-call.json'),
                 JSON.stringify({argv: process.argv.slice(2), cwd: process.cwd(), env}));
const finish = (code) => {
  fs.copyFileSync(process.env.HT_FAKE_PW_REPORT, out);
  fs.writeFileSync(process.env.PLAYWRIGHT_BLOB_OUTPUT_FILE, 'zip');
  process.exit(code);
};
console.log('Running 6 tests using 1 worker');
const mode = process.env.HT_FAKE_PW_MODE;
if (mode === 'report') finish(1);
if (mode === 'crash') { console.error('Error: the worker crashed'); process.exit(3); }
if (mode === 'hang') process.on('SIGINT', () => finish(130));
if (mode === 'deaf') process.on('SIGINT', () => {});
setInterval(() => {}, 1000);
)JS";

class PlaywrightRunBatch : public ::testing::Test {
  protected:
    void SetUp() override {
        if (util::find_in_path("node").empty()) GTEST_SKIP() << "node is not installed";
        install_fake_playwright(m_task.path(), k_fake_cli);
        ::setenv("HT_FAKE_PW_REPORT", (data_dir() / "report.json").c_str(), 1);
        auto all = parse_list_json(data_json("list.json"), std::nullopt).take_or_fatal().tests;
        for (const auto& t : all) {
            if (t.project == "alpha" &&
                (t.file == "basic.spec.ts" || t.title_path.back() == "has a › separator inside"))
                m_tests.push_back(t);
        }
    }
    void TearDown() override {
        ::unsetenv("HT_FAKE_PW_MODE");
        ::unsetenv("HT_FAKE_PW_REPORT");
    }

    BatchOutcome run(const std::string& mode, std::int64_t deadline_ms = 0) {
        ::setenv("HT_FAKE_PW_MODE", mode.c_str(), 1);
        BatchRequest req;
        req.task_root = m_task.path();
        req.tests = m_tests;
        req.work_dir = m_work.path();
        req.deadline_ms = deadline_ms;
        req.options = Json{{"workers", 2}};
        // From the shell that ran hypertest; HOME is the runner's own and must stay so.
        req.env = {{"SUITE_SETTING", "from-shell"}, {"HOME", "/home/someone"}};
        return make_playwright_plugin(std::make_shared<FakeProcessRunner>())->run_batch(req);
    }

    TempDir m_task, m_work;
    std::vector<TestCase> m_tests;
};

TEST_F(PlaywrightRunBatch, RunsTheTestListAndKeepsTheBatchsOutcomes) {
    BatchOutcome out = run("report");
    EXPECT_EQ(out.error, "");
    std::set<std::string> want, got;
    for (const auto& t : m_tests) want.insert(t.id);
    for (const auto& o : out.outcomes) got.insert(o.id);
    EXPECT_EQ(got, want);  // the report holds all 78 tests; the batch has 6
    EXPECT_EQ(out.blob_report, m_work.path() / "blob/report.zip");
    EXPECT_EQ(out.test_artifacts_dir, m_work.path() / "artifacts");
    EXPECT_NE(out.log_tail.find("Running 6 tests using 1 worker"), std::string::npos);

    std::string list = util::read_file(m_work.path() / "test-list.txt").take_or_fatal();
    EXPECT_NE(list.find("[alpha] › basic.spec.ts › times out\n"), std::string::npos);
    EXPECT_NE(list.find("[alpha] › titles.spec.ts › odd \"titles\"\n"), std::string::npos);
    Json call =
        util::parse_json(util::read_file(m_work.path() / "fake-call.json").take_or_fatal(), "call")
            .take_or_fatal();
    const fs::path& w = m_work.path();
    EXPECT_EQ(call["argv"],
              Json({"test", "--test-list", (w / "test-list.txt").string(), "--reporter=json,blob",
                    "--output", (w / "test-results").string(), "--retries=0", "--max-failures=0",
                    "--workers=2"}));
    EXPECT_EQ(call["cwd"], m_task.path().string());
    EXPECT_EQ(call["env"]["HOME"], (w / "home").string());
    EXPECT_EQ(call["env"]["TMPDIR"], (w / "tmp").string());
    EXPECT_EQ(call["env"]["HT_TEST_ARTIFACTS_OUTPUT_PATH"], (w / "artifacts").string());
    EXPECT_EQ(call["env"]["SUITE_SETTING"], "from-shell");  // nothing invented, e.g. no CI=1
    EXPECT_EQ(call["env"]["FORCE_COLOR"], "0");
    EXPECT_TRUE(fs::is_directory(w / "home"));
}

// Before Playwright 1.56 there is no --test-list: tests are picked by file:line and project.
TEST_F(PlaywrightRunBatch, OlderPlaywrightSelectsByLocation) {
    install_fake_playwright(m_task.path(), k_fake_cli, "1.51.1");
    run("report");
    Json call =
        util::parse_json(util::read_file(m_work.path() / "fake-call.json").take_or_fatal(), "call")
            .take_or_fatal();
    std::vector<std::string> argv = call["argv"];
    EXPECT_EQ(std::count(argv.begin(), argv.end(), "--test-list"), 0);
    EXPECT_EQ(std::count(argv.begin(), argv.end(), "--project=alpha"), 1);
    std::set<std::string> locations;
    for (const auto& t : m_tests) {
        std::string re = "/";
        for (char c : t.file) re += c == '.' ? std::string("\\.") : std::string(1, c);
        locations.insert(re + "$:" + std::to_string(t.line));
    }
    for (const auto& l : locations) EXPECT_EQ(std::count(argv.begin(), argv.end(), l), 1) << l;
}

TEST_F(PlaywrightRunBatch, InterruptsBeforeTheDeadlineAndKeepsTheReport) {
    auto start = std::chrono::steady_clock::now();
    BatchOutcome out = run("hang", util::now_ms() + 6500);
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GT(took, std::chrono::milliseconds(1200));
    EXPECT_LT(took, std::chrono::milliseconds(4000));
    EXPECT_NE(out.error.find("interrupted 5 s before the invocation's deadline"), std::string::npos)
        << out.error;
    EXPECT_EQ(out.outcomes.size(), m_tests.size());
}

TEST_F(PlaywrightRunBatch, KillsPlaywrightThatIgnoresTheInterrupt) {
    auto start = std::chrono::steady_clock::now();
    BatchOutcome out = run("deaf", util::now_ms() + 5500);
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GT(took, std::chrono::milliseconds(3000));
    EXPECT_LT(took, std::chrono::milliseconds(6000));
    EXPECT_TRUE(out.outcomes.empty());
    EXPECT_NE(out.error.find("wrote no JSON report"), std::string::npos) << out.error;
}

TEST_F(PlaywrightRunBatch, ReportsACrashWithTheLogTail) {
    BatchOutcome out = run("crash");
    EXPECT_TRUE(out.outcomes.empty());
    EXPECT_EQ(out.error, "Playwright wrote no JSON report (exit code 3)");
    EXPECT_NE(out.log_tail.find("Error: the worker crashed"), std::string::npos) << out.log_tail;
}

TEST_F(PlaywrightRunBatch, RefusesToStartTooCloseToTheDeadline) {
    BatchOutcome out = run("report", util::now_ms() + 3000);
    EXPECT_NE(out.error.find("too little to run Playwright"), std::string::npos) << out.error;
    EXPECT_FALSE(fs::exists(m_work.path() / "fake-call.json"));
}

TEST(PlaywrightMergeReports, RunsMergeReportsIntoTheOutputDir) {
    TempDir project;
    install_fake_playwright(project.path());
    auto runner = std::make_shared<FakeProcessRunner>();
    runner->result.exit_code = 0;
    auto plugin = make_playwright_plugin(runner);
    ASSERT_TRUE(
        plugin->merge_reports(project.path(), project.path() / "blobs", project.path() / "html"));
    const auto& spec = runner->calls.at(0);
    EXPECT_EQ(spec.argv,
              (std::vector<std::string>{
                  "node", (project.path() / "node_modules/@playwright/test/cli.js").string(),
                  "merge-reports", "--reporter=html", (project.path() / "blobs").string()}));
    EXPECT_EQ(spec.cwd, project.path());
    EXPECT_EQ(spec.env_set.at("PLAYWRIGHT_HTML_OUTPUT_DIR"), (project.path() / "html").string());
    EXPECT_EQ(spec.env_set.at("PLAYWRIGHT_HTML_OPEN"), "never");

    runner->result.exit_code = 1;
    runner->result.err = "Error: no report files found";
    auto failed =
        plugin->merge_reports(project.path(), project.path() / "blobs", project.path() / "html");
    ASSERT_FALSE(failed);
    EXPECT_NE(failed.error().message.find("no report files found"), std::string::npos);
}

// merge-reports empties its output folder: one that holds the user's own files is left alone.
TEST(PlaywrightMergeReports, RefusesAnOutputFolderThatIsNotAReport) {
    TempDir project;
    install_fake_playwright(project.path());
    auto runner = std::make_shared<FakeProcessRunner>();
    runner->result.exit_code = 0;
    auto plugin = make_playwright_plugin(runner);
    ASSERT_TRUE(util::write_file_atomic(project.path() / "tests" / "a.spec.ts", "test"));
    auto refused = plugin->merge_reports(project.path(), project.path() / "blobs", project.path() / "tests");
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("not a Playwright HTML report"), std::string::npos);
    EXPECT_TRUE(runner->calls.empty());
    EXPECT_TRUE(fs::exists(project.path() / "tests" / "a.spec.ts"));
    // An earlier report is replaced as usual.
    ASSERT_TRUE(util::write_file_atomic(project.path() / "html" / "index.html",
                                        "<html><title>Playwright Test Report</title>"));
    EXPECT_TRUE(plugin->merge_reports(project.path(), project.path() / "blobs", project.path() / "html"));
    EXPECT_EQ(runner->calls.size(), 1u);
}

// Lists, when merge-reports would start, the files of the directory it is given.
class ListingRunner : public FakeProcessRunner {
  public:
    util::Result<util::ProcessResult> run(const util::ProcessSpec& spec) override {
        std::error_code ec;
        for (fs::directory_iterator it(spec.argv.back(), ec), end; !ec && it != end; ++it)
            listed.insert(it->path().filename().string());
        return FakeProcessRunner::run(spec);
    }
    std::set<std::string> listed;
};

TEST(PlaywrightMergeReports, CombinesSeveralBlobsIntoOneSoRetriesShowOnce) {
    TempDir project;
    install_fake_playwright(project.path());
    fs::path blobs = project / "blobs";
    fs::create_directories(blobs);
    for (int i = 1; i <= 3; ++i) {
        std::string name = "retry-attempt-" + std::to_string(i) + ".zip";
        fs::copy_file(data_dir() / name, blobs / ("report-" + std::to_string(i) + ".zip"));
    }
    auto runner = std::make_shared<ListingRunner>();
    runner->result.exit_code = 0;
    auto plugin = make_playwright_plugin(runner);
    ASSERT_TRUE(plugin->merge_reports(project.path(), blobs, project / "html"));
    fs::path read = runner->calls.at(0).argv.back();
    EXPECT_EQ(read.parent_path(), blobs);
    EXPECT_EQ(runner->listed, (std::set<std::string>{"report.zip"}));
    EXPECT_FALSE(fs::exists(read)) << "the combined blob outlives the merge";
    EXPECT_TRUE(fs::exists(blobs / "report-3.zip"));
}

TEST(PlaywrightMergeReports, MergesTheBlobsAsTheyAreWhenTheyCannotBeCombined) {
    TempDir project;
    install_fake_playwright(project.path());
    fs::path blobs = project / "blobs";
    fs::create_directories(blobs);
    fs::copy_file(data_dir() / "retry-attempt-1.zip", blobs / "report-1.zip");
    ASSERT_TRUE(util::write_file_atomic(blobs / "report-2.zip", "not a zip"));
    auto runner = std::make_shared<ListingRunner>();
    runner->result.exit_code = 0;
    auto plugin = make_playwright_plugin(runner);
    ASSERT_TRUE(plugin->merge_reports(project.path(), blobs, project / "html"));
    EXPECT_EQ(runner->calls.at(0).argv.back(), blobs.string());
    EXPECT_EQ(runner->listed.count("report-1.zip"), 1u);
    EXPECT_EQ(runner->listed.count("report-2.zip"), 1u);
}

std::set<std::string> tree(const fs::path& dir) {
    std::set<std::string> paths;
    for (const auto& e : fs::recursive_directory_iterator(dir)) paths.insert(e.path().string());
    return paths;
}

// Real Playwright and Chromium on the fixture (about 15 s): HT_PLAYWRIGHT_E2E=1 turns it on.
TEST(PlaywrightRealFixture, RunsABatchWithTheStatusesPlainPlaywrightGives) {
    fs::path fixture = fs::path(HT_SOURCE_DIR) / "tests/fixtures/playwright-statuses";
    if (!::getenv("HT_PLAYWRIGHT_E2E")) GTEST_SKIP() << "set HT_PLAYWRIGHT_E2E=1 to run";
    ASSERT_TRUE(fs::exists(fixture / "node_modules/@playwright/test/cli.js"))
        << "run scripts/setup.sh";
    auto plugin = make_playwright_plugin(util::make_process_runner());
    DiscoverRequest discover;
    discover.project_dir = fixture;
    auto found = plugin->discover(discover);
    ASSERT_TRUE(found) << found.error().message;
    EXPECT_EQ(found->tests.size(), 78u);

    TempDir task, work;
    fs::copy(fixture, task.path(), fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    fs::remove_all(task.path() / "test-results");
    auto before = tree(task.path());
    BatchRequest req;
    req.task_root = task.path();
    req.work_dir = work.path();
    req.options = Json{{"workers", 2}};
    for (const auto& t : found->tests) {
        if ((t.project == "alpha" &&
             (t.file == "basic.spec.ts" || t.file == "expected-failures.spec.ts")) ||
            (t.project == "beta" && t.title_path.back() == "has a › separator inside"))
            req.tests.push_back(t);
    }
    BatchOutcome out = plugin->run_batch(req);
    EXPECT_EQ(out.error, "") << out.log_tail;
    std::map<std::string, TestOutcome> by_title;
    for (const auto& o : out.outcomes) {
        for (const auto& t : req.tests) {
            if (t.id == o.id) by_title[t.title_path.back()] = o;
        }
    }
    EXPECT_EQ(by_title.size(), req.tests.size());
    EXPECT_EQ(out.outcomes.size(), req.tests.size());
    const std::map<std::string, std::string> expected = {
        {"passes with a page", "passed"},
        {"fails an expect", "failed"},
        {"throws an error", "failed"},
        {"times out", "failed"},
        {"passes without a page", "passed"},
        {"is expected to fail and fails", "passed"},
        {"is expected to fail but passes", "failed"},
        {"fails on the first attempt only", "failed"},
        {"has a › separator inside", "passed"}};
    for (const auto& [title, status] : expected) EXPECT_EQ(by_title[title].status, status) << title;
    EXPECT_EQ(by_title["times out"].framework_status, "timedOut");
    EXPECT_TRUE(fs::is_regular_file(out.blob_report));
    EXPECT_EQ(tree(task.path()), before);  // the task root is read-only in a function
}

}  // namespace
}  // namespace hypertest::plugins::playwright
