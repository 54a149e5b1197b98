// `paidoc migrate` as an operator runs it: a SQLite site with everything in
// it (documents with revisions, tags, categories and a draft; readers with
// sessions; wallet money, purchases, an Alipay payment, a WeChat top-up, a
// refund through the gateway; downloads; audit entries; a password reset)
// copied into a fresh PostgreSQL database, which then answers the same
// pages and API responses as the SQLite site, byte for byte, to the same
// session cookies. Skipped without PAIDOC_TEST_PG (make test sets it).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "auth/auth.h"
#include "cli/binary.h"
#include "commerce/commerce.h"
#include "common/clock.h"
#include "library/library.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/migrations.h"
#include "store/store.h"
#include "store/transfer.h"
#include "support/backends.h"
#include "support/test_database.h"
#include "web/http_client.h"

namespace paidoc::cli::testing {
namespace {

using testing_support::make_test_database;
using testing_support::postgres_skip_reason;
using testing_support::TestDatabase;
using web::testing::HttpClient;
using web::testing::HttpResponse;

// Documents written for this test; each paid part holds a sentence no
// anonymous page may show.
constexpr std::string_view kSurvey =
    "河畔社区阅读角调查\n"
    "今年春天，我们走访了河畔社区的十一个阅读角，记录开放时间和借阅人数。\n"
    "一、基本情况\n"
    "阅读角大多设在楼道口和活动室，周末来的人最多。\n"
    "##paidbegin##\n"
    "二、发现的问题\n"
    "灯塔管理员把备用钥匙放在蓝色信箱里。\n"
    "##paidend##\n"
    "以上是调查的公开部分。\n";
constexpr std::string_view kSurveyRevised =
    "河畔社区阅读角调查\n"
    "今年春天，我们走访了河畔社区的十二个阅读角，记录开放时间和借阅人数。\n"
    "一、基本情况\n"
    "阅读角大多设在楼道口和活动室，周末来的人最多。\n"
    "##paidbegin##\n"
    "二、发现的问题\n"
    "灯塔管理员把备用钥匙放在蓝色信箱里。\n"
    "##paidend##\n"
    "以上是调查的公开部分。\n";
constexpr std::string_view kHandbook =
    "志愿者值班手册\n"
    "值班前请先签到，并检查借阅登记本是否齐全。\n"
    "##paidbegin##\n"
    "夜班交接口令是三只白鹭。\n"
    "##paidend##\n"
    "手册到此结束。\n";
constexpr std::string_view kNotice =
    "阅读角开放时间通知\n"
    "自下月起，各阅读角每天上午九点开放，晚上八点关闭，节假日照常。\n";
constexpr std::string_view kDraft =
    "尚未发布的活动方案\n"
    "方案还在讨论中。\n"
    "##paidbegin##\n"
    "活动奖品是一只铜制书签。\n"
    "##paidend##\n";

constexpr char kPassword[] = "correct horse battery";
// A well-formed CSRF cookie, so form pages render the same token on both
// sites instead of a fresh one each.
constexpr char kCsrf[] = "csrf_token_for_the_migration_test_0123456789";

struct Site {
  int64_t survey = 0, handbook = 0, notice = 0, draft = 0;
  int64_t reader = 0, admin = 0;
  std::string reader_token, admin_token;
  std::vector<int64_t> reader_orders;
  int64_t max_user_id = 0;
};

#define REQUIRE_OK(expr)                                     \
  do {                                                       \
    auto&& r_ = (expr);                                      \
    ASSERT_TRUE(r_.ok()) << #expr << ": " << r_.status().to_string(); \
  } while (0)

// Fills the SQLite database at `url` through the services and the store,
// as a site that has been serving for a while would be.
void build_site(const std::string& url, Site* site) {
  auto opened = store::Store::open(url);
  ASSERT_TRUE(opened.ok()) << opened.status().to_string();
  store::Store& st = **opened;
  const Clock& clock = Clock::system();
  const int64_t now = clock.now();
  library::Library lib(st);
  store::AuditActor cli{0, "cli:operator", ""};

  auto import = [&](std::string_view text, const std::string& path, Fen price, const std::string& cat,
                    store::DocStatus status) {
    library::ImportOptions o;
    o.price = price;
    o.category = cat;
    o.actor = cli;
    o.status = status;
    library::ImportLine line = lib.import_bytes(text, path, o);
    EXPECT_TRUE(line.ok) << path << ": " << line.error;
    return line.id;
  };
  site->survey = import(kSurvey, "survey.txt", Fen(800), "调查报告", store::DocStatus::kPublished);
  // A changed import: revision 2 of the same document.
  EXPECT_EQ(import(kSurveyRevised, "survey.txt", Fen(800), "调查报告", store::DocStatus::kPublished),
            site->survey);
  site->handbook = import(kHandbook, "handbook.txt", Fen(1200), "值班制度", store::DocStatus::kPublished);
  site->notice = import(kNotice, "notice.txt", Fen(0), "通知公告", store::DocStatus::kPublished);
  site->draft = import(kDraft, "draft.txt", Fen(300), "", store::DocStatus::kDraft);
  ASSERT_TRUE(st.set_document_tags(site->survey, {"社区", "阅读"}, now).is_ok());
  ASSERT_TRUE(st.set_document_tags(site->handbook, {"阅读"}, now).is_ok());

  auth::Options ao;
  ao.pwhash_opslimit = 1;
  ao.pwhash_memlimit = 8192;
  auth::Accounts accounts(st, clock, ao);
  auto reader = accounts.add_user("reader@example.cn", kPassword, gate::Role::kReader);
  REQUIRE_OK(reader);
  auto second = accounts.add_user("second@example.cn", kPassword, gate::Role::kReader);
  REQUIRE_OK(second);
  auto admin = accounts.add_user("admin@example.cn", kPassword, gate::Role::kAdmin);
  REQUIRE_OK(admin);
  auto editor = accounts.add_user("editor@example.cn", kPassword, gate::Role::kReader);
  REQUIRE_OK(editor);
  site->reader = reader->id;
  site->admin = admin->id;
  site->max_user_id = editor->id;
  store::AuditActor by_admin{admin->id, "admin@example.cn", "127.0.0.1"};
  ASSERT_TRUE(accounts.set_role(editor->id, gate::Role::kEditor, by_admin).is_ok());
  // A wrong password leaves a throttle record.
  EXPECT_FALSE(accounts.login("second@example.cn", "wrong password", {"127.0.0.9", "test"}).ok());
  auto reader_login = accounts.login("reader@example.cn", kPassword, {"127.0.0.1", "test-browser"});
  REQUIRE_OK(reader_login);
  site->reader_token = reader_login->token;
  auto admin_login = accounts.login("admin@example.cn", kPassword, {"127.0.0.1", "test-browser"});
  REQUIRE_OK(admin_login);
  site->admin_token = admin_login->token;

  commerce::Commerce shop(st, st, clock, commerce::Options{}, {});
  ASSERT_TRUE(shop.credit(reader->id, Fen(5000), "开业赠送", "cli:operator", cli).is_ok());
  auto bought = shop.buy_document_with_wallet(reader->id, gate::Role::kReader, site->survey);
  REQUIRE_OK(bought);
  // An Alipay payment for the handbook, started and notified.
  auto alipay = shop.order_document(reader->id, gate::Role::kReader, site->handbook);
  REQUIRE_OK(alipay);
  ASSERT_TRUE(st.record_payment_start(alipay->id, "alipay", now).is_ok());
  REQUIRE_OK(st.apply_payment({"alipay", "2026120622001400001", alipay->out_trade_no, alipay->amount, now}));
  // A WeChat Pay top-up.
  auto topup = shop.order_topup(reader->id, Fen(2000));
  REQUIRE_OK(topup);
  REQUIRE_OK(st.apply_payment({"wechat", "4200002026120600001", topup->out_trade_no, topup->amount, now}));
  site->reader_orders = {bought->id, alipay->id, topup->id};
  // The second reader pays by WeChat Pay and is refunded through it.
  auto refunded = shop.order_document(second->id, gate::Role::kReader, site->survey);
  REQUIRE_OK(refunded);
  REQUIRE_OK(st.apply_payment({"wechat", "4200002026120600002", refunded->out_trade_no, refunded->amount, now}));
  store::ProviderRefundStart start;
  start.order_id = refunded->id;
  start.note = "读者申请退款";
  start.actor = "admin@example.cn";
  start.now = now;
  auto started = st.refund_to_provider(start);
  REQUIRE_OK(started);
  store::RefundNotice done;
  done.provider = "wechat";
  done.transaction_id = "4200002026120600002";
  done.out_trade_no = refunded->out_trade_no;
  done.refund_id = "50300002026120600001";
  done.out_refund_no = started->refund.out_refund_no;
  done.amount = refunded->amount;
  done.state = store::RefundState::kSucceeded;
  done.received_at = now;
  REQUIRE_OK(st.apply_refund(done));

  // The link-signing key and a download of the bought survey.
  REQUIRE_OK(st.setting_or_init("download_link_key", "migration-test-signing-key-0123456789abcdef"));
  store::NewDownload dl;
  dl.user_id = reader->id;
  dl.document_id = site->survey;
  dl.revision = 2;
  dl.format = "txt";
  dl.access = "purchased";
  dl.nonce = 3141592653;
  dl.created_at = now;
  REQUIRE_OK(st.record_download(dl));
  // A password-reset link the second reader has not used yet.
  store::PasswordReset reset;
  reset.user_id = second->id;
  reset.token_hash = auth::token_hash("a-reset-token-for-the-migration-test");
  reset.created_at = now;
  reset.expires_at = now + 1800;
  reset.ip = "127.0.0.1";
  REQUIRE_OK(st.create_password_reset(reset));
}

// The table lines of migrate's output: table -> (source, target).
std::map<std::string, std::pair<int64_t, int64_t>> counts_of(const std::string& out) {
  std::map<std::string, std::pair<int64_t, int64_t>> c;
  std::regex line(R"(^([a-z_]+) +(\d+) +(\d+)$)");
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (std::regex_match(l, m, line)) c[m[1]] = {std::stoll(m[2]), std::stoll(m[3])};
  }
  return c;
}

// Rows of `table` in the SQLite file, counted directly.
int64_t sqlite_rows(const std::string& path, const std::string& table) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  std::string sql = "SELECT count(*) FROM " + table;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK);
  int64_t n = -1;
  if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

