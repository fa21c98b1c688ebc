#include "util/strings.hpp"

#include <gtest/gtest.h>

namespace hypertest::util {

TEST(Strings, StripAnsiRemovesColourAndCursorSequences) {
    EXPECT_EQ(strip_ansi("\x1b[31mError:\x1b[39m expect(\x1b[2mreceived\x1b[22m)"),
              "Error: expect(received)");
    EXPECT_EQ(strip_ansi("a\x1b]8;;http://x\x07link\x1b]8;;\x07z"), "alinkz");
    EXPECT_EQ(strip_ansi("plain 日本語"), "plain 日本語");
}

TEST(Strings, TerminalSafeKeepsColoursAndDropsWhatDrivesTheTerminal) {
    // Colours, newlines, tabs and UTF-8 stay.
    EXPECT_EQ(terminal_safe("\x1b[31mError:\x1b[0m a\tb\n日本語"), "\x1b[31mError:\x1b[0m a\tb\n日本語");
    // A window title (OSC), clear screen, cursor moves, carriage return, bell, DCS, C1 CSI go.
    EXPECT_EQ(terminal_safe("x\x1b]0;PWNED\x07y"), "xy");
    EXPECT_EQ(terminal_safe("\x1b[2J\x1b[1;1H\rX\x07"), "X");
    EXPECT_EQ(terminal_safe("a\x1bP1$r\x1b\\b"), "ab");
    EXPECT_EQ(terminal_safe("a\xc2\x9b" "2Jb\x7f"), "a2Jb");
    // A cut-off sequence at the end is dropped whole.
    EXPECT_EQ(terminal_safe("ok\x1b["), "ok");
    EXPECT_EQ(terminal_safe("ok\x1b]0;never ended"), "ok");
}

TEST(Strings, DidYouMeanFindsCloseKeys) {
    std::vector<std::string> keys = {"concurrency", "testRunner", "cloudProvider"};
    EXPECT_EQ(did_you_mean("concurency", keys), "concurrency");
    EXPECT_EQ(did_you_mean("testrunner", keys), "testRunner");
    EXPECT_EQ(did_you_mean("zzzzzz", keys), "");
}

TEST(Strings, DidYouMeanHintIsASuffixForAnErrorMessage) {
    std::vector<std::string> keys = {"concurrency", "testRunner"};
    EXPECT_EQ(did_you_mean_hint("concurency", keys), " (did you mean \"concurrency\"?)");
    EXPECT_EQ(did_you_mean_hint("testrunner", keys, "x."), " (did you mean \"x.testRunner\"?)");
    EXPECT_EQ(did_you_mean_hint("zzzzzz", keys), "");
}

TEST(Strings, UnknownNameMessageSuggestsAndListsTheKnownNames) {
    EXPECT_EQ(unknown_name_message("test runner", "playwrite", "testRunner.name", {"playwright"}),
              "unknown test runner \"playwrite\" in testRunner.name "
              "(did you mean \"playwright\"?); available: playwright");
    EXPECT_EQ(unknown_name_message("provider", "gcp", "cloudProvider.name", {"local", "aws"}),
              "unknown provider \"gcp\" in cloudProvider.name; available: local, aws");
}

TEST(Strings, TruncateKeepsUtf8Whole) {
    std::string s = "ééééé";  // 2 bytes each
    std::string t = truncate_utf8(s, 3);
    EXPECT_EQ(t.substr(0, 2), "é");
    EXPECT_NE(t.find("truncated"), std::string::npos);
    EXPECT_EQ(truncate_utf8("short", 10), "short");
}

TEST(Strings, XmlEscape) {
    EXPECT_EQ(xml_escape("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;");
    EXPECT_EQ(xml_escape(std::string("a\x01" "b")), "a?b");
}

TEST(Strings, SplitJoinRoundTrip) {
    auto parts = split("a,b,,c", ',');
    ASSERT_EQ(parts.size(), 4u);
    EXPECT_EQ(join(parts, ","), "a,b,,c");
}

}  // namespace hypertest::util
