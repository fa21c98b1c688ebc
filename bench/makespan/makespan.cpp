// Makespan bench: a seeded heavy-tailed workload of sleep tests, planned by
// hypertest's own planner and by naive baselines, each executed for real through hypertest's
// dispatcher on the local function host (one sleep runtime per environment, up to the
// concurrency), timed by wall clock and compared with the lower bound.
//
//   ht_bench_makespan [--tests 1000] [--concurrency 100] [--startup-ms 2000] [--seed N]
//                     [--scale 0.1] [--strategies planner,per-test,round-robin,random]
//                     [--no-run]
//
// All durations (start-up included) are multiplied by --scale when executed; "scaled back"
// figures divide the measured wall time by it. Exit status 0 when every strategy ran and
// every test passed, 1 otherwise, 2 on bad usage.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>

#include "core/dispatch.hpp"
#include "core/planner.hpp"
#include "core/session.hpp"
#include "providers/local/function_host.hpp"
#include "providers/local/local_storage.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"
#include "util/temp_dir.hpp"
#include "util/time.hpp"
#include "workload.hpp"

using namespace hypertest;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

struct Args {
    bench::WorkloadSpec workload;
    int concurrency = 100;
    double startup_ms = 2000;
    double scale = 0.1;
    std::vector<std::string> strategies = {"planner", "per-test", "round-robin", "random"};
    bool run = true;
    std::string runtime = HT_BENCH_SLEEP_RUNTIME;
};

std::string num(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", x);
    return buf;
}

class QuietReporter : public core::Reporter {
public:
    void step(const std::string&, const std::string&, core::StepState, double, const std::string&) override {}
    void run_start(int, int, int, const std::string&, double) override {}
    void in_flight(int) override {}
    void test_end(const core::TestResult&) override {}
    void run_end(const core::RunSummary&) override {}
    void warn(const std::string& message) override { std::fprintf(stderr, "warning: %s\n", message.c_str()); }
    void info(const std::string& message) override { std::fprintf(stderr, "%s\n", message.c_str()); }
};

// The local function host (task root override: no image needed) with local storage.
class BenchProvider : public providers::Provider {
public:
    BenchProvider(const fs::path& dir, const Args& a, const fs::path& durations) : m_dir(dir) {
        fs::create_directories(dir / "storage");
        fs::create_directories(dir / "task");
        m_storage = providers::make_local_storage(dir / "storage");
        providers::FunctionHostOptions o;
        o.function_name = "bench";
        o.function_dir = dir / "function";
        o.image_layout_dir = dir / "image";
        o.runner_path = a.runtime;
        o.storage_root = dir / "storage";
        o.concurrency = a.concurrency;
        o.timeout_s = 900;
        o.sandbox = providers::SandboxMode::off;
        o.task_root_override = dir / "task";
        o.init_timeout = std::chrono::seconds(60);  // C processes starting on a small machine
        o.env = {{"HT_BENCH_DURATIONS", durations.string()},
                 {"HT_BENCH_STARTUP_MS", num(a.startup_ms)},
                 {"HT_BENCH_SCALE", num(a.scale)}};
        m_functions = providers::make_function_host(o);
    }
    std::string name() const override { return "local"; }
    providers::Storage& storage() override { return *m_storage; }
    providers::Functions& functions() override { return *m_functions; }
    fs::path image_layout_dir() const override { return m_dir / "image"; }
    std::vector<providers::DoctorCheck> doctor() override { return {}; }

private:
    fs::path m_dir;
    std::unique_ptr<providers::Storage> m_storage;
    std::unique_ptr<providers::Functions> m_functions;
};

struct Strategy {
    std::string name;
    std::vector<core::Batch> batches;  // in dispatch order
    double predicted_ms = 0;          // list schedule of that order, full scale
    double measured_ms = 0;           // wall clock, as executed (scaled)
    int passed = 0;
    int invocations = 0;
    int max_in_flight = 0;
    bool ran = false;
};

std::string secs(double ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f s", ms / 1000.0);
    return buf;
}

std::string ratio(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", x);
    return buf;
}

