#include "runner/invocation_handler.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "util/temp_dir.hpp"
#include "util/fs.hpp"
#include "util/time.hpp"

namespace hypertest::runner {
namespace {

using util::TempDir;

// Runner side only: records the request and writes a screenshot per test in the work dir.
class FakePlugin : public plugins::Plugin {
public:
    std::vector<plugins::BatchRequest> requests;
    std::vector<bool> work_dir_existed;
    std::string error;
    std::string log;

    std::string name() const override { return "fake"; }
    util::Result<plugins::Discovery> discover(const plugins::DiscoverRequest&) override {
        return util::make_error("not used");
    }
    util::Result<plugins::LayerInputs> layer_inputs(const fs::path&, const Json&) override {
        return util::make_error("not used");
    }
    util::Status merge_reports(const fs::path&, const fs::path&, const fs::path&) override {
        return util::make_error("not used");
    }
    std::vector<Json> init_option_choices(const fs::path&) override { return {}; }
    plugins::BatchOutcome run_batch(const plugins::BatchRequest& req) override {
        requests.push_back(req);
        work_dir_existed.push_back(fs::is_directory(req.work_dir));
        plugins::BatchOutcome out;
        for (const auto& t : req.tests) {
            plugins::TestOutcome o;
            o.id = t.id;
            o.status = "failed";
            o.error_message = std::string(40000, 'm');
            fs::path shot = req.work_dir / (t.id + ".png");
            EXPECT_TRUE(util::write_file_atomic(shot, "png"));
            o.attachments.push_back({"screenshot", shot, "image/png"});
            out.outcomes.push_back(o);
        }
        out.error = error;
        out.log_tail = log;
        return out;
    }
};

struct Fixture {
    TempDir tmp;
    FakePlugin* plugin = nullptr;
    int plugins_made = 0;
    std::unique_ptr<InvocationHandler> handler;

    Fixture() {
        HandlerConfig c;
        c.task_root = tmp.path() / "task";
        c.tmp_root = tmp.path() / "tmp";
        c.clean_tmp_root = true;
        c.init_ms = 33;
        c.make_plugin = [this](const std::string& name) -> std::unique_ptr<plugins::Plugin> {
            if (name != "fake") throw util::Fatal("unknown test runner \"" + name + "\"");
            ++plugins_made;
            auto p = std::make_unique<FakePlugin>();
            plugin = p.get();
            return p;
        };
        handler = std::make_unique<InvocationHandler>(c);
    }

    Json event(std::int64_t deadline_ms = 0) const {
        plugins::InvocationEvent e;
        e.run_id = "r1";
        e.invocation_id = "i1";
        e.plugin = "fake";
        e.deadline_ms = deadline_ms;
        e.storage.root = (tmp.path() / "store").string();
        plugins::TestCase t;
        t.id = "t1";
        t.file = "a.spec.ts";
        e.tests = {t};
        return plugins::to_json(e);
    }
};

TEST(InvocationHandler, RunsBatchUploadsAndAnswers) {
    Fixture f;
    ASSERT_TRUE(util::write_file_atomic(f.tmp.path() / "tmp/leftover/file", "x"));
    auto answer = (*f.handler)(f.event(), Context{"req", 5000, "", ""});
    ASSERT_TRUE(answer) << answer.error().message;
    auto result = plugins::invocation_result_from_json(*answer);
    ASSERT_TRUE(result) << result.error().message;
    ASSERT_EQ(result->outcomes.size(), 1u);
    EXPECT_EQ(result->outcomes[0].artifact_keys,
              (std::vector<std::string>{"r1/t1/attempt-1/t1.png"}));
    EXPECT_TRUE(fs::exists(f.tmp.path() / "store/r1/t1/attempt-1/t1.png"));
    EXPECT_LT(result->outcomes[0].error_message.size(), 17000u);  // truncated
    EXPECT_TRUE(result->cold_start);
    EXPECT_EQ(result->init_ms, 33);
    EXPECT_EQ(result->runner_version, HYPERTEST_VERSION);
    EXPECT_EQ(result->invocation_id, "i1");

    const auto& req = f.plugin->requests.at(0);
    EXPECT_EQ(req.task_root, f.tmp.path() / "task");
    EXPECT_EQ(req.deadline_ms, 5000);  // the header's, as the event has none
    EXPECT_TRUE(f.plugin->work_dir_existed.at(0));
    EXPECT_EQ(req.work_dir.parent_path(), f.tmp.path() / "tmp");
    EXPECT_FALSE(fs::exists(req.work_dir));
    EXPECT_TRUE(fs::is_empty(f.tmp.path() / "tmp"));  // leftovers cleaned between invocations
}

TEST(InvocationHandler, SecondInvocationIsWarmAndReusesThePlugin) {
    Fixture f;
    ASSERT_TRUE((*f.handler)(f.event(9000), Context{"a", 7000, "", ""}));
    auto answer = (*f.handler)(f.event(6000), Context{"b", 7000, "", ""});
    ASSERT_TRUE(answer);
    EXPECT_FALSE((*answer)["runner"]["coldStart"].get<bool>());
    EXPECT_EQ((*answer)["runner"]["initMs"], 0);
    EXPECT_EQ(f.plugins_made, 1);
    EXPECT_EQ(f.plugin->requests.at(0).deadline_ms, 7000);  // min(event, header)
    EXPECT_EQ(f.plugin->requests.at(1).deadline_ms, 6000);
}

TEST(InvocationHandler, MalformedEventAndUnknownPluginAreErrors) {
    Fixture f;
    auto bad = (*f.handler)(Json{{"version", 1}}, Context{});
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("malformed invocation event"), std::string::npos);
    Json e = f.event();
    e["plugin"] = "nope";
    auto unknown = (*f.handler)(e, Context{});
    ASSERT_FALSE(unknown);
    EXPECT_NE(unknown.error().message.find("nope"), std::string::npos);
}

TEST(InvocationHandler, BatchErrorAndUploadProblemsAreInTheAnswer) {
    Fixture f;
    Json e = f.event();
    e["storage"]["kind"] = "s3";
    ASSERT_TRUE((*f.handler)(f.event(), Context{}));  // creates the plugin
    f.plugin->error = "playwright crashed";
    f.plugin->log = std::string(100000, 'l') + "END";
    auto answer = (*f.handler)(e, Context{});
    ASSERT_TRUE(answer);
    EXPECT_EQ((*answer)["error"], "playwright crashed");
    std::string tail = (*answer)["logTail"];
    EXPECT_LT(tail.size(), 17000u);
    EXPECT_NE(tail.find("no bucket"), std::string::npos);  // the s3 sink was refused
    EXPECT_NE(tail.find("END"), std::string::npos);            // the tail, not the head
}

TEST(FitResult, ShrinksLargeResultsUnderTheLimit) {
    plugins::InvocationResult r;
    for (int i = 0; i < 200; ++i) {
        plugins::TestOutcome o;
        o.id = "t" + std::to_string(i);
        o.status = "failed";
        o.error_message = std::string(50000, 'e');
        o.error_stack = std::string(50000, 's');
        r.outcomes.push_back(o);
    }
    fit_result(r, 1024 * 1024);
    EXPECT_LE(plugins::to_json(r).dump().size(), 1024u * 1024u);
    EXPECT_EQ(r.outcomes.size(), 200u);
    EXPECT_FALSE(r.outcomes[0].error_message.empty());
}

}  // namespace
}  // namespace hypertest::runner
