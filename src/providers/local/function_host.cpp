#include "providers/local/function_host.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>

#include "providers/local/environment.hpp"
#include "oci/image.hpp"
#include "providers/local/task_root.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/time.hpp"

namespace hypertest::providers {
namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;
constexpr milliseconds k_poll_slice{20};
constexpr std::size_t k_log_tail_bytes = 4096;
constexpr std::size_t k_kept_logs = 200;

std::int64_t ms_between(SteadyClock::time_point a, SteadyClock::time_point b) {
    return std::chrono::duration_cast<milliseconds>(b - a).count();
}

// Keeps the newest `keep` files of the log directory.
void prune_logs(const fs::path& dir, std::size_t keep) {
    std::vector<std::pair<fs::file_time_type, fs::path>> files;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code e2;
        files.emplace_back(fs::last_write_time(it->path(), e2), it->path());
    }
    if (files.size() <= keep) return;
    std::sort(files.begin(), files.end());
    for (std::size_t i = 0; i + keep < files.size(); ++i) fs::remove(files[i].second, ec);
}

InvokeResponse host_error(const std::string& message, const std::string& type,
                          const Environment& env) {
    InvokeResponse r;
    r.function_error = true;
    r.error_message = message;
    r.payload = {{"errorMessage", message},
                 {"errorType", type},
                 {"logFile", env.stderr_log().string()},
                 {"logTail", log_tail(env.stderr_log(), k_log_tail_bytes)}};
    return r;
}

std::string exit_text(int status) {
    return status > 128 ? "signal " + std::to_string(status - 128)
                        : "exit status " + std::to_string(status);
}

// The runtime's answer as an InvokeResponse (durations are filled in by the caller).
InvokeResponse from_reply(const RuntimeReply& reply) {
    InvokeResponse r;
    auto parsed = util::parse_json(reply.body, "function answer");
    r.payload = parsed ? *parsed : util::Json(reply.body);
    if (reply.kind == RuntimeReply::Kind::response) return r;
    r.function_error = true;
    std::string message = util::json_get<std::string>(r.payload, "errorMessage", reply.body);
    if (reply.kind == RuntimeReply::Kind::init_error) {
        r.error_message = "Runtime init error: " + message;
    } else {
        r.error_message = message.empty() ? "the function reported an error" : message;
    }
    if (!r.payload.is_object()) r.payload = {{"errorMessage", r.error_message}};
    if (!reply.error_type.empty() && !r.payload.contains("errorType"))
        r.payload["errorType"] = reply.error_type;
    return r;
}

class FunctionHost : public Functions {
public:
    explicit FunctionHost(FunctionHostOptions o)
        : m_opts(std::move(o)), m_roots(m_opts.cache_dir, m_opts.image_layout_dir, m_opts.unpack_limits) {
        m_opts.concurrency = std::max(1, m_opts.concurrency);
        prune_logs(m_opts.function_dir / "logs", k_kept_logs);
        // Made before any sandbox exists, so that it is bound read-only into every one.
        if (!m_opts.storage_root.empty()) m_storage_ready = util::ensure_dir(m_opts.storage_root / "_hypertest");
    }
    ~FunctionHost() override { shutdown(); }

    util::Result<FunctionState> state() override {
        FunctionState s;
        s.timeout_s = m_opts.timeout_s;
        s.memory_mb = m_opts.memory_mb;
        fs::path file = m_opts.function_dir / "function.json";
        std::error_code ec;
        if (!fs::exists(file, ec)) return s;
        auto text = util::read_file(file);
        if (!text) return text.error();
        auto j = util::parse_json(*text, file.string());
        if (!j) return util::make_error(j.error().message + "; delete the file and deploy again");
        s.image_digest = util::json_get<std::string>(*j, "imageDigest", "");
        return s;
    }

