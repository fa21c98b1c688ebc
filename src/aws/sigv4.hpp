// AWS Signature Version 4 as pure functions: (request, credentials, options) -> what to add.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "aws/canonical.hpp"
#include "util/http.hpp"
#include "util/result.hpp"

namespace hypertest::aws {

struct Credentials {
    std::string access_key_id;
    std::string secret_access_key;
    std::string session_token;       // empty: long-term keys
    std::int64_t expires_at_ms = 0;  // 0: does not expire
};

inline constexpr const char* k_unsigned_payload = "UNSIGNED-PAYLOAD";

struct SigningRequest {
    std::string method = "GET";
    std::string path = "/";  // as sent on the wire (already percent-encoded), no query
    std::string query;       // as sent on the wire, without '?'
    Pairs headers;           // must hold Host
    std::string body;
    // Replaces the body's hash, e.g. k_unsigned_payload. A request header
    // x-amz-content-sha256 has the same effect.
    std::optional<std::string> payload_hash;
};

struct SigningOptions {
    std::string region;
    std::string service;  // signing name: s3, lambda, ecr, sts, ...
    std::int64_t time_ms = 0;
    bool normalize_path = true;      // S3: false
    bool double_encode_path = true;  // S3: false (keys are encoded once, in the URL)
    bool add_content_sha256 = false; // S3: true (x-amz-content-sha256 header)
    bool sign_session_token = true;  // false: the token is sent but left out of the signature
};

// The options AWS SDKs use for `service`: S3 rules for "s3", the general rules otherwise.
SigningOptions signing_options(const std::string& service, const std::string& region,
                               std::int64_t time_ms);

struct HeaderSignature {
    Pairs headers_to_add;  // X-Amz-Date, [X-Amz-Security-Token], [x-amz-content-sha256], Authorization
    std::string canonical_request;
    std::string string_to_sign;
    std::string signature;
    std::string authorization;
};

HeaderSignature sign_headers(const SigningRequest& request, const Credentials& credentials,
                             const SigningOptions& options);

struct QuerySignature {
    std::string query;  // the full query to send (request's own parameters included)
    std::string canonical_request;
    std::string string_to_sign;
    std::string signature;
};

// Presigned URL variant: authentication travels in the query (X-Amz-Signature and friends).
QuerySignature presign_query(const SigningRequest& request, const Credentials& credentials,
                             const SigningOptions& options, std::int64_t expires_seconds);

// "20150830T123600Z"
std::string amz_date(std::int64_t time_ms);
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw bytes
std::string hex(std::string_view bytes);

struct UrlParts {
    std::string scheme;  // "http" or "https"
    std::string host;    // what the Host header carries: name[:port], port only if not default
    std::string path;    // "/" when empty
    std::string query;   // without '?'
};
util::Result<UrlParts> split_url(const std::string& url);

// Signs `request` in place: adds the headers of sign_headers (Host is signed but not added;
// the HTTP client derives the same value from the URL). Fails only on a malformed URL.
util::Status sign_http_request(util::HttpRequest& request, const Credentials& credentials,
                               const SigningOptions& options);

}  // namespace hypertest::aws
