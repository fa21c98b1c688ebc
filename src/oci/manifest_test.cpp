#include "oci/manifest.hpp"

#include <gtest/gtest.h>

namespace hypertest::oci {
namespace {

const std::string k_d1 = "sha256:" + std::string(64, 'a');
const std::string k_d2 = "sha256:" + std::string(64, 'b');
const std::string k_d3 = "sha256:" + std::string(64, 'c');

std::string image_manifest(const std::string& type) {
    util::Json j = {{"schemaVersion", 2},
                    {"config", {{"mediaType", "x"}, {"digest", k_d1}, {"size", 10}}},
                    {"layers", {{{"mediaType", "y"}, {"digest", k_d2}, {"size", 20}}}}};
    if (!type.empty()) j["mediaType"] = type;
    return j.dump();
}

util::Json entry(const std::string& digest, const std::string& os, const std::string& arch) {
    return {{"mediaType", std::string(k_oci_manifest)},
            {"digest", digest},
            {"size", 100},
            {"platform", {{"os", os}, {"architecture", arch}}}};
}

TEST(Manifest, ParsesOciAndDockerManifests) {
    auto oci = parse_manifest(image_manifest(std::string(k_oci_manifest)), "");
    ASSERT_TRUE(oci) << oci.error().message;
    EXPECT_EQ(oci->media_type, k_oci_manifest);
    EXPECT_FALSE(oci->is_index);
    EXPECT_EQ(oci->config.digest, k_d1);
    ASSERT_EQ(oci->layers.size(), 1u);
    EXPECT_EQ(oci->layers[0].size, 20);

    auto docker = parse_manifest(image_manifest(std::string(k_docker_manifest)),
                                 std::string(k_docker_manifest) + "; charset=utf-8");
    ASSERT_TRUE(docker) << docker.error().message;
    EXPECT_EQ(docker->media_type, k_docker_manifest);
}

TEST(Manifest, TypeComesFromContentTypeWhenTheDocumentHasNone) {
    auto m = parse_manifest(image_manifest(""), k_docker_manifest);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->media_type, k_docker_manifest);
    auto guessed = parse_manifest(image_manifest(""), "application/octet-stream");
    ASSERT_TRUE(guessed);
    EXPECT_EQ(guessed->media_type, k_oci_manifest);
}

TEST(Manifest, RejectsMalformedDocuments) {
    for (const std::string& bad :
         {std::string("not json"), std::string("[]"), std::string("{\"schemaVersion\":1}"),
          util::Json{{"schemaVersion", 2},
                     {"mediaType", std::string(k_oci_manifest)},
                     {"layers", util::Json::array()}}
              .dump(),
          util::Json{{"schemaVersion", 2},
                     {"mediaType", std::string(k_oci_manifest)},
                     {"config", {{"digest", "md5:abc"}, {"size", 1}}},
                     {"layers", util::Json::array()}}
              .dump(),
          util::Json{
              {"schemaVersion", 2}, {"mediaType", std::string(k_oci_index)}, {"manifests", 3}}
              .dump(),
          util::Json{{"schemaVersion", 2}, {"mediaType", "application/vnd.foo"}}.dump()}) {
        auto m = parse_manifest(bad, "");
        ASSERT_FALSE(m) << bad;
        EXPECT_NE(m.error().message.find("malformed manifest"), std::string::npos)
            << m.error().message;
    }
}

TEST(Manifest, RejectsAContentTypeThatContradictsTheDocument) {
    auto m = parse_manifest(image_manifest(std::string(k_oci_manifest)), k_docker_manifest);
    ASSERT_FALSE(m);
    EXPECT_NE(m.error().message.find("declares"), std::string::npos);
}

ParsedManifest index_of(const util::Json& entries) {
    util::Json j = {
        {"schemaVersion", 2}, {"mediaType", std::string(k_oci_index)}, {"manifests", entries}};
    auto m = parse_manifest(j.dump(), "");
    EXPECT_TRUE(m) << m.error().message;
    return *m;
}

TEST(Manifest, SelectsThePlatformAndSkipsAttestations) {
    util::Json attestation = entry(k_d3, "unknown", "unknown");
    util::Json annotated = entry(k_d3, "linux", "amd64");
    annotated["annotations"] = {{"vnd.docker.reference.type", "attestation-manifest"}};
    auto index = index_of(
        {attestation, annotated, entry(k_d1, "linux", "amd64"), entry(k_d2, "linux", "arm64")});
    auto amd = select_platform(index, Platform{});
    ASSERT_TRUE(amd) << amd.error().message;
    EXPECT_EQ(amd->digest, k_d1);
    auto arm = select_platform(index, *parse_platform("arm64"));
    ASSERT_TRUE(arm);
    EXPECT_EQ(arm->digest, k_d2);
}

TEST(Manifest, MissingPlatformNamesWhatTheIndexOffers) {
    auto index = index_of({entry(k_d1, "linux", "amd64"), entry(k_d3, "unknown", "unknown")});
    auto got = select_platform(index, *parse_platform("linux/arm64"));
    ASSERT_FALSE(got);
    EXPECT_NE(got.error().message.find("no linux/arm64 image"), std::string::npos)
        << got.error().message;
    EXPECT_NE(got.error().message.find("linux/amd64"), std::string::npos);
    EXPECT_EQ(got.error().message.find("unknown"), std::string::npos);
}

TEST(Manifest, ParsesPlatforms) {
    EXPECT_EQ(parse_platform("arm64")->text(), "linux/arm64");
    EXPECT_EQ(parse_platform("linux/arm64/v8")->variant, "v8");
    EXPECT_FALSE(parse_platform("a/b/c/d"));
    EXPECT_FALSE(parse_platform("linux/"));
}

TEST(Manifest, AcceptHeaderListsAllFourTypes) {
    std::string accept = manifest_accept_header();
    for (auto type : {k_oci_manifest, k_oci_index, k_docker_manifest, k_docker_list})
        EXPECT_NE(accept.find(type), std::string::npos) << type;
}

}  // namespace
}  // namespace hypertest::oci
