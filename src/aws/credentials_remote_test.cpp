// Web identity (STS), container and IMDSv2 credentials against local HTTP servers.
#include <gtest/gtest.h>

#include <filesystem>

#include "aws/canonical.hpp"
#include "aws/credentials.hpp"
#include "aws/test_server.hpp"
#include "util/fs.hpp"

namespace hypertest::aws {
namespace {

namespace fs = std::filesystem;
using testing_support::LocalServer;

System with_env(std::map<std::string, std::string> env) {
    env.emplace("HOME", "/nonexistent-home");
    return system_with_env(std::move(env));
}

// A file in the temp directory, removed when the test ends (even after a failed ASSERT).
struct TempFile {
    TempFile(const std::string& name, const std::string& content)
        : path(fs::temp_directory_path() / ("ht-aws-" + std::to_string(::getpid()) + "-" + name)) {
        EXPECT_TRUE(util::write_file_atomic(path, content).ok());
    }
    ~TempFile() {
        std::error_code ec;
        fs::remove(path, ec);
    }
    operator std::string() const { return path.string(); }
    fs::path path;
};

std::string form_value(const std::string& body, const std::string& key) {
    for (const auto& [k, v] : parse_query(body)) {
        if (k == key) return v;
    }
    return {};
}

const char* k_sts_ok =
    "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
    "<AssumeRoleWithWebIdentityResult><Credentials><SessionToken>STS-TOKEN</SessionToken>"
    "<SecretAccessKey>STS-SECRET</SecretAccessKey><Expiration>2030-01-02T03:04:05Z</Expiration>"
    "<AccessKeyId>ASIASTS</AccessKeyId></Credentials></AssumeRoleWithWebIdentityResult>"
    "</AssumeRoleWithWebIdentityResponse>";

TEST(WebIdentityCredentials, AssumesRoleThroughSts) {
    LocalServer sts;
    sts.post("/", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(k_sts_ok, "text/xml");
    });
    sts.start();
    TempFile token("jwt", "eyJ.header.sig\n");
    auto c = make_web_identity_provider(with_env({{"AWS_WEB_IDENTITY_TOKEN_FILE", token},
                                                  {"AWS_ROLE_ARN", "arn:aws:iam::123:role/ci"},
                                                  {"AWS_ROLE_SESSION_NAME", "run-1"},
                                                  {"AWS_ENDPOINT_URL_STS", sts.url()}}))
                 ->resolve();
    ASSERT_TRUE(c.ok() && c->has_value()) << (c.ok() ? "" : c.error().message);
    EXPECT_EQ((*c)->access_key_id, "ASIASTS");
    EXPECT_EQ((*c)->secret_access_key, "STS-SECRET");
    EXPECT_EQ((*c)->session_token, "STS-TOKEN");
    EXPECT_EQ((*c)->expires_at_ms, 1893553445000);
    auto seen = sts.seen();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(form_value(seen[0].body, "Action"), "AssumeRoleWithWebIdentity");
    EXPECT_EQ(form_value(seen[0].body, "RoleArn"), "arn:aws:iam::123:role/ci");
    EXPECT_EQ(form_value(seen[0].body, "RoleSessionName"), "run-1");
    EXPECT_EQ(form_value(seen[0].body, "WebIdentityToken"), "eyJ.header.sig");
    EXPECT_EQ(seen[0].header("Authorization"), "");  // the call is unsigned
}

TEST(WebIdentityCredentials, StsErrorIsActionableAndHidesTheToken) {
    LocalServer sts;
    sts.post("/", [](const httplib::Request& req, httplib::Response& res) {
        res.status = 400;
        res.set_content("<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>"
                        "<Message>Token " + form_value(req.body, "WebIdentityToken") +
                            " is expired</Message></Error><RequestId>rq</RequestId></ErrorResponse>",
                        "text/xml");
    });
    sts.start();
    TempFile token("jwt-bad", "SECRETJWT123");
    auto c = make_web_identity_provider(with_env({{"AWS_WEB_IDENTITY_TOKEN_FILE", token},
                                                  {"AWS_ROLE_ARN", "arn:aws:iam::123:role/ci"},
                                                  {"AWS_ENDPOINT_URL", sts.url()}}))
                 ->resolve();
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.error().message.find("InvalidIdentityToken (HTTP 400)"), std::string::npos) << c.error().message;
    EXPECT_NE(c.error().message.find("arn:aws:iam::123:role/ci"), std::string::npos);
    EXPECT_EQ(c.error().message.find("SECRETJWT123"), std::string::npos) << c.error().message;
}

TEST(WebIdentityCredentials, NeedsBothVariables) {
    auto c = make_web_identity_provider(with_env({{"AWS_ROLE_ARN", "arn:x"}}))->resolve();
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.error().message.find("AWS_WEB_IDENTITY_TOKEN_FILE"), std::string::npos);
}

void serve_container_credentials(LocalServer& server, const std::string& path, const std::string& token) {
    server.get(path, [token](const httplib::Request& req, httplib::Response& res) {
        if (req.get_header_value("Authorization") != token) {
            res.status = 401;
            res.set_content("{\"message\":\"bad token " + req.get_header_value("Authorization") + "\"}",
                            "application/json");
            return;
        }
        res.set_content(R"({"AccessKeyId":"ASIACT","SecretAccessKey":"CT-SECRET","Token":"CT-TOKEN",)"
                        R"("Expiration":"2030-01-02T03:04:05Z","RoleArn":"arn:aws:iam::1:role/t"})",
                        "application/json");
    });
    server.start();
}

