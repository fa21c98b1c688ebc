#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

#include "util/http.hpp"

namespace hypertest::util {
namespace {

std::once_flag g_curl_init;

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
    static_cast<std::string*>(user)->append(data, size * n);
    return size * n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
    auto* headers = static_cast<std::map<std::string, std::string>*>(user);
    std::string line(data, size * n);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        std::string value = line.substr(colon + 1);
        auto b = value.find_first_not_of(" \t");
        auto e = value.find_last_not_of(" \t\r\n");
        (*headers)[name] = b == std::string::npos ? "" : value.substr(b, e - b + 1);
    } else if (line.rfind("HTTP/", 0) == 0) {
        headers->clear();  // a new response (after 100-continue or a redirect)
    }
    return size * n;
}

class CurlHttpClient : public HttpClient {
public:
    CurlHttpClient() {
        std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
        m_curl = curl_easy_init();
    }
    ~CurlHttpClient() override { curl_easy_cleanup(m_curl); }

    Result<HttpResponse> send(const HttpRequest& req) override {
        CURL* c = m_curl;
        curl_easy_reset(c);
        HttpResponse resp;
        curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        if (req.method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        if (!req.body.empty() || req.method == "POST" || req.method == "PUT") {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                             static_cast<curl_off_t>(req.body.size()));
        }
        curl_slist* list = nullptr;
        for (const auto& [k, v] : req.headers) list = curl_slist_append(list, (k + ": " + v).c_str());
        list = curl_slist_append(list, "Expect:");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp.body);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &resp.headers);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
        if (req.timeout.count() > 0)
            curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
        CURLcode rc = curl_easy_perform(c);
        curl_slist_free_all(list);
        if (rc != CURLE_OK) {
            return make_error(req.method + " " + req.url + ": " + curl_easy_strerror(rc), true);
        }
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp.status);
        return resp;
    }

private:
    CURL* m_curl;
};

}  // namespace

std::unique_ptr<HttpClient> make_curl_http_client() { return std::make_unique<CurlHttpClient>(); }

}  // namespace hypertest::util