// Where two bodies part, with some context of each.
std::string first_difference(const std::string& a, const std::string& b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  size_t from = i > 300 ? i - 300 : 0;
  return "at byte " + std::to_string(i) + ":\n--- sqlite\n" + a.substr(from, 600) +
         "\n--- postgresql\n" + b.substr(from, 600);
}

class MigrateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pg_ = make_test_database("postgresql");
    if (pg_ == nullptr) GTEST_SKIP() << postgres_skip_reason();
    sqlite_path_ = dir_ / "site.db";
  }
  CmdResult run(const std::string& args) { return paidoc(args, dir_.path()); }
  std::string migrate_args() const {
    return "migrate --from " + sh("sqlite:" + sqlite_path_) + " --to " + sh(pg_->url());
  }

  TempDir dir_{"paidoc-migrate-"};
  std::unique_ptr<TestDatabase> pg_;
  std::string sqlite_path_;
};

// Both sites served at once; `get` asks each the same request.
struct TwoSites {
  TwoSites(const std::string& sqlite_url, const std::string& pg_url, const TempDir& dir)
      : a({"--listen", "127.0.0.1:0", "--access-log", "false", "--base-url", "https://docs.example.cn"}, dir.path() / "a.out",
          dir.path() / "a.err", {"--db", sqlite_url}),
        b({"--listen", "127.0.0.1:0", "--access-log", "false", "--base-url", "https://docs.example.cn"}, dir.path() / "b.out",
          dir.path() / "b.err", {"--db", pg_url}) {
    port_a = a.wait_port();
    port_b = b.wait_port();
  }
  ServeProcess a, b;
  int port_a = 0, port_b = 0;
};

