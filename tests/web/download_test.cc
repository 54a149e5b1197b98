// Downloads at the web edge, over HTTP against a real Server: the button and
// API answer a redirect to a link signed for the caller; the link serves the
// file to that caller only; everyone else gets an error and no byte of the
// paid text; the daily limit answers 429 with Retry-After.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "auth/auth.h"
#include "commerce/commerce.h"
#include "common/clock.h"
#include "library/library.h"
#include "store/store.h"
#include "web/browser.h"
#include "web/http_client.h"
#include "web/test_store.h"
#include "web/server.h"
#include "web/util.h"

namespace paidoc::web {
namespace {

using nlohmann::json;
using testing::Browser;
using testing::HttpClient;
using testing::HttpResponse;

// Written for these tests: a township's flood-season duty notice.
constexpr std::string_view kTitle = "关于做好2026年汛期值班值守工作的通知";
constexpr std::string_view kDuty =
    "关于做好2026年汛期值班值守工作的通知\n"
    "各村（社区）、镇直各单位：\n"
    "为切实做好今年汛期防汛工作，确保人民群众生命财产安全，现将有关事项通知如下。\n"
    "一、值班时间\n"
    "自五月一日起至九月三十日止，实行二十四小时值班和领导带班制度。\n"
    "##paidbegin##\n"
    "（一）值班要求\n"
    "值班人员须保持电话畅通，接到险情报告后十分钟内向带班领导报告并做好记录。\n"
    "（二）物资储备\n"
    "镇防汛物资仓库储备编织袋五千条、救生衣两百件，由应急办每周清点一次。\n"
    "二、转移避险\n"
    "河道沿岸低洼地带的群众转移路线已在各村公示，转移安置点设在镇中心小学。\n"
    "##paidend##\n"
    "请各单位高度重视，严格落实各项措施。\n";

const std::vector<std::string_view> kPaidSentences = {
    "值班人员须保持电话畅通，接到险情报告后十分钟内向带班领导报告并做好记录",
    "镇防汛物资仓库储备编织袋五千条、救生衣两百件，由应急办每周清点一次",
    "河道沿岸低洼地带的群众转移路线已在各村公示，转移安置点设在镇中心小学",
};

// Code points of UTF-8 text.
std::vector<std::string> code_points(std::string_view s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    size_t n = 1;
    while (i + n < s.size() && (static_cast<unsigned char>(s[i + n]) & 0xC0) == 0x80) ++n;
    out.emplace_back(s.substr(i, n));
    i += n;
  }
  return out;
}

// Every run of 8 code points of the paid sentences.
std::vector<std::string> paid_windows() {
  std::vector<std::string> out;
  for (std::string_view s : kPaidSentences) {
    std::vector<std::string> cps = code_points(s);
    for (size_t i = 0; i + 8 <= cps.size(); ++i) {
      std::string w;
      for (size_t k = i; k < i + 8; ++k) w += cps[k];
      out.push_back(w);
    }
  }
  return out;
}

// The first 8-character window of paid text found in `body`; "" when none.
std::string leaked_window(const std::string& body) {
  for (const std::string& w : paid_windows()) {
    if (body.find(w) != std::string::npos) return w;
  }
  return "";
}

// The next 00:00 China Standard Time after t.
int64_t next_cst_midnight(int64_t t) {
  constexpr int64_t kDay = 86400, kCst = 8 * 3600;
  return ((t + kCst) / kDay + 1) * kDay - kCst;
}

class DownloadWebTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(testing::open_test_store("paidoc-download-web", clock_, t_));
    commerce_ = std::make_unique<commerce::Commerce>(
        *store_, *store_, clock_, commerce::Options{},
        std::map<std::string, std::unique_ptr<commerce::PaymentProvider>>{});
    library::ImportOptions io;
    io.price = Fen(700);
    io.category = "防汛工作";
    library::ImportLine line = library_->import_bytes(kDuty, "duty.txt", io);
    ASSERT_TRUE(line.ok) << line.error;
    doc_id_ = line.id;
    buyer_ = add_user("buyer@example.cn");
    reader_ = add_user("reader@example.cn");

