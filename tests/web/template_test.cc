// Unit tests of the web layer's pure parts: the template engine (escaping by
// default), URL helpers, entity tags and the router.
#include "web/template.h"

#include <gtest/gtest.h>

#include <set>

#include "web/router.h"
#include "web/site.h"
#include "web/util.h"

namespace paidoc::web {
namespace {

using nlohmann::json;

std::string render(const std::string& tmpl, const json& ctx,
                   const std::vector<std::pair<std::string, std::string>>& partials = {}) {
  Templates t;
  for (const auto& [name, text] : partials) EXPECT_TRUE(t.add(name, text).is_ok());
  Status s = t.add("t", tmpl);
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  Result<std::string> r = t.render("t", ctx);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? *r : std::string();
}

TEST(TemplateTest, EscapesByDefault) {
  json ctx = {{"title", "关于<script>alert('x')</script>&\"的说明\""}};
  EXPECT_EQ(render("<h1>{{title}}</h1>", ctx),
            "<h1>关于&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;的说明&quot;</h1>");
}

TEST(TemplateTest, TripleMustacheIsTheOnlyRawOutput) {
  json ctx = {{"html", "<b>粗体</b>"}};
  EXPECT_EQ(render("{{{html}}}|{{html}}", ctx), "<b>粗体</b>|&lt;b&gt;粗体&lt;/b&gt;");
  // "{{&name}}" (raw in Mustache) is not raw here: it is a lookup of "&html".
  EXPECT_EQ(render("[{{&html}}]", ctx), "[]");
}

TEST(TemplateTest, DropsControlCharacters) {
  json ctx = {{"v", std::string("a\x01"
                                "b\tc\nd\x1f")}};
  EXPECT_EQ(render("{{v}}", ctx), "ab\tc\nd");
}

TEST(TemplateTest, NumbersAndBooleans) {
  json ctx = {{"n", 42}, {"neg", -7}, {"yes", true}, {"nothing", nullptr}};
  EXPECT_EQ(render("{{n}} {{neg}} {{yes}} [{{nothing}}] [{{missing}}]", ctx), "42 -7 true [] []");
}

TEST(TemplateTest, SectionsIterateArraysAndPushObjects) {
  json ctx = {{"items", json::array({{{"name", "甲"}}, {{"name", "乙"}}})},
              {"doc", {{"title", "标题"}}},
              {"site", "文库"}};
  EXPECT_EQ(render("{{#items}}<{{name}}@{{site}}>{{/items}}", ctx), "<甲@文库><乙@文库>");
  EXPECT_EQ(render("{{#doc}}{{title}}{{/doc}}", ctx), "标题");
  EXPECT_EQ(render("{{doc.title}}", ctx), "标题");
  EXPECT_EQ(render("{{#list}}{{.}},{{/list}}", json{{"list", {"一", "二"}}}), "一,二,");
}

TEST(TemplateTest, FalsyValuesSkipSectionsAndShowInverted) {
  json ctx = {{"f", false}, {"z", 0}, {"e", ""}, {"a", json::array()}, {"n", nullptr}, {"t", "x"}};
  for (const char* name : {"f", "z", "e", "a", "n", "missing"}) {
    std::string n(name);
    EXPECT_EQ(render("{{#" + n + "}}yes{{/" + n + "}}{{^" + n + "}}no{{/" + n + "}}", ctx), "no")
        << n;
  }
  EXPECT_EQ(render("{{#t}}yes{{/t}}{{^t}}no{{/t}}", ctx), "yes");
}

TEST(TemplateTest, PartialsShareTheContext) {
  json ctx = {{"page_title", "首页 <1>"}};
  EXPECT_EQ(render("{{>head}}body", ctx, {{"head.html", "<title>{{page_title}}</title>"}}),
            "<title>首页 &lt;1&gt;</title>body");
}

TEST(TemplateTest, StandaloneControlLinesLeaveNoBlankLines) {
  json ctx = {{"items", {"a", "b"}}};
  EXPECT_EQ(render("<ul>\n  {{#items}}\n  <li>{{.}}</li>\n  {{/items}}\n</ul>\n", ctx),
            "<ul>\n  <li>a</li>\n  <li>b</li>\n</ul>\n");
  // Tags sharing a line with text stay inline.
  EXPECT_EQ(render("x {{#items}}{{.}}{{/items}} y\n", ctx), "x ab y\n");
}

TEST(TemplateTest, CommentsRenderNothing) {
  EXPECT_EQ(render("a{{! note }}b", json::object()), "ab");
}

TEST(TemplateTest, SyntaxErrorsNameTheLine) {
  Templates t;
  Status s = t.add("bad", "line one\n{{#open}}never closed");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("bad:2"), std::string::npos) << s.message();
  EXPECT_FALSE(t.add("bad2", "{{/stray}}").is_ok());
  EXPECT_FALSE(t.add("bad3", "{{#a}}{{/b}}").is_ok());
  EXPECT_FALSE(t.add("bad4", "{{unclosed").is_ok());
  EXPECT_FALSE(t.add("bad5", "{{}}").is_ok());
}

TEST(TemplateTest, UnknownTemplateOrPartialIsNotFound) {
  Templates t;
  ASSERT_TRUE(t.add("p", "{{>nope}}").is_ok());
  EXPECT_EQ(t.render("p", json::object()).status().code(), Code::kNotFound);
  EXPECT_EQ(t.render("missing", json::object()).status().code(), Code::kNotFound);
}

TEST(TemplateTest, EmbeddedTemplatesParse) {
  Templates t;
  Status s = t.load_embedded("web/templates/");
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_TRUE(t.has("document.html"));
  EXPECT_TRUE(t.has("layout_head"));
}

// --- util ---------------------------------------------------------------------

TEST(UtilTest, PercentDecode) {
  EXPECT_EQ(percent_decode("%E5%85%AC%E6%96%87", false), "公文");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
  EXPECT_EQ(percent_decode("%zz", false), std::nullopt);
  EXPECT_EQ(percent_decode("%E5", false), std::nullopt);  // not UTF-8
  EXPECT_EQ(percent_decode("abc%4", false), std::nullopt);
  EXPECT_EQ(percent_decode("%C0%AF", false), std::nullopt);  // overlong
}

TEST(UtilTest, PercentEncodeRoundTrips) {
  std::string name = "其他 & 杂项/?#";
  std::string enc = percent_encode(name);
  EXPECT_EQ(enc.find_first_of(" &/?#"), std::string::npos) << enc;
  EXPECT_EQ(percent_decode(enc, false), name);
}

TEST(UtilTest, QueryParam) {
  EXPECT_EQ(query_param("page=2&category=%E5%85%AC", "category"), "公");
  EXPECT_EQ(query_param("page=2", "category"), std::nullopt);
  EXPECT_EQ(query_param("category", "category"), "");
  bool bad = false;
  EXPECT_EQ(query_param("category=%ZZ", "category", &bad), std::nullopt);
  EXPECT_TRUE(bad);
}

TEST(UtilTest, ParseIdAndPage) {
  EXPECT_EQ(parse_id("7"), 7);
  EXPECT_EQ(parse_id("9223372036854775807"), INT64_MAX);
  for (const char* bad :
       {"", "0", "-1", "+1", "1a", "abc", " 1", "9223372036854775808", "99999999999999999999"})
    EXPECT_EQ(parse_id(bad), std::nullopt) << bad;
  EXPECT_EQ(parse_page(""), 1);
  EXPECT_EQ(parse_page("page=3"), 3);
  EXPECT_EQ(parse_page("page=0"), std::nullopt);
  EXPECT_EQ(parse_page("page=x"), std::nullopt);
  EXPECT_EQ(parse_page("page=100001"), std::nullopt);
}

TEST(UtilTest, EntityTags) {
  std::string tag = make_etag("正文");
  EXPECT_EQ(tag.front(), '"');
  EXPECT_EQ(tag.back(), '"');
  EXPECT_NE(tag, make_etag("正文。"));
  EXPECT_TRUE(etag_matches(tag, tag));
  EXPECT_TRUE(etag_matches("W/" + tag, tag));
  EXPECT_TRUE(etag_matches("\"other\", " + tag, tag));
  EXPECT_TRUE(etag_matches("*", tag));
  EXPECT_FALSE(etag_matches("\"other\"", tag));
  EXPECT_FALSE(etag_matches("", tag));
}

TEST(UtilTest, Dates) {
  EXPECT_EQ(rfc3339_utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(display_date(16 * 3600), "1970-01-02");  // 00:00 next day in UTC+8
}

// --- errors -------------------------------------------------------------------

TEST(ErrorsTest, OneMappingFromCodeToHttpStatus) {
  EXPECT_EQ(http_status(Code::kOk), 200);
  EXPECT_EQ(http_status(Code::kNotFound), 404);
  EXPECT_EQ(http_status(Code::kInvalidArgument), 400);
  EXPECT_EQ(http_status(Code::kForbidden), 403);
  EXPECT_EQ(http_status(Code::kPaymentRequired), 402);
  EXPECT_EQ(http_status(Code::kConflict), 409);
  EXPECT_EQ(http_status(Code::kUnavailable), 503);
  EXPECT_EQ(http_status(Code::kInternal), 500);
}

// --- router -------------------------------------------------------------------

Response dummy(Site&, const Request&, const Params&) { return {}; }

TEST(RouterTest, MatchesPatternsAndParams) {
  std::vector<Route> table = {
      {Method::kGet, "/", "home", dummy},
      {Method::kGet, "/d/{id}", "document", dummy},
      {Method::kGet, "/static/{path*}", "static", dummy},
      {Method::kPost, "/api/v1/orders", "orders_create", dummy},
      {Method::kGet, "/api/v1/orders", "orders_list", dummy},
  };
  Router r(table);
  auto m = r.match(Method::kGet, "/");
  EXPECT_EQ(m.outcome, Router::Outcome::kFound);
  EXPECT_EQ(m.route, 0);
  m = r.match(Method::kHead, "/d/42");
  ASSERT_EQ(m.outcome, Router::Outcome::kFound);
  EXPECT_EQ(m.route, 1);
  EXPECT_EQ(m.params.get("id"), "42");
  m = r.match(Method::kGet, "/static/css/a.css");
  ASSERT_EQ(m.outcome, Router::Outcome::kFound);
  EXPECT_EQ(m.params.get("path"), "css/a.css");
  for (const char* p : {"/d", "/d/", "/d/1/", "/d/1/x", "/x", "/static/", "//", ""})
    EXPECT_EQ(r.match(Method::kGet, p).outcome, Router::Outcome::kNotFound) << p;
  m = r.match(Method::kPost, "/d/1");
  EXPECT_EQ(m.outcome, Router::Outcome::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, HEAD");
  m = r.match(Method::kDelete, "/api/v1/orders");
  EXPECT_EQ(m.outcome, Router::Outcome::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "POST, GET, HEAD");
  EXPECT_EQ(r.match(Method::kPost, "/api/v1/orders").route, 3);
  EXPECT_EQ(r.route_names()[static_cast<size_t>(r.not_found_index())], "not_found");
}

TEST(RouterTest, TheRouteTableCompiles) {
  Router r(routes());
  EXPECT_EQ(r.match(Method::kGet, "/api/v1/documents/3").outcome, Router::Outcome::kFound);
  EXPECT_EQ(r.match(Method::kGet, "/c/%E5%85%AC").outcome, Router::Outcome::kFound);
  // Every route has a distinct metrics name.
  std::set<std::string> names(r.route_names().begin(), r.route_names().end());
  EXPECT_EQ(names.size(), r.route_names().size());
}

}  // namespace
}  // namespace paidoc::web
