#include "core/config.hpp"

#include <algorithm>
#include <regex>

#include "oci/base_image.hpp"
#include "plugins/playwright/playwright_plugin.hpp"
#include "plugins/plugin.hpp"
#include "providers/provider.hpp"
#include "util/fs.hpp"
#include "util/process.hpp"
#include "util/strings.hpp"

namespace hypertest::core {
namespace {

using util::Fatal;

const std::vector<std::string> k_top_keys = {
    "$schema",          "concurrency",     "imageName",       "resultsFileName",
    "buildManifestFileName", "junitFileName", "htmlReportDir", "driftDetectionPolicy",
    "testRunner",       "cloudProvider",   "invocationRetries", "retries"};

// The aws provider's keys, accepted in cloudProvider of any provider so that a config can switch
// providers by changing the name alone, and the image keys every provider uses.
const std::vector<std::string> k_aws_keys = {"baseImage",    "region",     "ecrRegistry",
                                             "functionName", "bucketName", "lambdaUpdateMaxWaitTime",
                                             "platform"};

std::string where(const fs::path& file) { return " in " + file.filename().string(); }

void check_keys(const Json& obj, const std::vector<std::string>& allowed, const std::string& prefix,
                const fs::path& file) {
    for (const auto& [key, _] : obj.items()) {
        if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
        std::string hint = util::did_you_mean_hint(key, allowed, prefix);
        if (hint.empty()) hint = ": remove it (known keys: " + util::join(allowed, ", ") + ")";
        throw Fatal("unknown key \"" + prefix + key + "\"" + where(file) + hint);
    }
}

std::string get_string(const Json& obj, const char* key, const std::string& prefix,
                       const std::string& fallback, const fs::path& file) {
    auto it = obj.find(key);
    if (it == obj.end()) return fallback;
    if (!it->is_string() || it->get<std::string>().empty()) {
        throw Fatal("\"" + prefix + key + "\"" + where(file) + " must be a non-empty string (got " +
                    it->dump() + ")");
    }
    return it->get<std::string>();
}

// cloudProvider.baseImage and cloudProvider.platform, checked here so every command fails early.
void read_image_keys(const Json& cp, Config& c, const fs::path& file) {
    c.base_image = get_string(cp, "baseImage", "cloudProvider.", "", file);
    if (!c.base_image.empty()) {
        auto source = oci::parse_base_source(c.base_image);
        if (!source) {
            throw Fatal("\"cloudProvider.baseImage\"" + where(file) + ": " +
                        source.error().message);
        }
    }
    std::string platform = get_string(cp, "platform", "cloudProvider.", c.platform, file);
    auto parsed = oci::parse_platform(platform);
    if (!parsed || parsed->os != "linux" ||
        (parsed->architecture != "amd64" && parsed->architecture != "arm64")) {
        throw Fatal("\"cloudProvider.platform\"" + where(file) +
                    " must be \"linux/amd64\" or \"linux/arm64\" (got \"" + platform + "\")");
    }
    c.platform = parsed->text();
}

int get_int(const Json& obj, const char* key, int lo, int hi, int fallback, const fs::path& file) {
    auto it = obj.find(key);
    if (it == obj.end()) return fallback;
    if (!it->is_number_integer() || it->get<long long>() < lo || it->get<long long>() > hi) {
        throw Fatal("\"" + std::string(key) + "\"" + where(file) + " must be a whole number from " +
                    std::to_string(lo) + " to " + std::to_string(hi) + " (got " + it->dump() +
                    "): for example \"" + key + "\": " + std::to_string(std::max(lo, fallback)));
    }
    return static_cast<int>(it->get<long long>());
}

Json read_js_config(const fs::path& file) {
    static const char* k_loader =
        "import { pathToFileURL } from 'node:url';\n"
        "const m = await import(pathToFileURL(process.argv[1]).href);\n"
        "let c = m.default ?? m;\n"
        "if (typeof c === 'function') c = await c();\n"
        "process.stdout.write(JSON.stringify(c ?? null));\n";
    if (util::find_in_path("node").empty()) {
        throw Fatal("cannot read " + file.string() +
                    ": Node.js (`node`) is not on PATH; install Node.js or use hypertest.config.json");
    }
    util::ProcessSpec spec;
    spec.argv = {"node", "--input-type=module", "-e", k_loader, file.string()};
    spec.cwd = file.parent_path();
    spec.timeout = std::chrono::seconds(30);
    auto r = util::run_process(spec);
    if (!r) throw Fatal("cannot read " + file.string() + ": " + r.error().message);
    if (r->exit_code != 0) {
        throw Fatal("cannot load " + file.string() + ": Node.js failed:\n" +
                    util::trim(util::strip_ansi(r->err)));
    }
    auto j = util::parse_json(r->out, "the default export of " + file.filename().string());
    if (!j) throw Fatal(j.error().message);
    return *j;
}

}  // namespace

const std::vector<std::string>& config_file_names() {
    static const std::vector<std::string> names = {"hypertest.config.json", "hypertest.config.js",
                                                   "hypertest.config.mjs"};
    return names;
}

Config config_from_json(const Json& j, const fs::path& file) {
    if (!j.is_object()) {
        throw Fatal(file.string() + " must hold an object, like { \"testRunner\": { \"name\": \"playwright\" } }");
    }
    check_keys(j, k_top_keys, "", file);
    Config c;
    c.file = file;
    c.project_dir = file.parent_path();
    c.concurrency = get_int(j, "concurrency", 1, 10000, 0, file);
    c.invocation_retries = get_int(j, "invocationRetries", 0, 10, 2, file);
    c.retries = get_int(j, "retries", 0, 10, 0, file);
    c.image_name = get_string(j, "imageName", "", c.image_name, file);
    c.results_file_name = get_string(j, "resultsFileName", "", c.results_file_name, file);
    c.manifest_file_name = get_string(j, "buildManifestFileName", "", c.manifest_file_name, file);
    c.junit_file_name = get_string(j, "junitFileName", "", c.junit_file_name, file);
    c.html_report_dir = get_string(j, "htmlReportDir", "", c.html_report_dir, file);
    // The HTML report's folder is emptied and rewritten by the merge: never the project, the
    // working directory, a folder above either, or /.
    {
        std::error_code ec;
        fs::path cwd = fs::current_path(ec);
        fs::path out = (cwd / c.html_report_dir).lexically_normal();
        auto inside = [](const fs::path& dir, const fs::path& base) {
            auto rel = dir.lexically_normal().lexically_relative(base);
            return !rel.empty() && *rel.begin() != "..";
        };
        fs::path project = fs::absolute(c.project_dir, ec).lexically_normal();
        if (out == out.root_path() || inside(cwd, out) || inside(project, out)) {
            throw Fatal("\"htmlReportDir\"" + where(file) + " is \"" + c.html_report_dir +
                        "\", which would put the report over the project or the working directory "
                        "(its folder is emptied and rewritten): name a folder of its own, e.g. "
                        "\"hypertest-report\"");
        }
    }
    c.drift_policy = get_string(j, "driftDetectionPolicy", "", c.drift_policy, file);
    if (c.drift_policy != "silence" && c.drift_policy != "warning" && c.drift_policy != "error") {
        throw Fatal("\"driftDetectionPolicy\"" + where(file) +
                    " must be \"silence\", \"warning\" or \"error\" (got \"" + c.drift_policy + "\")");
    }

    auto tr = j.find("testRunner");
    if (tr == j.end()) {
        throw Fatal("\"testRunner\" is missing" + where(file) +
                    ": add \"testRunner\": { \"name\": \"playwright\" }");
    }
    if (!tr->is_object()) {
        throw Fatal("\"testRunner\"" + where(file) +
                    " must be an object like { \"name\": \"playwright\" } (got " + tr->dump() + ")");
    }
    c.runner_name = get_string(*tr, "name", "testRunner.", "", file);
    if (c.runner_name.empty()) {
        throw Fatal("\"testRunner.name\" is missing" + where(file) + ": set it to one of " +
                    util::join(plugins::plugin_names(), ", "));
    }
    plugins::make_plugin(c.runner_name, nullptr);  // throws with a "did you mean" when unknown
    c.runner_options = *tr;
    c.runner_options.erase("name");
    if (c.runner_name == "playwright") {
        auto keys = plugins::playwright_option_keys();
        keys.push_back("name");
        check_keys(*tr, keys, "testRunner.", file);
    }

    auto cp = j.find("cloudProvider");
    if (cp != j.end()) {
        if (!cp->is_object()) {
            throw Fatal("\"cloudProvider\"" + where(file) +
                        " must be an object like { \"name\": \"local\" } (got " + cp->dump() + ")");
        }
        c.provider_name = get_string(*cp, "name", "cloudProvider.", "local", file);
        auto keys = providers::provider_config_keys(c.provider_name);  // throws when unknown
        keys.insert(keys.end(), k_aws_keys.begin(), k_aws_keys.end());
        keys.push_back("name");
        check_keys(*cp, keys, "cloudProvider.", file);
        c.provider_config = *cp;
        c.function_name = get_string(*cp, "functionName", "cloudProvider.", c.function_name, file);
        // It names a Lambda function and folders on disk and in storage.
        static const std::regex function_name_re("[A-Za-z0-9_-]{1,64}");
        if (!std::regex_match(c.function_name, function_name_re)) {
            throw Fatal("\"cloudProvider.functionName\"" + where(file) + " must be 1 to 64 letters, digits, "
                        "'-' or '_' (got " + Json(c.function_name).dump() + "), e.g. \"functionName\": \"my-app-e2e\"");
        }
        read_image_keys(*cp, c, file);
    }
    c.provider_config["name"] = c.provider_name;
    return c;
}

Config load_config(const std::optional<fs::path>& explicit_path, const fs::path& start_dir) {
    fs::path file;
    if (explicit_path) {
        file = fs::absolute(*explicit_path);
        if (!fs::exists(file)) {
            throw Fatal("config file " + file.string() + " does not exist: check --config, or run `hypertest init`");
        }
    } else {
        file = util::find_upwards(start_dir, config_file_names());
        if (file.empty()) {
            throw Fatal("no hypertest config found in " + fs::absolute(start_dir).string() +
                        " or above (looked for " + util::join(config_file_names(), ", ") +
                        "): run `hypertest init`, or pass --config <file>");
        }
    }
    Json j;
    std::string ext = file.extension().string();
    if (ext == ".js" || ext == ".mjs" || ext == ".cjs") {
        j = read_js_config(file);
    } else {
        auto text = util::read_file(file);
        if (!text) throw Fatal(text.error().message);
        auto parsed = util::parse_json(*text, file.string());
        if (!parsed) throw Fatal(parsed.error().message + ": fix the JSON syntax");
        j = std::move(*parsed);
    }
    return config_from_json(j, fs::weakly_canonical(file));
}

}  // namespace hypertest::core
