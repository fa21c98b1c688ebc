#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "oci/ignore_rules.hpp"
#include "oci/image.hpp"
#include "oci/test_support.hpp"
#include "util/sha256.hpp"

namespace hypertest::oci {
namespace {

using test::list_tar;
using test::read_text;
using test::ScratchDir;
using test::write_text;

// A small project: nested dirs, an executable, a symlink.
void make_project(const fs::path& root) {
    write_text(root / "package.json", "{\"name\":\"demo\"}\n");
    write_text(root / "tests/a.spec.ts", "test('a', () => {});\n");
    write_text(root / "tests/helpers/util.ts", "export const x = 1;\n");
    write_text(root / "node_modules/.bin/tool.js", "#!/usr/bin/env node\n");
    fs::permissions(root / "node_modules/.bin/tool.js",
                    fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                    fs::perm_options::add);
    fs::create_directory_symlink("../tests", root / "node_modules/tests-link");
}

const std::vector<std::string> k_paths = {"package.json", "tests", "node_modules", "missing.txt"};

Layer build(const fs::path& root, const fs::path& layout_dir,
            const std::vector<std::string>& paths = k_paths, const fs::path& cache = {}) {
    auto layout = ImageLayout::open(layout_dir);
    EXPECT_TRUE(layout.ok()) << layout.error().message;
    auto layer = build_layer(root, paths, *layout, cache);
    EXPECT_TRUE(layer.ok()) << layer.error().message;
    return *layer;
}

void set_all_mtimes(const fs::path& root, fs::file_time_type when) {
    for (auto& entry : fs::recursive_directory_iterator(root)) {
        if (!entry.is_symlink()) fs::last_write_time(entry.path(), when);
    }
}

TEST(LayerBuilder, SameContentElsewhereWithOtherMtimesGivesSameDigests) {
    ScratchDir a, b, out;
    make_project(a.path() / "project");
    make_project(b.path() / "nested/elsewhere");
    set_all_mtimes(a.path() / "project",
                   fs::file_time_type::clock::now() - std::chrono::hours(900));
    set_all_mtimes(b.path() / "nested/elsewhere", fs::file_time_type::clock::now());
    Layer first = build(a.path() / "project", out / "layout-a");
    Layer second = build(b.path() / "nested/elsewhere", out / "layout-b");
    EXPECT_EQ(first.digest, second.digest);
    EXPECT_EQ(first.diff_id, second.diff_id);
    EXPECT_NE(first.digest, first.diff_id);
    EXPECT_EQ(read_text(out / ("layout-a/blobs/sha256/" + first.digest.substr(7))),
              read_text(out / ("layout-b/blobs/sha256/" + second.digest.substr(7))));
}

TEST(LayerBuilder, DigestsMatchTheBlobAndItsUncompressedTar) {
    ScratchDir src, out;
    make_project(src.path());
    Layer layer = build(src.path(), out.path());
    std::string blob = read_text(out / ("blobs/sha256/" + layer.digest.substr(7)));
    EXPECT_EQ(layer.size, static_cast<std::int64_t>(blob.size()));
    EXPECT_EQ(layer.digest, "sha256:" + util::sha256_hex(blob));
    std::string tar = test::gunzip(blob);
    ASSERT_FALSE(tar.empty());
    EXPECT_EQ(layer.diff_id, "sha256:" + util::sha256_hex(tar));
    EXPECT_FALSE(layer.reused);
}

TEST(LayerBuilder, OneChangedByteChangesTheDigest) {
    ScratchDir src, out;
    make_project(src.path());
    Layer before = build(src.path(), out.path());
    write_text(src / "tests/a.spec.ts", "test('b', () => {});\n");
    Layer after = build(src.path(), out.path());
    EXPECT_NE(before.digest, after.digest);
    EXPECT_NE(before.diff_id, after.diff_id);
}

TEST(LayerBuilder, ExecutableBitChangesTheDigest) {
    ScratchDir src, out;
    make_project(src.path());
    Layer before = build(src.path(), out.path());
    fs::permissions(src / "package.json", fs::perms::owner_exec, fs::perm_options::add);
    Layer after = build(src.path(), out.path());
    EXPECT_NE(before.digest, after.digest);
}

TEST(LayerBuilder, GzipHeaderHasNoTimestampAndUnknownOs) {
    ScratchDir src, out;
    make_project(src.path());
    Layer layer = build(src.path(), out.path());
    std::string blob = read_text(out / ("blobs/sha256/" + layer.digest.substr(7)));
    ASSERT_GE(blob.size(), 10u);
    EXPECT_EQ(static_cast<unsigned char>(blob[0]), 0x1f);
    EXPECT_EQ(static_cast<unsigned char>(blob[1]), 0x8b);
    EXPECT_EQ(blob[3], 0) << "no FNAME/FEXTRA flags";
    EXPECT_EQ(blob.substr(4, 4), std::string(4, '\0')) << "MTIME must be 0";
    EXPECT_EQ(static_cast<unsigned char>(blob[9]), 255) << "OS must be unknown";
}

TEST(LayerBuilder, EntriesAreSortedKeepTheirModesAndIncludeParents) {
    ScratchDir src, out;
    write_text(src / "z/deep/file.txt", "z");
    write_text(src / "a/run.sh", "#!/bin/sh\n");
    fs::permissions(src / "a/run.sh", fs::perms(0750));
    fs::permissions(src / "z/deep", fs::perms(0700));
    fs::permissions(src / "z/deep/file.txt", fs::perms(0600));
    fs::create_hard_link(src / "z/deep/file.txt", src / "a/hard.txt");
    ::mkfifo((src / "a/fifo").c_str(), 0644);
    fs::create_symlink("/etc/hostname", src / "a/abs-link");
    std::string long_name = "a/" + std::string(150, 'n') + ".txt";
    write_text(src / long_name, "long");
    write_text(src / "a/grüße-日本.txt", "utf8");
    Layer layer = build(src.path(), out.path(), {"z/deep/file.txt", "./a/", "nope/nothing"});
    auto entries =
        list_tar(test::gunzip(read_text(out / ("blobs/sha256/" + layer.digest.substr(7)))));
    std::vector<std::string> paths;
    for (const auto& e : entries) paths.push_back(e.path);
    std::vector<std::string> expected = {"a/",
                                         "a/abs-link",
                                         "a/grüße-日本.txt",
                                         "a/hard.txt",
                                         "a/" + std::string(150, 'n') + ".txt",
                                         "a/run.sh",
                                         "z/",
                                         "z/deep/",
                                         "z/deep/file.txt"};
    EXPECT_EQ(paths, expected);
    for (const auto& e : entries) {
        EXPECT_EQ(e.mtime, 0) << e.path;
        EXPECT_EQ(e.uid, 0) << e.path;
        EXPECT_EQ(e.uname, "") << e.path;
        if (e.type == AE_IFDIR) {
            EXPECT_EQ(e.perm, 0755u) << e.path;
        }
    }
    auto find = [&](const std::string& p) {
        for (const auto& e : entries) {
            if (e.path == p) return e;
        }
        return test::TarEntry{};
    };
    EXPECT_EQ(find("a/run.sh").perm, 0750u);
    EXPECT_EQ(find("a/hard.txt").type, static_cast<unsigned>(AE_IFREG));
    EXPECT_EQ(find("a/hard.txt").content, "z");
    EXPECT_EQ(find("z/deep/file.txt").perm, 0600u);
    EXPECT_EQ(find("a/abs-link").type, static_cast<unsigned>(AE_IFLNK));
    EXPECT_EQ(find("a/abs-link").content, "/etc/hostname");
    EXPECT_EQ(find("a/grüße-日本.txt").content, "utf8");
}

TEST(LayerBuilder, FreshBuildOfAnExistingBlobIsMarkedReused) {
    ScratchDir src, out;
    make_project(src.path());
    Layer first = build(src.path(), out.path());
    Layer second = build(src.path(), out.path());
    EXPECT_FALSE(first.reused);
    EXPECT_TRUE(second.reused);
    EXPECT_EQ(first.digest, second.digest);
}

TEST(LayerBuilder, CacheHitSkipsTheRebuild) {
    ScratchDir src, out;
    make_project(src.path());
    fs::path cache = out / "cache/layer.json";
    Layer first = build(src.path(), out / "layout", k_paths, cache);
    ASSERT_TRUE(fs::exists(cache));
    fs::path blob = out / ("layout/blobs/sha256/" + first.digest.substr(7));
    auto blob_time = fs::last_write_time(blob);

    // Same size and mtime but new bytes: only a cache hit can still return the old digest.
    auto mtime = fs::last_write_time(src / "tests/a.spec.ts");
    write_text(src / "tests/a.spec.ts", "test('z', () => {});\n");
    fs::last_write_time(src / "tests/a.spec.ts", mtime);
    Layer cached = build(src.path(), out / "layout", k_paths, cache);
    EXPECT_TRUE(cached.reused);
    EXPECT_EQ(cached.digest, first.digest);
    EXPECT_EQ(cached.diff_id, first.diff_id);
    EXPECT_EQ(cached.size, first.size);
    EXPECT_EQ(fs::last_write_time(blob), blob_time);

    fs::last_write_time(src / "tests/a.spec.ts", mtime + std::chrono::seconds(5));
    Layer rebuilt = build(src.path(), out / "layout", k_paths, cache);
    EXPECT_NE(rebuilt.digest, first.digest);
    EXPECT_FALSE(rebuilt.reused);
}

TEST(LayerBuilder, CacheIsIgnoredWhenTheBlobIsGone) {
    ScratchDir src, out;
    make_project(src.path());
    fs::path cache = out / "layer.json";
    Layer first = build(src.path(), out / "layout", k_paths, cache);
    fs::remove(out / ("layout/blobs/sha256/" + first.digest.substr(7)));
    Layer again = build(src.path(), out / "layout", k_paths, cache);
    EXPECT_FALSE(again.reused);
    EXPECT_EQ(again.digest, first.digest);
    EXPECT_TRUE(fs::exists(out / ("layout/blobs/sha256/" + first.digest.substr(7))));
}

TEST(LayerBuilder, RejectsPathsOutsideTheRoot) {
    ScratchDir src, out;
    auto layout = ImageLayout::open(out.path());
    ASSERT_TRUE(layout.ok());
    EXPECT_FALSE(build_layer(src.path(), {"../etc"}, *layout).ok());
    EXPECT_FALSE(build_layer(src.path(), {"/etc"}, *layout).ok());
}

// Secrets stay out by default; .hypertestignore adds and re-includes with gitignore rules.
TEST(LayerBuilder, IgnoreRulesLeaveSecretsAndIgnoredPathsOut) {
    ScratchDir src, out;
    for (const char* f : {".env", ".env.local", ".env.example", "certs/localhost-key.pem", "certs/localhost.pem",
                          "keys/id_rsa", "tests/a.spec.ts", "tests/fixtures/big.bin", "secret-dir/x",
                          "node_modules/pkg/test.key", "node_modules/pkg/index.js", "deep/.aws/credentials"})
        write_text(src / f, "x");
    write_text(src / ".hypertestignore", "# local\n!.env.example\nsecret-dir/\n/tests/fixtures/*.bin\n");
    auto rules = project_ignore_rules(src.path().string());
    ASSERT_TRUE(rules) << rules.error().message;
    std::vector<std::string> defaults;
    LayerFilter filter;
    filter.ignore = &*rules;
    filter.left_out_by_default = &defaults;
    auto layout = ImageLayout::open(out.path());
    ASSERT_TRUE(layout);
    auto layer = build_layer(src.path(), {"."}, *layout, {}, {}, filter);
    ASSERT_TRUE(layer) << layer.error().message;
    std::set<std::string> paths;
    for (const auto& e : list_tar(test::gunzip(read_text(out / ("blobs/sha256/" + layer->digest.substr(7))))))
        paths.insert(e.path);
    for (const char* kept : {".env.example", "certs/localhost.pem", "tests/a.spec.ts", "node_modules/pkg/test.key",
                             "node_modules/pkg/index.js", ".hypertestignore"})
        EXPECT_TRUE(paths.count(kept)) << kept;
    for (const char* gone : {".env", ".env.local", "certs/localhost-key.pem", "keys/id_rsa", "tests/fixtures/big.bin",
                             "secret-dir/", "secret-dir/x", "deep/.aws/", "deep/.aws/credentials"})
        EXPECT_FALSE(paths.count(gone)) << gone;
    std::sort(defaults.begin(), defaults.end());
    EXPECT_EQ(defaults, (std::vector<std::string>{".env", ".env.local", "certs/localhost-key.pem", "deep/.aws",
                                                  "keys/id_rsa"}));
}

TEST(IgnoreRules, FollowGitignoreSyntax) {
    IgnoreRules r;
    r.add_lines("*.log\n!keep.log\nbuild/\n/only-top\ndocs/**/*.tmp\n\\#hash\n  \n# comment\n");
    using V = IgnoreRules::Verdict;
    EXPECT_EQ(r.check("a/b/x.log", false), V::ignored);
    EXPECT_EQ(r.check("a/keep.log", false), V::kept);
    EXPECT_EQ(r.check("build", true), V::ignored);
    EXPECT_EQ(r.check("build", false), V::kept) << "a trailing / matches folders only";
    EXPECT_EQ(r.check("only-top", false), V::ignored);
    EXPECT_EQ(r.check("sub/only-top", false), V::kept);
    EXPECT_EQ(r.check("docs/x.tmp", false), V::ignored);
    EXPECT_EQ(r.check("docs/a/b/x.tmp", false), V::ignored);
    EXPECT_EQ(r.check("other/x.tmp", false), V::kept);
    EXPECT_EQ(r.check("#hash", false), V::ignored);
}

}  // namespace
}  // namespace hypertest::oci
