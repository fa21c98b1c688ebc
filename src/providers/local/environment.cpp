#include "providers/local/environment.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <thread>

#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

namespace hypertest::providers {
namespace {

std::string host_path() {
    const char* p = std::getenv("PATH");
    return p && *p ? p : "/usr/local/bin:/usr/bin:/bin";
}

constexpr const char* k_socket_name = "runtime.sock";

std::map<std::string, std::string> runtime_env(const EnvironmentSpec& spec, const std::string& api,
                                               const fs::path& private_tmp) {
    std::map<std::string, std::string> env = spec.image_env;
    for (const auto& [name, value] : spec.extra_env) env[name] = value;
    fs::path tmp = spec.sandbox ? fs::path("/tmp") : private_tmp;
    env["PATH"] = host_path();
    // The function's HOME is private, yet on this machine the browsers (and Playwright's ffmpeg)
    // are where the user installed them: name that place unless the image does.
    if (!env.count("PLAYWRIGHT_BROWSERS_PATH")) {
        const char* set = std::getenv("PLAYWRIGHT_BROWSERS_PATH");
        const char* home = std::getenv("HOME");
        std::error_code ec;
        if (set && *set) {
            env["PLAYWRIGHT_BROWSERS_PATH"] = set;
        } else if (home && *home && fs::is_directory(fs::path(home) / ".cache/ms-playwright", ec)) {
            env["PLAYWRIGHT_BROWSERS_PATH"] = (fs::path(home) / ".cache/ms-playwright").string();
        }
    }
    env["HOME"] = tmp.string();
    env["TMPDIR"] = tmp.string();
    env["LANG"] = "C.UTF-8";
    env["AWS_LAMBDA_RUNTIME_API"] = api;
    std::string layers;
    for (const auto& l : spec.task_layers) layers += (layers.empty() ? "" : ":") + l.string();
    if (!layers.empty()) env["HT_TASK_LAYERS"] = layers;
    if (spec.sandbox) env["HT_RUNTIME_API_SOCKET"] = (private_tmp / k_socket_name).string();
    // The runner waits for pasta to configure the namespace before the first batch.
    if (spec.sandbox && spec.private_network && pasta_installed()) env["HT_NETWORK_WAIT"] = "1";
    env["LAMBDA_TASK_ROOT"] = spec.task_root.string();
    env["AWS_LAMBDA_FUNCTION_NAME"] = spec.function_name;
    env["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST";
    env["AWS_LAMBDA_FUNCTION_TIMEOUT"] = std::to_string(spec.timeout_s);
    env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = std::to_string(spec.memory_mb);
    if (const char* d = std::getenv("HT_RUNNER_DEBUG")) env["HT_RUNNER_DEBUG"] = d;
    return env;
}

// Every environment's folder (its /tmp when unsandboxed, its Runtime API socket) lives in one
// parent of hypertest's own, which each sandbox hides before binding its own folder back: with
// TMPDIR outside /tmp, the other environments' sockets would otherwise be in reach.
fs::path environments_dir() {
    std::error_code ec;
    return fs::temp_directory_path(ec) / ("hypertest-envs-" + std::to_string(::geteuid()));
}

fs::path make_private_tmp(const std::string& function_name) {
    fs::path parent = environments_dir();
    if (::mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST) return {};
    struct stat st {};
    // Not a link, and ours: another user of a shared temp dir could have made it first.
    if (::lstat(parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) return {};
    std::string t = (parent / (function_name + "-XXXXXX")).string();
    return ::mkdtemp(t.data()) ? fs::path(t) : fs::path();
}

std::string log_stem() {
    static std::atomic<int> serial{0};
    return "runtime-" + std::to_string(util::now_ms()) + "-" + std::to_string(::getpid()) + "-" +
           std::to_string(++serial);
}

std::string read_small_file(const fs::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    char buf[1024];
    ssize_t n = ::read(fd, buf, sizeof buf);
    ::close(fd);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// Every process below root, found through /proc. The runner starts the framework in process
// groups of its own, so killing the runner's group alone could leave them running.
std::vector<pid_t> descendants(pid_t root) {
    std::multimap<pid_t, pid_t> children;
    std::error_code ec;
    for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        // Plain read(2): the process may vanish meanwhile (ESRCH), which streams throw on.
        std::string stat = read_small_file(it->path() / "stat");
        auto close = stat.rfind(')');  // the command name may contain spaces and parentheses
        if (close == std::string::npos) continue;
        char state = 0;
        int ppid = 0;
        if (std::sscanf(stat.c_str() + close + 1, " %c %d", &state, &ppid) != 2) continue;
        children.emplace(ppid, std::stoi(name));
    }
    std::vector<pid_t> out;
    std::vector<pid_t> todo = {root};
    while (!todo.empty()) {
        pid_t p = todo.back();
        todo.pop_back();
        auto [b, e] = children.equal_range(p);
        for (auto it = b; it != e; ++it) {
            out.push_back(it->second);
            todo.push_back(it->second);
        }
    }
    return out;
}

// pasta (from Debian's passt) gives the sandbox's network namespace outbound traffic through
// the host's sockets, like Lambda's. Nothing reaches into the namespace (-t/-u none), nothing
// of the host's loopback is reachable from it (-T/-U none, --no-map-gw): other environments'
// servers stay out of reach.
util::Result<std::unique_ptr<util::Child>> start_network(pid_t sandbox_pid, const fs::path& log) {
    util::ProcessSpec p;
    p.argv = {"pasta", "--runas", std::to_string(::geteuid()), "--config-net", "--no-map-gw",
              "-t", "none", "-u", "none", "-T", "none", "-U", "none", "--quiet", "--foreground",
              std::to_string(sandbox_pid)};
    p.kill_with_parent = true;
    p.stdout_file = log;
    p.stderr_file = log;
    return util::Child::spawn(p);
}

// The process bubblewrap started inside the namespaces (bubblewrap itself stays outside).
pid_t sandbox_child(pid_t bwrap, std::chrono::milliseconds wait) {
    auto until = std::chrono::steady_clock::now() + wait;
    fs::path children = "/proc/" + std::to_string(bwrap) + "/task/" + std::to_string(bwrap) + "/children";
    do {
        std::string text = read_small_file(children);
        if (!text.empty()) return static_cast<pid_t>(std::atoi(text.c_str()));
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    } while (std::chrono::steady_clock::now() < until);
    return -1;
}

}  // namespace

bool pasta_installed() {
    static const bool installed = !util::find_in_path("pasta").empty();
    return installed;
}

std::vector<std::string> runtime_argv(const EnvironmentSpec& spec, const fs::path& runtime_dir) {
    if (!spec.sandbox) return {spec.runner.string()};
    // Order matters: the private /tmp is mounted before the binds that may live below it.
    // /run and /var/tmp hold the host's sockets (the session bus, a container engine's): empty
    // ones hide them. Other environments' folders are hidden the same way.
    std::vector<std::string> argv = {"bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                                     "--tmpfs", "/tmp", "--tmpfs", "/run", "--tmpfs", "/var/tmp",
                                     "--tmpfs", environments_dir().string()};
    auto bind = [&argv](const char* how, const fs::path& p) {
        argv.insert(argv.end(), {how, p.string(), p.string()});
    };
    // Name resolution keeps working where /etc/resolv.conf points into /run.
    std::error_code ec;
    fs::path resolv = fs::canonical("/etc/resolv.conf", ec);
    if (!ec && util::starts_with(resolv.string(), "/run/")) bind("--ro-bind", resolv);
    if (!spec.image_root.empty()) bind("--ro-bind", spec.image_root);
    // With layers, the task root is the last of them.
    if (spec.task_layers.empty()) bind("--ro-bind", spec.task_root);
    for (const auto& l : spec.task_layers) bind("--ro-bind", l);
    bind("--ro-bind", spec.runner);
    if (!spec.storage_root.empty()) {
        bind("--bind", spec.storage_root);
        // The host's own records (manifest, timing history, last run) stay read-only inside.
        fs::path own = spec.storage_root / "_hypertest";
        if (fs::is_directory(fs::symlink_status(own, ec))) bind("--ro-bind", own);
    }
    bind("--bind", runtime_dir);
    // A session of its own: no process inside can reach the user's terminal (TIOCSTI).
    argv.insert(argv.end(), {"--unshare-all", "--new-session", "--die-with-parent"});
    if (!spec.private_network) argv.push_back("--share-net");
    argv.insert(argv.end(), {"--chdir", spec.task_root.string(), "--", spec.runner.string()});
    return argv;
}

util::Status bubblewrap_status() {
    static const util::Status status = [] {
        if (util::find_in_path("bwrap").empty())
            return util::Status(util::make_error("bwrap is not installed"));
        util::ProcessSpec p;
        p.argv = {"bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                  "--tmpfs", "/tmp", "--unshare-all", "--share-net", "--die-with-parent",
                  "--", "true"};
        p.timeout = std::chrono::milliseconds(5000);
        auto r = util::run_process(p);
        if (!r) return util::Status(r.error());
        if (r->exit_code != 0)
            return util::Status(util::make_error("bwrap cannot create a sandbox here: " +
                                                 util::trim(r->err)));
        return util::ok_status();
    }();
    return status;
}

util::Result<std::unique_ptr<Environment>> Environment::start(const EnvironmentSpec& spec,
                                                              const std::string& image_digest) {
    std::unique_ptr<Environment> env(new Environment());
    env->m_digest = image_digest;
    env->m_private_tmp = make_private_tmp(spec.function_name);
    if (env->m_private_tmp.empty())
        return util::make_error("cannot create a temporary directory for the function", true);
    auto api = start_runtime_api_server(
        "arn:aws:lambda:local:000000000000:function:" + spec.function_name, k_max_response_bytes,
        spec.sandbox ? (env->m_private_tmp / k_socket_name).string() : std::string());
    if (!api) return api.error();
    env->m_api = std::move(*api);
    if (auto s = util::ensure_dir(spec.log_dir); !s) return s.error();
    std::string stem = log_stem();
    env->m_stderr_log = spec.log_dir / (stem + ".log");

    util::ProcessSpec p;
    p.argv = runtime_argv(spec, env->m_private_tmp);
    p.cwd = spec.sandbox ? fs::path() : spec.task_root;
    p.clear_env = true;
    p.env_set = runtime_env(spec, env->m_api->address(), env->m_private_tmp);
    p.stdout_file = spec.log_dir / (stem + ".out.log");
    p.stderr_file = env->m_stderr_log;
    env->m_spawned = std::chrono::steady_clock::now();
    auto child = util::Child::spawn(p);
    if (!child) return util::make_error("cannot start the function runtime: " + child.error().message);
    env->m_child = std::move(*child);
    if (spec.sandbox && spec.private_network) {
        if (auto s = env->start_private_network(spec, stem); !s) return s.error();
    }
    util::log_debug("started runtime pid " + std::to_string(env->m_child->pid()) + " on " +
                    env->m_api->address() + ", log " + env->m_stderr_log.string());
    return env;
}

util::Status Environment::start_private_network(const EnvironmentSpec& spec,
                                                const std::string& log_stem) {
    if (!pasta_installed()) {
        static std::once_flag warned;
        std::call_once(warned, [] {
            util::log_warn("pasta is not installed (Debian package passt): tests get a network "
                           "of their own without outbound access");
        });
        return util::ok_status();
    }
    pid_t inner = sandbox_child(m_child->pid(), std::chrono::milliseconds(5000));
    if (inner <= 0) return util::make_error("the sandbox of the function runtime did not start", true);
    auto net = start_network(inner, spec.log_dir / (log_stem + ".network.log"));
    if (!net) return util::make_error("cannot start pasta for the sandbox's network: " + net.error().message);
    m_network = std::move(*net);
    return util::ok_status();
}

Environment::~Environment() {
    // Kill first: a live runtime keeps connections open that would delay the server's stop.
    if (m_child) {
        kill();
        std::lock_guard lock(m_child_mutex);
        m_child->wait();
    }
    if (m_network) {
        m_network->kill_group(SIGKILL);
        m_network->wait();
    }
    if (m_api) m_api->stop();
    std::error_code ec;
    if (!m_private_tmp.empty()) fs::remove_all(m_private_tmp, ec);
}

int Environment::pid() const { return m_child ? m_child->pid() : -1; }

std::optional<int> Environment::exited() {
    std::lock_guard lock(m_child_mutex);
    return m_child ? m_child->poll() : std::optional<int>(-1);
}

void Environment::kill() {
    std::lock_guard lock(m_child_mutex);
    if (!m_child || m_child->poll()) return;
    std::vector<pid_t> tree = descendants(m_child->pid());
    m_child->kill_group(SIGKILL);
    for (pid_t p : tree) ::kill(p, SIGKILL);
}

std::string log_tail(const fs::path& file, std::size_t max_bytes) {
    std::ifstream in(file, std::ios::binary | std::ios::ate);
    if (!in) return {};
    auto size = static_cast<std::size_t>(in.tellg());
    std::size_t start = size > max_bytes ? size - max_bytes : 0;
    in.seekg(static_cast<std::streamoff>(start));
    std::string text(size - start, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    return text;
}

}  // namespace hypertest::providers
