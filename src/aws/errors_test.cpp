#include "aws/errors.hpp"

#include <gtest/gtest.h>

#include "aws/redact.hpp"
#include "aws/xml.hpp"

namespace hypertest::aws {
namespace {

util::HttpResponse response(long status, std::string body, std::map<std::string, std::string> headers = {}) {
    util::HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
}

TEST(ServiceErrors, LambdaRestJsonWithErrorTypeHeader) {
    auto r = response(429, R"({"Reason":"ConcurrentInvocationLimitExceeded","message":"Rate Exceeded."})",
                      {{"x-amzn-errortype", "TooManyRequestsException:http://internal.amazon.com/"},
                       {"x-amzn-requestid", "req-1"}, {"retry-after", "2"}});
    ServiceError e = parse_service_error(r);
    EXPECT_EQ(e.code, "TooManyRequestsException");
    EXPECT_EQ(e.message, "Rate Exceeded. (reason: ConcurrentInvocationLimitExceeded)");
    EXPECT_EQ(e.request_id, "req-1");
    EXPECT_TRUE(e.retryable);
    util::Error err = service_error(r, "Lambda Invoke my-fn");
    EXPECT_TRUE(err.retryable);
    EXPECT_TRUE(err.throttled);
    EXPECT_EQ(err.retry_after_ms, 2000);
    EXPECT_NE(err.message.find("Lambda Invoke my-fn: TooManyRequestsException (HTTP 429): Rate Exceeded."),
              std::string::npos);
    EXPECT_NE(err.message.find("request id req-1"), std::string::npos);
}

TEST(ServiceErrors, JsonTypeWithNamespaceAndCapitalMessage) {
    auto r = response(400, R"({"__type":"com.amazonaws.ecr#RepositoryNotFoundException","Message":"no repo"})");
    ServiceError e = parse_service_error(r);
    EXPECT_EQ(e.code, "RepositoryNotFoundException");
    EXPECT_EQ(e.message, "no repo");
    EXPECT_FALSE(e.retryable);
    util::Error err = service_error(r, "ECR DescribeRepositories");
    EXPECT_FALSE(err.throttled);
    EXPECT_EQ(err.retry_after_ms, -1);
}

TEST(ServiceErrors, S3XmlAndStsErrorResponse) {
    auto s3 = parse_service_error(response(503,
        "<?xml version=\"1.0\"?><Error><Code>SlowDown</Code><Message>Reduce your &amp; rate</Message>"
        "<RequestId>ABC</RequestId></Error>"));
    EXPECT_EQ(s3.code, "SlowDown");
    EXPECT_EQ(s3.message, "Reduce your & rate");
    EXPECT_EQ(s3.request_id, "ABC");
    EXPECT_TRUE(s3.retryable);
    auto sts = service_error(response(403,
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
        "<Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message>"
        "</Error><RequestId>r-9</RequestId></ErrorResponse>"), "STS GetCallerIdentity");
    EXPECT_NE(sts.message.find("InvalidClientTokenId (HTTP 403): The security token"), std::string::npos);
    EXPECT_NE(sts.message.find("Check the AWS credentials"), std::string::npos);
    EXPECT_NE(sts.message.find("request id r-9"), std::string::npos);
    EXPECT_FALSE(sts.retryable);
}

TEST(ServiceErrors, WrongRegionAndMissingBucketSayWhatToSet) {
    auto region = service_error(response(400,
        "<Error><Code>AuthorizationHeaderMalformed</Code><Message>Credential should be scoped to a valid "
        "region: 'eu-west-3' is wrong; expecting 'us-east-1'.</Message></Error>"), "S3 GetObject b/k");
    EXPECT_NE(region.message.find("set cloudProvider.region"), std::string::npos) << region.message;
    auto lambda = service_error(response(403, R"({"message":"Credential should be scoped to a valid region."})",
                                         {{"x-amzn-errortype", "InvalidSignatureException"}}), "Lambda Invoke f");
    EXPECT_NE(lambda.message.find("set cloudProvider.region"), std::string::npos) << lambda.message;
    auto bucket = service_error(response(404,
        "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>"),
        "S3 GetObject b/k");
    EXPECT_NE(bucket.message.find("set cloudProvider.bucketName"), std::string::npos) << bucket.message;
}

TEST(ServiceErrors, ErrorInsideA200AndEmptyBodies) {
    auto ok_with_error = response(200, "\n<Error><Code>InternalError</Code><Message>m</Message></Error>");
    EXPECT_TRUE(has_xml_error(ok_with_error));
    EXPECT_TRUE(parse_service_error(ok_with_error).retryable);
    EXPECT_FALSE(has_xml_error(response(200, "<CompleteMultipartUploadResult/>")));
    auto empty = service_error(response(404, ""), "S3 HeadObject b/k");
    EXPECT_EQ(empty.message, "S3 HeadObject b/k: error (HTTP 404)");
    auto html = service_error(response(502, "<html>Bad Gateway</html>"), "op");
    EXPECT_TRUE(html.retryable);
}

TEST(ServiceErrors, MessagesAreRedacted) {
    auto r = response(400, R"({"__type":"X","message":"bad header X-Amz-Security-Token=SECRETTOKEN&a=1"})");
    auto e = service_error(r, "op");
    EXPECT_EQ(e.message.find("SECRETTOKEN"), std::string::npos);
    EXPECT_NE(e.message.find("X-Amz-Security-Token=****"), std::string::npos);
}

TEST(Redact, KnownSecretsAndCredentialShapes) {
    std::string text =
        "key wJalrXUtnFEMI in text; "
        "{\"SecretAccessKey\": \"s3cr3t\", \"Token\":\"tok\", \"AccessKeyId\":\"AKID\"} "
        "<SessionToken>FQoG</SessionToken> aws_secret_access_key = abc123 "
        "Signature=deadbeef01 X-Amz-Security-Token=zzz&x=1\nAuthorization: AWS4-HMAC-SHA256 Credential=AKID/...\n"
        "WebIdentityToken=eyJhbGci";
    std::string out = redact(text, {"wJalrXUtnFEMI", "ab"});
    for (const char* secret : {"wJalrXUtnFEMI", "s3cr3t", "\"tok\"", "FQoG", "abc123", "deadbeef01", "zzz",
                               "AWS4-HMAC-SHA256 Credential", "eyJhbGci"}) {
        EXPECT_EQ(out.find(secret), std::string::npos) << secret << " in: " << out;
    }
    EXPECT_NE(out.find("\"AccessKeyId\":\"AKID\""), std::string::npos);  // key ids are not secret
    EXPECT_NE(out.find("&x=1"), std::string::npos);
    Credentials c{"AKID", "SECRETKEY", "SESSIONTOK", 0};
    EXPECT_EQ(redact_credentials("a SECRETKEY b SESSIONTOK c", c), "a **** b **** c");
}

TEST(Xml, ElementsTextAndEntities) {
    std::string xml = "<R><Contents><Key>a&lt;b</Key><Size>3</Size></Contents><Contents><Key>c&#x263A;</Key>"
                      "</Contents><Empty/><KeyCount>2</KeyCount></R>";
    auto contents = xml_elements(xml, "Contents");
    ASSERT_EQ(contents.size(), 2u);
    EXPECT_EQ(xml_text(contents[0], "Key"), "a<b");
    EXPECT_EQ(xml_text(contents[1], "Key"), "c\xE2\x98\xBA");
    EXPECT_EQ(xml_text(xml, "Empty"), "");
    EXPECT_EQ(xml_text(xml, "Key"), "a<b");  // <KeyCount> is not <Key>
    EXPECT_EQ(xml_text(xml, "KeyCount"), "2");
    EXPECT_FALSE(xml_text(xml, "Missing").has_value());
}

}  // namespace
}  // namespace hypertest::aws
