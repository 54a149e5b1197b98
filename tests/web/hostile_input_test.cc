// Hostile input at the HTTP edge, each test named after what was found when
// the server was attacked from outside: control characters in search terms,
// nested JSON bodies, requests without Host or with folded header lines,
// ids spelled with leading zeros or signs, control characters in category
// and file names, and answers without nosniff. Each runs on every store
// backend: search and uploads reach the store.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "auth/auth.h"
#include "commerce/commerce.h"
#include "common/clock.h"
#include "library/library.h"
#include "store/store.h"
#include "support/backends.h"
#include "web/browser.h"
#include "web/http_client.h"
#include "web/server.h"
#include "web/json_body.h"
#include "web/util.h"

namespace paidoc::web {
namespace {

using nlohmann::json;
using testing::Browser;
using testing::HttpClient;
using testing::HttpResponse;
using testing_support::make_test_database;
using testing_support::postgres_skip_reason;
using testing_support::TestDatabase;

constexpr std::string_view kNotice =
    "社区图书室开放时间通知\n"
    "社区图书室自下月起延长开放时间，周末也对居民开放。\n"
    "##paidbegin##\n"
    "值班表由志愿者轮流填写，钥匙放在收发室的蓝色抽屉里。\n"
    "##paidend##\n"
    "欢迎居民前来借阅。\n";

// Every message the server logs at warning level or above, while alive.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    sink->set_pattern("%l %v");
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_level(spdlog::level::warn);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::string text() {
    spdlog::default_logger()->flush();
    return out_.str();
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

class HostileInputTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = make_test_database(GetParam());
    if (db_ == nullptr) GTEST_SKIP() << postgres_skip_reason();
    auto opened = store::Store::open(db_->url());
    ASSERT_TRUE(opened.ok()) << opened.status().to_string();
    store_ = std::move(opened).value();
    library_ = std::make_unique<library::Library>(*store_);
    library::ImportOptions o;
    o.price = Fen(800);
    o.category = "通知公告";
    library::ImportLine line = library_->import_bytes(kNotice, "notice.txt", o);
    ASSERT_TRUE(line.ok) << line.error;
    doc_id_ = line.id;

    auth::Options ao;
    ao.pwhash_opslimit = 1;
    ao.pwhash_memlimit = 8192;
    accounts_ = std::make_unique<auth::Accounts>(*store_, clock_, ao);
    commerce_ = std::make_unique<commerce::Commerce>(
        *store_, *store_, clock_, commerce::Options{},
        std::map<std::string, std::unique_ptr<commerce::PaymentProvider>>{});
    ServerOptions opts;
    opts.port = 0;
    opts.threads = 2;
    opts.access_log = false;
    opts.handle_signals = false;
    opts.search_limits = {0, 0, 0, 0};
    server_ = std::make_unique<Server>(*store_, *library_, *accounts_, *commerce_, opts);
    Status s = server_->start();
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    port_ = server_->port();
    thread_ = std::thread([this] { server_->run(); });
  }

  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
    commerce_.reset();
    accounts_.reset();
    library_.reset();
    store_.reset();
    db_.reset();
  }

  HttpResponse get(const std::string& target) { return HttpClient(port_).get(target); }

  // The answer to bytes sent as they are on a new connection.
  HttpResponse raw(const std::string& bytes) {
    HttpClient c(port_);
    c.send_raw(bytes);
    return c.read_response(false);
  }