    util::Status update(const std::string& digest) override {
        if (digest_hex(digest).empty())
            return util::make_error("malformed image digest \"" + digest + "\" (want sha256:<hex>)");
        if (auto pulled = ensure_image(digest); !pulled) return pulled;
        auto layout = oci::ImageLayout::open(m_opts.image_layout_dir);
        if (!layout) return layout.error();
        if (!layout->has_blob(digest))
            return util::make_error("image " + digest + " is not in " + m_opts.image_layout_dir.string());
        auto previous = state();
        // Unpacked now, like Lambda optimizes an image on update: the first invocation starts
        // at once. Layers unpacked for earlier images are re-used. An image that cannot be
        // unpacked fails the update and the function keeps its previous image.
        if (m_opts.task_root_override.empty()) {
            if (auto root = m_roots.get(digest); !root) return root.error();
        }
        util::Json j = {{"version", 1},
                        {"functionName", m_opts.function_name},
                        {"imageDigest", digest},
                        {"updatedAt", util::iso8601_ms(util::now_ms())}};
        if (auto s = util::write_file_atomic(m_opts.function_dir / "function.json", j.dump(2) + "\n"); !s)
            return s;
        std::vector<std::string> keep = {digest};
        if (previous && !previous->image_digest.empty()) keep.push_back(previous->image_digest);
        m_roots.prune(keep);
        return util::ok_status();
    }

    void start_invoke(CallId id, const util::Json& event, milliseconds timeout) override {
        Call call{id, event.dump(-1, ' ', false, util::Json::error_handler_t::replace), timeout};
        if (m_live < m_opts.concurrency || has_idle()) {
            begin(std::move(call));
        } else {
            m_waiting.push_back(std::move(call));  // starts when an environment frees up
        }
    }

    std::vector<InvokeCompletion> poll(milliseconds wait) override {
        auto until = SteadyClock::now() + wait;
        while (true) {
            std::uint64_t seen = m_wakeups.count();
            check_active();
            while (!m_waiting.empty() && (m_live < m_opts.concurrency || has_idle())) {
                Call call = std::move(m_waiting.front());
                m_waiting.pop_front();
                begin(std::move(call));
            }
            if (!m_done.empty()) return std::exchange(m_done, {});
            auto now = SteadyClock::now();
            if (now >= until) return {};
            // Replies wake this at once; exits and deadlines are noticed within a slice.
            m_wakeups.wait(seen, std::min<SteadyClock::duration>(k_poll_slice, until - now));
        }
    }

    std::size_t in_flight() const override { return m_active.size() + m_waiting.size() + m_done.size(); }

    void shutdown() override {
        for (auto& call : m_waiting) {
            fail(call.id, util::make_error("the function host was shut down before the invocation started"));
        }
        m_waiting.clear();
        for (auto& a : m_active) {
            a.stopped = true;
            a.env->kill();
        }
        m_live -= static_cast<int>(m_idle.size());
        m_idle.clear();
    }

private:
    using Spec = std::pair<std::string, EnvironmentSpec>;  // image digest, how to start

    struct Call {
        CallId id = 0;
        std::string event;
        milliseconds timeout{0};
    };

    // One invocation running in an environment.
    struct Active {
        CallId id = 0;
        std::shared_ptr<Environment> env;
        bool cold = false;
        bool stopped = false;  // shutdown() killed it
        SteadyClock::time_point submitted;
        milliseconds limit{0};
    };

    // Counts replies of every environment; poll() sleeps on it between checks.
    class Wakeups {
    public:
        void notify() {
            std::lock_guard lock(m_mutex);
            ++m_count;
            m_cv.notify_all();
        }
        std::uint64_t count() {
            std::lock_guard lock(m_mutex);
            return m_count;
        }
        void wait(std::uint64_t seen, SteadyClock::duration at_most) {
            std::unique_lock lock(m_mutex);
            m_cv.wait_for(lock, at_most, [&] { return m_count != seen; });
        }

    private:
        std::mutex m_mutex;
        std::condition_variable m_cv;
        std::uint64_t m_count = 0;
    };

    bool has_idle() const { return !m_idle.empty(); }

    // Ends a call that never reached an environment (at the next poll).
    void fail(CallId id, util::Error error) {
        util::Result<InvokeResponse> failed(std::move(error));
        m_done.push_back(InvokeCompletion{id, std::move(failed)});
    }

