#include "providers/local/runtime_api_server.hpp"

#include <httplib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>

#include "util/json.hpp"
#include "util/time.hpp"

namespace hypertest::providers {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* k_prefix = "/2018-06-01/runtime";

std::string make_request_id() {
    static std::mutex mutex;
    static std::mt19937_64 rng{std::random_device{}()};
    std::lock_guard lock(mutex);
    std::uint64_t a = rng(), b = rng();
    char buf[40];
    std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx",
                  static_cast<unsigned>(a >> 32), static_cast<unsigned>((a >> 16) & 0xffff),
                  static_cast<unsigned>(a & 0xfff), static_cast<unsigned>((b >> 48) & 0x3fff) | 0x8000u,
                  static_cast<unsigned long long>(b & 0xffffffffffffULL));
    return buf;
}

std::string lambda_error(const std::string& message, const std::string& type) {
    return util::Json{{"errorMessage", message}, {"errorType", type}}.dump();
}

class HttplibRuntimeApiServer : public RuntimeApiServer {
public:
    HttplibRuntimeApiServer(std::string arn, std::size_t max_bytes, std::string unix_socket)
        : m_arn(std::move(arn)), m_max_bytes(max_bytes), m_unix_socket(std::move(unix_socket)) {}
    ~HttplibRuntimeApiServer() override { stop(); }

