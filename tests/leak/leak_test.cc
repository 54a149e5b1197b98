// The leak test: documents with distinctive paid sentences are imported, then
// every route and every link reachable from "/" (and from the sitemap and the
// feed) is fetched as a reader without access — GET, HEAD and Range — and no
// response may hold any paid sentence or any 8-character run of one, in its
// body or its headers. See PRODUCT.md, "the leak rule".
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "auth/auth.h"
#include "common/clock.h"
#include "library/library.h"
#include "store/store.h"
#include "support/backends.h"
#include "web/router.h"
#include "web/server.h"
#include "web/util.h"

namespace paidoc {
namespace {

namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

// ---- the documents -----------------------------------------------------------
// Paid sentences are written to share no 8-character run with any free text,
// title or permitted heading, so any hit is a leak.

const char* kDocA =
    "二〇二五年度机关后勤服务中心工作总结\n"
    "　　一年来，中心围绕保障机关运转这一主线，扎实做好各项服务工作。\n"
    "一、主要工作完成情况\n"
    "（一）餐饮保障。全年供餐十八万人次，食品安全零事故。\n"
    "##paidbegin##\n"
    "（二）车辆管理。\n"
    "琥珀色的调度单记录了四百一十七次出车任务的去向。\n"
    "二、下一步工作打算\n"
    "候鸟迁徙季节到来前要完成屋顶防水层的全面翻修。\n"
    "##paidend##\n"
    "　　以上报告，请审阅。\n";

const char* kDocB =
    "街道社区网格化管理调研报告\n"
    "网格员队伍是基层治理的末梢神经。调研发现，##paidbegin##每位网格员平均联系两百九十三户居民并且每周走访三遍，##paidend##这一结论来自问卷。\n"
    "一、调研基本情况\n"
    "本次调研覆盖五个社区。\n"
    "$$PaidBegin$$二、对策建议\n"
    "把银杏巷七号楼的电梯加装纳入明年民生实事清单。\n"
    "$$paidEND$$\n";

const char* kDocC =
    "县域医共体建设推进情况汇报\n"
    "根据县委部署，现将医共体建设情况汇报如下。\n"
    "##paidbegin##一、关于推进县域医共体建设过程中遇到的若干体制机制障碍的深入分析和说明这一部分超出三十个字符的尾巴绝不能出现\n"
    "乡镇卫生院的彩色药箱在凌晨三点被送往山那边的村庄。\n"
    "##paidend##\n"
    "二、公开部分\n"
    "群众满意度持续提升。\n"
    "##paidbegin##\n"
    "（一）第二个付费段落。\n"
    "薄荷绿色的随访卡片一共印制了八千六百张。\n"
    "##paidend##\n";

const std::vector<std::string> kPaidSentences = {
    "琥珀色的调度单记录了四百一十七次出车任务的去向。",
    "候鸟迁徙季节到来前要完成屋顶防水层的全面翻修。",
    "每位网格员平均联系两百九十三户居民并且每周走访三遍，",
    "把银杏巷七号楼的电梯加装纳入明年民生实事清单。",
    "和说明这一部分超出三十个字符的尾巴绝不能出现",  // tail of a paid heading too long to show
    "乡镇卫生院的彩色药箱在凌晨三点被送往山那边的村庄。",
    "薄荷绿色的随访卡片一共印制了八千六百张。",
    // Its head: a heading longer than 30 characters reads as a sentence and
    // is left out of the outline altogether, not cut short.
    "关于推进县域医共体建设过程中遇到的若干体制机制障碍的深入分析",
};

// Free sentences that must be visible: proves the pages were really fetched.
const std::vector<std::string> kFreeSentences = {
    "全年供餐十八万人次，食品安全零事故。",
    "这一结论来自问卷。",
    "群众满意度持续提升。",
};

std::vector<std::string> code_points(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
    out.push_back(s.substr(i, len));
    i += len;
  }
  return out;
}

// Every 8-code-point window of every paid sentence.
// Which document (0 = A, 1 = B, 2 = C) each paid sentence belongs to.
const int kPaidSentenceDoc[] = {0, 0, 1, 1, 2, 2, 2, 2};

// Every 8-code-point window of every paid sentence, except those of the
// document index `readable` (a document the viewer bought; -1: none).
std::vector<std::string> forbidden_runs(int readable = -1) {
  std::vector<std::string> runs;
  for (size_t k = 0; k < kPaidSentences.size(); ++k) {
    if (kPaidSentenceDoc[k] == readable) continue;
    const std::string& s = kPaidSentences[k];
    auto cps = code_points(s);
    for (size_t i = 0; i + 8 <= cps.size(); ++i) {
      std::string w;
      for (size_t j = i; j < i + 8; ++j) w += cps[j];
      runs.push_back(w);
    }
  }
  return runs;
}

// ---- a small HTTP client -------------------------------------------------------

struct Response {
  int status = 0;
  std::string headers;  // every header line, "Name: value\n"
  std::string body;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

Response fetch(uint16_t port, const std::string& target, http::verb verb = http::verb::get,
               const std::string& range = "", const Headers& extra = {}) {
  boost::asio::io_context ioc;
  tcp::resolver resolver(ioc);
  boost::beast::tcp_stream stream(ioc);
  stream.connect(resolver.resolve("127.0.0.1", std::to_string(port)));
  http::request<http::empty_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!range.empty()) req.set(http::field::range, range);
  for (const auto& [name, value] : extra) req.set(name, value);
  http::write(stream, req);
  boost::beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  if (verb == http::verb::head) parser.skip(true);
  http::read(stream, buf, parser);
  auto res = parser.release();
  Response r;
  r.status = res.result_int();
  for (const auto& f : res) r.headers += std::string(f.name_string()) + ": " + std::string(f.value()) + "\n";
  r.body = res.body();
  boost::beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  return r;
}

// A form POST (urlencoded) with the CSRF cookie (the __Host- one: the
// request is to 127.0.0.1) and the same token in the body, so that a refusal
// is about who asks, not about the token. For a signed-in caller `csrf` is
// their session's token (auth::session_csrf_token).
Response post_form(uint16_t port, const std::string& target, const std::string& form,
                   const Headers& extra, const std::string& csrf) {
  boost::asio::io_context ioc;
  tcp::resolver resolver(ioc);
  boost::beast::tcp_stream stream(ioc);
  stream.connect(resolver.resolve("127.0.0.1", std::to_string(port)));
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::content_type, "application/x-www-form-urlencoded");
  std::string cookie = "__Host-paidoc_csrf=" + csrf;
  for (const auto& [name, value] : extra) {
    if (name == "Cookie")
      cookie += "; " + value;
    else
      req.set(name, value);
  }
  req.set(http::field::cookie, cookie);
  req.body() = form + "&csrf=" + csrf;
  req.prepare_payload();
  http::write(stream, req);
  boost::beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  http::read(stream, buf, parser);
  auto res = parser.release();
  Response r;
  r.status = res.result_int();
  for (const auto& f : res) r.headers += std::string(f.name_string()) + ": " + std::string(f.value()) + "\n";
  r.body = res.body();
  boost::beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  return r;
}

