// A stand-in for hypertest-runner in the function host's tests: speaks the Runtime API and
// behaves as each event's "mode" says (echo, sleep, crash, error, big). A file named
// "init_error" in the task root makes it report an init error and exit.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "util/http.hpp"
#include "util/json.hpp"

using namespace hypertest;

namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

void post(util::HttpClient& http, const std::string& url, const std::string& body,
          const std::string& error_type = "") {
    util::HttpRequest r{"POST", url, {}, body, std::chrono::milliseconds(10000)};
    if (!error_type.empty()) r.headers.emplace_back("Lambda-Runtime-Function-Error-Type", error_type);
    (void)http.send(r);
}

}  // namespace

int main() {
    auto http = util::make_curl_unix_socket_client(env("HT_RUNTIME_API_SOCKET"));
    std::string base = "http://" + env("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime";
    if (std::filesystem::exists(std::filesystem::path(env("LAMBDA_TASK_ROOT")) / "init_error")) {
        post(*http, base + "/init/error",
             util::Json{{"errorMessage", "fake init failure"}, {"errorType", "Fake.Init"}}.dump(),
             "Fake.Init");
        return 1;
    }
    int served = 0;
    while (true) {
        auto next = http->send({"GET", base + "/invocation/next", {}, {}, std::chrono::milliseconds(0)});
        if (!next || next->status != 200) {
            std::fprintf(stderr, "fake runtime: /next failed: %s\n",
                         next ? ("HTTP " + std::to_string(next->status)).c_str()
                              : next.error().message.c_str());
            return 2;
        }
        std::string id = next->header("lambda-runtime-aws-request-id");
        auto event = util::parse_json(next->body, "event");
        util::Json e = event ? *event : util::Json::object();
        std::string mode = util::json_get<std::string>(e, "mode", "echo");
        ++served;
        if (mode == "crash") return 3;
        if (mode == "sleep")
            std::this_thread::sleep_for(std::chrono::milliseconds(util::json_get<int>(e, "ms", 0)));
        std::string url = base + "/invocation/" + id;
        if (mode == "error") {
            post(*http, url + "/error",
                 util::Json{{"errorMessage", "fake handler failure"}, {"errorType", "Fake.Handler"}}.dump(),
                 "Fake.Handler");
            continue;
        }
        util::Json answer = {{"event", e},
                             {"pid", ::getpid()},
                             {"served", served},
                             {"requestId", id},
                             {"deadlineMs", next->header("lambda-runtime-deadline-ms")},
                             {"functionArn", next->header("lambda-runtime-invoked-function-arn")},
                             {"taskRoot", env("LAMBDA_TASK_ROOT")},
                             {"home", env("HOME")},
                             {"tmpdir", env("TMPDIR")},
                             {"functionName", env("AWS_LAMBDA_FUNCTION_NAME")},
                             {"timeout", env("AWS_LAMBDA_FUNCTION_TIMEOUT")},
                             {"memory", env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")},
                             {"imageVar", env("HT_FAKE_IMAGE_VAR")},
                             {"cwd", std::filesystem::current_path().string()},
                             {"exe", std::filesystem::read_symlink("/proc/self/exe").string()}};
        if (mode == "big") answer["big"] = std::string(7 * 1024 * 1024, 'x');
        post(*http, url + "/response", answer.dump());
    }
}
