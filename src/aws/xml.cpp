#include "aws/xml.hpp"

#include <cstdlib>

namespace hypertest::aws {
namespace {

struct Found {
    std::size_t content_begin = std::string_view::npos;
    std::size_t content_end = 0;
    std::size_t next = 0;  // where to continue searching
};

// Finds the next <tag ...>...</tag> or <tag/> at or after `from`.
Found find_element(std::string_view xml, std::string_view tag, std::size_t from) {
    Found f;
    std::string open = "<" + std::string(tag);
    for (std::size_t pos = xml.find(open, from); pos != std::string_view::npos;
         pos = xml.find(open, pos + 1)) {
        std::size_t after = pos + open.size();
        if (after >= xml.size()) return f;
        char c = xml[after];
        if (c != '>' && c != '/' && c != ' ' && c != '\t' && c != '\r' && c != '\n') continue;
        std::size_t gt = xml.find('>', after);
        if (gt == std::string_view::npos) return f;
        if (xml[gt - 1] == '/') {
            f.content_begin = f.content_end = gt + 1;
            f.next = gt + 1;
            return f;
        }
        std::string close = "</" + std::string(tag) + ">";
        std::size_t end = xml.find(close, gt + 1);
        if (end == std::string_view::npos) return f;
        f.content_begin = gt + 1;
        f.content_end = end;
        f.next = end + close.size();
        return f;
    }
    return f;
}

}  // namespace

std::string xml_unescape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '&') {
            out.push_back(text[i]);
            continue;
        }
        std::size_t semi = text.find(';', i);
        if (semi == std::string_view::npos || semi - i > 10) {
            out.push_back('&');
            continue;
        }
        std::string_view entity = text.substr(i + 1, semi - i - 1);
        if (entity == "lt") out.push_back('<');
        else if (entity == "gt") out.push_back('>');
        else if (entity == "amp") out.push_back('&');
        else if (entity == "quot") out.push_back('"');
        else if (entity == "apos") out.push_back('\'');
        else if (!entity.empty() && entity[0] == '#') {
            std::string digits(entity.substr(1));
            long code = digits.size() > 1 && (digits[0] == 'x' || digits[0] == 'X')
                            ? std::strtol(digits.c_str() + 1, nullptr, 16)
                            : std::strtol(digits.c_str(), nullptr, 10);
            if (code < 0x80) {
                out.push_back(static_cast<char>(code));
            } else if (code < 0x800) {
                out.push_back(static_cast<char>(0xC0 | (code >> 6)));
                out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
            } else if (code < 0x10000) {
                out.push_back(static_cast<char>(0xE0 | (code >> 12)));
                out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
                out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
            } else {
                out.push_back(static_cast<char>(0xF0 | (code >> 18)));
                out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
                out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
                out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
            }
        } else {
            out.append(text.substr(i, semi - i + 1));
        }
        i = semi;
    }
    return out;
}

std::optional<std::string> xml_text(std::string_view xml, std::string_view tag) {
    Found f = find_element(xml, tag, 0);
    if (f.content_begin == std::string_view::npos) return std::nullopt;
    return xml_unescape(xml.substr(f.content_begin, f.content_end - f.content_begin));
}

std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag) {
    std::vector<std::string_view> out;
    std::size_t from = 0;
    while (true) {
        Found f = find_element(xml, tag, from);
        if (f.content_begin == std::string_view::npos) break;
        out.push_back(xml.substr(f.content_begin, f.content_end - f.content_begin));
        from = f.next;
    }
    return out;
}

}  // namespace hypertest::aws