// Every console route (/admin…) of the route table with its parameters
// filled: {id} by each document id (also where it names a user or an
// order: a refusal must not depend on it), any other by "1".
std::vector<std::pair<web::Method, std::string>> console_targets(const std::vector<int64_t>& ids) {
  std::vector<std::pair<web::Method, std::string>> out;
  for (const web::Route& r : web::routes()) {
    std::string_view p = r.pattern;
    if (p != "/admin" && p.rfind("/admin/", 0) != 0) continue;
    for (int64_t id : ids) {
      std::string path;
      for (size_t i = 0; i < p.size();) {
        if (p[i] != '{') {
          path += p[i++];
          continue;
        }
        size_t end = p.find('}', i);
        path += p.substr(i + 1, end - i - 1) == "id" ? std::to_string(id) : "1";
        i = end + 1;
      }
      out.emplace_back(r.method, path);
      if (p.find('{') == std::string_view::npos) break;  // no parameter: once
    }
  }
  return out;
}

// Links in a page, sitemap or feed that point into this site, as targets.
std::vector<std::string> links_in(const std::string& body, uint16_t port) {
  std::vector<std::string> out;
  static const std::regex attr(R"re((?:href|src|action)="([^"]*)")re");
  static const std::regex loc(R"re(<loc>([^<]*)</loc>)re");
  std::string base = "http://127.0.0.1:" + std::to_string(port);
  auto add = [&](std::string u) {
    for (size_t p; (p = u.find("&amp;")) != std::string::npos;) u.replace(p, 5, "&");
    if (u.rfind(base, 0) == 0) u = u.substr(base.size());
    if (u.empty() || u[0] != '/' || u.rfind("//", 0) == 0) return;
    out.push_back(u.substr(0, u.find('#')));
  };
  for (std::sregex_iterator it(body.begin(), body.end(), attr), end; it != end; ++it) add((*it)[1]);
  for (std::sregex_iterator it(body.begin(), body.end(), loc), end; it != end; ++it) add((*it)[1]);
  return out;
}

// The crawl runs on each store backend: the web layer is the same, but the
// listings, search answers and counts it shows come from the backend.
class LeakTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = testing_support::make_test_database(GetParam());
    if (db_ == nullptr) GTEST_SKIP() << testing_support::postgres_skip_reason();
    auto st = store::Store::open(db_->url());
    ASSERT_TRUE(st.ok()) << st.status().to_string();
    store_ = std::move(*st);
    lib_ = std::make_unique<library::Library>(*store_);
    struct Src {
      const char* text;
      const char* category;
      int64_t fen;
    } srcs[] = {{kDocA, "工作总结", 990}, {kDocB, "调研报告", 500}, {kDocC, "调研报告", 1990}};
    // The last document is published by another editor (an upload), the
    // others by the operator (CLI): the editor who crawls owns none.
    auth::Options owner_ao;
    owner_ao.pwhash_opslimit = 1;
    owner_ao.pwhash_memlimit = 8192;
    auto owner = auth::Accounts(*store_, Clock::system(), owner_ao)
                     .add_user("owner@example.cn", "owner-password", gate::Role::kEditor);
    ASSERT_TRUE(owner.ok()) << owner.status().to_string();
    int i = 0;
    for (const auto& s : srcs) {
      std::optional<int64_t> publisher;
      if (i == 2) publisher = owner->id;
      auto line = lib_->import_bytes(s.text, "leak:" + std::to_string(i++), {Fen(s.fen), s.category, publisher});
      ASSERT_TRUE(line.ok) << line.error;
      ids_.push_back(line.id);
    }
    web::ServerOptions o;
    o.port = 0;
    o.threads = 2;
    o.access_log = false;
    o.handle_signals = false;
    // The crawl runs hundreds of searches from one address: no limits here
    // (tests/web/search_limits_test.cc covers them).
    o.search_limits = {0, 0, 0, 0};
    auth::Options ao;
    ao.pwhash_opslimit = 1;     // crypto_pwhash_OPSLIMIT_MIN: fast tests
    ao.pwhash_memlimit = 8192;  // crypto_pwhash_MEMLIMIT_MIN
    accounts_ = std::make_unique<auth::Accounts>(*store_, Clock::system(), ao);
    ASSERT_TRUE(accounts_->add_user("reader@example.cn", "reader-password", gate::Role::kReader).ok());
    ASSERT_TRUE(accounts_->add_user("editor@example.cn", "editor-password", gate::Role::kEditor).ok());
    commerce_ = std::make_unique<commerce::Commerce>(
        *store_, *store_, Clock::system(), commerce::Options{},
        std::map<std::string, std::unique_ptr<commerce::PaymentProvider>>{});
    server_ = std::make_unique<web::Server>(*store_, *lib_, *accounts_, *commerce_, o);
    ASSERT_TRUE(server_->start().is_ok());
    thread_ = std::thread([this] { server_->run(); });
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
    commerce_.reset();
    lib_.reset();
    store_.reset();
  }

  std::unique_ptr<testing_support::TestDatabase> db_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<library::Library> lib_;
  std::unique_ptr<auth::Accounts> accounts_;
  std::unique_ptr<commerce::Commerce> commerce_;
  std::unique_ptr<web::Server> server_;
  std::thread thread_;
  std::vector<int64_t> ids_;

  // readable: index of a document the viewer bought (its paid text may show).
  std::string crawl(const Headers& who, int readable = -1);
};

