// HttpMulti against local servers: many transfers at once, timeouts, wake, cancel, refused
// connections, and a POST on a dying reused connection (libcurl would send it twice).
#include "util/http_multi.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "util/temp_dir.hpp"

namespace hypertest::util {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A cpp-httplib server with one thread per connection (up to `threads`), so transfers really
// run at once; keep-alive is short so that it stops quickly.
class Server {
  public:
    explicit Server(std::size_t threads) {
        m_server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
        m_server.set_keep_alive_timeout(2);
        m_server.set_socket_options([this](int fd) {
            httplib::default_socket_options(fd);
            m_fd = fd;
        });
    }
    ~Server() {
        m_server.stop();
        if (m_thread.joinable()) m_thread.join();
    }
    httplib::Server& routes() { return m_server; }
    void start() {
        m_port = m_server.bind_to_any_port("127.0.0.1");
        // cpp-httplib listens with a backlog of 5: 200 connections at once would see SYNs
        // dropped and retried for seconds. Listening again raises it.
        ::listen(m_fd, 1024);
        m_thread = std::thread([this] { m_server.listen_after_bind(); });
        while (!m_server.is_running()) std::this_thread::sleep_for(1ms);
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }

  private:
    httplib::Server m_server;
    std::thread m_thread;
    int m_port = 0;
    int m_fd = -1;
};

HttpRequest request(const std::string& method, const std::string& url, std::string body = {}) {
    HttpRequest r;
    r.method = method;
    r.url = url;
    r.body = std::move(body);
    r.timeout = 20s;
    return r;
}

// Polls until nothing is in flight or `limit` passes.
std::map<std::uint64_t, Result<HttpResponse>> drain(HttpMulti& multi, Clock::duration limit = 30s) {
    std::map<std::uint64_t, Result<HttpResponse>> done;
    auto deadline = Clock::now() + limit;
    while (multi.in_flight() > 0 && Clock::now() < deadline) {
        for (auto& [tag, result] : multi.poll(100ms)) {
            EXPECT_EQ(done.count(tag), 0u) << "tag " << tag << " came back twice";
            done.emplace(tag, std::move(result));
        }
    }
    return done;
}

TEST(HttpMulti, TwoHundredRequestsInFlightAtOnceCompleteWithTheirBodiesOnReusedConnections) {
    constexpr int k_count = 200;
    Server server(k_count + 20);
    std::mutex mutex;
    std::condition_variable all_in;
    int inside = 0, most_inside = 0, round = 0;
    bool released = false;
    std::map<int, std::set<int>> ports;  // round -> client ports seen
    server.routes().Post(R"(/echo/(\d+))", [&](const httplib::Request& req,
                                               httplib::Response& res) {
        std::unique_lock lock(mutex);
        ports[round].insert(req.remote_port);
        most_inside = std::max(most_inside, ++inside);
        // Answers only once every request of the round is inside: proves they overlap.
        if (inside == k_count) {
            released = true;
            all_in.notify_all();
        }
        all_in.wait_for(lock, 10s, [&] { return released; });
        --inside;
        lock.unlock();
        // Staggered answers: the connection cache must keep every connection even when few
        // transfers are left (libcurl's default size follows the number of transfers).
        std::this_thread::sleep_for(std::chrono::milliseconds(2 * std::stoi(req.matches[1].str())));
        res.set_content("answer " + req.matches[1].str() + " to " + req.body, "text/plain");
    });
    server.start();
    auto multi = make_curl_http_multi();
    for (int r = 0; r < 2; ++r) {
        {
            std::lock_guard lock(mutex);
            round = r;
            released = false;
        }
        for (int i = 0; i < k_count; ++i)
            multi->start(1000 + i, request("POST", server.url() + "/echo/" + std::to_string(i),
                                           "body " + std::to_string(i)));
        EXPECT_EQ(multi->in_flight(), static_cast<std::size_t>(k_count));
        auto done = drain(*multi);
        ASSERT_EQ(done.size(), static_cast<std::size_t>(k_count));
        for (int i = 0; i < k_count; ++i) {
            const auto& result = done.at(1000 + i);
            ASSERT_TRUE(result.ok()) << result.error().message;
            EXPECT_EQ(result->status, 200);
            EXPECT_EQ(result->body,
                      "answer " + std::to_string(i) + " to body " + std::to_string(i));
            EXPECT_EQ(result->header("content-type"), "text/plain");
        }
        EXPECT_EQ(multi->in_flight(), 0u);
    }
    std::lock_guard lock(mutex);
    EXPECT_EQ(most_inside, k_count);
    EXPECT_EQ(ports[0].size(), static_cast<std::size_t>(k_count));
    // The second round found all 200 connections still open in the cache.
    EXPECT_EQ(ports[1], ports[0]);
}

TEST(HttpMulti, ATimedOutTransferIsRetryableWhileTheOthersSucceed) {
    Server server(16);
    server.routes().Get("/slow", [](const httplib::Request&, httplib::Response& res) {
        std::this_thread::sleep_for(1500ms);
        res.set_content("late", "text/plain");
    });
    server.routes().Get("/fast", [](const httplib::Request&, httplib::Response& res) {
        res.set_content("quick", "text/plain");
    });
    server.start();
    auto multi = make_curl_http_multi();
    auto slow = request("GET", server.url() + "/slow");
    slow.timeout = 200ms;
    multi->start(1, slow);
    for (std::uint64_t tag = 2; tag <= 6; ++tag)
        multi->start(tag, request("GET", server.url() + "/fast"));
    auto began = Clock::now();
    auto done = drain(*multi);
    EXPECT_LT(Clock::now() - began, 1400ms);  // the slow answer was not waited for
    ASSERT_EQ(done.size(), 6u);
    ASSERT_FALSE(done.at(1).ok());
    EXPECT_TRUE(done.at(1).error().retryable);
    EXPECT_NE(done.at(1).error().message.find("GET " + server.url() + "/slow: Timeout"),
              std::string::npos)
        << done.at(1).error().message;
    for (std::uint64_t tag = 2; tag <= 6; ++tag) {
        ASSERT_TRUE(done.at(tag).ok()) << done.at(tag).error().message;
        EXPECT_EQ(done.at(tag)->body, "quick");
    }
}

TEST(HttpMulti, WakeEndsABlockedPollEarly) {
    auto multi = make_curl_http_multi();
    auto began = Clock::now();
    EXPECT_TRUE(multi->poll(150ms).empty());  // nothing in flight: poll still waits
    EXPECT_GE(Clock::now() - began, 140ms);

    std::thread waker([&] {
        std::this_thread::sleep_for(100ms);
        multi->wake();
    });
    began = Clock::now();
    EXPECT_TRUE(multi->poll(10s).empty());
    EXPECT_LT(Clock::now() - began, 5s);
    waker.join();

    multi->wake();  // before the poll: the next one returns at once
    began = Clock::now();
    EXPECT_TRUE(multi->poll(10s).empty());
    EXPECT_LT(Clock::now() - began, 5s);
}

TEST(HttpMulti, CancelAllReturnsEveryTransferAsANonRetryableCancelledError) {
    Server server(8);
    std::atomic<int> arrived{0};
    server.routes().Get("/hang", [&](const httplib::Request&, httplib::Response& res) {
        ++arrived;
        std::this_thread::sleep_for(1s);
        res.set_content("too late", "text/plain");
    });
    server.start();
    auto multi = make_curl_http_multi();
    for (std::uint64_t tag = 1; tag <= 3; ++tag)
        multi->start(tag, request("GET", server.url() + "/hang"));
    auto deadline = Clock::now() + 5s;
    while (arrived < 3 && Clock::now() < deadline) EXPECT_TRUE(multi->poll(20ms).empty());
    ASSERT_EQ(arrived.load(), 3);
    multi->cancel_all();
    EXPECT_EQ(multi->in_flight(), 3u);
    auto began = Clock::now();
    auto done = multi->poll(10s);
    EXPECT_LT(Clock::now() - began, 500ms);
    ASSERT_EQ(done.size(), 3u);
    std::set<std::uint64_t> tags;
    for (const auto& [tag, result] : done) {
        tags.insert(tag);
        ASSERT_FALSE(result.ok());
        EXPECT_FALSE(result.error().retryable);
        EXPECT_EQ(result.error().message, k_http_cancelled);
    }
    EXPECT_EQ(tags, (std::set<std::uint64_t>{1, 2, 3}));
    EXPECT_EQ(multi->in_flight(), 0u);
}

// A port on which nothing listens.
int closed_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

TEST(HttpMulti, ARefusedConnectionIsRetryableAndAnUnreadableBodyFileIsNot) {
    auto multi = make_curl_http_multi();
    std::string url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/x";
    multi->start(7, request("POST", url, "{}"));
    auto bad = request("PUT", url);
    bad.body_file = "/nonexistent/hypertest/body";
    multi->start(8, bad);
    auto done = drain(*multi, 15s);
    ASSERT_EQ(done.size(), 2u);
    ASSERT_FALSE(done.at(7).ok());
    EXPECT_TRUE(done.at(7).error().retryable);
    EXPECT_EQ(done.at(7).error().message.rfind("POST " + url + ": ", 0), 0u)
        << done.at(7).error().message;
    ASSERT_FALSE(done.at(8).ok());
    EXPECT_FALSE(done.at(8).error().retryable);
    EXPECT_NE(done.at(8).error().message.find("cannot read /nonexistent/hypertest/body"),
              std::string::npos);
}

// Answers every request "ok", except a request for /die on a connection that already served
// one: that one is read whole, then the connection is closed without an answer (as when a
// server or a proxy drops a connection mid-invocation). Serves one connection at a time.
class DroppingServer {
  public:
    DroppingServer() {
        m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        socklen_t len = sizeof addr;
        ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len);
        m_port = ntohs(addr.sin_port);
        ::listen(m_fd, 16);
        m_thread = std::thread([this] { run(); });
    }
    ~DroppingServer() {
        m_stop = true;
        m_thread.join();
        ::close(m_fd);
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
    int dies_received() const { return m_dies; }

  private:
    void run() {
        while (!m_stop) {
            pollfd p{m_fd, POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0) continue;
            int conn = ::accept(m_fd, nullptr, nullptr);
            if (conn < 0) continue;
            serve(conn);
            ::close(conn);
        }
    }
    void serve(int conn) {
        std::string buffer;
        for (int n = 0;; ++n) {
            auto path = read_request(conn, buffer);
            if (!path) return;
            if (*path == "/die" && ++m_dies && n > 0) return;
            const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
            ::send(conn, ok.data(), ok.size(), MSG_NOSIGNAL);
        }
    }
    bool read_more(int conn, std::string& buffer) {
        while (!m_stop) {
            pollfd p{conn, POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0) continue;
            char chunk[4096];
            ssize_t got = ::recv(conn, chunk, sizeof chunk, 0);
            if (got <= 0) return false;
            buffer.append(chunk, static_cast<std::size_t>(got));
            return true;
        }
        return false;
    }
    // The path of the next request, read with its body; nullopt when the connection ends.
    std::optional<std::string> read_request(int conn, std::string& buffer) {
        std::size_t end;
        while ((end = buffer.find("\r\n\r\n")) == std::string::npos)
            if (!read_more(conn, buffer)) return std::nullopt;
        std::string head = buffer.substr(0, end);
        std::size_t length = 0;
        for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (auto at = head.find("content-length:"); at != std::string::npos)
            length = std::stoul(head.substr(at + 15));
        while (buffer.size() < end + 4 + length)
            if (!read_more(conn, buffer)) return std::nullopt;
        std::size_t space = head.find(' ');
        std::string path = head.substr(space + 1, head.find(' ', space + 1) - space - 1);
        buffer.erase(0, end + 4 + length);
        return path;
    }

    int m_fd = -1;
    int m_port = 0;
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_dies{0};
    std::thread m_thread;
};

Result<HttpResponse> send_through_multi(HttpMulti& multi, const HttpRequest& req) {
    multi.start(1, req);
    auto done = drain(multi, 15s);
    if (done.size() != 1) return make_error("no answer");
    return std::move(done.begin()->second);
}

TEST(HttpMulti, APostIsNotSentAgainWhenItsReusedConnectionDiesButAGetIs) {
    DroppingServer server;
    auto multi = make_curl_http_multi();
    ASSERT_TRUE(send_through_multi(*multi, request("POST", server.url() + "/ok", "{}")).ok());
    auto post = send_through_multi(*multi, request("POST", server.url() + "/die", "{}"));
    ASSERT_FALSE(post.ok());
    EXPECT_TRUE(post.error().retryable);
    EXPECT_NE(post.error().message.find("not sent again"), std::string::npos)
        << post.error().message;
    EXPECT_EQ(server.dies_received(), 1);

    // libcurl's own re-send, which a GET may have: the server sees the request twice.
    ASSERT_TRUE(send_through_multi(*multi, request("GET", server.url() + "/ok")).ok());
    auto get = send_through_multi(*multi, request("GET", server.url() + "/die"));
    ASSERT_TRUE(get.ok()) << get.error().message;
    EXPECT_EQ(get->body, "ok");
    EXPECT_EQ(server.dies_received(), 3);
}

TEST(HttpClient, APostIsNotSentAgainWhenItsReusedConnectionDies) {
    DroppingServer server;
    auto client = make_curl_http_client();
    ASSERT_TRUE(client->send(request("POST", server.url() + "/ok", "{}")).ok());
    auto post = client->send(request("POST", server.url() + "/die", "{}"));
    ASSERT_FALSE(post.ok());
    EXPECT_TRUE(post.error().retryable);
    EXPECT_EQ(server.dies_received(), 1);
    auto again = client->send(request("POST", server.url() + "/ok", "{}"));
    EXPECT_TRUE(again.ok()) << again.error().message;
}

}  // namespace
}  // namespace hypertest::util

