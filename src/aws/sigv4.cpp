#include "aws/sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdio>
#include <ctime>

#include "util/sha256.hpp"

namespace hypertest::aws {
namespace {

constexpr const char* k_algorithm = "AWS4-HMAC-SHA256";

struct Scope {
    std::string amz_date;
    std::string date;
    std::string scope;  // date/region/service/aws4_request
};

Scope make_scope(const SigningOptions& options) {
    Scope s;
    s.amz_date = amz_date(options.time_ms);
    s.date = s.amz_date.substr(0, 8);
    s.scope = s.date + "/" + options.region + "/" + options.service + "/aws4_request";
    return s;
}

bool has_header(const Pairs& headers, std::string_view lower_name) {
    for (const auto& [name, value] : headers) {
        if (to_lower(name) == lower_name) return true;
    }
    return false;
}

std::string header_value(const Pairs& headers, std::string_view lower_name) {
    for (const auto& [name, value] : headers) {
        if (to_lower(name) == lower_name) return value;
    }
    return {};
}

std::string payload_hash(const SigningRequest& request) {
    if (request.payload_hash) return *request.payload_hash;
    if (has_header(request.headers, "x-amz-content-sha256"))
        return header_value(request.headers, "x-amz-content-sha256");
    return util::sha256_hex(request.body);
}

// Headers the signer owns are dropped from the input so that re-signing is idempotent.
Pairs signable_headers(const SigningRequest& request, const Credentials& credentials) {
    Pairs out;
    for (const auto& [name, value] : request.headers) {
        std::string lower = to_lower(name);
        if (lower == "authorization" || lower == "x-amz-date") continue;
        if (lower == "x-amz-security-token" && !credentials.session_token.empty()) continue;
        out.emplace_back(name, value);
    }
    return out;
}

std::string make_canonical_request(const SigningRequest& request, const SigningOptions& options,
                                   const std::string& query, const CanonicalHeaders& headers,
                                   const std::string& hash) {
    return request.method + "\n" +
           canonical_uri(request.path, options.normalize_path, options.double_encode_path) + "\n" +
           query + "\n" + headers.block + "\n" + headers.signed_headers + "\n" + hash;
}

std::string make_string_to_sign(const Scope& scope, const std::string& canonical_request) {
    return std::string(k_algorithm) + "\n" + scope.amz_date + "\n" + scope.scope + "\n" +
           util::sha256_hex(canonical_request);
}

std::string make_signature(const Credentials& credentials, const SigningOptions& options,
                           const Scope& scope, const std::string& string_to_sign) {
    // The signing key depends on the secret, day, region and service only: derived once per
    // thread and reused (four HMACs per request were a visible share of invoke's CPU).
    struct KeyCache {
        std::string secret, date, region, service, key;
    };
    thread_local KeyCache cache;
    if (cache.key.empty() || cache.secret != credentials.secret_access_key || cache.date != scope.date ||
        cache.region != options.region || cache.service != options.service) {
        std::string key = hmac_sha256("AWS4" + credentials.secret_access_key, scope.date);
        key = hmac_sha256(key, options.region);
        key = hmac_sha256(key, options.service);
        cache = {credentials.secret_access_key, scope.date, options.region, options.service,
                 hmac_sha256(key, "aws4_request")};
    }
    return hex(hmac_sha256(cache.key, string_to_sign));
}

}  // namespace

SigningOptions signing_options(const std::string& service, const std::string& region,
                               std::int64_t time_ms) {
    SigningOptions o;
    o.service = service;
    o.region = region;
    o.time_ms = time_ms;
    if (service == "s3") {
        o.normalize_path = false;
        o.double_encode_path = false;
        o.add_content_sha256 = true;
    }
    return o;
}

std::string amz_date(std::int64_t time_ms) {
    std::time_t secs = static_cast<std::time_t>(time_ms / 1000);
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
    return std::string(reinterpret_cast<const char*>(out), len);
}

std::string hex(std::string_view bytes) {
    static constexpr char k_digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (char ch : bytes) {
        auto c = static_cast<unsigned char>(ch);
        out.push_back(k_digits[c >> 4]);
        out.push_back(k_digits[c & 0xF]);
    }
    return out;
}

HeaderSignature sign_headers(const SigningRequest& request, const Credentials& credentials,
                             const SigningOptions& options) {
    Scope scope = make_scope(options);
    std::string hash = payload_hash(request);
    Pairs headers = signable_headers(request, credentials);
    HeaderSignature result;
    result.headers_to_add.emplace_back("X-Amz-Date", scope.amz_date);
    headers.emplace_back("x-amz-date", scope.amz_date);
    bool has_token = !credentials.session_token.empty();
    if (has_token && options.sign_session_token)
        headers.emplace_back("x-amz-security-token", credentials.session_token);
    if (options.add_content_sha256 && !has_header(request.headers, "x-amz-content-sha256")) {
        headers.emplace_back("x-amz-content-sha256", hash);
        result.headers_to_add.emplace_back("x-amz-content-sha256", hash);
    }
    if (has_token) result.headers_to_add.emplace_back("X-Amz-Security-Token", credentials.session_token);

    CanonicalHeaders canonical = canonical_headers(headers);
    std::string query = canonical_query(parse_query(request.query));
    result.canonical_request = make_canonical_request(request, options, query, canonical, hash);
    result.string_to_sign = make_string_to_sign(scope, result.canonical_request);
    result.signature = make_signature(credentials, options, scope, result.string_to_sign);
    result.authorization = std::string(k_algorithm) + " Credential=" + credentials.access_key_id +
                           "/" + scope.scope + ", SignedHeaders=" + canonical.signed_headers +
                           ", Signature=" + result.signature;
    result.headers_to_add.emplace_back("Authorization", result.authorization);
    return result;
}

QuerySignature presign_query(const SigningRequest& request, const Credentials& credentials,
                             const SigningOptions& options, std::int64_t expires_seconds) {
    Scope scope = make_scope(options);
    Pairs headers = signable_headers(request, credentials);
    CanonicalHeaders canonical = canonical_headers(headers);
    SigningRequest unsigned_body = request;
    if (!request.payload_hash && options.service == "s3") unsigned_body.payload_hash = k_unsigned_payload;
    std::string hash = payload_hash(unsigned_body);

    Pairs params = parse_query(request.query);
    params.emplace_back("X-Amz-Algorithm", k_algorithm);
    params.emplace_back("X-Amz-Credential", credentials.access_key_id + "/" + scope.scope);
    params.emplace_back("X-Amz-Date", scope.amz_date);
    params.emplace_back("X-Amz-Expires", std::to_string(expires_seconds));
    bool has_token = !credentials.session_token.empty();
    if (has_token && options.sign_session_token)
        params.emplace_back("X-Amz-Security-Token", credentials.session_token);
    params.emplace_back("X-Amz-SignedHeaders", canonical.signed_headers);

    QuerySignature result;
    result.canonical_request =
        make_canonical_request(request, options, canonical_query(params), canonical, hash);
    result.string_to_sign = make_string_to_sign(scope, result.canonical_request);
    result.signature = make_signature(credentials, options, scope, result.string_to_sign);
    if (has_token && !options.sign_session_token)
        params.emplace_back("X-Amz-Security-Token", credentials.session_token);
    params.emplace_back("X-Amz-Signature", result.signature);
    result.query = encode_query(params);
    return result;
}

util::Result<UrlParts> split_url(const std::string& url) {
    UrlParts parts;
    auto scheme_end = url.find("://");
    if (scheme_end == std::string::npos)
        return util::make_error("not an absolute URL (expected http:// or https://): " + url);
    parts.scheme = to_lower(url.substr(0, scheme_end));
    if (parts.scheme != "http" && parts.scheme != "https")
        return util::make_error("unsupported URL scheme '" + parts.scheme + "' in " + url);
    std::size_t authority_start = scheme_end + 3;
    std::size_t path_start = url.find_first_of("/?#", authority_start);
    std::string authority = url.substr(authority_start, path_start - authority_start);
    if (authority.empty() || authority.find('@') != std::string::npos)
        return util::make_error("URL needs a host (and no user info): " + url);
    parts.host = to_lower(authority);
    std::string default_port = parts.scheme == "https" ? ":443" : ":80";
    if (parts.host.size() > default_port.size() &&
        parts.host.compare(parts.host.size() - default_port.size(), default_port.size(),
                           default_port) == 0 && parts.host.back() != ']')
        parts.host.resize(parts.host.size() - default_port.size());
    std::string rest = path_start == std::string::npos ? "" : url.substr(path_start);
    if (auto hash = rest.find('#'); hash != std::string::npos) rest.resize(hash);
    auto q = rest.find('?');
    parts.path = rest.substr(0, q);
    if (q != std::string::npos) parts.query = rest.substr(q + 1);
    if (parts.path.empty()) parts.path = "/";
    return parts;
}

util::Status sign_http_request(util::HttpRequest& request, const Credentials& credentials,
                               const SigningOptions& options) {
    auto url = split_url(request.url);
    if (!url) return url.error();
    SigningRequest to_sign;
    to_sign.method = request.method;
    to_sign.path = url->path;
    to_sign.query = url->query;
    to_sign.body = request.body;
    to_sign.headers = request.headers;
    if (!has_header(to_sign.headers, "host")) to_sign.headers.emplace_back("host", url->host);
    HeaderSignature signature = sign_headers(to_sign, credentials, options);
    std::erase_if(request.headers, [&](const auto& h) {
        std::string lower = to_lower(h.first);
        return lower == "authorization" || lower == "x-amz-date" ||
               (lower == "x-amz-security-token" && !credentials.session_token.empty());
    });
    for (auto& header : signature.headers_to_add) request.headers.push_back(std::move(header));
    return util::ok_status();
}

}  // namespace hypertest::aws
