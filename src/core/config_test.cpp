#include "core/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "util/fs.hpp"
#include "util/result.hpp"

namespace hypertest::core {
namespace {

std::string error_of(const Json& j) {
    try {
        config_from_json(j, "/p/hypertest.config.json");
    } catch (const util::Fatal& e) {
        EXPECT_EQ(e.exit_code, 2);
        return e.what();
    }
    return "";
}

fs::path temp_dir() {
    fs::path d = fs::temp_directory_path() / ("ht-config-test-" + std::to_string(::getpid()));
    fs::remove_all(d);
    fs::create_directories(d / "sub" / "deeper");
    return d;
}

}  // namespace

TEST(Config, MinimalLocalConfig) {
    Config c = config_from_json(Json::parse(R"({"testRunner": {"name": "playwright"}})"),
                                "/p/hypertest.config.json");
    EXPECT_EQ(c.runner_name, "playwright");
    EXPECT_EQ(c.provider_name, "local");
    EXPECT_EQ(c.results_file_name, "hypertest.results.json");
    EXPECT_EQ(c.drift_policy, "warning");
    EXPECT_EQ(c.project_dir, fs::path("/p"));
}

TEST(Config, AcceptsTopLevelKeysAndAwsKeysUnderAnyProvider) {
    Config c = config_from_json(Json::parse(R"({
        "concurrency": 7, "imageName": "img", "resultsFileName": "r.json",
        "buildManifestFileName": "m.json", "driftDetectionPolicy": "error",
        "testRunner": {"name": "playwright"},
        "cloudProvider": {"name": "local", "functionName": "fn", "region": "eu-west-1"}})"),
                                "/p/hypertest.config.json");
    EXPECT_EQ(c.concurrency, 7);
    EXPECT_EQ(c.image_name, "img");
    EXPECT_EQ(c.manifest_file_name, "m.json");
    EXPECT_EQ(c.drift_policy, "error");
    EXPECT_EQ(c.function_name, "fn");
}

TEST(Config, BaseImageAndPlatform) {
    Config plain = config_from_json(Json::parse(R"({"testRunner": {"name": "playwright"}})"),
                                    "/p/hypertest.config.json");
    EXPECT_EQ(plain.base_image, "");
    EXPECT_EQ(plain.platform, "linux/amd64");
    Config c = config_from_json(
        Json::parse(R"({"testRunner": {"name": "playwright"},
                        "cloudProvider": {"baseImage": "oci:base:host-base", "platform": "arm64"}})"),
        "/p/hypertest.config.json");
    EXPECT_EQ(c.base_image, "oci:base:host-base");
    EXPECT_EQ(c.platform, "linux/arm64");
    Config reg = config_from_json(
        Json::parse(R"({"testRunner": {"name": "playwright"},
                        "cloudProvider": {"baseImage": "127.0.0.1:5000/base@sha256:)" +
                    std::string(64, 'a') + R"("}})"),
        "/p/hypertest.config.json");
    EXPECT_EQ(reg.base_image, "127.0.0.1:5000/base@sha256:" + std::string(64, 'a'));

    std::string bad_ref = error_of(Json::parse(
        R"({"testRunner": {"name": "playwright"}, "cloudProvider": {"baseImage": "node:22"}})"));
    EXPECT_NE(bad_ref.find("cloudProvider.baseImage"), std::string::npos) << bad_ref;
    EXPECT_NE(bad_ref.find("oci:<layout dir>"), std::string::npos) << bad_ref;
    std::string bad_platform = error_of(Json::parse(
        R"({"testRunner": {"name": "playwright"}, "cloudProvider": {"platform": "windows/amd64"}})"));
    EXPECT_NE(bad_platform.find("\"linux/amd64\" or \"linux/arm64\""), std::string::npos) << bad_platform;
    EXPECT_NE(error_of(Json::parse(R"({"testRunner": {"name": "playwright"}, "cloudProvider": {"baseImage": 3}})"))
                  .find("cloudProvider.baseImage"),
              std::string::npos);
}

TEST(Config, UnknownKeySuggestsTheRightOne) {
    std::string e = error_of(Json::parse(R"({"concurency": 2, "testRunner": {"name": "playwright"}})"));
    EXPECT_NE(e.find("unknown key \"concurency\""), std::string::npos) << e;
    EXPECT_NE(e.find("did you mean \"concurrency\""), std::string::npos) << e;
}

TEST(Config, UnknownNestedKeyIsNamedWithItsPath) {
    std::string e = error_of(Json::parse(R"({"testRunner": {"name": "playwright"},
        "cloudProvider": {"name": "local", "storgeDir": "x"}})"));
    EXPECT_NE(e.find("cloudProvider.storgeDir"), std::string::npos) << e;
    EXPECT_NE(e.find("cloudProvider.storageDir"), std::string::npos) << e;
}

TEST(Config, ConcurrencyZeroIsRejectedWithTheRange) {
    std::string e = error_of(Json::parse(R"({"concurrency": 0, "testRunner": {"name": "playwright"}})"));
    EXPECT_NE(e.find("\"concurrency\""), std::string::npos) << e;
    EXPECT_NE(e.find("from 1 to"), std::string::npos) << e;
}

