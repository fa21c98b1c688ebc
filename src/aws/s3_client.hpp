// A small S3 client (path-style for custom endpoints and dotted buckets) over util::HttpClient.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
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
// Transport errors, 5xx and SlowDown are retried (S3Config::max_attempts) before failing.
class S3Client {
public:
    virtual ~S3Client() = default;
    virtual util::Status create_bucket(const std::string& bucket) = 0;
    virtual util::Status put_object(const std::string& bucket, const std::string& key,
                                    const std::string& body,
                                    const std::string& content_type = "application/octet-stream") = 0;
    // Streams the file; above S3Config::multipart_threshold bytes as a multipart upload
    // (aborted when a part fails).
    virtual util::Status put_file(const std::string& bucket, const std::string& key,
                                  const std::filesystem::path& file,
                                  const std::string& content_type = "application/octet-stream") = 0;
    virtual util::Result<std::string> get_object(const std::string& bucket, const std::string& key) = 0;
    // nullopt when the key (NoSuchKey) does not exist; a missing bucket is still an error.
    virtual util::Result<std::optional<std::string>> find_object(const std::string& bucket,
                                                                 const std::string& key) = 0;
    virtual util::Status delete_object(const std::string& bucket, const std::string& key) = 0;
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
    int max_attempts = 4;
    std::chrono::milliseconds initial_backoff{200};
    // How to wait between attempts; tests replace it. Default: std::this_thread::sleep_for.
    std::function<void(std::chrono::milliseconds)> sleep;
    std::uint64_t multipart_threshold = std::uint64_t{64} << 20;
    std::uint64_t part_size = std::uint64_t{16} << 20;  // S3 needs >= 5 MiB but for the last part
};

std::unique_ptr<S3Client> make_s3_client(S3Config config);

// The Content-Type of an object from its key's extension (application/octet-stream otherwise).
std::string content_type_for(const std::string& key);

}  // namespace hypertest::aws
