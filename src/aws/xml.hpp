// Just enough XML for AWS responses (STS, S3, error bodies): elements found by tag name.
// No DTDs, no namespaces; a prefixed tag must be asked for with its prefix.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hypertest::aws {

// Text of the first <tag> element with entities decoded; nullopt when there is none.
std::optional<std::string> xml_text(std::string_view xml, std::string_view tag);
// Raw inner XML of every <tag> element at any depth, in document order (not nested in each other).
std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag);
std::string xml_unescape(std::string_view text);

}  // namespace hypertest::aws
