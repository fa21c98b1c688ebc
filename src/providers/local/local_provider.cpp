#include "providers/local/local_provider.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

#include "oci/image.hpp"
#include "providers/local/environment.hpp"
#include "providers/local/function_host.hpp"
#include "providers/local/local_storage.hpp"
#include "providers/local/registry_image.hpp"
#include "util/process.hpp"
#include "util/strings.hpp"

namespace hypertest::providers {
namespace {

struct LocalConfig {
    fs::path storage_dir = ".hypertest/storage";
    SandboxMode sandbox = SandboxMode::automatic;
    bool private_network = true;
    int function_timeout_s = 900;
    int memory_mb = 2048;
    std::map<std::string, std::string> env;
    RegistrySettings registry;
    fs::path cache_dir;  // empty: default_cache_dir()
    oci::UnpackLimits unpack_limits;
};

// Outside every project: $HYPERTEST_CACHE_DIR, else $XDG_CACHE_HOME/hypertest, else
// ~/.cache/hypertest (the home from the password database when HOME is unset), else a per-user
// folder in the temp dir.
fs::path default_cache_dir() {
    auto env = [](const char* name) {
        const char* v = std::getenv(name);
        return v && *v == '/' ? fs::path(v) : fs::path();
    };
    if (auto d = env("HYPERTEST_CACHE_DIR"); !d.empty()) return d;
    if (auto d = env("XDG_CACHE_HOME"); !d.empty()) return d / "hypertest";
    if (auto d = env("HOME"); !d.empty()) return d / ".cache" / "hypertest";
    // Not a shared temp dir if avoidable: unpacked layers are trusted by their folder's name.
    if (const passwd* pw = ::getpwuid(::geteuid()); pw && pw->pw_dir && *pw->pw_dir == '/')
        return fs::path(pw->pw_dir) / ".cache" / "hypertest";
    std::error_code ec;
    return fs::temp_directory_path(ec) / ("hypertest-cache-" + std::to_string(::geteuid()));
}

[[noreturn]] void bad_key(const std::string& key, const std::string& problem, const std::string& fix) {
    throw util::Fatal("cloudProvider." + key + " " + problem + "; " + fix);
}

int positive_int(const Json& c, const std::string& key, int fallback, const std::string& fix) {
    if (!c.contains(key) || c[key].is_null()) return fallback;
    const Json& v = c[key];
    if (!v.is_number() || v.get<double>() < 1 || v.get<double>() > 1e6 ||
        v.get<double>() != static_cast<double>(static_cast<int>(v.get<double>())))
        bad_key(key, "must be a positive whole number (got " + v.dump() + ")", fix);
    return v.get<int>();
}

// cloudProvider.unpackLimits: {"maxBytes", "maxEntries", "maxFileBytes"}, each a whole number.
oci::UnpackLimits parse_unpack_limits(const Json& c) {
    oci::UnpackLimits limits;
    limits.setting_prefix = "cloudProvider.unpackLimits.";
    if (!c.contains("unpackLimits") || c["unpackLimits"].is_null()) return limits;
    const Json& u = c["unpackLimits"];
    const char* fix = "e.g. \"unpackLimits\": {\"maxBytes\": 10737418240, \"maxEntries\": 2000000, "
                      "\"maxFileBytes\": 4294967296}";
    if (!u.is_object()) bad_key("unpackLimits", "must be an object (got " + u.dump() + ")", fix);
    for (const auto& [key, value] : u.items()) {
        std::int64_t* target = key == "maxBytes"       ? &limits.max_bytes
                               : key == "maxEntries"   ? &limits.max_entries
                               : key == "maxFileBytes" ? &limits.max_file_bytes
                                                       : nullptr;
        if (!target)
            bad_key("unpackLimits." + key, "is not a setting" +
                        util::did_you_mean_hint(key, {"maxBytes", "maxEntries", "maxFileBytes"}),
                    fix);
        if (!value.is_number_integer() || value.get<std::int64_t>() < 1)
            bad_key("unpackLimits." + key, "must be a positive whole number (got " + value.dump() + ")", fix);
        *target = value.get<std::int64_t>();
    }
    return limits;
}

LocalConfig parse_config(const Json& c) {
    LocalConfig cfg;
    if (!c.is_object()) return cfg;
    if (c.contains("storageDir") && !c["storageDir"].is_null()) {
        if (!c["storageDir"].is_string() || c["storageDir"].get<std::string>().empty())
            bad_key("storageDir", "must be a non-empty path (got " + c["storageDir"].dump() + ")",
                    "e.g. \"storageDir\": \".hypertest/storage\"");
        cfg.storage_dir = c["storageDir"].get<std::string>();
    }
    if (c.contains("sandbox") && !c["sandbox"].is_null()) {
        const Json& s = c["sandbox"];
        if (s.is_boolean()) {
            cfg.sandbox = s.get<bool>() ? SandboxMode::on : SandboxMode::off;
        } else if (s.is_string() && s.get<std::string>() == "auto") {
            cfg.sandbox = SandboxMode::automatic;
        } else {
            bad_key("sandbox", "must be true, false or \"auto\" (got " + s.dump() + ")",
                    "use \"auto\" to sandbox with bubblewrap when it works");
        }
    }
    if (c.contains("network") && !c["network"].is_null()) {
        const Json& n = c["network"];
        if (!n.is_string() || (n.get<std::string>() != "private" && n.get<std::string>() != "host"))
            bad_key("network", "must be \"private\" or \"host\" (got " + n.dump() + ")",
                    "\"private\" gives each environment a network of its own, like Lambda; "
                    "\"host\" shares this machine's");
        cfg.private_network = n.get<std::string>() == "private";
    }
    cfg.function_timeout_s = positive_int(c, "functionTimeout", cfg.function_timeout_s,
                                          "give seconds, e.g. \"functionTimeout\": 900");
    cfg.memory_mb = positive_int(c, "memorySize", cfg.memory_mb,
                                 "give megabytes, e.g. \"memorySize\": 2048");
    if (c.contains("env") && !c["env"].is_null()) {
        const char* fix = "give names and string values, e.g. \"env\": { \"BASE_URL\": \"http://localhost:3000\" }";
        if (!c["env"].is_object()) bad_key("env", "must be an object (got " + c["env"].dump() + ")", fix);
        for (const auto& [name, value] : c["env"].items()) {
            if (name.empty() || name.find('=') != std::string::npos || !value.is_string())
                bad_key("env." + name, "must be a string named without '=' (got " + value.dump() + ")", fix);
            if (name == "PATH" || name == "HOME" || name == "TMPDIR" || name.rfind("AWS_", 0) == 0 ||
                name.rfind("LAMBDA_", 0) == 0 || name.rfind("_X_AMZN", 0) == 0)
                bad_key("env." + name, "is reserved for the function runtime", "use another name");
            cfg.env[name] = value.get<std::string>();
        }
    }
    if (c.contains("cacheDir") && !c["cacheDir"].is_null()) {
        if (!c["cacheDir"].is_string() || c["cacheDir"].get<std::string>().empty())
            bad_key("cacheDir", "must be a non-empty path (got " + c["cacheDir"].dump() + ")",
                    "e.g. \"cacheDir\": \"/var/cache/hypertest\" (default: ~/.cache/hypertest)");
        cfg.cache_dir = c["cacheDir"].get<std::string>();
    }
    cfg.registry = parse_registry_settings(c);
    cfg.unpack_limits = parse_unpack_limits(c);
    return cfg;
}

class LocalProvider : public Provider {
public:
    explicit LocalProvider(const ProviderContext& ctx)
        : m_ctx(ctx), m_config(parse_config(ctx.config)) {
        fs::path project = fs::absolute(ctx.project_dir).lexically_normal();
        fs::path storage_root = m_config.storage_dir.is_absolute() ? m_config.storage_dir
                                                                   : project / m_config.storage_dir;
        m_storage_root = storage_root.lexically_normal();
        m_layout_dir = project / ".hypertest" / "image";
        m_storage = make_local_storage(m_storage_root);
        FunctionHostOptions o;
        o.function_name = ctx.function_name;
        o.function_dir = project / ".hypertest" / "functions" / ctx.function_name;
        o.cache_dir = m_config.cache_dir.empty() ? default_cache_dir()
                      : m_config.cache_dir.is_absolute() ? m_config.cache_dir
                                                         : project / m_config.cache_dir;
        o.image_layout_dir = m_layout_dir;
        o.unpack_limits = m_config.unpack_limits;
        o.runner_path = ctx.runner_path;
        o.storage_root = m_storage_root;
        o.concurrency = ctx.concurrency;
        o.timeout_s = m_config.function_timeout_s;
        o.memory_mb = m_config.memory_mb;
        o.sandbox = m_config.sandbox;
        o.private_network = m_config.private_network;
        o.env = m_config.env;
        if (m_config.registry.enabled()) {
            // The host keeps its own layout, filled from the registry, not deploy's.
            o.image_layout_dir = o.function_dir / "image";
            o.registry = m_config.registry;
        }
        m_host_layout_dir = o.image_layout_dir;
        m_functions = make_function_host(o);
    }