TEST(Config, RetriesDefaultToZeroAndAreRangeChecked) {
    Config c = config_from_json(Json::parse(R"({"testRunner": {"name": "playwright"}})"),
                                "/p/hypertest.config.json");
    EXPECT_EQ(c.retries, 0);
    c = config_from_json(Json::parse(R"({"retries": 3, "testRunner": {"name": "playwright"}})"),
                         "/p/hypertest.config.json");
    EXPECT_EQ(c.retries, 3);
    std::string e = error_of(Json::parse(R"({"retries": 11, "testRunner": {"name": "playwright"}})"));
    EXPECT_NE(e.find("\"retries\""), std::string::npos) << e;
    EXPECT_NE(e.find("from 0 to 10"), std::string::npos) << e;
}

TEST(Config, MissingOrUnknownRunner) {
    EXPECT_NE(error_of(Json::parse("{}")).find("\"testRunner\" is missing"), std::string::npos);
    std::string e = error_of(Json::parse(R"({"testRunner": {"name": "playwrite"}})"));
    EXPECT_NE(e.find("did you mean \"playwright\""), std::string::npos) << e;
    e = error_of(Json::parse(R"({"testRunner": {"name": "playwright"}, "cloudProvider": {"name": "lokal"}})"));
    EXPECT_NE(e.find("did you mean \"local\""), std::string::npos) << e;
}

TEST(Config, BadDriftPolicy) {
    std::string e = error_of(Json::parse(
        R"({"testRunner": {"name": "playwright"}, "driftDetectionPolicy": "loud"})"));
    EXPECT_NE(e.find("\"silence\", \"warning\" or \"error\""), std::string::npos) << e;
}

TEST(Config, FoundUpwardsAndBrokenJsonIsReported) {
    fs::path d = temp_dir();
    std::ofstream(d / "hypertest.config.json") << R"({"testRunner": {"name": "playwright"}})";
    Config c = load_config(std::nullopt, d / "sub" / "deeper");
    EXPECT_EQ(c.project_dir, fs::canonical(d));
    std::ofstream(d / "hypertest.config.json") << R"({"testRunner": {"name": "playwright"},})";
    try {
        load_config(std::nullopt, d / "sub");
        FAIL() << "broken JSON accepted";
    } catch (const util::Fatal& e) {
        EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos) << e.what();
    }
    fs::remove_all(d);
}

TEST(Config, NoConfigFileSaysHowToCreateOne) {
    fs::path d = temp_dir();
    if (!util::find_upwards(d, config_file_names()).empty()) {
        fs::remove_all(d);
        GTEST_SKIP() << "a hypertest config exists above " << d;
    }
    try {
        load_config(std::nullopt, d);
        ADD_FAILURE() << "no config anywhere, yet load_config succeeded";
    } catch (const util::Fatal& e) {
        EXPECT_NE(std::string(e.what()).find("hypertest init"), std::string::npos) << e.what();
    }
    fs::remove_all(d);
}

TEST(Config, JavaScriptConfigDefaultExport) {
    fs::path d = temp_dir();
    std::ofstream(d / "hypertest.config.mjs")
        << "export default { testRunner: { name: 'playwright' }, concurrency: 3 + 2 };\n";
    Config c = load_config(std::nullopt, d);
    EXPECT_EQ(c.concurrency, 5);
    fs::remove(d / "hypertest.config.mjs");
    std::ofstream(d / "hypertest.config.js")
        << "module.exports = { testRunner: { name: 'playwright' }, concurrency: 4 };\n";
    EXPECT_EQ(load_config(std::nullopt, d).concurrency, 4);
    fs::remove_all(d);
}

}  // namespace hypertest::core

namespace hypertest::core {
namespace {

TEST(Config, RefusesAReportFolderOverTheProject) {
    // The project is /p; the working directory is wherever the tests run.
    std::string cwd = fs::current_path().string();
    for (const std::string& dir : std::vector<std::string>{".", "..", "/", "/p", cwd, ""}) {
        Json j = {{"testRunner", {{"name", "playwright"}}}, {"htmlReportDir", dir}};
        std::string e = error_of(j);
        EXPECT_NE(e.find("htmlReportDir"), std::string::npos) << dir << ": " << e;
        if (!dir.empty()) {
            EXPECT_NE(e.find("over the project"), std::string::npos) << dir << ": " << e;
        }
    }
    Json ok = {{"testRunner", {{"name", "playwright"}}}, {"htmlReportDir", "reports/html"}};
    EXPECT_EQ(error_of(ok), "");
}

TEST(Config, FunctionNameIsAPlainName) {
    for (const std::string& name : std::vector<std::string>{"../x", "a/b", "a\nb", "", std::string(65, 'a'), "a b"}) {
        Json j = {{"testRunner", {{"name", "playwright"}}}, {"cloudProvider", {{"functionName", name}}}};
        EXPECT_NE(error_of(j).find("cloudProvider.functionName"), std::string::npos) << name << ": " << error_of(j);
    }
    Json ok = {{"testRunner", {{"name", "playwright"}}}, {"cloudProvider", {{"functionName", "shop_e2e-2"}}}};
    EXPECT_EQ(error_of(ok), "");
}

}  // namespace
}  // namespace hypertest::core
