// hypertest-runner: a Lambda custom runtime (bootstrap). Exit codes: 0 after --version,
// 1 when the Runtime API stays unreachable or start-up fails, 2 on a usage error.
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "plugins/plugin.hpp"
#include "runner/invocation_handler.hpp"
#include "runner/runtime_loop.hpp"
#include "util/fs.hpp"
#include "util/http.hpp"
#include "util/log.hpp"
#include "util/process.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

namespace fs = std::filesystem;
using namespace hypertest;

namespace {

std::string env_or(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

// Lambda's file system is read-only outside /tmp: tools that write under HOME need it there.
void ensure_writable_home(const fs::path& tmp_root) {
    const char* home = std::getenv("HOME");
    if (home && *home && ::access(home, W_OK) == 0) return;
    ::setenv("HOME", tmp_root.c_str(), 1);
}

// The local function host configures the sandbox's network (pasta) while the runtime starts:
// wait, bounded, for a default route so the first batch's tests find the network up.
void wait_for_network() {
    auto until = util::now_ms() + 5000;
    while (util::now_ms() < until) {
        auto routes = util::read_file("/proc/net/route");
        // A default route is a line whose destination is 00000000.
        if (routes && routes->find("\t00000000\t") != std::string::npos) return;
        ::usleep(2000);
    }
    util::log_warn("the sandbox's network was not configured within 5 s; going on without it");
}

}  // namespace

int main(int argc, char** argv) {
    std::int64_t start_ms = util::now_ms();
    if (argc > 1 && (std::strcmp(argv[1], "--version") == 0 || std::strcmp(argv[1], "-V") == 0)) {
        std::printf("hypertest-runner %s\n", HYPERTEST_VERSION);
        return 0;
    }
    if (argc > 1) {
        std::fprintf(stderr, "usage: hypertest-runner [--version]\n"
                             "Runs as a Lambda custom runtime; needs AWS_LAMBDA_RUNTIME_API.\n");
        return 2;
    }
    std::string api = env_or("AWS_LAMBDA_RUNTIME_API", "");
    if (api.empty()) {
        std::fprintf(stderr,
                     "hypertest-runner: AWS_LAMBDA_RUNTIME_API is not set. This program is the "
                     "function's runtime; hypertest starts it (local provider) or Lambda does.\n");
        return 2;
    }
    if (env_or("HT_RUNNER_DEBUG", "") == "1") util::set_log_level(util::LogLevel::debug);
    util::log_debug("hypertest-runner " + util::self_exe().string() + " starting");

    // The local function host serves each sandbox its Runtime API on a socket bound into it.
    auto http = util::make_curl_unix_socket_client(env_or("HT_RUNTIME_API_SOCKET", ""));
    std::error_code ec;
    fs::path task_root = env_or("LAMBDA_TASK_ROOT", fs::current_path(ec).string());
    fs::path tmp_root = env_or("TMPDIR", "/tmp");
    ensure_writable_home(tmp_root);
    if (env_or("HT_NETWORK_WAIT", "") == "1") wait_for_network();

    runner::HandlerConfig config;
    config.task_root = task_root;
    config.tmp_root = tmp_root;
    // Inside a function environment (Lambda, or the local host) the temp dir is private.
    config.clean_tmp_root = !env_or("AWS_LAMBDA_FUNCTION_NAME", "").empty();
    config.writable_view = config.clean_tmp_root;
    for (const auto& layer : util::split(env_or("HT_TASK_LAYERS", ""), ':'))
        if (!layer.empty()) config.task_layers.emplace_back(layer);
    auto processes = std::shared_ptr<util::ProcessRunner>(util::make_process_runner());
    config.make_plugin = [processes](const std::string& name) {
        return plugins::make_plugin(name, processes);
    };
    std::string init_problem;
    if (!fs::is_directory(task_root, ec))
        init_problem = "task root " + task_root.string() + " does not exist";
    config.init_ms = util::now_ms() - start_ms;

    runner::InvocationHandler handler(config);
    runner::RuntimeLoop loop(*http, api, [&handler](const runner::Json& e, const runner::Context& c) {
        if (!c.trace_id.empty()) ::setenv("_X_AMZN_TRACE_ID", c.trace_id.c_str(), 1);
        return handler(e, c);
    });
    if (!init_problem.empty()) {
        util::log_error(init_problem);
        (void)loop.post_init_error(init_problem, "Runtime.InitError");
        return 1;
    }
    auto error = loop.run_forever();
    util::log_error("hypertest-runner: " + error.message);
    return 1;
}
