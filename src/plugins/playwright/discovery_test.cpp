#include "plugins/playwright/discovery.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "plugins/playwright/playwright_plugin.hpp"
#include "plugins/playwright/test_support.hpp"
#include "util/strings.hpp"

namespace hypertest::plugins::playwright {
namespace {

using namespace testing;

std::vector<TestCase> listed(std::optional<bool> fully_parallel = std::nullopt) {
    return parse_list_json(data_json("list.json"), fully_parallel).take_or_fatal().tests;
}

const TestCase& find(const std::vector<TestCase>& tests, const std::string& project,
                     const std::string& title) {
    auto it = std::find_if(tests.begin(), tests.end(), [&](const TestCase& t) {
        return t.project == project && t.title_path.back() == title;
    });
    if (it == tests.end()) throw std::runtime_error("no test " + title);
    return *it;
}

TEST(PlaywrightDiscovery, ListsOneCasePerSpecAndProject) {
    Json doc = data_json("list.json");
    int specs_times_projects = 0;
    for_each_spec_test(doc, [&](const SpecTest&) { ++specs_times_projects; });
    auto d = parse_list_json(doc, std::nullopt);
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->framework_version, "1.65.1");
    EXPECT_EQ(static_cast<int>(d->tests.size()), specs_times_projects);
    EXPECT_EQ(d->tests.size(), 78u);  // 39 tests in the fixture, projects alpha and beta
    std::set<std::string> ids;
    for (const auto& t : d->tests) {
        EXPECT_TRUE(t.project == "alpha" || t.project == "beta") << t.project;
        EXPECT_EQ(t.id, make_test_id(t.project, t.file, t.title_path));
        ids.insert(t.id);
    }
    EXPECT_EQ(ids.size(), d->tests.size());
}

TEST(PlaywrightDiscovery, KeepsTitlesFilesAndPositionsAsWritten) {
    auto tests = listed();
    const auto& quotes = find(tests, "beta", "has \"double quotes\"");
    EXPECT_EQ(quotes.file, "titles.spec.ts");
    EXPECT_EQ(quotes.title_path,
              (std::vector<std::string>{"odd \"titles\"", "has \"double quotes\""}));
    EXPECT_EQ(quotes.line, 4);
    EXPECT_EQ(quotes.column, 3);
    EXPECT_NO_THROW(find(tests, "alpha", "café, 日本語 and emoji 🚀"));
    EXPECT_NO_THROW(find(tests, "alpha", "costs $dollar and $(echo no)"));
    EXPECT_NO_THROW(find(tests, "alpha", "has `backticks`"));
    const auto& inner = find(tests, "alpha", "in the inner describe");
    EXPECT_EQ(inner.file, "nested/deeper/nested.spec.ts");
    EXPECT_EQ(inner.title_path,
              (std::vector<std::string>{"outer", "inner", "in the inner describe"}));
    EXPECT_EQ(inner.display_name(),
              "[alpha] nested/deeper/nested.spec.ts › outer › inner › in the inner describe");
}

TEST(PlaywrightDiscovery, OrdersByFileThenSourcePosition) {
    auto tests = listed();
    std::vector<std::string> nested;
    for (const auto& t : tests) {
        if (t.file == "nested/deeper/nested.spec.ts" && t.project == "alpha")
            nested.push_back(t.title_path.back());
    }
    // The JSON lists the top-level spec first (a suite's specs precede its child suites).
    EXPECT_EQ(nested, (std::vector<std::string>{"first at the outer level", "in the inner describe",
                                                "last at the outer level",
                                                "top level after the describe"}));
    for (std::size_t i = 0; i < tests.size(); ++i) EXPECT_EQ(tests[i].order, static_cast<int>(i));
    std::vector<std::string> generated;
    for (const auto& t : tests) {
        if (t.project == "beta" && util::starts_with(t.title_path.back(), "generated case"))
            generated.push_back(t.title_path.back());
    }
    EXPECT_EQ(generated, (std::vector<std::string>{"generated case 1", "generated case 2",
                                                   "generated case 3"}));
}

TEST(PlaywrightDiscovery, DefaultModeKeepsEachFileOfAProjectTogether) {
    auto tests = listed();  // the fixture's config is not fullyParallel
    std::map<std::string, std::set<std::string>> groups;
    for (const auto& t : tests) {
        ASSERT_FALSE(t.group.empty()) << t.display_name();
        groups[t.group].insert("[" + t.project + "] " + t.file);
    }
    for (const auto& [group, members] : groups) EXPECT_EQ(members.size(), 1u) << group;
    EXPECT_EQ(groups.size(), 16u);  // 8 files x 2 projects
}

TEST(PlaywrightDiscovery, FullyParallelGroupsOnlySerialDescribes) {
    auto tests = listed(true);
    const auto& add = find(tests, "alpha", "adds to cart");
    const auto& see = find(tests, "alpha", "sees the cart");
    const auto& first = find(tests, "alpha", "first step");
    const auto& second = find(tests, "alpha", "second step");
    EXPECT_FALSE(add.group.empty());
    EXPECT_EQ(add.group, see.group);
    EXPECT_EQ(first.group, second.group);
    EXPECT_NE(add.group, first.group);
    EXPECT_NE(add.group, find(tests, "beta", "adds to cart").group);
    EXPECT_LT(add.order, see.order);
    EXPECT_TRUE(find(tests, "alpha", "outside any group").group.empty());
    EXPECT_TRUE(find(tests, "alpha", "passes with a page").group.empty());
}

TEST(PlaywrightDiscovery, KeepsTagsWithTheirAt) {
    auto tests = listed();
    EXPECT_EQ(find(tests, "alpha", "has a tag option").tags, std::vector<std::string>{"@smoke"});
    EXPECT_EQ(find(tests, "alpha", "has a tag in the title @fast").tags,
              std::vector<std::string>{"@fast"});
    EXPECT_EQ(find(tests, "alpha", "inherits the group tags").tags,
              (std::vector<std::string>{"@group", "@smoke"}));
    EXPECT_TRUE(find(tests, "alpha", "passes with a page").tags.empty());
}

TEST(PlaywrightDiscovery, SpecThatDoesNotLoadNamesFileAndMessage) {
    auto d = parse_list_json(data_json("list-broken.json"), std::nullopt);
    ASSERT_FALSE(d);
    const std::string& m = d.error().message;
    EXPECT_NE(
        m.find("broken/broken.spec.ts:4:13: SyntaxError: broken/broken.spec.ts: Unexpected token"),
        std::string::npos)
        << m;
    EXPECT_EQ(m.find('\x1b'), std::string::npos) << m;
    EXPECT_EQ(m.find("/tmp/pwdata"), std::string::npos) << m;  // paths made relative
    EXPECT_EQ(m.find("No tests found"), std::string::npos) << m;
}

TEST(PlaywrightDiscovery, RunsPlaywrightListWithArgvInTheProject) {
    TempDir project;
    install_fake_playwright(project.path());
    FakeProcessRunner runner;
    runner.result.exit_code = 0;
    runner.result.out = "[dotenv] printed by the config\n" + data_text("list.json");
    Options options;
    options.config = "playwright.config.ts";
    auto d = discover_tests(runner, project.path(), options);
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->tests.size(), 78u);
    ASSERT_EQ(runner.calls.size(), 1u);
    const auto& spec = runner.calls[0];
    EXPECT_EQ(spec.argv,
              (std::vector<std::string>{
                  "node", (project.path() / "node_modules/@playwright/test/cli.js").string(),
                  "test", "--list", "--reporter=json", "--config", "playwright.config.ts"}));
    EXPECT_EQ(spec.cwd, project.path());
    EXPECT_NE(
        std::find(spec.env_unset.begin(), spec.env_unset.end(), "PLAYWRIGHT_JSON_OUTPUT_NAME"),
        spec.env_unset.end());
}

