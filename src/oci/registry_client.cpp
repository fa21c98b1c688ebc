#include "oci/registry_client.hpp"

#include <algorithm>
#include <cctype>
#include <thread>

#include "oci/registry_auth.hpp"
#include "oci/registry_internal.hpp"
#include "oci/registry_ref.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

namespace hypertest::oci {
namespace {

constexpr int k_max_redirects = 5;
constexpr int k_max_auth_rounds = 2;
constexpr std::chrono::milliseconds k_max_retry_after{60000};

bool equal_nocase(const std::string& a, const std::string& b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
               return std::tolower(x) == std::tolower(y);
           });
}

bool retryable_status(long status) {
    return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

bool is_redirect(long status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::string join_scopes(const std::vector<std::string>& scopes) { return util::join(scopes, " "); }

// "CODE: message" of the registry's error document, or the start of the body.
std::string error_text(const util::HttpResponse& resp) {
    auto j = util::parse_json(resp.body, "registry error");
    if (j && j->is_object() && (*j)["errors"].is_array() && !(*j)["errors"].empty()) {
        std::vector<std::string> parts;
        for (const auto& e : (*j)["errors"]) {
            parts.push_back(util::json_get<std::string>(e, "code", "?") + ": " +
                            util::json_get<std::string>(e, "message", ""));
        }
        return util::join(parts, "; ");
    }
    return util::truncate_utf8(util::trim(resp.body), 200);
}

}  // namespace

namespace detail {

void set_header(util::HttpRequest& request, const std::string& name, const std::string& value) {
    remove_header(request, name);
    request.headers.emplace_back(name, value);
}

void remove_header(util::HttpRequest& request, const std::string& name) {
    std::erase_if(request.headers, [&](const auto& h) { return equal_nocase(h.first, name); });
}

std::string url_host(const std::string& url) {
    auto start = url.find("://");
    start = start == std::string::npos ? 0 : start + 3;
    auto end = url.find_first_of("/?#", start);
    return url.substr(start, end == std::string::npos ? end : end - start);
}

}  // namespace detail

std::string to_string(BlobAction action) {
    switch (action) {
        case BlobAction::uploaded:
            return "uploaded";
        case BlobAction::skipped:
            return "skipped";
        case BlobAction::mounted:
            return "mounted";
        case BlobAction::downloaded:
            return "downloaded";
        case BlobAction::present:
            return "present";
    }
    return "?";
}

std::string repository_scope(const std::string& repository, bool push) {
    return "repository:" + repository + (push ? ":pull,push" : ":pull");
}

RegistryClient::RegistryClient(std::string host, RegistryOptions options,
                               std::unique_ptr<util::HttpClient> http)
    : m_host(std::move(host)), m_options(std::move(options)), m_http(std::move(http)) {
    if (!m_options.sleep) {
        m_options.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
    }
    m_options.max_attempts = std::max(1, m_options.max_attempts);
    m_options.chunk_size = std::max<std::int64_t>(1, m_options.chunk_size);
}

RegistryClient::~RegistryClient() = default;

std::string RegistryClient::base_url() const {
    return registry_scheme(m_host, m_options.insecure) + "://" + m_host;
}

std::string RegistryClient::resolve_location(const std::string& location) const {
    if (util::starts_with(location, "http://") || util::starts_with(location, "https://"))
        return location;
    return base_url() + (util::starts_with(location, "/") ? "" : "/") + location;
}

// Credentials travel over HTTPS, or in the clear only to this very registry on this machine.
bool RegistryClient::credentials_safe_for(const std::string& url) const {
    return util::starts_with(url, "https://") || (detail::url_host(url) == m_host && is_loopback_host(m_host));
}

void RegistryClient::add_auth(Call& call) {
    detail::remove_header(call.request, "Authorization");
    if (m_bearer) {
        auto it = m_tokens.find(join_scopes(call.scopes));
        if (it != m_tokens.end()) {
            call.request.headers.emplace_back("Authorization", "Bearer " + it->second);
            return;
        }
    }
    if (!m_basic.empty()) call.request.headers.emplace_back("Authorization", m_basic);
}

util::Result<util::HttpResponse> RegistryClient::send_once(Call& call) {
    util::HttpRequest request = call.request;
    request.timeout = m_options.request_timeout;
    for (int hop = 0;; ++hop) {
        ++m_counts[request.method];
        auto resp = m_http->send(request);
        if (!resp || !is_redirect(resp->status) || hop == k_max_redirects ||
            (request.method != "GET" && request.method != "HEAD")) {
            return resp;
        }
        std::string next = resolve_location(resp->header("location"));
        // Credentials stay with the registry: a redirect to storage elsewhere gets none.
        if (detail::url_host(next) != detail::url_host(request.url))
            detail::remove_header(request, "Authorization");
        request.url = next;
    }
}

util::Result<util::HttpResponse> RegistryClient::send_with_retries(Call& call) {
    util::Result<util::HttpResponse> last = util::make_error("no attempt made");
    for (int attempt = 1; attempt <= m_options.max_attempts; ++attempt) {
        last = send_once(call);
        bool retry = last ? retryable_status(last->status) : last.error().retryable;
        if (!retry || attempt == m_options.max_attempts) break;
        auto delay = std::min(m_options.max_backoff,
                              m_options.initial_backoff * (1 << std::min(attempt - 1, 16)));
        if (last) {
            std::string after = last->header("retry-after");
            if (!after.empty() && std::all_of(after.begin(), after.end(), ::isdigit) &&
                after.size() < 6) {
                delay =
                    std::max(delay, std::min(k_max_retry_after,
                                             std::chrono::milliseconds(std::stoll(after) * 1000)));
            }
        }
        util::log_debug(call.what + ": " +
                        (last ? "HTTP " + std::to_string(last->status) : last.error().message) +
                        "; retrying in " + std::to_string(delay.count()) + " ms");
        m_options.sleep(delay);
    }
    if (!last && !last.error().retryable)  // e.g. an answer over its size bound
        return util::make_error(call.what + " at registry " + m_host + ": " + last.error().message);
    if (!last) {
        return util::make_error("cannot reach registry " + m_host + " (" + last.error().message +
                                    "); check that it runs and the address is right" +
                                    (is_loopback_host(m_host) || m_options.insecure
                                         ? ""
                                         : " (a plain-HTTP registry needs the insecure setting)"),
                                true);
    }
    return last;
}

util::Status RegistryClient::authenticate(const Call& call, const util::HttpResponse& resp) {
    auto challenge = parse_challenge(resp.header("www-authenticate"));
    std::string hint = m_options.credentials_hint.empty() ? "" : "; " + m_options.credentials_hint;
    if (!challenge) {
        return util::make_error(call.what + " at " + m_host +
                                ": 401 without a WWW-Authenticate challenge" + hint);
    }
    if (challenge->scheme == "basic") {
        if (m_options.credentials.empty()) {
            return util::make_error("registry " + m_host + " requires credentials (" + call.what +
                                    ": 401 " + error_text(resp) + ")" + hint);
        }
        if (!credentials_safe_for(base_url())) {
            return util::make_error("registry " + m_host +
                                    " asks for credentials over plain HTTP, where anyone on the "
                                    "way could read them; hypertest sends them only over HTTPS "
                                    "(or to a registry on this machine)");
        }
        m_basic =
            basic_authorization(m_options.credentials.username, m_options.credentials.password);
        return util::ok_status();
    }
    if (challenge->scheme != "bearer" || challenge->param("realm").empty()) {
        return util::make_error("registry " + m_host + " asks for unsupported authentication '" +
                                challenge->scheme + "'");
    }
    m_bearer = challenge->params;
    std::string url = challenge->param("realm");
    url += url.find('?') == std::string::npos ? "?" : "&";
    std::vector<std::string> query;
    if (!challenge->param("service").empty())
        query.push_back("service=" + url_encode(challenge->param("service")));
    std::vector<std::string> scopes = call.scopes;
    std::string asked = challenge->param("scope");
    for (const auto& s : util::split(asked, ' ')) {
        if (!s.empty() && std::find(scopes.begin(), scopes.end(), s) == scopes.end())
            scopes.push_back(s);
    }
    for (const auto& s : scopes) query.push_back("scope=" + url_encode(s));
    Call token_call;
    token_call.request.url = url + util::join(query, "&");
    token_call.what = "GET token from " + detail::url_host(challenge->param("realm"));
    // The token protocol hands the registry's credentials to the realm; one they are not safe
    // for gets an anonymous request.
    const std::string& realm = challenge->param("realm");
    bool withheld = !m_options.credentials.empty() && !credentials_safe_for(realm);
    if (withheld)
        util::log_warn("registry " + m_host + ": not sending credentials to the token service " +
                       realm + " (plain HTTP)");
    if (!m_options.credentials.empty() && !withheld) {
        token_call.request.headers.emplace_back(
            "Authorization",
            basic_authorization(m_options.credentials.username, m_options.credentials.password));
    }
    auto token_resp = send_with_retries(token_call);
    if (!token_resp) return token_resp.error();
    if (token_resp->status != 200) {
        return util::make_error(
            "the token service of " + m_host + " refused " +
            (m_options.credentials.empty() || withheld ? "anonymous access" : "the credentials") +
            (withheld ? " (the credentials were withheld: the token service is plain HTTP)" : "") +
            " (HTTP " +
            std::to_string(token_resp->status) + " " + error_text(*token_resp) + ")" + hint);
    }
    auto token = token_from_response(token_resp->body);
    if (!token) return util::make_error("registry " + m_host + ": " + token.error().message);
    m_tokens[join_scopes(call.scopes)] = *token;
    return util::ok_status();
}

util::Result<util::HttpResponse> RegistryClient::send(Call& call) {
    for (int round = 0;; ++round) {
        add_auth(call);
        auto resp = send_with_retries(call);
        if (!resp || resp->status != 401) return resp;
        if (round == k_max_auth_rounds) return http_error(call, *resp);
        if (auto s = authenticate(call, *resp); !s) return s.error();
    }
}

util::Error RegistryClient::http_error(const Call& call, const util::HttpResponse& resp) const {
    std::string text = error_text(resp);
    std::string message = call.what + " at registry " + m_host + " failed: HTTP " +
                          std::to_string(resp.status) + (text.empty() ? "" : " " + text);
    if (resp.status == 401 || resp.status == 403) {
        message += m_options.credentials.empty() ? "; the registry needs credentials"
                                                 : "; the registry rejected the credentials";
        if (!m_options.credentials_hint.empty()) message += " (" + m_options.credentials_hint + ")";
    } else if (text.find("NAME_UNKNOWN") != std::string::npos) {
        message += " (the repository does not exist)";
    } else if (resp.status == 404) {
        message += " (not found)";
    }
    return util::make_error(message, retryable_status(resp.status));
}

}  // namespace hypertest::oci
