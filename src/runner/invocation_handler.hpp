// One invocation inside the function: event -> plugin batch -> uploads -> compact result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "plugins/plugin.hpp"
#include "runner/runtime_loop.hpp"

namespace hypertest::runner {

namespace fs = std::filesystem;

struct HandlerConfig {
    fs::path task_root;
    fs::path tmp_root;  // work dirs are created here ($TMPDIR or /tmp)
    // Removes everything under tmp_root after each invocation: only where tmp_root is private
    // to this environment (inside a function).
    bool clean_tmp_root = false;
    // Runs each batch on a writable copy of the task root (project_view.hpp) in its work dir:
    // inside a function, where the task root is read-only.
    bool writable_view = false;
    // The task root as layers (HT_TASK_LAYERS, set by the local function host); empty: task_root.
    std::vector<fs::path> task_layers;
    std::int64_t init_ms = 0;
    // Throws util::Fatal for unknown names (plugins::make_plugin does).
    std::function<std::unique_ptr<plugins::Plugin>(const std::string&)> make_plugin;
};

// Answers stay far below Lambda's 6 MB response limit.
constexpr std::size_t k_max_answer_bytes = 4 * 1024 * 1024;

class InvocationHandler {
public:
    explicit InvocationHandler(HandlerConfig config);
    // Fails (the loop posts /error) on a malformed event or an unknown plugin; a batch that
    // could not run properly is an answer with InvocationResult::error set.
    util::Result<Json> operator()(const Json& event, const Context& context);

private:
    util::Result<plugins::Plugin*> plugin(const std::string& name);

    HandlerConfig m_config;
    bool m_first = true;
    std::map<std::string, std::unique_ptr<plugins::Plugin>> m_plugins;
};

// Cuts long texts (error, log tail, test errors) so that the JSON stays under max_bytes.
void fit_result(plugins::InvocationResult& result, std::size_t max_bytes);

}  // namespace hypertest::runner
