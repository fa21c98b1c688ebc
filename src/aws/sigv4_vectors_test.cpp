// Runs every SigV4 vector under tests/data/sigv4 (both suite layouts and the S3
// documentation example): canonical request, string to sign and Authorization must match exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "aws/sigv4.hpp"
#include "util/fs.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

namespace hypertest::aws {
namespace {

namespace fs = std::filesystem;

const fs::path k_root = fs::path(HT_SOURCE_DIR) / "tests" / "data" / "sigv4";

enum class Layout { aws_c_auth, botocore, s3_doc };

struct VectorCase {
    Layout layout;
    fs::path dir;
    std::string name;  // dir/prefix of the files for botocore and s3_doc
};

// Readable test names in failures instead of a byte dump.
void PrintTo(const VectorCase& c, std::ostream* os) { *os << c.dir.string(); }

std::string read_text(const fs::path& path) {
    auto text = util::read_file(path);
    if (!text) ADD_FAILURE() << "cannot read " << path << ": " << text.error().message;
    std::string out = text ? *text : "";
    std::erase(out, '\r');
    return out;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

// Parses "METHOD target HTTP/1.1", headers (folded lines continue a value), blank, body.
SigningRequest parse_request(const std::string& text) {
    SigningRequest req;
    auto lines = lines_of(text);
    const std::string& first = lines.at(0);
    auto sp1 = first.find(' ');
    auto sp2 = first.rfind(' ');
    req.method = first.substr(0, sp1);
    std::string target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    auto q = target.find('?');
    req.path = target.substr(0, q);
    req.query = q == std::string::npos ? "" : target.substr(q + 1);
    std::size_t i = 1;
    for (; i < lines.size() && !lines[i].empty(); ++i) {
        const std::string& line = lines[i];
        if ((line[0] == ' ' || line[0] == '\t') && !req.headers.empty()) {
            req.headers.back().second += "\n" + line;
            continue;
        }
        auto colon = line.find(':');
        req.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
    }
    for (std::size_t j = i + 1; j < lines.size(); ++j) {
        if (j > i + 1) req.body += "\n";
        req.body += lines[j];
    }
    return req;
}

std::string authorization_line(const std::string& signed_request) {
    for (const auto& line : lines_of(signed_request)) {
        if (line.rfind("Authorization:", 0) == 0) return util::trim(line.substr(14));
    }
    return {};
}

std::vector<std::pair<std::string, std::string>> sorted_query(const std::string& request_line) {
    auto target = request_line.substr(request_line.find(' ') + 1);
    target = target.substr(0, target.rfind(' '));
    auto q = target.find('?');
    auto params = parse_query(q == std::string::npos ? "" : target.substr(q + 1));
    std::sort(params.begin(), params.end());
    return params;
}

std::vector<VectorCase> find_cases() {
    std::vector<VectorCase> cases;
    std::error_code ec;
    for (const auto& entry : fs::recursive_directory_iterator(k_root, ec)) {
        const fs::path& p = entry.path();
        if (p.filename() == "context.json") {
            cases.push_back({Layout::aws_c_auth, p.parent_path(), p.parent_path().filename()});
        } else if (p.extension() == ".req") {
            Layout layout = p.parent_path().parent_path().filename() == "s3-doc-example-get-object" ||
                                    p.parent_path().filename() == "s3-doc-example-get-object"
                                ? Layout::s3_doc
                                : Layout::botocore;
            cases.push_back({layout, p.parent_path(), p.stem()});
        }
    }
    std::sort(cases.begin(), cases.end(),
              [](const auto& a, const auto& b) { return a.dir.string() + a.name < b.dir.string() + b.name; });
    return cases;
}

std::string test_name(const testing::TestParamInfo<VectorCase>& info) {
    std::string prefix = info.param.layout == Layout::aws_c_auth ? "crt_"
                         : info.param.layout == Layout::botocore ? "boto_"
                                                                 : "s3doc_";
    std::string name = prefix + info.param.name;
    std::replace_if(name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
    return name;
}

class SigV4Vector : public testing::TestWithParam<VectorCase> {};

void run_aws_c_auth(const VectorCase& c) {
    auto context = util::parse_json(read_text(c.dir / "context.json"), "context.json");
    ASSERT_TRUE(context.ok()) << context.error().message;
    const auto& creds_json = (*context)["credentials"];
    Credentials creds{creds_json["access_key_id"], creds_json["secret_access_key"],
                      util::json_get<std::string>(creds_json, "token", ""), 0};
    std::int64_t time_ms = util::parse_iso8601_ms((*context)["timestamp"].get<std::string>());
    SigningOptions options = signing_options((*context)["service"], (*context)["region"], time_ms);
    options.normalize_path = util::json_get<bool>(*context, "normalize", true);
    options.double_encode_path = true;  // as the suite's own harness does
    options.add_content_sha256 = util::json_get<bool>(*context, "sign_body", false);
    options.sign_session_token = !util::json_get<bool>(*context, "omit_session_token", false);
    SigningRequest request = parse_request(read_text(c.dir / "request.txt"));

    HeaderSignature h = sign_headers(request, creds, options);
    EXPECT_EQ(h.canonical_request, read_text(c.dir / "header-canonical-request.txt"));
    EXPECT_EQ(h.string_to_sign, read_text(c.dir / "header-string-to-sign.txt"));
    EXPECT_EQ(h.signature, read_text(c.dir / "header-signature.txt"));
    EXPECT_EQ(h.authorization, authorization_line(read_text(c.dir / "header-signed-request.txt")));

    std::int64_t expires = util::json_get<std::int64_t>(*context, "expiration_in_seconds", 3600);
    QuerySignature q = presign_query(request, creds, options, expires);
    EXPECT_EQ(q.canonical_request, read_text(c.dir / "query-canonical-request.txt"));
    EXPECT_EQ(q.string_to_sign, read_text(c.dir / "query-string-to-sign.txt"));
    EXPECT_EQ(q.signature, read_text(c.dir / "query-signature.txt"));
    auto expected_line = lines_of(read_text(c.dir / "query-signed-request.txt")).at(0);
    auto ours = parse_query(q.query);
    std::sort(ours.begin(), ours.end());
    EXPECT_EQ(ours, sorted_query(expected_line));
}

void run_botocore(const VectorCase& c, bool s3) {
    auto file = [&](const char* ext) { return read_text(c.dir / (c.name + ext)); };
    std::string creq = file(".creq");
    Credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", 0};
    SigningOptions options = signing_options("service", "us-east-1",
                                             util::parse_iso8601_ms("2015-08-30T12:36:00Z"));
    if (s3) {
        creds = {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", 0};
        options = signing_options("s3", "us-east-1", util::parse_iso8601_ms("2013-05-24T00:00:00Z"));
    }
    for (const auto& line : lines_of(creq)) {
        if (line.rfind("x-amz-security-token:", 0) == 0) creds.session_token = line.substr(21);
    }
    HeaderSignature h = sign_headers(parse_request(file(".req")), creds, options);
    EXPECT_EQ(h.canonical_request, creq);
    EXPECT_EQ(h.string_to_sign, file(".sts"));
    std::string authz = file(".authz");
    if (s3) {
        // The S3 documentation prints the header without spaces after the commas.
        std::string ours = h.authorization;
        for (auto pos = ours.find(", "); pos != std::string::npos; pos = ours.find(", "))
            ours.erase(pos + 1, 1);
        EXPECT_EQ(ours, authz);
    } else {
        EXPECT_EQ(h.authorization, authz);
    }
}

TEST_P(SigV4Vector, MatchesExpectedSignature) {
    const VectorCase& c = GetParam();
    SCOPED_TRACE(c.dir.string());
    switch (c.layout) {
        case Layout::aws_c_auth: run_aws_c_auth(c); break;
        case Layout::botocore: run_botocore(c, false); break;
        case Layout::s3_doc: run_botocore(c, true); break;
    }
}

INSTANTIATE_TEST_SUITE_P(Shared, SigV4Vector, testing::ValuesIn(find_cases()), test_name);

TEST(SigV4Vectors, AllSuitesArePresent) {
    auto cases = find_cases();
    auto count = [&](Layout l) {
        return std::count_if(cases.begin(), cases.end(), [&](const auto& c) { return c.layout == l; });
    };
    EXPECT_EQ(count(Layout::aws_c_auth), 38);
    EXPECT_EQ(count(Layout::botocore), 34);
    EXPECT_EQ(count(Layout::s3_doc), 1);
}

}  // namespace
}  // namespace hypertest::aws