TEST(LeakDetector, FindsAPlantedRun) {
  // The detector itself must be able to fail.
  auto runs = forbidden_runs();
  std::string page = "<p>……山那边的村庄。乡镇卫生院的彩色药箱</p>";
  bool hit = false;
  for (const auto& r : runs) hit |= page.find(r) != std::string::npos;
  EXPECT_TRUE(hit);
}

// Crawls every route and every reachable link with the given request headers
// (none: anonymous; a cookie or bearer token: a signed-in viewer) and fails
// on any paid text. Returns every body fetched, for positive checks.
std::string LeakTest::crawl(const Headers& who, int readable) {
  const uint16_t port = server_->port();
  std::vector<std::string> seeds = {"/", "/robots.txt", "/sitemap.xml", "/feed.xml", "/healthz", "/metrics",
                                    "/login", "/register", "/api/v1/documents",
                                    "/api/v1/documents?page=2", "/api/v1/documents?category=%E8%B0%83%E7%A0%94%E6%8A%A5%E5%91%8A",
                                    "/c/%E8%B0%83%E7%A0%94%E6%8A%A5%E5%91%8A", "/search?q=%E7%BD%91%E6%A0%BC%E5%91%98",
                                    "/api/v1/search?q=%E7%BD%91%E6%A0%BC%E5%91%98", "/d/999999", "/d/abc",
                                    "/api/v1/documents/999999", "/no/such/page", "/static/style.css"};
  for (const auto& [method, path] : console_targets(ids_))
    if (method == web::Method::kGet) seeds.push_back(path);
  for (int64_t id : ids_) {
    seeds.push_back("/d/" + std::to_string(id));
    seeds.push_back("/d/" + std::to_string(id) + "?full=1&access=admin");
    seeds.push_back("/api/v1/documents/" + std::to_string(id));
    seeds.push_back("/api/v1/documents/" + std::to_string(id) + "/download?format=txt");
  }

  // Search for words that appear only in paid text: 4-character pieces of
  // every paid sentence, alone, with a free word, and as one character,
  // on the page and the API, sorted both ways. Results may say a match is
  // in the paid part, never show it.
  for (const std::string& s : kPaidSentences) {
    auto cps = code_points(s);
    for (size_t at : {size_t{0}, size_t{5}, cps.size() - 6}) {
      std::string word;
      for (size_t j = at; j < at + 4 && j < cps.size(); ++j) word += cps[j];
      const std::string q = web::percent_encode(word);
      seeds.push_back("/search?q=" + q);
      seeds.push_back("/search?q=" + q + "&sort=date&price=paid");
      seeds.push_back("/api/v1/search?q=" + q);
      seeds.push_back("/api/v1/search?q=" + q + "%20" + web::percent_encode("提升") + "&per_page=50");
    }
    seeds.push_back("/api/v1/search?q=" + web::percent_encode(cps[3]) + "&per_page=50");
  }
  const auto runs = forbidden_runs(readable);
  std::set<std::string> seen;
  std::deque<std::string> queue(seeds.begin(), seeds.end());
  std::string all_pages;
  int fetched = 0;
  auto check = [&](const std::string& what, const Response& r) {
    std::string bytes = r.headers + "\n" + r.body;
    for (const auto& run : runs)
      ASSERT_EQ(bytes.find(run), std::string::npos) << "paid text \"" << run << "\" leaked by " << what;
  };
  while (!queue.empty() && fetched < 2000) {
    std::string t = queue.front();
    queue.pop_front();
    if (!seen.insert(t).second) continue;
    Response get = fetch(port, t, http::verb::get, "", who);
    ++fetched;
    check("GET " + t, get);
    check("HEAD " + t, fetch(port, t, http::verb::head, "", who));
    check("GET " + t + " (Range)", fetch(port, t, http::verb::get, "bytes=100-", who));
    if (::testing::Test::HasFatalFailure()) return all_pages;
    all_pages += get.body;
    for (auto& l : links_in(get.body, port)) queue.push_back(l);
  }
  EXPECT_GT(fetched, 15);
  RecordProperty("fetched", fetched);
  std::string list;
  for (const auto& t : seen) list += " " + t;
  std::cerr << "leak crawl fetched " << fetched << " targets:" << list << "\n";
  // The pages were real: free text and the teaser's permitted headings show.
  for (const auto& s : kFreeSentences) EXPECT_NE(all_pages.find(s), std::string::npos) << s;
  EXPECT_NE(all_pages.find("对策建议"), std::string::npos);   // paid heading in the outline
  EXPECT_NE(all_pages.find("下一步工作打算"), std::string::npos);
  return all_pages;
}

