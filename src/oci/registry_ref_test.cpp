#include "oci/registry_ref.hpp"

#include <gtest/gtest.h>

#include "oci/registry_auth.hpp"

namespace hypertest::oci {
namespace {

TEST(RegistryRef, ParsesHostRepositoryTagAndDigest) {
    auto r = parse_registry_ref("127.0.0.1:5000/team/app:v1.2");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->host, "127.0.0.1:5000");
    EXPECT_EQ(r->repository, "team/app");
    EXPECT_EQ(r->tag, "v1.2");
    EXPECT_EQ(r->reference(), "v1.2");

    std::string digest = "sha256:" + std::string(64, '0');
    auto d = parse_registry_ref("registry.example.com/app@" + digest);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->repository, "app");
    EXPECT_TRUE(d->tag.empty());
    EXPECT_EQ(d->reference(), digest);
    EXPECT_EQ(d->text(), "registry.example.com/app@" + digest);

    auto plain = parse_registry_ref("localhost/myrepo");
    ASSERT_TRUE(plain);
    EXPECT_TRUE(plain->reference().empty());
}

TEST(RegistryRef, RejectsReferencesWithoutHostOrWithBadParts) {
    for (const char* bad :
         {"myrepo", "library/app", "http://127.0.0.1:5000/app", "127.0.0.1:5000/App",
          "127.0.0.1:5000/", "127.0.0.1:5000/app:bad tag", "127.0.0.1:5000/app@sha256:123"}) {
        auto r = parse_registry_ref(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_NE(r.error().message.find("invalid image reference"), std::string::npos);
    }
}

TEST(RegistryRef, PlainHttpOnlyForLoopbackOrWhenInsecure) {
    EXPECT_EQ(registry_scheme("127.0.0.1:5000", false), "http");
    EXPECT_EQ(registry_scheme("localhost", false), "http");
    EXPECT_EQ(registry_scheme("[::1]:5000", false), "http");
    EXPECT_EQ(registry_scheme("registry.example.com", false), "https");
    EXPECT_EQ(registry_scheme("127.0.0.2:5000", false), "https");
    EXPECT_EQ(registry_scheme("registry.internal:5000", true), "http");
}

TEST(RegistryAuth, ParsesChallenges) {
    auto c = parse_challenge(
        R"(Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push")");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->scheme, "bearer");
    EXPECT_EQ(c->param("realm"), "https://auth.example.com/token");
    EXPECT_EQ(c->param("service"), "registry.example.com");
    EXPECT_EQ(c->param("scope"), "repository:a/b:pull,push");
    auto basic = parse_challenge("Basic realm=basic-realm");
    ASSERT_TRUE(basic);
    EXPECT_EQ(basic->scheme, "basic");
    EXPECT_EQ(basic->param("realm"), "basic-realm");
    EXPECT_FALSE(parse_challenge(""));
}

TEST(RegistryAuth, EncodesBasicAuthorizationAndUrls) {
    EXPECT_EQ(basic_authorization("AWS", "pw"), "Basic QVdTOnB3");
    EXPECT_EQ(url_encode("sha256:ab/c d"), "sha256%3Aab%2Fc%20d");
    EXPECT_EQ(*token_from_response(R"({"access_token":"x"})"), "x");
    EXPECT_FALSE(token_from_response("{}"));
}

}  // namespace
}  // namespace hypertest::oci
