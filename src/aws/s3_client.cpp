#include "aws/s3_client.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include "aws/canonical.hpp"
#include "aws/errors.hpp"
#include "aws/redact.hpp"
#include "aws/sigv4.hpp"
#include "aws/xml.hpp"
#include "util/sha256.hpp"
#include "util/strings.hpp"

namespace hypertest::aws {
namespace {

namespace fs = std::filesystem;

bool virtual_host_ok(const S3Config& c, const std::string& bucket) {
    return !c.endpoint.overridden && bucket.find('.') == std::string::npos &&
           util::starts_with(c.endpoint.url, "https://");
}

// One S3 request; the body is `body`, or a region of `file` when file is set.
struct S3Call {
    std::string method;
    std::string bucket;
    std::string key;
    Pairs query;
    Pairs headers;
    std::string body;
    fs::path file;
    std::uint64_t offset = 0;
    std::int64_t length = -1;
    std::string operation;
};

util::Result<std::string> sha256_of_range(const fs::path& file, std::uint64_t offset,
                                          std::uint64_t length) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return util::make_error("cannot read " + file.string());
    in.seekg(static_cast<std::streamoff>(offset));
    util::Sha256 hash;
    std::string buffer(1 << 16, '\0');
    while (length > 0 && in) {
        in.read(buffer.data(),
                static_cast<std::streamsize>(std::min<std::uint64_t>(buffer.size(), length)));
        auto got = static_cast<std::uint64_t>(in.gcount());
        if (got == 0) break;
        hash.update(std::string_view(buffer.data(), got));
        length -= got;
    }
    if (length > 0)
        return util::make_error("cannot read " + file.string() + ": it shrank while uploading");
    return hash.hex();
}

class HttpS3Client : public S3Client {
  public:
    explicit HttpS3Client(S3Config config) : m_config(std::move(config)) {}

    util::Status create_bucket(const std::string& bucket) override {
        return status(
            send({"PUT", bucket, "", {}, {}, "", {}, 0, -1, "S3 CreateBucket " + bucket}));
    }

    util::Status put_object(const std::string& bucket, const std::string& key,
                            const std::string& body, const std::string& content_type) override {
        return status(send({"PUT",
                            bucket,
                            key,
                            {},
                            {{"Content-Type", content_type}},
                            body,
                            {},
                            0,
                            -1,
                            "S3 PutObject " + bucket + "/" + key}));
    }

    util::Status put_file(const std::string& bucket, const std::string& key, const fs::path& file,
                          const std::string& content_type) override {
        std::error_code ec;
        auto size = fs::file_size(file, ec);
        if (ec) return util::make_error("cannot upload " + file.string() + ": " + ec.message());
        if (size > m_config.multipart_threshold && m_config.part_size > 0)
            return put_multipart(bucket, key, file, size, content_type);
        auto hash = sha256_of_range(file, 0, size);
        if (!hash) return hash.error();
        return status(send({"PUT",
                            bucket,
                            key,
                            {},
                            {{"Content-Type", content_type}, {"x-amz-content-sha256", *hash}},
                            "",
                            file,
                            0,
                            static_cast<std::int64_t>(size),
                            "S3 PutObject " + bucket + "/" + key}));
    }

    util::Result<std::string> get_object(const std::string& bucket,
                                         const std::string& key) override {
        auto r =
            send({"GET", bucket, key, {}, {}, "", {}, 0, -1, "S3 GetObject " + bucket + "/" + key});
        if (!r) return r.error();
        return std::move(r->body);
    }

    util::Result<std::optional<std::string>> find_object(const std::string& bucket,
                                                         const std::string& key) override {
        ServiceError failure;
        auto r =
            send({"GET", bucket, key, {}, {}, "", {}, 0, -1, "S3 GetObject " + bucket + "/" + key},
                 &failure);
        if (r) return std::optional<std::string>(std::move(r->body));
        if (failure.code == "NoSuchKey" || (failure.status == 404 && failure.code.empty()))
            return std::optional<std::string>();
        return r.error();
    }

