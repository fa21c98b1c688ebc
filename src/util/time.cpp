#include "util/time.hpp"

#include <cstdio>
#include <ctime>
#include <random>

namespace hypertest::util {

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               Clock::now().time_since_epoch())
        .count();
}

std::string iso8601_ms(std::int64_t epoch_ms) {
    std::time_t secs = static_cast<std::time_t>(epoch_ms / 1000);
    std::tm tm{};
    ::gmtime_r(&secs, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(epoch_ms % 1000));
    return buf;
}

std::int64_t parse_iso8601_ms(const std::string& text) {
    int y, mo, d, h, mi;
    double s;
    if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%lf", &y, &mo, &d, &h, &mi, &s) != 6) return -1;
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = 0;
    std::time_t t = ::timegm(&tm);
    return static_cast<std::int64_t>(t) * 1000 + static_cast<std::int64_t>(s * 1000.0 + 0.5);
}

std::string make_run_id() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
    std::random_device rd;
    char suffix[8];
    std::snprintf(suffix, sizeof suffix, "%06x", rd() & 0xffffff);
    return std::string(buf) + "-" + suffix;
}

}  // namespace hypertest::util
