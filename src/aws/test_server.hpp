// Test-only: a cpp-httplib server on 127.0.0.1 with a free port, recording what it receives.
#pragma once

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hypertest::aws::testing_support {

struct Seen {
    std::string method;
    std::string path;
    std::string body;
    httplib::Headers headers;
    httplib::Params params;  // the decoded query
    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

// Register handlers with get/put/post first, then start(); stops and joins when destroyed.
// Requests are recorded before their handler runs, so a client never sees a response first.
class LocalServer {
public:
    using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
    LocalServer() = default;
    // Serves up to `connections` connections at once (cpp-httplib's default is 8 threads, each
    // held by a keep-alive connection for up to 5 s) and accepts as many connects at once.
    explicit LocalServer(std::size_t connections) {
        m_server.new_task_queue = [connections] { return new httplib::ThreadPool(connections); };
        m_server.set_keep_alive_timeout(1);
        m_server.set_socket_options([this](int fd) {
            httplib::default_socket_options(fd);
            m_listen_fd = fd;
        });
    }
    ~LocalServer() {
        m_server.stop();
        if (m_thread.joinable()) m_thread.join();
    }
    void get(const std::string& path, Handler h) { m_server.Get(path, recorded(std::move(h))); }
    void put(const std::string& path, Handler h) { m_server.Put(path, recorded(std::move(h))); }
    void post(const std::string& path, Handler h) { m_server.Post(path, recorded(std::move(h))); }
    void del(const std::string& path, Handler h) { m_server.Delete(path, recorded(std::move(h))); }
    void start() {
        m_port = m_server.bind_to_any_port("127.0.0.1");
        if (m_listen_fd >= 0) ::listen(m_listen_fd, 1024);  // cpp-httplib's backlog is 5
        m_thread = std::thread([this] { m_server.listen_after_bind(); });
        // stop() before the loop runs would be lost and the destructor would hang.
        while (!m_server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
    std::vector<Seen> seen() {
        std::lock_guard lock(m_mutex);
        return m_seen;
    }

private:
    Handler recorded(Handler h) {
        return [this, h = std::move(h)](const httplib::Request& req, httplib::Response& res) {
            {
                std::lock_guard lock(m_mutex);
                m_seen.push_back({req.method, req.path, req.body, req.headers, req.params});
            }
            h(req, res);
        };
    }

    httplib::Server m_server;
    std::thread m_thread;
    int m_port = 0;
    int m_listen_fd = -1;
    std::mutex m_mutex;
    std::vector<Seen> m_seen;
};

}  // namespace hypertest::aws::testing_support
