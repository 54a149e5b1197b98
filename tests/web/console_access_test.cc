// Who may use the console (/admin): every route of the table under /admin,
// tried as each kind of caller. The routes come from web::routes(), so a
// console route added later is covered without touching this file:
//  - anonymous callers are sent to the login page (GET) or refused (POST);
//  - a reader gets 403 on every console route, GET or POST;
//  - every console POST is refused (403) without a CSRF token, even for an
//    admin, and changes nothing;
//  - an editor gets 403 or 404 on every console route that names a document
//    of another publisher, sees none of its paid text, and changes nothing.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "auth/auth.h"
#include "commerce/commerce.h"
#include "common/clock.h"
#include "library/library.h"
#include "store/store.h"
#include "web/browser.h"
#include "web/http_client.h"
#include "web/router.h"
#include "web/server.h"
#include "web/test_store.h"

namespace paidoc::web {
namespace {

using testing::Browser;
using testing::HttpResponse;

// Written for these tests.
constexpr std::string_view kOtherPublishersDoc =
    "河堤巡查工作记录\n"
    "汛期前，街道组织志愿者沿河堤巡查。\n"
    "一、巡查安排\n"
    "##paidbegin##\n"
    "（一）重点地段\n"
    "巡查队在第三号闸门旁发现一只橙色救生圈漂在芦苇丛里。\n"
    "##paidend##\n"
    "感谢各位志愿者的辛勤付出。\n";
constexpr const char* kOtherPaid = "橙色救生圈";

constexpr const char* kPassword = testing::kTestPassword;

class ConsoleAccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(testing::open_test_store("paidoc-console-access", clock_, t_));
    commerce_ = std::make_unique<commerce::Commerce>(
        *t_.store, *t_.store, clock_, commerce::Options{},
        std::map<std::string, std::unique_ptr<commerce::PaymentProvider>>{});
    admin_ = add("admin@example.cn", gate::Role::kAdmin);
    owner_ = add("owner@example.cn", gate::Role::kEditor);
    editor_ = add("editor@example.cn", gate::Role::kEditor);
    reader_ = add("reader@example.cn", gate::Role::kReader);
    library::ImportOptions io;
    io.price = Fen(900);
    io.category = "防汛工作";
    io.publisher_id = owner_;
    library::ImportLine line =
        t_.library->import_bytes(kOtherPublishersDoc, "upload/" + std::to_string(owner_) + "/flood.txt", io);
    ASSERT_TRUE(line.ok) << line.error;
    doc_ = line.id;
    // A paid order, so order routes have a real id to name.
    Status c = commerce_->credit(reader_, Fen(5000), "test credit", "test");
    ASSERT_TRUE(c.is_ok()) << c.to_string();
    auto o = commerce_->buy_document_with_wallet(reader_, gate::Role::kReader, doc_);
    ASSERT_TRUE(o.ok()) << o.status().to_string();
    order_ = o->id;

    ServerOptions opts;
    opts.port = 0;
    opts.threads = 2;
    opts.access_log = false;
    opts.handle_signals = false;
    server_ = std::make_unique<Server>(*t_.store, *t_.library, *t_.accounts, *commerce_, opts);
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
    testing::close_test_store(t_);
  }

  int64_t add(const std::string& email, gate::Role role) {
    Result<auth::Account> a = t_.accounts->add_user(email, kPassword, role);
    EXPECT_TRUE(a.ok()) << a.status().to_string();
    return a.ok() ? a->id : 0;
  }

  Browser signed_in(const std::string& email) {
    Browser b(port_);
    HttpResponse r = b.login(email);
    EXPECT_EQ(r.status, 303) << email << ": " << r.body;
    return b;
  }

