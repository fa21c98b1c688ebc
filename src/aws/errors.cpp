#include "aws/errors.hpp"

#include <array>

#include "aws/redact.hpp"
#include "aws/xml.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"

namespace hypertest::aws {
namespace {

// "ResourceNotFoundException:http://internal.amazon.com/..." and
// "com.amazonaws.lambda#ResourceNotFoundException" both name ResourceNotFoundException.
std::string clean_code(std::string code) {
    if (auto colon = code.find(':'); colon != std::string::npos) code.resize(colon);
    if (auto hash = code.rfind('#'); hash != std::string::npos) code.erase(0, hash + 1);
    return util::trim(code);
}

std::string first_string(const util::Json& j, std::initializer_list<const char*> keys) {
    for (const char* key : keys) {
        std::string v = util::json_get<std::string>(j, key, "");
        if (!v.empty()) return v;
    }
    return {};
}

void read_json(const std::string& body, ServiceError& e) {
    auto json = util::parse_json(body, "error body");
    if (!json || !json->is_object()) return;
    if (e.code.empty()) e.code = clean_code(first_string(*json, {"__type", "code", "Code", "errorType"}));
    e.message = first_string(*json, {"message", "Message", "errorMessage", "error_description"});
    std::string reason = util::json_get<std::string>(*json, "Reason", "");
    if (!reason.empty() && e.message.find(reason) == std::string::npos)
        e.message += (e.message.empty() ? "" : " ") + std::string("(reason: ") + reason + ")";
}

void read_xml(const std::string& body, ServiceError& e) {
    auto errors = xml_elements(body, "Error");
    std::string_view scope = errors.empty() ? std::string_view(body) : errors.front();
    if (e.code.empty()) e.code = clean_code(xml_text(scope, "Code").value_or(""));
    e.message = xml_text(scope, "Message").value_or("");
    if (e.request_id.empty()) e.request_id = xml_text(body, "RequestId").value_or("");
}

std::string hint_for(const ServiceError& e) {
    static const std::array<std::string_view, 7> k_credential_codes = {
        "UnrecognizedClientException", "InvalidClientTokenId",      "InvalidAccessKeyId",
        "SignatureDoesNotMatch",       "InvalidSignatureException", "IncompleteSignature",
        "MissingAuthenticationToken"};
    if (e.code == "AuthorizationHeaderMalformed" ||
        e.message.find("scoped to a valid region") != std::string::npos)
        return "The request was signed for another region: set cloudProvider.region (or "
               "AWS_REGION) to the region of the function and the bucket.";
    if (e.code == "NoSuchBucket")
        return "Create the bucket, or set cloudProvider.bucketName to an existing bucket in "
               "cloudProvider.region.";
    for (auto code : k_credential_codes) {
        if (e.code == code)
            return "Check the AWS credentials in use (AWS_PROFILE, AWS_ACCESS_KEY_ID, ...) and "
                   "that the system clock is correct.";
    }
    if (e.code == "ExpiredToken" || e.code == "ExpiredTokenException" || e.code == "RequestExpired")
        return "The credentials or the request have expired: refresh the session (e.g. `aws sso "
               "login`) and check the system clock.";
    if (e.code == "AccessDenied" || e.code == "AccessDeniedException" || e.status == 403)
        return "The identity in use lacks a permission for this call: check its IAM policy.";
    if (e.retryable) return "This is usually temporary; hypertest retries such errors.";
    return {};
}

}  // namespace

bool is_retryable(long status, std::string_view code) {
    static const std::array<std::string_view, 10> k_codes = {
        "Throttling",          "ThrottlingException",    "TooManyRequestsException",
        "SlowDown",            "RequestLimitExceeded",   "ProvisionedThroughputExceededException",
        "RequestTimeout",      "RequestTimeoutException", "InternalError",
        "ServiceUnavailable"};
    if (status == 429 || status == 500 || status == 502 || status == 503 || status == 504)
        return true;
    for (auto c : k_codes) {
        if (code == c) return true;
    }
    return false;
}

bool is_throttling(long status, std::string_view code) {
    static const std::array<std::string_view, 5> k_codes = {
        "Throttling", "ThrottlingException", "TooManyRequestsException", "SlowDown",
        "RequestLimitExceeded"};
    if (status == 429) return true;
    for (auto c : k_codes) {
        if (code == c) return true;
    }
    return false;
}

bool has_xml_error(const util::HttpResponse& response) {
    std::string_view body = response.body;
    auto start = body.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos || body[start] != '<') return false;
    return body.find("<Error>", start) != std::string_view::npos ||
           body.find("<Error ", start) != std::string_view::npos;
}

ServiceError parse_service_error(const util::HttpResponse& response) {
    ServiceError e;
    e.status = response.status;
    e.code = clean_code(response.header("x-amzn-errortype"));
    e.request_id = response.header("x-amzn-requestid");
    if (e.request_id.empty()) e.request_id = response.header("x-amz-request-id");
    std::string_view body = response.body;
    auto start = body.find_first_not_of(" \t\r\n");
    if (start != std::string_view::npos) {
        if (body[start] == '{') read_json(response.body, e);
        else if (body[start] == '<') read_xml(response.body, e);
    }
    if (e.message.empty()) e.message = response.header("x-amzn-error-message");
    e.retryable = is_retryable(e.status, e.code);
    return e;
}

util::Error service_error(const util::HttpResponse& response, std::string_view operation) {
    ServiceError e = parse_service_error(response);
    std::string text(operation);
    text += ": " + (e.code.empty() ? std::string("error") : e.code) + " (HTTP " +
            std::to_string(e.status) + ")";
    if (!e.message.empty()) text += ": " + util::truncate_utf8(e.message, 1000);
    else if (e.code.empty() && !response.body.empty())
        text += ": " + util::truncate_utf8(util::trim(response.body), 300);
    if (std::string hint = hint_for(e); !hint.empty()) text += (text.back() == '.' ? " " : ". ") + hint;
    if (!e.request_id.empty()) text += " (request id " + e.request_id + ")";
    util::Error error = util::make_error(redact(text), e.retryable);
    error.throttled = is_throttling(e.status, e.code);
    std::string retry_after = util::trim(response.header("retry-after"));
    if (!retry_after.empty() && retry_after.size() < 6 &&
        retry_after.find_first_not_of("0123456789") == std::string::npos) {
        error.retry_after_ms = std::stoi(retry_after) * 1000;
    }
    return error;
}

}  // namespace hypertest::aws