TEST_P(LeakTest, NoPaidTextReachesAnAnonymousReader) { crawl({}); }

TEST_P(LeakTest, NoPaidTextReachesASignedInReaderWithoutPurchases) {
  auto login = accounts_->login("reader@example.cn", "reader-password", {"127.0.0.1", "leak-test"});
  ASSERT_TRUE(login.ok()) << login.status().to_string();
  // Through the session cookie, as a browser...
  std::string pages = crawl({{"Cookie", "paidoc_session=" + login->token}});
  EXPECT_NE(pages.find("reader@example.cn"), std::string::npos);  // really signed in
  // ...and through the bearer token, as an API client.
  std::string api = crawl({{"Authorization", "Bearer " + login->token}});
  EXPECT_NE(api.find("reader@example.cn"), std::string::npos);
}

TEST_P(LeakTest, NoPaidTextReachesAnEditorWhoDidNotPublishTheDocuments) {
  auto login = accounts_->login("editor@example.cn", "editor-password", {"127.0.0.1", "leak-test"});
  ASSERT_TRUE(login.ok()) << login.status().to_string();
  std::string pages = crawl({{"Cookie", "paidoc_session=" + login->token}});
  EXPECT_NE(pages.find("editor@example.cn"), std::string::npos);
}

// Every state-changing console route, tried on every document with a valid
// CSRF token as a reader and as an editor who published none of them: no
// answer carries paid text (an editor's preview or save of someone else's
// document included), and no document changes.
TEST_P(LeakTest, NoPaidTextComesBackFromConsoleActionsOfCallersWhoMayNotEdit) {
  std::vector<int64_t> revisions;
  for (int64_t id : ids_) revisions.push_back(*store_->document_revision(id));
  const auto runs = forbidden_runs();
  const std::string form =
      "source=%E6%A0%87%E9%A2%98%0A%E6%AD%A3%E6%96%87%E3%80%82&title=x&price_yuan=0&status=published"
      "&action=publish&ids=" + std::to_string(ids_[0]) + "&ids=" + std::to_string(ids_[2]) +
      "&name=x&dir=up&role=admin";
  int posted = 0;
  for (const char* email : {"reader@example.cn", "editor@example.cn"}) {
    auto login = accounts_->login(email, std::string(email).substr(0, std::string(email).find('@')) +
                                             "-password", {"127.0.0.1", "leak-test"});
    ASSERT_TRUE(login.ok()) << login.status().to_string();
    const Headers who = {{"Cookie", "paidoc_session=" + login->token}};
    for (const auto& [method, path] : console_targets(ids_)) {
      if (method != web::Method::kPost) continue;
      Response r = post_form(server_->port(), path, form, who, auth::session_csrf_token(login->token));
      ++posted;
      // A route that names a document must refuse; one that does not (a new
      // document of their own, an upload) may work, and is still checked.
      const bool names_a_document =
          std::any_of(ids_.begin(), ids_.end(), [&, p = path](int64_t id) {
            return p.find("/" + std::to_string(id)) != std::string::npos;
          });
      if (names_a_document || std::string(email).rfind("reader", 0) == 0)
        EXPECT_TRUE(r.status == 403 || r.status == 404 || r.status == 415)
            << email << " POST " << path << " answered " << r.status;
      std::string bytes = r.headers + "\n" + r.body;
      for (const auto& run : runs)
        ASSERT_EQ(bytes.find(run), std::string::npos) << "paid text leaked by POST " << path;
    }
  }
  EXPECT_GT(posted, 0);
  for (size_t i = 0; i < ids_.size(); ++i) EXPECT_EQ(*store_->document_revision(ids_[i]), revisions[i]);
}

