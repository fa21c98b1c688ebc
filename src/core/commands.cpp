#include "core/commands.hpp"

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <set>
#include <thread>

#include "core/deploy.hpp"
#include "core/invoke.hpp"
#include "plugins/plugin.hpp"
#include "util/fs.hpp"
#include "util/process.hpp"
#include "util/strings.hpp"

namespace hypertest::core {
namespace {

using util::Fatal;

std::string ask(const std::string& question, const std::string& fallback) {
    std::cout << question << " [" << fallback << "]: " << std::flush;
    std::string line;
    if (!std::getline(std::cin, line)) return fallback;
    line = util::trim(line);
    return line.empty() ? fallback : line;
}

Manifest require_manifest(Session& s) {
    auto m = read_manifest(s);
    if (!m) {
        // A function that cannot be used (missing, wrong kind, no access) is the cause to name.
        if (auto state = s.provider->functions().state(); !state) {
            throw Fatal(state.error().message + "; then run `hypertest deploy` (nothing is deployed yet)");
        }
        throw Fatal("nothing is deployed for function \"" + s.config.function_name +
                    "\" (no manifest at " + s.provider->storage().url(manifest_key(s.config)) +
                    "): run `hypertest deploy` first, or `hypertest run` to do both");
    }
    return std::move(*m);
}

std::string seconds(double ms) { return util::format_duration(ms / 1000.0); }

// Adds hypertest's state and output files to the project's .gitignore (created when missing);
// returns the lines added.
std::vector<std::string> ignore_outputs(const fs::path& project_dir) {
    const std::vector<std::string> wanted = {".hypertest/", "hypertest.results.json",
                                             "hypertest.junit.xml", "hypertest-report/"};
    fs::path file = project_dir / ".gitignore";
    std::error_code ec;
    std::string text;
    if (fs::exists(file, ec)) {
        auto r = util::read_file(file);
        if (!r) return {};
        text = *r;
    }
    std::set<std::string> have;
    for (const auto& line : util::split(text, '\n')) have.insert(util::trim(line));
    std::vector<std::string> added;
    for (const auto& w : wanted) {
        std::string bare = w.back() == '/' ? w.substr(0, w.size() - 1) : w;
        if (!have.count(w) && !have.count(bare) && !have.count("/" + w) && !have.count("/" + bare))
            added.push_back(w);
    }
    if (added.empty()) return {};
    if (!text.empty() && text.back() != '\n') text += "\n";
    text += "# hypertest\n" + util::join(added, "\n") + "\n";
    if (!util::write_file_atomic(file, text)) return {};
    return added;
}

}  // namespace

int cmd_init(const Options& o) {
    fs::path cwd = fs::current_path();
    fs::path target = o.config_path ? fs::absolute(*o.config_path) : cwd / "hypertest.config.json";
    bool tty = ::isatty(0) && ::isatty(1);
    if (fs::exists(target) && !o.force) {
        if (!tty || util::trim(ask(target.filename().string() + " exists. Overwrite? (y/N)", "N")) != "y") {
            throw Fatal(target.string() + " already exists: keep it, or run `hypertest init --force` to replace it");
        }
    }
    Json config = {{"testRunner", {{"name", "playwright"}}}};
    auto choices = plugins::make_plugin("playwright", std::shared_ptr<util::ProcessRunner>(util::make_process_runner()))
                       ->init_option_choices(cwd);
    if (!choices.empty()) {
        std::size_t pick = 0;
        if (tty && choices.size() > 1) {
            for (std::size_t i = 0; i < choices.size(); ++i)
                std::cout << "  " << i + 1 << ") " << choices[i].dump() << "\n";
            std::string a = ask("Which test runner settings (1-" + std::to_string(choices.size()) + ")", "1");
            pick = std::min(choices.size(), static_cast<std::size_t>(std::max(1, std::atoi(a.c_str())))) - 1;
        }
        config["testRunner"].update(choices[pick]);
    }
    int concurrency = static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
    std::string provider = "local";
    if (tty) {
        provider = ask("Cloud provider (local)", provider);
        std::string c = ask("Concurrency", std::to_string(concurrency));
        try {
            concurrency = std::stoi(c);
        } catch (...) {
            throw Fatal("concurrency must be a whole number (got \"" + c + "\")");
        }
        if (concurrency < 1) throw Fatal("concurrency must be at least 1");
    }
    config["concurrency"] = concurrency;
    if (provider != "local") config["cloudProvider"] = {{"name", provider}};
    if (o.dry_run) {
        std::cout << "dry run: would write " << target.string() << ":\n" << config.dump(2) << "\n";
        return 0;
    }
    if (auto st = util::write_file_atomic(target, config.dump(2) + "\n"); !st) throw Fatal(st.error().message);
    std::cout << "wrote " << target.string() << "\n";
    if (auto added = ignore_outputs(target.parent_path()); !added.empty())
        std::cout << "added to .gitignore: " << util::join(added, " ") << "\n";
    std::cout << "next: `hypertest run` (deploys, then runs the tests)\n";
    return 0;
}

int cmd_doctor(const Options& o) {
    std::vector<providers::DoctorCheck> checks;
    std::unique_ptr<Session> s;
    try {
        s = open_session(o);
        checks.push_back({"config", true, s->config.file.string(), ""});
    } catch (const Fatal& e) {
        checks.push_back({"config", false, e.what(), "fix the config file, or run `hypertest init`"});
    }
    if (s) {
        auto d = s->plugin->discover({s->config.project_dir, s->config.runner_options});
        if (d) {
            checks.push_back({"tests", !d->tests.empty(),
                              std::to_string(d->tests.size()) + " tests found (" +
                                  s->config.runner_name + " " + d->framework_version + ")",
                              "add tests, or check the framework's testDir/testMatch"});
        } else {
            std::string named = util::json_get<std::string>(s->config.runner_options, "config", "");
            std::string cfg = s->config.file.filename().string();
            checks.push_back({"tests", false, d.error().message,
                              named.empty()
                                  ? "fix the test runner's config at the project's root, or set "
                                    "testRunner.config in " + cfg + " to the config your suite uses"
                                  : "fix " + named + " (testRunner.config in " + cfg +
                                        " names it), or point testRunner.config at the right file"});
        }
        for (auto& c : s->provider->doctor()) checks.push_back(std::move(c));
    }
    bool ok = true;
    for (const auto& c : checks) {
        ok = ok && c.ok;
        std::cout << (c.ok ? "✓ " : "✕ ") << c.name << ": " << c.detail << "\n";
        if (!c.ok && !c.fix.empty()) std::cout << "    fix: " << c.fix << "\n";
    }
    return ok ? 0 : 2;
}

int cmd_deploy(const Options& o) {
    auto s = open_session(o);
    Manifest m = deploy(*s, false);
    if (!o.dry_run) {
        s->reporter->info("deployed " + std::to_string(m.tests.size()) + " tests as " + m.image_digest);
    }
    return 0;
}

int cmd_invoke(const Options& o) {
    auto s = open_session(o);
    Manifest m = require_manifest(*s);
    check_drift(*s, m);
    return invoke(*s, m);
}

int cmd_run(const Options& o) {
    auto s = open_session(o);
    Manifest m = deploy(*s, true);
    return invoke(*s, m);
}

int cmd_list(const Options& o, bool show_plan) {
    auto s = open_session(o);
    auto d = s->plugin->discover({s->config.project_dir, s->config.runner_options})
                 .take_or_fatal("test discovery failed");
    auto tests = select_tests(d.tests, o);
    if (o.mode == OutputMode::json) {
        for (const auto& t : tests) std::cout << plugins::to_json(t).dump() << "\n";
    } else if (!show_plan) {
        for (const auto& t : tests) {
            std::cout << t.display_name() << (t.tags.empty() ? "" : "  " + util::join(t.tags, " "))
                      << "\n";
        }
        std::cout << tests.size() << " tests\n";
    }
    if (!show_plan) return 0;
    Plan plan = plan_for(*s, tests);
    if (o.mode == OutputMode::json) {
        Json batches = Json::array();
        for (const auto& b : plan.batches) {
            Json ids = Json::array();
            for (const auto& t : b.tests) ids.push_back(t.id);
            batches.push_back({{"estimateMs", b.estimate_ms}, {"tests", ids}});
        }
        std::cout << Json{{"batches", batches}, {"lowerBoundMs", plan.lower_bound_ms},
                          {"makespanMs", plan.makespan_ms}, {"startupMs", plan.startup_ms},
                          {"concurrency", s->concurrency}}
                         .dump()
                  << "\n";
        return 0;
    }
    int i = 0;
    for (const auto& b : plan.batches) {
        std::cout << "batch " << ++i << " · " << b.tests.size() << " tests · ~" << seconds(b.estimate_ms) << "\n";
        for (const auto& t : b.tests) std::cout << "    " << t.display_name() << "\n";
    }
    std::cout << tests.size() << " tests in " << plan.batches.size() << " batches · concurrency "
              << s->concurrency << " · estimated " << seconds(plan.makespan_ms) << " · lower bound "
              << seconds(plan.lower_bound_ms) << " · start-up " << seconds(plan.startup_ms)
              << " per invocation\n";
    return 0;
}

}  // namespace hypertest::core