    std::string name() const override { return "local"; }
    Storage& storage() override { return *m_storage; }
    Functions& functions() override { return *m_functions; }
    fs::path image_layout_dir() const override { return m_layout_dir; }
    std::string image_registry() const override { return m_config.registry.reference; }

    util::Result<std::optional<std::string>> publish_image(const std::string& digest) override {
        if (!m_config.registry.enabled()) return std::optional<std::string>();
        auto report = push_to_registry(m_config.registry, m_layout_dir, digest, m_ctx.function_name,
                                       util::json_get<std::string>(m_ctx.config, "baseImage", ""));
        if (!report) return report.error();
        return std::optional<std::string>(report->summary());
    }

    std::vector<DoctorCheck> doctor() override {
        std::vector<DoctorCheck> checks = {check_storage(), check_runner(), check_node(),
                                           check_sandbox(), check_function()};
        if (m_config.registry.enabled()) checks.push_back(check_registry_access());
        return checks;
    }

private:
    DoctorCheck check_storage() {
        DoctorCheck c{"storage", true, "writable: " + m_storage_root.string(), ""};
        if (auto s = m_storage->check_writable(); !s) {
            c.ok = false;
            c.detail = s.error().message;
            c.fix = "make " + m_storage_root.string() +
                    " writable, or set cloudProvider.storageDir to a writable directory";
        }
        return c;
    }