TEST_F(MigrateTest, ASqliteSiteMigratedToPostgresqlAnswersTheSamePagesAndApiResponses) {
  Site site;
  build_site("sqlite:" + sqlite_path_, &site);
  if (HasFatalFailure()) return;

  CmdResult m = run(migrate_args());
  ASSERT_EQ(m.exit_code, 0) << m.out << m.err;
  // Never the target's password, and the copy's ledger verified.
  EXPECT_NE(m.out.find("ledger ok: "), std::string::npos) << m.out;
  auto counts = counts_of(m.out);
  for (const char* table :
       {"categories", "tags", "users", "documents", "document_tags", "document_revisions",
        "keyword_df", "sessions", "password_resets", "throttles", "wallets", "orders",
        "payment_starts", "payment_notifications", "ledger_entries", "refunds", "downloads",
        "settings", "audit_log"}) {
    ASSERT_TRUE(counts.contains(table)) << table << " missing from:\n" << m.out;
    EXPECT_GT(counts[table].first, 0) << table;
    EXPECT_EQ(counts[table].first, counts[table].second) << table;
    EXPECT_EQ(counts[table].first, sqlite_rows(sqlite_path_, table)) << table;
  }
  EXPECT_EQ(counts["documents"].first, 4);
  EXPECT_EQ(counts["payment_notifications"].first, 3);

  // What `paidoc ledger verify` says about the target afterwards.
  CmdResult v = run("--db " + sh(pg_->url()) + " ledger verify");
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  CmdResult vs = run("--db " + sh("sqlite:" + sqlite_path_) + " ledger verify");
  EXPECT_EQ(v.out, vs.out);

  TwoSites both("sqlite:" + sqlite_path_, pg_->url(), dir_);
  ASSERT_NE(both.port_a, 0) << both.a.logs();
  ASSERT_NE(both.port_b, 0) << both.b.logs();

  const std::string csrf = std::string("__Host-paidoc_csrf=") + kCsrf;
  const std::vector<std::string> anonymous = {"Cookie: " + csrf};
  const std::vector<std::string> reader = {"Cookie: paidoc_session=" + site.reader_token + "; " + csrf};
  const std::vector<std::string> admin = {"Cookie: paidoc_session=" + site.admin_token + "; " + csrf};
  auto d = [](int64_t id) { return "/d/" + std::to_string(id); };
  auto api = [](int64_t id) { return "/api/v1/documents/" + std::to_string(id); };
  struct Ask {
    std::string target;
    const std::vector<std::string>* headers;
    int status;
  };
  std::vector<Ask> asks = {
      {"/", &anonymous, 200},
      {d(site.survey), &anonymous, 200},
      {d(site.handbook), &anonymous, 200},
      {d(site.notice), &anonymous, 200},
      {d(site.draft), &anonymous, 404},
      {"/c/%E8%B0%83%E6%9F%A5%E6%8A%A5%E5%91%8A", &anonymous, 200},  // 调查报告
      {"/t/%E9%98%85%E8%AF%BB", &anonymous, 200},                    // 阅读
      {"/api/v1/documents", &anonymous, 200},
      {api(site.survey), &anonymous, 200},
      {api(site.notice), &anonymous, 200},
      {"/feed.xml", &anonymous, 200},
      {"/sitemap.xml", &anonymous, 200},
      {"/vip", &anonymous, 200},
      // The same session cookie signs the reader in on both sites.
      {"/", &reader, 200},
      {d(site.survey), &reader, 200},
      {d(site.handbook), &reader, 200},
      {api(site.survey), &reader, 200},
      {api(site.handbook), &reader, 200},
      {"/me", &reader, 200},
      {"/api/v1/me", &reader, 200},
      {"/api/v1/orders", &reader, 200},
      {"/orders/" + std::to_string(site.reader_orders[1]), &reader, 200},
      {"/api/v1/orders/" + std::to_string(site.reader_orders[2]), &reader, 200},
      {d(site.draft), &admin, 200},
      {"/admin/documents", &admin, 200},
      {"/admin/users", &admin, 200},
      {"/admin/orders", &admin, 200},
      {"/admin/audit", &admin, 200},
      {"/admin/categories", &admin, 200},
      {"/admin/tags", &admin, 200},
      {"/api/v1/admin/users", &admin, 200},
      // Search: the copy's index is rebuilt from the copied documents and
      // must answer the same hits, totals, order and snippets. 阅读角 is in
      // free text, 白鹭 only in the handbook's paid part, 蓝色信箱 in the
      // survey's paid part (bought by the reader), 方案 only in the draft.
      {"/search?q=%E9%98%85%E8%AF%BB%E8%A7%92", &anonymous, 200},                      // 阅读角
      {"/search?q=%E9%98%85%E8%AF%BB%E8%A7%92+-%E5%BC%80%E6%94%BE", &anonymous, 200},  // 阅读角 -开放
      {"/search?q=%E7%99%BD%E9%B9%AD", &anonymous, 200},                               // 白鹭
      {"/search?q=%E6%96%B9%E6%A1%88", &anonymous, 200},                               // 方案
      {"/api/v1/search?q=%E9%98%85%E8%AF%BB", &anonymous, 200},                        // 阅读
      {"/api/v1/search?q=%E8%93%9D%E8%89%B2%E4%BF%A1%E7%AE%B1", &anonymous, 200},      // 蓝色信箱
      {"/search?q=%E8%93%9D%E8%89%B2%E4%BF%A1%E7%AE%B1", &reader, 200},                // 蓝色信箱
      {"/api/v1/search?q=%E8%93%9D%E8%89%B2%E4%BF%A1%E7%AE%B1", &reader, 200},         // 蓝色信箱
      {"/api/v1/search?q=%E9%98%85%E8%AF%BB%E8%A7%92&sort=date", &reader, 200},        // 阅读角
  };
  for (const Ask& ask : asks) {
    HttpClient ca(static_cast<uint16_t>(both.port_a));
    HttpClient cb(static_cast<uint16_t>(both.port_b));
    HttpResponse ra = ca.get(ask.target, *ask.headers);
    HttpResponse rb = cb.get(ask.target, *ask.headers);
    EXPECT_EQ(ra.status, ask.status) << ask.target << "\n" << ra.body.substr(0, 400);
    EXPECT_EQ(rb.status, ra.status) << ask.target << "\n" << both.b.logs();
    EXPECT_EQ(rb.header("content-type"), ra.header("content-type")) << ask.target;
    EXPECT_TRUE(rb.body == ra.body) << ask.target << " differs " << first_difference(ra.body, rb.body);
  }
  // The compared searches found something, and nothing paid.
  {
    HttpClient cb(static_cast<uint16_t>(both.port_b));
    HttpResponse r = cb.get("/api/v1/search?q=%E9%98%85%E8%AF%BB%E8%A7%92", anonymous);  // 阅读角
    EXPECT_NE(r.body.find("\"total\":2"), std::string::npos) << r.body;
    HttpResponse locked = cb.get("/search?q=%E7%99%BD%E9%B9%AD", anonymous);  // 白鹭
    EXPECT_EQ(locked.body.find("三只白鹭"), std::string::npos);
    HttpResponse bought = cb.get("/api/v1/search?q=%E8%93%9D%E8%89%B2%E4%BF%A1%E7%AE%B1", reader);
    EXPECT_NE(bought.body.find("\"total\":1"), std::string::npos) << bought.body.substr(0, 400);
  }
  // Signed in, the reader reads the paid text they bought, on the copy too.
  {
    HttpClient cb(static_cast<uint16_t>(both.port_b));
    HttpResponse r = cb.get(d(site.survey), reader);
    EXPECT_NE(r.body.find("蓝色信箱"), std::string::npos);
    HttpResponse anon = cb.get(d(site.survey), anonymous);
    EXPECT_EQ(anon.body.find("蓝色信箱"), std::string::npos);
  }
  // A download link signed by the SQLite site works on the copy: the
  // signing key came along.
  {
    HttpClient ca(static_cast<uint16_t>(both.port_a));
    HttpResponse link = ca.get("/api/v1/documents/" + std::to_string(site.survey) + "/download?format=txt",
                               reader);
    ASSERT_EQ(link.status, 302) << link.body;
    std::string url = link.header("location");
    ASSERT_TRUE(url.starts_with("/download/")) << url;
    HttpClient cb(static_cast<uint16_t>(both.port_b));
    HttpResponse file = cb.get(url, reader);
    EXPECT_EQ(file.status, 200) << url << "\n" << file.body.substr(0, 300);
    EXPECT_NE(file.body.find("蓝色信箱"), std::string::npos);
  }
}

