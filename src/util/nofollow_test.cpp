#include "util/nofollow.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "util/fs.hpp"
#include "util/temp_dir.hpp"

namespace hypertest::util {
namespace {

// A link planted anywhere on the way is refused, never followed.
TEST(NoFollow, RefusesALinkInAMiddleFolder) {
    TempDir dir;
    fs::create_directories(dir.path() / "root");
    fs::create_directories(dir.path() / "outside");
    fs::create_directory_symlink(dir.path() / "outside", dir.path() / "root" / "state");
    auto s = write_below(dir.path() / "root", "state/timings.json", "{}");
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find("refusing to follow"), std::string::npos) << s.error().message;
    EXPECT_TRUE(fs::is_empty(dir.path() / "outside"));
    ASSERT_TRUE(write_file_atomic(dir.path() / "outside" / "manifest.json", "tampered"));
    EXPECT_FALSE(read_below(dir.path() / "root", "state/manifest.json", 1 << 20));
}

TEST(NoFollow, ALinkAtTheNameIsReplacedNotWrittenThrough) {
    TempDir dir;
    fs::create_directories(dir.path() / "root" / "a");
    ASSERT_TRUE(write_file_atomic(dir.path() / "target", "keep"));
    fs::create_symlink(dir.path() / "target", dir.path() / "root" / "a" / "f");
    EXPECT_FALSE(read_below(dir.path() / "root", "a/f", 1 << 20)) << "a link is not read through";
    ASSERT_TRUE(write_below(dir.path() / "root", "a/f", "new"));
    EXPECT_EQ(*read_file(dir.path() / "target"), "keep");
    EXPECT_FALSE(fs::is_symlink(dir.path() / "root" / "a" / "f"));
    EXPECT_EQ(**read_below(dir.path() / "root", "a/f", 1 << 20), "new");
}

TEST(NoFollow, CreatesFoldersCopiesFilesAndBoundsReads) {
    TempDir dir;
    ASSERT_TRUE(write_file_atomic(dir.path() / "src", "0123456789"));
    ASSERT_TRUE(copy_below(dir.path() / "root", "x/y/z.bin", dir.path() / "src"));
    EXPECT_EQ(**read_below(dir.path() / "root", "x/y/z.bin", 10), "0123456789");
    auto big = read_below(dir.path() / "root", "x/y/z.bin", 9);
    ASSERT_FALSE(big);
    EXPECT_NE(big.error().message.find("larger than 9 bytes"), std::string::npos);
    EXPECT_FALSE(read_below(dir.path() / "root", "x/missing", 10).value().has_value());
    EXPECT_FALSE(read_below(dir.path() / "nowhere", "x", 10).value().has_value());
    ASSERT_EQ(::mkfifo((dir.path() / "root" / "fifo").c_str(), 0600), 0);
    EXPECT_FALSE(read_below(dir.path() / "root", "fifo", 10)) << "only regular files are read";
    for (const char* bad : {"../x", "a/../b", "/abs", "a//b", "", "./a"})
        EXPECT_FALSE(write_below(dir.path() / "root", bad, "x")) << bad;
}

}  // namespace
}  // namespace hypertest::util
