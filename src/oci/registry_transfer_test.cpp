#include "oci/registry_transfer.hpp"

#include <gtest/gtest.h>

#include "oci/fake_registry.hpp"
#include "oci/test_support.hpp"

namespace hypertest::oci {
namespace {

using test::FakeRegistry;

struct Fixture {
    test::ScratchDir dir;
    FakeRegistry* fake = nullptr;
    std::unique_ptr<RegistryClient> client;

    Fixture() {
        auto owned = std::make_unique<FakeRegistry>();
        fake = owned.get();
        RegistryOptions options;
        options.sleep = [](std::chrono::milliseconds) {};
        client = std::make_unique<RegistryClient>("127.0.0.1:5000", options, std::move(owned));
    }

    // An image with a dependency layer and a test layer, tagged `tag` in layout `name`.
    WrittenImage image(const std::string& name, const std::string& tag,
                       const std::string& test_text, const std::string& arch = "amd64") {
        auto layout = ImageLayout::open(dir / name);
        test::write_text(dir / ("src-" + tag) / "node_modules/dep.js", "dependency");
        test::write_text(dir / ("src-" + tag) / "tests/a.spec.ts", test_text);
        ImageSpec spec;
        spec.architecture = arch;
        spec.layers = {*build_layer(dir / ("src-" + tag), {"node_modules"}, *layout),
                       *build_layer(dir / ("src-" + tag), {"tests"}, *layout)};
        return *write_image(*layout, spec, tag);
    }
};

TEST(RegistryTransfer, PushUploadsOnceThenOnlyChecksWithHead) {
    Fixture s;
    auto img = s.image("layout", "v1", "test one");
    auto layout = ImageLayout::open(s.dir / "layout");
    auto first = push_image(*s.client, *layout, img.manifest_digest, "app", "v1");
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(first->count(BlobAction::uploaded), 3);  // config + 2 layers
    EXPECT_EQ(first->manifests_uploaded, 1);
    EXPECT_GT(first->bytes(BlobAction::uploaded), 0);
    EXPECT_EQ(s.fake->manifests["app"]["v1"].media_type, k_oci_manifest);

    std::size_t before = s.fake->log.size();
    auto second = push_image(*s.client, *layout, img.manifest_digest, "app", "v1");
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(second->count(BlobAction::skipped), 3);
    EXPECT_EQ(second->manifests_uploaded, 0);
    EXPECT_EQ(second->manifests_skipped, 1);
    for (std::size_t i = before; i < s.fake->log.size(); ++i)
        EXPECT_EQ(s.fake->log[i].method, "HEAD") << s.fake->log[i].url;
    EXPECT_NE(second->summary().find("3 blobs skipped"), std::string::npos) << second->summary();
}

TEST(RegistryTransfer, ChangingOneTestFileUploadsOneLayerOneConfigOneManifest) {
    Fixture s;
    auto v1 = s.image("layout", "v1", "test one");
    auto layout = ImageLayout::open(s.dir / "layout");
    ASSERT_TRUE(push_image(*s.client, *layout, v1.manifest_digest, "app", "latest"));
    auto v2 = s.image("layout", "v2", "test two");
    auto report = push_image(*s.client, *layout, v2.manifest_digest, "app", "latest");
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->count(BlobAction::uploaded), 2);  // new test layer + new config
    EXPECT_EQ(report->count(BlobAction::skipped), 1);   // dependency layer
    EXPECT_EQ(report->manifests_uploaded, 1);
}

TEST(RegistryTransfer, PullStoresAVerifiedImageThatUnpacks) {
    Fixture s;
    auto img = s.image("src-layout", "v1", "pulled test");
    auto src = ImageLayout::open(s.dir / "src-layout");
    ASSERT_TRUE(push_image(*s.client, *src, img.manifest_digest, "app", "v1"));
    auto dst = ImageLayout::open(s.dir / "dst-layout");
    PullOptions options;
    options.tag = "pulled";
    auto report = pull_image(*s.client, "app", img.manifest_digest, *dst, options);
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->manifest_digest, img.manifest_digest);
    EXPECT_EQ(report->count(BlobAction::downloaded), 3);
    EXPECT_EQ(report->platform, "linux/amd64");
    EXPECT_EQ(*dst->resolve("pulled"), img.manifest_digest);
    ASSERT_TRUE(unpack_image(*dst, img.manifest_digest, s.dir / "rootfs"));
    EXPECT_EQ(test::read_text(s.dir / "rootfs/tests/a.spec.ts"), "pulled test");

    auto again = pull_image(*s.client, "app", "v1", *dst, options);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->count(BlobAction::present), 3);
}

