// The runner's S3 sink against a local server: the function's env credentials (with session
// token), AWS_ENDPOINT_URL_S3, content types, prefixed keys and retries.
#include <gtest/gtest.h>

#include <atomic>

#include "aws/test_server.hpp"
#include "runner/artifact_upload.hpp"
#include "util/fs.hpp"
#include "util/temp_dir.hpp"

namespace hypertest::runner {
namespace {

using aws::testing_support::LocalServer;

TEST(ArtifactUploadS3, UploadsWithTheFunctionsCredentialsAndContentTypes) {
    LocalServer server;
    std::atomic<int> puts{0};
    server.put("/results-bucket/(.*)", [&](const httplib::Request&, httplib::Response& res) {
        if (++puts == 1) {  // the first attempt is throttled
            res.status = 503;
            res.set_content(
                "<Error><Code>SlowDown</Code><Message>Please reduce your request "
                "rate.</Message></Error>",
                "application/xml");
        }
    });
    server.start();
    util::TempDir tmp;
    ASSERT_TRUE(util::write_file_atomic(tmp.path() / "shot.png", "PNG").ok());
    ASSERT_TRUE(util::write_file_atomic(tmp.path() / "blob.zip", "ZIP").ok());
    aws::System system =
        aws::system_with_env({{"AWS_ACCESS_KEY_ID", "ASIAFUNCTION"},
                              {"AWS_SECRET_ACCESS_KEY", "function-secret-key-value"},
                              {"AWS_SESSION_TOKEN", "function-session-token"},
                              {"AWS_REGION", "eu-central-1"},
                              {"AWS_ENDPOINT_URL_S3", server.url()}});
    plugins::StorageLocation where;
    where.kind = "s3";
    where.bucket = "results-bucket";
    where.prefix = "team/";
    auto sink = make_s3_artifact_sink(where, system);
    ASSERT_TRUE(sink.ok()) << sink.error().message;
    ASSERT_TRUE((*sink)->put_file("run1/t1/attempt-1/shot.png", tmp.path() / "shot.png").ok());
    ASSERT_TRUE((*sink)->put_file("run1/blobs/inv-1.zip", tmp.path() / "blob.zip").ok());
    EXPECT_FALSE((*sink)->put_file("../x", tmp.path() / "blob.zip").ok());

    auto seen = server.seen();
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[1].path, "/results-bucket/team/run1/t1/attempt-1/shot.png");
    EXPECT_EQ(seen[1].body, "PNG");
    EXPECT_EQ(seen[1].header("Content-Type"), "image/png");
    EXPECT_EQ(seen[1].header("X-Amz-Security-Token"), "function-session-token");
    EXPECT_NE(seen[1].header("Authorization").find("Credential=ASIAFUNCTION/"), std::string::npos);
    EXPECT_NE(seen[1].header("Authorization").find("/eu-central-1/s3/aws4_request"),
              std::string::npos);
    EXPECT_EQ(seen[2].path, "/results-bucket/team/run1/blobs/inv-1.zip");
    EXPECT_EQ(seen[2].header("Content-Type"), "application/zip");
}

TEST(ArtifactUploadS3, MissingCredentialsSayWhatToSet) {
    LocalServer server;
    server.start();
    util::TempDir tmp;
    ASSERT_TRUE(util::write_file_atomic(tmp.path() / "a.txt", "a").ok());
    aws::System system =
        aws::system_with_env({{"AWS_REGION", "us-east-1"}, {"AWS_ENDPOINT_URL", server.url()}});
    plugins::StorageLocation where;
    where.kind = "s3";
    where.bucket = "b";
    auto sink = make_s3_artifact_sink(where, system);
    ASSERT_TRUE(sink.ok()) << sink.error().message;
    auto put = (*sink)->put_file("k.txt", tmp.path() / "a.txt");
    ASSERT_FALSE(put.ok());
    EXPECT_NE(put.error().message.find("AWS_ACCESS_KEY_ID"), std::string::npos)
        << put.error().message;
    EXPECT_TRUE(server.seen().empty());
}

}  // namespace
}  // namespace hypertest::runner