    util::Status listen() {
        m_server.new_task_queue = [] { return new httplib::ThreadPool(4); };
        m_server.set_payload_max_length(m_max_bytes + 1024 * 1024);
        // Bodies past the payload limit are refused by httplib before any handler runs.
        m_server.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
            if (res.status == 413) on_too_large(req.path);
        });
        // Short, so that stop() does not wait long on an idle kept-alive connection.
        m_server.set_keep_alive_timeout(1);
        m_server.set_tcp_nodelay(true);
        m_server.Get(std::string(k_prefix) + "/invocation/next",
                     [this](const httplib::Request&, httplib::Response& res) { on_next(res); });
        m_server.Post(std::string(k_prefix) + R"(/invocation/([^/]+)/response)",
                      [this](const httplib::Request& req, httplib::Response& res) {
                          on_answer(req, res, RuntimeReply::Kind::response);
                      });
        m_server.Post(std::string(k_prefix) + R"(/invocation/([^/]+)/error)",
                      [this](const httplib::Request& req, httplib::Response& res) {
                          on_answer(req, res, RuntimeReply::Kind::error);
                      });
        m_server.Post(std::string(k_prefix) + "/init/error",
                      [this](const httplib::Request& req, httplib::Response& res) {
                          on_init_error(req, res);
                      });
        if (!m_unix_socket.empty()) {
            ::unlink(m_unix_socket.c_str());
            m_server.set_address_family(AF_UNIX);
            if (!m_server.bind_to_port(m_unix_socket, 80))
                return util::make_error("cannot listen on " + m_unix_socket + " for the Runtime API", true);
            // The port of Lambda's own Runtime API address; requests arrive over the socket.
            m_port = 9001;
        } else {
            m_port = m_server.bind_to_any_port("127.0.0.1");
            if (m_port <= 0)
                return util::make_error("cannot listen on 127.0.0.1 for the Runtime API", true);
        }
        m_thread = std::thread([this] {
            m_server.listen_after_bind();
            m_listen_done = true;
        });
        return util::ok_status();
    }

    std::string address() const override { return "127.0.0.1:" + std::to_string(m_port); }

    std::string submit(std::string event, std::chrono::milliseconds timeout) override {
        std::lock_guard lock(m_mutex);
        m_pending = Pending{make_request_id(), std::move(event), timeout};
        m_current.clear();
        m_delivered.reset();
        // An init error may arrive before the first event is submitted: keep it.
        if (m_reply && m_reply->kind != RuntimeReply::Kind::init_error) m_reply.reset();
        m_cv.notify_all();
        return m_pending->id;
    }

    std::optional<RuntimeReply> wait_reply(std::chrono::milliseconds wait) override {
        std::unique_lock lock(m_mutex);
        m_cv.wait_for(lock, wait, [this] { return m_reply.has_value(); });
        return std::exchange(m_reply, std::nullopt);
    }

    void set_reply_listener(std::function<void()> listener) override {
        std::lock_guard lock(m_mutex);
        m_listener = std::move(listener);
    }

    std::optional<TimePoint> delivered_at() const override {
        std::lock_guard lock(m_mutex);
        return m_delivered;
    }

    std::optional<TimePoint> first_next_at() const override {
        std::lock_guard lock(m_mutex);
        return m_first_next;
    }

    void stop() override {
        {
            std::lock_guard lock(m_mutex);
            if (m_stopping) return;
            m_stopping = true;
            m_cv.notify_all();
        }
        // httplib's stop() is a no-op until the listening loop runs: wait for it to start.
        while (m_thread.joinable() && !m_listen_done) {
            if (m_server.is_running()) {
                m_server.stop();
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        if (m_thread.joinable()) m_thread.join();
    }

private:
    struct Pending {
        std::string id;
        std::string event;
        std::chrono::milliseconds timeout;
    };

    void on_next(httplib::Response& res) {
        std::unique_lock lock(m_mutex);
        if (!m_first_next) m_first_next = Clock::now();
        m_cv.wait(lock, [this] { return m_stopping || m_pending.has_value(); });
        if (m_stopping) {
            res.status = 410;
            res.set_header("Connection", "close");
            res.set_content(lambda_error("environment is shutting down", "Runtime.Shutdown"),
                            "application/json");
            return;
        }
        Pending p = std::move(*m_pending);
        m_pending.reset();
        m_current = p.id;
        m_delivered = Clock::now();
        std::int64_t deadline = util::now_ms() + p.timeout.count();
        res.status = 200;
        res.set_header("Lambda-Runtime-Aws-Request-Id", p.id);
        res.set_header("Lambda-Runtime-Deadline-Ms", std::to_string(deadline));
        res.set_header("Lambda-Runtime-Invoked-Function-Arn", m_arn);
        res.set_header("Lambda-Runtime-Trace-Id", "Root=1-" + p.id.substr(0, 8) + "-" + p.id.substr(9, 4) + ";Sampled=0");
        res.set_content(std::move(p.event), "application/json");
    }

    void on_answer(const httplib::Request& req, httplib::Response& res, RuntimeReply::Kind kind) {
        std::string id = req.matches[1];
        std::lock_guard lock(m_mutex);
        if (id.empty() || id != m_current) {
            res.status = 400;
            res.set_content(lambda_error("unknown or already answered request id " + id,
                                         "InvalidRequestID"),
                            "application/json");
            return;
        }
        if (req.body.size() > m_max_bytes) {
            m_reply = too_large_reply(req.body.size());
            res.status = 413;
            res.set_content(m_reply->body, "application/json");
        } else {
            m_reply = RuntimeReply{kind, req.body,
                                   req.get_header_value("Lambda-Runtime-Function-Error-Type")};
            res.status = 202;
            res.set_content(R"({"status":"OK"})", "application/json");
        }
        m_current.clear();
        replied();
    }

    void on_too_large(const std::string& path) {
        std::lock_guard lock(m_mutex);
        const std::string prefix = std::string(k_prefix) + "/invocation/" + m_current + "/";
        if (m_current.empty() || path.rfind(prefix, 0) != 0) return;
        m_reply = too_large_reply(0);
        m_current.clear();
        replied();
    }

    // Caller holds m_mutex and has just set m_reply.
    void replied() {
        m_cv.notify_all();
        if (m_listener) m_listener();
    }

    RuntimeReply too_large_reply(std::size_t size) const {
        std::string msg = "Response payload size " +
                          (size ? "(" + std::to_string(size) + " bytes) " : std::string()) +
                          "exceeded maximum allowed payload size (" + std::to_string(m_max_bytes) +
                          " bytes).";
        return {RuntimeReply::Kind::error, lambda_error(msg, "Function.ResponseSizeTooLarge"),
                "Function.ResponseSizeTooLarge"};
    }

    void on_init_error(const httplib::Request& req, httplib::Response& res) {
        std::lock_guard lock(m_mutex);
        m_reply = RuntimeReply{RuntimeReply::Kind::init_error, req.body,
                               req.get_header_value("Lambda-Runtime-Function-Error-Type")};
        replied();
        res.status = 202;
        res.set_content(R"({"status":"OK"})", "application/json");
    }

    std::string m_arn;
    std::size_t m_max_bytes;
    std::string m_unix_socket;
    httplib::Server m_server;
    int m_port = 0;
    std::thread m_thread;
    std::atomic<bool> m_listen_done{false};

    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_stopping = false;
    std::optional<Pending> m_pending;
    std::string m_current;  // delivered, not yet answered
    std::optional<TimePoint> m_delivered;
    std::optional<TimePoint> m_first_next;
    std::optional<RuntimeReply> m_reply;
    std::function<void()> m_listener;
};

}  // namespace

util::Result<std::unique_ptr<RuntimeApiServer>> start_runtime_api_server(
    const std::string& function_arn, std::size_t max_response_bytes,
    const std::string& unix_socket) {
    auto server = std::make_unique<HttplibRuntimeApiServer>(function_arn, max_response_bytes,
                                                            unix_socket);
    if (auto s = server->listen(); !s) return s.error();
    return std::unique_ptr<RuntimeApiServer>(std::move(server));
}

}  // namespace hypertest::providers
