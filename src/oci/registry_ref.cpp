#include "oci/registry_ref.hpp"

#include <regex>

#include "util/sha256.hpp"

namespace hypertest::oci {
namespace {

util::Error bad_ref(std::string_view text, const std::string& why) {
    return util::make_error("invalid image reference '" + std::string(text) + "': " + why +
                            " (expected host[:port]/repository[:tag][@sha256:…], e.g. "
                            "127.0.0.1:5000/myrepo)");
}

bool valid_repository(const std::string& repo) {
    static const std::regex component("[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*");
    std::size_t start = 0;
    while (true) {
        auto slash = repo.find('/', start);
        std::string part = repo.substr(start, slash == std::string::npos ? slash : slash - start);
        if (!std::regex_match(part, component)) return false;
        if (slash == std::string::npos) return true;
        start = slash + 1;
    }
}

}  // namespace

std::string RegistryRef::text() const {
    std::string out = host + "/" + repository;
    if (!tag.empty()) out += ":" + tag;
    if (!digest.empty()) out += "@" + digest;
    return out;
}

util::Result<RegistryRef> parse_registry_ref(std::string_view text_in) {
    std::string text(text_in);
    RegistryRef ref;
    if (text.find("://") != std::string::npos)
        return bad_ref(text_in, "leave out the scheme (plain HTTP is chosen by insecureRegistry)");
    if (auto at = text.find('@'); at != std::string::npos) {
        ref.digest = text.substr(at + 1);
        text.resize(at);
        if (!util::is_sha256_digest(ref.digest))
            return bad_ref(text_in, "digest '" + ref.digest + "' is not sha256:<64 lowercase hex>");
    }
    auto slash = text.find('/');
    if (slash == std::string::npos || slash == 0)
        return bad_ref(text_in, "no repository after the registry host");
    ref.host = text.substr(0, slash);
    if (ref.host.find_first_of(".:") == std::string::npos && ref.host != "localhost")
        return bad_ref(text_in, "'" + ref.host + "' is not a registry host");
    static const std::regex host_re(R"((\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?)");
    if (!std::regex_match(ref.host, host_re))
        return bad_ref(text_in, "'" + ref.host + "' is not a valid host[:port]");
    std::string rest = text.substr(slash + 1);
    auto colon = rest.rfind(':');
    if (colon != std::string::npos) {
        ref.tag = rest.substr(colon + 1);
        rest.resize(colon);
        static const std::regex tag_re("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
        if (!std::regex_match(ref.tag, tag_re))
            return bad_ref(text_in, "tag '" + ref.tag + "' is not valid");
    }
    if (!valid_repository(rest))
        return bad_ref(text_in, "repository '" + rest +
                                    "' must be lowercase letters, digits and "
                                    "separators (. _ - /)");
    ref.repository = rest;
    return ref;
}

bool is_loopback_host(std::string_view host) {
    std::string name(host);
    if (name.rfind("[::1]", 0) == 0) return true;
    if (auto colon = name.find(':'); colon != std::string::npos) name.resize(colon);
    return name == "localhost" || name == "127.0.0.1";
}

std::string registry_scheme(std::string_view host, bool insecure) {
    return insecure || is_loopback_host(host) ? "http" : "https";
}

}  // namespace hypertest::oci
