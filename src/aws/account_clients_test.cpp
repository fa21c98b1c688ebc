// ECR, STS and Service Quotas calls against a local server.
#include "aws/account_clients.hpp"

#include <gtest/gtest.h>

#include <atomic>

#include "aws/test_server.hpp"
#include "aws/test_support.hpp"
#include "util/base64.hpp"

namespace hypertest::aws {
namespace {

using testing_support::LocalServer;
using testing_support::TestAws;

TEST(EcrAuthorizationToken, SendsJson11AndDecodesBasicCredentials) {
    LocalServer server;
    server.post("/", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(
            R"({"authorizationData":[{"authorizationToken":")" +
                util::base64_encode("AWS:eyJwYXlsb2FkIjoi+/=") +
                R"(","expiresAt":1.700043200E9,"proxyEndpoint":"https://123456789012.dkr.ecr.us-east-1.amazonaws.com"}]})",
            "application/x-amz-json-1.1");
    });
    server.start();
    TestAws aws(server.url());
    auto auth = ecr_get_authorization_token(aws.config("ECR"));
    ASSERT_TRUE(auth.ok()) << auth.error().message;
    EXPECT_EQ(auth->username, "AWS");
    EXPECT_EQ(auth->password, "eyJwYXlsb2FkIjoi+/=");
    EXPECT_EQ(auth->proxy_endpoint, "https://123456789012.dkr.ecr.us-east-1.amazonaws.com");
    EXPECT_EQ(auth->expires_at_ms, 1700043200000);
    auto seen = server.seen();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].header("X-Amz-Target"),
              "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken");
    EXPECT_EQ(seen[0].header("Content-Type"), "application/x-amz-json-1.1");
    EXPECT_EQ(seen[0].body, "{}");
    EXPECT_NE(seen[0].header("Authorization").find("/us-east-1/ecr/aws4_request"),
              std::string::npos);
}

TEST(EcrAuthorizationToken, AccessDeniedSaysWhatToFix) {
    LocalServer server;
    server.post("/", [](const httplib::Request&, httplib::Response& res) {
        res.status = 400;
        res.set_content(
            R"({"__type":"com.amazonaws.ecr#AccessDeniedException","message":"User: arn:aws:iam::123456789012:user/ci is not authorized to perform: ecr:GetAuthorizationToken"})",
            "application/x-amz-json-1.1");
    });
    server.start();
    TestAws aws(server.url());
    auto auth = ecr_get_authorization_token(aws.config("ECR"));
    ASSERT_FALSE(auth.ok());
    EXPECT_NE(auth.error().message.find("AccessDeniedException"), std::string::npos)
        << auth.error().message;
    EXPECT_NE(auth.error().message.find("ecr:GetAuthorizationToken"), std::string::npos);
    EXPECT_NE(auth.error().message.find("IAM policy"), std::string::npos);
}

TEST(StsCallerIdentity, PostsTheFormAndReadsTheXml) {
    LocalServer server;
    server.post("/", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(
            R"(<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::123456789012:user/ci</Arn>
    <UserId>AIDAEXAMPLE</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>)",
            "text/xml");
    });
    server.start();
    TestAws aws(server.url(), "FwoGZXIvYXdzEXAMPLETOKEN");
    auto id = sts_get_caller_identity(aws.config("STS"));
    ASSERT_TRUE(id.ok()) << id.error().message;
    EXPECT_EQ(id->account, "123456789012");
    EXPECT_EQ(id->arn, "arn:aws:iam::123456789012:user/ci");
    EXPECT_EQ(id->user_id, "AIDAEXAMPLE");
    auto seen = server.seen();
    EXPECT_EQ(seen[0].body, "Action=GetCallerIdentity&Version=2011-06-15");
    EXPECT_EQ(seen[0].header("X-Amz-Security-Token"), "FwoGZXIvYXdzEXAMPLETOKEN");
    EXPECT_NE(seen[0].header("Authorization").find("x-amz-security-token"), std::string::npos);
    EXPECT_NE(seen[0].header("Authorization").find("/us-east-1/sts/aws4_request"),
              std::string::npos);
}