TEST_F(MigrateTest, NewRowsOnTheCopyContinueAfterTheCopiedIds) {
  Site site;
  build_site("sqlite:" + sqlite_path_, &site);
  if (HasFatalFailure()) return;
  CmdResult m = run(migrate_args());
  ASSERT_EQ(m.exit_code, 0) << m.out << m.err;

  auto target = store::Store::open(pg_->url());
  ASSERT_TRUE(target.ok()) << target.status().to_string();
  auth::Options ao;
  ao.pwhash_opslimit = 1;
  ao.pwhash_memlimit = 8192;
  auth::Accounts accounts(**target, Clock::system(), ao);
  auto user = accounts.add_user("newcomer@example.cn", kPassword, gate::Role::kReader);
  ASSERT_TRUE(user.ok()) << user.status().to_string();
  EXPECT_EQ(user->id, site.max_user_id + 1);
  commerce::Commerce shop(**target, **target, Clock::system(), commerce::Options{}, {});
  ASSERT_TRUE(shop.credit(user->id, Fen(1000), "欢迎", "cli:operator").is_ok());
  auto bought = shop.buy_document_with_wallet(user->id, gate::Role::kReader, site.survey);
  ASSERT_TRUE(bought.ok()) << bought.status().to_string();
  // The refunded order of the second reader was the last one copied.
  EXPECT_EQ(bought->id, site.reader_orders.back() + 2);
  auto check = shop.verify_ledger();
  ASSERT_TRUE(check.ok()) << check.status().to_string();
  EXPECT_TRUE(check->ok);
  EXPECT_TRUE(check->problems.empty());
  // The new ledger transactions (credit, purchase) took ids after the copied
  // ones: no transaction id holds rows of two different moments.
  EXPECT_EQ(testing_support::query_value(
                pg_->url(),
                "SELECT count(*) FROM (SELECT txn_id FROM ledger_entries GROUP BY txn_id"
                " HAVING count(DISTINCT created_at) > 1 OR count(DISTINCT note) > 1) x"),
            "0");
}