    DoctorCheck check_runner() {
        DoctorCheck c{"runner", true, m_ctx.runner_path.string(), ""};
        if (m_ctx.runner_path.empty() || ::access(m_ctx.runner_path.c_str(), X_OK) != 0) {
            c.ok = false;
            c.detail = "hypertest-runner not found or not executable at " + m_ctx.runner_path.string();
            c.fix = "reinstall hypertest: hypertest-runner must sit beside the hypertest binary";
        }
        return c;
    }

    DoctorCheck check_node() {
        fs::path node = util::find_in_path("node");
        if (!node.empty()) return {"node", true, node.string(), ""};
        return {"node", false, "node is not on PATH",
                "install Node.js (the tests run with the project's node_modules) and put it on PATH"};
    }

    DoctorCheck check_sandbox() {
        if (m_config.sandbox == SandboxMode::off)
            return {"sandbox", true, "disabled: tests run unsandboxed", ""};
        auto status = bubblewrap_status();
        if (status) {
            std::string network = !m_config.private_network ? "the host's network"
                                  : !pasta_installed()
                                      ? "a private network without outbound access (install passt)"
                                      : "a private network with outbound access through pasta";
            return {"sandbox", true, "bubblewrap (read-only task root, private /tmp, " + network + ")", ""};
        }
        if (m_config.sandbox == SandboxMode::automatic) {
            return {"sandbox", true, "unavailable: tests run unsandboxed (" + status.error().message + ")",
                    ""};
        }
        return {"sandbox", false, status.error().message,
                "install bubblewrap and allow unprivileged user namespaces, or set "
                "cloudProvider.sandbox to \"auto\""};
    }

    DoctorCheck check_function() {
        DoctorCheck c{"function", false, "", "run `hypertest deploy`"};
        auto st = m_functions->state();
        if (!st) {
            c.detail = st.error().message;
            return c;
        }
        if (st->image_digest.empty()) {
            c.detail = "function \"" + m_ctx.function_name + "\" has no image yet";
            return c;
        }
        auto layout = oci::ImageLayout::open(m_host_layout_dir);
        if (!layout || !layout->has_blob(st->image_digest)) {
            c.detail = "image " + st->image_digest + " is missing from " + m_host_layout_dir.string();
            return c;
        }
        c.ok = true;
        c.detail = "\"" + m_ctx.function_name + "\" runs " + st->image_digest;
        if (m_config.registry.enabled()) c.detail += " (pulled from " + m_config.registry.reference + ")";
        c.fix.clear();
        return c;
    }

    DoctorCheck check_registry_access() {
        DoctorCheck c{"registry", true, m_config.registry.reference, ""};
        if (auto s = check_registry(m_config.registry); !s) {
            c.ok = false;
            c.detail = s.error().message;
            c.fix = "start the registry or fix cloudProvider.registry (plain HTTP to a host other "
                    "than localhost needs \"insecureRegistry\": true)";
        }
        return c;
    }

    ProviderContext m_ctx;
    LocalConfig m_config;
    fs::path m_storage_root;
    fs::path m_layout_dir;
    fs::path m_host_layout_dir;  // where the function host reads images
    std::unique_ptr<Storage> m_storage;
    std::unique_ptr<Functions> m_functions;
};

}  // namespace

std::vector<std::string> local_config_keys() {
    return {"name", "storageDir", "cacheDir", "unpackLimits", "sandbox", "network", "functionTimeout",
            "memorySize", "env", "registry", "insecureRegistry"};
}

std::unique_ptr<Provider> make_local_provider(const ProviderContext& ctx) {
    return std::make_unique<LocalProvider>(ctx);
}

}  // namespace hypertest::providers
