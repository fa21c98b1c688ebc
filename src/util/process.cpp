#include "util/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

extern char** environ;

namespace hypertest::util {
namespace {

std::vector<std::string> build_env(const ProcessSpec& spec) {
    std::map<std::string, std::string> env;
    if (!spec.clear_env) {
        for (char** e = environ; *e; ++e) {
            std::string kv(*e);
            auto eq = kv.find('=');
            if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
        }
    }
    for (const auto& k : spec.env_unset) env.erase(k);
    for (const auto& [k, v] : spec.env_set) env[k] = v;
    std::vector<std::string> out;
    for (const auto& [k, v] : env) out.push_back(k + "=" + v);
    return out;
}

int decode_status(int status, ProcessResult& r) {
    if (WIFEXITED(status)) {
        r.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        r.signal = WTERMSIG(status);
        r.exit_code = -1;
    }
    return r.exit_code;
}

// Forks and execs; the child gets its own process group. Pipes: -1 when unused.
Result<pid_t> fork_exec(const ProcessSpec& spec, int in_fd, int out_fd, int err_fd) {
    if (spec.argv.empty()) return make_error("empty command line");
    std::vector<std::string> env = build_env(spec);
    std::vector<char*> argv, envp;
    for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    std::string exe = spec.argv[0];
    if (exe.find('/') == std::string::npos) {
        auto found = find_in_path(exe);
        if (found.empty()) return make_error("command not found: " + exe);
        exe = found.string();
    }
    int err_pipe[2];
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) return make_error("pipe failed");
    pid_t pid = ::fork();
    if (pid < 0) return make_error(std::string("fork failed: ") + std::strerror(errno), true);
    if (pid == 0) {
        // A session of its own (hence a process group of its own, for kill_group): children
        // run the project's code, which must not reach the user's terminal (TIOCSTI).
        ::setsid();
        if (spec.kill_with_parent) ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (in_fd >= 0) ::dup2(in_fd, 0);
        if (out_fd >= 0) ::dup2(out_fd, 1);
        if (err_fd >= 0) ::dup2(err_fd, 2);
        if (!spec.cwd.empty() && ::chdir(spec.cwd.c_str()) != 0) {
            int e = errno;
            (void)!::write(err_pipe[1], &e, sizeof e);
            ::_exit(127);
        }
        ::execve(exe.c_str(), argv.data(), envp.data());
        int e = errno;
        (void)!::write(err_pipe[1], &e, sizeof e);
        ::_exit(127);
    }
    ::close(err_pipe[1]);
    int child_errno = 0;
    ssize_t n = ::read(err_pipe[0], &child_errno, sizeof child_errno);
    ::close(err_pipe[0]);
    if (n == sizeof child_errno) {
        ::waitpid(pid, nullptr, 0);
        return make_error("cannot start " + spec.argv[0] + " (in " + spec.cwd.string() +
                          "): " + std::strerror(child_errno));
    }
    return pid;
}

int open_out(const std::optional<std::filesystem::path>& p) {
    if (!p) return -1;
    return ::open(p->c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

class PosixProcessRunner : public ProcessRunner {
public:
    Result<ProcessResult> run(const ProcessSpec& spec) override { return run_process(spec); }
};

}  // namespace

std::unique_ptr<ProcessRunner> make_process_runner() {
    return std::make_unique<PosixProcessRunner>();
}

Result<ProcessResult> run_process(const ProcessSpec& spec) {
    int in_p[2], out_p[2], err_p[2];
    if (::pipe2(in_p, O_CLOEXEC) || ::pipe2(out_p, O_CLOEXEC) || ::pipe2(err_p, O_CLOEXEC))
        return make_error("pipe failed");
    int out_file = open_out(spec.stdout_file);
    int err_file = open_out(spec.stderr_file);
    auto pid = fork_exec(spec, in_p[0], out_file >= 0 ? out_file : out_p[1],
                         err_file >= 0 ? err_file : err_p[1]);
    ::close(in_p[0]);
    ::close(out_p[1]);
    ::close(err_p[1]);
    if (out_file >= 0) ::close(out_file);
    if (err_file >= 0) ::close(err_file);
    if (!pid) {
        ::close(in_p[1]);
        ::close(out_p[0]);
        ::close(err_p[0]);
        return pid.error();
    }
    ProcessResult r;
    std::size_t in_off = 0;
    int in_fd = in_p[1];
    if (spec.stdin_data.empty()) {
        ::close(in_fd);
        in_fd = -1;
    } else {
        ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
    }
    auto start = std::chrono::steady_clock::now();
    bool out_open = true, err_open = true;
    char buf[65536];
    while (out_open || err_open || in_fd >= 0) {
        pollfd fds[3];
        int nfds = 0;
        if (out_open) fds[nfds++] = {out_p[0], POLLIN, 0};
        if (err_open) fds[nfds++] = {err_p[0], POLLIN, 0};
        if (in_fd >= 0) fds[nfds++] = {in_fd, POLLOUT, 0};
        int wait_ms = 200;
        ::poll(fds, static_cast<nfds_t>(nfds), wait_ms);
        for (int i = 0; i < nfds; ++i) {
            if (!fds[i].revents) continue;
            if (fds[i].fd == in_fd) {
                ssize_t w = ::write(in_fd, spec.stdin_data.data() + in_off,
                                    spec.stdin_data.size() - in_off);
                if (w > 0) in_off += static_cast<std::size_t>(w);
                if (w < 0 && errno != EAGAIN) in_off = spec.stdin_data.size();
                if (in_off >= spec.stdin_data.size()) {
                    ::close(in_fd);
                    in_fd = -1;
                }
                continue;
            }
            ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            bool is_out = fds[i].fd == out_p[0];
            if (n <= 0) {
                (is_out ? out_open : err_open) = false;
            } else {
                (is_out ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
            }
        }
        if (spec.timeout.count() > 0 && !r.timed_out &&
            std::chrono::steady_clock::now() - start > spec.timeout) {
            r.timed_out = true;
            ::kill(-*pid, SIGKILL);
        }
    }
    if (in_fd >= 0) ::close(in_fd);
    ::close(out_p[0]);
    ::close(err_p[0]);
    int status = 0;
    while (::waitpid(*pid, &status, 0) < 0 && errno == EINTR) {
    }
    decode_status(status, r);
    return r;
}

Result<std::unique_ptr<Child>> Child::spawn(const ProcessSpec& spec) {
    int out_file = open_out(spec.stdout_file);
    int err_file = open_out(spec.stderr_file);
    int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    auto pid = fork_exec(spec, devnull, out_file, err_file);
    if (devnull >= 0) ::close(devnull);
    if (out_file >= 0) ::close(out_file);
    if (err_file >= 0) ::close(err_file);
    if (!pid) return pid.error();
    return std::unique_ptr<Child>(new Child(*pid));
}

Child::~Child() {
    if (!m_status) {
        kill_group(SIGKILL);
        wait();
    }
}

std::optional<int> Child::poll() {
    if (m_status) return m_status;
    int status = 0;
    pid_t r = ::waitpid(m_pid, &status, WNOHANG);
    if (r == m_pid) {
        ProcessResult pr;
        decode_status(status, pr);
        m_status = pr.signal ? 128 + pr.signal : pr.exit_code;
    }
    return m_status;
}

int Child::wait() {
    if (m_status) return *m_status;
    int status = 0;
    while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
    }
    ProcessResult pr;
    decode_status(status, pr);
    m_status = pr.signal ? 128 + pr.signal : pr.exit_code;
    return *m_status;
}

void Child::kill_group(int sig) {
    if (m_status) return;
    ::kill(-m_pid, sig);
    ::kill(m_pid, sig);
}

std::filesystem::path find_in_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::string p = path ? path : "/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= p.size()) {
        auto end = p.find(':', start);
        std::string dir = p.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (dir.empty()) dir = ".";
        std::filesystem::path cand = std::filesystem::path(dir) / name;
        if (::access(cand.c_str(), X_OK) == 0) return cand;
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return {};
}

std::filesystem::path self_exe() {
    std::error_code ec;
    return std::filesystem::read_symlink("/proc/self/exe", ec);
}

}  // namespace hypertest::util
