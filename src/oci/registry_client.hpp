// A client of the OCI distribution API (registry v2) over util::HttpClient: anonymous, Basic
// and Bearer-token auth, retries with backoff, digests verified on every download.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "oci/manifest.hpp"
#include "util/http.hpp"
#include "util/result.hpp"

namespace hypertest::oci {

namespace fs = std::filesystem;

struct RegistryCredentials {
    std::string username;
    std::string password;
    bool empty() const { return username.empty() && password.empty(); }
};

struct RegistryOptions {
    // Plain HTTP to a host that is not loopback. TLS, when used, always verifies the peer.
    bool insecure = false;
    RegistryCredentials credentials;  // empty: anonymous (tokens are still fetched if asked)
    // Appended to authentication errors: where the user sets credentials.
    std::string credentials_hint;
    int max_attempts = 5;  // per request, on transport errors, 429 and 5xx
    std::chrono::milliseconds initial_backoff{200};
    std::chrono::milliseconds max_backoff{10000};
    // Blobs larger than this are uploaded in PATCH chunks of chunk_size bytes.
    std::int64_t chunk_threshold = std::int64_t{256} << 20;
    std::int64_t chunk_size = std::int64_t{64} << 20;
    std::chrono::milliseconds request_timeout{0};  // 0: none
    // How to wait between attempts; tests replace it. Default: std::this_thread::sleep_for.
    std::function<void(std::chrono::milliseconds)> sleep;
};

// Registries refuse manifests above 4 MiB; a bigger answer is hostile or broken.
inline constexpr std::int64_t k_max_manifest_bytes = std::int64_t{4} << 20;

struct FetchedManifest {
    std::string bytes;   // exactly as served
    std::string digest;  // sha256 of bytes, verified against the reference or the header
    ParsedManifest parsed;
};

enum class BlobAction { uploaded, skipped, mounted, downloaded, present };
std::string to_string(BlobAction action);

class RegistryClient {
public:
    // host: "registry.example.com" or "127.0.0.1:5000" (see registry_ref.hpp).
    RegistryClient(std::string host, RegistryOptions options,
                   std::unique_ptr<util::HttpClient> http);
    ~RegistryClient();
    RegistryClient(const RegistryClient&) = delete;
    RegistryClient& operator=(const RegistryClient&) = delete;

    const std::string& host() const { return m_host; }
    std::string base_url() const;  // scheme://host

    // Fails on 404 ("not found"), a digest mismatch or a malformed manifest.
    util::Result<FetchedManifest> get_manifest(const std::string& repository,
                                               const std::string& reference);
    // The digest the reference names (Docker-Content-Digest), "" when the registry does not
    // say; nullopt when it does not exist.
    util::Result<std::optional<std::string>> head_manifest(const std::string& repository,
                                                           const std::string& reference);
    // PUT with Content-Type = media_type. Returns the digest of bytes.
    util::Result<std::string> put_manifest(const std::string& repository,
                                           const std::string& reference,
                                           const std::string& media_type, const std::string& bytes);

    util::Result<bool> has_blob(const std::string& repository, const std::string& digest);
    // Streams the blob into dest (created or replaced) and checks its sha256; dest is removed
    // when the check fails. size > 0: the descriptor's size, beyond which the download stops.
    util::Status get_blob(const std::string& repository, const std::string& digest,
                          const fs::path& dest, std::int64_t size = 0);
    // Uploads file (size bytes, whose sha256 is digest): tries a cross-repository mount from
    // mount_from first when set, else POST then PUT (PATCH chunks above chunk_threshold).
    // Returns uploaded or mounted.
    util::Result<BlobAction> push_blob(const std::string& repository, const std::string& digest,
                                       const fs::path& file, std::int64_t size,
                                       const std::string& mount_from = {});

    // Requests sent so far (attempts, auth round trips and redirects included), by method.
    const std::map<std::string, int>& request_counts() const { return m_counts; }

private:
    struct Call;
    util::Result<util::HttpResponse> send(Call& call);
    util::Result<util::HttpResponse> send_once(Call& call);
    util::Result<util::HttpResponse> send_with_retries(Call& call);
    util::Status authenticate(const Call& call, const util::HttpResponse& challenge_response);
    void add_auth(Call& call);
    bool credentials_safe_for(const std::string& url) const;
    util::Error http_error(const Call& call, const util::HttpResponse& resp) const;
    std::string resolve_location(const std::string& location) const;
    util::Status upload(const std::string& repository, std::string location,
                        const std::string& digest, const fs::path& file, std::int64_t size);

    std::string m_host;
    RegistryOptions m_options;
    std::unique_ptr<util::HttpClient> m_http;
    std::string m_basic;  // Authorization value once the registry asked for Basic
    std::optional<std::map<std::string, std::string>> m_bearer;  // realm, service once asked
    std::map<std::string, std::string> m_tokens;                 // scope key -> token
    std::map<std::string, int> m_counts;
};

// The Bearer scope of an operation: "repository:<repo>:pull" or "...:pull,push".
std::string repository_scope(const std::string& repository, bool push);

}  // namespace hypertest::oci
