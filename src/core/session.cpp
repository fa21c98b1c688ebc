#include "core/session.hpp"

#include <thread>

#include "util/strings.hpp"

namespace hypertest::core {

std::atomic<bool>& interrupted() {
    static std::atomic<bool> flag{false};
    return flag;
}

std::unique_ptr<Session> open_session(const Options& options) {
    auto s = std::make_unique<Session>();
    s->options = options;
    s->cwd = fs::current_path();
    s->reporter = make_reporter(options.mode);
    s->config = load_config(options.config_path, s->cwd);
    if (options.retries) {
        if (*options.retries < 0 || *options.retries > 10) {
            throw util::Fatal("--retries must be a whole number from 0 to 10 (got " +
                              std::to_string(*options.retries) + ")");
        }
        s->config.retries = *options.retries;
    }
    if (options.max_failures < 0) {
        throw util::Fatal("--max-failures must be 0 (no limit) or more (got " +
                          std::to_string(options.max_failures) + ")");
    }
    if (options.concurrency) {
        if (*options.concurrency < 1 || *options.concurrency > 10000) {
            throw util::Fatal("--concurrency must be a whole number from 1 to 10000 (got " +
                              std::to_string(*options.concurrency) + ")");
        }
        s->concurrency = *options.concurrency;
    } else if (s->config.concurrency > 0) {
        s->concurrency = s->config.concurrency;
    } else {
        // Local functions share this machine's cores; a cloud fans out wider.
        s->concurrency = s->config.provider_name == "local"
                             ? static_cast<int>(std::max(2u, std::thread::hardware_concurrency()))
                             : 100;
    }
    s->processes = util::make_process_runner();
    s->plugin = plugins::make_plugin(s->config.runner_name, s->processes);
    providers::ProviderContext ctx;
    ctx.project_dir = s->config.project_dir;
    ctx.config = s->config.provider_config;
    ctx.function_name = s->config.function_name;
    ctx.concurrency = s->concurrency;
    const char* runner_env = std::getenv("HYPERTEST_RUNNER");
    ctx.runner_path = runner_env && *runner_env ? fs::path(runner_env)
                                                : util::self_exe().parent_path() / "hypertest-runner";
    s->provider = providers::make_provider(s->config.provider_name, ctx);
    return s;
}

}  // namespace hypertest::core
