#include "providers/local/function_host.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <iostream>
#include <set>
#include <thread>

#include "util/fs.hpp"
#include "util/sha256.hpp"
#include "util/temp_dir.hpp"
#include "oci/image.hpp"
#include "providers/local/environment.hpp"
#include "providers/local/task_root.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"
#include "util/time.hpp"

namespace hypertest::providers {
namespace {

using std::chrono::milliseconds;

using util::TempDir;

bool alive(int pid) { return ::kill(pid, 0) == 0; }

struct Host {
    TempDir tmp;
    FunctionHostOptions opts;
    std::unique_ptr<Functions> fn;

    explicit Host(int concurrency = 1, SandboxMode sandbox = SandboxMode::off) {
        opts.function_name = "fn-test";
        opts.function_dir = tmp.path() / "functions/fn-test";
        opts.cache_dir = tmp.path() / "cache";
        opts.image_layout_dir = tmp.path() / "image";
        opts.runner_path = HT_FAKE_RUNTIME;
        opts.storage_root = tmp.path() / "storage";
        opts.concurrency = concurrency;
        opts.timeout_s = 30;
        opts.sandbox = sandbox;
        opts.task_root_override = tmp.path() / "task";
        fs::create_directories(opts.task_root_override);
        fs::create_directories(opts.storage_root);
    }
    ~Host() {
        if (!::testing::Test::HasFailure()) return;
        std::error_code ec;
        for (fs::directory_iterator it(opts.function_dir / "logs", ec), end; !ec && it != end;
             it.increment(ec)) {
            auto text = util::read_file(it->path());
            std::cerr << "--- " << it->path().filename().string() << ":\n" << (text ? *text : "") << "\n";
        }
    }
    Functions& functions() {
        if (!fn) fn = make_function_host(opts);
        return *fn;
    }
    InvokeResponse invoke(const util::Json& event, milliseconds timeout = milliseconds(10000)) {
        auto r = functions().invoke(event, timeout);
        EXPECT_TRUE(r) << (r ? "" : r.error().message);
        return r ? *r : InvokeResponse{};
    }
};

TEST(FunctionHost, EchoRoundTripWithLambdaEnvironment) {
    Host h;
    std::int64_t before = util::now_ms();
    auto r = h.invoke({{"mode", "echo"}, {"x", 41}}, milliseconds(5000));
    ASSERT_FALSE(r.function_error) << r.error_message;
    EXPECT_EQ(r.payload["event"]["x"], 41);
    EXPECT_FALSE(r.payload["requestId"].get<std::string>().empty());
    std::int64_t deadline = std::stoll(r.payload["deadlineMs"].get<std::string>());
    EXPECT_GE(deadline, before + 5000);
    EXPECT_LE(deadline, util::now_ms() + 5000);
    EXPECT_EQ(r.payload["functionArn"], "arn:aws:lambda:local:000000000000:function:fn-test");
    EXPECT_EQ(r.payload["taskRoot"], h.opts.task_root_override.string());
    EXPECT_EQ(r.payload["cwd"], h.opts.task_root_override.string());
    EXPECT_EQ(r.payload["functionName"], "fn-test");
    EXPECT_EQ(r.payload["timeout"], "30");
    EXPECT_EQ(r.payload["memory"], "2048");
    // Unsandboxed: a private temp dir serves as HOME and TMPDIR.
    EXPECT_EQ(r.payload["home"], r.payload["tmpdir"]);
    EXPECT_NE(r.payload["tmpdir"], "/tmp");
    EXPECT_GT(r.init_ms, 0);
    EXPECT_GE(r.billed_ms, r.duration_ms);
    EXPECT_GE(r.billed_ms, 1);
    EXPECT_TRUE(fs::exists(h.opts.function_dir / "logs"));
}

TEST(FunctionHost, WarmEnvironmentServesTheNextInvocation) {
    Host h;
    auto a = h.invoke({{"mode", "echo"}});
    auto b = h.invoke({{"mode", "echo"}});
    ASSERT_FALSE(a.function_error);
    ASSERT_FALSE(b.function_error);
    EXPECT_EQ(a.payload["pid"], b.payload["pid"]);
    EXPECT_EQ(b.payload["served"], 2);
    EXPECT_GT(a.init_ms, 0);  // cold
    EXPECT_EQ(b.init_ms, 0);  // warm
    EXPECT_NE(a.payload["requestId"], b.payload["requestId"]);
}

// Polls until `n` calls have ended or `limit` passes; the completions in the order they came.
std::vector<InvokeCompletion> await_calls(Functions& fn, std::size_t n, milliseconds limit) {
    std::vector<InvokeCompletion> done;
    auto until = std::chrono::steady_clock::now() + limit;
    while (done.size() < n && std::chrono::steady_clock::now() < until) {
        for (auto& c : fn.poll(milliseconds(50))) done.push_back(std::move(c));
    }
    return done;
}

TEST(FunctionHost, NeverRunsMoreThanConcurrencyEnvironments) {
    Host h(2);
    Functions& fn = h.functions();
    std::set<int> pids;
    int cold = 0, errors = 0;
    std::set<CallId> ended;
    auto start = std::chrono::steady_clock::now();
    for (CallId id = 1; id <= 6; ++id) fn.start_invoke(id, {{"mode", "sleep"}, {"ms", 150}}, milliseconds(10000));
    EXPECT_EQ(fn.in_flight(), 6u);
    for (auto& c : await_calls(fn, 6, milliseconds(20000))) {
        EXPECT_TRUE(ended.insert(c.id).second) << "call " << c.id << " ended twice";
        if (!c.response || c.response->function_error) {
            ++errors;
            continue;
        }
        if (c.response->init_ms > 0) ++cold;
        pids.insert(c.response->payload["pid"].get<int>());
    }
    auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(ended.size(), 6u);
    EXPECT_EQ(fn.in_flight(), 0u);
    EXPECT_EQ(errors, 0);
    EXPECT_EQ(pids.size(), 2u);
    EXPECT_EQ(cold, 2);
    EXPECT_GE(elapsed, milliseconds(3 * 150));  // 6 calls of 150 ms on 2 environments
}

TEST(FunctionHost, ShutdownEndsEveryInFlightCallAsAFailure) {
    Host h(2);
    Functions& fn = h.functions();
    for (CallId id = 1; id <= 3; ++id) fn.start_invoke(id, {{"mode", "sleep"}, {"ms", 20000}}, milliseconds(30000));
    EXPECT_TRUE(fn.poll(milliseconds(300)).empty());  // all still running (or waiting)
    auto start = std::chrono::steady_clock::now();
    fn.shutdown();
    std::set<CallId> ended;
    for (auto& c : await_calls(fn, 3, milliseconds(5000))) {
        ended.insert(c.id);
        bool failed = !c.response || c.response->function_error;
        EXPECT_TRUE(failed) << "call " << c.id;
        std::string why = c.response ? c.response->error_message : c.response.error().message;
        EXPECT_NE(why.find("shut down"), std::string::npos) << why;
    }
    EXPECT_EQ(ended.size(), 3u);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(FunctionHost, DeadlineKillsTheRuntimeAndTheNextCallColdStarts) {
    Host h;
    auto start = std::chrono::steady_clock::now();
    auto slow = h.invoke({{"mode", "sleep"}, {"ms", 20000}}, milliseconds(300));
    EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(3000));
    ASSERT_TRUE(slow.function_error);
    EXPECT_EQ(slow.error_message, "Task timed out after 0.30 seconds");
    EXPECT_EQ(slow.payload["errorType"], "Sandbox.Timedout");
    EXPECT_GE(slow.duration_ms, 300);

    auto next = h.invoke({{"mode", "echo"}});
    ASSERT_FALSE(next.function_error) << next.error_message;
    EXPECT_GT(next.init_ms, 0);
    EXPECT_EQ(next.payload["served"], 1);
}

TEST(FunctionHost, TimedOutRuntimeIsKilled) {
    Host h;
    auto first = h.invoke({{"mode", "echo"}});
    int pid = first.payload["pid"].get<int>();
    auto slow = h.invoke({{"mode", "sleep"}, {"ms", 20000}}, milliseconds(200));
    ASSERT_TRUE(slow.function_error);
    EXPECT_FALSE(alive(pid));
}

TEST(FunctionHost, CrashIsAFunctionErrorAndTheHostRecovers) {
    Host h;
    auto crash = h.invoke({{"mode", "crash"}});
    ASSERT_TRUE(crash.function_error);
    EXPECT_EQ(crash.error_message, "Runtime exited with error: exit status 3");
    auto next = h.invoke({{"mode", "echo"}});
    EXPECT_FALSE(next.function_error) << next.error_message;
}

TEST(FunctionHost, InitErrorIsAFunctionError) {
    Host h;
    ASSERT_TRUE(util::write_file_atomic(h.opts.task_root_override / "init_error", "1"));
    auto r = h.invoke({{"mode", "echo"}});
    ASSERT_TRUE(r.function_error);
    EXPECT_EQ(r.error_message, "Runtime init error: fake init failure");
    EXPECT_EQ(r.payload["errorType"], "Fake.Init");
}

TEST(FunctionHost, HandlerErrorKeepsTheEnvironmentWarm) {
    Host h;
    auto err = h.invoke({{"mode", "error"}});
    ASSERT_TRUE(err.function_error);
    EXPECT_EQ(err.error_message, "fake handler failure");
    EXPECT_EQ(err.payload["errorType"], "Fake.Handler");
    auto next = h.invoke({{"mode", "echo"}});
    ASSERT_FALSE(next.function_error);
    EXPECT_EQ(next.payload["served"], 2);
}

TEST(FunctionHost, ResponsesOverSixMegabytesAreFunctionErrors) {
    Host h;
    auto r = h.invoke({{"mode", "big"}});
    ASSERT_TRUE(r.function_error);
    EXPECT_NE(r.error_message.find("exceeded maximum allowed payload size"), std::string::npos);
}

TEST(FunctionHost, ShutdownStopsWarmEnvironments) {
    Host h;
    auto r = h.invoke({{"mode", "echo"}});
    int pid = r.payload["pid"].get<int>();
    EXPECT_TRUE(alive(pid));
    h.functions().shutdown();
    EXPECT_FALSE(alive(pid));
    auto again = h.invoke({{"mode", "echo"}});
    EXPECT_FALSE(again.function_error);
    EXPECT_NE(again.payload["pid"], pid);
}

TEST(FunctionHost, SandboxGivesAPrivateTmpAndTheTaskRootAsCwd) {
    if (!bubblewrap_status()) GTEST_SKIP() << "bubblewrap does not work here";
    Host h(1, SandboxMode::on);
    auto r = h.invoke({{"mode", "echo"}});
    ASSERT_FALSE(r.function_error) << r.error_message;
    EXPECT_EQ(r.payload["home"], "/tmp");
    EXPECT_EQ(r.payload["tmpdir"], "/tmp");
    EXPECT_EQ(r.payload["cwd"], h.opts.task_root_override.string());
}

TEST(FunctionHost, NotDeployedIsAnErrorNamingDeploy) {
    Host h;
    h.opts.task_root_override.clear();
    auto r = h.functions().invoke({{"mode", "echo"}}, milliseconds(1000));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("hypertest deploy"), std::string::npos);
    EXPECT_FALSE(h.functions().update("sha256:nothex"));
    EXPECT_FALSE(h.functions().update("sha256:" + std::string(64, 'a')));  // not in the layout
}

// The real path: the project's layers are unpacked once per layer digest into the cache
// (outside the project) and shared between images.
TEST(FunctionHost, RunsTheDeployedImageFromUnpackedLayers) {
    Host h;
    h.opts.task_root_override.clear();
    fs::path project = h.tmp.path() / "project";
    ASSERT_TRUE(util::write_file_atomic(project / "node_modules/pkg/index.js", "pkg"));
    ASSERT_TRUE(util::write_file_atomic(project / "tests/a.spec.ts", "test"));
    auto layout = oci::ImageLayout::open(h.opts.image_layout_dir);
    ASSERT_TRUE(layout) << layout.error().message;
    auto image_with = [&](const std::string& spec_text) {
        EXPECT_TRUE(util::write_file_atomic(project / "tests/a.spec.ts", spec_text));
        oci::ImageSpec spec;
        spec.layers = {oci::build_layer(project, {"node_modules"}, *layout, {}, "var/task").value(),
                       oci::build_layer(project, {"tests"}, *layout, {}, "var/task").value()};
        spec.created_by = {"hypertest: dependencies", "hypertest: tests"};
        spec.env = {"HT_FAKE_IMAGE_VAR=from-image", "PATH=/image/only"};
        auto image = oci::write_image(*layout, spec, "fn-test");
        EXPECT_TRUE(image) << image.error().message;
        return std::make_pair(image->manifest_digest, spec.layers);
    };
    auto [digest, layers] = image_with("test");
    ASSERT_TRUE(h.functions().update(digest));
    auto st = h.functions().state();
    ASSERT_TRUE(st);
    EXPECT_EQ(st->image_digest, digest);
    fs::path tests_root = h.opts.cache_dir / "layers" / layers[1].digest.substr(7) / "var/task";
    fs::path deps_root = h.opts.cache_dir / "layers" / layers[0].digest.substr(7) / "var/task";
    EXPECT_EQ(util::read_file(tests_root / "tests/a.spec.ts").value(), "test");
    EXPECT_EQ(util::read_file(deps_root / "node_modules/pkg/index.js").value(), "pkg");

    auto r = h.invoke({{"mode", "echo"}});
    ASSERT_FALSE(r.function_error) << r.error_message;
    EXPECT_EQ(r.payload["taskRoot"], tests_root.string());
    EXPECT_EQ(r.payload["imageVar"], "from-image");

    // A changed spec: one new layer unpacked, the dependency layer re-used as it is.
    struct stat before {};
    ASSERT_EQ(::stat(deps_root.c_str(), &before), 0);
    auto [digest2, layers2] = image_with("changed");
    ASSERT_TRUE(h.functions().update(digest2));
    EXPECT_EQ(layers2[0].digest, layers[0].digest);
    std::size_t unpacked = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(h.opts.cache_dir / "layers")) ++unpacked;
    EXPECT_EQ(unpacked, 3u);
    struct stat after {};
    ASSERT_EQ(::stat(deps_root.c_str(), &after), 0);
    EXPECT_EQ(after.st_ino, before.st_ino);  // not unpacked again
    EXPECT_FALSE(fs::exists(h.opts.function_dir / "rootfs"));
}

