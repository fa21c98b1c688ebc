#include "core/cli.hpp"

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "core/commands.hpp"
#include "util/log.hpp"
#include "util/result.hpp"

namespace hypertest::core {
namespace {

void on_signal(int) {
    if (interrupted().exchange(true)) ::_exit(130);  // second Ctrl-C: leave at once
    static const char msg[] = "\ninterrupted: stopping, writing reports (Ctrl-C again to quit now)\n";
    (void)!::write(2, msg, sizeof msg - 1);
}

void install_signal_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
}

}  // namespace

int run_cli(int argc, char** argv) {
    CLI::App app{"hypertest: run end-to-end test suites in parallel in cloud functions, or locally"};
    app.set_version_flag("--version", std::string("hypertest ") + HYPERTEST_VERSION);
    app.require_subcommand(1);
    app.fallthrough();

    Options o;
    std::string config;
    bool quiet = false, json = false, verbose = false, plan = false;
    int concurrency = 0, retries = 0;
    app.add_option("-c,--config", config, "Config file (default: hypertest.config.{json,js,mjs} here or above)");
    app.add_flag("-q,--quiet", quiet, "Plain lines instead of the live view (automatic when stdout is not a TTY)");
    app.add_flag("--json", json, "JSON lines events on stdout");
    app.add_flag("--dry-run", o.dry_run, "Show what would happen; touch nothing");
    app.add_option("--concurrency", concurrency, "Invocations in flight at most (overrides the config)");
    app.add_option("-g,--grep", o.grep, "Only tests whose 'project file titles tags' match this regex");
    app.add_option("--grep-invert", o.grep_invert, "Skip tests that match this regex");
    app.add_option("--project", o.projects, "Only tests of this project (repeatable)");
    app.add_flag("-v,--verbose", verbose, "Diagnostic logging on stderr");
    app.add_option("--retries", retries, "Re-run failed tests up to N times in fresh invocations (overrides the config)");
    app.add_option("--max-failures", o.max_failures, "Stop after N failed tests across the run (default: the suite's maxFailures); the rest do not run (skipped)");
    app.add_flag("--fail-on-flaky", o.fail_on_flaky, "A flaky test (passed on a retry) fails the run");
    app.add_flag("--last-failed", o.last_failed, "Only the tests that failed or were cancelled in the last run");

    auto* init = app.add_subcommand("init", "Write a hypertest.config.json (asks on a TTY)");
    init->add_flag("-f,--force", o.force, "Overwrite an existing config");
    app.add_subcommand("doctor", "Check config, framework, provider; say how to fix each problem");
    app.add_subcommand("deploy", "Discover tests, build the image, point the function at it");
    app.add_subcommand("invoke", "Run the deployed tests in parallel and write the reports");
    app.add_subcommand("run", "Deploy when the local tests changed, then invoke");
    auto* list = app.add_subcommand("list", "List the tests that would run");
    list->add_flag("--plan", plan, "Show the planned batches, estimates and the lower bound");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        std::cerr << "run `hypertest --help` for usage\n";
        return 2;
    }
    if (!config.empty()) o.config_path = config;
    if (app.count("--concurrency")) o.concurrency = concurrency;
    if (app.count("--retries")) o.retries = retries;
    o.mode = json ? OutputMode::json : (quiet || !::isatty(1)) ? OutputMode::plain : OutputMode::tty;
    util::set_log_level(verbose ? util::LogLevel::debug : util::LogLevel::warn);
    install_signal_handlers();

    const std::string cmd = app.get_subcommands().front()->get_name();
    try {
        if (cmd == "init") return cmd_init(o);
        if (cmd == "doctor") return cmd_doctor(o);
        if (cmd == "deploy") return cmd_deploy(o);
        if (cmd == "invoke") return cmd_invoke(o);
        if (cmd == "run") return cmd_run(o);
        if (cmd == "list") return cmd_list(o, plan);
    } catch (const util::Fatal& e) {
        std::fflush(stdout);
        std::cerr << "hypertest: error: " << e.what() << "\n";
        return interrupted() ? 130 : e.exit_code;
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::cerr << "hypertest: internal error: " << e.what() << "\n";
        return 2;
    }
    return 2;
}

}  // namespace hypertest::core