TEST(PlaywrightDiscovery, FindsPlaywrightInAParentDirectory) {
    TempDir root;
    install_fake_playwright(root.path());
    fs::create_directories(root.path() / "packages/app");
    FakeProcessRunner runner;
    runner.result.out = data_text("list.json");
    ASSERT_TRUE(discover_tests(runner, root.path() / "packages/app", Options{}));
    EXPECT_EQ(runner.calls.at(0).argv.at(1),
              (root.path() / "node_modules/@playwright/test/cli.js").string());
}

TEST(PlaywrightDiscovery, ExplainsOutputThatIsNotJson) {
    TempDir project;
    install_fake_playwright(project.path());
    FakeProcessRunner runner;
    runner.result.exit_code = 1;
    runner.result.err = "Error: /p/nope.config.ts does not exist\n    at resolveConfigFile2\n";
    auto d = discover_tests(runner, project.path(), Options{});
    ASSERT_FALSE(d);
    EXPECT_NE(d.error().message.find("exit code 1"), std::string::npos);
    EXPECT_NE(d.error().message.find("nope.config.ts does not exist"), std::string::npos);
}

TEST(PlaywrightDiscovery, ExplainsMissingPlaywrightAndNode) {
    TempDir project;
    FakeProcessRunner runner;
    auto missing = discover_tests(runner, project.path(), Options{});
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().message, "Playwright is not installed in " + project.path().string() +
                                           ": run `npm install --save-dev @playwright/test`");
    EXPECT_TRUE(runner.calls.empty());

    install_fake_playwright(project.path());
    runner.start_error = util::make_error("command not found: node");
    auto no_node = discover_tests(runner, project.path(), Options{});
    ASSERT_FALSE(no_node);
    EXPECT_NE(no_node.error().message.find("Node.js"), std::string::npos);
    EXPECT_NE(no_node.error().message.find("command not found: node"), std::string::npos);
}

