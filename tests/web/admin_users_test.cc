// The console's users and orders over HTTP against a real Server: searching
// accounts, disabling and enabling them (sessions end, sign-in refused),
// the limits on what an admin may do to themself, permissions and CSRF on
// the new forms, the audit entries, and the order list's buyer emails,
// China times and filters.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "auth/auth.h"
#include "commerce/commerce.h"
#include "common/clock.h"
#include "library/library.h"
#include "store/audit.h"
#include "store/store.h"
#include "web/browser.h"
#include "web/http_client.h"
#include "web/server.h"
#include "web/test_store.h"

namespace paidoc::web {
namespace {

using nlohmann::json;
using testing::bearer;
using testing::Browser;
using testing::HttpClient;
using testing::HttpResponse;

constexpr const char* kPassword = testing::kTestPassword;

// Written for these tests.
constexpr std::string_view kGuide =
    "小区停车管理办法\n"
    "为规范小区停车秩序，制定本办法。\n"
    "##paidbegin##\n"
    "一、车位分配\n"
    "地下车库的备用钥匙放在值班室第三个抽屉。\n"
    "##paidend##\n";

// 2026-12-06 19:05 in China (11:05 UTC).
constexpr int64_t kEvening = 1796555100;
// 2026-12-06 01:30 in China, still 2026-12-05 in UTC.
constexpr int64_t kSmallHours = 1796491800;
// 2026-12-04 23:59 in China.
constexpr int64_t kLateThursday = 1796399940;

class AdminUsersWebTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(testing::open_test_store("paidoc-admin-users-test", clock_, t_));
    commerce_ = std::make_unique<commerce::Commerce>(
        *t_.store, *t_.store, clock_, commerce::Options{},
        std::map<std::string, std::unique_ptr<commerce::PaymentProvider>>{});
    library::ImportOptions io;
    io.price = Fen(800);
    library::ImportLine line = t_.library->import_bytes(kGuide, "parking.txt", io);
    ASSERT_TRUE(line.ok) << line.error;
    doc_id_ = line.id;
    admin_id_ = add_user("boss@example.cn", gate::Role::kAdmin);

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

  int64_t add_user(const std::string& email, gate::Role role = gate::Role::kReader) {
    Result<auth::Account> a = t_.accounts->add_user(email, kPassword, role);
    EXPECT_TRUE(a.ok()) << a.status().to_string();
    return a.ok() ? a->id : 0;
  }

  Browser signed_in(const std::string& email) { return testing::signed_in_browser(port_, email); }

