// Secrets never reach logs or error messages: every text that may carry one goes through here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "aws/sigv4.hpp"

namespace hypertest::aws {

inline constexpr const char* k_redacted = "****";

// Replaces every occurrence of each secret (4+ characters; shorter ones are ignored) by ****,
// then masks what looks like a credential: signatures, security tokens, secret keys and
// Authorization headers in JSON, XML, INI, query and header form.
std::string redact(std::string_view text, const std::vector<std::string>& secrets = {});
// Same, with the secret key and session token of `credentials` as the known secrets.
std::string redact_credentials(std::string_view text, const Credentials& credentials);

}  // namespace hypertest::aws
