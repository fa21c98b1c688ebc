// An in-memory registry behind util::HttpClient, for the registry client's unit tests.
// Speaks enough of the distribution API: manifests, blobs, uploads (POST/PATCH/PUT), mounts,
// Basic or Bearer auth, injected failures.
#pragma once

#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "oci/registry_auth.hpp"
#include "util/http.hpp"
#include "util/sha256.hpp"
#include "util/strings.hpp"

namespace hypertest::oci::test {

class FakeRegistry : public util::HttpClient {
public:
    enum class Auth { none, basic, bearer };
    struct Stored {
        std::string media_type;
        std::string bytes;
    };

    Auth auth = Auth::none;
    std::string user = "AWS";
    std::string password = "secret";
    bool allow_anonymous_pull = false;  // bearer: anonymous tokens may pull
    std::string realm = "https://auth.test/token";  // bearer: where tokens are handed out
    std::map<std::string, std::map<std::string, std::string>> blobs;  // repo -> digest -> bytes
    std::map<std::string, std::map<std::string, Stored>> manifests;   // repo -> ref -> manifest
    std::vector<util::HttpRequest> log;                               // every request received
    std::vector<long> statuses;                                       // every status answered
    // Answers the next requests with these statuses (before anything else), e.g. {503, 429}.
    std::deque<long> inject;
    std::function<void(util::HttpResponse&, const util::HttpRequest&)> tamper;

    util::Result<util::HttpResponse> send(const util::HttpRequest& req) override {
        log.push_back(req);
        if (transport_failures > 0) {
            --transport_failures;
            return util::make_error("Couldn't connect to server", true);
        }
        util::HttpResponse r = handle(req);
        if (tamper) tamper(r, req);
        statuses.push_back(r.status);
        if (!req.response_file.empty() && r.status / 100 == 2) {
            std::ofstream(req.response_file, std::ios::binary | std::ios::trunc) << r.body;
            r.body.clear();
        }
        return r;
    }

    int transport_failures = 0;

    int count(const std::string& method) const {
        int n = 0;
        for (const auto& r : log) n += r.method == method ? 1 : 0;
        return n;
    }

    std::string put_blob(const std::string& repo, const std::string& bytes) {
        std::string digest = "sha256:" + util::sha256_hex(bytes);
        blobs[repo][digest] = bytes;
        return digest;
    }
    std::string put_manifest(const std::string& repo, const std::string& ref,
                             const std::string& type, const std::string& bytes) {
        std::string digest = "sha256:" + util::sha256_hex(bytes);
        manifests[repo][digest] = {type, bytes};
        if (ref != digest) manifests[repo][ref] = {type, bytes};
        return digest;
    }

private:
    struct Upload {
        std::string repo;
        std::string bytes;
    };
    std::map<std::string, Upload> m_uploads;
    int m_next_upload = 0;

