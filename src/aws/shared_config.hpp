// The AWS shared config and credentials files (~/.aws/config, ~/.aws/credentials).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "aws/system.hpp"
#include "util/result.hpp"

namespace hypertest::aws {

using IniSection = std::map<std::string, std::string>;  // keys lower-cased
// Section name as written between brackets, trimmed: "default", "profile dev", "dev".
using IniFile = std::map<std::string, IniSection>;

// Lines `[section]`, `key = value`, comments starting with # or ;. Indented lines under a key
// with an empty value (nested settings such as `s3 =`) are kept as "key.subkey".
IniFile parse_ini(std::string_view text);

struct Profile {
    std::string name;
    bool explicit_name = false;  // chosen by AWS_PROFILE rather than the default
    bool found = false;          // a section for it exists in either file
    IniSection values;           // config values, overridden by credentials-file values
    std::filesystem::path config_file;
    std::filesystem::path credentials_file;
};

// Reads both files as the AWS CLI does: AWS_PROFILE (default "default"), AWS_CONFIG_FILE
// (`[profile name]`, or `[default]`), AWS_SHARED_CREDENTIALS_FILE (`[name]`). Missing files are
// empty; unreadable ones are an error.
util::Result<Profile> load_profile(const System& system);

// Splits a credential_process command line into argv like the AWS CLI (POSIX shlex rules):
// whitespace separates words, '...' is literal, "..." allows \" \\ \$ \` escapes, a backslash
// outside quotes escapes the next character. No variable or glob expansion. Fails on an
// unterminated quote or an empty command.
util::Result<std::vector<std::string>> split_command_line(std::string_view command);

}  // namespace hypertest::aws
