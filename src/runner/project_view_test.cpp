#include "runner/project_view.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include "util/fs.hpp"
#include "util/temp_dir.hpp"

namespace hypertest::runner {
namespace {

TEST(ProjectView, CopiesFilesAndLinksPackages) {
    util::TempDir dir;
    fs::path root = dir.path() / "task";
    fs::create_directories(root / "tests" / "fixtures");
    fs::create_directories(root / "node_modules" / "pkg");
    ASSERT_TRUE(util::write_file_atomic(root / "tests" / "a.spec.ts", "spec"));
    ASSERT_TRUE(util::write_file_atomic(root / "node_modules" / "pkg" / "index.js", "pkg"));
    fs::create_symlink("tests/a.spec.ts", root / "alias.ts");
    fs::permissions(root / "tests" / "a.spec.ts", fs::perms::owner_read);

    auto stats = make_project_view({root}, dir.path() / "view");
    ASSERT_TRUE(stats) << stats.error().message;
    fs::path view = dir.path() / "view";
    EXPECT_EQ(stats->files_copied, 1u);
    EXPECT_FALSE(fs::is_symlink(view / "tests" / "a.spec.ts"));
    EXPECT_EQ(*util::read_file(view / "tests" / "a.spec.ts"), "spec");
    // The copy is writable (its mode says so, which matters to a non-root user), a new
    // directory can be made where the suite builds, and the original stays as it was.
    EXPECT_NE(fs::status(view / "tests" / "a.spec.ts").permissions() & fs::perms::owner_write, fs::perms::none);
    ASSERT_TRUE(util::write_file_atomic(view / "tests" / "a.spec.ts", "changed"));
    fs::create_directories(view / "tests" / "fixtures" / "dist");
    EXPECT_EQ(*util::read_file(root / "tests" / "a.spec.ts"), "spec");
    EXPECT_FALSE(fs::exists(root / "tests" / "fixtures" / "dist"));
    // Packages are links to the originals; node_modules itself takes new entries.
    EXPECT_TRUE(fs::is_symlink(view / "node_modules" / "pkg"));
    EXPECT_EQ(fs::read_symlink(view / "node_modules" / "pkg"), root / "node_modules" / "pkg");
    fs::create_directory(view / "node_modules" / ".cache");
    EXPECT_FALSE(fs::exists(root / "node_modules" / ".cache"));
    EXPECT_EQ(fs::read_symlink(view / "alias.ts"), "tests/a.spec.ts");
}

TEST(ProjectView, RefusesAnExistingTarget) {
    util::TempDir dir;
    fs::create_directories(dir.path() / "task");
    fs::create_directories(dir.path() / "view" / "x");
    EXPECT_FALSE(make_project_view({dir.path() / "task"}, dir.path() / "view"));
}

TEST(ProjectView, LaterLayersWin) {
    util::TempDir dir;
    fs::path deps = dir.path() / "deps", tests = dir.path() / "tests";
    fs::create_directories(deps / "node_modules" / "a");
    fs::create_directories(tests / "specs");
    ASSERT_TRUE(util::write_file_atomic(deps / "package.json", "{}"));
    ASSERT_TRUE(util::write_file_atomic(tests / "package.json", "{\"name\":\"x\"}"));
    ASSERT_TRUE(util::write_file_atomic(tests / "specs" / "b.spec.ts", "b"));
    auto stats = make_project_view({deps, tests}, dir.path() / "view");
    ASSERT_TRUE(stats) << stats.error().message;
    EXPECT_EQ(*util::read_file(dir.path() / "view" / "package.json"), "{\"name\":\"x\"}");
    EXPECT_TRUE(fs::is_symlink(dir.path() / "view" / "node_modules" / "a"));
    EXPECT_TRUE(fs::exists(dir.path() / "view" / "specs" / "b.spec.ts"));
}

}  // namespace
}  // namespace hypertest::runner

namespace hypertest::runner {
namespace {

// On Lambda the function's user is not the image files' owner: a 0600 file of the project is
// unreadable there. The view still comes up, with a link in its place.
TEST(ProjectView, AFileTheFunctionCannotReadBecomesALink) {
    if (::geteuid() == 0) GTEST_SKIP() << "root reads every file";
    util::TempDir dir;
    fs::path root = dir.path() / "task";
    fs::create_directories(root / "tests");
    ASSERT_TRUE(util::write_file_atomic(root / "tests" / "a.spec.ts", "spec"));
    ASSERT_TRUE(util::write_file_atomic(root / "secret.txt", "x"));
    fs::permissions(root / "secret.txt", fs::perms::none);
    auto stats = make_project_view({root}, dir.path() / "view");
    fs::permissions(root / "secret.txt", fs::perms::owner_read | fs::perms::owner_write);
    ASSERT_TRUE(stats) << stats.error().message;
    EXPECT_TRUE(fs::is_symlink(dir.path() / "view" / "secret.txt"));
    EXPECT_EQ(*util::read_file(dir.path() / "view" / "tests" / "a.spec.ts"), "spec");
}

}  // namespace
}  // namespace hypertest::runner
