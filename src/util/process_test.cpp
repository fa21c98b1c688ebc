#include "util/process.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace hypertest::util {

TEST(Process, CapturesOutputAndExitCodeWithoutAShell) {
    ProcessSpec spec;
    // A shell would expand these; argv must pass them through verbatim.
    spec.argv = {"/bin/echo", "$HOME", "`id`", "a b"};
    auto r = run_process(spec);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->exit_code, 0);
    EXPECT_EQ(r->out, "$HOME `id` a b\n");
}

TEST(Process, ReportsMissingCommand) {
    ProcessSpec spec;
    spec.argv = {"definitely-not-a-command-xyz"};
    auto r = run_process(spec);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("not found"), std::string::npos);
}

TEST(Process, TimeoutKillsTheProcessGroup) {
    ProcessSpec spec;
    spec.argv = {"/bin/sleep", "10"};
    spec.timeout = std::chrono::milliseconds(200);
    auto start = std::chrono::steady_clock::now();
    auto r = run_process(spec);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->timed_out);
    EXPECT_NE(r->signal, 0);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(Process, EnvironmentAndStdin) {
    ProcessSpec spec;
    spec.argv = {"/bin/sh", "-c", "cat; printf %s \"$HT_X\""};
    spec.env_set["HT_X"] = "value";
    spec.stdin_data = "in-";
    auto r = run_process(spec);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->out, "in-value");
}

TEST(Process, ChildCanBeKilled) {
    ProcessSpec spec;
    spec.argv = {"/bin/sleep", "10"};
    auto c = Child::spawn(spec);
    ASSERT_TRUE(c.ok());
    EXPECT_FALSE((*c)->poll().has_value());
    (*c)->kill_group(9);
    EXPECT_EQ((*c)->wait(), 128 + 9);
}

}  // namespace hypertest::util