    ServerOptions opts;
    opts.port = 0;
    opts.threads = 2;
    opts.access_log = false;
    opts.handle_signals = false;
    opts.site_name = "测试文库";
    opts.clock = &clock_;
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
    testing::close_test_store(t_);
  }

  int64_t add_user(const std::string& email) {
    return testing::add_reader(*accounts_, email, testing::kTestPassword);
  }
  void buy(int64_t user) { testing::credit_and_buy(*commerce_, user, doc_id_); }
  Browser signed_in(const std::string& email) { return testing::signed_in_browser(port_, email); }

  std::string id() const { return std::to_string(doc_id_); }
  std::string api_download(const std::string& format) const {
    return "/api/v1/documents/" + id() + "/download?format=" + format;
  }
  std::string page_download(const std::string& format) const {
    return "/d/" + id() + "/download?format=" + format;
  }

  // The signed link the API answers `b` (fails the test otherwise).
  std::string link_for(Browser& b, const std::string& format) {
    HttpResponse r = b.get(api_download(format));
    EXPECT_EQ(r.status, 302) << r.body;
    return r.header("location");
  }

  // 2026-03-02 10:00 China Standard Time.
  FakeClock clock_{1772416800};
  testing::TestStore t_;  // after the clock: Accounts holds it
  std::unique_ptr<store::Store>& store_ = t_.store;
  std::unique_ptr<library::Library>& library_ = t_.library;
  std::unique_ptr<auth::Accounts>& accounts_ = t_.accounts;
  std::unique_ptr<commerce::Commerce> commerce_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  int64_t doc_id_ = 0;
  int64_t buyer_ = 0;
  int64_t reader_ = 0;
};