TEST(RegistryTransfer, PullThroughAnIndexChoosesThePlatform) {
    Fixture s;
    auto amd = s.image("layout", "amd", "amd test", "amd64");
    auto arm = s.image("layout", "arm", "arm test", "arm64");
    auto layout = ImageLayout::open(s.dir / "layout");
    std::string attestation_config = *layout->write_blob("{}");
    std::string attestation = *layout->write_blob(util::Json{
        {"schemaVersion", 2},
        {"mediaType", std::string(k_oci_manifest)},
        {"config",
         {{"mediaType", "application/vnd.oci.image.config.v1+json"},
          {"digest", attestation_config},
          {"size", 2}}},
        {"layers", util::Json::array()}}.dump());
    auto entry = [&](const std::string& digest, const std::string& arch) {
        return util::Json{
            {"mediaType", std::string(k_oci_manifest)},
            {"digest", digest},
            {"size", fs::file_size(layout->blob_path(digest))},
            {"platform",
             {{"os", arch == "unknown" ? "unknown" : "linux"}, {"architecture", arch}}}};
    };
    std::string index = util::Json{
        {"schemaVersion", 2},
        {"mediaType", std::string(k_oci_index)},
        {"manifests",
         {entry(attestation, "unknown"), entry(amd.manifest_digest, "amd64"),
          entry(arm.manifest_digest,
                "arm64")}}}.dump();
    std::string index_digest = *layout->write_blob(index);
    auto pushed = push_image(*s.client, *layout, index_digest, "multi", "v1");
    ASSERT_TRUE(pushed) << pushed.error().message;
    EXPECT_EQ(pushed->manifests_uploaded, 4);
    EXPECT_EQ(pushed->media_type, k_oci_index);

    auto dst = ImageLayout::open(s.dir / "dst");
    PullOptions options;
    options.platform = *parse_platform("arm64");
    auto report = pull_image(*s.client, "multi", "v1", *dst, options);
    ASSERT_TRUE(report) << report.error().message;
    EXPECT_EQ(report->manifest_digest, arm.manifest_digest);
    EXPECT_EQ(report->index_digest, index_digest);
    EXPECT_EQ(report->platform, "linux/arm64");
    auto amd_pull = pull_image(*s.client, "multi", "v1", *dst);
    ASSERT_TRUE(amd_pull);
    EXPECT_EQ(amd_pull->manifest_digest, amd.manifest_digest);
    options.platform = *parse_platform("linux/s390x");
    auto none = pull_image(*s.client, "multi", "v1", *dst, options);
    ASSERT_FALSE(none);
    EXPECT_NE(none.error().message.find("no linux/s390x image"), std::string::npos);
}

TEST(RegistryTransfer, SingleImageOfAnotherPlatformIsRefused) {
    Fixture s;
    auto arm = s.image("layout", "arm", "arm test", "arm64");
    auto layout = ImageLayout::open(s.dir / "layout");
    ASSERT_TRUE(push_image(*s.client, *layout, arm.manifest_digest, "app", "arm"));
    auto dst = ImageLayout::open(s.dir / "dst");
    auto report = pull_image(*s.client, "app", "arm", *dst);
    ASSERT_FALSE(report);
    EXPECT_NE(report.error().message.find("wrong platform"), std::string::npos)
        << report.error().message;
    EXPECT_EQ(s.fake->count("GET"), 2);  // manifest and config; no layer was downloaded
}

TEST(RegistryTransfer, CorruptBlobIsNotStored) {
    Fixture s;
    auto img = s.image("layout", "v1", "x");
    auto layout = ImageLayout::open(s.dir / "layout");
    ASSERT_TRUE(push_image(*s.client, *layout, img.manifest_digest, "app", "v1"));
    s.fake->tamper = [](util::HttpResponse& r, const util::HttpRequest& req) {
        if (req.method == "GET" && req.url.find("/blobs/") != std::string::npos &&
            r.body.size() > 100)
            r.body[50] ^= 1;
    };
    auto dst = ImageLayout::open(s.dir / "dst");
    auto report = pull_image(*s.client, "app", "v1", *dst);
    ASSERT_FALSE(report);
    EXPECT_NE(report.error().message.find("digest mismatch"), std::string::npos);
    for (const auto& e : fs::directory_iterator(s.dir / "dst/blobs/sha256")) {
        auto text = test::read_text(e.path());
        EXPECT_EQ("sha256:" + util::sha256_hex(text), "sha256:" + e.path().filename().string());
    }
}

TEST(RegistryTransfer, PushFailsWhenTheLayoutLacksABlob) {
    Fixture s;
    auto img = s.image("layout", "v1", "x");
    auto layout = ImageLayout::open(s.dir / "layout");
    fs::remove(layout->blob_path(img.config_digest));
    auto report = push_image(*s.client, *layout, img.manifest_digest, "app", "v1");
    ASSERT_FALSE(report);
    EXPECT_NE(report.error().message.find("missing from"), std::string::npos);
}

TEST(RegistryTransfer, FormatsBytes) {
    EXPECT_EQ(format_bytes(512), "512 B");
    EXPECT_EQ(format_bytes(1500), "1.5 kB");
    EXPECT_EQ(format_bytes(104857600), "104.9 MB");
}

}  // namespace
}  // namespace hypertest::oci
