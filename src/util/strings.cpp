#include "util/strings.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace hypertest::util {

namespace {

// Index just past the escape sequence that starts (with ESC) at text[i].
std::size_t escape_end(std::string_view text, std::size_t i) {
    std::size_t j = i + 1;
    if (j >= text.size()) return j;
    char kind = text[j];
    if (kind == '[') {  // CSI: parameters and intermediates, then one final byte
        ++j;
        while (j < text.size() && !(text[j] >= 0x40 && text[j] <= 0x7e)) ++j;
        return std::min(j + 1, text.size());
    }
    if (kind == ']' || kind == 'P' || kind == 'X' || kind == '^' || kind == '_') {
        // OSC, DCS, SOS, PM, APC: a string ended by BEL or ST (ESC \)
        for (++j; j < text.size(); ++j) {
            if (text[j] == '\x07') return j + 1;
            if (text[j] == '\x1b') return (j + 1 < text.size() && text[j + 1] == '\\') ? j + 2 : j + 1;
        }
        return j;
    }
    while (j < text.size() && text[j] >= 0x20 && text[j] <= 0x2f) ++j;  // intermediates
    return std::min(j + 1, text.size());
}

// ESC [ digits/; m: colours and text attributes only.
bool is_sgr(std::string_view seq) {
    if (seq.size() < 3 || seq[1] != '[' || seq.back() != 'm') return false;
    for (std::size_t k = 2; k + 1 < seq.size(); ++k)
        if (!((seq[k] >= '0' && seq[k] <= '9') || seq[k] == ';')) return false;
    return true;
}

}  // namespace

std::string strip_ansi(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        if (text[i] == '\x1b') {
            i = escape_end(text, i);
        } else {
            out.push_back(text[i++]);
        }
    }
    return out;
}

std::string terminal_safe(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c == 0x1b) {
            std::size_t end = escape_end(text, i);
            if (is_sgr(text.substr(i, end - i))) out.append(text.substr(i, end - i));
            i = end;
            continue;
        }
        // U+0080..U+009F: C1 controls, which some terminals obey like ESC sequences.
        if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
            static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
            i += 2;
            continue;
        }
        if (!((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)) out.push_back(static_cast<char>(c));
        ++i;
    }
    return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t prev = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t cur = row[j];
            std::size_t cost = (std::tolower(a[i - 1]) == std::tolower(b[j - 1])) ? 0 : 1;
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, prev + cost});
            prev = cur;
        }
    }
    return row[b.size()];
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
    std::string best;
    std::size_t best_d = std::max<std::size_t>(2, word.size() / 3) + 1;
    for (const auto& c : candidates) {
        std::size_t d = edit_distance(word, c);
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    return best;
}

std::string did_you_mean_hint(std::string_view word, const std::vector<std::string>& candidates,
                              std::string_view prefix) {
    std::string guess = did_you_mean(word, candidates);
    if (guess.empty()) return {};
    return " (did you mean \"" + std::string(prefix) + guess + "\"?)";
}

std::string unknown_name_message(std::string_view what, std::string_view name,
                                 std::string_view where, const std::vector<std::string>& known) {
    return "unknown " + std::string(what) + " \"" + std::string(name) + "\" in " +
           std::string(where) + did_you_mean_hint(name, known) +
           "; available: " + join(known, ", ");
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i) out += sep;
        out += parts[i];
    }
    return out;
}

std::vector<std::string> split(std::string_view text, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        auto pos = text.find(sep, start);
        out.emplace_back(text.substr(start, pos - start));
        if (pos == std::string_view::npos) break;
        start = pos + 1;
    }
    return out;
}

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

std::string trim(std::string_view text) {
    auto b = text.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return {};
    auto e = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(b, e - b + 1));
}

std::string truncate_utf8(std::string_view text, std::size_t max_bytes) {
    if (text.size() <= max_bytes) return std::string(text);
    std::size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return std::string(text.substr(0, cut)) + "\n… (truncated)";
}

std::string format_duration(double seconds) {
    char buf[32];
    if (seconds < 60) {
        std::snprintf(buf, sizeof buf, "%.1fs", seconds);
    } else {
        int total = static_cast<int>(seconds + 0.5);
        std::snprintf(buf, sizeof buf, "%dm%02ds", total / 60, total % 60);
    }
    return buf;
}

std::string xml_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default:
                // XML 1.0 forbids most control characters even when escaped.
                if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r')
                    out += "?";
                else
                    out.push_back(c);
        }
    }
    return out;
}

}  // namespace hypertest::util