// Built on a base image: the image holds its own runtime at its entrypoint, the host runs
// that one (not runner_path) with the project's directory /var/task as the task root.
void runs_the_image_runtime(SandboxMode sandbox) {
    Host h(1, sandbox);
    h.opts.task_root_override.clear();
    h.opts.runner_path = h.tmp.path() / "no-such-runner";
    fs::path project = h.tmp.path() / "project";
    fs::path base = h.tmp.path() / "base";
    ASSERT_TRUE(util::write_file_atomic(project / "tests/a.spec.ts", "test"));
    fs::create_directories(base / "usr/local/bin");
    fs::copy_file(HT_FAKE_RUNTIME, base / "usr/local/bin/hypertest-runner");
    auto layout = oci::ImageLayout::open(h.opts.image_layout_dir);
    ASSERT_TRUE(layout) << layout.error().message;
    oci::ImageSpec spec;
    spec.layers = {oci::build_layer(base, {"usr"}, *layout).value(),
                   oci::build_layer(project, {"tests"}, *layout, {}, "var/task").value()};
    spec.created_by = {"base", "hypertest: tests"};
    spec.entrypoint = {"/usr/local/bin/hypertest-runner"};
    spec.working_dir = "/var/task";
    auto image = oci::write_image(*layout, spec, "fn-test");
    ASSERT_TRUE(image) << image.error().message;
    ASSERT_TRUE(h.functions().update(image->manifest_digest));

    auto r = h.invoke({{"mode", "echo"}});
    ASSERT_FALSE(r.function_error) << r.error_message;
    // The base's layers together under rootfs/, the project's layer under layers/.
    fs::path rootfs = fs::canonical(
        h.opts.cache_dir / "rootfs" / util::sha256_hex(spec.layers[0].digest + "\n"));
    EXPECT_EQ(r.payload["exe"], (rootfs / "usr/local/bin/hypertest-runner").string());
    EXPECT_EQ(fs::path(r.payload["taskRoot"].get<std::string>()),
              h.opts.cache_dir / "layers" / spec.layers[1].digest.substr(7) / "var/task");
}

