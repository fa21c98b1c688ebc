// Client overhead bench: N one-test batches through hypertest's dispatcher and the aws
// provider (Lambda Invoke over SigV4) against a function that answers at once (the AWS emulator's
// builtinAnswer "hypertest-passed"), so what is measured is the client: building events,
// signing, HTTP, parsing answers and dispatch bookkeeping.
//
//   ht_bench_invoke_overhead [--invocations 2000] [--concurrency 100] [--function bench-instant]
//                            [--region us-east-1]
//
// The endpoint and credentials come from the environment as for hypertest itself
// (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY). Prints one JSON line:
// {client, invocations, concurrency, passed, wall_s, cpu_user_s, cpu_sys_s, cpu_s, loop_cpu_s,
//  max_rss_mb, ...}: cpu_s is the whole process (getrusage RUSAGE_SELF user + sys), loop_cpu_s
// only the dispatch, max_rss_mb is ru_maxrss. Exit 0 when every test passed, 1 otherwise,
// 2 on bad usage.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>

#include "core/dispatch.hpp"
#include "core/session.hpp"
#include "makespan/workload.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/time.hpp"

using namespace hypertest;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
    int invocations = 2000;
    int concurrency = 100;
    std::string function = "bench-instant";
    std::string region = "us-east-1";
};

struct Usage {
    double user_s = 0;
    double sys_s = 0;
    double max_rss_mb = 0;
};

Usage usage_now() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return {secs(ru.ru_utime), secs(ru.ru_stime), static_cast<double>(ru.ru_maxrss) / 1024.0};  // KB on Linux
}

// The aws provider as `hypertest invoke` makes it; the bucket and registry are never contacted
// by Invoke but must be set for the provider to be usable.
std::unique_ptr<providers::Provider> make_aws(const Args& a) {
    providers::ProviderContext ctx;
    ctx.project_dir = std::filesystem::current_path();
    ctx.function_name = a.function;
    ctx.concurrency = a.concurrency;
    ctx.config = {{"name", "aws"},
                  {"region", a.region},
                  {"bucketName", "ht-bench-unused"},
                  {"ecrRegistry", "123456789012.dkr.ecr." + a.region + ".amazonaws.com/ht-bench-unused"}};
    return providers::make_provider("aws", ctx);
}

int run_bench(const Args& a) {
    bench::WorkloadSpec spec;
    spec.tests = a.invocations;
    bench::Workload w = bench::make_workload(spec);

    core::Session s;
    s.config.runner_name = "bench";
    FILE* devnull = std::fopen("/dev/null", "w");
    if (!devnull) throw util::Fatal("cannot open /dev/null");
    s.reporter = core::make_reporter(core::OutputMode::plain, devnull);  // a real run reports too
    s.provider = make_aws(a);
    s.concurrency = a.concurrency;

    core::DispatchInput in;
    in.run_id = util::make_run_id();
    in.batches = bench::one_per_test(w);
    in.concurrency = a.concurrency;
    in.function_timeout = std::chrono::seconds(60);
    in.estimates.durations_ms = w.durations_ms;
    std::map<std::string, core::TestResult> results;

    Usage before = usage_now();
    auto start = Clock::now();
    core::DispatchStats stats = core::dispatch(s, in, results);
    double wall_s = std::chrono::duration<double>(Clock::now() - start).count();
    Usage after = usage_now();
    s.provider->functions().shutdown();

    int passed = 0;
    std::string first_failure;
    for (const auto& [id, r] : results) {
        if (r.status == core::Status::success) {
            ++passed;
        } else if (first_failure.empty()) {
            first_failure = r.error_message;
        }
    }
    util::Json line = {{"client", "hypertest"},
                       {"invocations", stats.invocations},
                       {"concurrency", a.concurrency},
                       {"tests", static_cast<int>(results.size())},
                       {"passed", passed},
                       {"wall_s", wall_s},
                       {"cpu_user_s", after.user_s},
                       {"cpu_sys_s", after.sys_s},
                       {"cpu_s", after.user_s + after.sys_s},
                       {"loop_cpu_s", after.user_s + after.sys_s - before.user_s - before.sys_s},
                       {"max_rss_mb", after.max_rss_mb},
                       {"max_in_flight", stats.max_in_flight},
                       {"call_retries", stats.call_retries},
                       {"throttles", stats.throttles}};
    std::printf("%s\n", line.dump().c_str());
    std::fclose(devnull);
    if (passed != a.invocations || stats.invocations != a.invocations) {
        std::fprintf(stderr, "ht_bench_invoke_overhead: %d of %d tests passed in %d invocations%s%s\n", passed,
                     a.invocations, stats.invocations, first_failure.empty() ? "" : "; first failure: ",
                     first_failure.c_str());
        return 1;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Args a;
    CLI::App app{"hypertest client overhead bench: N one-test invocations through the aws provider"};
    app.add_option("--invocations", a.invocations, "one-test batches to dispatch")->check(CLI::Range(1, 1000000));
    app.add_option("--concurrency", a.concurrency, "invocations in flight")->check(CLI::Range(1, 1000));
    app.add_option("--function", a.function, "the Lambda function (answers at once)");
    app.add_option("--region", a.region, "the function's region");
    CLI11_PARSE(app, argc, argv);
    std::signal(SIGINT, [](int) { core::interrupted() = true; });
    std::signal(SIGTERM, [](int) { core::interrupted() = true; });
    util::set_log_level(util::LogLevel::warn);
    try {
        return run_bench(a);
    } catch (const util::Fatal& e) {
        std::fprintf(stderr, "ht_bench_invoke_overhead: %s\n", e.what());
        return 2;
    }
}
