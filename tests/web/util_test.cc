// Unit tests of the web helpers used by the account filters: form bodies,
// cookies, media types, redirect targets, origins.
#include "web/util.h"

#include <gtest/gtest.h>

namespace paidoc::web {
namespace {

TEST(FormTest, ParsesUrlencodedBodies) {
  std::optional<Form> f = Form::parse("email=a%40b.cn&password=p+w%2B1&empty=&flag&email=second");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->get("email"), "a@b.cn");  // the first value wins
  EXPECT_EQ(f->get("password"), "p w+1");
  EXPECT_TRUE(f->has("empty"));
  EXPECT_EQ(f->get("empty"), "");
  EXPECT_TRUE(f->has("flag"));
  EXPECT_FALSE(f->has("missing"));
  EXPECT_EQ(f->get("missing"), "");
  EXPECT_EQ(f->items().size(), 5u);
  EXPECT_TRUE(Form::parse(""));
  EXPECT_TRUE(Form::parse("a=1&&b=2"));
  EXPECT_EQ(Form::parse("name=%E4%B8%AD%E6%96%87")->get("name"), "中文");
  EXPECT_FALSE(Form::parse("a=%ZZ"));
  EXPECT_FALSE(Form::parse("a=%FF"));  // not UTF-8
  EXPECT_FALSE(Form::parse("a%=1"));
}

TEST(CookieTest, FindsValuesByExactName) {
  std::string_view h = "x_paidoc_session=no; paidoc_session=tok1; paidoc_csrf=\"c2\"";
  EXPECT_EQ(cookie_value(h, "paidoc_session"), "tok1");
  EXPECT_EQ(cookie_value(h, "paidoc_csrf"), "c2");
  EXPECT_EQ(cookie_value(h, "other"), "");
  EXPECT_EQ(cookie_value("", "a"), "");
  EXPECT_EQ(cookie_value("a", "a"), "");
  EXPECT_EQ(cookie_value("a=1;b=2", "b"), "2");
}

TEST(MediaTypeTest, DropsParametersAndCase) {
  EXPECT_EQ(media_type("Application/JSON; charset=utf-8"), "application/json");
  EXPECT_EQ(media_type(" text/plain "), "text/plain");
  EXPECT_EQ(media_type(""), "");
}

TEST(SafeLocalPathTest, OnlySameSitePaths) {
  EXPECT_EQ(safe_local_path("/d/1"), "/d/1");
  EXPECT_EQ(safe_local_path("/search?q=a&page=2"), "/search?q=a&page=2");
  EXPECT_EQ(safe_local_path("/c/公文"), "/c/%E5%85%AC%E6%96%87");
  for (const char* bad : {"", "d/1", "//evil.example", "/\\evil.example", "https://evil.example",
                          "/a b", "/a\r\nLocation: x", "/a\\b"})
    EXPECT_FALSE(safe_local_path(bad)) << bad;
}

TEST(OriginTest, SchemeHostPort) {
  EXPECT_EQ(origin_of("https://Docs.example.cn/x?y"), "https://Docs.example.cn");
  EXPECT_EQ(origin_of("HTTP://127.0.0.1:8080"), "http://127.0.0.1:8080");
  EXPECT_EQ(origin_of("no-scheme"), "");
}

TEST(LoopbackHostTest, LocalhostAnd127Slash8AndIpv6LoopbackOnly) {
  for (const char* h : {"localhost", "LocalHost:8080", "127.0.0.1", "127.0.0.1:8080", "127.1.2.3",
                        "[::1]", "[::1]:8080", " 127.0.0.1 "})
    EXPECT_TRUE(is_loopback_host(h)) << h;
  for (const char* h : {"", "wenku.example.cn", "localhost.example.cn", "128.0.0.1", "127.0.0.256",
                        "127.0.0", "127.0.0.1.5", "127.0.0.1:", "127.0.0.1:x", "[::2]", "[::1]x",
                        "::1", "10.0.0.1:8080", "0.0.0.0"})
    EXPECT_FALSE(is_loopback_host(h)) << h;
}

TEST(ChinaDateTest, DaysStartAtMidnightInChina) {
  // 2026-12-06 00:00 in China is 2026-12-05 16:00 UTC.
  EXPECT_EQ(parse_china_date("2026-12-06"), std::optional<int64_t>(1796486400));
  EXPECT_EQ(display_time(*parse_china_date("2026-12-06")), "2026-12-06 00:00");
  EXPECT_EQ(display_time(*parse_china_date("2024-02-29")), "2024-02-29 00:00");
  EXPECT_EQ(parse_china_date("1970-01-01"), std::optional<int64_t>(-8 * 3600));
  for (const char* bad : {"", "2026-2-01", "2026-13-01", "2026-00-10", "2026-04-31", "2025-02-29",
                          "1969-12-31", "2026/12/06", "2026-12-06 "})
    EXPECT_FALSE(parse_china_date(bad).has_value()) << bad;
}

}  // namespace
}  // namespace paidoc::web