  std::string api_token(const std::string& email) {
    HttpResponse r = Browser(port_).post_json("/api/v1/auth/login",
                                              {{"email", email}, {"password", kPassword}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? json::parse(r.body)["token"].get<std::string>() : std::string();
  }

  int64_t disabled_at(int64_t user_id) {
    Result<store::User> u = t_.store->get_user(user_id);
    EXPECT_TRUE(u.ok());
    return u.ok() ? u->disabled_at : -1;
  }

  std::vector<store::AuditEntry> audit(const std::string& action) {
    store::AuditQuery q;
    q.action = action;
    Result<store::AuditPage> p = t_.store->list(q);
    EXPECT_TRUE(p.ok()) << p.status().to_string();
    return p.ok() ? p->items : std::vector<store::AuditEntry>{};
  }

  static std::string url(int64_t id, const char* what) {
    return "/admin/users/" + std::to_string(id) + "/" + what;
  }

  static bool has(const HttpResponse& r, const std::string& text) {
    return r.body.find(text) != std::string::npos;
  }

  FakeClock clock_{kEvening};
  testing::TestStore t_;  // after the clock: Accounts holds it
  std::unique_ptr<commerce::Commerce> commerce_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  int64_t doc_id_ = 0;
  int64_t admin_id_ = 0;
};

// --- disabling and enabling -------------------------------------------------------------

TEST_F(AdminUsersWebTest, DisablingEndsTheSessionsAndRefusesSignInUntilEnabled) {
  const int64_t reader = add_user("quiet@example.cn");
  Browser quiet = signed_in("quiet@example.cn");
  const std::string token = api_token("quiet@example.cn");
  ASSERT_EQ(quiet.get("/me").status, 200);
  ASSERT_EQ(HttpClient(port_).get("/api/v1/me", {bearer(token)}).status, 200);

  Browser admin = signed_in("boss@example.cn");
  HttpResponse off = admin.post(url(reader, "disable"));
  ASSERT_EQ(off.status, 303) << off.body;
  EXPECT_EQ(off.header("location"), "/admin/users?msg=user_disabled");
  HttpResponse list = admin.get("/admin/users?msg=user_disabled");
  ASSERT_EQ(list.status, 200);
  EXPECT_TRUE(has(list, "账号已停用"));
  EXPECT_TRUE(has(list, "已停用"));
  EXPECT_TRUE(has(list, "action=\"" + url(reader, "enable") + "\""));
  EXPECT_FALSE(has(list, "action=\"" + url(reader, "disable") + "\""));
  EXPECT_NE(disabled_at(reader), 0);

  // The live session is signed out, the token refused.
  HttpResponse me = quiet.get("/me");
  EXPECT_EQ(me.status, 303);
  EXPECT_EQ(me.header("location").rfind("/login", 0), 0u) << me.header("location");
  EXPECT_EQ(HttpClient(port_).get("/api/v1/me", {bearer(token)}).status, 401);
  // Signing in again: the form says why, the API answers account_disabled.
  HttpResponse form = Browser(port_).login("quiet@example.cn");
  EXPECT_EQ(form.status, 403);
  EXPECT_TRUE(has(form, "该账号已停用，请联系管理员。")) << form.body;
  EXPECT_TRUE(has(form, "role=\"alert\""));
  HttpResponse api = Browser(port_).post_json("/api/v1/auth/login",
                                              {{"email", "quiet@example.cn"}, {"password", kPassword}});
  EXPECT_EQ(api.status, 403);
  EXPECT_EQ(json::parse(api.body)["error"]["code"], "account_disabled");
  // A wrong password still reads as one.
  EXPECT_EQ(Browser(port_).login("quiet@example.cn", "not-the-password").status, 401);

  HttpResponse on = admin.post(url(reader, "enable"));
  ASSERT_EQ(on.status, 303) << on.body;
  EXPECT_EQ(on.header("location"), "/admin/users?msg=user_enabled");
  EXPECT_EQ(disabled_at(reader), 0);
  Browser back = signed_in("quiet@example.cn");
  EXPECT_EQ(back.get("/me").status, 200);

  // One entry each, under the admin's email.
  for (const char* action : {store::audit_action::kUserDisable, store::audit_action::kUserEnable}) {
    std::vector<store::AuditEntry> entries = audit(action);
    ASSERT_EQ(entries.size(), 1u) << action;
    EXPECT_EQ(entries[0].actor, "boss@example.cn");
    EXPECT_EQ(entries[0].actor_user_id, admin_id_);
    EXPECT_EQ(entries[0].target_kind, "user");
    EXPECT_EQ(entries[0].target_id, reader);
  }
  // The audit page names the actions.
  HttpResponse log = admin.get("/admin/audit?action=user.disable");
  ASSERT_EQ(log.status, 200);
  EXPECT_TRUE(has(log, "停用账号"));
}

TEST_F(AdminUsersWebTest, AnAdminCannotDisableOrDemoteThemself) {
  Browser admin = signed_in("boss@example.cn");
  HttpResponse off = admin.post(url(admin_id_, "disable"));
  EXPECT_EQ(off.status, 403);
  EXPECT_TRUE(has(off, "不能停用自己的账号。")) << off.body;
  EXPECT_TRUE(has(off, "form-error"));
  HttpResponse down = admin.post(url(admin_id_, "role"), {{"role", "reader"}});
  EXPECT_EQ(down.status, 403);
  EXPECT_TRUE(has(down, "不能取消自己的管理员角色")) << down.body;
  // Still an admin, still signed in; nothing recorded.
  EXPECT_EQ(disabled_at(admin_id_), 0);
  EXPECT_EQ(t_.store->get_user(admin_id_)->role, store::Role::kAdmin);
  EXPECT_EQ(admin.get("/admin/users").status, 200);
  EXPECT_TRUE(audit("").empty());
  // The page offers no disable button for oneself.
  EXPECT_FALSE(has(admin.get("/admin/users"), "action=\"" + url(admin_id_, "disable") + "\""));
}

TEST_F(AdminUsersWebTest, ReadersAndEditorsMayNotDisableOrEnable) {
  const int64_t target = add_user("target@example.cn");
  add_user("reader@example.cn");
  add_user("editor@example.cn", gate::Role::kEditor);
  for (const char* who : {"reader@example.cn", "editor@example.cn"}) {
    Browser b = signed_in(who);
    EXPECT_EQ(b.post(url(target, "disable")).status, 403) << who;
    EXPECT_EQ(b.post(url(target, "enable")).status, 403) << who;
    EXPECT_EQ(b.get("/admin/users").status, 403) << who;
  }
  EXPECT_EQ(disabled_at(target), 0);
  // Signed out: to the sign-in page, nothing done.
  EXPECT_EQ(Browser(port_).post(url(target, "disable"), {}, false).status, 303);
  EXPECT_EQ(disabled_at(target), 0);
  EXPECT_TRUE(audit("").empty());
}

TEST_F(AdminUsersWebTest, EachFormIsRefusedWithoutItsCsrfToken) {
  const int64_t target = add_user("target@example.cn");
  Browser admin = signed_in("boss@example.cn");
  EXPECT_EQ(admin.post(url(target, "disable"), {}, false).status, 403);
  EXPECT_EQ(admin.post(url(target, "disable"), {{"csrf", "forged"}}, false).status, 403);
  EXPECT_EQ(disabled_at(target), 0);
  ASSERT_TRUE(t_.accounts->disable(target, {}).is_ok());
  EXPECT_EQ(admin.post(url(target, "enable"), {}, false).status, 403);
  EXPECT_NE(disabled_at(target), 0);
  EXPECT_EQ(admin.post(url(target, "role"), {{"role", "editor"}}, false).status, 403);
  EXPECT_EQ(t_.store->get_user(target)->role, store::Role::kReader);
  EXPECT_TRUE(audit(store::audit_action::kUserEnable).empty());
  EXPECT_TRUE(audit(store::audit_action::kUserRole).empty());
}

// --- search and paging -----------------------------------------------------------------

TEST_F(AdminUsersWebTest, SearchFindsPartOfTheEmailAndPagesWithATotal) {
  for (int i = 0; i < 55; ++i) add_user(fmt::format("member{:02}@club.cn", i));
  add_user("guest@elsewhere.cn");
  add_user("50%off@elsewhere.cn");
  Browser admin = signed_in("boss@example.cn");

  HttpResponse first = admin.get("/admin/users?q=CLUB.cn");
  ASSERT_EQ(first.status, 200);
  EXPECT_TRUE(has(first, "共 55 个账号"));
  EXPECT_TRUE(has(first, "member00@club.cn"));
  EXPECT_TRUE(has(first, "member49@club.cn"));
  EXPECT_FALSE(has(first, "member50@club.cn"));
  EXPECT_FALSE(has(first, "guest@elsewhere.cn"));
  EXPECT_FALSE(has(first, "class=\"user-email\">boss@example.cn"));
  EXPECT_TRUE(has(admin.get("/admin/users"), "class=\"user-email\">boss@example.cn"));
  EXPECT_TRUE(has(first, "value=\"CLUB.cn\""));  // the box keeps what was typed
  EXPECT_TRUE(has(first, "href=\"/admin/users?q=CLUB.cn&amp;page=2\"")) << first.body;

  HttpResponse second = admin.get("/admin/users?q=CLUB.cn&page=2");
  ASSERT_EQ(second.status, 200);
  EXPECT_TRUE(has(second, "member50@club.cn"));
  EXPECT_TRUE(has(second, "member54@club.cn"));
  EXPECT_FALSE(has(second, "member49@club.cn"));
  EXPECT_TRUE(has(second, "第 2 页"));

  // "%" is a character, not a wildcard.
  HttpResponse pct = admin.get("/admin/users?q=%25");
  ASSERT_EQ(pct.status, 200);
  EXPECT_TRUE(has(pct, "共 1 个账号"));
  EXPECT_TRUE(has(pct, "50%off@elsewhere.cn"));
  HttpResponse none = admin.get("/admin/users?q=nobody");
  EXPECT_TRUE(has(none, "共 0 个账号"));
  EXPECT_TRUE(has(none, "没有符合条件的账号。"));
  // Everyone, with the registration date in China time.
  HttpResponse all = admin.get("/admin/users");
  EXPECT_TRUE(has(all, "共 58 个账号"));
  EXPECT_TRUE(has(all, "注册于 2026-12-06"));
}

// --- orders ----------------------------------------------------------------------------

TEST_F(AdminUsersWebTest, OrdersShowTheBuyerChinaTimeAndEachFilterNarrows) {
  const int64_t ann = add_user("ann@shop.cn");
  const int64_t bob = add_user("bob@shop.cn");
  const int64_t dave = add_user("dave@shop.cn");
  // Ann's top-up, paid through Alipay on a Sunday evening.
  clock_.set(kEvening);
  Result<commerce::Order> topup = commerce_->order_topup(ann, Fen(5000));
  ASSERT_TRUE(topup.ok()) << topup.status().to_string();
  Result<store::AppliedPayment> paid = t_.store->apply_payment(
      {"alipay", "ALI-1", topup->out_trade_no, Fen(5000), kEvening + 30});
  ASSERT_TRUE(paid.ok()) << paid.status().to_string();
  // Bob's top-up in the small hours, never paid.
  clock_.set(kSmallHours);
  Result<commerce::Order> unpaid = commerce_->order_topup(bob, Fen(1200));
  ASSERT_TRUE(unpaid.ok());
  // Ann's document, bought from her wallet late on Friday.
  clock_.set(kLateThursday);
  ASSERT_TRUE(commerce_->credit(ann, Fen(800), "test", "test").is_ok());
  Result<commerce::Order> doc = commerce_->order_document(ann, gate::Role::kReader, doc_id_);
  ASSERT_TRUE(doc.ok()) << doc.status().to_string();
  ASSERT_TRUE(commerce_->pay(ann, doc->id, commerce::PayMethod::kWallet).ok());
  // Dave ordered, then deleted his account.
  Result<commerce::Order> gone = commerce_->order_topup(dave, Fen(300));
  ASSERT_TRUE(gone.ok());
  ASSERT_TRUE(t_.store->delete_user(dave, kLateThursday + 60).is_ok());
  clock_.set(kEvening + 3600);

  Browser admin = signed_in("boss@example.cn");
  auto shows = [&](const std::string& query) {
    HttpResponse r = admin.get("/admin/orders" + query);
    EXPECT_EQ(r.status, 200) << query << "\n" << r.body;
    std::vector<bool> out;
    for (const auto* o : {&*topup, &*unpaid, &*doc, &*gone})
      out.push_back(r.body.find(o->out_trade_no) != std::string::npos);
    return out;
  };
  using Seen = std::vector<bool>;  // topup, unpaid, doc, gone

  HttpResponse all = admin.get("/admin/orders");
  ASSERT_EQ(all.status, 200);
  EXPECT_TRUE(has(all, "共 4 个订单"));
  EXPECT_TRUE(has(all, "ann@shop.cn"));
  EXPECT_TRUE(has(all, "bob@shop.cn"));
  EXPECT_TRUE(has(all, "deleted-" + std::to_string(dave) + "@deleted.invalid"));
  EXPECT_FALSE(has(all, "dave@shop.cn"));
  EXPECT_TRUE(has(all, "下单 2026-12-06 19:05"));
  EXPECT_TRUE(has(all, "支付 2026-12-06 19:05"));
  EXPECT_TRUE(has(all, "下单 2026-12-06 01:30"));
  EXPECT_TRUE(has(all, "下单 2026-12-04 23:59"));
  EXPECT_TRUE(has(all, "支付宝"));
  EXPECT_EQ(shows(""), (Seen{true, true, true, true}));

  EXPECT_EQ(shows("?status=created"), (Seen{false, true, false, true}));
  EXPECT_EQ(shows("?status=paid"), (Seen{true, false, true, false}));
  EXPECT_EQ(shows("?method=alipay"), (Seen{true, false, false, false}));
  EXPECT_EQ(shows("?method=wallet"), (Seen{false, false, true, false}));
  // China dates, both ends included: 01:30 on the 6th is the 6th.
  EXPECT_EQ(shows("?from=2026-12-06"), (Seen{true, true, false, false}));
  EXPECT_EQ(shows("?from=2026-12-05&to=2026-12-05"), (Seen{false, false, false, false}));
  EXPECT_EQ(shows("?to=2026-12-05"), (Seen{false, false, true, true}));
  EXPECT_EQ(shows("?q=ANN%40"), (Seen{true, false, true, false}));
  EXPECT_EQ(shows("?q=ann&status=paid&method=wallet"), (Seen{false, false, true, false}));
  HttpResponse kept = admin.get("/admin/orders?status=paid&q=ann");
  EXPECT_TRUE(has(kept, "<option value=\"paid\" selected>"));
  EXPECT_TRUE(has(kept, "value=\"ann\""));
  EXPECT_TRUE(has(kept, "共 2 个订单"));

  // Bad values: the page, a message naming the field, 400, never a 500.
  struct Bad {
    const char* query;
    const char* message;
  };
  for (const Bad& b : {Bad{"?status=lost", "订单状态无效"}, Bad{"?method=cash", "支付方式无效"},
                       Bad{"?from=2026-13-01", "开始日期格式应为 YYYY-MM-DD"},
                       Bad{"?to=yesterday", "结束日期格式应为 YYYY-MM-DD"},
                       Bad{"?from=2026-12-06&to=2026-12-01", "结束日期不能早于开始日期"}}) {
    HttpResponse r = admin.get(std::string("/admin/orders") + b.query);
    EXPECT_EQ(r.status, 400) << b.query;
    EXPECT_TRUE(has(r, b.message)) << b.query << "\n" << r.body;
    EXPECT_TRUE(has(r, "role=\"alert\"")) << b.query;
  }
}

TEST_F(AdminUsersWebTest, OrdersPageWithATotal) {
  const int64_t ann = add_user("ann@shop.cn");
  std::vector<std::string> numbers;
  for (int i = 0; i < 53; ++i) {
    clock_.set(kEvening + i);
    Result<commerce::Order> o = commerce_->order_topup(ann, Fen(100 + i));
    ASSERT_TRUE(o.ok());
    numbers.push_back(o->out_trade_no);
  }
  Browser admin = signed_in("boss@example.cn");
  HttpResponse first = admin.get("/admin/orders?q=ann");
  ASSERT_EQ(first.status, 200);
  EXPECT_TRUE(has(first, "共 53 个订单"));
  EXPECT_TRUE(has(first, numbers[52]));  // newest first
  EXPECT_FALSE(has(first, numbers[2]));
  EXPECT_TRUE(has(first, "href=\"/admin/orders?q=ann&amp;page=2\"")) << first.body;
  HttpResponse second = admin.get("/admin/orders?q=ann&page=2");
  ASSERT_EQ(second.status, 200);
  EXPECT_TRUE(has(second, numbers[0]));
  EXPECT_TRUE(has(second, numbers[2]));
  EXPECT_FALSE(has(second, numbers[3]));
}

}  // namespace
}  // namespace paidoc::web
