#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <unordered_map>

#include "util/curl_transfer.hpp"
#include "util/http_multi.hpp"

namespace hypertest::util {
namespace {

using std::chrono::milliseconds;

// Idle connections kept for reuse: enough for every in-flight invocation of a large run (the
// default shrinks with the number of transfers, closing connections between batches).
constexpr long k_cached_connections = 2048;
constexpr std::size_t k_idle_handles = 16;
constexpr rlim_t k_open_files = 65536;

// Each transfer holds a socket; the usual soft limit (1024) is below what a large run needs.
// curl_multi_poll uses poll(), so descriptors above FD_SETSIZE are fine.
void raise_open_file_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY ||
        limit.rlim_cur >= k_open_files)
        return;
    rlim_t want =
        limit.rlim_max == RLIM_INFINITY ? k_open_files : std::min(limit.rlim_max, k_open_files);
    if (want <= limit.rlim_cur) return;
    limit.rlim_cur = want;
    setrlimit(RLIMIT_NOFILE, &limit);
}

struct Pending {
    Pending(std::uint64_t t, HttpRequest r, CURL* e)
        : tag(t), request(std::move(r)), easy(e), transfer(easy, request) {}
    std::uint64_t tag;
    HttpRequest request;
    CURL* easy;
    curl_detail::Transfer transfer;  // refers to request and easy
};

class CurlHttpMulti : public HttpMulti {
  public:
    CurlHttpMulti() {
        curl_detail::global_init();
        raise_open_file_limit();
        m_multi = curl_multi_init();
        curl_multi_setopt(m_multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
        curl_multi_setopt(m_multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
        curl_multi_setopt(m_multi, CURLMOPT_MAXCONNECTS, k_cached_connections);
    }
    ~CurlHttpMulti() override {
        cancel_all();
        for (CURL* easy : m_idle) curl_easy_cleanup(easy);
        curl_multi_cleanup(m_multi);
    }
    CurlHttpMulti(const CurlHttpMulti&) = delete;
    CurlHttpMulti& operator=(const CurlHttpMulti&) = delete;

    void start(std::uint64_t tag, HttpRequest request) override {
        auto pending = std::make_unique<Pending>(tag, std::move(request), take_handle());
        if (auto ready = pending->transfer.set_up(); !ready) {
            m_done.emplace_back(tag, ready.error());
            release(std::move(pending));
            return;
        }
        if (CURLMcode rc = curl_multi_add_handle(m_multi, pending->easy); rc != CURLM_OK) {
            m_done.emplace_back(
                tag, make_error(pending->request.method + " " + pending->request.url + ": " +
                                    curl_multi_strerror(rc),
                                true));
            release(std::move(pending));
            return;
        }
        CURL* easy = pending->easy;
        m_active.emplace(easy, std::move(pending));
    }

    std::vector<Finished> poll(milliseconds wait) override {
        auto deadline = std::chrono::steady_clock::now() + wait;
        std::vector<Finished> out = std::move(m_done);
        m_done.clear();
        while (true) {
            int running = 0;
            curl_multi_perform(m_multi, &running);
            collect(out);
            if (!out.empty() || m_woken.exchange(false)) return out;
            auto left = std::chrono::duration_cast<milliseconds>(deadline -
                                                                 std::chrono::steady_clock::now());
            if (left.count() <= 0) return out;
            // Returns early on socket activity, libcurl's own timers (transfer timeouts) and
            // wake(); the loop then moves the transfers along.
            curl_multi_poll(m_multi, nullptr, 0,
                            static_cast<int>(std::min<milliseconds::rep>(left.count(), INT_MAX)),
                            nullptr);
        }
    }

    void wake() override {
        m_woken = true;
        curl_multi_wakeup(m_multi);
    }

    void cancel_all() override {
        for (auto& [easy, pending] : m_active) {
            curl_multi_remove_handle(m_multi, easy);  // closes a connection mid-transfer
            m_done.emplace_back(pending->tag, make_error(k_http_cancelled));
        }
        for (auto& [easy, pending] : m_active) release(std::move(pending));
        m_active.clear();
    }

    std::size_t in_flight() const override { return m_active.size() + m_done.size(); }

  private:
    // Moves every transfer libcurl reports done from m_active to out.
    void collect(std::vector<Finished>& out) {
        int queued = 0;
        while (CURLMsg* msg = curl_multi_info_read(m_multi, &queued)) {
            if (msg->msg != CURLMSG_DONE) continue;
            CURL* easy = msg->easy_handle;  // msg dies with remove_handle
            CURLcode rc = msg->data.result;
            auto it = m_active.find(easy);
            if (it == m_active.end()) continue;
            curl_multi_remove_handle(m_multi, easy);
            out.emplace_back(it->second->tag, it->second->transfer.finish(rc));
            release(std::move(it->second));
            m_active.erase(it);
        }
    }

    CURL* take_handle() {
        if (m_idle.empty()) return curl_easy_init();
        CURL* easy = m_idle.back();
        m_idle.pop_back();
        return easy;
    }

    // Ends a transfer that is not (or no longer) in the multi handle; keeps a few handles.
    void release(std::unique_ptr<Pending> pending) {
        CURL* easy = pending->easy;
        pending.reset();
        if (m_idle.size() < k_idle_handles)
            m_idle.push_back(easy);
        else
            curl_easy_cleanup(easy);
    }

    CURLM* m_multi = nullptr;
    std::unordered_map<CURL*, std::unique_ptr<Pending>> m_active;
    std::vector<Finished> m_done;  // ended outside libcurl (set-up errors, cancelled)
    std::vector<CURL*> m_idle;
    std::atomic<bool> m_woken{false};
};

}  // namespace

std::unique_ptr<HttpMulti> make_curl_http_multi() { return std::make_unique<CurlHttpMulti>(); }

}  // namespace hypertest::util
