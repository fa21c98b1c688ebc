#include "util/json.hpp"

#include <gtest/gtest.h>

namespace hypertest::util {

TEST(Json, DeepNestingIsRefusedWithoutCrashing) {
    std::string deep(300000, '[');
    deep += std::string(300000, ']');
    auto j = parse_json(deep, "answer");
    ASSERT_FALSE(j);
    EXPECT_NE(j.error().message.find("answer is nested deeper than 256 levels"), std::string::npos)
        << j.error().message;
    std::string objects;
    for (int i = 0; i < 1000; ++i) objects += "{\"a\":";
    objects += "1" + std::string(1000, '}');
    EXPECT_FALSE(parse_json(objects, "doc"));
}

TEST(Json, NestingUpToTheLimitParses) {
    std::string ok = std::string(256, '[') + std::string(256, ']');
    EXPECT_TRUE(parse_json(ok, "doc"));
    std::string over = std::string(257, '[') + std::string(257, ']');
    EXPECT_FALSE(parse_json(over, "doc"));
    EXPECT_TRUE(parse_json(over, "doc", 300));
}

TEST(Json, OutOfRangeNumbersAreAnErrorNotAnException) {
    auto j = parse_json("{\"concurrency\": 1e400}", "hypertest.config.json");
    ASSERT_FALSE(j);
    EXPECT_NE(j.error().message.find("hypertest.config.json is not valid JSON"), std::string::npos);
    EXPECT_NE(j.error().message.find("1e400"), std::string::npos) << j.error().message;
}

}  // namespace hypertest::util
