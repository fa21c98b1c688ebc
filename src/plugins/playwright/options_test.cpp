#include "plugins/playwright/options.hpp"

#include <gtest/gtest.h>

#include "util/fs.hpp"
#include "util/temp_dir.hpp"

namespace hypertest::plugins::playwright {
namespace {

void write(const fs::path& file, const std::string& text) {
    fs::create_directories(file.parent_path());
    ASSERT_TRUE(util::write_file_atomic(file, text));
}

TEST(PlaywrightInit, TheConfigTheScriptsUseWins) {
    util::TempDir dir;
    write(dir.path() / "package.json",
          R"({"scripts": {"build": "vite build", "test:e2e": "playwright test --config tests/config/playwright.config.ts"}})");
    write(dir.path() / "tests/config/playwright.config.ts", "");
    write(dir.path() / "other/playwright.config.js", "");
    write(dir.path() / "node_modules/x/playwright.config.ts", "");  // never searched
    EXPECT_EQ(config_candidates(dir.path()),
              (std::vector<std::string>{"tests/config/playwright.config.ts", "other/playwright.config.js"}));
}

TEST(PlaywrightInit, TheRootDefaultNeedsNoSetting) {
    util::TempDir dir;
    write(dir.path() / "package.json", R"({"scripts": {"e2e": "playwright test -c playwright.config.ts"}})");
    write(dir.path() / "playwright.config.ts", "");
    write(dir.path() / "examples/playwright.config.ts", "");
    EXPECT_TRUE(config_candidates(dir.path()).empty());
    write(dir.path() / "package.json", "{}");
    EXPECT_TRUE(config_candidates(dir.path()).empty());
}

TEST(PlaywrightInit, WithoutRootConfigEveryFoundOneIsOffered) {
    util::TempDir dir;
    write(dir.path() / "e2e/playwright.config.ts", "");
    write(dir.path() / "apps/web/playwright.config.ts", "");
    EXPECT_EQ(config_candidates(dir.path()),
              (std::vector<std::string>{"apps/web/playwright.config.ts", "e2e/playwright.config.ts"}));
}

TEST(PlaywrightOutputs, OutputDirsAndHtmlReportsAreFoundWhateverTheirNames) {
    util::TempDir dir;
    write(dir.path() / "_playwright-results/.last-run.json", "{}");
    write(dir.path() / "tests/results/index.html",
          "<!DOCTYPE html><html><head><title>Playwright Test Report</title></head></html>");
    write(dir.path() / "site/index.html", "<title>My app</title>");
    write(dir.path() / "tests/a.spec.ts", "");
    EXPECT_EQ(output_folders(dir.path()),
              (std::vector<std::string>{"_playwright-results", "tests/results"}));
}

}  // namespace
}  // namespace hypertest::plugins::playwright
