// Credentials from the shared config/credentials files: static keys or credential_process.
#include <chrono>

#include "aws/credentials.hpp"
#include "aws/redact.hpp"
#include "aws/shared_config.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"

namespace hypertest::aws {
namespace {

constexpr std::chrono::seconds k_process_timeout{60};

std::string value_of(const Profile& p, const std::string& key) {
    auto it = p.values.find(key);
    return it == p.values.end() ? std::string() : it->second;
}

class ProfileProvider : public CredentialsProvider {
public:
    explicit ProfileProvider(System system) : m_system(std::move(system)) {}

    std::string name() const override {
        std::string profile = m_system.getenv("AWS_PROFILE");
        return "profile " + (profile.empty() ? std::string("default") : profile);
    }

    util::Result<std::optional<Credentials>> resolve() override {
        auto loaded = load_profile(m_system);
        if (!loaded) return loaded.error();
        const Profile& p = *loaded;
        if (!p.found) {
            if (!p.explicit_name) return std::optional<Credentials>();
            return util::make_error("AWS_PROFILE names '" + p.name + "', which is in neither " +
                                    p.config_file.string() + " ([profile " + p.name + "]) nor " +
                                    p.credentials_file.string() + " ([" + p.name + "])");
        }
        std::string key = value_of(p, "aws_access_key_id");
        std::string secret = value_of(p, "aws_secret_access_key");
        if (!key.empty() || !secret.empty()) {
            if (key.empty() || secret.empty())
                return util::make_error("profile '" + p.name + "' sets " +
                                        (key.empty() ? "aws_secret_access_key but not aws_access_key_id"
                                                     : "aws_access_key_id but not aws_secret_access_key"));
            return std::optional<Credentials>(Credentials{key, secret, value_of(p, "aws_session_token"), 0});
        }
        if (std::string command = value_of(p, "credential_process"); !command.empty()) {
            auto creds = run_credential_process(p, command);
            if (!creds) return creds.error();
            return std::optional<Credentials>(std::move(*creds));
        }
        for (const char* unsupported : {"role_arn", "sso_session", "sso_start_url", "web_identity_token_file"}) {
            if (!value_of(p, unsupported).empty())
                return util::make_error(
                    "profile '" + p.name + "' uses " + unsupported +
                    ", which hypertest does not resolve itself; export plain credentials first, e.g. "
                    "`eval \"$(aws configure export-credentials --profile " + p.name +
                    " --format env)\"`");
        }
        return std::optional<Credentials>();
    }

private:
    util::Result<Credentials> run_credential_process(const Profile& p, const std::string& command) {
        auto argv = split_command_line(command);
        if (!argv) return util::make_error("profile '" + p.name + "': " + argv.error().message);
        if (!m_system.processes) return util::make_error("no process runner to run credential_process");
        util::ProcessSpec spec;
        spec.argv = *argv;
        spec.timeout = k_process_timeout;
        auto ran = m_system.processes->run(spec);
        std::string what = "credential_process of profile '" + p.name + "' (" + (*argv)[0] + ")";
        if (!ran) return util::make_error(what + " could not start: " + ran.error().message);
        if (ran->timed_out)
            return util::make_error(what + " did not finish within " +
                                    std::to_string(k_process_timeout.count()) + " s", true);
        if (ran->exit_code != 0) {
            std::string err = util::trim(util::truncate_utf8(ran->err, 500));
            return util::make_error(redact(what + " exited with " +
                                           (ran->signal ? "signal " + std::to_string(ran->signal)
                                                        : "code " + std::to_string(ran->exit_code)) +
                                           (err.empty() ? "" : ": " + err)));
        }
        auto json = util::parse_json(ran->out, what);
        if (json && util::json_get<int>(*json, "Version", 0) != 1)
            return util::make_error(what + " printed JSON without \"Version\": 1");
        auto creds = parse_credentials_json(ran->out, what);
        if (!creds) return util::make_error(redact(creds.error().message));
        return creds;
    }

    System m_system;
};

}  // namespace

ProviderPtr make_profile_provider(const System& system) {
    return std::make_unique<ProfileProvider>(system);
}

}  // namespace hypertest::aws
