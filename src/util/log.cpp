#include "util/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

namespace hypertest::util {
namespace {
std::atomic<LogLevel> g_level{LogLevel::warn};
std::mutex g_mutex;
}  // namespace

void set_log_level(LogLevel level) { g_level = level; }
LogLevel log_level() { return g_level; }

void log(LogLevel level, std::string_view message) {
    if (level < g_level.load()) return;
    static const char* names[] = {"debug", "info", "warning", "error"};
    std::lock_guard lock(g_mutex);
    std::fprintf(stderr, "hypertest %s: %.*s\n", names[static_cast<int>(level)],
                 static_cast<int>(message.size()), message.data());
}

}  // namespace hypertest::util
