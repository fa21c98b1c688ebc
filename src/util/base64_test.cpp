#include "util/base64.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace hypertest::util {
namespace {

TEST(Base64, EncodesWithPadding) {
    EXPECT_EQ(base64_encode(""), "");
    EXPECT_EQ(base64_encode("f"), "Zg==");
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    EXPECT_EQ(base64_encode("foo"), "Zm9v");
    EXPECT_EQ(base64_encode("AWS:secret"), "QVdTOnNlY3JldA==");
    EXPECT_EQ(base64_encode("\xfb\xff"), "+/8=");
}

TEST(Base64, DecodeTrimsPaddingAndRoundTrips) {
    EXPECT_EQ(base64_decode("").value(), "");
    EXPECT_EQ(base64_decode("Zg==").value(), "f");
    EXPECT_EQ(base64_decode("Zm8=").value(), "fo");
    EXPECT_EQ(base64_decode("Zm9v").value(), "foo");
    EXPECT_EQ(base64_decode("+/8=").value(), "\xfb\xff");
    for (const std::string& s : std::vector<std::string>{
             "", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3), std::string(5000, '\0')})
        EXPECT_EQ(base64_decode(base64_encode(s)).value(), s);
}

TEST(Base64, DecodeRejectsBadCharactersAndLengths) {
    for (const char* bad : {"QV*T",       // outside the alphabet
                            "Zm9v Zm9v",  // whitespace
                            "Zm9v\n",     // a trailing line break
                            "Zm-_",       // the URL-safe alphabet
                            "Zg=",        // length not a multiple of 4
                            "Zm9vY",      // likewise, unpadded
                            "Zg==Zg==",   // padding in the middle
                            "Z===",       // three padding characters
                            "===="}) {
        auto decoded = base64_decode(bad);
        ASSERT_FALSE(decoded.ok()) << bad;
        EXPECT_NE(decoded.error().message.find("malformed base64"), std::string::npos) << bad;
    }
}

}  // namespace
}  // namespace hypertest::util