TEST_F(DownloadWebTest, ApiAnswersARedirectToASignedLinkAndTheLinkServesTheBuyer) {
  buy(buyer_);
  Browser buyer = signed_in("buyer@example.cn");

  HttpResponse r = buyer.get(api_download("docx"));
  ASSERT_EQ(r.status, 302) << r.body;
  const std::string location = r.header("location");
  static const std::regex link_re(R"(^/download/(\d+)\?format=docx&exp=(\d+)&sig=[0-9a-f]{32,}$)");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(location, m, link_re)) << location;
  EXPECT_EQ(m[1].str(), id());
  const int64_t exp = std::stoll(m[2].str());
  EXPECT_GT(exp, clock_.now());
  EXPECT_LE(exp, clock_.now() + 3600);
  EXPECT_EQ(r.header("content-type").rfind("application/json", 0), 0u) << r.header("content-type");
  json j = json::parse(r.body);
  ASSERT_TRUE(j["url"].is_string()) << r.body;
  const std::string url = j["url"];
  EXPECT_EQ(url.rfind("http", 0), 0u) << url;
  ASSERT_GE(url.size(), location.size());
  EXPECT_EQ(url.substr(url.size() - location.size()), location);
  EXPECT_EQ(j["expires_at"], rfc3339_utc(exp));
  EXPECT_EQ(leaked_window(r.body), "");

  HttpResponse file = buyer.get(location);
  ASSERT_EQ(file.status, 200) << file.body.substr(0, 500);
  EXPECT_EQ(file.header("content-type"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
  const std::string disposition = file.header("content-disposition");
  EXPECT_EQ(disposition.rfind("attachment", 0), 0u) << disposition;
  EXPECT_NE(disposition.find("filename*=UTF-8''" + percent_encode(std::string(kTitle) + ".docx")),
            std::string::npos)
      << disposition;
  EXPECT_NE(file.header("cache-control").find("no-store"), std::string::npos);
  EXPECT_EQ(file.body.substr(0, 2), "PK");
  EXPECT_GT(file.body.size(), 2000u);
}

TEST_F(DownloadWebTest, PageButtonRedirectsAndPdfAndTxtAreServed) {
  buy(buyer_);
  Browser buyer = signed_in("buyer@example.cn");

  HttpResponse r = buyer.get(page_download("pdf"));
  ASSERT_EQ(r.status, 302) << r.body;
  const std::string pdf_link = r.header("location");
  ASSERT_EQ(pdf_link.rfind("/download/" + id() + "?format=pdf&exp=", 0), 0u) << pdf_link;
  HttpResponse pdf = buyer.get(pdf_link);
  ASSERT_EQ(pdf.status, 200) << pdf.body.substr(0, 500);
  EXPECT_EQ(pdf.header("content-type"), "application/pdf");
  EXPECT_NE(pdf.header("content-disposition")
                .find("filename*=UTF-8''" + percent_encode(std::string(kTitle) + ".pdf")),
            std::string::npos)
      << pdf.header("content-disposition");
  EXPECT_EQ(pdf.body.substr(0, 5), "%PDF-");

  HttpResponse txt = buyer.get(link_for(buyer, "txt"));
  ASSERT_EQ(txt.status, 200) << txt.body;
  EXPECT_EQ(txt.header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(txt.header("content-disposition").rfind("attachment", 0), 0u);
  for (std::string_view paid : kPaidSentences)
    EXPECT_NE(txt.body.find(paid), std::string::npos) << paid;
  EXPECT_EQ(txt.body.rfind(kTitle, 0), 0u);
}

TEST_F(DownloadWebTest, TheBuyersLinkGivesOthersNothing) {
  buy(buyer_);
  Browser buyer = signed_in("buyer@example.cn");
  Browser reader = signed_in("reader@example.cn");
  Browser anonymous(port_);

  for (const std::string format : {"docx", "txt"}) {
    SCOPED_TRACE(format);
    const std::string link = link_for(buyer, format);
    ASSERT_FALSE(link.empty());

    HttpResponse other = reader.get(link);
    EXPECT_EQ(other.status, 403);
    EXPECT_EQ(leaked_window(other.body), "");
    EXPECT_NE(other.body.substr(0, 2), "PK");
    EXPECT_TRUE(other.header("content-disposition").empty());
    EXPECT_EQ(other.header("content-type").rfind("text/html", 0), 0u) << other.header("content-type");

    HttpResponse nobody = anonymous.get(link);
    EXPECT_EQ(nobody.status, 401);
    EXPECT_EQ(leaked_window(nobody.body), "");
    EXPECT_TRUE(nobody.header("content-disposition").empty());

    // The buyer, with the very same URL, gets the file: the refusals were
    // about who asked.
    HttpResponse mine = buyer.get(link);
    ASSERT_EQ(mine.status, 200);
    EXPECT_NE(mine.body, other.body);
    if (format == "txt") {
      EXPECT_NE(mine.body.find(kPaidSentences[1]), std::string::npos);
    }
  }

  // A tampered link is refused for the buyer too.
  std::string link = link_for(buyer, "txt");
  std::string tampered = link;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  HttpResponse t = buyer.get(tampered);
  EXPECT_EQ(t.status, 403);
  EXPECT_EQ(leaked_window(t.body), "");
  std::string other_format = link;
  other_format.replace(other_format.find("format=txt"), 10, "format=pdf");
  EXPECT_EQ(buyer.get(other_format).status, 403);
  EXPECT_EQ(buyer.get("/download/" + id() + "?format=txt").status, 403);

  // And after it expired.
  clock_.advance(3601);
  HttpResponse expired = buyer.get(link);
  EXPECT_EQ(expired.status, 403);
  EXPECT_EQ(leaked_window(expired.body), "");
}

TEST_F(DownloadWebTest, AnonymousAndReadersWithoutAccessAreRefused) {
  Browser anonymous(port_);
  HttpResponse api = anonymous.get(api_download("docx"));
  EXPECT_EQ(api.status, 401) << api.body;
  EXPECT_TRUE(api.header("location").empty());
  EXPECT_EQ(json::parse(api.body)["error"]["code"], code_name(Code::kUnauthenticated));

  // The page button sends an anonymous reader to sign in.
  HttpResponse page = anonymous.get(page_download("docx"));
  EXPECT_EQ(page.status / 100, 3);
  EXPECT_EQ(page.header("location").rfind("/login", 0), 0u) << page.header("location");

  Browser reader = signed_in("reader@example.cn");
  HttpResponse refused = reader.get(api_download("docx"));
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_TRUE(refused.header("location").empty());
  json j = json::parse(refused.body);
  EXPECT_EQ(j["error"]["code"], code_name(Code::kForbidden));
  EXPECT_TRUE(j["error"]["message"].is_string());
  EXPECT_FALSE(j.contains("url"));
  EXPECT_EQ(leaked_window(refused.body), "");
  HttpResponse refused_page = reader.get(page_download("pdf"));
  EXPECT_EQ(refused_page.status, 403);
  EXPECT_EQ(leaked_window(refused_page.body), "");

  // Bad format, unknown document.
  buy(buyer_);
  Browser buyer = signed_in("buyer@example.cn");
  EXPECT_EQ(buyer.get(api_download("exe")).status, 400);
  EXPECT_EQ(buyer.get("/api/v1/documents/999/download?format=txt").status, 404);
}

TEST_F(DownloadWebTest, DocumentPageShowsDownloadButtonsOnlyToReadersWithAccess) {
  buy(buyer_);
  const std::string button = "href=\"/d/" + id() + "/download?format=docx\"";
  Browser buyer = signed_in("buyer@example.cn");
  HttpResponse page = buyer.get("/d/" + id());
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find(button), std::string::npos);
  EXPECT_NE(page.body.find("href=\"/d/" + id() + "/download?format=pdf\""), std::string::npos);
  EXPECT_NE(page.body.find("href=\"/d/" + id() + "/download?format=txt\""), std::string::npos);

  Browser reader = signed_in("reader@example.cn");
  HttpResponse locked = reader.get("/d/" + id());
  ASSERT_EQ(locked.status, 200);
  EXPECT_EQ(locked.body.find("/download?format="), std::string::npos);
  EXPECT_EQ(leaked_window(locked.body), "");

  HttpResponse anonymous = Browser(port_).get("/d/" + id());
  ASSERT_EQ(anonymous.status, 200);
  EXPECT_EQ(anonymous.body.find("/download?format="), std::string::npos);
}

TEST_F(DownloadWebTest, DailyLimitAnswers429WithRetryAfter) {
  buy(buyer_);
  Browser buyer = signed_in("buyer@example.cn");
  // The server's default: 10 downloads of a bought document a day.
  for (int i = 0; i < 10; ++i) {
    HttpResponse f = buyer.get(link_for(buyer, "txt"));
    ASSERT_EQ(f.status, 200) << "download " << i + 1 << ": " << f.body;
  }
  const std::string link = link_for(buyer, "txt");
  HttpResponse over = buyer.get(link);
  EXPECT_EQ(over.status, 429) << over.body;
  const std::string retry = over.header("retry-after");
  ASSERT_FALSE(retry.empty());
  EXPECT_EQ(std::stoll(retry), next_cst_midnight(clock_.now()) - clock_.now());
  EXPECT_TRUE(over.header("content-disposition").empty());
  EXPECT_EQ(leaked_window(over.body), "");

  // Tomorrow (China time) the same account downloads again.
  clock_.set(next_cst_midnight(clock_.now()));
  Browser tomorrow = signed_in("buyer@example.cn");
  HttpResponse again = tomorrow.get(link_for(tomorrow, "txt"));
  EXPECT_EQ(again.status, 200) << again.body;
}

// Every GET route also answers HEAD (routes.cc). A HEAD of a download link
// (a download manager probing the size, a chat app previewing the link)
// sends no file, so it must not use up the reader's downloads.
TEST_F(DownloadWebTest, HeadRequestsDoNotUseUpTheDailyLimit) {
  buy(buyer_);
  Browser buyer = signed_in("buyer@example.cn");
  const std::string link = link_for(buyer, "txt");
  for (int i = 0; i < 10; ++i) {
    HttpResponse h = buyer.send("HEAD", link, {}, "");
    EXPECT_NE(h.status, 500) << i;
  }
  HttpResponse g = buyer.get(link);
  EXPECT_EQ(g.status, 200) << "after 10 HEAD requests the first real download is refused: " << g.status;
}

}  // namespace
}  // namespace paidoc::web
