#include "providers/local/local_provider.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "util/temp_dir.hpp"
#include "util/fs.hpp"

namespace hypertest::providers {
namespace {

using util::TempDir;

ProviderContext context(const fs::path& project, Json config = Json::object()) {
    ProviderContext ctx;
    ctx.project_dir = project;
    ctx.config = std::move(config);
    ctx.function_name = "fn";
    ctx.runner_path = HT_FAKE_RUNTIME;
    return ctx;
}

std::string fatal_message(const Json& config) {
    TempDir tmp;
    try {
        make_local_provider(context(tmp.path(), config));
    } catch (const util::Fatal& e) {
        return e.what();
    }
    return "";
}

TEST(LocalProvider, ConfigKeysAndValidation) {
    EXPECT_EQ(local_config_keys(),
              (std::vector<std::string>{"name", "storageDir", "cacheDir", "unpackLimits", "sandbox", "network",
                                        "functionTimeout", "memorySize", "env", "registry",
                                        "insecureRegistry"}));
    EXPECT_NE(fatal_message({{"network", "none"}}).find("cloudProvider.network"), std::string::npos);
    EXPECT_NE(fatal_message({{"env", "A=1"}}).find("cloudProvider.env must be an object"), std::string::npos);
    EXPECT_NE(fatal_message({{"env", {{"A", 1}}}}).find("cloudProvider.env.A"), std::string::npos);
    EXPECT_NE(fatal_message({{"env", {{"AWS_REGION", "x"}}}}).find("reserved"), std::string::npos);
    EXPECT_EQ(fatal_message({{"env", {{"BASE_URL", "http://localhost:3000"}}}}), "");
    EXPECT_NE(fatal_message({{"registry", "myrepo"}}).find("cloudProvider.registry"), std::string::npos);
    EXPECT_NE(fatal_message({{"registry", 5}}).find("cloudProvider.registry"), std::string::npos);
    EXPECT_NE(fatal_message({{"insecureRegistry", "yes"}}).find("cloudProvider.insecureRegistry"),
              std::string::npos);
    EXPECT_EQ(fatal_message({{"registry", "127.0.0.1:5000/team/app"}, {"insecureRegistry", false}}), "");
    EXPECT_NE(fatal_message({{"sandbox", "yes"}}).find("cloudProvider.sandbox"), std::string::npos);
    EXPECT_NE(fatal_message({{"functionTimeout", "900"}}).find("cloudProvider.functionTimeout"),
              std::string::npos);
    EXPECT_NE(fatal_message({{"functionTimeout", -1}}).find("positive"), std::string::npos);
    EXPECT_NE(fatal_message({{"memorySize", 1.5}}).find("cloudProvider.memorySize"), std::string::npos);
    EXPECT_NE(fatal_message({{"storageDir", 3}}).find("cloudProvider.storageDir"), std::string::npos);
    EXPECT_NE(fatal_message({{"unpackLimits", {{"maxBytes", -5}}}}).find("cloudProvider.unpackLimits.maxBytes"),
              std::string::npos);
    EXPECT_NE(fatal_message({{"unpackLimits", {{"maxByte", 5}}}}).find("did you mean"), std::string::npos);
    EXPECT_NE(fatal_message({{"unpackLimits", {{"maxEntries", 1.5}}}}).find("whole number"), std::string::npos);
    EXPECT_EQ(fatal_message({{"unpackLimits", {{"maxBytes", 1048576}, {"maxEntries", 10}, {"maxFileBytes", 1}}}}), "");
    EXPECT_EQ(fatal_message({{"name", "local"}, {"sandbox", "auto"}, {"functionTimeout", 60},
                             {"memorySize", 1024}, {"storageDir", "out"}}),
              "");
}

TEST(LocalProvider, DirectoriesDefaultUnderDotHypertest) {
    TempDir tmp;
    auto p = make_local_provider(context(tmp.path()));
    EXPECT_EQ(p->name(), "local");
    EXPECT_EQ(p->image_layout_dir(), tmp.path() / ".hypertest/image");
    EXPECT_EQ(p->storage().location().kind, "local");
    EXPECT_EQ(p->storage().location().root, (tmp.path() / ".hypertest/storage").string());
    auto custom = make_local_provider(context(tmp.path(), {{"storageDir", "store"}}));
    EXPECT_EQ(custom->storage().location().root, (tmp.path() / "store").string());
    auto st = p->functions().state();
    ASSERT_TRUE(st);
    EXPECT_EQ(st->timeout_s, 900);
    EXPECT_TRUE(st->image_digest.empty());
}

TEST(LocalStorage, PutGetUrlAndKeyChecks) {
    TempDir tmp;
    auto p = make_local_provider(context(tmp.path()));
    Storage& s = p->storage();
    ASSERT_TRUE(s.check_writable());
    ASSERT_TRUE(s.put("run1/hypertest.results.json", "{}"));
    auto got = s.get("run1/hypertest.results.json");
    ASSERT_TRUE(got);
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ(**got, "{}");
    auto missing = s.get("run1/nope");
    ASSERT_TRUE(missing);
    EXPECT_FALSE(missing->has_value());
    EXPECT_EQ(s.url("run1/hypertest.results.json"),
              (tmp.path() / ".hypertest/storage/run1/hypertest.results.json").string());
    ASSERT_TRUE(util::write_file_atomic(tmp.path() / "f.bin", "bytes"));
    ASSERT_TRUE(s.put_file("run1/t/attempt-1/f.bin", tmp.path() / "f.bin"));
    EXPECT_EQ(**s.get("run1/t/attempt-1/f.bin"), "bytes");
    EXPECT_FALSE(s.put("../escape", "x"));
    EXPECT_FALSE(s.put("/abs", "x"));
    EXPECT_FALSE(fs::exists(tmp.path() / ".hypertest/escape"));
}

TEST(LocalStorage, UnwritableRootHasAFixHint) {
    if (::geteuid() == 0) GTEST_SKIP() << "root can write anywhere";
    TempDir tmp;
    fs::create_directories(tmp.path() / "ro");
    fs::permissions(tmp.path() / "ro", fs::perms::owner_read | fs::perms::owner_exec);
    auto p = make_local_provider(context(tmp.path(), {{"storageDir", "ro/store"}}));
    auto s = p->storage().check_writable();
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find("storageDir"), std::string::npos);
    fs::permissions(tmp.path() / "ro", fs::perms::owner_all);
}

TEST(LocalProvider, DoctorReportsEachCheckWithFixes) {
    TempDir tmp;
    auto ctx = context(tmp.path(), {{"sandbox", false}});
    ctx.runner_path = tmp.path() / "missing-runner";
    auto p = make_local_provider(ctx);
    auto checks = p->doctor();
    std::map<std::string, DoctorCheck> by_name;
    for (const auto& c : checks) by_name[c.name] = c;
    ASSERT_EQ(by_name.size(), 5u);
    EXPECT_TRUE(by_name["storage"].ok);
    EXPECT_FALSE(by_name["runner"].ok);
    EXPECT_FALSE(by_name["runner"].fix.empty());
    EXPECT_TRUE(by_name["sandbox"].ok);
    EXPECT_NE(by_name["sandbox"].detail.find("unsandboxed"), std::string::npos);
    EXPECT_FALSE(by_name["function"].ok);
    EXPECT_NE(by_name["function"].fix.find("hypertest deploy"), std::string::npos);
    EXPECT_TRUE(by_name.count("node"));
}

}  // namespace
}  // namespace hypertest::providers
