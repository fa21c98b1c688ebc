// Image references such as "127.0.0.1:5000/team/app:tag" or "registry.example.com/app@sha256:…".
#pragma once

#include <string>
#include <string_view>

#include "util/result.hpp"

namespace hypertest::oci {

struct RegistryRef {
    std::string host;        // "registry.example.com", "127.0.0.1:5000", "localhost:5000"
    std::string repository;  // "team/app"
    std::string tag;         // empty when absent
    std::string digest;      // empty when absent
    // The tag or digest to ask the registry for (digest wins); empty when neither is given.
    std::string reference() const { return digest.empty() ? tag : digest; }
    std::string text() const;  // host/repository[:tag][@digest]
};

// The first component must name a host (contain '.' or ':', or be "localhost"): there is no
// default registry. Repository components are lowercase [a-z0-9._-]; tags [A-Za-z0-9_.-]{1,128}.
util::Result<RegistryRef> parse_registry_ref(std::string_view text);

// True for localhost, 127.0.0.1 and [::1] with any port: the hosts spoken to over plain HTTP
// without asking.
bool is_loopback_host(std::string_view host);

// "http" for loopback hosts or when insecure is set, else "https".
std::string registry_scheme(std::string_view host, bool insecure);

}  // namespace hypertest::oci
