#include "core/deploy.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>

#include "oci/base_image.hpp"
#include "oci/ignore_rules.hpp"
#include "oci/registry_client.hpp"
#include "oci/registry_ref.hpp"

#include "util/fs.hpp"
#include "util/sha256.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

namespace hypertest::core {
namespace {

using util::Fatal;

// Lambda's task root: the image's working directory, where both layers put the project.
constexpr const char* k_task_root = "/var/task";
constexpr const char* k_task_root_prefix = "var/task";
constexpr const char* k_runner_entrypoint = "/usr/local/bin/hypertest-runner";

// Runs fn as a reported step; a Fatal from it is reported as the step's error and rethrown.
// `detail`, when given, is asked after success for the text of the step's done line.
template <class Fn>
auto timed_step(Session& s, const std::string& name, Fn&& fn,
                const std::function<std::string()>& detail = {}) {
    auto start = std::chrono::steady_clock::now();
    s.reporter->step("deploy", name, StepState::starting, 0, "");
    auto secs = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    try {
        auto result = fn();
        s.reporter->step("deploy", name, StepState::done, secs(), detail ? detail() : "");
        return result;
    } catch (const Fatal& e) {
        s.reporter->step("deploy", name, StepState::error, secs(), e.what());
        throw;
    }
}

// Top-level names that are never part of the image: .git and what hypertest writes itself.
std::vector<std::string> own_outputs(const Session& s) {
    std::vector<std::string> names = {".git", ".hypertest", s.config.results_file_name,
                                      s.config.junit_file_name, s.config.html_report_dir};
    fs::path base_layout;
    if (auto source = oci::parse_base_source(s.config.base_image); source && source->is_layout())
        base_layout = s.config.project_dir / source->layout_dir;
    for (const auto& dir : {s.provider->image_layout_dir(),
                            fs::path(s.provider->storage().location().root), base_layout}) {
        if (dir.empty()) continue;
        auto rel = dir.lexically_relative(s.config.project_dir);
        if (!rel.empty() && *rel.begin() != "..") names.push_back(rel.begin()->string());
    }
    return names;
}

std::vector<std::string> without(std::vector<std::string> paths, const std::vector<std::string>& drop) {
    std::erase_if(paths, [&](const std::string& p) {
        std::string top = p.substr(0, p.find('/'));
        return std::find(drop.begin(), drop.end(), top) != drop.end();
    });
    return paths;
}

std::string env_or_empty(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

// Credentials go only to the host they are for: the base image's registry has its own
// (HYPERTEST_BASE_REGISTRY_*), and gets the push registry's only when it is that same host.
oci::RegistryCredentials base_registry_credentials(const Session& s, const std::string& host) {
    oci::RegistryCredentials own{env_or_empty("HYPERTEST_BASE_REGISTRY_USERNAME"),
                                 env_or_empty("HYPERTEST_BASE_REGISTRY_PASSWORD")};
    if (!own.empty()) return own;
    auto push = oci::parse_registry_ref(s.provider->image_registry());
    if (push && push->host == host)
        return {env_or_empty("HYPERTEST_REGISTRY_USERNAME"), env_or_empty("HYPERTEST_REGISTRY_PASSWORD")};
    return {};
}

// The configured base image, loaded into layout (pulled, or copied from a layout on disk);
// nullopt when none is configured.
std::optional<oci::BaseImage> load_base(Session& s, oci::ImageLayout& layout) {
    if (s.config.base_image.empty()) return std::nullopt;
    const std::string context = "cannot use the base image " + s.config.base_image +
                                " (cloudProvider.baseImage)";
    auto source = oci::parse_base_source(s.config.base_image).take_or_fatal(context);
    auto platform = oci::parse_platform(s.config.platform).take_or_fatal("cloudProvider.platform");
    util::Result<oci::BaseImage> base = util::make_error("not loaded");
    if (source.is_layout()) {
        if (source.layout_dir.is_relative()) source.layout_dir = s.config.project_dir / source.layout_dir;
        base = oci::load_base_from_layout(source, platform, layout);
    } else {
        oci::RegistryOptions options;
        options.insecure = util::json_get<bool>(s.config.provider_config, "insecureRegistry", false);
        options.credentials = base_registry_credentials(s, source.registry.host);
        options.credentials_hint =
            "set HYPERTEST_BASE_REGISTRY_USERNAME and HYPERTEST_BASE_REGISTRY_PASSWORD";
        oci::RegistryClient client(source.registry.host, options, util::make_curl_http_client());
        base = oci::pull_base_image(client, source, platform, layout);
    }
    if (!base) {
        std::string message = context + ": " + base.error().message;
        if (message.find("platform") != std::string::npos) {
            message += "; use a base image built for " + platform.text() +
                       ", or set cloudProvider.platform to the base image's platform";
        }
        throw Fatal(message);
    }
    return std::move(*base);
}

// Pushes the image to the provider's registry, when it has one, as a reported step whose
// detail says what was uploaded and what the registry already had.
void publish_image(Session& s, const std::string& digest) {
    std::string registry = s.provider->image_registry();
    if (registry.empty()) return;
    std::string summary;
    timed_step(
        s, "push",
        [&] {
            auto published = s.provider->publish_image(digest);
            if (!published) {
                throw Fatal("cannot push the image to " + registry + ": " + published.error().message);
            }
            summary = published->value_or("");
            return 0;
        },
        [&] { return "to " + registry + ": " + summary; });
}

}  // namespace

Json to_json(const Manifest& m) {
    Json layers = Json::array();
    for (const auto& l : m.layers) {
        layers.push_back({{"digest", l.digest}, {"diffId", l.diff_id}, {"size", l.size},
                          {"mediaType", l.media_type}});
    }
    Json tests = Json::array();
    for (const auto& t : m.tests) tests.push_back(plugins::to_json(t));
    Json j = {{"version", 1},
              {"functionName", m.function_name},
              {"imageDigest", m.image_digest},
              {"inputsHash", m.inputs_hash},
              {"layers", layers},
              {"plugin", {{"name", m.plugin}, {"options", m.plugin_options},
                          {"frameworkVersion", m.framework_version},
                          {"maxFailures", m.max_failures}}},
              {"hypertestVersion", m.hypertest_version},
              {"created", m.created},
              {"tests", tests}};
    if (!m.base_image.empty()) j["baseImage"] = {{"reference", m.base_image}, {"digest", m.base_digest}};
    return j;
}

util::Result<Manifest> manifest_from_json(const Json& j) {
    using util::json_get;
    if (json_get<int>(j, "version", 0) != 1) {
        return util::make_error("the manifest has an unknown format version: redeploy with `hypertest deploy`");
    }
    Manifest m;
    m.function_name = json_get<std::string>(j, "functionName", "");
    m.image_digest = json_get<std::string>(j, "imageDigest", "");
    m.inputs_hash = json_get<std::string>(j, "inputsHash", "");
    for (const auto& l : json_get<Json>(j, "layers", Json::array())) {
        oci::Layer layer;
        layer.digest = json_get<std::string>(l, "digest", "");
        layer.diff_id = json_get<std::string>(l, "diffId", "");
        layer.size = json_get<std::int64_t>(l, "size", 0);
        layer.media_type = json_get<std::string>(l, "mediaType", layer.media_type);
        m.layers.push_back(layer);
    }
    Json p = json_get<Json>(j, "plugin", Json::object());
    m.plugin = json_get<std::string>(p, "name", "");
    m.plugin_options = json_get<Json>(p, "options", Json::object());
    m.framework_version = json_get<std::string>(p, "frameworkVersion", "");
    m.max_failures = std::max(0, json_get<int>(p, "maxFailures", 0));
    m.hypertest_version = json_get<std::string>(j, "hypertestVersion", "");
    m.created = json_get<std::string>(j, "created", "");
    Json base = json_get<Json>(j, "baseImage", Json::object());
    m.base_image = json_get<std::string>(base, "reference", "");
    m.base_digest = json_get<std::string>(base, "digest", "");
    for (const auto& tj : json_get<Json>(j, "tests", Json::array())) {
        auto t = plugins::test_case_from_json(tj);
        if (!t) return util::make_error("the manifest is damaged (" + t.error().message + "): redeploy");
        m.tests.push_back(std::move(*t));
    }
    return m;
}

std::string manifest_key(const Config& c) {
    return "_hypertest/" + c.function_name + "/" + c.manifest_file_name;
}
std::string timings_key(const Config& c) { return "_hypertest/" + c.function_name + "/timings.json"; }

std::optional<Manifest> read_manifest(Session& s) {
    auto got = s.provider->storage().get(manifest_key(s.config));
    if (!got) throw Fatal("cannot read the manifest: " + got.error().message);
    if (!*got) return std::nullopt;
    auto j = util::parse_json(**got, "the manifest " + s.provider->storage().url(manifest_key(s.config)));
    if (!j) throw Fatal(j.error().message + ": redeploy with `hypertest deploy`");
    auto m = manifest_from_json(*j);
    if (!m) throw Fatal(m.error().message);
    return std::move(*m);
}

BuiltImage build_layers(Session& s, oci::ImageLayout& layout) {
    auto inputs = s.plugin->layer_inputs(s.config.project_dir, s.config.runner_options);
    if (!inputs) throw Fatal(inputs.error().message);
    auto drop = own_outputs(s);
    fs::path cache = s.config.project_dir / ".hypertest" / "cache";
    if (auto st = util::ensure_dir(cache); !st) throw Fatal(st.error().message);
    BuiltImage img;
    auto rules = oci::project_ignore_rules(s.config.project_dir.string());
    if (!rules) throw Fatal(rules.error().message);
    oci::LayerFilter filter{inputs->skip, &*rules, &img.left_out_secrets};
    auto deps = oci::build_layer(s.config.project_dir, without(inputs->dependencies, drop), layout,
                                 cache / (s.config.function_name + ".dependencies.json"),
                                 k_task_root_prefix, filter);
    if (!deps) throw Fatal("cannot build the dependency layer: " + deps.error().message);
    auto tests = oci::build_layer(s.config.project_dir, without(inputs->tests, drop), layout,
                                  cache / (s.config.function_name + ".tests.json"),
                                  k_task_root_prefix, filter);
    if (!tests) throw Fatal("cannot build the test layer: " + tests.error().message);
    img.layers = {*deps, *tests};
    img.inputs_hash = "sha256:" + util::sha256_hex(deps->digest + "\n" + tests->digest);
    return img;
}

BuiltImage build_layers(Session& s) {
    auto layout = oci::ImageLayout::open(s.provider->image_layout_dir());
    if (!layout) throw Fatal("cannot open the image store: " + layout.error().message);
    return build_layers(s, *layout);
}

BuiltImage build_image(Session& s) {
    auto layout = oci::ImageLayout::open(s.provider->image_layout_dir());
    if (!layout) throw Fatal("cannot open the image store: " + layout.error().message);
    BuiltImage img = build_layers(s, *layout);
    auto platform = oci::parse_platform(s.config.platform).take_or_fatal("cloudProvider.platform");

    oci::ImageSpec spec;
    spec.layers = img.layers;
    spec.created_by = {"hypertest: dependencies", "hypertest: tests"};
    spec.os = platform.os;
    spec.architecture = platform.architecture;
    spec.entrypoint = {k_runner_entrypoint};
    spec.env = {"HOME=/tmp", "LAMBDA_TASK_ROOT=" + std::string(k_task_root)};
    spec.working_dir = k_task_root;
    spec.labels = {{"dev.hypertest.version", HYPERTEST_VERSION},
                   {"dev.hypertest.plugin", s.config.runner_name}};
    spec.base = load_base(s, *layout);
    if (spec.base) {
        spec.entrypoint = oci::choose_entrypoint(*spec.base, spec.entrypoint);
        img.base_digest = spec.base->manifest_digest;
    }
    auto written = oci::write_image(*layout, spec, s.config.image_name);
    if (!written) throw Fatal("cannot write the image: " + written.error().message);
    img.image_digest = written->manifest_digest;
    return img;
}

Manifest deploy(Session& s, bool skip_if_current) {
    auto& fns = s.provider->functions();
    if (s.options.dry_run) {
        auto d = timed_step(s, "discover", [&] { return s.plugin->discover({s.config.project_dir, s.config.runner_options}).take_or_fatal(); });
        s.reporter->info("dry run: found " + std::to_string(d.tests.size()) +
                         " tests; would build the image, update function \"" +
                         s.config.function_name + "\" and write the manifest (nothing written)");
        Manifest m;
        m.tests = d.tests;
        m.plugin = s.config.runner_name;
        return m;
    }
    BuiltImage img = timed_step(s, "build", [&] { return build_image(s); });
    if (const auto& left = img.left_out_secrets; !left.empty()) {
        std::vector<std::string> shown(left.begin(), left.begin() + std::min<std::size_t>(left.size(), 5));
        s.reporter->info("left out of the image as likely secrets: " + util::join(shown, ", ") +
                         (left.size() > shown.size() ? " and " + std::to_string(left.size() - shown.size()) + " more" : "") +
                         " (a line \"!<path>\" in .hypertestignore puts one back)");
    }
    // Before the skip check: a function already on this image still needs it in the registry
    // (e.g. when the registry was configured after the last deploy). Unchanged: HEADs only.
    publish_image(s, img.image_digest);
    if (skip_if_current) {
        auto current = read_manifest(s);
        auto state = fns.state();
        if (current && state && current->image_digest == img.image_digest &&
            state->image_digest == img.image_digest && current->plugin == s.config.runner_name &&
            current->plugin_options == s.config.runner_options) {
            s.reporter->step("deploy", "update", StepState::skipped, 0, "function already runs this image");
            return std::move(*current);
        }
    }
    auto discovery = timed_step(s, "discover", [&] {
        return s.plugin->discover({s.config.project_dir, s.config.runner_options})
            .take_or_fatal("test discovery failed");
    });
    if (discovery.tests.empty()) {
        throw Fatal("no tests found in " + s.config.project_dir.string() +
                    ": check the test runner's config (testDir, testMatch)");
    }
    timed_step(s, "update function", [&] {
        fns.update(img.image_digest).take_or_fatal("cannot update function \"" + s.config.function_name + "\"");
        return 0;
    });
    Manifest m;
    m.function_name = s.config.function_name;
    m.image_digest = img.image_digest;
    m.inputs_hash = img.inputs_hash;
    m.layers = img.layers;
    if (!img.base_digest.empty()) {
        m.base_image = s.config.base_image;
        m.base_digest = img.base_digest;
    }
    m.plugin = s.config.runner_name;
    m.plugin_options = s.config.runner_options;
    m.tests = std::move(discovery.tests);
    m.framework_version = discovery.framework_version;
    m.max_failures = discovery.max_failures;
    m.hypertest_version = HYPERTEST_VERSION;
    m.created = util::iso8601_ms(util::now_ms());
    timed_step(s, "manifest", [&] {
        s.provider->storage().put(manifest_key(s.config), to_json(m).dump(2)).take_or_fatal("cannot write the manifest");
        return 0;
    });
    return m;
}

}  // namespace hypertest::core