// Starts all C environments (cold starts are not what this bench measures): C warm-up
// invocations in flight at once, each holding its environment for a moment.
int warm_up(core::Session& s, int concurrency) {
    auto& fn = s.provider->functions();
    for (int i = 0; i < concurrency; ++i) {
        plugins::InvocationEvent ev;
        ev.run_id = "warmup";
        ev.invocation_id = "warmup-" + std::to_string(i);
        ev.plugin = "bench-sleep";
        ev.plugin_options = {{"warmup", true}, {"hold_ms", 3000}};
        fn.start_invoke(static_cast<providers::CallId>(i), plugins::to_json(ev), std::chrono::seconds(120));
    }
    int cold = 0, failed = 0;
    for (int ended = 0; ended < concurrency;) {
        for (auto& c : fn.poll(std::chrono::milliseconds(100))) {
            ++ended;
            const auto& r = c.response;
            if (!r || r->function_error) {
                ++failed;
                std::fprintf(stderr, "warm-up failed: %s\n", r ? r->error_message.c_str() : r.error().message.c_str());
            } else if (r->init_ms > 0) {
                ++cold;
            }
        }
    }
    return failed > 0 ? -1 : cold;
}

void execute(core::Session& s, const Args& a, const bench::Workload& w, Strategy& st) {
    core::DispatchInput in;
    in.run_id = util::make_run_id();
    in.batches = st.batches;
    in.concurrency = a.concurrency;
    in.function_timeout = std::chrono::seconds(900);
    in.estimates.durations_ms = w.durations_ms;
    std::map<std::string, core::TestResult> results;
    auto start = Clock::now();
    core::DispatchStats stats = core::dispatch(s, in, results);
    st.measured_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    st.ran = true;
    st.invocations = stats.invocations;
    st.max_in_flight = stats.max_in_flight;
    for (const auto& [id, r] : results) st.passed += r.status == core::Status::success ? 1 : 0;
}

std::vector<Strategy> make_strategies(const Args& a, const bench::Workload& w, core::Plan& plan) {
    std::vector<Strategy> out;
    for (const auto& name : a.strategies) {
        Strategy st{name, {}};
        if (name == "planner") {
            core::PlanInput in;
            in.tests = w.tests;
            in.concurrency = a.concurrency;
            in.durations_ms = w.durations_ms;
            in.startup_ms = a.startup_ms;
            plan = core::make_plan(in);
            st.batches = plan.batches;
        } else if (name == "per-test") {
            st.batches = bench::one_per_test(w);
        } else if (name == "round-robin") {
            st.batches = bench::round_robin(w, a.concurrency);
        } else if (name == "random") {
            st.batches = bench::random_shards(w, a.concurrency, a.workload.seed + 1);
        } else {
            throw util::Fatal("unknown strategy \"" + name + "\" (planner, per-test, round-robin, random)");
        }
        st.predicted_ms = bench::list_schedule_ms(st.batches, a.concurrency, a.startup_ms);
        out.push_back(std::move(st));
    }
    return out;
}

void print_table(const Args& a, const std::vector<Strategy>& all, double lb) {
    std::printf("\n| strategy | batches | predicted | measured (x%s) | scaled back | ratio to lower bound |\n",
                num(a.scale).c_str());
    std::printf("| --- | --- | --- | --- | --- | --- |\n");
    std::printf("| lower bound | - | %s | - | - | 1.000 |\n", secs(lb).c_str());
    for (const auto& st : all) {
        double back = st.ran ? st.measured_ms / a.scale : 0;
        std::printf("| %s | %zu | %s | %s | %s | %s |\n", st.name.c_str(), st.batches.size(),
                    secs(st.predicted_ms).c_str(), st.ran ? secs(st.measured_ms).c_str() : "-",
                    st.ran ? secs(back).c_str() : "-",
                    st.ran ? ratio(back / lb).c_str() : ("(" + ratio(st.predicted_ms / lb) + " predicted)").c_str());
    }
}

