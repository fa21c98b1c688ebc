// The makespan bench's runtime: a Lambda custom runtime (Runtime API client) that "runs" each
// batch by sleeping the start-up plus its tests' durations, scaled, and answers a valid
// plugins::InvocationResult with every test passed.
//
// Environment (set through the function host):
//   HT_BENCH_DURATIONS   JSON file: {"<test id>": milliseconds, ...}
//   HT_BENCH_STARTUP_MS  per-invocation start-up, milliseconds (default 2000)
//   HT_BENCH_SCALE       factor applied to every sleep (default 1)
// An event with plugin_options {"warmup": true, "hold_ms": N} sleeps N ms (unscaled) and answers
// without outcomes.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>

#include "plugins/model.hpp"
#include "util/fs.hpp"
#include "util/http.hpp"
#include "util/json.hpp"
#include "util/time.hpp"

using namespace hypertest;

namespace {

std::string env(const char* name, const std::string& fallback = "") {
    const char* v = std::getenv(name);
    return v && *v ? v : fallback;
}

void sleep_ms(double ms) {
    if (ms > 0) std::this_thread::sleep_for(std::chrono::microseconds(static_cast<std::int64_t>(ms * 1000)));
}

void post(util::HttpClient& http, const std::string& url, const std::string& body,
          const std::string& error_type = "") {
    util::HttpRequest r{"POST", url, {}, body, std::chrono::milliseconds(10000)};
    if (!error_type.empty()) r.headers.emplace_back("Lambda-Runtime-Function-Error-Type", error_type);
    if (auto resp = http.send(r); !resp) std::fprintf(stderr, "sleep runtime: POST failed: %s\n", resp.error().message.c_str());
}

}  // namespace

int main() {
    auto http = util::make_curl_http_client();
    std::string base = "http://" + env("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime";
    std::map<std::string, double> durations;
    auto text = util::read_file(env("HT_BENCH_DURATIONS"));
    auto parsed = text ? util::parse_json(*text, "durations") : util::Result<util::Json>(text.error());
    if (!parsed || !parsed->is_object()) {
        std::string why = parsed ? "not a JSON object" : parsed.error().message;
        post(*http, base + "/init/error",
             util::Json{{"errorMessage", "HT_BENCH_DURATIONS: " + why}, {"errorType", "Bench.Init"}}.dump(),
             "Bench.Init");
        return 1;
    }
    for (const auto& [id, ms] : parsed->items()) durations[id] = ms.get<double>();
    double startup_ms = std::stod(env("HT_BENCH_STARTUP_MS", "2000"));
    double scale = std::stod(env("HT_BENCH_SCALE", "1"));
    while (true) {
        auto next = http->send({"GET", base + "/invocation/next", {}, {}, std::chrono::milliseconds(0)});
        if (!next || next->status != 200) return 2;  // the host went away
        std::string url = base + "/invocation/" + next->header("lambda-runtime-aws-request-id");
        auto j = util::parse_json(next->body, "event");
        auto event = j ? plugins::invocation_event_from_json(*j) : util::Result<plugins::InvocationEvent>(j.error());
        if (!event) {
            post(*http, url + "/error",
                 util::Json{{"errorMessage", event.error().message}, {"errorType", "Bench.BadEvent"}}.dump(),
                 "Bench.BadEvent");
            continue;
        }
        plugins::InvocationResult result;
        result.invocation_id = event->invocation_id;
        std::int64_t began = util::now_ms();
        if (util::json_get<bool>(event->plugin_options, "warmup", false)) {
            sleep_ms(util::json_get<double>(event->plugin_options, "hold_ms", 0));
        } else {
            sleep_ms(startup_ms * scale);
            for (const auto& t : event->tests) {
                auto it = durations.find(t.id);
                plugins::TestOutcome o;
                o.id = t.id;
                o.start_ms = util::now_ms();
                if (it == durations.end()) {
                    o.status = "failed";
                    o.framework_status = "failed";
                    o.error_message = "no duration for this test in HT_BENCH_DURATIONS";
                } else {
                    sleep_ms(it->second * scale);
                    o.status = "passed";
                    o.framework_status = "passed";
                }
                o.duration_ms = util::now_ms() - o.start_ms;
                result.outcomes.push_back(std::move(o));
            }
        }
        result.duration_ms = util::now_ms() - began;
        post(*http, url + "/response", plugins::to_json(result).dump());
    }
}