TEST(PlaywrightTestList, WritesProjectFileDescribesAndTitle) {
    auto tests = listed();
    EXPECT_EQ(test_list_line(find(tests, "beta", "in the inner describe")),
              "[beta] › nested/deeper/nested.spec.ts › outer › inner › in the inner describe");
    EXPECT_EQ(test_list_line(find(tests, "alpha", "has `backticks`")),
              "[alpha] › titles.spec.ts › odd \"titles\" › has `backticks`");
    // Playwright cannot match a title holding its separator: select the describe instead.
    EXPECT_EQ(test_list_line(find(tests, "alpha", "has a › separator inside")),
              "[alpha] › titles.spec.ts › odd \"titles\"");
    TestCase padded;
    padded.file = "a.spec.ts";
    padded.title_path = {" padded ", "x"};
    EXPECT_EQ(test_list_line(padded), "[] › a.spec.ts");
}

TEST(PlaywrightOptions, ParsesAndValidates) {
    EXPECT_EQ(playwright_option_keys(),
              (std::vector<std::string>{"config", "workers", "fullyParallel"}));
    auto o = parse_options(
        Json{{"config", "e2e/pw.config.ts"}, {"workers", 3}, {"fullyParallel", true}});
    ASSERT_TRUE(o) << o.error().message;
    EXPECT_EQ(o->config, "e2e/pw.config.ts");
    EXPECT_EQ(o->workers, 3);
    EXPECT_EQ(o->fully_parallel, true);
    auto defaults = parse_options(Json::object());
    ASSERT_TRUE(defaults);
    EXPECT_EQ(defaults->workers, 1);
    EXPECT_FALSE(defaults->fully_parallel.has_value());
    EXPECT_FALSE(parse_options(Json{{"workers", 0}}));
    EXPECT_FALSE(parse_options(Json{{"workers", "2"}}));
    EXPECT_FALSE(parse_options(Json{{"config", 5}}));
    EXPECT_FALSE(parse_options(Json{{"fullyParallel", "yes"}}));
}

TEST(PlaywrightLayers, SplitsDependenciesFromTests) {
    TempDir project;
    for (const char* f : {"package.json", "yarn.lock", "playwright.config.ts", ".env",
                          "hypertest.config.json"})
        ASSERT_TRUE(util::write_file_atomic(project.path() / f, "x"));
    for (const char* d : {"node_modules/x", "tests", "fixtures", "test-results", "playwright-report",
                          "blob-report"})
        fs::create_directories(project.path() / d);
    auto plugin = make_playwright_plugin(std::make_shared<FakeProcessRunner>());
    auto inputs = plugin->layer_inputs(project.path(), Json::object());
    ASSERT_TRUE(inputs) << inputs.error().message;
    EXPECT_EQ(inputs->dependencies,
              (std::vector<std::string>{"node_modules", "package.json", "yarn.lock"}));
    EXPECT_EQ(inputs->tests, (std::vector<std::string>{".env", "fixtures", "hypertest.config.json",
                                                       "playwright.config.ts", "tests"}));
    EXPECT_FALSE(plugin->layer_inputs(project.path() / "missing", Json::object()));
}

}  // namespace
}  // namespace hypertest::plugins::playwright
