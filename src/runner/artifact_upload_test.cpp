#include "runner/artifact_upload.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "util/temp_dir.hpp"
#include "util/fs.hpp"

namespace hypertest::runner {
namespace {

using util::TempDir;

fs::path write(const fs::path& p, const std::string& content) {
    EXPECT_TRUE(util::write_file_atomic(p, content));
    return p;
}

std::string read(const fs::path& p) {
    auto r = util::read_file(p);
    return r ? *r : std::string("<missing>");
}

plugins::InvocationEvent event_for(const fs::path& store) {
    plugins::InvocationEvent e;
    e.run_id = "run1";
    e.invocation_id = "inv7";
    e.attempt = 2;
    e.plugin = "fake";
    e.storage.kind = "local";
    e.storage.root = store.string();
    return e;
}

TEST(ArtifactUpload, CopiesAttachmentsBlobAndTestOutputsToTheKeyLayout) {
    TempDir tmp;
    fs::path work = tmp.path() / "work", store = tmp.path() / "store";
    auto event = event_for(store);
    plugins::TestOutcome o;
    o.id = "t1";
    o.attachments = {{"screenshot", write(work / "a/shot.png", "png1"), "image/png"},
                     {"screenshot", write(work / "b/shot.png", "png2"), "image/png"},
                     {"inline", {}, "text/plain"}};
    std::vector<plugins::TestOutcome> outcomes = {o};
    write(work / "out/logs/x.txt", "x");
    write(tmp.path() / "secret.txt", "secret");
    fs::create_symlink(tmp.path() / "secret.txt", work / "out/link.txt");
    fs::create_directory_symlink(tmp.path(), work / "out/linkdir");
    UploadInput in{event, outcomes, write(work / "report.zip", "zip"), work / "out"};

    auto sink = make_artifact_sink(event.storage);
    ASSERT_TRUE(sink);
    UploadReport r = upload_artifacts(**sink, in);

    EXPECT_TRUE(r.problems.empty());
    EXPECT_EQ(outcomes[0].artifact_keys,
              (std::vector<std::string>{"run1/t1/attempt-2/shot.png", "run1/t1/attempt-2/shot-1.png"}));
    EXPECT_EQ(read(store / "run1/t1/attempt-2/shot.png"), "png1");
    EXPECT_EQ(read(store / "run1/t1/attempt-2/shot-1.png"), "png2");
    EXPECT_EQ(r.blob_report_key, "run1/blobs/inv7.zip");
    EXPECT_EQ(read(store / "run1/blobs/inv7.zip"), "zip");
    EXPECT_EQ(r.test_artifact_keys, (std::vector<std::string>{"run1/artifacts/inv7/logs/x.txt"}));
    EXPECT_EQ(read(store / "run1/artifacts/inv7/logs/x.txt"), "x");
    EXPECT_FALSE(fs::exists(store / "run1/artifacts/inv7/link.txt"));
    EXPECT_FALSE(fs::exists(store / "run1/artifacts/inv7/linkdir"));
    // No temporary files left behind.
    for (const auto& e : fs::recursive_directory_iterator(store))
        EXPECT_EQ(e.path().string().find(".tmp-"), std::string::npos) << e.path();
}

TEST(ArtifactUpload, PrefixIsPrependedAndMissingFilesAreProblems) {
    TempDir tmp;
    auto event = event_for(tmp.path() / "store");
    event.storage.prefix = "team-a/";
    plugins::TestOutcome o;
    o.id = "t1";
    o.attachments = {{"trace", tmp.path() / "nope.zip", "application/zip"},
                     {"log", write(tmp.path() / "log.txt", "l"), "text/plain"}};
    std::vector<plugins::TestOutcome> outcomes = {o};
    UploadInput in{event, outcomes, {}, {}};
    auto sink = make_artifact_sink(event.storage);
    ASSERT_TRUE(sink);
    UploadReport r = upload_artifacts(**sink, in);
    ASSERT_EQ(r.problems.size(), 1u);
    EXPECT_NE(r.problems[0].find("nope.zip"), std::string::npos);
    EXPECT_EQ(outcomes[0].artifact_keys, (std::vector<std::string>{"team-a/run1/t1/attempt-2/log.txt"}));
    EXPECT_EQ(read(tmp.path() / "store/team-a/run1/t1/attempt-2/log.txt"), "l");
    EXPECT_TRUE(r.blob_report_key.empty());
}

TEST(ArtifactUpload, S3WithoutBucketAndRelativeRootsAreRefused) {
    plugins::StorageLocation s3;
    s3.kind = "s3";
    s3.region = "us-east-1";
    auto r = make_artifact_sink(s3);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("no bucket"), std::string::npos);
    plugins::StorageLocation other;
    other.kind = "gcs";
    EXPECT_FALSE(make_artifact_sink(other));
    plugins::StorageLocation rel;
    rel.root = "relative/dir";
    EXPECT_FALSE(make_artifact_sink(rel));
}

TEST(ArtifactUpload, KeysWithDotDotAreRefused) {
    TempDir tmp;
    auto event = event_for(tmp.path() / "store");
    event.run_id = "../escape";
    std::vector<plugins::TestOutcome> outcomes;
    UploadInput in{event, outcomes, write(tmp.path() / "r.zip", "z"), {}};
    auto sink = make_artifact_sink(event.storage);
    ASSERT_TRUE(sink);
    UploadReport r = upload_artifacts(**sink, in);
    EXPECT_EQ(r.problems.size(), 1u);
    EXPECT_FALSE(fs::exists(tmp.path() / "escape"));
}

}  // namespace
}  // namespace hypertest::runner
