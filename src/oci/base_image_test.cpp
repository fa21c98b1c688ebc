#include "oci/base_image.hpp"

#include <gtest/gtest.h>

#include "oci/test_support.hpp"

namespace hypertest::oci {
namespace {

using test::ScratchDir;
using test::write_text;

// A base image written by hand, the way other tools write them: its own history, Cmd,
// labels, a variant, and (optionally) Docker v2 layer media types.
struct BaseFixture {
    std::string manifest_digest;
    std::string layer_digest;
    std::string diff_id;
};

BaseFixture write_base(const fs::path& layout_dir, const std::string& tag,
                       const std::string& arch, const util::Json& runtime,
                       const std::string& layer_type = "application/vnd.oci.image.layer.v1.tar+gzip") {
    auto layout = ImageLayout::open(layout_dir).take_or_fatal();
    fs::path src = layout_dir.parent_path() / ("src-" + tag);
    write_text(src / "usr/local/bin/hypertest-runner", "#!/bin/sh\n");
    fs::permissions(src / "usr/local/bin/hypertest-runner", fs::perms::owner_exec, fs::perm_options::add);
    auto layer = build_layer(src, {"usr"}, layout).take_or_fatal();
    util::Json config = {{"architecture", arch},
                         {"os", "linux"},
                         {"variant", "v8"},
                         {"config", runtime},
                         {"rootfs", {{"type", "layers"}, {"diff_ids", {layer.diff_id}}}},
                         {"history", {{{"created_by", "base step"}}}}};
    std::string config_text = config.dump();
    std::string config_digest = layout.write_blob(config_text).take_or_fatal();
    std::string manifest =
        util::Json{{"schemaVersion", 2},
                   {"mediaType", std::string(k_oci_manifest)},
                   {"config",
                    {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                     {"digest", config_digest},
                     {"size", config_text.size()}}},
                   {"layers", {{{"mediaType", layer_type}, {"digest", layer.digest}, {"size", layer.size}}}}}
            .dump();
    std::string digest = layout.write_blob(manifest).take_or_fatal();
    EXPECT_TRUE(layout.tag(digest, static_cast<std::int64_t>(manifest.size()),
                           std::string(k_oci_manifest), tag));
    return {digest, layer.digest, layer.diff_id};
}

util::Json runner_runtime() {
    return {{"Entrypoint", {"/usr/local/bin/hypertest-runner"}},
            {"Cmd", {"handler"}},
            {"Env", {"PATH=/usr/bin:/bin", "HOME=/root", "NODE_OPTIONS=--max-old-space-size=1536"}},
            {"Labels", {{"base.label", "kept"}, {"dev.hypertest.plugin", "base-value"}}},
            {"User", "1000"}};
}

Platform platform(const std::string& text) { return parse_platform(text).take_or_fatal(); }

util::Json read_json(const ImageLayout& layout, const std::string& digest) {
    return util::parse_json(layout.read_blob(digest).take_or_fatal(), digest).take_or_fatal();
}

// Our two layers on the base, as deploy writes them.
ImageSpec our_spec(const fs::path& project, ImageLayout& layout) {
    write_text(project / "node_modules/dep/index.js", "module.exports = 1;\n");
    write_text(project / "tests/a.spec.ts", "test('a', () => {});\n");
    ImageSpec spec;
    spec.layers = {build_layer(project, {"node_modules"}, layout, {}, "var/task").take_or_fatal(),
                   build_layer(project, {"tests"}, layout, {}, "var/task").take_or_fatal()};
    spec.created_by = {"hypertest: dependencies", "hypertest: tests"};
    spec.entrypoint = {"/usr/local/bin/hypertest-runner"};
    spec.env = {"HOME=/tmp", "LAMBDA_TASK_ROOT=/var/task"};
    spec.working_dir = "/var/task";
    spec.labels = {{"dev.hypertest.plugin", "playwright"}};
    return spec;
}

TEST(BaseSource, ParsesLayoutsAndRegistryReferences) {
    auto tagged = parse_base_source("oci:/srv/images/base:host-base");
    ASSERT_TRUE(tagged) << tagged.error().message;
    EXPECT_TRUE(tagged->is_layout());
    EXPECT_EQ(tagged->layout_dir, "/srv/images/base");
    EXPECT_EQ(tagged->layout_tag, "host-base");
    auto untagged = parse_base_source("oci:base-layout");
    ASSERT_TRUE(untagged);
    EXPECT_EQ(untagged->layout_dir, "base-layout");
    EXPECT_EQ(untagged->layout_tag, "");
    auto reg = parse_base_source("127.0.0.1:5000/team/base");
    ASSERT_TRUE(reg);
    EXPECT_FALSE(reg->is_layout());
    EXPECT_EQ(reg->registry.host, "127.0.0.1:5000");
    EXPECT_EQ(reg->registry.reference(), "latest");
    EXPECT_FALSE(parse_base_source("oci:"));
    EXPECT_FALSE(parse_base_source("oci:dir:"));
    auto bad = parse_base_source("ubuntu:22.04");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("oci:<layout dir>"), std::string::npos) << bad.error().message;
}

TEST(BaseImage, ImageOnBaseKeepsItsLayersEnvHistoryAndEntrypoint) {
    ScratchDir dir;
    auto base = write_base(dir / "base", "b1", "arm64", runner_runtime());
    auto layout = ImageLayout::open(dir / "image").take_or_fatal();
    auto source = parse_base_source("oci:" + (dir / "base").string() + ":b1").take_or_fatal();
    auto loaded = load_base_from_layout(source, platform("linux/arm64"), layout);
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_EQ(loaded->manifest_digest, base.manifest_digest);
    EXPECT_TRUE(layout.has_blob(base.layer_digest));  // copied: the layout is self-contained

    ImageSpec spec = our_spec(dir / "project", layout);
    spec.base = *loaded;
    spec.entrypoint = choose_entrypoint(*loaded, spec.entrypoint);
    auto image = write_image(layout, spec, "app");
    ASSERT_TRUE(image) << image.error().message;

    util::Json manifest = read_json(layout, image->manifest_digest);
    ASSERT_EQ(manifest["layers"].size(), 3u);
    EXPECT_EQ(manifest["layers"][0]["digest"], base.layer_digest);
    EXPECT_EQ(manifest["layers"][2]["digest"], spec.layers[1].digest);
    util::Json config = read_json(layout, image->config_digest);
    EXPECT_EQ(config["architecture"], "arm64");
    EXPECT_EQ(config["variant"], "v8");
    EXPECT_EQ(config["rootfs"]["diff_ids"],
              util::Json({base.diff_id, spec.layers[0].diff_id, spec.layers[1].diff_id}));
    ASSERT_EQ(config["history"].size(), 3u);
    EXPECT_EQ(config["history"][0]["created_by"], "base step");
    EXPECT_EQ(config["history"][2]["created_by"], "hypertest: tests");
    const util::Json& runtime = config["config"];
    EXPECT_EQ(runtime["Env"], util::Json({"PATH=/usr/bin:/bin", "HOME=/tmp",
                                          "NODE_OPTIONS=--max-old-space-size=1536",
                                          "LAMBDA_TASK_ROOT=/var/task"}));
    EXPECT_EQ(runtime["Entrypoint"], util::Json({"/usr/local/bin/hypertest-runner"}));
    EXPECT_EQ(runtime["Cmd"], util::Json({"handler"}));  // same entrypoint: its arguments stay
    EXPECT_EQ(runtime["WorkingDir"], "/var/task");
    EXPECT_EQ(runtime["User"], "1000");
    EXPECT_EQ(runtime["Labels"]["base.label"], "kept");
    EXPECT_EQ(runtime["Labels"]["dev.hypertest.plugin"], "playwright");

    // Unpacked: the base's runner and the project under the working directory.
    ASSERT_TRUE(unpack_image(layout, image->manifest_digest, dir / "root"));
    EXPECT_TRUE(fs::is_regular_file(dir / "root/usr/local/bin/hypertest-runner"));
    EXPECT_TRUE(fs::is_regular_file(dir / "root/var/task/tests/a.spec.ts"));
    EXPECT_TRUE(fs::is_regular_file(dir / "root/var/task/node_modules/dep/index.js"));
    EXPECT_FALSE(fs::exists(dir / "root/tests"));
}

TEST(BaseImage, BaseWithAnotherEntrypointGetsOursAndLosesItsCmd) {
    ScratchDir dir;
    util::Json runtime = {{"Entrypoint", {"/lambda-entrypoint.sh"}}, {"Cmd", {"app.handler"}}};
    write_base(dir / "base", "b", "amd64", runtime, "application/vnd.docker.image.rootfs.diff.tar.gzip");
    auto layout = ImageLayout::open(dir / "image").take_or_fatal();
    auto loaded = load_base_from_layout(parse_base_source("oci:" + (dir / "base").string()).take_or_fatal(),
                                        platform("linux/amd64"), layout);
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_EQ(loaded->layers[0].media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
    ImageSpec spec = our_spec(dir / "project", layout);
    spec.base = *loaded;
    spec.entrypoint = choose_entrypoint(*loaded, spec.entrypoint);
    EXPECT_EQ(spec.entrypoint, std::vector<std::string>{"/usr/local/bin/hypertest-runner"});
    auto image = write_image(layout, spec, "app");
    ASSERT_TRUE(image) << image.error().message;
    util::Json config = read_json(layout, image->config_digest);
    EXPECT_EQ(config["config"]["Entrypoint"], util::Json({"/usr/local/bin/hypertest-runner"}));
    EXPECT_FALSE(config["config"].contains("Cmd"));
}

TEST(BaseImage, WrongPlatformNamesBothPlatformsAndCopiesNoLayer) {
    ScratchDir dir;
    auto base = write_base(dir / "base", "arm", "arm64", runner_runtime());
    auto layout = ImageLayout::open(dir / "image").take_or_fatal();
    auto loaded = load_base_from_layout(
        parse_base_source("oci:" + (dir / "base").string() + ":arm").take_or_fatal(),
        platform("linux/amd64"), layout);
    ASSERT_FALSE(loaded);
    EXPECT_NE(loaded.error().message.find("linux/arm64"), std::string::npos) << loaded.error().message;
    EXPECT_NE(loaded.error().message.find("linux/amd64"), std::string::npos) << loaded.error().message;
    EXPECT_FALSE(layout.has_blob(base.layer_digest));
}

TEST(BaseImage, IndexInTheLayoutIsResolvedByPlatform) {
    ScratchDir dir;
    auto amd = write_base(dir / "base", "amd", "amd64", runner_runtime());
    auto arm = write_base(dir / "base", "arm", "arm64", runner_runtime());
    auto source_layout = ImageLayout::open(dir / "base").take_or_fatal();
    auto entry = [&](const std::string& digest, const std::string& arch) {
        return util::Json{{"mediaType", std::string(k_oci_manifest)},
                          {"digest", digest},
                          {"size", fs::file_size(source_layout.blob_path(digest))},
                          {"platform", {{"os", "linux"}, {"architecture", arch}}}};
    };
    std::string index = util::Json{{"schemaVersion", 2},
                                   {"mediaType", std::string(k_oci_index)},
                                   {"manifests", {entry(amd.manifest_digest, "amd64"),
                                                  entry(arm.manifest_digest, "arm64")}}}
                            .dump();
    std::string index_digest = source_layout.write_blob(index).take_or_fatal();
    ASSERT_TRUE(source_layout.tag(index_digest, static_cast<std::int64_t>(index.size()),
                                  std::string(k_oci_index), "multi"));
    auto layout = ImageLayout::open(dir / "image").take_or_fatal();
    auto source = parse_base_source("oci:" + (dir / "base").string() + ":multi").take_or_fatal();
    auto loaded = load_base_from_layout(source, platform("linux/arm64"), layout);
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_EQ(loaded->manifest_digest, arm.manifest_digest);
    auto missing = load_base_from_layout(source, platform("linux/s390x"), layout);
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("linux/amd64, linux/arm64"), std::string::npos)
        << missing.error().message;
    // Without a tag, a layout holding several images is ambiguous.
    auto untagged = load_base_from_layout(parse_base_source("oci:" + (dir / "base").string()).take_or_fatal(),
                                          platform("linux/arm64"), layout);
    ASSERT_FALSE(untagged);
    EXPECT_NE(untagged.error().message.find("oci:<path>:<tag>"), std::string::npos);
}

TEST(BaseImage, SameBaseAndInputsGiveTheSameDigest) {
    ScratchDir dir;
    write_base(dir / "base", "b", "amd64", runner_runtime());
    auto source = parse_base_source("oci:" + (dir / "base").string() + ":b").take_or_fatal();
    std::vector<std::string> digests;
    for (const char* name : {"one", "two"}) {
        auto layout = ImageLayout::open(dir / name).take_or_fatal();
        ImageSpec spec = our_spec(dir / (std::string("project-") + name), layout);
        spec.base = load_base_from_layout(source, platform("linux/amd64"), layout).take_or_fatal();
        digests.push_back(write_image(layout, spec, "app").take_or_fatal().manifest_digest);
    }
    EXPECT_EQ(digests[0], digests[1]);
    // Another base (one more env var) gives another image.
    util::Json other = runner_runtime();
    other["Env"].push_back("EXTRA=1");
    write_base(dir / "base2", "b", "amd64", other);
    auto layout = ImageLayout::open(dir / "three").take_or_fatal();
    ImageSpec spec = our_spec(dir / "project-three", layout);
    spec.base = load_base_from_layout(parse_base_source("oci:" + (dir / "base2").string()).take_or_fatal(),
                                      platform("linux/amd64"), layout)
                    .take_or_fatal();
    EXPECT_NE(write_image(layout, spec, "app").take_or_fatal().manifest_digest, digests[0]);
}

TEST(BaseImage, CorruptBlobInTheSourceLayoutIsRefused) {
    ScratchDir dir;
    auto base = write_base(dir / "base", "b", "amd64", runner_runtime());
    auto source_layout = ImageLayout::open(dir / "base").take_or_fatal();
    write_text(source_layout.blob_path(base.layer_digest), "not the layer");
    auto layout = ImageLayout::open(dir / "image").take_or_fatal();
    auto loaded = load_base_from_layout(parse_base_source("oci:" + (dir / "base").string()).take_or_fatal(),
                                        platform("linux/amd64"), layout);
    ASSERT_FALSE(loaded);
    EXPECT_NE(loaded.error().message.find("corrupt"), std::string::npos) << loaded.error().message;
    EXPECT_FALSE(layout.has_blob(base.layer_digest));
}

TEST(LayerPrefix, EntriesGoBelowThePrefixAndBadPrefixesFail) {
    ScratchDir dir;
    write_text(dir / "project/tests/a.spec.ts", "x");
    auto layout = ImageLayout::open(dir / "image").take_or_fatal();
    auto layer = build_layer(dir / "project", {"tests"}, layout, {}, "var/task/");
    ASSERT_TRUE(layer) << layer.error().message;
    auto entries = test::list_tar(test::read_text(layout.blob_path(layer->digest)));
    std::vector<std::string> names;
    for (const auto& e : entries) names.push_back(e.path);
    EXPECT_EQ(names, (std::vector<std::string>{"var/", "var/task/", "var/task/tests/",
                                               "var/task/tests/a.spec.ts"}));
    auto plain = build_layer(dir / "project", {"tests"}, layout);
    ASSERT_TRUE(plain);
    EXPECT_NE(plain->digest, layer->digest);
    for (const char* bad : {"/var/task", "../x", "var/./task", "var//task"})
        EXPECT_FALSE(build_layer(dir / "project", {"tests"}, layout, {}, bad)) << bad;
}

}  // namespace
}  // namespace hypertest::oci
