// Shared by the registry client's sources; not part of the component's interface.
#pragma once

#include <string>
#include <vector>

#include "oci/registry_client.hpp"

namespace hypertest::oci {

// One logical registry request: the HTTP request, the Bearer scopes it needs, and what it
// does in words (for error messages).
struct RegistryClient::Call {
    util::HttpRequest request;
    std::vector<std::string> scopes;
    std::string what;
};

namespace detail {
// Sets a header, replacing any of the same name (case-insensitive).
void set_header(util::HttpRequest& request, const std::string& name, const std::string& value);
void remove_header(util::HttpRequest& request, const std::string& name);
// "http://host:1/a?b" -> "host:1".
std::string url_host(const std::string& url);
}  // namespace detail

}  // namespace hypertest::oci
