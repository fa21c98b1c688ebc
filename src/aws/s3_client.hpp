// A small S3 client (path-style for custom endpoints and dotted buckets) over util::HttpClient.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "aws/credentials.hpp"
#include "aws/endpoints.hpp"
#include "util/http.hpp"
#include "util/result.hpp"

namespace hypertest::aws {

struct S3Object {
    std::string key;
    std::uint64_t size = 0;
    std::string etag;
    std::string last_modified;
};

// Every failure carries the S3 error code and message (see errors.hpp) and its retryable flag.
class S3Client {
public:
    virtual ~S3Client() = default;
    virtual util::Status create_bucket(const std::string& bucket) = 0;
    virtual util::Status put_object(const std::string& bucket, const std::string& key,
                                    const std::string& body,
                                    const std::string& content_type = "application/octet-stream") = 0;
    virtual util::Result<std::string> get_object(const std::string& bucket, const std::string& key) = 0;
    // All objects under prefix, following continuation tokens, page_size keys per request.
    virtual util::Result<std::vector<S3Object>> list_objects(const std::string& bucket,
                                                             const std::string& prefix,
                                                             int page_size = 1000) = 0;
};

struct S3Config {
    Endpoint endpoint;  // from resolve_endpoint(system, "S3", region)
    std::shared_ptr<util::HttpClient> http;
    std::shared_ptr<CredentialsProvider> credentials;
    std::function<std::int64_t()> now_ms;
};

std::unique_ptr<S3Client> make_s3_client(S3Config config);

}  // namespace hypertest::aws