  // The console routes, with each {param} filled in: ids name the other
  // publisher's document, the reader's order, the reader (users), and a
  // revision 1; other parameters get a plain word.
  struct Target {
    const Route* route;
    std::string path;
  };
  std::vector<Target> console_targets() const {
    std::vector<Target> out;
    for (const Route& r : routes()) {
      std::string_view p = r.pattern;
      if (p != "/admin" && p.rfind("/admin/", 0) != 0) continue;
      std::string path;
      for (size_t i = 0; i < p.size();) {
        if (p[i] != '{') {
          path += p[i++];
          continue;
        }
        size_t end = p.find('}', i);
        std::string_view name = p.substr(i + 1, end - i - 1);
        std::string_view before = p.substr(0, i);
        if (name == "id") {
          if (before.find("/orders/") != std::string_view::npos)
            path += std::to_string(order_);
          else if (before.find("/users/") != std::string_view::npos)
            path += std::to_string(reader_);
          else
            path += std::to_string(doc_);
        } else if (name == "rev" || name == "revision") {
          path += "1";
        } else {
          path += "word";
        }
        i = end + 1;
      }
      out.push_back({&r, path});
    }
    return out;
  }

  // A state-changing request to a console route as `b`, with or without its
  // CSRF token, in the body the route reads.
  HttpResponse post(Browser& b, const Target& t, bool with_csrf) {
    std::vector<std::pair<std::string, std::string>> fields = {
        {"name", "新名称"}, {"role", "admin"}, {"price_yuan", "1.00"}, {"action", "publish"},
        {"ids", std::to_string(doc_)}, {"status", "draft"}, {"source", "标题\n正文。\n"},
        {"title", "改过的标题"}, {"dir", "up"}, {"note", "test"}};
    if (t.route->body == BodyRule::kForm) return b.post(t.path, fields, with_csrf);
    // Any other body (a multipart upload): the same fields as multipart parts.
    const std::string boundary = "----paidoc-console-access";
    std::string body;
    if (with_csrf) fields.emplace_back("csrf", b.csrf());
    for (const auto& [k, v] : fields)
      body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" + v +
              "\r\n";
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"files\"; "
            "filename=\"flood.txt\"\r\nContent-Type: text/plain\r\n\r\n" +
            std::string(kOtherPublishersDoc) + "\r\n--" + boundary + "--\r\n";
    return b.send("POST", t.path, {"Content-Type: multipart/form-data; boundary=" + boundary}, body);
  }

  // What must not change when a request is refused.
  struct Snapshot {
    int64_t revision = 0;
    int64_t audit_entries = 0;
    std::string role;
    std::string order_status;
    bool operator==(const Snapshot&) const = default;
  };
  Snapshot snapshot() {
    Snapshot s;
    auto rev = t_.store->document_revision(doc_);
    s.revision = rev.ok() ? *rev : -1;
    store::AuditQuery q;
    q.limit = 1;
    auto page = static_cast<store::AuditStore&>(*t_.store).list(q);
    s.audit_entries = page.ok() ? page->total : -1;
    auto u = t_.store->get_user(reader_);
    s.role = u.ok() ? std::string(store::to_string(u->role)) : "?";
    auto o = t_.store->get_order(order_);
    s.order_status = o.ok() ? std::string(store::to_string(o->status)) : "?";
    return s;
  }

