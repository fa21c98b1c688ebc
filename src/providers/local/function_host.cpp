#include "providers/local/function_host.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <set>

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
        : m_opts(std::move(o)), m_roots(m_opts.function_dir / "rootfs", m_opts.image_layout_dir) {
        m_opts.concurrency = std::max(1, m_opts.concurrency);
        prune_logs(m_opts.function_dir / "logs", k_kept_logs);
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

    util::Result<InvokeResponse> invoke(const util::Json& event, milliseconds timeout) override {
        auto spec = environment_spec();
        if (!spec) return spec.error();
        auto env = acquire(spec->first, spec->second);
        if (!env) return env.error();
        bool healthy = true;
        InvokeResponse r = run(**env, event, timeout, healthy);
        release(*env, healthy);
        return r;
    }

    void shutdown() override {
        std::vector<std::shared_ptr<Environment>> idle;
        {
            std::lock_guard lock(m_mutex);
            idle.swap(m_idle);
            m_live -= static_cast<int>(idle.size());
            for (const auto& env : m_busy) {
                m_stopped.insert(env.get());
                env->kill();
            }
            m_cv.notify_all();
        }
        idle.clear();  // destroys them outside the lock
    }

private:
    using Spec = std::pair<std::string, EnvironmentSpec>;  // image digest, how to start

    util::Result<Spec> environment_spec() {
        EnvironmentSpec spec;
        spec.function_name = m_opts.function_name;
        spec.runner = m_opts.runner_path;
        spec.timeout_s = m_opts.timeout_s;
        spec.memory_mb = m_opts.memory_mb;
        spec.storage_root = m_opts.storage_root;
        spec.extra_env = m_opts.env;
        spec.log_dir = m_opts.function_dir / "logs";
        auto sandbox = sandbox_enabled();
        if (!sandbox) return sandbox.error();
        spec.sandbox = *sandbox;
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

    util::Result<std::shared_ptr<Environment>> acquire(const std::string& digest,
                                                       const EnvironmentSpec& spec) {
        std::vector<std::shared_ptr<Environment>> discard;
        std::unique_lock lock(m_mutex);
        while (true) {
            // Idle environments whose runtime died, or that run an older image, are dropped.
            for (auto it = m_idle.begin(); it != m_idle.end();) {
                if ((*it)->exited() || (*it)->image_digest() != digest) {
                    discard.push_back(std::move(*it));
                    it = m_idle.erase(it);
                    --m_live;
                } else {
                    ++it;
                }
            }
            if (!m_idle.empty()) {
                auto env = std::move(m_idle.back());
                m_idle.pop_back();
                m_busy.insert(env);
                return env;
            }
            if (m_live < m_opts.concurrency) break;
            m_cv.wait(lock);
        }
        ++m_live;
        lock.unlock();
        discard.clear();
        auto started = Environment::start(spec, digest);
        lock.lock();
        if (!started) {
            --m_live;
            m_cv.notify_all();
            return started.error();
        }
        std::shared_ptr<Environment> env = std::move(*started);
        m_busy.insert(env);
        return env;
    }

    void release(std::shared_ptr<Environment> env, bool healthy) {
        {
            std::lock_guard lock(m_mutex);
            m_busy.erase(env);
            bool stopped = m_stopped.erase(env.get()) > 0;
            if (healthy && !stopped) {
                m_idle.push_back(env);
                env.reset();
            } else {
                --m_live;
            }
            m_cv.notify_all();
        }
        env.reset();  // a discarded environment is torn down outside the lock
    }

    InvokeResponse run(Environment& env, const util::Json& event, milliseconds timeout,
                       bool& healthy) {
        milliseconds limit{static_cast<std::int64_t>(m_opts.timeout_s) * 1000};
        if (timeout.count() > 0) limit = std::min(limit, timeout);
        bool cold = env.begin_invocation();
        auto submitted = SteadyClock::now();
        env.api().submit(event.dump(-1, ' ', false, util::Json::error_handler_t::replace), limit);
        while (true) {
            if (auto reply = env.api().wait_reply(k_poll_slice)) {
                auto now = SteadyClock::now();
                InvokeResponse r = from_reply(*reply);
                healthy = reply->kind != RuntimeReply::Kind::init_error;
                auto delivered = env.api().delivered_at().value_or(submitted);
                fill_times(r, env, cold, delivered, now);
                return r;
            }
            auto now = SteadyClock::now();
            auto delivered = env.api().delivered_at();
            std::string failure;
            std::string type;
            if (auto status = env.exited()) {
                failure = stopped(env) ? "the function host was shut down during the invocation"
                                       : "Runtime exited with error: " + exit_text(*status);
                type = "Runtime.ExitError";
            } else if (!delivered && now - submitted > m_opts.init_timeout) {
                failure = "Runtime did not ask for the event within " +
                          std::to_string(m_opts.init_timeout.count()) + " ms (init timeout)";
                type = "Runtime.InitTimeout";
            } else if (delivered && now - *delivered > limit) {
                char buf[96];
                std::snprintf(buf, sizeof buf, "Task timed out after %.2f seconds",
                              static_cast<double>(limit.count()) / 1000.0);
                failure = buf;
                type = "Sandbox.Timedout";
            }
            if (failure.empty()) continue;
            healthy = false;
            env.kill();
            InvokeResponse r = host_error(failure, type, env);
            fill_times(r, env, cold, delivered.value_or(now), now);
            return r;
        }
    }

    bool stopped(Environment& env) {
        std::lock_guard lock(m_mutex);
        return m_stopped.count(&env) > 0;
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
    std::once_flag m_sandbox_once;
    std::mutex m_pull_mutex;
    std::string m_pulled_digest;  // in the host's layout already
    bool m_sandbox = false;
    std::string m_sandbox_error;

    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::vector<std::shared_ptr<Environment>> m_idle;
    std::set<std::shared_ptr<Environment>> m_busy;
    std::set<const Environment*> m_stopped;  // killed by shutdown while busy
    int m_live = 0;                          // idle + busy + starting
};

}  // namespace

std::unique_ptr<Functions> make_function_host(const FunctionHostOptions& options) {
    return std::make_unique<FunctionHost>(options);
}

}  // namespace hypertest::providers