TEST_P(LeakTest, AnAdminDoesSeeThePaidText) {
  // The positive control: the same crawl with full access finds paid text,
  // so the other crawls' silence means something.
  ASSERT_TRUE(accounts_->add_user("admin@example.cn", "admin-password", gate::Role::kAdmin).ok());
  auto login = accounts_->login("admin@example.cn", "admin-password", {"127.0.0.1", "leak-test"});
  ASSERT_TRUE(login.ok());
  Response r = fetch(server_->port(), "/d/" + std::to_string(ids_[0]), http::verb::get, "",
                     {{"Cookie", "paidoc_session=" + login->token}});
  EXPECT_NE(r.body.find(kPaidSentences[0]), std::string::npos);
}


TEST_P(LeakTest, DocumentPageShowsTeaserNotPaidText) {
  Response r = fetch(server_->port(), "/d/" + std::to_string(ids_[2]));
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.headers.find("private"), std::string::npos) << r.headers;
  EXPECT_NE(r.body.find("根据县委部署，现将医共体建设情况汇报如下。"), std::string::npos);
  // A paid heading longer than 30 characters reads as a sentence: it is not
  // in the outline, not even cut short. The short one is.
  EXPECT_EQ(r.body.find("关于推进县域医共体建设"), std::string::npos);
  EXPECT_NE(r.body.find("<li class=\"outline-l2\">（一）第二个付费段落</li>"), std::string::npos);
  for (const auto& s : kPaidSentences) EXPECT_EQ(r.body.find(s), std::string::npos) << s;
}

