#include "runner/runtime_loop.hpp"

#include <algorithm>
#include <exception>
#include <thread>
#include <utility>

#include "util/log.hpp"

namespace hypertest::runner {
namespace {

constexpr const char* k_api_prefix = "/2018-06-01/runtime";

std::int64_t parse_deadline(const std::string& text) {
    if (text.empty()) return 0;
    try {
        std::size_t used = 0;
        long long v = std::stoll(text, &used);
        return used == text.size() && v > 0 ? v : 0;
    } catch (const std::exception&) {
        return 0;
    }
}

}  // namespace

std::string error_body(const std::string& message, const std::string& error_type) {
    Json j = {{"errorMessage", message}, {"errorType", error_type}, {"stackTrace", Json::array()}};
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

RuntimeLoop::RuntimeLoop(util::HttpClient& http, std::string api, Handler handler,
                         RuntimeLoopOptions options)
    : m_http(http), m_api(std::move(api)), m_handler(std::move(handler)),
      m_options(std::move(options)) {
    if (!m_options.sleep) {
        m_options.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
    }
}

std::string RuntimeLoop::url(const std::string& path) const {
    return "http://" + m_api + k_api_prefix + path;
}

util::Status RuntimeLoop::run_one() {
    util::HttpRequest next{"GET", url("/invocation/next"), {}, {}, std::chrono::milliseconds{0}};
    auto resp = m_http.send(next);
    if (!resp) return util::make_error("Runtime API /next: " + resp.error().message, true);
    if (resp->status != 200) {
        return util::make_error("Runtime API /next answered HTTP " + std::to_string(resp->status) +
                                    ": " + resp->body.substr(0, 200),
                                true);
    }
    Context ctx;
    ctx.request_id = resp->header("lambda-runtime-aws-request-id");
    ctx.deadline_ms = parse_deadline(resp->header("lambda-runtime-deadline-ms"));
    ctx.invoked_function_arn = resp->header("lambda-runtime-invoked-function-arn");
    ctx.trace_id = resp->header("lambda-runtime-trace-id");
    if (ctx.request_id.empty()) {
        return util::make_error("Runtime API /next answered without Lambda-Runtime-Aws-Request-Id",
                                true);
    }
    auto event = util::parse_json(resp->body, "invocation event");
    if (!event) return post_error(ctx.request_id, event.error().message, "Runtime.MalformedEvent");

    util::Result<Json> answer = util::make_error("handler did not run");
    try {
        answer = m_handler(*event, ctx);
    } catch (const std::exception& e) {
        return post_error(ctx.request_id, std::string("unhandled exception: ") + e.what(),
                          "Runtime.UnhandledException");
    }
    if (!answer) return post_error(ctx.request_id, answer.error().message, "Runtime.HandlerError");
    std::string body = answer->dump(-1, ' ', false, Json::error_handler_t::replace);
    return post("/invocation/" + ctx.request_id + "/response", body, "");
}

util::Error RuntimeLoop::run_forever() {
    int failures = 0;
    auto backoff = m_options.initial_backoff;
    while (true) {
        auto status = run_one();
        if (status) {
            failures = 0;
            backoff = m_options.initial_backoff;
            continue;
        }
        ++failures;
        util::log_warn(status.error().message);
        if (failures >= m_options.max_consecutive_failures) {
            return util::make_error(status.error().message + " (" + std::to_string(failures) +
                                    " failures in a row; giving up)");
        }
        m_options.sleep(backoff);
        backoff = std::min(backoff * 2, m_options.max_backoff);
    }
}

util::Status RuntimeLoop::post_init_error(const std::string& message,
                                          const std::string& error_type) {
    return post("/init/error", error_body(message, error_type), error_type);
}

util::Status RuntimeLoop::post_error(const std::string& request_id, const std::string& message,
                                     const std::string& error_type) {
    return post("/invocation/" + request_id + "/error", error_body(message, error_type),
                error_type);
}

util::Status RuntimeLoop::post(const std::string& path, const std::string& body,
                               const std::string& error_type) {
    util::HttpRequest req{"POST", url(path), {{"Content-Type", "application/json"}}, body,
                          std::chrono::milliseconds{30000}};
    if (!error_type.empty()) req.headers.emplace_back("Lambda-Runtime-Function-Error-Type", error_type);
    auto resp = m_http.send(req);
    if (!resp) return util::make_error("Runtime API " + path + ": " + resp.error().message, true);
    if (resp->status == 413 && error_type.empty()) {
        // The answer was too large for the Runtime API: report that instead.
        std::string id = path.substr(std::string("/invocation/").size());
        id = id.substr(0, id.find('/'));
        return post_error(id,
                          "the function's answer (" + std::to_string(body.size()) +
                              " bytes) is larger than the Runtime API accepts",
                          "Runtime.ResponseTooLarge");
    }
    if (resp->status < 200 || resp->status >= 300) {
        return util::make_error("Runtime API " + path + " answered HTTP " +
                                std::to_string(resp->status) + ": " + resp->body.substr(0, 200));
    }
    return util::ok_status();
}

}  // namespace hypertest::runner
