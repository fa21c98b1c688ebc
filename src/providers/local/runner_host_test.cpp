// The real hypertest-runner served by the real local function host.
#include <gtest/gtest.h>
#include <stdlib.h>

#include "util/temp_dir.hpp"
#include "plugins/model.hpp"
#include "providers/local/environment.hpp"
#include "providers/local/function_host.hpp"
#include "util/fs.hpp"
#include "util/process.hpp"

namespace hypertest::providers {
namespace {

using std::chrono::milliseconds;

using util::TempDir;

TEST(RunnerBinary, PrintsItsVersion) {
    util::ProcessSpec spec;
    spec.argv = {HT_RUNNER_BINARY, "--version"};
    auto r = util::run_process(spec);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->exit_code, 0);
    EXPECT_EQ(r->out, std::string("hypertest-runner ") + HYPERTEST_VERSION + "\n");
}

TEST(RunnerBinary, ExplainsAMissingRuntimeApi) {
    util::ProcessSpec spec;
    spec.argv = {HT_RUNNER_BINARY};
    spec.env_unset = {"AWS_LAMBDA_RUNTIME_API"};
    auto r = util::run_process(spec);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->exit_code, 2);
    EXPECT_NE(r->err.find("AWS_LAMBDA_RUNTIME_API"), std::string::npos);
}

TEST(RunnerOnHost, BadEventsAreFunctionErrorsAndTheRunnerStaysWarm) {
    TempDir dir;
    const fs::path& tmp = dir.path();
    FunctionHostOptions o;
    o.function_name = "runner-test";
    o.function_dir = tmp / "fn";
    o.image_layout_dir = tmp / "image";
    o.runner_path = HT_RUNNER_BINARY;
    o.storage_root = tmp / "storage";
    o.sandbox = SandboxMode::off;
    o.task_root_override = tmp / "task";
    fs::create_directories(o.task_root_override);
    {
        auto fn = make_function_host(o);
        auto malformed = fn->invoke({{"version", 1}}, milliseconds(10000));
        ASSERT_TRUE(malformed);
        ASSERT_TRUE(malformed->function_error);
        EXPECT_NE(malformed->error_message.find("malformed invocation event"), std::string::npos)
            << malformed->error_message;
        EXPECT_EQ(malformed->payload["errorType"], "Runtime.HandlerError");
        EXPECT_GT(malformed->init_ms, 0);

        auto unknown = fn->invoke({{"version", 1}, {"runId", "r"}, {"plugin", "playwrite"}},
                                  milliseconds(10000));
        ASSERT_TRUE(unknown);
        ASSERT_TRUE(unknown->function_error);
        EXPECT_NE(unknown->error_message.find("did you mean \"playwright\""), std::string::npos)
            << unknown->error_message;
        EXPECT_EQ(unknown->init_ms, 0);  // the same runtime answered: warm
    }
}

// The runner empties /tmp between invocations; in the sandbox the host's storage (and task
// root) may be mounted below /tmp and must survive that.
TEST(RunnerOnHost, SandboxedRunnerCleansTmpWithoutTouchingMountedStorage) {
    if (!bubblewrap_status()) GTEST_SKIP() << "bubblewrap does not work here";
    TempDir dir;
    const fs::path& tmp = dir.path();
    FunctionHostOptions o;
    o.function_name = "runner-test";
    o.function_dir = tmp / "fn";
    o.image_layout_dir = tmp / "image";
    o.runner_path = HT_RUNNER_BINARY;
    o.storage_root = tmp / "storage";
    o.sandbox = SandboxMode::on;
    o.task_root_override = tmp / "task";
    fs::create_directories(o.task_root_override);
    ASSERT_TRUE(util::write_file_atomic(o.storage_root / "keep/me.txt", "precious"));
    plugins::InvocationEvent e;
    e.run_id = "r";
    e.invocation_id = "i";
    e.plugin = "playwright";  // fails to run in an empty task root; the answer still comes
    e.storage.root = o.storage_root.string();
    {
        auto fn = make_function_host(o);
        auto r = fn->invoke(plugins::to_json(e), milliseconds(20000));
        ASSERT_TRUE(r);
        EXPECT_FALSE(r->function_error) << r->error_message;
        EXPECT_EQ(r->payload["invocationId"], "i");
    }
    EXPECT_EQ(util::read_file(o.storage_root / "keep/me.txt").value(), "precious");
}

}  // namespace
}  // namespace hypertest::providers
