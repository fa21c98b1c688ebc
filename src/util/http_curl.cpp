#include "util/curl_transfer.hpp"
#include "util/http.hpp"

#include <string>
#include <utility>

namespace hypertest::util {
namespace {

// One easy handle, reused request after request so its connections stay open.
class CurlHttpClient : public HttpClient {
  public:
    explicit CurlHttpClient(std::string unix_socket) : m_unix_socket(std::move(unix_socket)) {
        curl_detail::global_init();
        m_curl = curl_easy_init();
    }
    ~CurlHttpClient() override { curl_easy_cleanup(m_curl); }
    CurlHttpClient(const CurlHttpClient&) = delete;
    CurlHttpClient& operator=(const CurlHttpClient&) = delete;

    Result<HttpResponse> send(const HttpRequest& req) override {
        curl_detail::Transfer transfer(m_curl, req);
        if (auto ready = transfer.set_up(); !ready) return ready.error();
        if (!m_unix_socket.empty())
            curl_easy_setopt(m_curl, CURLOPT_UNIX_SOCKET_PATH, m_unix_socket.c_str());
        return transfer.finish(curl_easy_perform(m_curl));
    }

  private:
    std::string m_unix_socket;
    CURL* m_curl;
};

}  // namespace

std::unique_ptr<HttpClient> make_curl_http_client() { return std::make_unique<CurlHttpClient>(""); }

std::unique_ptr<HttpClient> make_curl_unix_socket_client(const std::string& unix_socket) {
    return std::make_unique<CurlHttpClient>(unix_socket);
}

}  // namespace hypertest::util
