#include "util/sha256.hpp"

#include <gtest/gtest.h>

namespace hypertest::util {
namespace {

TEST(Sha256, HexOfKnownInput) {
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, DigestsAreSha256AndLowercaseHex) {
    const std::string hex = sha256_hex("abc");
    EXPECT_TRUE(is_sha256_digest("sha256:" + hex));
    EXPECT_EQ(sha256_digest_hex("sha256:" + hex), hex);
    for (const std::string& bad :
         {std::string(), hex, "sha256:" + hex.substr(1), "sha256:" + hex + "0", "sha512:" + hex,
          "SHA256:" + hex, "sha256:" + std::string(63, 'a') + "A",
          "sha256:" + std::string(63, 'a') + "g", "sha256:../" + hex.substr(3)}) {
        EXPECT_FALSE(is_sha256_digest(bad)) << bad;
        EXPECT_EQ(sha256_digest_hex(bad), "") << bad;
    }
}

}  // namespace
}  // namespace hypertest::util