TEST_F(MigrateTest, ATargetThatAlreadyHoldsDataIsRefusedAndLeftAsItWas) {
  Site site;
  build_site("sqlite:" + sqlite_path_, &site);
  if (HasFatalFailure()) return;
  ASSERT_EQ(run(migrate_args()).exit_code, 0);
  CmdResult again = run(migrate_args());
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("already holds data"), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("nothing was copied"), std::string::npos) << again.err;
  CmdResult v = run("--db " + sh(pg_->url()) + " ledger verify");
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

TEST_F(MigrateTest, ASourceThatIsNotAPaidocDatabaseIsRefusedUntouched) {
  // No file: refused, and none is created.
  CmdResult missing = run(migrate_args());
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no database file"), std::string::npos) << missing.err;
  EXPECT_FALSE(fs::exists(sqlite_path_));
  // Another program's SQLite database: refused, and not given paidoc's tables.
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(sqlite_path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE notes (body TEXT)", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  CmdResult other = run(migrate_args());
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_NE(other.err.find("not a paidoc database"), std::string::npos) << other.err;
  EXPECT_EQ(sqlite_rows(sqlite_path_, "sqlite_master"), 1);
  // Not a database at all.
  {
    std::ofstream(sqlite_path_, std::ios::trunc) << "just some text, not a database file at all\n";
  }
  CmdResult text = run(migrate_args());
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.err.find("not a SQLite database"), std::string::npos) << text.err;
}

