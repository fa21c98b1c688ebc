// The registry client's operations on manifests and blobs.
#include <system_error>

#include "oci/registry_auth.hpp"
#include "oci/registry_client.hpp"
#include "oci/registry_internal.hpp"
#include "util/sha256.hpp"

namespace hypertest::oci {
namespace {

bool success(long status) { return status >= 200 && status < 300; }

std::string with_query(const std::string& url, const std::string& param) {
    return url + (url.find('?') == std::string::npos ? "?" : "&") + param;
}

std::string manifest_what(const std::string& verb, const std::string& repository,
                          const std::string& reference) {
    return verb + " manifest " + repository + (util::is_sha256_digest(reference) ? "@" : ":") +
           reference;
}

util::Error digest_mismatch(const std::string& what, const std::string& expected,
                            const std::string& actual) {
    return util::make_error(what + ": digest mismatch: expected " + expected +
                            " but the content hashes to " + actual +
                            " (corrupted in transit or by the registry)");
}

}  // namespace

util::Result<FetchedManifest> RegistryClient::get_manifest(const std::string& repository,
                                                           const std::string& reference) {
    Call call;
    call.request.url = base_url() + "/v2/" + repository + "/manifests/" + reference;
    call.request.headers = {{"Accept", manifest_accept_header()}};
    call.request.max_response_bytes = k_max_manifest_bytes;
    call.scopes = {repository_scope(repository, false)};
    call.what = manifest_what("GET", repository, reference);
    auto resp = send(call);
    if (!resp) return resp.error();
    if (resp->status != 200) return http_error(call, *resp);
    FetchedManifest m;
    m.bytes = std::move(resp->body);
    m.digest = "sha256:" + util::sha256_hex(m.bytes);
    std::string expected =
        util::is_sha256_digest(reference) ? reference : resp->header("docker-content-digest");
    if (util::is_sha256_digest(expected) && expected != m.digest)
        return digest_mismatch(call.what, expected, m.digest);
    auto parsed = parse_manifest(m.bytes, resp->header("content-type"));
    if (!parsed)
        return util::make_error(call.what + " at " + m_host + ": " + parsed.error().message);
    m.parsed = std::move(*parsed);
    return m;
}

util::Result<std::optional<std::string>> RegistryClient::head_manifest(
    const std::string& repository, const std::string& reference) {
    Call call;
    call.request.method = "HEAD";
    call.request.url = base_url() + "/v2/" + repository + "/manifests/" + reference;
    call.request.headers = {{"Accept", manifest_accept_header()}};
    call.scopes = {repository_scope(repository, false)};
    call.what = manifest_what("HEAD", repository, reference);
    auto resp = send(call);
    if (!resp) return resp.error();
    if (resp->status == 404) return std::optional<std::string>();
    if (resp->status != 200) return http_error(call, *resp);
    return std::optional<std::string>(resp->header("docker-content-digest"));
}

util::Result<std::string> RegistryClient::put_manifest(const std::string& repository,
                                                       const std::string& reference,
                                                       const std::string& media_type,
                                                       const std::string& bytes) {
    Call call;
    call.request.method = "PUT";
    call.request.url = base_url() + "/v2/" + repository + "/manifests/" + reference;
    call.request.headers = {{"Content-Type", media_type}};
    call.request.body = bytes;
    call.scopes = {repository_scope(repository, true)};
    call.what = manifest_what("PUT", repository, reference);
    auto resp = send(call);
    if (!resp) return resp.error();
    if (!success(resp->status)) return http_error(call, *resp);
    std::string digest = "sha256:" + util::sha256_hex(bytes);
    std::string stored = resp->header("docker-content-digest");
    if (util::is_sha256_digest(stored) && stored != digest)
        return digest_mismatch(call.what, digest, stored);
    return digest;
}

util::Result<bool> RegistryClient::has_blob(const std::string& repository,
                                            const std::string& digest) {
    Call call;
    call.request.method = "HEAD";
    call.request.url = base_url() + "/v2/" + repository + "/blobs/" + digest;
    call.scopes = {repository_scope(repository, false)};
    call.what = "HEAD blob " + repository + "@" + digest;
    auto resp = send(call);
    if (!resp) return resp.error();
    if (resp->status == 404) return false;
    if (resp->status != 200) return http_error(call, *resp);
    return true;
}

util::Status RegistryClient::get_blob(const std::string& repository, const std::string& digest,
                                      const fs::path& dest, std::int64_t size) {
    Call call;
    call.request.url = base_url() + "/v2/" + repository + "/blobs/" + digest;
    call.request.response_file = dest;
    // The descriptor says how big the blob is: a registry sending more is cut off there.
    call.request.max_response_bytes = size > 0 ? size : 0;
    call.scopes = {repository_scope(repository, false)};
    call.what = "GET blob " + repository + "@" + digest;
    auto resp = send(call);
    if (!resp) return resp.error();
    if (resp->status != 200) return http_error(call, *resp);
    auto actual = util::sha256_file_hex(dest);
    std::error_code ec;
    if (!actual) {
        fs::remove(dest, ec);
        return actual.error();
    }
    if ("sha256:" + *actual != digest) {
        fs::remove(dest, ec);
        return digest_mismatch(call.what, digest, "sha256:" + *actual);
    }
    return util::ok_status();
}

util::Result<BlobAction> RegistryClient::push_blob(const std::string& repository,
                                                   const std::string& digest, const fs::path& file,
                                                   std::int64_t size,
                                                   const std::string& mount_from) {
    Call call;
    call.request.method = "POST";
    call.request.url = base_url() + "/v2/" + repository + "/blobs/uploads/";
    call.scopes = {repository_scope(repository, true)};
    call.what = "POST upload " + repository + "@" + digest;
    if (!mount_from.empty() && mount_from != repository) {
        call.request.url += "?mount=" + url_encode(digest) + "&from=" + url_encode(mount_from);
        call.scopes.push_back(repository_scope(mount_from, false));
        call.what = "POST mount " + digest + " from " + mount_from + " into " + repository;
    }
    auto resp = send(call);
    if (!resp) return resp.error();
    if (resp->status == 201 && !mount_from.empty()) return BlobAction::mounted;
    if (resp->status != 202 || resp->header("location").empty()) return http_error(call, *resp);
    if (auto s = upload(repository, resolve_location(resp->header("location")), digest, file, size);
        !s) {
        return s.error();
    }
    return BlobAction::uploaded;
}

util::Status RegistryClient::upload(const std::string& repository, std::string location,
                                    const std::string& digest, const fs::path& file,
                                    std::int64_t size) {
    std::vector<std::string> scopes = {repository_scope(repository, true)};
    std::int64_t offset = 0;
    if (size > m_options.chunk_threshold) {
        while (offset < size) {
            std::int64_t n = std::min(m_options.chunk_size, size - offset);
            Call patch;
            patch.request.method = "PATCH";
            patch.request.url = location;
            patch.request.body_file = file;
            patch.request.body_file_offset = static_cast<std::uint64_t>(offset);
            patch.request.body_file_length = n;
            patch.request.headers = {
                {"Content-Type", "application/octet-stream"},
                {"Content-Range", std::to_string(offset) + "-" + std::to_string(offset + n - 1)}};
            patch.scopes = scopes;
            patch.what = "PATCH blob " + repository + "@" + digest + " bytes " +
                         std::to_string(offset) + "-" + std::to_string(offset + n - 1);
            auto resp = send(patch);
            if (!resp) return resp.error();
            if (resp->status != 202) return http_error(patch, *resp);
            if (!resp->header("location").empty())
                location = resolve_location(resp->header("location"));
            offset += n;
        }
    }
    Call put;
    put.request.method = "PUT";
    put.request.url = with_query(location, "digest=" + url_encode(digest));
    put.request.headers = {{"Content-Type", "application/octet-stream"}};
    if (offset < size) {
        put.request.body_file = file;  // monolithic: the whole blob in the closing PUT
    }
    put.scopes = scopes;
    put.what = "PUT blob " + repository + "@" + digest;
    auto resp = send(put);
    if (!resp) return resp.error();
    if (resp->status != 201) return http_error(put, *resp);
    return util::ok_status();
}

}  // namespace hypertest::oci