  std::string token_of(const std::string& email, gate::Role role) {
    Result<auth::Account> a = accounts_->add_user(email, testing::kTestPassword, role);
    EXPECT_TRUE(a.ok()) << a.status().to_string();
    HttpResponse r = Browser(port_).post_json(
        "/api/v1/auth/login", {{"email", email}, {"password", testing::kTestPassword}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? json::parse(r.body)["token"].get<std::string>() : std::string();
  }

  HttpResponse api(const std::string& method, const std::string& target, const std::string& token,
                   const std::string& content_type, const std::string& body) {
    return HttpClient(port_).request(
        method, target, {"Authorization: Bearer " + token, "Content-Type: " + content_type}, body);
  }

  int64_t document_count() {
    store::ListQuery q;
    q.status = std::nullopt;  // drafts too
    Result<store::ListPage> page = store_->list_documents(q);
    EXPECT_TRUE(page.ok()) << page.status().to_string();
    return page.ok() ? page->total : -1;
  }

  std::string doc() const { return std::to_string(doc_id_); }

  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<library::Library> library_;
  FakeClock clock_{1'767'225'600};
  std::unique_ptr<auth::Accounts> accounts_;
  std::unique_ptr<commerce::Commerce> commerce_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  int64_t doc_id_ = 0;
};

// --- finding 1: control characters in search terms ------------------------------

TEST_P(HostileInputTest, NulInASearchTermIsASeparatorNot500) {
  LogCapture log;
  // On the page: 200, the document found by the term before the NUL, and
  // the NUL neither echoed nor an error.
  HttpResponse page = get("/search?q=%E5%9B%BE%E4%B9%A6%E5%AE%A4%00%E9%92%A5");
  EXPECT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.body.find('\0'), std::string::npos);
  page = get("/search?q=%E5%9B%BE%E4%B9%A6%E5%AE%A4%00");
  EXPECT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("/d/" + doc()), std::string::npos) << page.body;

  // In the API: the same, "图书室\0" searched as 图书室.
  HttpResponse a = get("/api/v1/search?q=%E5%9B%BE%E4%B9%A6%E5%AE%A4%00");
  ASSERT_EQ(a.status, 200) << a.body;
  json j = json::parse(a.body);
  EXPECT_EQ(j["total"], 1);
  ASSERT_EQ(j["hits"].size(), 1u);
  EXPECT_EQ(j["hits"][0]["id"], doc_id_);
  // "a\0b": two terms, not one term with a NUL in it.
  a = get("/api/v1/search?q=a%00b");
  EXPECT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(json::parse(a.body)["total"], 0);
  EXPECT_EQ(log.text(), "");
}

TEST_P(HostileInputTest, ControlCharactersInSearchTermsAreSeparatorsOnPageAndApi) {
  LogCapture log;
  // C0 (NUL, SOH, ESC), DEL and C1 (U+0085, U+009F), alone, inside a word,
  // inside a quoted phrase and after an exclusion's minus.
  const char* queries[] = {"%00",
                           "%01%1B%7F",
                           "%C2%85",
                           "%E5%9B%BE%E4%B9%A6%01%E5%AE%A4",
                           "%22%E5%9B%BE%E4%B9%A6%00%E5%AE%A4%22",
                           "%E5%9B%BE%E4%B9%A6%E5%AE%A4%20-%00%E9%92%A5",
                           "%E5%9B%BE%E4%B9%A6%C2%9F%E5%AE%A4",
                           "%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00"};
  for (const char* q : queries) {
    HttpResponse page = get(std::string("/search?q=") + q);
    EXPECT_EQ(page.status, 200) << q << "\n" << page.body;
    HttpResponse a = get(std::string("/api/v1/search?q=") + q);
    EXPECT_EQ(a.status, 200) << q << "\n" << a.body;
    EXPECT_EQ(a.body.find("\\u0000"), std::string::npos) << q << "\n" << a.body;
  }
  EXPECT_EQ(log.text(), "");
}

// --- finding 2: nested JSON bodies ------------------------------------------------

TEST_P(HostileInputTest, DeeplyNestedJsonOnLoginIsRefusedBeforeItIsBuilt) {
  LogCapture log;
  // 40,000 '[' (within the size bound): 400, too deep.
  HttpResponse deep = HttpClient(port_).request(
      "POST", "/api/v1/auth/login", {"Content-Type: application/json"}, std::string(40000, '['));
  ASSERT_EQ(deep.status, 400) << deep.body;
  json e = json::parse(deep.body)["error"];
  EXPECT_EQ(e["code"], "invalid_argument");
  EXPECT_NE(e["message"].get<std::string>().find("嵌套过深"), std::string::npos) << e;

  // The same as objects.
  std::string objects;
  for (int i = 0; i < 5000; ++i) objects += "{\"a\":";
  deep = HttpClient(port_).request("POST", "/api/v1/auth/login",
                                   {"Content-Type: application/json"}, objects);
  EXPECT_EQ(deep.status, 400) << deep.body;

  // A megabyte of '[' (the request body limit): 413 before any parsing.
  HttpResponse big = HttpClient(port_, 20000)
                         .request("POST", "/api/v1/auth/login",
                                  {"Content-Type: application/json"}, std::string(1 << 20, '['));
  ASSERT_EQ(big.status, 413) << big.body;
  e = json::parse(big.body)["error"];
  EXPECT_EQ(e["code"], "payload_too_large");
  EXPECT_NE(e["message"].get<std::string>().find("64 KiB"), std::string::npos) << e;

  // A body that is not JSON, or not an object, is still a clear 400.
  HttpResponse bad = HttpClient(port_).request("POST", "/api/v1/auth/login",
                                               {"Content-Type: application/json"}, "[1,2]");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("JSON 对象"), std::string::npos) << bad.body;
  bad = HttpClient(port_).request("POST", "/api/v1/auth/login",
                                  {"Content-Type: application/json"}, "{\"email\":");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("不是有效的 JSON"), std::string::npos) << bad.body;
  EXPECT_EQ(log.text(), "");
}