TEST(StsCallerIdentity, InvalidTokenIsNotRetriedAndPointsAtCredentials) {
    LocalServer server;
    server.post("/", [](const httplib::Request&, httplib::Response& res) {
        res.status = 403;
        res.set_content(
            R"(<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>)"
            R"(<Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message>)"
            R"(</Error><RequestId>abc</RequestId></ErrorResponse>)",
            "text/xml");
    });
    server.start();
    TestAws aws(server.url());
    auto id = sts_get_caller_identity(aws.config("STS"));
    ASSERT_FALSE(id.ok());
    EXPECT_NE(id.error().message.find("InvalidClientTokenId (HTTP 403)"), std::string::npos)
        << id.error().message;
    EXPECT_NE(id.error().message.find("Check the AWS credentials"), std::string::npos);
    EXPECT_EQ(server.seen().size(), 1u);
}

TEST(ConcurrencyLimit, UsesTheAppliedQuotaFirst) {
    LocalServer server;
    server.post("/", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(
            R"({"Quota":{"ServiceCode":"lambda","QuotaCode":"L-B99A9384","Value":3000.0,"Unit":"None"}})",
            "application/x-amz-json-1.1");
    });
    server.start();
    TestAws aws(server.url());
    auto lambda = make_lambda_client(aws.config("Lambda"));
    auto limit = lambda_concurrency_limit(aws.config("Service Quotas"), *lambda);
    ASSERT_TRUE(limit.ok()) << limit.error().message;
    EXPECT_EQ(limit->value, 3000);
    EXPECT_EQ(limit->source, "Service Quotas");
    auto seen = server.seen();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].header("X-Amz-Target"), "ServiceQuotasV20190624.GetServiceQuota");
    EXPECT_EQ(util::parse_json(seen[0].body, "b").value(),
              util::Json({{"ServiceCode", "lambda"}, {"QuotaCode", "L-B99A9384"}}));
    EXPECT_NE(seen[0].header("Authorization").find("/servicequotas/aws4_request"),
              std::string::npos);
}

TEST(ConcurrencyLimit, FallsBackToTheDefaultQuotaThenToAccountSettings) {
    LocalServer server;
    std::atomic<bool> default_works{true};
    server.post("/", [&](const httplib::Request& req, httplib::Response& res) {
        bool is_default = req.get_header_value("X-Amz-Target") ==
                          "ServiceQuotasV20190624.GetAWSDefaultServiceQuota";
        if (is_default && default_works) {
            res.set_content(R"({"Quota":{"Value":1000.0}})", "application/x-amz-json-1.1");
            return;
        }
        res.status = 400;
        res.set_content(
            R"({"__type":"NoSuchResourceException","Message":"The request failed because the specified service does not exist."})",
            "application/x-amz-json-1.1");
    });
    server.get("/2016-08-19/account-settings", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(R"({"AccountLimit":{"ConcurrentExecutions":10}})", "application/json");
    });
    server.start();
    TestAws aws(server.url());
    auto lambda = make_lambda_client(aws.config("Lambda"));
    auto limit = lambda_concurrency_limit(aws.config("Service Quotas"), *lambda);
    ASSERT_TRUE(limit.ok()) << limit.error().message;
    EXPECT_EQ(limit->value, 1000);
    EXPECT_EQ(limit->source, "Service Quotas default");

    default_works = false;
    limit = lambda_concurrency_limit(aws.config("Service Quotas"), *lambda);
    ASSERT_TRUE(limit.ok()) << limit.error().message;
    EXPECT_EQ(limit->value, 10);
    EXPECT_EQ(limit->source, "Lambda account settings");
}

}  // namespace
}  // namespace hypertest::aws
