#include "plugins/playwright/blob_combine.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "plugins/playwright/test_support.hpp"
#include "util/strings.hpp"

namespace hypertest::plugins::playwright {
namespace {

using namespace testing;
using util::Json;

// Blobs Playwright 1.65.1 wrote for three invocations of tests/fixtures/playwright-faults, as
// hypertest retries: (1) always fails + fails on its first attempt + ok 1, (2) the two that
// failed, (3) always fails.
std::vector<fs::path> retry_blobs() {
    return {data_dir() / "retry-attempt-1.zip", data_dir() / "retry-attempt-2.zip",
            data_dir() / "retry-attempt-3.zip"};
}

// Entry name -> content; directories are listed with content "<dir>".
std::map<std::string, std::string> zip_entries(const fs::path& zip) {
    std::map<std::string, std::string> entries;
    struct archive* a = archive_read_new();
    archive_read_support_format_zip(a);
    if (archive_read_open_filename(a, zip.c_str(), 65536) != ARCHIVE_OK) {
        archive_read_free(a);
        throw std::runtime_error("cannot open " + zip.string());
    }
    struct archive_entry* e = nullptr;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        std::string& data = entries[archive_entry_pathname(e)];
        if (archive_entry_filetype(e) == AE_IFDIR) data = "<dir>";
        char buffer[8192];
        for (la_ssize_t n; (n = archive_read_data(a, buffer, sizeof buffer)) > 0;)
            data.append(buffer, static_cast<std::size_t>(n));
    }
    archive_read_free(a);
    return entries;
}

std::vector<Json> events_of(const std::string& jsonl) {
    std::vector<Json> events;
    for (const auto& line : util::split(jsonl, '\n')) {
        if (!line.empty()) events.push_back(util::parse_json(line, "event").take_or_fatal());
    }
    return events;
}

std::vector<Json> with_method(const std::vector<Json>& events, const std::string& method) {
    std::vector<Json> found;
    for (const auto& e : events) {
        if (e["method"] == method) found.push_back(e);
    }
    return found;
}

void collect_tests(const Json& entries, std::map<std::string, std::string>& titles) {
    for (const auto& e : entries) {
        if (e.contains("testId")) {
            titles[e["testId"]] += e["title"].get<std::string>() + ";";
        } else {
            collect_tests(e["entries"], titles);
        }
    }
}

struct Attempt {
    int retry = -1;
    double start = 0;
    int worker = -1;
    std::string status;
};

// What merge-reports' receiver builds: per test title, its results in the order they arrive.
std::map<std::string, std::vector<Attempt>> attempts_by_title(const std::vector<Json>& events) {
    std::map<std::string, std::string> titles;
    for (const auto& p : with_method(events, "onProject"))
        collect_tests(p["params"]["project"]["suites"], titles);
    std::map<std::string, std::vector<Attempt>> by_title;
    std::map<std::string, Attempt*> by_result;
    for (const auto& e : events) {
        const Json& params = e.value("params", Json::object());
        if (e["method"] == "onTestBegin") {
            std::string title = titles.at(params["testId"]);
            auto& list = by_title[title];
            list.push_back({params["result"]["retry"], params["result"]["startTime"],
                            params["result"]["workerIndex"], ""});
        } else if (e["method"] == "onTestEnd") {
            auto& list = by_title[titles.at(params["test"]["testId"])];
            EXPECT_FALSE(list.empty());
            if (!list.empty()) list.back().status = params["result"]["status"];
        }
    }
    return by_title;
}

std::string combined_jsonl(const std::vector<fs::path>& blobs, const fs::path& out) {
    auto status = combine_blobs(blobs, out);
    if (!status) throw std::runtime_error(status.error().message);
    return zip_entries(out).at("report.jsonl");
}

TEST(BlobCombine, RealRetriesBecomeOneTestWithRetriesInRunOrder) {
    TempDir dir;
    auto events = events_of(combined_jsonl(retry_blobs(), dir / "combined.zip"));
    ASSERT_EQ(with_method(events, "onBlobReportMetadata").size(), 1u);
    ASSERT_EQ(events.front()["method"], "onBlobReportMetadata");
    ASSERT_EQ(with_method(events, "onConfigure").size(), 1u);
    auto projects = with_method(events, "onProject");
    ASSERT_EQ(projects.size(), 1u);
    std::map<std::string, std::string> titles;
    collect_tests(projects[0]["params"]["project"]["suites"], titles);
    std::multiset<std::string> listed;
    for (const auto& [id, t] : titles) listed.insert(t);
    EXPECT_EQ(listed, (std::multiset<std::string>{"always fails;", "fails on its first attempt;",
                                                  "ok 1;"}));

    auto by_title = attempts_by_title(events);
    ASSERT_EQ(by_title.size(), 3u);
    const auto& always = by_title.at("always fails;");
    ASSERT_EQ(always.size(), 3u);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(always[i].retry, i);
        EXPECT_EQ(always[i].status, "failed");
        if (i > 0) {
            EXPECT_GT(always[i].start, always[i - 1].start);
        }
    }
    const auto& flaky = by_title.at("fails on its first attempt;");
    ASSERT_EQ(flaky.size(), 2u);
    EXPECT_EQ(flaky[0].retry, 0);
    EXPECT_EQ(flaky[0].status, "failed");
    EXPECT_EQ(flaky[1].retry, 1);
    EXPECT_EQ(flaky[1].status, "passed");
    ASSERT_EQ(by_title.at("ok 1;").size(), 1u);
    EXPECT_EQ(by_title.at("ok 1;")[0].retry, 0);
    EXPECT_EQ(by_title.at("ok 1;")[0].status, "passed");
    // Workers of later invocations are numbered after those of earlier ones.
    EXPECT_GT(always[1].worker, std::max(flaky[0].worker, always[0].worker));
    EXPECT_GT(always[2].worker, std::max(flaky[1].worker, always[1].worker));