TEST_P(LeakTest, ABuyerSeesWhatTheyBoughtAndNothingElse) {
  ASSERT_TRUE(accounts_->add_user("buyer@example.cn", "buyer-password", gate::Role::kReader).ok());
  auto login = accounts_->login("buyer@example.cn", "buyer-password", {"127.0.0.1", "leak-test"});
  ASSERT_TRUE(login.ok());
  const int64_t uid = login->session.account.id;
  ASSERT_TRUE(commerce_->credit(uid, Fen(5000), "leak test", "test").is_ok());
  auto order = commerce_->order_document(uid, gate::Role::kReader, ids_[0]);
  ASSERT_TRUE(order.ok()) << order.status().to_string();
  auto paid = commerce_->pay(uid, order->id, commerce::PayMethod::kWallet);
  ASSERT_TRUE(paid.ok()) << paid.status().to_string();

  // Documents B and C stay locked for the buyer of A, on every route.
  std::string pages = crawl({{"Cookie", "paidoc_session=" + login->token}}, /*readable=*/0);
  // And A really is unlocked for them (the crawl saw its paid text).
  EXPECT_NE(pages.find(kPaidSentences[0]), std::string::npos);
  EXPECT_NE(pages.find(kPaidSentences[1]), std::string::npos);
}

PAIDOC_ON_EVERY_BACKEND(LeakTest);

}  // namespace
}  // namespace paidoc
