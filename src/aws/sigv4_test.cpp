// S3 versus general signing rules, presigning and signing of util::HttpRequest.
#include "aws/sigv4.hpp"

#include <gtest/gtest.h>

#include "util/time.hpp"

namespace hypertest::aws {
namespace {

const Credentials k_s3_doc_creds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", 0};
const std::int64_t k_s3_doc_time = util::parse_iso8601_ms("2013-05-24T00:00:00Z");

std::string header(const Pairs& headers, const std::string& name) {
    for (const auto& [k, v] : headers) {
        if (to_lower(k) == name) return v;
    }
    return {};
}

// Examples from the S3 documentation (header-based auth): the key "test$file.text" is
// encoded once in the URL ("%24") and not again in the canonical request.
TEST(SigV4S3, PutObjectDocumentationExample) {
    SigningRequest req;
    req.method = "PUT";
    req.path = "/test%24file.text";
    req.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                   {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                   {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
    req.body = "Welcome to Amazon S3.";
    auto sig = sign_headers(req, k_s3_doc_creds, signing_options("s3", "us-east-1", k_s3_doc_time));
    EXPECT_NE(sig.canonical_request.find("\n/test%24file.text\n"), std::string::npos);
    EXPECT_EQ(header(sig.headers_to_add, "x-amz-content-sha256"),
              "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    EXPECT_EQ(sig.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4S3, ListObjectsDocumentationExample) {
    SigningRequest req;
    req.path = "/";
    req.query = "max-keys=2&prefix=J";
    req.headers = {{"Host", "examplebucket.s3.amazonaws.com"}};
    auto sig = sign_headers(req, k_s3_doc_creds, signing_options("s3", "us-east-1", k_s3_doc_time));
    EXPECT_EQ(sig.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4S3, SubresourceWithoutValueDocumentationExample) {
    SigningRequest req;
    req.query = "lifecycle";
    req.headers = {{"Host", "examplebucket.s3.amazonaws.com"}};
    auto sig = sign_headers(req, k_s3_doc_creds, signing_options("s3", "us-east-1", k_s3_doc_time));
    EXPECT_NE(sig.canonical_request.find("\nlifecycle=\n"), std::string::npos);
    EXPECT_EQ(sig.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4S3, PresignedGetDocumentationExample) {
    SigningRequest req;
    req.path = "/test.txt";
    req.headers = {{"Host", "examplebucket.s3.amazonaws.com"}};
    auto sig = presign_query(req, k_s3_doc_creds, signing_options("s3", "us-east-1", k_s3_doc_time), 86400);
    EXPECT_TRUE(sig.canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));
    EXPECT_EQ(sig.signature, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    EXPECT_NE(sig.query.find("X-Amz-Signature=" + sig.signature), std::string::npos);
}

TEST(SigV4S3, KeepsSlashesAndDotsInKeys) {
    SigningRequest req;
    req.path = "/bucket//a/./b/../c%20d";
    req.headers = {{"Host", "s3.us-east-1.amazonaws.com"}};
    auto s3 = sign_headers(req, k_s3_doc_creds, signing_options("s3", "us-east-1", k_s3_doc_time));
    EXPECT_NE(s3.canonical_request.find("\n/bucket//a/./b/../c%20d\n"), std::string::npos);
    auto lambda = sign_headers(req, k_s3_doc_creds, signing_options("lambda", "us-east-1", k_s3_doc_time));
    EXPECT_NE(lambda.canonical_request.find("\n/bucket/a/c%2520d\n"), std::string::npos);
}

TEST(SigV4S3, UnsignedPayloadFromHeaderOrOption) {
    SigningRequest req;
    req.method = "PUT";
    req.path = "/b/k";
    req.headers = {{"Host", "localhost:9000"}};
    req.body = "data";
    req.payload_hash = k_unsigned_payload;
    auto sig = sign_headers(req, k_s3_doc_creds, signing_options("s3", "us-east-1", k_s3_doc_time));
    EXPECT_EQ(header(sig.headers_to_add, "x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
    EXPECT_TRUE(sig.canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));

    req.payload_hash.reset();
    req.headers.emplace_back("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD");
    auto from_header = sign_headers(req, k_s3_doc_creds, signing_options("s3", "us-east-1", k_s3_doc_time));
    EXPECT_EQ(from_header.signature, sig.signature);
    EXPECT_EQ(header(from_header.headers_to_add, "x-amz-content-sha256"), "");  // not duplicated
}

TEST(SigV4, SessionTokenIsSignedAndAdded) {
    SigningRequest req;
    req.headers = {{"Host", "lambda.eu-west-1.amazonaws.com"}};
    Credentials creds = k_s3_doc_creds;
    creds.session_token = "TOKEN123";
    auto sig = sign_headers(req, creds, signing_options("lambda", "eu-west-1", k_s3_doc_time));
    EXPECT_EQ(header(sig.headers_to_add, "x-amz-security-token"), "TOKEN123");
    EXPECT_NE(sig.authorization.find("SignedHeaders=host;x-amz-date;x-amz-security-token,"),
              std::string::npos);
    EXPECT_NE(sig.authorization.find("/20130524/eu-west-1/lambda/aws4_request"), std::string::npos);
}

TEST(SigV4, SplitUrlDropsDefaultPortsOnly) {
    auto a = split_url("https://Lambda.us-east-1.amazonaws.com:443/2015-03-31/functions/f?x=1#frag");
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->host, "lambda.us-east-1.amazonaws.com");
    EXPECT_EQ(a->path, "/2015-03-31/functions/f");
    EXPECT_EQ(a->query, "x=1");
    auto b = split_url("http://127.0.0.1:4569");
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->host, "127.0.0.1:4569");
    EXPECT_EQ(b->path, "/");
    EXPECT_FALSE(split_url("ftp://x/").ok());
    EXPECT_FALSE(split_url("no-scheme/path").ok());
}

TEST(SigV4, SignHttpRequestIsIdempotentAndMatchesPureSigner) {
    util::HttpRequest http;
    http.method = "POST";
    http.url = "http://127.0.0.1:4566/2015-03-31/functions/my%20fn/invocations";
    http.headers = {{"Content-Type", "application/json"}, {"User-Agent", "hypertest"}};
    http.body = "{}";
    auto options = signing_options("lambda", "us-east-1", k_s3_doc_time);
    ASSERT_TRUE(sign_http_request(http, k_s3_doc_creds, options).ok());
    std::string first = header(http.headers, "authorization");
    ASSERT_TRUE(sign_http_request(http, k_s3_doc_creds, options).ok());
    EXPECT_EQ(header(http.headers, "authorization"), first);
    EXPECT_EQ(http.headers.size(), 4u);  // content-type, user-agent, x-amz-date, authorization

    SigningRequest req{"POST", "/2015-03-31/functions/my%20fn/invocations", "",
                       {{"host", "127.0.0.1:4566"}, {"content-type", "application/json"}}, "{}", {}};
    auto pure = sign_headers(req, k_s3_doc_creds, options);
    EXPECT_EQ(first, pure.authorization);
    EXPECT_NE(pure.canonical_request.find("/my%2520fn/"), std::string::npos);
    EXPECT_EQ(pure.authorization.find("user-agent"), std::string::npos);
}

}  // namespace
}  // namespace hypertest::aws