    auto ends = with_method(events, "onEnd");
    ASSERT_EQ(ends.size(), 1u);
    EXPECT_EQ(events.back()["method"], "onEnd");
    EXPECT_EQ(ends[0]["params"]["result"]["status"], "failed");
    EXPECT_LE(ends[0]["params"]["result"]["startTime"].get<double>(), always[0].start);
}

TEST(BlobCombine, RetryOrderFollowsTheInvocationsNotTheFileOrder) {
    TempDir dir;
    auto blobs = retry_blobs();
    std::reverse(blobs.begin(), blobs.end());
    auto by_title = attempts_by_title(events_of(combined_jsonl(blobs, dir / "combined.zip")));
    const auto& flaky = by_title.at("fails on its first attempt;");
    ASSERT_EQ(flaky.size(), 2u);
    EXPECT_EQ(flaky[0].status, "failed");
    EXPECT_EQ(flaky[1].status, "passed");
    EXPECT_EQ(flaky[1].retry, 1);
}

TEST(BlobCombine, KeepsEveryAttachmentAndEveryEventOfTheBlobs) {
    TempDir dir;
    auto combined = zip_entries([&] {
        EXPECT_TRUE(combine_blobs(retry_blobs(), dir / "combined.zip"));
        return dir / "combined.zip";
    }());
    std::size_t test_events = 0;
    std::set<std::string> resources;
    for (const auto& blob : retry_blobs()) {
        for (const auto& [name, data] : zip_entries(blob)) {
            if (name == "report.jsonl") {
                for (const auto& e : events_of(data)) {
                    std::string m = e["method"];
                    if (m != "onBlobReportMetadata" && m != "onConfigure" && m != "onProject" &&
                        m != "onBegin" && m != "onEnd")
                        ++test_events;
                }
            } else {
                resources.insert(name);
                ASSERT_EQ(combined.count(name), 1u) << name;
                EXPECT_EQ(combined.at(name), data);
            }
        }
    }
    EXPECT_EQ(resources.size(), 4u);
    // One report and the attachments, no directory entries (merge-reports cannot extract them).
    EXPECT_EQ(combined.size(), resources.size() + 1);
    auto events = events_of(combined.at("report.jsonl"));
    // metadata, configure, one project, begin, end around the tests' events
    EXPECT_EQ(events.size(), test_events + 5);
    std::size_t attached = 0;
    for (const auto& e : with_method(events, "onAttach")) {
        for (const auto& a : e["params"]["attachments"]) {
            EXPECT_EQ(combined.count(a["path"].get<std::string>()), 1u) << a.dump();
            ++attached;
        }
    }
    EXPECT_EQ(attached, 4u);
}