TEST(FunctionHost, RunsTheRuntimeInsideTheImage) { runs_the_image_runtime(SandboxMode::off); }

TEST(FunctionHost, RunsTheRuntimeInsideTheImageInTheSandbox) {
    if (!bubblewrap_status()) GTEST_SKIP() << "bubblewrap does not work here";
    runs_the_image_runtime(SandboxMode::on);
}

TEST(FunctionHost, ImageWithoutItsRuntimeUsesTheInstalledOne) {
    Host h;
    h.opts.task_root_override.clear();
    fs::path project = h.tmp.path() / "project";
    ASSERT_TRUE(util::write_file_atomic(project / "tests/a.spec.ts", "test"));
    auto layout = oci::ImageLayout::open(h.opts.image_layout_dir);
    ASSERT_TRUE(layout) << layout.error().message;
    oci::ImageSpec spec;
    spec.layers = {oci::build_layer(project, {"tests"}, *layout, {}, "var/task").value()};
    spec.entrypoint = {"/usr/local/bin/hypertest-runner"};  // not in the image
    spec.working_dir = "/var/task";
    auto image = oci::write_image(*layout, spec, "fn-test");
    ASSERT_TRUE(image) << image.error().message;
    ASSERT_TRUE(h.functions().update(image->manifest_digest));
    auto r = h.invoke({{"mode", "echo"}});
    ASSERT_FALSE(r.function_error) << r.error_message;
    EXPECT_EQ(r.payload["exe"], fs::canonical(HT_FAKE_RUNTIME).string());
}

