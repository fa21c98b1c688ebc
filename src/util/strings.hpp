#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hypertest::util {

// Removes ANSI escape sequences (colours, cursor moves) from terminal output.
std::string strip_ansi(std::string_view text);
// Text from tests (error messages, titles, output) made safe to print on a terminal: keeps
// SGR colour sequences (ESC [ digits ; m), newlines and tabs; drops every other escape sequence,
// C0 and C1 control character, so that a test cannot retitle, clear or drive the terminal.
std::string terminal_safe(std::string_view text);
std::size_t edit_distance(std::string_view a, std::string_view b);
// The closest candidate within a small edit distance, or empty when none is close.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);
// The suggestion for an error message: ` (did you mean "<prefix><closest>"?)`, or empty when no
// candidate is close. `prefix` names where the candidates live (e.g. "cloudProvider.").
std::string did_you_mean_hint(std::string_view word, const std::vector<std::string>& candidates,
                              std::string_view prefix = {});
// `unknown <what> "<name>" in <where> (did you mean "<closest>"?); available: <known, ...>`, the
// message for a name missing from a table (plugins, providers).
std::string unknown_name_message(std::string_view what, std::string_view name,
                                 std::string_view where, const std::vector<std::string>& known);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
std::vector<std::string> split(std::string_view text, char sep);
bool starts_with(std::string_view text, std::string_view prefix);
std::string trim(std::string_view text);
// Cuts text to at most max_bytes on a UTF-8 boundary, marking the cut.
std::string truncate_utf8(std::string_view text, std::size_t max_bytes);
std::string format_duration(double seconds);
std::string xml_escape(std::string_view text);

}  // namespace hypertest::util
