#include "aws/shared_config.hpp"

#include <gtest/gtest.h>

namespace hypertest::aws {
namespace {

TEST(ParseIni, SectionsCommentsAndNestedSettings) {
    IniFile f = parse_ini(
        "# comment\n[default]\nregion = us-east-1 # inline\n; other\n"
        "[profile   dev]\r\nAWS_Access_Key_Id=AK#notacomment\ns3 =\n  max_concurrent_requests = 4\n"
        "output=json\n[  x ]\nkey = a=b\n");
    EXPECT_EQ(f["default"]["region"], "us-east-1");
    EXPECT_EQ(f["profile dev"]["aws_access_key_id"], "AK#notacomment");
    EXPECT_EQ(f["profile dev"]["s3.max_concurrent_requests"], "4");
    EXPECT_EQ(f["profile dev"]["output"], "json");
    EXPECT_EQ(f["x"]["key"], "a=b");
    EXPECT_EQ(f.count("profile dev"), 1u);
}

TEST(SplitCommandLine, QuotesAndEscapesLikeTheAwsCli) {
    auto argv = split_command_line(R"(/opt/my\ tool "--name=a b" 'it''s' "q\"x\\y" plain\$ "$HOME" "a\nb")");
    ASSERT_TRUE(argv.ok()) << argv.error().message;
    std::vector<std::string> expected = {"/opt/my tool", "--name=a b", "its", "q\"x\\y",
                                         "plain$", "$HOME", "a\\nb"};
    EXPECT_EQ(*argv, expected);
}

TEST(SplitCommandLine, RejectsUnterminatedQuotesAndEmptyCommands) {
    EXPECT_FALSE(split_command_line("tool 'open").ok());
    EXPECT_FALSE(split_command_line("tool \"open").ok());
    EXPECT_FALSE(split_command_line("   ").ok());
    auto empty_arg = split_command_line("tool ''");
    ASSERT_TRUE(empty_arg.ok());
    EXPECT_EQ(*empty_arg, (std::vector<std::string>{"tool", ""}));
}

System files_system(std::map<std::string, std::string> env, std::map<std::string, std::string> files) {
    System s;
    s.env = [env](const std::string& n) -> std::optional<std::string> {
        auto it = env.find(n);
        return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    s.read_file = [files](const std::filesystem::path& p) -> util::Result<std::optional<std::string>> {
        auto it = files.find(p.string());
        if (it == files.end()) return std::optional<std::string>();
        return std::optional<std::string>(it->second);
    };
    return s;
}

TEST(LoadProfile, ConfigUsesProfilePrefixCredentialsDoNot) {
    auto s = files_system({{"HOME", "/home/u"}, {"AWS_PROFILE", "dev"}},
                          {{"/home/u/.aws/config", "[profile dev]\nregion=eu-west-1\naws_access_key_id=FROMCONFIG\n[dev]\nregion=wrong\n"},
                           {"/home/u/.aws/credentials", "[dev]\naws_access_key_id=FROMCREDS\n[profile dev]\nregion=wrong2\n"}});
    auto p = load_profile(s);
    ASSERT_TRUE(p.ok());
    EXPECT_TRUE(p->found);
    EXPECT_TRUE(p->explicit_name);
    EXPECT_EQ(p->values["region"], "eu-west-1");
    EXPECT_EQ(p->values["aws_access_key_id"], "FROMCREDS");
}

TEST(LoadProfile, FileLocationsFromEnvironmentAndDefaultSection) {
    auto s = files_system({{"HOME", "/home/u"}, {"AWS_CONFIG_FILE", "~/cfg"},
                           {"AWS_SHARED_CREDENTIALS_FILE", "/etc/creds"}},
                          {{"/home/u/cfg", "[default]\nregion=ap-south-1\n"}});
    auto p = load_profile(s);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->name, "default");
    EXPECT_FALSE(p->explicit_name);
    EXPECT_EQ(p->values["region"], "ap-south-1");
    EXPECT_EQ(p->credentials_file, "/etc/creds");
}

}  // namespace
}  // namespace hypertest::aws