TEST(ImageExecutable, OnlyExecutableFilesInsideTheRootCount) {
    TempDir tmp;
    fs::path root = tmp.path() / "rootfs";
    fs::create_directories(root / "bin");
    ASSERT_TRUE(util::write_file_atomic(root / "bin/runner", "#!/bin/sh\n"));
    ASSERT_TRUE(util::write_file_atomic(root / "bin/plain", "data"));
    ASSERT_TRUE(util::write_file_atomic(tmp.path() / "outside", "#!/bin/sh\n"));
    fs::permissions(root / "bin/runner", fs::perms::owner_exec, fs::perm_options::add);
    fs::permissions(tmp.path() / "outside", fs::perms::owner_exec, fs::perm_options::add);
    fs::create_symlink("runner", root / "bin/link");
    fs::create_symlink("../../outside", root / "bin/climbs");
    fs::create_symlink("/bin/sh", root / "bin/host");  // names the host's /bin/sh: refused
    fs::path canonical_root = fs::canonical(root);
    EXPECT_EQ(image_executable(root, "/bin/runner"), canonical_root / "bin/runner");
    EXPECT_EQ(image_executable(root, "/bin/link"), canonical_root / "bin/runner");
    EXPECT_EQ(image_executable(root, "/bin/plain"), fs::path());
    EXPECT_EQ(image_executable(root, "/bin/climbs"), fs::path());
    EXPECT_EQ(image_executable(root, "/bin/host"), fs::path());
    EXPECT_EQ(image_executable(root, "/bin/missing"), fs::path());
    EXPECT_EQ(image_executable(root, "bin/runner"), fs::path());
}

}  // namespace
}  // namespace hypertest::providers