    // Hands the event to an idle or new environment; failures end the call at the next poll.
    void begin(Call call) {
        auto spec = environment_spec();
        if (!spec) {
            fail(call.id, spec.error());
            return;
        }
        auto env = acquire(spec->first, spec->second);
        if (!env) {
            fail(call.id, env.error());
            return;
        }
        Active a;
        a.id = call.id;
        a.env = std::move(*env);
        a.limit = milliseconds{static_cast<std::int64_t>(m_opts.timeout_s) * 1000};
        if (call.timeout.count() > 0) a.limit = std::min(a.limit, call.timeout);
        a.cold = a.env->begin_invocation();
        a.env->api().set_reply_listener([w = m_wakeups_ptr] { w->notify(); });
        a.submitted = SteadyClock::now();
        a.env->api().submit(std::move(call.event), a.limit);
        m_active.push_back(std::move(a));
    }

    // Ends the invocations that were answered, crashed or ran out of time.
    void check_active() {
        for (auto it = m_active.begin(); it != m_active.end();) {
            bool healthy = true;
            if (auto r = finished(*it, healthy)) {
                m_done.push_back({it->id, std::move(*r)});
                release(std::move(it->env), healthy && !it->stopped);
                it = m_active.erase(it);
            } else {
                ++it;
            }
        }
    }

    std::optional<InvokeResponse> finished(Active& a, bool& healthy) {
        Environment& env = *a.env;
        if (auto reply = env.api().wait_reply(milliseconds(0))) {
            auto now = SteadyClock::now();
            InvokeResponse r = from_reply(*reply);
            healthy = reply->kind != RuntimeReply::Kind::init_error;
            fill_times(r, env, a.cold, env.api().delivered_at().value_or(a.submitted), now);
            return r;
        }
        auto now = SteadyClock::now();
        auto delivered = env.api().delivered_at();
        std::string failure;
        std::string type;
        if (auto status = env.exited()) {
            failure = a.stopped ? "the function host was shut down during the invocation"
                                : "Runtime exited with error: " + exit_text(*status);
            type = "Runtime.ExitError";
        } else if (!delivered && now - a.submitted > m_opts.init_timeout) {
            failure = "Runtime did not ask for the event within " +
                      std::to_string(m_opts.init_timeout.count()) + " ms (init timeout)";
            type = "Runtime.InitTimeout";
        } else if (delivered && now - *delivered > a.limit) {
            char buf[96];
            std::snprintf(buf, sizeof buf, "Task timed out after %.2f seconds",
                          static_cast<double>(a.limit.count()) / 1000.0);
            failure = buf;
            type = "Sandbox.Timedout";
        }
        if (failure.empty()) return std::nullopt;
        healthy = false;
        env.kill();
        InvokeResponse r = host_error(failure, type, env);
        fill_times(r, env, a.cold, delivered.value_or(now), now);
        return r;
    }


    util::Result<Spec> environment_spec() {
        EnvironmentSpec spec;
        spec.function_name = m_opts.function_name;
        spec.runner = m_opts.runner_path;
        spec.timeout_s = m_opts.timeout_s;
        spec.memory_mb = m_opts.memory_mb;
        spec.storage_root = m_opts.storage_root;
        if (!m_storage_ready) return m_storage_ready.error();
        spec.extra_env = m_opts.env;
        spec.log_dir = m_opts.function_dir / "logs";
        auto sandbox = sandbox_enabled();
        if (!sandbox) return sandbox.error();
        spec.sandbox = *sandbox;
        spec.private_network = m_opts.private_network;
        if (!m_opts.task_root_override.empty()) {
            spec.task_root = m_opts.task_root_override;
            return Spec{"override", spec};
        }
        auto st = state();
        if (!st) return st.error();
        if (st->image_digest.empty()) {
            return util::make_error("function \"" + m_opts.function_name +
                                    "\" has no image yet; run `hypertest deploy` first");
        }
        if (auto pulled = ensure_image(st->image_digest); !pulled) return pulled.error();
        auto root = m_roots.get(st->image_digest);
        if (!root) return root.error();
        spec.task_root = root->path;
        spec.image_root = root->rootfs;
        spec.task_layers = root->task_layers;
        // The image's own runtime when it has one (built on a base image): invoke runs
        // exactly what deploy froze. Without one, the runner installed beside hypertest.
        if (!root->runner.empty()) spec.runner = root->runner;
        spec.image_env = root->env;
        spec.image_env.erase("PATH");
        return Spec{st->image_digest, spec};
    }

