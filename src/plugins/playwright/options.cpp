#include "plugins/playwright/options.hpp"

#include "util/fs.hpp"

namespace hypertest::plugins::playwright {

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