TEST_P(HostileInputTest, DeepObjectInsideAnOrderBodyIsRefusedAndNoOrderMade) {
  std::string token = token_of("reader@example.com", gate::Role::kReader);
  // document_id at the top, a 40-deep object beside it.
  std::string nested = "1";
  for (int i = 0; i < 40; ++i) nested = "{\"a\":" + nested + "}";
  std::string body = "{\"document_id\":" + doc() + ",\"extra\":" + nested + "}";
  HttpResponse r = api("POST", "/api/v1/orders", token, "application/json", body);
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("32"), std::string::npos) << r.body;
  HttpResponse orders = api("GET", "/api/v1/orders", token, "application/json", "");
  ASSERT_EQ(orders.status, 200) << orders.body;
  EXPECT_EQ(orders.body.find("\"amount_fen\""), std::string::npos) << orders.body;

  // Depth 32 is within the bound: the order is made.
  nested = "1";
  for (int i = 0; i < 31; ++i) nested = "{\"a\":" + nested + "}";
  body = "{\"document_id\":" + doc() + ",\"extra\":" + nested + "}";
  r = api("POST", "/api/v1/orders", token, "application/json", body);
  EXPECT_EQ(r.status, 201) << r.body;
}

// --- finding 8: HTTP strictness ---------------------------------------------------