std::string blob_text(const std::vector<Json>& events) {
    std::string text;
    for (const auto& e : events) text += e.dump() + "\n";
    return text;
}

Json test_entry(const std::string& id, const std::string& title) {
    return {{"testId", id}, {"title", title}, {"repeatEachIndex", 0}};
}

Json suite(const std::string& title, Json entries) {
    return {{"title", title}, {"entries", std::move(entries)}};
}

std::vector<Json> small_blob(const std::string& project, Json suites, double start) {
    return {
        {{"method", "onBlobReportMetadata"}, {"params", {{"version", 2}}}},
        {{"method", "onConfigure"},
         {"params", {{"config", {{"workers", 2}, {"metadata", {{"actualWorkers", 1}}}}}}}},
        {{"method", "onProject"},
         {"params", {{"project", {{"name", project}, {"suites", std::move(suites)}}}}}},
        {{"method", "onBegin"}},
        {{"method", "onEnd"},
         {"params", {{"result", {{"status", "passed"}, {"startTime", start}, {"duration", 10}}}}}}};
}

TEST(BlobCombine, ProjectsAndSuitesAreUnitedByNameEachTestListedOnce) {
    auto a = small_blob(
        "chromium",
        {suite("a.spec.ts", {test_entry("t1", "one"), suite("group", {test_entry("t2", "two")})})},
        100);
    auto b = small_blob(
        "chromium",
        {suite("a.spec.ts", {suite("group", {test_entry("t2", "two"), test_entry("t3", "three")})}),
         suite("b.spec.ts", {test_entry("t4", "four")})},
        200);
    auto c = small_blob("firefox", {suite("a.spec.ts", {test_entry("t5", "one")})}, 300);
    auto out = combine_blob_events({blob_text(b), blob_text(c), blob_text(a)});
    ASSERT_TRUE(out) << out.error().message;
    auto events = events_of(*out);
    auto projects = with_method(events, "onProject");
    ASSERT_EQ(projects.size(), 2u);
    const Json& chromium = projects[0]["params"]["project"];
    EXPECT_EQ(chromium["name"], "chromium");
    EXPECT_EQ(projects[1]["params"]["project"]["name"], "firefox");
    Json expected = Json::array(
        {suite("a.spec.ts", {test_entry("t1", "one"),
                             suite("group", {test_entry("t2", "two"), test_entry("t3", "three")})}),
         suite("b.spec.ts", {test_entry("t4", "four")})});
    EXPECT_EQ(chromium["suites"], expected);
    const Json config = with_method(events, "onConfigure")[0]["params"]["config"];
    EXPECT_EQ(config["workers"], 6);
    EXPECT_EQ(config["metadata"]["actualWorkers"], 3);
    const Json end = with_method(events, "onEnd")[0]["params"]["result"];
    EXPECT_EQ(end["startTime"], 100);
    EXPECT_EQ(end["duration"], 210);
    EXPECT_EQ(end["status"], "passed");
}

TEST(BlobCombine, RefusesWhatIsNotABlobReportOfTheKnownVersion) {
    auto newer = small_blob("p", Json::array(), 1);
    newer[0]["params"]["version"] = 3;
    auto refused =
        combine_blob_events({blob_text(small_blob("p", Json::array(), 1)), blob_text(newer)});
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("version 3"), std::string::npos)
        << refused.error().message;

    auto no_metadata = small_blob("p", Json::array(), 1);
    no_metadata.erase(no_metadata.begin());
    EXPECT_FALSE(combine_blob_events({blob_text(no_metadata)}));
    EXPECT_FALSE(combine_blob_events({"not json\n"}));
    EXPECT_FALSE(combine_blob_events({""}));
    EXPECT_FALSE(combine_blob_events({}));
}

TEST(BlobCombine, AnUnreadableBlobFailsAndLeavesNoOutput) {
    TempDir dir;
    ASSERT_TRUE(util::write_file_atomic(dir / "broken.zip", "not a zip"));
    auto status = combine_blobs({retry_blobs()[0], dir / "broken.zip"}, dir / "out" / "c.zip");
    ASSERT_FALSE(status);
    EXPECT_NE(status.error().message.find("broken.zip"), std::string::npos)
        << status.error().message;
    EXPECT_FALSE(fs::exists(dir / "out" / "c.zip"));
}

}  // namespace
}  // namespace hypertest::plugins::playwright
