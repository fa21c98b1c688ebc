// The error shapes of AWS responses, turned into messages a user can act on.
#pragma once

#include <string>
#include <string_view>

#include "util/http.hpp"
#include "util/result.hpp"

namespace hypertest::aws {

struct ServiceError {
    long status = 0;
    std::string code;        // e.g. ResourceNotFoundException, SlowDown; empty when unknown
    std::string message;     // the service's own words; empty when it gave none
    std::string request_id;  // for AWS support
    bool retryable = false;
};

// Reads x-amzn-ErrorType / __type / code and message / Message from JSON, and
// <Error><Code><Message> (also inside <ErrorResponse>) from XML. Never fails: missing parts
// stay empty. Works on 200 responses too (S3 CompleteMultipartUpload may carry an <Error>).
ServiceError parse_service_error(const util::HttpResponse& response);
// True when the response body is an XML <Error> document (even with a 2xx status).
bool has_xml_error(const util::HttpResponse& response);
// Throttling, 5xx and timeouts are worth retrying; authorization or validation errors are not.
bool is_retryable(long status, std::string_view code);
// HTTP 429 and the throttling codes: the caller should send less (util::Error::throttled).
bool is_throttling(long status, std::string_view code);
// "<operation>: <Code> (HTTP <status>): <message>. <hint> (request id <id>)", redacted, with
// the retryable and throttled flags and Retry-After (whole seconds) set.
util::Error service_error(const util::HttpResponse& response, std::string_view operation);

}  // namespace hypertest::aws