int run_bench(const Args& a) {
    bench::Workload w = bench::make_workload(a.workload);
    bench::Stats ws = bench::describe(w, a.workload);
    std::printf("workload: %d tests, seed %llu, lognormal median %s sigma %s, clipped to [%s, %s] ms\n",
                a.workload.tests, static_cast<unsigned long long>(a.workload.seed),
                num(a.workload.median_ms).c_str(), num(a.workload.sigma).c_str(),
                num(a.workload.min_ms).c_str(), num(a.workload.max_ms).c_str());
    std::printf("durations: sum %s, mean %s, median %s, p90 %s, p99 %s, max %s (%d at the cap)\n",
                secs(ws.sum).c_str(), secs(ws.mean).c_str(), secs(ws.median).c_str(), secs(ws.p90).c_str(),
                secs(ws.p99).c_str(), secs(ws.max).c_str(), ws.at_cap);
    double lb = bench::lower_bound_ms(w, a.concurrency, a.startup_ms);
    std::printf("concurrency %d, start-up %s per invocation, scale %s\n", a.concurrency,
                secs(a.startup_ms).c_str(), num(a.scale).c_str());
    std::printf("lower bound: %s = max(longest + start-up %s, (sum + %d x start-up) / %d = %s)\n",
                secs(lb).c_str(), secs(ws.max + a.startup_ms).c_str(),
                std::min<int>(a.concurrency, a.workload.tests), a.concurrency,
                secs((ws.sum + std::min<int>(a.concurrency, a.workload.tests) * a.startup_ms) / a.concurrency).c_str());
    core::Plan plan;
    auto all = make_strategies(a, w, plan);
    if (!plan.batches.empty()) {
        std::printf("planner: %zu batches, its own estimate %s, its lower bound %s\n", plan.batches.size(),
                    secs(plan.makespan_ms).c_str(), secs(plan.lower_bound_ms).c_str());
    }
    bool ok = true;
    if (a.run) {
        util::TempDir tmp("ht-bench-makespan");
        if (tmp.path().empty()) throw util::Fatal("cannot create a temp dir");
        util::Json durations(w.durations_ms);
        if (auto st = util::write_file_atomic(tmp.path() / "durations.json", durations.dump()); !st)
            throw util::Fatal(st.error().message);
        core::Session s;
        s.config.runner_name = "bench-sleep";
        s.reporter = std::make_unique<QuietReporter>();
        s.provider = std::make_unique<BenchProvider>(tmp.path(), a, tmp.path() / "durations.json");
        s.concurrency = a.concurrency;
        auto t0 = Clock::now();
        int cold = warm_up(s, a.concurrency);
        if (cold < 0) throw util::Fatal("the warm-up invocations failed (see above)");
        std::printf("warm-up: %d environments started in %s\n", cold,
                    secs(std::chrono::duration<double, std::milli>(Clock::now() - t0).count()).c_str());
        for (auto& st : all) {
            if (core::interrupted()) break;
            std::fprintf(stderr, "running %s (%zu batches, predicted %s x %s)...\n", st.name.c_str(),
                         st.batches.size(), secs(st.predicted_ms).c_str(), num(a.scale).c_str());
            execute(s, a, w, st);
            std::printf("%s: %zu batches, %d invocations, up to %d in flight, %d/%zu passed, %s measured\n",
                        st.name.c_str(), st.batches.size(), st.invocations, st.max_in_flight, st.passed,
                        w.tests.size(), secs(st.measured_ms).c_str());
            ok = ok && st.passed == static_cast<int>(w.tests.size());
        }
        s.provider->functions().shutdown();
        ok = ok && !core::interrupted();
    }
    print_table(a, all, lb);
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    Args a;
    CLI::App app{"hypertest makespan bench: planner vs lower bound and naive sharding"};
    app.add_option("--tests", a.workload.tests, "number of tests")->check(CLI::Range(1, 100000));
    app.add_option("--seed", a.workload.seed, "workload seed");
    app.add_option("--median-ms", a.workload.median_ms, "median test duration")->check(CLI::PositiveNumber);
    app.add_option("--sigma", a.workload.sigma, "lognormal sigma (tail weight)")->check(CLI::NonNegativeNumber);
    app.add_option("--max-ms", a.workload.max_ms, "longest test (the tail is clipped)")->check(CLI::PositiveNumber);
    app.add_option("--concurrency", a.concurrency, "concurrent invocations")->check(CLI::Range(1, 1000));
    app.add_option("--startup-ms", a.startup_ms, "start-up per invocation")->check(CLI::NonNegativeNumber);
    app.add_option("--scale", a.scale, "time scale for execution (0.1: ten times faster)")
        ->check(CLI::Range(0.001, 10.0));
    app.add_option("--strategies", a.strategies, "planner, per-test, round-robin, random")->delimiter(',');
    app.add_option("--runtime", a.runtime, "the sleep runtime executable");
    bool no_run = false;
    app.add_flag("--no-run", no_run, "only plan and predict; execute nothing");
    CLI11_PARSE(app, argc, argv);
    a.run = !no_run;
    std::signal(SIGINT, [](int) { core::interrupted() = true; });
    std::signal(SIGTERM, [](int) { core::interrupted() = true; });
    util::set_log_level(util::LogLevel::warn);
    try {
        return run_bench(a);
    } catch (const util::Fatal& e) {
        std::fprintf(stderr, "ht_bench_makespan: %s\n", e.what());
        return 2;
    }
}