namespace hypertest::util {
namespace {

// A server that streams without end is cut off at the request's bound, in memory and to a
// file, instead of filling the disk or the memory.
TEST(HttpBodyLimit, AnEndlessBodyStopsAtTheBound) {
    Server server(4);
    server.routes().Get("/endless", [](const httplib::Request&, httplib::Response& res) {
        res.set_chunked_content_provider("application/octet-stream",
                                         [](std::size_t, httplib::DataSink& sink) {
                                             static const std::string block(64 << 10, 'x');
                                             return sink.write(block.data(), block.size());
                                         });
    });
    server.routes().Get("/moved", [](const httplib::Request&, httplib::Response& res) {
        res.status = 307;
        res.set_header("Location", "/elsewhere");
        res.set_content(std::string(4096, 'm'), "text/html");
    });
    server.start();
    auto client = make_curl_http_client();
    // The bound is the wanted answer's: a redirect's page on the way is not held against it.
    auto small = request("GET", server.url() + "/moved");
    small.max_response_bytes = 32;
    auto moved = client->send(small);
    ASSERT_TRUE(moved) << moved.error().message;
    EXPECT_EQ(moved->status, 307);
    auto req = request("GET", server.url() + "/endless");
    req.max_response_bytes = 1 << 20;
    auto got = client->send(req);
    ASSERT_FALSE(got);
    EXPECT_NE(got.error().message.find("larger than 1048576 bytes"), std::string::npos)
        << got.error().message;
    EXPECT_FALSE(got.error().retryable);
    TempDir dir;
    req.response_file = dir.path() / "endless";
    got = client->send(req);
    ASSERT_FALSE(got);
    std::error_code ec;
    EXPECT_LE(std::filesystem::file_size(req.response_file, ec), std::uintmax_t{1} << 20);
}

}  // namespace
}  // namespace hypertest::util
