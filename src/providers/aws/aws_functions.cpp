#include "providers/aws/aws_functions.hpp"

#include "aws/redact.hpp"
#include "util/http_multi.hpp"
#include "util/strings.hpp"

namespace hypertest::providers {
namespace {

constexpr std::chrono::seconds k_poll_interval{1};
constexpr int k_conflict_attempts = 5;

std::string not_image_hint(const std::string& name) {
    return "Lambda function \"" + name +
           "\" is a .zip function; hypertest deploys container images: create it with "
           "--package-type Image (any image, e.g. the first one deploy pushes)";
}

class LambdaFunctions : public Functions {
  public:
    explicit LambdaFunctions(AwsClients& clients)
        : m_c(clients), m_name(clients.settings().function_name) {}

    util::Result<FunctionState> state() override {
        if (auto s = m_c.usable(); !s) return s.error();
        auto info = get_function();
        if (!info) return info.error();
        // A .zip function cannot run hypertest's images: its state means nothing here.
        if (info->package_type != "Image") return util::make_error(not_image_hint(m_name));
        FunctionState st;
        st.image_digest = info->image_digest();
        st.timeout_s = info->timeout_s;
        st.memory_mb = info->memory_mb;
        return st;
    }

    util::Status update(const std::string& digest) override {
        if (auto s = m_c.usable(); !s) return s;
        if (auto s = check_pushed(digest); !s) return s;
        auto info = get_function();
        if (!info) return info.error();
        if (info->package_type != "Image") return util::make_error(not_image_hint(m_name));
        const std::string uri = m_c.image_uri(digest);
        for (int attempt = 1;; ++attempt) {
            // An update in progress (ours or someone else's) rejects the next one with 409.
            if (info->last_update_status == "InProgress") {
                auto waited = wait();
                if (!waited) return waited.error();
            }
            auto updated = m_c.lambda().update_function_code(m_name, uri);
            if (updated) break;
            bool conflict =
                updated.error().message.find("ResourceConflictException") != std::string::npos;
            if (!conflict || attempt >= k_conflict_attempts) return updated.error();
            info->last_update_status = "InProgress";
        }
        auto done = wait();
        if (!done) return done.error();
        std::string running = done->image_digest();
        if (!running.empty() && running != digest) {
            return util::make_error("Lambda function \"" + m_name + "\" runs " + running +
                                    " after the update to " + digest +
                                    "; someone else may be deploying to it at the same time");
        }
        return util::ok_status();
    }

    void start_invoke(CallId id, const Json& event, std::chrono::milliseconds timeout) override {
        auto request = invoke_request(event, timeout);
        if (!request) {
            m_not_started.push_back({id, request.error()});
            return;
        }
        multi().start(id, std::move(*request));
    }

    std::vector<InvokeCompletion> poll(std::chrono::milliseconds wait) override {
        std::vector<InvokeCompletion> out = std::move(m_not_started);
        m_not_started.clear();
        for (auto& [id, answer] : multi().poll(out.empty() ? wait : std::chrono::milliseconds(0)))
            out.push_back({id, invoke_response(answer)});
        return out;
    }

    std::size_t in_flight() const override {
        return m_not_started.size() + (m_multi ? m_multi->in_flight() : 0);
    }

    // Closes the connections of the invocations in flight. Lambda does not notice: it runs
    // them to the end (and bills them); only their answers are lost. Lambda keeps or drops
    // its environments itself.
    void shutdown() override {
        if (m_multi) m_multi->cancel_all();
    }

  private:
    static std::string last_lines(const std::string& text, int count) {
        std::size_t pos = text.size();
        while (count-- > 0 && pos > 0) {
            pos = text.rfind('\n', pos - 1);
            if (pos == std::string::npos) {
                pos = 0;
                break;
            }
        }
        return util::trim(text.substr(pos));
    }

    util::HttpMulti& multi() {
        if (!m_multi) m_multi = util::make_curl_http_multi();
        return *m_multi;
    }

    util::Result<util::HttpRequest> invoke_request(const Json& event,
                                                   std::chrono::milliseconds timeout) {
        if (auto s = m_c.usable(); !s) return s.error();
        return aws::invoke_request(m_c.lambda_config(), m_name, event.dump(), timeout);
    }

    // An Invoke's HTTP outcome as the dispatcher sees it.
    util::Result<InvokeResponse> invoke_response(const util::Result<util::HttpResponse>& answer) {
        const std::string operation = aws::invoke_operation(m_name);
        if (!answer && answer.error().message == util::k_http_cancelled) {
            return util::make_error(operation +
                                    ": cancelled; Lambda may still be running the invocation");
        }
        if (!answer) return aws::transport_error(m_c.lambda_config(), operation, answer.error());
        auto out = aws::invoke_output(*answer, m_name);
        if (!out) return out.error();
        return to_response(*out);
    }

    InvokeResponse to_response(const aws::InvokeOutput& out) {
        InvokeResponse r;
        r.function_error = !out.function_error.empty();
        r.error_message = out.error_message;
        auto payload = util::parse_json(out.payload, "the function's answer");
        if (payload) {
            r.payload = std::move(*payload);
        } else if (!r.function_error) {
            r.function_error = true;
            r.error_message = "the function answered with something that is not JSON: " +
                              util::truncate_utf8(out.payload, 300);
        }
        if (r.function_error && !out.log_tail.empty()) {
            r.error_message +=
                "\nlast lines of the function's log:\n" + last_lines(out.log_tail, 15);
        }
        if (r.function_error) r.error_message = aws::redact(r.error_message, m_c.secrets());
        if (out.report) {
            r.duration_ms = static_cast<std::int64_t>(out.report->duration_ms);
            r.billed_ms = static_cast<std::int64_t>(out.report->billed_ms);
            r.init_ms = static_cast<std::int64_t>(out.report->init_ms);
        }
        return r;
    }

    util::Result<aws::FunctionInfo> get_function() {
        auto info = m_c.lambda().get_function(m_name);
        if (!info && info.error().message.find("ResourceNotFoundException") != std::string::npos) {
            return util::make_error(info.error().message + ". Create the Lambda function \"" +
                                    m_name + "\" (package type Image) in " + m_c.region() +
                                    ", or set cloudProvider.functionName to an existing one");
        }
        return info;
    }

    util::Result<aws::FunctionInfo> wait() {
        return m_c.lambda().wait_until_updated(m_name, m_c.settings().update_wait, k_poll_interval);
    }

    // UpdateFunctionCode of an image the registry lacks fails late and vaguely: check first.
    util::Status check_pushed(const std::string& digest) {
        auto registry = m_c.registry_client();
        if (!registry) return registry.error();
        auto head = (*registry)->head_manifest(m_c.settings().ecr.repository, digest);
        if (!head) {
            return util::make_error("cannot check the image in " + m_c.settings().ecr_registry +
                                        ": " + aws::redact(head.error().message, m_c.secrets()),
                                    head.error().retryable);
        }
        if (!head->has_value()) {
            return util::make_error("image " + digest + " is not in " +
                                    m_c.settings().ecr_registry +
                                    ": `hypertest deploy` pushes it before updating the function");
        }
        return util::ok_status();
    }

    AwsClients& m_c;
    std::string m_name;
    std::unique_ptr<util::HttpMulti> m_multi;     // made at the first invocation
    std::vector<InvokeCompletion> m_not_started;  // failed before reaching the network
};

}  // namespace

std::unique_ptr<Functions> make_lambda_functions(AwsClients& clients) {
    return std::make_unique<LambdaFunctions>(clients);
}

}  // namespace hypertest::providers
