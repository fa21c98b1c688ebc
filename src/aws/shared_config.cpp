#include "aws/shared_config.hpp"

#include "aws/canonical.hpp"
#include "util/strings.hpp"

namespace hypertest::aws {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::filesystem::path expand_home(const System& system, const std::string& path) {
    if (path == "~" || util::starts_with(path, "~/"))
        return std::filesystem::path(system.getenv("HOME")) / path.substr(path.size() > 1 ? 2 : 1);
    return path;
}

std::filesystem::path file_from_env(const System& system, const char* var, const char* fallback) {
    std::string value = system.getenv(var);
    if (value.empty()) value = std::string("~/.aws/") + fallback;
    return expand_home(system, value);
}

util::Result<IniFile> read_ini(const System& system, const std::filesystem::path& path) {
    auto text = system.read_file(path);
    if (!text) return util::make_error("cannot read AWS file " + path.string() + ": " + text.error().message);
    if (!text->has_value()) return IniFile{};
    return parse_ini(**text);
}

void merge(IniSection& into, const IniSection& from) {
    for (const auto& [k, v] : from) into[k] = v;
}

}  // namespace

IniFile parse_ini(std::string_view text) {
    IniFile file;
    IniSection* section = nullptr;
    std::string parent_key;  // a key with an empty value opens nested settings
    for (const auto& raw : util::split(text, '\n')) {
        std::string line = raw;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        std::string trimmed = util::trim(line);
        if (trimmed.empty() || trimmed[0] == '#' || trimmed[0] == ';') continue;
        if (trimmed.front() == '[') {
            auto close = trimmed.find(']');
            std::string name = util::trim(trimmed.substr(1, close == std::string::npos ? std::string::npos : close - 1));
            std::string collapsed;  // "profile   dev" -> "profile dev"
            for (char c : name) {
                if (is_blank(c) && (collapsed.empty() || collapsed.back() == ' ')) continue;
                collapsed.push_back(is_blank(c) ? ' ' : c);
            }
            section = &file[collapsed];
            parent_key.clear();
            continue;
        }
        auto eq = trimmed.find('=');
        if (section == nullptr || eq == std::string::npos) continue;
        std::string key = to_lower(util::trim(trimmed.substr(0, eq)));
        std::string value = util::trim(trimmed.substr(eq + 1));
        // An inline comment needs whitespace before it: "a#b" is a value, "a #b" is not.
        for (std::size_t i = 1; i < value.size(); ++i) {
            if ((value[i] == '#' || value[i] == ';') && is_blank(value[i - 1])) {
                value = util::trim(value.substr(0, i));
                break;
            }
        }
        if (is_blank(line[0]) && !parent_key.empty()) {
            (*section)[parent_key + "." + key] = value;
            continue;
        }
        parent_key = value.empty() ? key : "";
        (*section)[key] = value;
    }
    return file;
}

util::Result<Profile> load_profile(const System& system) {
    Profile p;
    p.name = system.getenv("AWS_PROFILE");
    p.explicit_name = !p.name.empty();
    if (p.name.empty()) p.name = "default";
    p.config_file = file_from_env(system, "AWS_CONFIG_FILE", "config");
    p.credentials_file = file_from_env(system, "AWS_SHARED_CREDENTIALS_FILE", "credentials");
    auto config = read_ini(system, p.config_file);
    if (!config) return config.error();
    auto credentials = read_ini(system, p.credentials_file);
    if (!credentials) return credentials.error();

    std::vector<std::string> config_names = {"profile " + p.name};
    if (p.name == "default") config_names.insert(config_names.begin(), "default");
    for (const auto& name : config_names) {
        if (auto it = config->find(name); it != config->end()) {
            merge(p.values, it->second);
            p.found = true;
        }
    }
    if (auto it = credentials->find(p.name); it != credentials->end()) {
        merge(p.values, it->second);
        p.found = true;
    }
    return p;
}

util::Result<std::vector<std::string>> split_command_line(std::string_view command) {
    std::vector<std::string> argv;
    std::string word;
    bool in_word = false;
    for (std::size_t i = 0; i < command.size(); ++i) {
        char c = command[i];
        if (is_blank(c) || c == '\n' || c == '\r') {
            if (in_word) argv.push_back(std::move(word));
            word.clear();
            in_word = false;
        } else if (c == '\'') {
            auto end = command.find('\'', i + 1);
            if (end == std::string_view::npos)
                return util::make_error("credential_process has an unterminated single quote");
            word.append(command.substr(i + 1, end - i - 1));
            in_word = true;
            i = end;
        } else if (c == '"') {
            std::size_t j = i + 1;
            for (; j < command.size() && command[j] != '"'; ++j) {
                char d = command[j];
                if (d == '\\' && j + 1 < command.size() &&
                    std::string_view("\"\\$`\n").find(command[j + 1]) != std::string_view::npos) {
                    if (command[j + 1] != '\n') word.push_back(command[j + 1]);
                    ++j;
                } else {
                    word.push_back(d);
                }
            }
            if (j >= command.size())
                return util::make_error("credential_process has an unterminated double quote");
            in_word = true;
            i = j;
        } else if (c == '\\') {
            if (i + 1 < command.size()) {
                if (command[i + 1] != '\n') word.push_back(command[i + 1]);
                ++i;
            }
            in_word = true;
        } else {
            word.push_back(c);
            in_word = true;
        }
    }
    if (in_word) argv.push_back(std::move(word));
    if (argv.empty()) return util::make_error("credential_process is empty");
    return argv;
}

}  // namespace hypertest::aws