TEST_F(MigrateTest, AnUnreachableServerIsNamedWithoutItsPassword) {
  Site site;
  build_site("sqlite:" + sqlite_path_, &site);
  if (HasFatalFailure()) return;
  CmdResult r = run("migrate --from " + sh("sqlite:" + sqlite_path_) +
                    " --to 'postgresql://paidoc:s3cret-pw@127.0.0.1:1/paidoc?connect_timeout=2'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot connect"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("paidoc:***@127.0.0.1:1"), std::string::npos) << r.err;
  EXPECT_EQ((r.out + r.err).find("s3cret-pw"), std::string::npos) << r.out << r.err;
  CmdResult wrong = run("migrate --from " + sh("sqlite:" + sqlite_path_) + " --to sqlite:/tmp/x.db");
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.err.find("--to: expected postgresql://"), std::string::npos) << wrong.err;
}

// The export alone (no PostgreSQL needed): what it sends and what it refuses.
class RecordingSink : public store::RowSink {
 public:
  Status begin_table(const std::string& table, const std::vector<std::string>& columns) override {
    tables.push_back(table);
    columns_of[table] = columns;
    rows[table] = 0;
    return Status();
  }
  Status row(const std::vector<store::Cell>&) override {
    ++rows[tables.back()];
    return Status();
  }
  Status end_table() override { return Status(); }
  std::vector<std::string> tables;
  std::map<std::string, std::vector<std::string>> columns_of;
  std::map<std::string, int64_t> rows;
};

