// Subprocesses are started from argv vectors, never through a shell.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace hypertest::util {

struct ProcessSpec {
    std::vector<std::string> argv;
    std::filesystem::path cwd;                      // empty: inherit
    std::map<std::string, std::string> env_set;     // added to / overriding the environment
    std::vector<std::string> env_unset;
    bool clear_env = false;                          // start from an empty environment
    std::chrono::milliseconds timeout{0};            // 0: none; on expiry the group is killed
    std::optional<std::filesystem::path> stdout_file;  // instead of capturing
    std::optional<std::filesystem::path> stderr_file;
    std::string stdin_data;
    // SIGKILL the child when the process that started it dies (Linux PR_SET_PDEATHSIG), so a
    // crashed runner leaves no framework processes behind.
    bool kill_with_parent = false;
};

struct ProcessResult {
    int exit_code = -1;  // -1 when killed by a signal
    int signal = 0;
    bool timed_out = false;
    std::string out;
    std::string err;
};

// Fails only when the process could not be started (e.g. argv[0] not found).
class ProcessRunner {
public:
    virtual ~ProcessRunner() = default;
    virtual Result<ProcessResult> run(const ProcessSpec& spec) = 0;
};

std::unique_ptr<ProcessRunner> make_process_runner();
Result<ProcessResult> run_process(const ProcessSpec& spec);

// A long-running child in its own process group; killed (group-wide) when destroyed.
class Child {
public:
    static Result<std::unique_ptr<Child>> spawn(const ProcessSpec& spec);
    ~Child();
    pid_t pid() const { return m_pid; }
    // Non-blocking: the exit status once the child has ended.
    std::optional<int> poll();
    int wait();
    void kill_group(int sig);

private:
    explicit Child(pid_t pid) : m_pid(pid) {}
    pid_t m_pid;
    std::optional<int> m_status;
};

// Searches PATH like execvp would; empty when not found.
std::filesystem::path find_in_path(const std::string& name);
// Absolute path of the running executable.
std::filesystem::path self_exe();

}  // namespace hypertest::util
