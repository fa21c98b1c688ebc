#include "util/curl_transfer.hpp"
#include "util/http.hpp"

namespace hypertest::util {
namespace {

// One easy handle, reused request after request so its connections stay open.
class CurlHttpClient : public HttpClient {
  public:
    CurlHttpClient() {
        curl_detail::global_init();
        m_curl = curl_easy_init();
    }
    ~CurlHttpClient() override { curl_easy_cleanup(m_curl); }
    CurlHttpClient(const CurlHttpClient&) = delete;
    CurlHttpClient& operator=(const CurlHttpClient&) = delete;

    Result<HttpResponse> send(const HttpRequest& req) override {
        curl_detail::Transfer transfer(m_curl, req);
        if (auto ready = transfer.set_up(); !ready) return ready.error();
        return transfer.finish(curl_easy_perform(m_curl));
    }

  private:
    CURL* m_curl;
};

}  // namespace

std::unique_ptr<HttpClient> make_curl_http_client() { return std::make_unique<CurlHttpClient>(); }

}  // namespace hypertest::util