TEST_P(HostileInputTest, Http11WithoutHostIs400) {
  HttpResponse r = raw("GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("Host"), std::string::npos) << r.body;
  r = raw("GET /api/v1/documents HTTP/1.1\r\nAccept: */*\r\n\r\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "bad_request");
  // Two Host lines are as bad as none.
  r = raw("GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n");
  EXPECT_EQ(r.status, 400);
  // HTTP/1.0 needs none; with one, HTTP/1.1 is answered.
  EXPECT_EQ(raw("GET /healthz HTTP/1.0\r\n\r\n").status, 200);
  EXPECT_EQ(raw("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status, 200);
}

TEST_P(HostileInputTest, FoldedHeaderLineIs400) {
  HttpResponse r = raw("GET / HTTP/1.1\r\nHost: x\r\nX-Note: one\r\n two\r\n\r\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("折行"), std::string::npos) << r.body;
  r = raw("GET / HTTP/1.1\r\nHost: x\r\nCookie: a=1;\r\n\tpaidoc_session=x\r\n\r\n");
  EXPECT_EQ(r.status, 400);
  // The Host line itself folded.
  r = raw("GET /healthz HTTP/1.1\r\nHost:\r\n x\r\n\r\n");
  EXPECT_EQ(r.status, 400);
  // Spaces inside a value are not a fold.
  EXPECT_EQ(raw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Note: one two\r\nConnection: close\r\n\r\n")
                .status,
            200);
}

// A malformed id is answered as /d/abc is (400, BadAndMissingDocumentIds in
// server_test.cc), never with the document.
TEST_P(HostileInputTest, IdsWithLeadingZerosSignsOrSpacesAreNotTheDocument) {
  const std::string title = "社区图书室开放时间通知";
  HttpResponse ok = get("/d/" + doc());
  EXPECT_EQ(ok.status, 200);
  EXPECT_NE(ok.body.find(title), std::string::npos);
  EXPECT_EQ(get("/api/v1/documents/" + doc()).status, 200);
  for (const std::string& id : {"0" + doc(), "00" + doc(), "+" + doc(), "%20" + doc(),
                                "%2B" + doc(), doc() + "%20", std::string("0")}) {
    HttpResponse page = get("/d/" + id);
    EXPECT_EQ(page.status, 400) << id;
    EXPECT_EQ(page.body.find(title), std::string::npos) << id;
    HttpResponse a = get("/api/v1/documents/" + id);
    EXPECT_EQ(a.status, 400) << id;
    EXPECT_EQ(a.body.find(title), std::string::npos) << id;
  }
}

TEST_P(HostileInputTest, NulInCategoryAndUploadNamesIsRefusedAndNothingStored) {
  std::string token = token_of("editor@example.com", gate::Role::kAdmin);
  const int64_t before = document_count();
  const std::string text =
      "会议室借用办法\n会议室借用须提前一天登记。\n##paidbegin##\n钥匙向门卫领取。\n##paidend##\n";
  // The category, through the API upload.
  for (const char* category : {"a%00b", "%E9%80%9A%E7%9F%A5%01", "x%7F", "%C2%85y"}) {
    HttpResponse r = api("POST", std::string("/api/v1/documents?name=room.txt&category=") +
                                     category,
                         token, "text/plain; charset=utf-8", text);
    ASSERT_EQ(r.status, 400) << category << " " << r.body;
    EXPECT_NE(r.body.find("分类名称"), std::string::npos) << r.body;
  }
  // The file name.
  for (const char* name : {"a%00b.txt", "room%01.txt", "room%0A.txt", "room%C2%9B.txt"}) {
    HttpResponse r = api("POST", std::string("/api/v1/documents?name=") + name, token,
                         "text/plain; charset=utf-8", text);
    ASSERT_EQ(r.status, 400) << name << " " << r.body;
    EXPECT_NE(r.body.find("文件名"), std::string::npos) << r.body;
  }
  EXPECT_EQ(document_count(), before);
  // The same upload with clean names is stored.
  HttpResponse ok = api("POST", "/api/v1/documents?name=room.txt&category=%E9%80%9A%E7%9F%A5",
                        token, "text/plain; charset=utf-8", text);
  EXPECT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(document_count(), before + 1);

  // Category and tag names in the console.
  Browser admin(port_);
  ASSERT_EQ(admin.login("editor@example.com").status, 303);
  for (const char* path : {"/admin/categories", "/admin/tags"}) {
    HttpResponse r = admin.post(path, {{"name", std::string("a\0b", 3)}});
    EXPECT_EQ(r.status, 400) << path << " " << r.body;
    EXPECT_NE(r.body.find("控制字符"), std::string::npos) << r.body;
  }
  Result<std::vector<store::Term>> tags = store_->list_terms(store::TermKind::kTag);
  ASSERT_TRUE(tags.ok());
  EXPECT_TRUE(tags->empty());
}

TEST_P(HostileInputTest, EveryAnswerSaysNosniff) {
  for (const std::string& target :
       {std::string("/robots.txt"), std::string("/sitemap.xml"), std::string("/feed.xml"),
        std::string("/healthz"), std::string("/metrics"), std::string("/"), "/d/" + doc(),
        std::string("/d/0"), std::string("/no/such/page"), std::string("/search?q=x"),
        std::string("/api/v1/documents"), std::string("/static/style.css")}) {
    HttpResponse r = get(target);
    EXPECT_EQ(r.header("x-content-type-options"), "nosniff") << target << " " << r.status;
    EXPECT_EQ(r.headers.count("x-content-type-options"), 1u) << target;
  }
  // Errors written before any route (malformed requests) and redirects.
  EXPECT_EQ(raw("GET / HTTP/1.1\r\n\r\n").header("x-content-type-options"), "nosniff");
  HttpResponse post = HttpClient(port_).request("DELETE", "/robots.txt");
  EXPECT_EQ(post.header("x-content-type-options"), "nosniff") << post.status;
}

PAIDOC_ON_EVERY_BACKEND(HostileInputTest);

// --- the helpers behind them ------------------------------------------------------

TEST(UtilTest, IdsWithLeadingZerosAreNotIds) {
  for (const char* bad : {"07", "007", "00", "0000000000000000001", "+7", " 7", "7 "})
    EXPECT_EQ(parse_id(bad), std::nullopt) << bad;
  EXPECT_EQ(parse_id("70"), 70);
  EXPECT_EQ(parse_page("page=03"), std::nullopt);
}

TEST(JsonBodyTest, DepthIsCheckedWhileReadingNotAfterBuilding) {
  json out;
  // A megabyte of '[' with no size bound: stopped at level 33.
  EXPECT_EQ(read_json_object(std::string(1 << 20, '['), &out, 1 << 21), JsonBodyError::kTooDeep);
  std::string nested = "1";
  for (int i = 0; i < 31; ++i) nested = "[" + nested + "]";
  EXPECT_EQ(read_json_object("{\"a\":" + nested + "}", &out), JsonBodyError::kNone);
  EXPECT_EQ(out["a"].dump().size(), nested.size());
  EXPECT_EQ(read_json_object("{\"a\":[" + nested + "]}", &out), JsonBodyError::kTooDeep);
  EXPECT_EQ(read_json_object(std::string(kJsonBodyMaxBytes + 1, ' '), &out),
            JsonBodyError::kTooLarge);
  EXPECT_EQ(read_json_object("", &out), JsonBodyError::kNone);
  EXPECT_TRUE(out.is_object());
  EXPECT_EQ(read_json_object("{} x", &out), JsonBodyError::kMalformed);
  EXPECT_EQ(read_json_object("\"s\"", &out), JsonBodyError::kNotObject);
  EXPECT_EQ(json_body_status(JsonBodyError::kTooLarge), 413);
  EXPECT_EQ(json_body_status(JsonBodyError::kTooDeep), 400);
}

}  // namespace
}  // namespace paidoc::web
