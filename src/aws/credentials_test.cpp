// Environment, shared-file and credential_process sources, the chain and the cache.
#include "aws/credentials.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "util/fs.hpp"
#include "util/temp_dir.hpp"

namespace hypertest::aws {
namespace {

namespace fs = std::filesystem;

// A scratch directory that also writes files into itself.
class TempDir : public util::TempDir {
public:
    fs::path write(const std::string& name, const std::string& content, bool executable = false) {
        fs::path p = path() / name;
        EXPECT_TRUE(util::write_file_atomic(p, content).ok());
        if (executable) ::chmod(p.c_str(), 0755);
        return p;
    }
};

System with_env(std::map<std::string, std::string> env) {
    env.emplace("AWS_EC2_METADATA_DISABLED", "true");
    env.emplace("HOME", "/nonexistent-home");
    return system_with_env(std::move(env));
}

TEST(EnvCredentials, ReadsKeysAndToken) {
    auto p = make_env_provider(with_env({{"AWS_ACCESS_KEY_ID", "AKID"}, {"AWS_SECRET_ACCESS_KEY", "SECRET"},
                                         {"AWS_SESSION_TOKEN", "TOKEN"}}));
    auto c = p->resolve();
    ASSERT_TRUE(c.ok() && c->has_value());
    EXPECT_EQ((*c)->access_key_id, "AKID");
    EXPECT_EQ((*c)->secret_access_key, "SECRET");
    EXPECT_EQ((*c)->session_token, "TOKEN");
    EXPECT_FALSE(make_env_provider(with_env({}))->resolve()->has_value());
}

TEST(EnvCredentials, HalfConfiguredIsAnErrorWithoutTheSecret) {
    auto c = make_env_provider(with_env({{"AWS_SECRET_ACCESS_KEY", "VERYSECRET"}}))->resolve();
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.error().message.find("AWS_ACCESS_KEY_ID"), std::string::npos);
    EXPECT_EQ(c.error().message.find("VERYSECRET"), std::string::npos);
}

TEST(ProfileCredentials, StaticKeysFromCredentialsFile) {
    TempDir dir;
    auto creds = dir.write("credentials", "[default]\naws_access_key_id=D\naws_secret_access_key=DS\n"
                                          "[ci]\naws_access_key_id = CI\naws_secret_access_key = CIS\n"
                                          "aws_session_token = CIT\n");
    auto config = dir.write("config", "[profile ci]\nregion = eu-north-1\n");
    auto p = make_profile_provider(with_env({{"AWS_PROFILE", "ci"}, {"AWS_SHARED_CREDENTIALS_FILE", creds},
                                             {"AWS_CONFIG_FILE", config}}));
    EXPECT_EQ(p->name(), "profile ci");
    auto c = p->resolve();
    ASSERT_TRUE(c.ok() && c->has_value()) << (c.ok() ? "" : c.error().message);
    EXPECT_EQ((*c)->access_key_id, "CI");
    EXPECT_EQ((*c)->secret_access_key, "CIS");
    EXPECT_EQ((*c)->session_token, "CIT");
}

TEST(ProfileCredentials, MissingExplicitProfileAndUnsupportedKindsAreExplained) {
    TempDir dir;
    auto config = dir.write("config", "[profile sso]\nsso_session = corp\n[profile onlyregion]\nregion=x\n");
    auto missing = make_profile_provider(with_env({{"AWS_PROFILE", "nope"}, {"AWS_CONFIG_FILE", config}}))->resolve();
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message.find("'nope'"), std::string::npos);
    EXPECT_NE(missing.error().message.find(config.string()), std::string::npos);
    auto sso = make_profile_provider(with_env({{"AWS_PROFILE", "sso"}, {"AWS_CONFIG_FILE", config}}))->resolve();
    ASSERT_FALSE(sso.ok());
    EXPECT_NE(sso.error().message.find("export-credentials --profile sso"), std::string::npos);
    auto region_only =
        make_profile_provider(with_env({{"AWS_PROFILE", "onlyregion"}, {"AWS_CONFIG_FILE", config}}))->resolve();
    ASSERT_TRUE(region_only.ok());
    EXPECT_FALSE(region_only->has_value());
}

TEST(ProfileCredentials, CredentialProcessRunsWithoutShellAndQuotedArguments) {
    TempDir dir;
    auto args_file = dir.path() / "args.txt";
    dir.write("cred tool.sh",
              "#!/bin/sh\nprintf '%s\\n' \"$@\" > '" + args_file.string() + "'\n"
              "echo '{\"Version\": 1, \"AccessKeyId\": \"PAK\", \"SecretAccessKey\": \"PSK\", "
              "\"SessionToken\": \"PST\", \"Expiration\": \"2030-01-02T03:04:05Z\"}'\n",
              true);
    auto config = dir.write("config", "[profile proc]\ncredential_process = \"" + (dir.path() / "cred tool.sh").string() +
                                          "\" --role 'a b' $HOME\n");
    auto c = make_profile_provider(with_env({{"AWS_PROFILE", "proc"}, {"AWS_CONFIG_FILE", config}}))->resolve();
    ASSERT_TRUE(c.ok() && c->has_value()) << (c.ok() ? "" : c.error().message);
    EXPECT_EQ((*c)->access_key_id, "PAK");
    EXPECT_EQ((*c)->session_token, "PST");
    EXPECT_EQ((*c)->expires_at_ms, 1893553445000);
    EXPECT_EQ(*util::read_file(args_file), "--role\na b\n$HOME\n");  // no shell expansion
}