TEST(SiteExportTest, SendsEveryStoredTableParentsFirstAndLeavesTheDerivedIndexBehind) {
  TempDir dir("paidoc-export-");
  Site site;
  build_site("sqlite:" + (dir / "site.db"), &site);
  if (HasFatalFailure()) return;
  auto opened = store::Store::open("sqlite:" + (dir / "site.db"));
  ASSERT_TRUE(opened.ok());
  auto* exporter = dynamic_cast<store::SiteExport*>(opened->get());
  ASSERT_NE(exporter, nullptr);
  RecordingSink sink;
  ASSERT_TRUE(exporter->export_site(sink).is_ok());
  auto at = [&](const std::string& t) {
    return std::find(sink.tables.begin(), sink.tables.end(), t) - sink.tables.begin();
  };
  EXPECT_LT(at("categories"), at("documents"));
  EXPECT_LT(at("users"), at("documents"));
  EXPECT_LT(at("documents"), at("document_tags"));
  EXPECT_LT(at("tags"), at("document_tags"));
  EXPECT_LT(at("documents"), at("orders"));
  EXPECT_LT(at("orders"), at("payment_notifications"));
  EXPECT_LT(at("orders"), at("ledger_entries"));
  EXPECT_LT(at("orders"), at("refunds"));
  EXPECT_LT(at("orders"), at("downloads"));
  EXPECT_EQ(sink.tables.size(), 20u);
  for (const char* derived : {"search_facts", "documents_fts", "schema_migrations", "sqlite_sequence"}) {
    EXPECT_EQ(at(derived), static_cast<ptrdiff_t>(sink.tables.size())) << derived;
  }
  EXPECT_EQ(sink.rows["documents"], 4);
  EXPECT_EQ(sink.rows["document_revisions"], 5);  // the survey has two
  EXPECT_EQ(sink.rows["settings"], 1);
  const auto& doc_columns = sink.columns_of["documents"];
  for (const char* c : {"id", "source_text", "parsed_json", "search_keys", "status", "title_override"}) {
    EXPECT_NE(std::find(doc_columns.begin(), doc_columns.end(), c), doc_columns.end()) << c;
  }
}

TEST(SiteExportTest, ATableTheExportDoesNotKnowFailsItInsteadOfBeingLeftBehind) {
  TempDir dir("paidoc-export-");
  const std::string path = dir / "site.db";
  { ASSERT_TRUE(store::Store::open("sqlite:" + path).ok()); }
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE gift_cards (id INTEGER PRIMARY KEY, code TEXT)", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto opened = store::Store::open("sqlite:" + path);
  ASSERT_TRUE(opened.ok());
  RecordingSink sink;
  Status s = dynamic_cast<store::SiteExport&>(**opened).export_site(sink);
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_NE(s.message().find("gift_cards"), std::string::npos) << s.message();
  EXPECT_TRUE(sink.tables.empty());
}

TEST_F(MigrateTest, AnOlderSourceIsUpgradedFirstAndSaysSo) {
  {
    // What a paidoc that knew only schema version 1 left behind.
    auto c = store::sqlite::Connection::open(sqlite_path_, 1000);
    ASSERT_TRUE(c.ok()) << c.status().to_string();
    auto v = store::sqlite::migrate_to(*c.value(), 1, 1700000000);
    ASSERT_TRUE(v.ok()) << v.status().to_string();
  }
  const int latest = store::sqlite::latest_schema_version();
  CmdResult m = run(migrate_args());
  ASSERT_EQ(m.exit_code, 0) << m.out << m.err;
  EXPECT_NE(m.out.find("source schema version 1 is older than this paidoc's (" + std::to_string(latest) +
                       "): opening it upgrades it"),
            std::string::npos)
      << m.out;
  EXPECT_NE(m.out.find("ledger ok: 0 entries"), std::string::npos) << m.out;
  auto upgraded = store::stored_schema_version("sqlite:" + sqlite_path_);
  ASSERT_TRUE(upgraded.ok());
  EXPECT_EQ(upgraded->version, latest);
}

// Refused before any connection is made, so no PostgreSQL is needed.
TEST(MigrateRefusalTest, ASourceNewerThanThisProgramIsRefusedUntouched) {
  TempDir dir("paidoc-migrate-");
  const std::string path = dir / "site.db";
  { ASSERT_TRUE(store::Store::open("sqlite:" + path).ok()); }
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_migrations (version, applied_at) VALUES (999, 1)",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  CmdResult r = paidoc("migrate --from " + sh("sqlite:" + path) +
                           " --to postgresql://paidoc@127.0.0.1:1/never-reached",
                       dir.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("schema version 999, newer than this paidoc knows"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("cannot connect"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace paidoc::cli::testing
