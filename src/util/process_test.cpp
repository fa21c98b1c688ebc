#include "util/process.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <thread>

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

namespace hypertest::util {

TEST(Process, KillWithParentEndsTheChildWhenItsStarterDies) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t starter = ::fork();
    ASSERT_GE(starter, 0);
    if (starter == 0) {
        ProcessSpec spec;
        spec.argv = {"/bin/sleep", "30"};
        spec.kill_with_parent = true;
        auto c = Child::spawn(spec);
        pid_t pid = c ? (*c)->pid() : -1;
        (void)!::write(fds[1], &pid, sizeof pid);
        ::_exit(0);  // no destructors: the child must die through PDEATHSIG alone
    }
    pid_t sleeper = -1;
    ASSERT_EQ(::read(fds[0], &sleeper, sizeof sleeper), static_cast<ssize_t>(sizeof sleeper));
    ::close(fds[0]);
    ::close(fds[1]);
    ::waitpid(starter, nullptr, 0);
    ASSERT_GT(sleeper, 0);
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i) {
        // Reparented to init (or a subreaper) and reaped there, or a zombie awaiting it.
        std::string stat;
        FILE* f = std::fopen(("/proc/" + std::to_string(sleeper) + "/stat").c_str(), "r");
        if (!f) {
            gone = true;
            break;
        }
        char buf[512] = {};
        (void)!std::fread(buf, 1, sizeof buf - 1, f);
        std::fclose(f);
        stat = buf;
        auto close = stat.rfind(')');
        gone = close != std::string::npos && stat.size() > close + 2 && stat[close + 2] == 'Z';
        if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_TRUE(gone) << "sleep " << sleeper << " outlived the process that started it";
    ::kill(sleeper, SIGKILL);
}

}  // namespace hypertest::util
