#include <gtest/gtest.h>
#include <sys/stat.h>

#include "oci/image.hpp"
#include "oci/test_support.hpp"

namespace hypertest::oci {
namespace {

using test::craft_tar_gz;
using test::image_from_tar_gz;
using test::read_text;
using test::ScratchDir;
using test::TarEntry;
using test::write_text;

std::string build_image(ImageLayout& layout, const std::vector<fs::path>& roots,
                        const std::string& tag) {
    ImageSpec spec;
    for (const auto& root : roots) {
        auto layer = build_layer(root, {"."}, layout);
        EXPECT_TRUE(layer.ok()) << layer.error().message;
        spec.layers.push_back(*layer);
    }
    auto image = write_image(layout, spec, tag);
    EXPECT_TRUE(image.ok()) << image.error().message;
    return image->manifest_digest;
}

// Every path under root (relative) with its file content or link target.
std::map<std::string, std::string> snapshot(const fs::path& root) {
    std::map<std::string, std::string> files;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
         ++it) {
        std::string rel = it->path().lexically_relative(root).generic_string();
        if (it->is_symlink()) {
            files[rel] = "-> " + fs::read_symlink(it->path()).string();
        } else if (it->is_regular_file()) {
            files[rel] = read_text(it->path());
        } else {
            files[rel] = "<dir>";
        }
    }
    return files;
}

TEST(Unpack, RoundTripRestoresContentsModesAndSymlinks) {
    ScratchDir src, out;
    write_text(src / "package.json", "{}\n");
    write_text(src / "tests/a.spec.ts", "test a\n");
    write_text(src / "tests/grüße/日本.spec.ts", "test ü\n");
    write_text(src / ("node_modules/" + std::string(120, 'd') + "/" + std::string(120, 'f')),
               "long");
    write_text(src / "node_modules/pkg/index.js", "module.exports = 1;\n");
    write_text(src / "node_modules/pkg/cli.js", "#!/usr/bin/env node\n");
    fs::permissions(src / "node_modules/pkg/cli.js", fs::perms(0755));
    fs::create_directories(src / "node_modules/.bin");
    fs::create_symlink("../pkg/cli.js", src / "node_modules/.bin/pkg");
    fs::create_symlink("/usr/bin/env", src / "abs-link");
    auto layout = ImageLayout::open(out / "layout");
    ASSERT_TRUE(layout.ok());
    std::string manifest = build_image(*layout, {src.path()}, "t");
    auto status = unpack_image(*layout, manifest, out / "root");
    ASSERT_TRUE(status.ok()) << status.error().message;
    EXPECT_EQ(snapshot(out / "root"), snapshot(src.path()));
    EXPECT_EQ(fs::read_symlink(out / "root/node_modules/.bin/pkg"), "../pkg/cli.js");
    EXPECT_EQ(read_text(out / "root/node_modules/.bin/pkg"), "#!/usr/bin/env node\n");
    struct stat st {};
    ASSERT_EQ(::stat((out / "root/node_modules/pkg/cli.js").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0755u);
    ASSERT_EQ(::stat((out / "root/package.json").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644u);
}

TEST(Unpack, AppliesWhiteoutsFromUpperLayers) {
    ScratchDir lower, upper, out;
    write_text(lower / "a/keep.txt", "keep");
    write_text(lower / "a/gone.txt", "gone");
    write_text(lower / "b/old1.txt", "old");
    write_text(lower / "b/sub/old2.txt", "old");
    write_text(upper / "a/.wh.gone.txt", "");
    write_text(upper / "b/.wh..wh..opq", "");
    write_text(upper / "b/-first.txt", "sorts before the opaque marker");
    write_text(upper / "b/sub/new.txt", "new");
    auto layout = ImageLayout::open(out / "layout");
    ASSERT_TRUE(layout.ok());
    std::string manifest = build_image(*layout, {lower.path(), upper.path()}, "t");
    auto status = unpack_image(*layout, manifest, out / "root");
    ASSERT_TRUE(status.ok()) << status.error().message;
    std::map<std::string, std::string> expected = {
        {"a", "<dir>"},     {"a/keep.txt", "keep"},
        {"b", "<dir>"},     {"b/-first.txt", "sorts before the opaque marker"},
        {"b/sub", "<dir>"}, {"b/sub/new.txt", "new"},
    };
    EXPECT_EQ(snapshot(out / "root"), expected);
}

struct Hostile {
    std::string name;
    std::vector<TarEntry> entries;
};

TEST(Unpack, RefusesEntriesThatEscapeTheTarget) {
    ScratchDir work;
    fs::path outside = work / "outside";
    fs::create_directories(outside);
    fs::path target = work / "deep/target";
    std::vector<Hostile> cases = {
        {"dotdot", {{"../../outside/evil", AE_IFREG, 0644, "x"}}},
        {"nested-dotdot", {{"ok/../../../outside/evil", AE_IFREG, 0644, "x"}}},
        {"absolute", {{(outside / "evil").string(), AE_IFREG, 0644, "x"}}},
        {"absolute-symlink-parent",
         {{"link", AE_IFLNK, 0777, outside.string()}, {"link/evil", AE_IFREG, 0644, "x"}}},
        {"relative-symlink-parent",
         {{"up", AE_IFLNK, 0777, "../../outside"}, {"up/evil", AE_IFREG, 0644, "x"}}},
    };
    for (const std::string& link :
         {std::string("../../outside/secret"), (outside / "secret").string()}) {
        cases.push_back({"hardlink " + link, {TarEntry("hl", AE_IFREG, 0644, "", link)}});
    }
    write_text(outside / "secret", "s");
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const auto& c = cases[i];
        SCOPED_TRACE(c.name);
        auto layout = ImageLayout::open(work / ("layout-" + std::to_string(i)));
        ASSERT_TRUE(layout.ok());
        std::string manifest = image_from_tar_gz(*layout, craft_tar_gz(c.entries), "t");
        auto status = unpack_image(*layout, manifest, target);
        ASSERT_FALSE(status.ok());
        EXPECT_NE(status.error().message.find("refusing"), std::string::npos)
            << status.error().message;
        EXPECT_EQ(snapshot(outside), (std::map<std::string, std::string>{{"secret", "s"}}))
            << "something was written outside the target";
        EXPECT_FALSE(fs::exists(target / "hl"));
        EXPECT_FALSE(fs::exists(work / "deep/evil"));
    }
}

TEST(Unpack, EntriesReplaceSymlinksInsteadOfWritingThroughThem) {
    ScratchDir work;
    fs::path outside = work / "outside";
    write_text(outside / "secret", "s");
    auto layout = ImageLayout::open(work / "layout");
    ASSERT_TRUE(layout.ok());
    std::string manifest =
        image_from_tar_gz(*layout,
                          craft_tar_gz({{"file", AE_IFLNK, 0777, (outside / "secret").string()},
                                        {"dir", AE_IFLNK, 0777, outside.string()},
                                        {"file", AE_IFREG, 0644, "replaced"},
                                        {"dir/", AE_IFDIR, 0755, ""}}),
                          "t");
    auto status = unpack_image(*layout, manifest, work / "root");
    ASSERT_TRUE(status.ok()) << status.error().message;
    EXPECT_EQ(snapshot(outside), (std::map<std::string, std::string>{{"secret", "s"}}));
    EXPECT_FALSE(fs::is_symlink(work / "root/file"));
    EXPECT_EQ(read_text(work / "root/file"), "replaced");
    EXPECT_FALSE(fs::is_symlink(work / "root/dir"));
    EXPECT_TRUE(fs::is_directory(work / "root/dir"));
}

TEST(Unpack, SymlinkThatStaysInsideTheTargetIsFollowed) {
    ScratchDir work;
    auto layout = ImageLayout::open(work / "layout");
    ASSERT_TRUE(layout.ok());
    std::string manifest = image_from_tar_gz(*layout,
                                             craft_tar_gz({{"usr/lib/", AE_IFDIR, 0755, ""},
                                                           {"lib", AE_IFLNK, 0777, "usr/lib"},
                                                           {"lib/x.so", AE_IFREG, 0644, "elf"}}),
                                             "t");
    auto status = unpack_image(*layout, manifest, work / "root");
    ASSERT_TRUE(status.ok()) << status.error().message;
    EXPECT_EQ(read_text(work / "root/usr/lib/x.so"), "elf");
    EXPECT_TRUE(fs::is_symlink(work / "root/lib"));
}

TEST(Unpack, FailsOnACorruptLayerBlob) {
    ScratchDir src, out;
    write_text(src / "file.txt", "content");
    auto layout = ImageLayout::open(out / "layout");
    ASSERT_TRUE(layout.ok());
    auto layer = build_layer(src.path(), {"file.txt"}, *layout);
    ASSERT_TRUE(layer.ok());
    ImageSpec spec;
    spec.layers = {*layer};
    auto image = write_image(*layout, spec, "t");
    ASSERT_TRUE(image.ok());
    std::string blob = read_text(layout->blob_path(layer->digest));
    blob[blob.size() / 2] ^= 0x55;
    write_text(layout->blob_path(layer->digest), blob);
    auto status = unpack_image(*layout, image->manifest_digest, out / "root");
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.error().message.find("corrupt"), std::string::npos);
    EXPECT_FALSE(fs::exists(out / "root/file.txt"));
}

TEST(Unpack, DropsSetuidSetgidAndWorldWritableBits) {
    ScratchDir out;
    auto layout = ImageLayout::open(out / "layout");
    ASSERT_TRUE(layout.ok());
    std::string tar = craft_tar_gz({TarEntry("bin/suid", AE_IFREG, 04755, "#!/bin/sh\n"),
                                    TarEntry("bin/sgid", AE_IFREG, 02755, "x"),
                                    TarEntry("open.txt", AE_IFREG, 0666, "x"),
                                    TarEntry("shared", AE_IFDIR, 01777, ""),
                                    TarEntry("secret", AE_IFREG, 0600, "x")});
    auto manifest = image_from_tar_gz(*layout, tar, "t");
    auto status = unpack_image(*layout, manifest, out / "root");
    ASSERT_TRUE(status.ok()) << status.error().message;
    auto mode = [&](const char* rel) {
        struct stat st {};
        EXPECT_EQ(::lstat((out / "root" / rel).c_str(), &st), 0) << rel;
        return st.st_mode & 07777;
    };
    EXPECT_EQ(mode("bin/suid"), 0755u);
    EXPECT_EQ(mode("bin/sgid"), 0755u);
    EXPECT_EQ(mode("open.txt"), 0664u);
    EXPECT_EQ(mode("shared"), 01775u);
    EXPECT_EQ(mode("secret"), 0600u);
}

TEST(Unpack, StopsAtEachLimitWithTheSettingNamed) {
    ScratchDir out;
    auto layout = ImageLayout::open(out / "layout");
    ASSERT_TRUE(layout.ok());
    // Zeros compress to almost nothing: the compressed size says little about the unpacked one.
    std::string big = craft_tar_gz({TarEntry("zeros", AE_IFREG, 0644, std::string(2 << 20, '\0'))});
    auto manifest = image_from_tar_gz(*layout, big, "big");
    UnpackLimits limits;
    limits.max_bytes = 1 << 20;
    limits.setting_prefix = "cloudProvider.unpackLimits.";
    auto s = unpack_image(*layout, manifest, out / "a", limits);
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find("more than 1048576 bytes uncompressed"), std::string::npos)
        << s.error().message;
    EXPECT_NE(s.error().message.find("cloudProvider.unpackLimits.maxBytes"), std::string::npos);
    limits = UnpackLimits{};
    limits.max_file_bytes = 1000;
    s = unpack_image(*layout, manifest, out / "b", limits);
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find("maxFileBytes"), std::string::npos) << s.error().message;
    std::vector<TarEntry> many;
    for (int i = 0; i < 20; ++i) many.emplace_back("f" + std::to_string(i), AE_IFREG, 0644, "x");
    auto many_manifest = image_from_tar_gz(*layout, craft_tar_gz(many), "many");
    limits = UnpackLimits{};
    limits.max_entries = 10;
    s = unpack_image(*layout, many_manifest, out / "c", limits);
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find("more than 10 entries"), std::string::npos) << s.error().message;
    EXPECT_TRUE(unpack_image(*layout, many_manifest, out / "d"));
}

}  // namespace
}  // namespace hypertest::oci