    util::Status delete_object(const std::string& bucket, const std::string& key) override {
        return status(send({"DELETE",
                            bucket,
                            key,
                            {},
                            {},
                            "",
                            {},
                            0,
                            -1,
                            "S3 DeleteObject " + bucket + "/" + key}));
    }

    util::Result<std::vector<S3Object>> list_objects(const std::string& bucket,
                                                     const std::string& prefix,
                                                     int page_size) override {
        std::vector<S3Object> objects;
        std::string token;
        while (true) {
            Pairs query = {
                {"list-type", "2"}, {"max-keys", std::to_string(page_size)}, {"prefix", prefix}};
            if (!token.empty()) query.emplace_back("continuation-token", token);
            auto r = send({"GET",
                           bucket,
                           "",
                           query,
                           {},
                           "",
                           {},
                           0,
                           -1,
                           "S3 ListObjectsV2 " + bucket + "/" + prefix});
            if (!r) return r.error();
            for (auto element : xml_elements(r->body, "Contents")) {
                S3Object o;
                o.key = xml_text(element, "Key").value_or("");
                o.size = std::stoull("0" + xml_text(element, "Size").value_or("0"));
                o.etag = xml_text(element, "ETag").value_or("");
                o.last_modified = xml_text(element, "LastModified").value_or("");
                objects.push_back(std::move(o));
            }
            token = xml_text(r->body, "NextContinuationToken").value_or("");
            if (xml_text(r->body, "IsTruncated").value_or("false") != "true" || token.empty())
                break;
        }
        return objects;
    }

  private:
    static util::Status status(const util::Result<util::HttpResponse>& r) {
        if (!r) return r.error();
        return util::ok_status();
    }

    util::Status put_multipart(const std::string& bucket, const std::string& key,
                               const fs::path& file, std::uint64_t size,
                               const std::string& content_type) {
        std::string name = bucket + "/" + key;
        auto created = send({"POST",
                             bucket,
                             key,
                             {{"uploads", ""}},
                             {{"Content-Type", content_type}},
                             "",
                             {},
                             0,
                             -1,
                             "S3 CreateMultipartUpload " + name});
        if (!created) return created.error();
        std::string upload_id = xml_text(created->body, "UploadId").value_or("");
        if (upload_id.empty())
            return util::make_error("S3 CreateMultipartUpload " + name +
                                    ": no UploadId in the answer");
        auto done = upload_parts(bucket, key, file, size, upload_id);
        if (!done) {
            // Best effort: an unfinished upload keeps costing storage until a lifecycle rule ends
            // it.
            (void)send({"DELETE",
                        bucket,
                        key,
                        {{"uploadId", upload_id}},
                        {},
                        "",
                        {},
                        0,
                        -1,
                        "S3 AbortMultipartUpload " + name});
            return done.error();
        }
        return util::ok_status();
    }

    util::Status upload_parts(const std::string& bucket, const std::string& key,
                              const fs::path& file, std::uint64_t size,
                              const std::string& upload_id) {
        std::string name = bucket + "/" + key;
        std::string complete =
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
        int part = 1;
        for (std::uint64_t offset = 0; offset < size; offset += m_config.part_size, ++part) {
            std::uint64_t length = std::min(m_config.part_size, size - offset);
            auto hash = sha256_of_range(file, offset, length);
            if (!hash) return hash.error();
            auto r = send({"PUT",
                           bucket,
                           key,
                           {{"partNumber", std::to_string(part)}, {"uploadId", upload_id}},
                           {{"x-amz-content-sha256", *hash}},
                           "",
                           file,
                           offset,
                           static_cast<std::int64_t>(length),
                           "S3 UploadPart " + std::to_string(part) + " of " + name});
            if (!r) return r.error();
            std::string etag = r->header("etag");
            if (etag.empty())
                return util::make_error("S3 UploadPart " + std::to_string(part) + " of " + name +
                                        ": no ETag");
            complete += "<Part><PartNumber>" + std::to_string(part) + "</PartNumber><ETag>" +
                        util::xml_escape(etag) + "</ETag></Part>";
        }
        complete += "</CompleteMultipartUpload>";
        return status(send({"POST",
                            bucket,
                            key,
                            {{"uploadId", upload_id}},
                            {{"Content-Type", "application/xml"}},
                            complete,
                            {},
                            0,
                            -1,
                            "S3 CompleteMultipartUpload " + name}));
    }