    // With a registry: pulls the image into the host's layout unless it is there already.
    util::Status ensure_image(const std::string& digest) {
        if (!m_opts.registry.enabled()) return util::ok_status();
        std::lock_guard lock(m_pull_mutex);
        if (digest == m_pulled_digest) return util::ok_status();
        auto layout = oci::ImageLayout::open(m_opts.image_layout_dir);
        if (!layout || !layout->has_blob(digest)) {
            auto report = pull_from_registry(m_opts.registry, digest, m_opts.image_layout_dir);
            if (!report) return report.error();
            util::log_debug("pulled " + digest + " from " + m_opts.registry.reference + ": " +
                            report->summary());
        }
        m_pulled_digest = digest;
        return util::ok_status();
    }

    util::Result<bool> sandbox_enabled() {
        std::call_once(m_sandbox_once, [this] {
            if (m_opts.sandbox == SandboxMode::off) return;
            auto status = bubblewrap_status();
            if (status) {
                m_sandbox = true;
            } else if (m_opts.sandbox == SandboxMode::on) {
                m_sandbox_error = "cloudProvider.sandbox is true but " + status.error().message +
                                  "; install bubblewrap (and allow user namespaces) or set "
                                  "\"sandbox\": \"auto\"";
            } else {
                util::log_warn(status.error().message + ": tests run without a sandbox (set "
                               "cloudProvider.sandbox to false to silence this)");
            }
        });
        if (!m_sandbox_error.empty()) return util::make_error(m_sandbox_error);
        return m_sandbox;
    }

    // An idle environment running this image, or a new one. Idle environments whose runtime
    // died, or that run an older image, are dropped.
    util::Result<std::shared_ptr<Environment>> acquire(const std::string& digest,
                                                       const EnvironmentSpec& spec) {
        for (auto it = m_idle.begin(); it != m_idle.end();) {
            if ((*it)->exited() || (*it)->image_digest() != digest) {
                it = m_idle.erase(it);
                --m_live;
            } else {
                ++it;
            }
        }
        if (!m_idle.empty()) {
            auto env = std::move(m_idle.back());
            m_idle.pop_back();
            return env;
        }
        auto started = Environment::start(spec, digest);
        if (!started) return started.error();
        ++m_live;
        return std::shared_ptr<Environment>(std::move(*started));
    }

    void release(std::shared_ptr<Environment> env, bool healthy) {
        if (healthy) {
            m_idle.push_back(std::move(env));
        } else {
            --m_live;  // torn down here
        }
    }

    static void fill_times(InvokeResponse& r, Environment& env, bool cold,
                           SteadyClock::time_point delivered, SteadyClock::time_point done) {
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(done - delivered).count();
        r.duration_ms = us / 1000;
        r.billed_ms = std::max<std::int64_t>(1, (us + 999) / 1000);
        if (cold) {
            auto first = env.api().first_next_at();
            r.init_ms = first ? std::max<std::int64_t>(1, ms_between(env.spawned_at(), *first)) : 0;
        }
    }

    FunctionHostOptions m_opts;
    TaskRootCache m_roots;
    util::Status m_storage_ready = util::ok_status();
    std::once_flag m_sandbox_once;
    std::mutex m_pull_mutex;
    std::string m_pulled_digest;  // in the host's layout already
    bool m_sandbox = false;
    std::string m_sandbox_error;

    // Used from the dispatcher's thread only, apart from m_wakeups.
    std::shared_ptr<Wakeups> m_wakeups_ptr = std::make_shared<Wakeups>();
    Wakeups& m_wakeups = *m_wakeups_ptr;
    std::vector<std::shared_ptr<Environment>> m_idle;
    std::vector<Active> m_active;
    std::deque<Call> m_waiting;             // started beyond the concurrency limit
    std::vector<InvokeCompletion> m_done;  // ended, not yet returned by poll
    int m_live = 0;                         // idle + busy environments
};

}  // namespace

std::unique_ptr<Functions> make_function_host(const FunctionHostOptions& options) {
    return std::make_unique<FunctionHost>(options);
}

}  // namespace hypertest::providers