  FakeClock clock_{1'780'000'000};
  testing::TestStore t_;
  std::unique_ptr<commerce::Commerce> commerce_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  int64_t admin_ = 0, owner_ = 0, editor_ = 0, reader_ = 0, doc_ = 0, order_ = 0;
};

TEST_F(ConsoleAccessTest, TheConsoleHasRoutesToCheck) {
  // Guards the tests below against an empty list (a renamed prefix).
  std::vector<Target> targets = console_targets();
  int posts = 0;
  for (const Target& t : targets) posts += t.route->method == Method::kPost;
  EXPECT_GE(targets.size(), 5u);
  EXPECT_GE(posts, 2);
}

TEST_F(ConsoleAccessTest, AnonymousCallersAreSentToLoginAndTheirPostsRefused) {
  const Snapshot before = snapshot();
  for (const Target& t : console_targets()) {
    Browser b(port_);
    b.prime();
    if (t.route->method == Method::kGet) {
      HttpResponse r = b.get(t.path);
      EXPECT_EQ(r.status, 303) << t.path;
      EXPECT_EQ(r.header("location").rfind("/login?next=", 0), 0u) << t.path;
    } else {
      HttpResponse r = post(b, t, /*with_csrf=*/true);
      EXPECT_TRUE(r.status == 303 || r.status == 401 || r.status == 403) << t.path << " " << r.status;
    }
  }
  EXPECT_EQ(snapshot(), before);
}

TEST_F(ConsoleAccessTest, AReaderGets403EverywhereInTheConsole) {
  Browser b = signed_in("reader@example.cn");
  const Snapshot before = snapshot();
  for (const Target& t : console_targets()) {
    HttpResponse r = t.route->method == Method::kGet ? b.get(t.path) : post(b, t, /*with_csrf=*/true);
    EXPECT_EQ(r.status, 403) << (t.route->method == Method::kGet ? "GET " : "POST ") << t.path;
    EXPECT_NE(r.body.find("没有权限"), std::string::npos) << t.path;
    EXPECT_EQ(r.body.find(kOtherPaid), std::string::npos) << t.path;
  }
  EXPECT_EQ(snapshot(), before);
  // Still signed in: the 403s were about the console, not the session.
  EXPECT_EQ(b.get("/me").status, 200);
}

TEST_F(ConsoleAccessTest, EveryConsolePostIsRefusedWithoutACsrfToken) {
  Browser b = signed_in("admin@example.cn");
  const Snapshot before = snapshot();
  int checked = 0;
  for (const Target& t : console_targets()) {
    if (t.route->method != Method::kPost) continue;
    ASSERT_NE(t.route->csrf, CsrfRule::kNone) << t.path << " has no CSRF rule";
    HttpResponse r = post(b, t, /*with_csrf=*/false);
    EXPECT_EQ(r.status, 403) << "POST " << t.path << ": " << r.body.substr(0, 200);
    // A token in the form that differs from the cookie's is no better.
    std::vector<std::pair<std::string, std::string>> wrong = {{"csrf", "not-the-cookie-token"}};
    if (t.route->body == BodyRule::kForm) {
      HttpResponse f = b.post(t.path, wrong, /*add_csrf=*/false);
      EXPECT_EQ(f.status, 403) << "POST " << t.path << " with a token that is not the cookie's";
    }
    ++checked;
  }
  EXPECT_GE(checked, 2);
  EXPECT_EQ(snapshot(), before);
}

TEST_F(ConsoleAccessTest, AnEditorCannotTouchAnotherPublishersDocument) {
  Browser b = signed_in("editor@example.cn");
  const Snapshot before = snapshot();
  const std::string id = std::to_string(doc_);
  int named = 0;
  for (const Target& t : console_targets()) {
    // Their own actions (a new document, an upload) are theirs to take:
    // only what names the other publisher's document is posted here.
    if (t.route->method == Method::kPost && t.path.find("/documents/" + id) == std::string::npos)
      continue;
    HttpResponse r = t.route->method == Method::kGet ? b.get(t.path) : post(b, t, /*with_csrf=*/true);
    EXPECT_EQ(r.body.find(kOtherPaid), std::string::npos) << t.path;
    // The other publisher's document is not listed or linked for them.
    EXPECT_EQ(r.body.find("/admin/documents/" + id + "/edit"), std::string::npos) << t.path;
    if (t.path.find("/documents/" + id) != std::string::npos) {
      EXPECT_TRUE(r.status == 403 || r.status == 404) << t.path << " " << r.status;
      ++named;
    }
  }
  EXPECT_EQ(snapshot(), before);
  RecordProperty("document_routes", named);
}

TEST_F(ConsoleAccessTest, ConsolePagesOpenForAnAdminAndRefuseFraming) {
  Browser b = signed_in("admin@example.cn");
  int pages = 0;
  for (const Target& t : console_targets()) {
    if (t.route->method != Method::kGet || t.path.find(".csv") != std::string::npos) continue;
    HttpResponse r = b.get(t.path);
    if (r.status != 200) continue;  // a page about another object may 404 here
    ++pages;
    EXPECT_EQ(r.header("x-frame-options"), "DENY") << t.path;
    // Each has the console's navigation, with the sections an admin may open.
    EXPECT_NE(r.body.find("class=\"console-nav\""), std::string::npos) << t.path;
    EXPECT_NE(r.body.find("href=\"/admin/audit\""), std::string::npos) << t.path;
  }
  EXPECT_GE(pages, 4);
}

}  // namespace
}  // namespace paidoc::web
