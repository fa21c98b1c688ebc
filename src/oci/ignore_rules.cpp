#include "oci/ignore_rules.hpp"

#include <fnmatch.h>

#include "util/fs.hpp"
#include "util/strings.hpp"

namespace hypertest::oci {
namespace {

bool part_matches(const std::string& pattern, const std::string& name) {
    return ::fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

// Pattern parts against path parts; "**" stands for any number of parts, none included.
bool parts_match(const std::vector<std::string>& pat, std::size_t pi,
                 const std::vector<std::string>& path, std::size_t si) {
    if (pi == pat.size()) return si == path.size();
    if (pat[pi] == "**") {
        for (std::size_t k = si; k <= path.size(); ++k)
            if (parts_match(pat, pi + 1, path, k)) return true;
        return false;
    }
    return si < path.size() && part_matches(pat[pi], path[si]) && parts_match(pat, pi + 1, path, si + 1);
}

}  // namespace

const std::vector<std::string>& IgnoreRules::default_patterns() {
    static const std::vector<std::string> patterns = {
        ".env", ".env.*", "*.key", "*-key.pem", "*_key.pem", "key.pem", "privkey*.pem",
        "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", "*.p12", "*.pfx", ".npmrc", ".netrc",
        ".aws/", ".ssh/", "**/.docker/config.json", ".git-credentials"};
    return patterns;
}

void IgnoreRules::add_lines(std::string_view text, bool is_default) {
    for (std::string line : util::split(text, '\n')) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        while (!line.empty() && line.back() == ' ' && !(line.size() > 1 && line[line.size() - 2] == '\\'))
            line.pop_back();
        if (line.empty() || line.front() == '#') continue;
        Rule r;
        r.is_default = is_default;
        if (line.front() == '!') {
            r.negated = true;
            line.erase(0, 1);
        } else if (line.front() == '\\') {
            line.erase(0, 1);  // "\#name", "\!name": a literal first character
        }
        if (!line.empty() && line.back() == '/') {
            r.dir_only = true;
            line.pop_back();
        }
        r.anchored = line.find('/') != std::string::npos;
        if (!line.empty() && line.front() == '/') line.erase(0, 1);
        if (line.empty()) continue;
        for (auto& part : util::split(line, '/'))
            if (!part.empty()) r.parts.push_back(part);
        m_rules.push_back(std::move(r));
    }
}

IgnoreRules::Verdict IgnoreRules::check(std::string_view rel, bool is_dir) const {
    std::vector<std::string> path = util::split(rel, '/');
    bool in_node_modules = false;
    for (std::size_t i = 0; i + 1 < path.size(); ++i) in_node_modules |= path[i] == "node_modules";
    Verdict v = Verdict::kept;
    for (const auto& r : m_rules) {
        if (r.dir_only && !is_dir) continue;
        if (r.is_default && in_node_modules) continue;
        bool hit = r.anchored ? parts_match(r.parts, 0, path, 0) : part_matches(r.parts[0], path.back());
        if (!hit) continue;
        v = r.negated ? Verdict::kept : r.is_default ? Verdict::ignored_by_default : Verdict::ignored;
    }
    return v;
}

util::Result<IgnoreRules> project_ignore_rules(const std::string& project_dir) {
    IgnoreRules rules;
    rules.add_lines(util::join(IgnoreRules::default_patterns(), "\n"), true);
    auto file = std::filesystem::path(project_dir) / ".hypertestignore";
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return rules;
    auto text = util::read_file(file);
    if (!text) return text.error();
    rules.add_lines(*text);
    return rules;
}

}  // namespace hypertest::oci
