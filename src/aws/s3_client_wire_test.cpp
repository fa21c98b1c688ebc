// The S3 client's requests on the wire against a local server: multipart uploads, retries,
// missing keys, deletes.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>

#include "aws/s3_client.hpp"
#include "aws/test_server.hpp"
#include "aws/test_support.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

namespace hypertest::aws {
namespace {

namespace fs = std::filesystem;
using testing_support::LocalServer;
using testing_support::TestAws;

struct S3Fixture {
    explicit S3Fixture(LocalServer& server) : aws(server.url()) {}
    std::unique_ptr<S3Client> client(std::uint64_t threshold = 64 << 20,
                                     std::uint64_t part = 16 << 20) {
        auto c = aws.config("S3");
        S3Config s3;
        s3.endpoint = c.endpoint;
        s3.http = c.http;
        s3.credentials = c.credentials;
        s3.now_ms = c.now_ms;
        s3.sleep = c.sleep;
        s3.multipart_threshold = threshold;
        s3.part_size = part;
        return make_s3_client(s3);
    }
    TestAws aws;
};

fs::path temp_file(const std::string& content) {
    static int n = 0;
    fs::path p = fs::temp_directory_path() /
                 ("ht-s3-wire-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
    EXPECT_TRUE(util::write_file_atomic(p, content).ok());
    return p;
}

TEST(S3ClientWire, LargeFilesGoUpInPartsCompletedInOrder) {
    LocalServer server;
    std::mutex mutex;
    std::map<int, std::string> parts;
    server.post("/bucket/(.*)", [&](const httplib::Request& req, httplib::Response& res) {
        if (req.has_param("uploads")) {
            res.set_content(
                "<InitiateMultipartUploadResult><Bucket>bucket</Bucket><Key>k</Key>"
                "<UploadId>up-1</UploadId></InitiateMultipartUploadResult>",
                "application/xml");
        } else {
            res.set_content(
                "<CompleteMultipartUploadResult><ETag>\"x-3\"</ETag></"
                "CompleteMultipartUploadResult>",
                "application/xml");
        }
    });
    server.put("/bucket/(.*)", [&](const httplib::Request& req, httplib::Response& res) {
        int n = std::stoi(req.get_param_value("partNumber"));
        {
            std::lock_guard lock(mutex);
            parts[n] = req.body;
        }
        res.set_header("ETag", "\"etag-" + std::to_string(n) + "\"");
    });
    server.start();
    S3Fixture f(server);
    std::string content = "0123456789abcdefghijKLMNOPQRSTUVWXYZ!";  // 37 bytes: 16 + 16 + 5
    fs::path file = temp_file(content);
    auto put = f.client(20, 16)->put_file("bucket", "run/trace file.zip", file, "application/zip");
    ASSERT_TRUE(put.ok()) << put.error().message;
    fs::remove(file);

    auto seen = server.seen();
    ASSERT_EQ(seen.size(), 5u);
    EXPECT_EQ(seen[0].method, "POST");
    EXPECT_EQ(seen[0].path, "/bucket/run/trace file.zip");
    EXPECT_TRUE(seen[0].params.count("uploads"));
    EXPECT_EQ(seen[0].header("Content-Type"), "application/zip");
    for (int i = 1; i <= 3; ++i) {
        EXPECT_EQ(seen[i].method, "PUT");
        EXPECT_EQ(seen[i].params.find("uploadId")->second, "up-1");
        EXPECT_EQ(seen[i].header("x-amz-content-sha256"), util::sha256_hex(seen[i].body));
    }
    EXPECT_EQ(parts[1] + parts[2] + parts[3], content);
    EXPECT_EQ(parts[3], "WXYZ!");
    EXPECT_EQ(seen[4].method, "POST");
    EXPECT_EQ(seen[4].params.find("uploadId")->second, "up-1");
    EXPECT_EQ(seen[4].body,
              "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
              "<Part><PartNumber>1</PartNumber><ETag>&quot;etag-1&quot;</ETag></Part>"
              "<Part><PartNumber>2</PartNumber><ETag>&quot;etag-2&quot;</ETag></Part>"
              "<Part><PartNumber>3</PartNumber><ETag>&quot;etag-3&quot;</ETag></Part>"
              "</CompleteMultipartUpload>");
}

TEST(S3ClientWire, AFailedPartAbortsTheUpload) {
    LocalServer server;
    server.post("/bucket/(.*)", [&](const httplib::Request&, httplib::Response& res) {
        res.set_content(
            "<InitiateMultipartUploadResult><UploadId>up-2</UploadId></"
            "InitiateMultipartUploadResult>",
            "application/xml");
    });
    server.put("/bucket/(.*)", [&](const httplib::Request&, httplib::Response& res) {
        res.status = 400;
        res.set_content(
            "<Error><Code>EntityTooSmall</Code><Message>Your proposed upload is smaller than the "
            "minimum "
            "allowed object size.</Message></Error>",
            "application/xml");
    });
    server.del("/bucket/(.*)",
               [&](const httplib::Request&, httplib::Response& res) { res.status = 204; });
    server.start();
    S3Fixture f(server);
    fs::path file = temp_file(std::string(40, 'x'));
    auto put = f.client(20, 16)->put_file("bucket", "k", file);
    fs::remove(file);
    ASSERT_FALSE(put.ok());
    EXPECT_NE(put.error().message.find("S3 UploadPart 1 of bucket/k: EntityTooSmall (HTTP 400)"),
              std::string::npos)
        << put.error().message;
    auto seen = server.seen();
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[2].method, "DELETE");
    EXPECT_EQ(seen[2].params.find("uploadId")->second, "up-2");
}

TEST(S3ClientWire, SlowDownAndServerErrorsAreRetriedThenSucceed) {
    LocalServer server;
    std::atomic<int> calls{0};
    server.put("/bucket/(.*)", [&](const httplib::Request&, httplib::Response& res) {
        int n = ++calls;
        if (n == 1) {
            res.status = 503;
            res.set_content(
                "<Error><Code>SlowDown</Code><Message>Please reduce your request "
                "rate.</Message></Error>",
                "application/xml");
        } else if (n == 2) {
            res.status = 500;
            res.set_content(
                "<Error><Code>InternalError</Code><Message>We encountered an internal "
                "error.</Message></Error>",
                "application/xml");
        }
    });
    server.start();
    S3Fixture f(server);
    fs::path file = temp_file("{\"a\":1}");
    auto put = f.client()->put_file("bucket", "results.json", file, "application/json");
    fs::remove(file);
    ASSERT_TRUE(put.ok()) << put.error().message;
    EXPECT_EQ(calls.load(), 3);
    EXPECT_EQ(f.aws.sleeps.size(), 2u);
    auto seen = server.seen();
    EXPECT_EQ(seen.back().body, "{\"a\":1}");
    EXPECT_EQ(seen.back().header("Content-Type"), "application/json");
    EXPECT_EQ(seen.back().header("x-amz-content-sha256"), util::sha256_hex("{\"a\":1}"));
}

TEST(S3ClientWire, PersistentServerErrorsGiveUpAsRetryable) {
    LocalServer server;
    server.put("/bucket/(.*)", [&](const httplib::Request&, httplib::Response& res) {
        res.status = 503;
        res.set_content(
            "<Error><Code>SlowDown</Code><Message>Please reduce your request "
            "rate.</Message></Error>",
            "application/xml");
    });
    server.start();
    S3Fixture f(server);
    auto put = f.client()->put_object("bucket", "k", "v");
    ASSERT_FALSE(put.ok());
    EXPECT_TRUE(put.error().retryable);
    EXPECT_EQ(server.seen().size(), 4u);
}

TEST(S3ClientWire, FindObjectTellsMissingKeysFromMissingBuckets) {
    LocalServer server;
    server.get("/bucket/(.*)", [&](const httplib::Request& req, httplib::Response& res) {
        if (req.path == "/bucket/there") {
            res.set_content("content", "text/plain");
            return;
        }
        res.status = 404;
        res.set_content(
            "<Error><Code>NoSuchKey</Code><Message>The specified key does not "
            "exist.</Message></Error>",
            "application/xml");
    });
    server.get("/nobucket/(.*)", [&](const httplib::Request&, httplib::Response& res) {
        res.status = 404;
        res.set_content(
            "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not "
            "exist</Message></Error>",
            "application/xml");
    });
    server.del("/bucket/(.*)",
               [&](const httplib::Request&, httplib::Response& res) { res.status = 204; });
    server.start();
    S3Fixture f(server);
    auto s3 = f.client();
    EXPECT_EQ(s3->find_object("bucket", "there").value(), std::optional<std::string>("content"));
    EXPECT_EQ(s3->find_object("bucket", "missing").value(), std::nullopt);
    auto no_bucket = s3->find_object("nobucket", "k");
    ASSERT_FALSE(no_bucket.ok());
    EXPECT_NE(no_bucket.error().message.find("NoSuchBucket"), std::string::npos);
    EXPECT_TRUE(s3->delete_object("bucket", "probe").ok());
    EXPECT_EQ(server.seen().back().method, "DELETE");
    EXPECT_EQ(server.seen().back().path, "/bucket/probe");
}

}  // namespace
}  // namespace hypertest::aws
