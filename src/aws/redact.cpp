#include "aws/redact.hpp"

#include <regex>

namespace hypertest::aws {
namespace {

struct Rule {
    std::regex pattern;
    const char* replacement;
};

const std::vector<Rule>& rules() {
    static const auto flags = std::regex::ECMAScript | std::regex::icase;
    static const std::vector<Rule> k_rules = {
        {std::regex(R"re((Signature=)[0-9a-f]+)re", flags), "$1****"},
        {std::regex(R"re((X-Amz-Security-Token=|WebIdentityToken=)[^&\s"']+)re", flags), "$1****"},
        {std::regex(R"re(("(?:SecretAccessKey|SessionToken|Token|WebIdentityToken|secret_access_key|session_token|password|authorizationToken)"\s*:\s*")[^"]*)re",
                    flags),
         "$1****"},
        {std::regex(R"re((<(SecretAccessKey|SessionToken)>)[^<]*)re", flags), "$1****"},
        {std::regex(R"re(((?:aws_secret_access_key|aws_session_token)\s*=\s*)\S+)re", flags), "$1****"},
        {std::regex(R"re(((?:^|\n|\s)(?:authorization|x-amz-security-token|x-aws-ec2-metadata-token)\s*:\s*)[^\r\n]+)re",
                    flags),
         "$1****"},
    };
    return k_rules;
}

}  // namespace

std::string redact(std::string_view text, const std::vector<std::string>& secrets) {
    std::string out(text);
    for (const auto& secret : secrets) {
        if (secret.size() < 4) continue;
        for (auto pos = out.find(secret); pos != std::string::npos; pos = out.find(secret, pos)) {
            out.replace(pos, secret.size(), k_redacted);
            pos += std::char_traits<char>::length(k_redacted);
        }
    }
    for (const auto& rule : rules()) out = std::regex_replace(out, rule.pattern, rule.replacement);
    return out;
}

std::string redact_credentials(std::string_view text, const Credentials& credentials) {
    return redact(text, std::vector<std::string>{credentials.secret_access_key, credentials.session_token});
}

}  // namespace hypertest::aws
