// The S3 client against s3rver (tools/aws-emulator). s3rver 3.7.1 parses SigV4
// Authorization headers and checks the access key id but not the signature itself; signature
// correctness is covered by sigv4_vectors_test.cpp. Skipped when Node or the fixture's
// node_modules are missing (run `npm ci` there).
#include "aws/s3_client.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "util/fs.hpp"
#include "util/process.hpp"
#include "util/time.hpp"

namespace hypertest::aws {
namespace {

namespace fs = std::filesystem;

const fs::path k_fixture = fs::path(HT_SOURCE_DIR) / "tools" / "aws-emulator";

class S3rver {
public:
    S3rver() {
        fs::path script = k_fixture / "node_modules" / "s3rver" / "bin" / "s3rver.js";
        fs::path node = util::find_in_path("node");
        if (node.empty() || !fs::exists(script)) {
            m_skip = "s3rver not installed (run npm ci in " + k_fixture.string() + ")";
            return;
        }
        std::string pattern = (fs::temp_directory_path() / "ht-s3rver-XXXXXX").string();
        m_dir = ::mkdtemp(pattern.data());
        util::ProcessSpec spec;
        // s3rver encrypts continuation tokens with DES, which Node 17+ only offers with this flag.
        spec.argv = {node.string(), "--openssl-legacy-provider", script.string(), "-d", (m_dir / "data").string(), "-a", "127.0.0.1", "-p", "0"};
        spec.stdout_file = m_dir / "out.log";
        spec.stderr_file = m_dir / "err.log";
        auto child = util::Child::spawn(spec);
        if (!child) {
            m_skip = child.error().message;
            return;
        }
        m_child = std::move(*child);
        for (int i = 0; i < 200 && m_port.empty(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            std::string out = util::read_file(m_dir / "out.log").ok() ? *util::read_file(m_dir / "out.log") : "";
            if (auto pos = out.find("listening on 127.0.0.1:"); pos != std::string::npos) {
                auto start = pos + std::string("listening on 127.0.0.1:").size();
                m_port = out.substr(start, out.find_first_not_of("0123456789", start) - start);
            }
        }
    }
    ~S3rver() {
        m_child.reset();
        std::error_code ec;
        if (!m_dir.empty()) fs::remove_all(m_dir, ec);
    }
    const std::string& skip_reason() const { return m_skip; }
    std::string url() const { return "http://127.0.0.1:" + m_port; }
    bool ready() const { return !m_port.empty(); }

private:
    std::string m_skip;
    fs::path m_dir;
    std::unique_ptr<util::Child> m_child;
    std::string m_port;
};

std::unique_ptr<S3Client> client_for(const S3rver& server, const std::string& key_id) {
    System system = system_with_env({{"AWS_ACCESS_KEY_ID", key_id}, {"AWS_SECRET_ACCESS_KEY", "S3RVER"},
                                     {"AWS_ENDPOINT_URL_S3", server.url()}, {"AWS_EC2_METADATA_DISABLED", "true"}});
    auto endpoint = resolve_endpoint(system, "S3", "us-east-1");
    EXPECT_TRUE(endpoint.ok());
    S3Config config;
    config.endpoint = *endpoint;
    config.http = util::make_curl_http_client();
    config.credentials = std::shared_ptr<CredentialsProvider>(make_env_provider(system));
    config.now_ms = util::now_ms;
    return make_s3_client(std::move(config));
}

TEST(S3ClientEmulator, PutGetListWithSignatureChecks) {
    S3rver server;
    if (!server.skip_reason().empty()) GTEST_SKIP() << server.skip_reason();
    ASSERT_TRUE(server.ready()) << "s3rver did not report its port";
    auto s3 = client_for(server, "S3RVER");
    auto created = s3->create_bucket("ht-artifacts");
    ASSERT_TRUE(created.ok()) << created.error().message;
    const std::vector<std::string> keys = {"run 1/a$b+c.txt", "run 1/sub/d\xC3\xA9 (1).json", "run 1/~e=f&g", "other"};
    for (const auto& key : keys) {
        auto put = s3->put_object("ht-artifacts", key, "body of " + key, "text/plain");
        ASSERT_TRUE(put.ok()) << key << ": " << put.error().message;
    }
    for (const auto& key : keys) {
        auto got = s3->get_object("ht-artifacts", key);
        ASSERT_TRUE(got.ok()) << key << ": " << got.error().message;
        EXPECT_EQ(*got, "body of " + key);
    }
    auto listed = s3->list_objects("ht-artifacts", "run 1/", 2);  // two pages of two
    ASSERT_TRUE(listed.ok()) << listed.error().message;
    std::vector<std::string> names;
    for (const auto& o : *listed) names.push_back(o.key);
    std::sort(names.begin(), names.end());
    std::vector<std::string> expected(keys.begin(), keys.begin() + 3);
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(names, expected);
    EXPECT_EQ(listed->front().size, std::string("body of ").size() + listed->front().key.size());

    auto missing = s3->get_object("ht-artifacts", "nope");
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message.find("NoSuchKey (HTTP 404)"), std::string::npos) << missing.error().message;
}

TEST(S3ClientEmulator, UnknownKeyIsRejectedWithAnActionableMessage) {
    S3rver server;
    if (!server.skip_reason().empty()) GTEST_SKIP() << server.skip_reason();
    ASSERT_TRUE(server.ready());
    auto s3 = client_for(server, "AKIDUNKNOWN");
    auto put = s3->create_bucket("ht-denied");
    ASSERT_FALSE(put.ok());
    EXPECT_NE(put.error().message.find("S3 CreateBucket ht-denied: InvalidAccessKeyId (HTTP 403)"),
              std::string::npos) << put.error().message;
    EXPECT_NE(put.error().message.find("Check the AWS credentials"), std::string::npos);
    EXPECT_FALSE(put.error().retryable);
}

}  // namespace
}  // namespace hypertest::aws
