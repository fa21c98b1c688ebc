#include <gtest/gtest.h>

#include "oci/image.hpp"
#include "oci/test_support.hpp"
#include "util/json.hpp"
#include "util/sha256.hpp"

namespace hypertest::oci {
namespace {

using test::read_text;
using test::ScratchDir;
using test::write_text;

util::Json read_json(const fs::path& path) { return util::Json::parse(read_text(path)); }

TEST(ImageLayout, OpenCreatesAnEmptyLayout) {
    ScratchDir dir;
    auto layout = ImageLayout::open(dir / "new/layout");
    ASSERT_TRUE(layout.ok()) << layout.error().message;
    EXPECT_EQ(read_json(dir / "new/layout/oci-layout")["imageLayoutVersion"], "1.0.0");
    auto index = read_json(dir / "new/layout/index.json");
    EXPECT_EQ(index["schemaVersion"], 2);
    EXPECT_TRUE(index["manifests"].is_array());
    EXPECT_TRUE(index["manifests"].empty());
    EXPECT_TRUE(fs::is_directory(dir / "new/layout/blobs/sha256"));
}

TEST(ImageLayout, OpenRefusesANonEmptyDirectoryThatIsNotALayout) {
    ScratchDir dir;
    write_text(dir / "project/README", "hello");
    auto layout = ImageLayout::open(dir / "project");
    ASSERT_FALSE(layout.ok());
    EXPECT_NE(layout.error().message.find("not an OCI image layout"), std::string::npos);
    EXPECT_FALSE(fs::exists(dir / "project/oci-layout"));
}

TEST(ImageLayout, ReopenKeepsBlobsAndTags) {
    ScratchDir dir;
    std::string digest;
    {
        auto layout = ImageLayout::open(dir.path());
        ASSERT_TRUE(layout.ok());
        digest = *layout->write_blob("manifest bytes");
        ASSERT_TRUE(
            layout->tag(digest, 14, "application/vnd.oci.image.manifest.v1+json", "v1").ok());
    }
    auto again = ImageLayout::open(dir.path());
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(*again->read_blob(digest), "manifest bytes");
    EXPECT_EQ(*again->resolve("v1"), digest);
}

TEST(ImageLayout, WriteBlobStoresByContentDigest) {
    ScratchDir dir;
    auto layout = ImageLayout::open(dir.path());
    ASSERT_TRUE(layout.ok());
    auto digest = layout->write_blob("hello");
    ASSERT_TRUE(digest.ok());
    EXPECT_EQ(*digest, "sha256:" + util::sha256_hex("hello"));
    EXPECT_TRUE(layout->has_blob(*digest));
    EXPECT_EQ(read_text(dir / ("blobs/sha256/" + digest->substr(7))), "hello");
    EXPECT_FALSE(layout->has_blob("sha256:../../etc/passwd"));
    EXPECT_FALSE(layout->read_blob("sha256:nothex").ok());
}

TEST(ImageLayout, ReadBlobDetectsCorruption) {
    ScratchDir dir;
    auto layout = ImageLayout::open(dir.path());
    ASSERT_TRUE(layout.ok());
    std::string digest = *layout->write_blob("original content");
    write_text(layout->blob_path(digest), "tampered content");
    auto bytes = layout->read_blob(digest);
    ASSERT_FALSE(bytes.ok());
    EXPECT_NE(bytes.error().message.find(digest), std::string::npos);
    EXPECT_NE(bytes.error().message.find("corrupt"), std::string::npos);
}

TEST(ImageLayout, TagReplacesTheEntryWithTheSameName) {
    ScratchDir dir;
    auto layout = ImageLayout::open(dir.path());
    ASSERT_TRUE(layout.ok());
    std::string one = *layout->write_blob("one");
    std::string two = *layout->write_blob("two");
    const std::string type = "application/vnd.oci.image.manifest.v1+json";
    ASSERT_TRUE(layout->tag(one, 3, type, "latest").ok());
    ASSERT_TRUE(layout->tag(one, 3, type, "stable").ok());
    ASSERT_TRUE(layout->tag(two, 3, type, "latest").ok());
    EXPECT_EQ(*layout->resolve("latest"), two);
    EXPECT_EQ(*layout->resolve("stable"), one);
    auto manifests = read_json(dir / "index.json")["manifests"];
    ASSERT_EQ(manifests.size(), 2u);
    for (const auto& m : manifests) {
        EXPECT_EQ(m["mediaType"], type);
        EXPECT_EQ(m["size"], 3);
    }
    auto missing = layout->resolve("nightly");
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message.find("latest"), std::string::npos);
}

ImageSpec sample_spec() {
    Layer layer;
    layer.digest = "sha256:" + util::sha256_hex("layer");
    layer.diff_id = "sha256:" + util::sha256_hex("tar");
    layer.size = 5;
    ImageSpec spec;
    spec.layers = {layer};
    spec.entrypoint = {"/usr/local/bin/hypertest-runner"};
    spec.env = {"PATH=/usr/bin", "HYPERTEST=1"};
    spec.working_dir = "/var/task";
    spec.labels = {{"org.example.suite", "e2e"}};
    return spec;
}

TEST(ImageWriter, WritesConfigManifestAndTag) {
    ScratchDir dir;
    auto layout = ImageLayout::open(dir.path());
    ASSERT_TRUE(layout.ok());
    auto image = write_image(*layout, sample_spec(), "tests");
    ASSERT_TRUE(image.ok()) << image.error().message;
    EXPECT_EQ(*layout->resolve("tests"), image->manifest_digest);

    std::string manifest_text = *layout->read_blob(image->manifest_digest);
    EXPECT_EQ(image->manifest_size, static_cast<std::int64_t>(manifest_text.size()));
    auto manifest = util::Json::parse(manifest_text);
    EXPECT_EQ(manifest["schemaVersion"], 2);
    EXPECT_EQ(manifest["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    EXPECT_EQ(manifest["config"]["mediaType"], "application/vnd.oci.image.config.v1+json");
    EXPECT_EQ(manifest["config"]["digest"], image->config_digest);
    ASSERT_EQ(manifest["layers"].size(), 1u);
    EXPECT_EQ(manifest["layers"][0]["digest"], sample_spec().layers[0].digest);
    EXPECT_EQ(manifest["layers"][0]["mediaType"], "application/vnd.oci.image.layer.v1.tar+gzip");

    std::string config_text = *layout->read_blob(image->config_digest);
    EXPECT_EQ(manifest["config"]["size"], config_text.size());
    auto config = util::Json::parse(config_text);
    EXPECT_EQ(config["os"], "linux");
    EXPECT_EQ(config["architecture"], "amd64");
    EXPECT_EQ(config["created"], "1970-01-01T00:00:00Z");
    EXPECT_EQ(config["config"]["Entrypoint"][0], "/usr/local/bin/hypertest-runner");
    EXPECT_EQ(config["config"]["Env"].size(), 2u);
    EXPECT_EQ(config["config"]["WorkingDir"], "/var/task");
    EXPECT_EQ(config["config"]["Labels"]["org.example.suite"], "e2e");
    EXPECT_EQ(config["rootfs"]["type"], "layers");
    EXPECT_EQ(config["rootfs"]["diff_ids"][0], sample_spec().layers[0].diff_id);
    ASSERT_EQ(config["history"].size(), 1u);
    EXPECT_EQ(config["history"][0]["created"], "1970-01-01T00:00:00Z");
}

TEST(ImageWriter, SameSpecGivesSameDigestsAnywhere) {
    ScratchDir a, b;
    auto layout_a = ImageLayout::open(a.path());
    auto layout_b = ImageLayout::open(b.path());
    ASSERT_TRUE(layout_a.ok() && layout_b.ok());
    auto first = write_image(*layout_a, sample_spec(), "x");
    auto second = write_image(*layout_b, sample_spec(), "y");
    ASSERT_TRUE(first.ok() && second.ok());
    EXPECT_EQ(first->manifest_digest, second->manifest_digest);
    EXPECT_EQ(first->config_digest, second->config_digest);
    ImageSpec changed = sample_spec();
    changed.env.push_back("EXTRA=1");
    auto third = write_image(*layout_a, changed, "x");
    ASSERT_TRUE(third.ok());
    EXPECT_NE(third->manifest_digest, first->manifest_digest);
}

TEST(ImageWriter, RejectsInvalidLayers) {
    ScratchDir dir;
    auto layout = ImageLayout::open(dir.path());
    ASSERT_TRUE(layout.ok());
    ImageSpec spec = sample_spec();
    spec.layers[0].digest = "md5:abc";
    EXPECT_FALSE(write_image(*layout, spec, "bad").ok());
    EXPECT_FALSE(write_image(*layout, ImageSpec{}, "empty").ok());
}

}  // namespace
}  // namespace hypertest::oci