TEST(ProfileCredentials, FailingCredentialProcessDoesNotLeakSecrets) {
    TempDir dir;
    dir.write("bad.sh", "#!/bin/sh\necho 'aws_secret_access_key = LEAKED1234 Signature=abcdef12' >&2\nexit 3\n", true);
    dir.write("v2.sh", "#!/bin/sh\necho '{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"LEAK2\"}'\n", true);
    dir.write("junk.sh", "#!/bin/sh\necho 'not json {\"SecretAccessKey\":\"LEAK3\"'\n", true);
    auto config = dir.write("config", "[profile bad]\ncredential_process = " + (dir.path() / "bad.sh").string() +
                                          "\n[profile v2]\ncredential_process = " + (dir.path() / "v2.sh").string() +
                                          "\n[profile junk]\ncredential_process = " + (dir.path() / "junk.sh").string() + "\n");
    for (const char* name : {"bad", "v2", "junk"}) {
        auto c = make_profile_provider(with_env({{"AWS_PROFILE", name}, {"AWS_CONFIG_FILE", config}}))->resolve();
        ASSERT_FALSE(c.ok()) << name;
        const std::string& m = c.error().message;
        EXPECT_NE(m.find("credential_process of profile '" + std::string(name) + "'"), std::string::npos) << m;
        for (const char* leak : {"LEAKED1234", "abcdef12", "LEAK2", "LEAK3"})
            EXPECT_EQ(m.find(leak), std::string::npos) << m;
    }
    auto bad = make_profile_provider(with_env({{"AWS_PROFILE", "bad"}, {"AWS_CONFIG_FILE", config}}))->resolve();
    EXPECT_NE(bad.error().message.find("exited with code 3"), std::string::npos);
}

class CountingProvider : public CredentialsProvider {
public:
    CountingProvider(std::string name, std::optional<Credentials> creds, bool fail = false)
        : m_name(std::move(name)), m_creds(std::move(creds)), m_fail(fail) {}
    std::string name() const override { return m_name; }
    util::Result<std::optional<Credentials>> resolve() override {
        ++calls;
        if (m_fail) return util::make_error("broken");
        return m_creds;
    }
    int calls = 0;

private:
    std::string m_name;
    std::optional<Credentials> m_creds;
    bool m_fail;
};

TEST(CredentialChain, FirstConfiguredWinsAndErrorsStopTheSearch) {
    std::vector<ProviderPtr> chain;
    chain.push_back(std::make_unique<CountingProvider>("a", std::nullopt));
    chain.push_back(std::make_unique<CountingProvider>("b", Credentials{"B", "BS", "", 0}));
    chain.push_back(std::make_unique<CountingProvider>("c", Credentials{"C", "CS", "", 0}));
    auto found = resolve_credentials(*make_chain_provider(std::move(chain)));
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(found->access_key_id, "B");

    std::vector<ProviderPtr> failing;
    failing.push_back(std::make_unique<CountingProvider>("a", std::nullopt, true));
    failing.push_back(std::make_unique<CountingProvider>("b", Credentials{"B", "BS", "", 0}));
    auto error = resolve_credentials(*make_chain_provider(std::move(failing)));
    ASSERT_FALSE(error.ok());
    EXPECT_EQ(error.error().message, "AWS credentials from a: broken");
}

TEST(CredentialChain, DefaultChainPrefersEnvironmentAndExplainsWhenEmpty) {
    TempDir dir;
    auto creds = dir.write("credentials", "[default]\naws_access_key_id=FILE\naws_secret_access_key=FS\n");
    auto env_wins = resolve_credentials(*make_default_provider(with_env(
        {{"AWS_ACCESS_KEY_ID", "ENV"}, {"AWS_SECRET_ACCESS_KEY", "ES"}, {"AWS_SHARED_CREDENTIALS_FILE", creds}})));
    ASSERT_TRUE(env_wins.ok());
    EXPECT_EQ(env_wins->access_key_id, "ENV");
    auto file = resolve_credentials(*make_default_provider(with_env({{"AWS_SHARED_CREDENTIALS_FILE", creds}})));
    ASSERT_TRUE(file.ok());
    EXPECT_EQ(file->access_key_id, "FILE");
    auto none = resolve_credentials(*make_default_provider(with_env({})));
    ASSERT_FALSE(none.ok());
    EXPECT_NE(none.error().message.find("no AWS credentials found (looked in: environment, web identity, "
                                        "profile default, container endpoint, instance metadata)"),
              std::string::npos);
}

TEST(CredentialCache, RefreshesFiveMinutesBeforeExpiry) {
    auto inner = std::make_unique<CountingProvider>("x", Credentials{"A", "S", "T", 1'000'000});
    CountingProvider* raw = inner.get();
    std::int64_t now = 0;
    auto cached = make_caching_provider(std::move(inner), [&] { return now; });
    ASSERT_TRUE(cached->resolve().ok());
    now = 1'000'000 - 5 * 60 * 1000 - 1;
    ASSERT_TRUE(cached->resolve().ok());
    EXPECT_EQ(raw->calls, 1);
    now += 2;
    ASSERT_TRUE(cached->resolve().ok());
    EXPECT_EQ(raw->calls, 2);
}

}  // namespace
}  // namespace hypertest::aws