    std::string url_for(const std::string& bucket, const std::string& key,
                        const Pairs& query) const {
        std::string url;
        if (virtual_host_ok(m_config, bucket)) {
            url = "https://" + bucket + "." + m_config.endpoint.url.substr(8) + "/" +
                  uri_encode(key, true);
        } else {
            url = m_config.endpoint.url + "/" + uri_encode(bucket, false);
            if (!key.empty()) url += "/" + uri_encode(key, true);
        }
        if (!query.empty()) url += "?" + encode_query(query);
        return url;
    }

    void wait(std::chrono::milliseconds delay) {
        if (m_config.sleep)
            m_config.sleep(delay);
        else
            std::this_thread::sleep_for(delay);
    }

    // failure, when given, receives the parsed error of the last attempt's answer.
    util::Result<util::HttpResponse> send(const S3Call& call, ServiceError* failure = nullptr) {
        auto backoff = m_config.initial_backoff;
        int attempts = std::max(1, m_config.max_attempts);
        for (int attempt = 1;; ++attempt) {
            auto r = send_once(call, failure);
            if (r || !r.error().retryable || attempt >= attempts) return r;
            wait(backoff);
            backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
        }
    }

    util::Result<util::HttpResponse> send_once(const S3Call& call, ServiceError* failure) {
        auto creds = resolve_credentials(*m_config.credentials);
        if (!creds) return creds.error();
        util::HttpRequest request;
        request.method = call.method;
        request.url = url_for(call.bucket, call.key, call.query);
        request.headers = call.headers;
        request.body = call.body;
        request.body_file = call.file;
        request.body_file_offset = call.offset;
        request.body_file_length = call.length;
        request.timeout = std::chrono::minutes(5);
        SigningOptions options = signing_options(
            m_config.endpoint.signing_name, m_config.endpoint.signing_region, m_config.now_ms());
        if (auto signed_ok = sign_http_request(request, *creds, options); !signed_ok)
            return signed_ok.error();
        auto response = m_config.http->send(request);
        if (!response) {
            return util::make_error(
                call.operation + ": " + redact_credentials(response.error().message, *creds), true);
        }
        // A 200 may still carry an <Error> document, but an object's own bytes are never one.
        bool object_read = call.method == "GET" && !call.key.empty();
        if (response->status < 200 || response->status >= 300 ||
            (!object_read && has_xml_error(*response))) {
            if (failure != nullptr) *failure = parse_service_error(*response);
            return service_error(*response, call.operation);
        }
        return response;
    }

    S3Config m_config;
};

}  // namespace

std::string content_type_for(const std::string& key) {
    static const std::map<std::string, std::string> k_types = {
        {".json", "application/json"}, {".zip", "application/zip"}, {".png", "image/png"},
        {".jpg", "image/jpeg"},        {".jpeg", "image/jpeg"},     {".webm", "video/webm"},
        {".html", "text/html"},        {".txt", "text/plain"},      {".xml", "application/xml"},
        {".md", "text/markdown"},      {".log", "text/plain"},      {".svg", "image/svg+xml"},
        {".css", "text/css"},          {".js", "text/javascript"},  {".gz", "application/gzip"}};
    std::string ext = fs::path(key).extension().string();
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto it = k_types.find(ext);
    return it == k_types.end() ? "application/octet-stream" : it->second;
}

std::unique_ptr<S3Client> make_s3_client(S3Config config) {
    return std::make_unique<HttpS3Client>(std::move(config));
}

}  // namespace hypertest::aws
