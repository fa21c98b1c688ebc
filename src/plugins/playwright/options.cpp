#include "plugins/playwright/options.hpp"

#include <algorithm>
#include <fstream>
#include <functional>
#include <set>

#include "util/fs.hpp"
#include "util/strings.hpp"

namespace hypertest::plugins::playwright {

using util::Json;

std::vector<std::string> option_keys() { return {"config", "workers", "fullyParallel"}; }

util::Result<Options> parse_options(const util::Json& options) {
    Options o;
    if (options.is_null()) return o;
    if (!options.is_object()) return util::make_error("testRunner options must be a JSON object");
    if (auto it = options.find("config"); it != options.end() && !it->is_null()) {
        if (!it->is_string() || it->get<std::string>().empty())
            return util::make_error(
                "testRunner.config must be the path of a Playwright config file, e.g. "
                "\"playwright.config.ts\"");
        o.config = it->get<std::string>();
    }
    if (auto it = options.find("workers"); it != options.end() && !it->is_null()) {
        if (!it->is_number_integer() || it->get<int>() < 1)
            return util::make_error("testRunner.workers must be a whole number of at least 1");
        o.workers = it->get<int>();
    }
    if (auto it = options.find("fullyParallel"); it != options.end() && !it->is_null()) {
        if (!it->is_boolean())
            return util::make_error("testRunner.fullyParallel must be true or false");
        o.fully_parallel = it->get<bool>();
    }
    return o;
}

namespace {

bool is_default_config(const std::string& rel) {
    static const std::set<std::string> names = {
        "playwright.config.ts",  "playwright.config.js",  "playwright.config.mjs",
        "playwright.config.cjs", "playwright.config.mts", "playwright.config.cts"};
    return names.count(fs::path(rel).lexically_normal().string()) > 0;
}

// The value of --config/-c in each script that runs `playwright test`.
std::vector<std::string> configs_in_scripts(const fs::path& project_dir) {
    std::vector<std::string> out;
    auto text = util::read_file(project_dir / "package.json");
    if (!text) return out;
    auto pkg = util::parse_json(*text, "package.json");
    if (!pkg) return out;
    const Json scripts = util::json_get<Json>(*pkg, "scripts", Json::object());
    for (const auto& [name, script] : scripts.items()) {
        if (!script.is_string() || script.get<std::string>().find("playwright") == std::string::npos)
            continue;
        auto words = util::split(script.get<std::string>(), ' ');
        for (std::size_t i = 0; i < words.size(); ++i) {
            std::string w = words[i], value;
            if ((w == "--config" || w == "-c") && i + 1 < words.size()) value = words[i + 1];
            else if (w.rfind("--config=", 0) == 0) value = w.substr(9);
            if (value.size() > 1 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
                value = value.substr(1, value.size() - 2);
            if (!value.empty() && std::find(out.begin(), out.end(), value) == out.end())
                out.push_back(fs::path(value).lexically_normal().string());
        }
    }
    return out;
}

// Calls visit(relative path, is_directory) for the project's entries down to max_depth,
// skipping node_modules and dot-folders; a directory is entered when visit returns true.
void walk_project(const fs::path& dir, const fs::path& rel, int depth, int max_depth,
                  const std::function<bool(const fs::path&, bool)>& visit) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (name.empty() || name[0] == '.' || name == "node_modules") continue;
        bool is_dir = it->is_directory(ec) && !it->is_symlink(ec);
        if (visit(rel / name, is_dir) && is_dir && depth < max_depth)
            walk_project(it->path(), rel / name, depth + 1, max_depth, visit);
    }
}

}  // namespace

bool is_html_report(const fs::path& dir) {
    std::ifstream in(dir / "index.html", std::ios::binary);
    std::string head(4096, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(in.gcount()));
    return head.find("<title>Playwright Test Report</title>") != std::string::npos;
}

std::vector<std::string> config_candidates(const fs::path& project_dir) {
    std::vector<std::string> scripts = configs_in_scripts(project_dir);
    std::vector<std::string> found;
    walk_project(project_dir, "", 0, 4, [&](const fs::path& rel, bool is_dir) {
        if (!is_dir && rel.filename().string().rfind("playwright.config.", 0) == 0)
            found.push_back(rel.string());
        return true;
    });
    std::sort(found.begin(), found.end());
    bool root_default = std::any_of(found.begin(), found.end(), is_default_config);
    // The scripts' choice wins; with none, the root's default needs no setting.
    if (scripts.empty() && root_default) return {};
    std::vector<std::string> out;
    for (const auto& c : scripts)
        if (!is_default_config(c)) out.push_back(c);
    if (!scripts.empty() && out.empty()) return {};  // the scripts use the default
    for (const auto& c : found)
        if (!is_default_config(c) && std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
    return out;
}

std::vector<std::string> output_folders(const fs::path& project_dir) {
    std::vector<std::string> out;
    walk_project(project_dir, "", 0, 3, [&](const fs::path& rel, bool is_dir) {
        if (!is_dir) return false;
        fs::path abs = project_dir / rel;
        std::error_code ec;
        if (fs::exists(abs / ".last-run.json", ec) || is_html_report(abs)) {
            out.push_back(rel.string());
            return false;
        }
        return true;
    });
    std::sort(out.begin(), out.end());
    return out;
}

util::Result<fs::path> locate_cli(const fs::path& project_dir) {
    const std::string rel = "node_modules/@playwright/test/cli.js";
    fs::path found = util::find_upwards(project_dir, {rel});
    if (found.empty()) {
        return util::make_error("Playwright is not installed in " + project_dir.string() +
                                ": run `npm install --save-dev @playwright/test`");
    }
    return found;
}

}  // namespace hypertest::plugins::playwright
