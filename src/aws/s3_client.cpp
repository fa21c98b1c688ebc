#include "aws/s3_client.hpp"

#include <chrono>

#include "aws/canonical.hpp"
#include "aws/errors.hpp"
#include "aws/sigv4.hpp"
#include "aws/xml.hpp"
#include "util/strings.hpp"

namespace hypertest::aws {
namespace {

bool virtual_host_ok(const S3Config& c, const std::string& bucket) {
    return !c.endpoint.overridden && bucket.find('.') == std::string::npos &&
           util::starts_with(c.endpoint.url, "https://");
}

class HttpS3Client : public S3Client {
public:
    explicit HttpS3Client(S3Config config) : m_config(std::move(config)) {}

    util::Status create_bucket(const std::string& bucket) override {
        auto r = send("PUT", bucket, "", {}, "", {}, "S3 CreateBucket " + bucket);
        if (!r) return r.error();
        return util::ok_status();
    }

    util::Status put_object(const std::string& bucket, const std::string& key, const std::string& body,
                            const std::string& content_type) override {
        auto r = send("PUT", bucket, key, {}, body, {{"Content-Type", content_type}},
                      "S3 PutObject " + bucket + "/" + key);
        if (!r) return r.error();
        return util::ok_status();
    }

    util::Result<std::string> get_object(const std::string& bucket, const std::string& key) override {
        auto r = send("GET", bucket, key, {}, "", {}, "S3 GetObject " + bucket + "/" + key);
        if (!r) return r.error();
        return std::move(r->body);
    }

    util::Result<std::vector<S3Object>> list_objects(const std::string& bucket, const std::string& prefix,
                                                     int page_size) override {
        std::vector<S3Object> objects;
        std::string token;
        while (true) {
            Pairs query = {{"list-type", "2"}, {"max-keys", std::to_string(page_size)}, {"prefix", prefix}};
            if (!token.empty()) query.emplace_back("continuation-token", token);
            auto r = send("GET", bucket, "", query, "", {}, "S3 ListObjectsV2 " + bucket + "/" + prefix);
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
            if (xml_text(r->body, "IsTruncated").value_or("false") != "true" || token.empty()) break;
        }
        return objects;
    }

private:
    std::string url_for(const std::string& bucket, const std::string& key, const Pairs& query) const {
        std::string url;
        if (virtual_host_ok(m_config, bucket)) {
            url = "https://" + bucket + "." + m_config.endpoint.url.substr(8) + "/" + uri_encode(key, true);
        } else {
            url = m_config.endpoint.url + "/" + uri_encode(bucket, false);
            if (!key.empty()) url += "/" + uri_encode(key, true);
        }
        if (!query.empty()) url += "?" + encode_query(query);
        return url;
    }

    util::Result<util::HttpResponse> send(const std::string& method, const std::string& bucket,
                                          const std::string& key, const Pairs& query, const std::string& body,
                                          Pairs headers, const std::string& operation) {
        auto creds = resolve_credentials(*m_config.credentials);
        if (!creds) return creds.error();
        util::HttpRequest request;
        request.method = method;
        request.url = url_for(bucket, key, query);
        request.headers = std::move(headers);
        request.body = body;
        request.timeout = std::chrono::minutes(5);
        SigningOptions options =
            signing_options(m_config.endpoint.signing_name, m_config.endpoint.signing_region, m_config.now_ms());
        if (auto signed_ok = sign_http_request(request, *creds, options); !signed_ok) return signed_ok.error();
        auto response = m_config.http->send(request);
        if (!response) return util::make_error(operation + ": " + response.error().message, true);
        // A 200 may still carry an <Error> document, but an object's own bytes are never one.
        bool object_read = method == "GET" && !key.empty();
        if (response->status < 200 || response->status >= 300 || (!object_read && has_xml_error(*response)))
            return service_error(*response, operation);
        return response;
    }

    S3Config m_config;
};

}  // namespace

std::unique_ptr<S3Client> make_s3_client(S3Config config) {
    return std::make_unique<HttpS3Client>(std::move(config));
}

}  // namespace hypertest::aws