TEST(ContainerCredentials, RelativeUriWithoutToken) {
    LocalServer agent;
    serve_container_credentials(agent, "/v2/credentials/abc", "");
    auto c = make_container_provider(with_env({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"}}),
                                     agent.url())
                 ->resolve();
    ASSERT_TRUE(c.ok() && c->has_value()) << (c.ok() ? "" : c.error().message);
    EXPECT_EQ((*c)->access_key_id, "ASIACT");
    EXPECT_EQ((*c)->session_token, "CT-TOKEN");
    EXPECT_EQ((*c)->expires_at_ms, 1893553445000);
}

TEST(ContainerCredentials, FullUriWithTokenFileTakesPrecedence) {
    LocalServer agent;
    serve_container_credentials(agent, "/creds", "FILE-TOKEN");
    TempFile token_file("ctoken", "FILE-TOKEN\n");
    auto c = make_container_provider(with_env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", agent.url() + "/creds"},
                                               {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "ENV-TOKEN"},
                                               {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token_file}}))
                 ->resolve();
    ASSERT_TRUE(c.ok() && c->has_value()) << (c.ok() ? "" : c.error().message);
    EXPECT_EQ((*c)->secret_access_key, "CT-SECRET");
}

TEST(ContainerCredentials, RejectedTokenAndRemotePlainHttp) {
    LocalServer agent;
    serve_container_credentials(agent, "/creds", "RIGHT");
    auto denied = make_container_provider(with_env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", agent.url() + "/creds"},
                                                    {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "WRONGTOKEN99"}}))
                      ->resolve();
    ASSERT_FALSE(denied.ok());
    EXPECT_NE(denied.error().message.find("HTTP 401"), std::string::npos);
    EXPECT_EQ(denied.error().message.find("WRONGTOKEN99"), std::string::npos) << denied.error().message;
    auto remote = make_container_provider(
                      with_env({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds"}}))
                      ->resolve();
    ASSERT_FALSE(remote.ok());
    EXPECT_NE(remote.error().message.find("must use https"), std::string::npos);
}

void serve_imds(LocalServer& server) {
    server.put("/latest/api/token", [](const httplib::Request& req, httplib::Response& res) {
        if (req.get_header_value("x-aws-ec2-metadata-token-ttl-seconds").empty()) {
            res.status = 400;
            return;
        }
        res.set_content("IMDS-SESSION", "text/plain");
    });
    auto require_token = [](const httplib::Request& req, httplib::Response& res) {
        if (req.get_header_value("x-aws-ec2-metadata-token") == "IMDS-SESSION") return true;
        res.status = 401;
        return false;
    };
    server.get("/latest/meta-data/iam/security-credentials/",
                        [=](const httplib::Request& req, httplib::Response& res) {
                            if (require_token(req, res)) res.set_content("web-role\n", "text/plain");
                        });
    server.get("/latest/meta-data/iam/security-credentials/web-role",
                        [=](const httplib::Request& req, httplib::Response& res) {
                            if (!require_token(req, res)) return;
                            res.set_content(R"({"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIAIMDS",)"
                                            R"("SecretAccessKey":"IMDS-SECRET","Token":"IMDS-TOKEN",)"
                                            R"("Expiration":"2030-01-02T03:04:05Z"})",
                                            "text/plain");
                        });
    server.start();
}

TEST(ImdsCredentials, TokenThenRoleThenCredentials) {
    LocalServer imds;
    serve_imds(imds);
    auto c = make_imds_provider(with_env({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url() + "/"}}))->resolve();
    ASSERT_TRUE(c.ok() && c->has_value()) << (c.ok() ? "" : c.error().message);
    EXPECT_EQ((*c)->access_key_id, "ASIAIMDS");
    EXPECT_EQ((*c)->session_token, "IMDS-TOKEN");
    auto seen = imds.seen();
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[0].method, "PUT");
    EXPECT_EQ(seen[2].path, "/latest/meta-data/iam/security-credentials/web-role");
}

TEST(ImdsCredentials, UnreachableOrDisabledMeansNotConfigured) {
    int closed_port = 0;
    {
        LocalServer gone;  // take a free port, then close it
        gone.start();
        closed_port = std::stoi(gone.url().substr(gone.url().rfind(':') + 1));
    }
    auto unreachable = make_imds_provider(
                           with_env({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:" + std::to_string(closed_port)}}))
                           ->resolve();
    ASSERT_TRUE(unreachable.ok());
    EXPECT_FALSE(unreachable->has_value());
    LocalServer imds;
    serve_imds(imds);
    auto disabled = make_imds_provider(with_env({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url()},
                                                 {"AWS_EC2_METADATA_DISABLED", "true"}}))
                        ->resolve();
    ASSERT_TRUE(disabled.ok());
    EXPECT_FALSE(disabled->has_value());
    EXPECT_TRUE(imds.seen().empty());
}

TEST(ImdsCredentials, NoRoleAttachedIsExplained) {
    LocalServer imds;
    imds.put("/latest/api/token", [](const httplib::Request&, httplib::Response& res) {
        res.set_content("T", "text/plain");
    });
    imds.start();
    auto c = make_imds_provider(with_env({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url()}}))->resolve();
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.error().message.find("no IAM role attached"), std::string::npos);
}

}  // namespace
}  // namespace hypertest::aws
