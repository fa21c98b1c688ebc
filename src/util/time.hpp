#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace hypertest::util {

using Clock = std::chrono::system_clock;

std::int64_t now_ms();
// ISO 8601 UTC with milliseconds, e.g. 2026-11-27T10:00:00.123Z.
std::string iso8601_ms(std::int64_t epoch_ms);
// Parses ISO 8601 UTC (as Playwright writes it); -1 when malformed.
std::int64_t parse_iso8601_ms(const std::string& text);
// A sortable, unique-enough run id: 20261127-100000-ab12cd.
std::string make_run_id();

}  // namespace hypertest::util
