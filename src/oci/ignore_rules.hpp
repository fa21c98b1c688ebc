// Which project files stay out of the image: gitignore-style rules, from hypertest's defaults
// (secrets) and the project's .hypertestignore.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace hypertest::oci {

class IgnoreRules {
public:
    // Secrets that have no place in an image: dotenv files, private keys, credential files.
    // They apply outside node_modules only, where a dependency may need its own key files.
    static const std::vector<std::string>& default_patterns();

    // Lines in .gitignore syntax: "#" comments, "!" re-includes, a trailing "/" matches
    // folders only, a "/" at the start or in the middle anchors to the project root, "*", "?",
    // "[...]" within one part and "**" across parts. Later lines win.
    void add_lines(std::string_view text, bool is_default = false);

    enum class Verdict { kept, ignored_by_default, ignored };
    // rel: '/'-separated, relative to the project root.
    Verdict check(std::string_view rel, bool is_dir) const;

private:
    struct Rule {
        std::vector<std::string> parts;  // anchored: the path's parts; else the name only
        bool anchored = false;
        bool negated = false;
        bool dir_only = false;
        bool is_default = false;
    };
    std::vector<Rule> m_rules;
};

// Defaults plus <project>/.hypertestignore when present; fails when that file cannot be read.
util::Result<IgnoreRules> project_ignore_rules(const std::string& project_dir);

}  // namespace hypertest::oci