    static util::HttpResponse answer(long status, std::string body = {}) {
        util::HttpResponse r;
        r.status = status;
        r.body = std::move(body);
        return r;
    }
    static util::HttpResponse error(long status, const std::string& code) {
        return answer(status, "{\"errors\":[{\"code\":\"" + code + "\",\"message\":\"" + code +
                                  " says no\"}]}");
    }
    static std::string header(const util::HttpRequest& req, const std::string& name) {
        for (const auto& [k, v] : req.headers) {
            if (util::trim(k).size() == name.size() &&
                std::equal(k.begin(), k.end(), name.begin(),
                           [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
                return v;
        }
        return {};
    }
    static std::string query_param(const std::string& url, const std::string& name) {
        auto q = url.find('?');
        if (q == std::string::npos) return {};
        for (const auto& kv : util::split(url.substr(q + 1), '&')) {
            if (util::starts_with(kv, name + "=")) {
                std::string v = kv.substr(name.size() + 1);
                std::string out;
                for (std::size_t i = 0; i < v.size(); ++i) {
                    if (v[i] == '%' && i + 2 < v.size()) {
                        out += static_cast<char>(std::stoi(v.substr(i + 1, 2), nullptr, 16));
                        i += 2;
                    } else {
                        out += v[i];
                    }
                }
                return out;
            }
        }
        return {};
    }
    static std::string body_of(const util::HttpRequest& req) {
        if (req.body_file.empty()) return req.body;
        std::ifstream in(req.body_file, std::ios::binary);
        std::string all((std::istreambuf_iterator<char>(in)), {});
        std::string part = all.substr(static_cast<std::size_t>(req.body_file_offset));
        if (req.body_file_length >= 0) part.resize(static_cast<std::size_t>(req.body_file_length));
        return part;
    }

    util::HttpResponse challenge(const std::string& scope) {
        auto r = error(401, "UNAUTHORIZED");
        if (auth == Auth::basic) {
            r.headers["www-authenticate"] = "Basic realm=\"basic-realm\"";
        } else {
            r.headers["www-authenticate"] =
                "Bearer realm=\"" + realm + "\",service=\"fake-registry\",scope=\"" +
                scope + "\"";
        }
        return r;
    }

    bool authorised(const util::HttpRequest& req, bool push) {
        std::string got = header(req, "Authorization");
        if (auth == Auth::basic) return got == basic_authorization(user, password);
        if (got == "Bearer good-push-token") return true;
        return got == "Bearer good-pull-token" && !push;
    }

    util::HttpResponse token(const util::HttpRequest& req) {
        bool creds = header(req, "Authorization") == basic_authorization(user, password);
        if (!header(req, "Authorization").empty() && !creds) return error(401, "UNAUTHORIZED");
        if (!creds && !allow_anonymous_pull) return error(401, "UNAUTHORIZED");
        bool push = req.url.find("push") != std::string::npos;
        return answer(200, std::string("{\"token\":\"") +
                               (creds  ? "good-push-token"
                                : push ? "bad"
                                       : "good-pull-token") +
                               "\"}");
    }

    util::HttpResponse handle(const util::HttpRequest& req) {
        if (!inject.empty()) {
            long status = inject.front();
            inject.pop_front();
            auto r = error(status, status == 429 ? "TOOMANYREQUESTS" : "UNAVAILABLE");
            if (status == 429) r.headers["retry-after"] = "1";
            return r;
        }
        if (util::starts_with(req.url, realm)) return token(req);
        // Any host: the client under test decides where it sends what.
        auto host_start = req.url.find("://");
        auto path_start = req.url.find('/', host_start == std::string::npos ? 0 : host_start + 3);
        std::string rest = path_start == std::string::npos ? "" : req.url.substr(path_start);
        if (!util::starts_with(rest, "/v2/")) return error(404, "NOT_FOUND");
        std::string path = rest.substr(4);
        path = path.substr(0, path.find('?'));
        bool push = req.method != "GET" && req.method != "HEAD";
        std::string kind;
        std::string repo;
        std::string ref;
        for (const char* k : {"/manifests/", "/blobs/uploads/", "/blobs/"}) {
            auto at = path.find(k);
            if (at != std::string::npos) {
                kind = k;
                repo = path.substr(0, at);
                ref = path.substr(at + kind.size());
                break;
            }
        }
        if (kind.empty()) return error(404, "NOT_FOUND");
        if (auth != Auth::none && !authorised(req, push))
            return challenge("repository:" + repo + (push ? ":pull,push" : ":pull"));
        if (kind == "/manifests/") return manifest(req, repo, ref);
        if (kind == "/blobs/") return blob(req, repo, ref);
        return upload(req, repo, ref);
    }

    util::HttpResponse manifest(const util::HttpRequest& req, const std::string& repo,
                                const std::string& ref) {
        if (req.method == "PUT") {
            std::string type = header(req, "Content-Type");
            auto parsed = util::parse_json(req.body, "manifest");
            if (!parsed || util::json_get<std::string>(*parsed, "mediaType", type) != type)
                return error(400, "MANIFEST_INVALID");
            std::string config = util::json_get<std::string>(
                util::json_get<util::Json>(*parsed, "config", {}), "digest", "");
            if (!config.empty() && !blobs[repo].count(config))
                return error(400, "MANIFEST_BLOB_UNKNOWN");
            auto r = answer(201);
            r.headers["docker-content-digest"] = put_manifest(repo, ref, type, req.body);
            return r;
        }
        if (!manifests.count(repo)) return error(404, "NAME_UNKNOWN");
        auto it = manifests[repo].find(ref);
        if (it == manifests[repo].end()) return error(404, "MANIFEST_UNKNOWN");
        if (header(req, "Accept").find(it->second.media_type) == std::string::npos)
            return error(404, "MANIFEST_UNKNOWN");
        auto r = answer(200, req.method == "HEAD" ? "" : it->second.bytes);
        r.headers["content-type"] = it->second.media_type;
        r.headers["docker-content-digest"] = "sha256:" + util::sha256_hex(it->second.bytes);
        return r;
    }

    util::HttpResponse blob(const util::HttpRequest& req, const std::string& repo,
                            const std::string& digest) {
        auto it = blobs[repo].find(digest);
        if (it == blobs[repo].end()) return error(404, "BLOB_UNKNOWN");
        return answer(200, req.method == "HEAD" ? "" : it->second);
    }

    util::HttpResponse upload(const util::HttpRequest& req, const std::string& repo,
                              const std::string& id) {
        if (req.method == "POST") {
            std::string mount = query_param(req.url, "mount");
            std::string from = query_param(req.url, "from");
            if (!mount.empty() && blobs[from].count(mount)) {
                blobs[repo][mount] = blobs[from][mount];
                return answer(201);
            }
            std::string uuid = "u" + std::to_string(++m_next_upload);
            m_uploads[uuid] = {repo, ""};
            auto r = answer(202);
            // Like the reference registry: absolute, with a query already.
            r.headers["location"] =
                "http://127.0.0.1:5000/v2/" + repo + "/blobs/uploads/" + uuid + "?_state=s" + uuid;
            return r;
        }
        auto it = m_uploads.find(id);
        if (it == m_uploads.end() || it->second.repo != repo)
            return error(404, "BLOB_UPLOAD_UNKNOWN");
        std::string body = body_of(req);
        if (req.method == "PATCH") {
            std::string range = header(req, "Content-Range");
            if (range != std::to_string(it->second.bytes.size()) + "-" +
                             std::to_string(it->second.bytes.size() + body.size() - 1))
                return error(416, "BLOB_UPLOAD_INVALID");
            it->second.bytes += body;
            auto r = answer(202);
            r.headers["location"] = "/v2/" + repo + "/blobs/uploads/" + id + "?_state=p" +
                                    std::to_string(it->second.bytes.size());
            return r;
        }
        if (req.method != "PUT") return error(405, "UNSUPPORTED");
        it->second.bytes += body;
        std::string digest = query_param(req.url, "digest");
        if (digest != "sha256:" + util::sha256_hex(it->second.bytes))
            return error(400, "DIGEST_INVALID");
        blobs[repo][digest] = it->second.bytes;
        m_uploads.erase(it);
        return answer(201);
    }
};

}  // namespace hypertest::oci::test
