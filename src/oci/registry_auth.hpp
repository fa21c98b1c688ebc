// Pieces of registry authentication: WWW-Authenticate challenges, Basic credentials, token
// answers. Pure functions; the request flow is in registry_client.cpp.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace hypertest::oci {

struct AuthChallenge {
    std::string scheme;                         // lowercase: "basic", "bearer"
    std::map<std::string, std::string> params;  // realm, service, scope, error, ...
    std::string param(const std::string& name) const {
        auto it = params.find(name);
        return it == params.end() ? std::string() : it->second;
    }
};

// Parses `Bearer realm="https://auth/token",service="reg",scope="repository:a:pull"`.
// nullopt when the header is empty or has no scheme.
std::optional<AuthChallenge> parse_challenge(std::string_view header);

// "Basic <base64(user:password)>".
std::string basic_authorization(const std::string& username, const std::string& password);

// The token of a token service's JSON answer ("token", else "access_token").
util::Result<std::string> token_from_response(std::string_view body);

// Percent-encodes everything but unreserved characters (RFC 3986).
std::string url_encode(std::string_view text);

}  // namespace hypertest::oci
