// SPDX-License-Identifier: Apache-2.0
#include "primitives/result.hpp"

#include <memory>

#include <gtest/gtest.h>

namespace pel {
namespace {

Result<int> parse_positive(int v) {
    if (v <= 0) return make_error("not positive: ", v);
    return v;
}

Result<int> doubled(int v) {
    PEL_TRY(const int x, parse_positive(v));
    return x * 2;
}

Result<void> check(int v) {
    PEL_TRY_VOID(parse_positive(v));
    return {};
}

TEST(Result, value_and_error) {
    auto ok = parse_positive(3);
    ASSERT_TRUE(ok);
    EXPECT_EQ(*ok, 3);
    auto bad = parse_positive(-1);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message, "not positive: -1");
    EXPECT_EQ(bad.value_or(7), 7);
}

TEST(Result, try_propagates_errors) {
    EXPECT_EQ(*doubled(4), 8);
    EXPECT_EQ(doubled(0).error().message, "not positive: 0");
    EXPECT_TRUE(check(1));
    EXPECT_FALSE(check(-5));
}

TEST(Result, holds_move_only_values) {
    Result<std::unique_ptr<int>> r = std::make_unique<int>(5);
    ASSERT_TRUE(r);
    auto p = std::move(r).value();
    EXPECT_EQ(*p, 5);
}

TEST(Result, custom_error_type) {
    enum class E { kA, kB };
    Result<int, E> r = unexpected(E::kB);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), E::kB);
}

TEST(ResultDeathTest, value_of_error_aborts) {
    auto bad = parse_positive(-1);
    EXPECT_DEATH(static_cast<void>(bad.value()), "PEL_ASSERT");
}

}  // namespace
}  // namespace pel
