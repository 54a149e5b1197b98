// The downloads service over a real store (each backend) with a FakeClock: links
// signed for one reader, the file behind them (and only for that reader),
// expiry, daily limits by kind of access, trace marks that name the
// download, the user and the order, and the render cache.
//
// All document text here was written for these tests (notices of a county
// government office).
#include "downloads/downloads.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <filesystem>
#include <memory>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "commerce/commerce.h"
#include "common/clock.h"
#include "export/export.h"
#include "export/trace.h"
#include "gate/gate.h"
#include "library/library.h"
#include "store/store.h"
#include "support/backends.h"

namespace paidoc::downloads {
namespace {


constexpr int64_t kDay = 86400;
constexpr int64_t kCst = 8 * 3600;
// 2026-03-02 10:00:00 China Standard Time.
constexpr int64_t kStart = 1772416800;

constexpr int64_t kTtl = 300;
constexpr int64_t kPerDocument = 4;
constexpr int64_t kFreeDaily = 3;
constexpr int64_t kVipLiteDaily = 3;

// A notice with a paid middle. The paid sentences are in no free line.
constexpr std::string_view kNoticeTitle = "关于做好2026年度机关节能降耗工作的通知";
constexpr std::string_view kNotice =
    "关于做好2026年度机关节能降耗工作的通知\n"
    "各科室、各直属单位：\n"
    "为深入贯彻落实节约型机关建设要求，进一步降低办公运行成本，现就做好本年度节能降耗工作通知如下。\n"
    "一、总体目标\n"
    "全年机关办公用电量较上年下降百分之五，公务用车燃油消耗下降百分之八。\n"
    "##paidbegin##\n"
    "（一）用电管理\n"
    "办公区域空调温度夏季不低于二十六摄氏度，冬季不高于二十摄氏度，下班前由各科室指定专人检查关闭电源。\n"
    "（二）用水管理\n"
    "卫生间全部更换节水型器具，发现跑冒滴漏问题须在两个工作日内完成维修。\n"
    "二、工作措施\n"
    "1.建立能耗台账\n"
    "后勤服务中心每月十日前汇总上月水电气消耗数据，报分管领导审阅后在内网公示。\n"
    "2.推行无纸化办公\n"
    "内部请示报告一律通过协同办公系统流转，确需打印的材料原则上双面使用再生纸。\n"
    "三、监督考核\n"
    "节能工作纳入年度目标考核，对连续三个月能耗超标的科室予以通报并约谈负责人。\n"
    "##paidend##\n"
    "请各单位结合实际认真抓好落实。\n";

// The same notice, revised: a changed temperature and a new section.
constexpr std::string_view kNoticeRevised =
    "关于做好2026年度机关节能降耗工作的通知\n"
    "各科室、各直属单位：\n"
    "为深入贯彻落实节约型机关建设要求，进一步降低办公运行成本，现就做好本年度节能降耗工作通知如下。\n"
    "一、总体目标\n"
    "全年机关办公用电量较上年下降百分之五，公务用车燃油消耗下降百分之八。\n"
    "##paidbegin##\n"
    "（一）用电管理\n"
    "办公区域空调温度夏季不低于二十七摄氏度，冬季不高于二十摄氏度，下班前由各科室指定专人检查关闭电源。\n"
    "（二）用水管理\n"
    "卫生间全部更换节水型器具，发现跑冒滴漏问题须在两个工作日内完成维修。\n"
    "（三）用气管理\n"
    "食堂燃气灶具每季度由专业机构检修一次，检修记录存档备查。\n"
    "二、工作措施\n"
    "1.建立能耗台账\n"
    "后勤服务中心每月十日前汇总上月水电气消耗数据，报分管领导审阅后在内网公示。\n"
    "##paidend##\n"
    "请各单位结合实际认真抓好落实。\n";

const std::vector<std::string_view> kNoticePaid = {
    "下班前由各科室指定专人检查关闭电源",
    "发现跑冒滴漏问题须在两个工作日内完成维修",
    "后勤服务中心每月十日前汇总上月水电气消耗数据",
    "确需打印的材料原则上双面使用再生纸",
    "对连续三个月能耗超标的科室予以通报并约谈负责人",
};
constexpr std::string_view kNoticeFree = "公务用车燃油消耗下降百分之八";

constexpr std::string_view kCircular =
    "关于开展机关食堂食品安全专项检查的通知\n"
    "各直属单位：\n"
    "为切实保障干部职工饮食安全，经研究，决定于三月份在全系统开展机关食堂食品安全专项检查。\n"
    "一、检查内容\n"
    "##paidbegin##\n"
    "（一）原料采购\n"
    "重点检查食材进货查验记录是否完整，供货商资质证明是否在有效期内。\n"
    "（二）加工制作\n"
    "生熟食品必须分区存放，留样食品冷藏保存不少于四十八小时。\n"
    "##paidend##\n"
    "二、时间安排\n"
    "各单位于三月二十日前完成自查，自查报告报机关事务管理局。\n";
constexpr std::string_view kCircularPaid = "留样食品冷藏保存不少于四十八小时";

// Priced at zero: everyone signed in reads (and downloads) all of it.
constexpr std::string_view kWalkPlan =
    "机关工会春季健步走活动方案\n"
    "为丰富职工业余文化生活，工会决定组织春季健步走活动。\n"
    "##paidbegin##\n"
    "活动路线沿滨河公园步道全程约六公里，途中设置两处补给点。\n"
    "##paidend##\n"
    "请各分会于本周五前报送参加人员名单。\n";

// Nothing withheld at all.
constexpr std::string_view kHours =
    "关于调整机关夏季作息时间的通知\n"
    "各科室：\n"
    "自四月一日起，机关夏季作息时间调整为上午八时三十分至十二时，下午十四时三十分至十八时。\n"
    "特此通知。\n";

// A publisher's own document.
constexpr std::string_view kBriefing =
    "县政府办公室第三季度政务信息工作通报\n"
    "第三季度，各单位共报送政务信息四百二十条。\n"
    "##paidbegin##\n"
    "被市政府办公室采用的信息共三十一条，其中县应急管理局报送的防汛信息获市领导批示。\n"
    "##paidend##\n"
    "请各单位继续做好政务信息报送工作。\n";

// Removes the zero-width characters of trace marks (U+200B/C/D, U+2060,
// U+FEFF), leaving the text a reader sees.
std::string strip_marks(std::string_view s) {
  static const std::string_view kMarks[] = {"\xE2\x80\x8B", "\xE2\x80\x8C", "\xE2\x80\x8D",
                                            "\xE2\x81\xA0", "\xEF\xBB\xBF"};
  std::string out;
  for (size_t i = 0; i < s.size();) {
    bool mark = false;
    for (std::string_view m : kMarks) {
      if (s.substr(i, m.size()) == m) {
        i += m.size();
        mark = true;
        break;
      }
    }
    if (!mark) out += s[i++];
  }
  return out;
}

bool contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

// The parts of a link URL.
struct ParsedLink {
  int64_t document_id = 0;
  std::string format;
  int64_t exp = 0;
  std::string sig;
};

std::optional<ParsedLink> parse_link(const std::string& url) {
  static const std::regex re(R"(^/download/(\d+)\?format=(docx|pdf|txt)&exp=(\d+)&sig=([0-9a-f]+)$)");
  std::smatch m;
  if (!std::regex_match(url, m, re)) return std::nullopt;
  return ParsedLink{std::stoll(m[1].str()), m[2].str(), std::stoll(m[3].str()), m[4].str()};
}

// The next 00:00 China Standard Time after t.
int64_t next_cst_midnight(int64_t t) { return ((t + kCst) / kDay + 1) * kDay - kCst; }

class DownloadsTest : public ::testing::TestWithParam<std::string> {
 protected:
  DownloadsTest() : clock_(kStart) {}

  void SetUp() override {
    db_ = testing_support::make_test_database(GetParam());
    if (db_ == nullptr) GTEST_SKIP() << testing_support::postgres_skip_reason();
    auto opened = store::Store::open(db_->url());
    ASSERT_TRUE(opened.ok()) << opened.status().to_string();
    store_ = std::move(opened).value();
    library_ = std::make_unique<library::Library>(*store_, clock_);
    commerce::Options co;
    co.plans = {{"vip30", "VIP 月卡", 30, Fen(3000), 20},
                {"vip-lite", "VIP 体验卡", 7, Fen(500), kVipLiteDaily}};
    commerce_ = std::make_unique<commerce::Commerce>(
        *store_, *store_, clock_, co,
        std::map<std::string, std::unique_ptr<commerce::PaymentProvider>>{});
    Options o;
    o.link_ttl_seconds = kTtl;
    o.per_document_daily = kPerDocument;
    o.free_daily = kFreeDaily;
    service_ = std::make_unique<Service>(Stores{*store_, *store_, *store_, *store_}, *library_,
                                         *commerce_, clock_, o);
    Status s = service_->init();
    ASSERT_TRUE(s.is_ok()) << s.to_string();

    buyer_ = add_user("buyer@example.cn");
    reader_ = add_user("reader@example.cn");
    notice_ = import(kNotice, "notice.txt", 600);
    circular_ = import(kCircular, "circular.txt", 300);
  }

  void TearDown() override {
    service_.reset();
    commerce_.reset();
    library_.reset();
    store_.reset();
  }

  int64_t add_user(const std::string& email, const std::string& role = "reader") {
    auto u = store_->create_user(
        {email, "$argon2id$v=19$hash-of-" + email, *store::parse_role(role)}, clock_.now());
    EXPECT_TRUE(u.ok()) << u.status().to_string();
    return u.ok() ? u->id : 0;
  }

  int64_t import(std::string_view text, const std::string& path, int64_t price_fen,
                 std::optional<int64_t> publisher = std::nullopt) {
    library::ImportOptions io;
    io.price = Fen(price_fen);
    io.category = "通知公告";
    io.publisher_id = publisher;
    library::ImportLine line = library_->import_bytes(text, path, io);
    EXPECT_TRUE(line.ok) << line.error;
    return line.id;
  }

  // Buys `doc` from the wallet; returns the paid order.
  commerce::Order buy(int64_t user, int64_t doc) {
    Status c = commerce_->credit(user, Fen(10000), "test credit", "tester");
    EXPECT_TRUE(c.is_ok()) << c.to_string();
    auto o = commerce_->order_document(user, gate::Role::kReader, doc);
    EXPECT_TRUE(o.ok()) << o.status().to_string();
    if (!o.ok()) return {};
    auto paid = commerce_->pay(user, o->id, commerce::PayMethod::kWallet);
    EXPECT_TRUE(paid.ok()) << paid.status().to_string();
    if (!paid.ok()) return {};
    EXPECT_EQ(paid->order.status, commerce::OrderStatus::kPaid);
    return paid->order;
  }

  gate::Viewer viewer(int64_t user, gate::Role role = gate::Role::kReader) {
    auto v = commerce_->viewer(user, role);
    EXPECT_TRUE(v.ok()) << v.status().to_string();
    return v.ok() ? *v : gate::Viewer::anonymous();
  }

  // A link for `v`, parsed (fails the test when there is none).
  ParsedLink link(int64_t doc, const std::string& format, const gate::Viewer& v) {
    Result<Link> l = service_->link(doc, format, v);
    EXPECT_TRUE(l.ok()) << l.status().to_string();
    if (!l.ok()) return {};
    std::optional<ParsedLink> p = parse_link(l->url);
    EXPECT_TRUE(p.has_value()) << l->url;
    return p.value_or(ParsedLink{});
  }

  Result<File> fetch(const ParsedLink& l, const gate::Viewer& v) {
    return service_->fetch(l.document_id, l.format, l.exp, l.sig, v);
  }

  // Link and fetch, as the web layer does for a button press.
  Result<File> download(int64_t doc, const std::string& format, const gate::Viewer& v) {
    Result<Link> l = service_->link(doc, format, v);
    if (!l.ok()) return l.status();
    std::optional<ParsedLink> p = parse_link(l->url);
    if (!p) return Status::internal("unparsable link " + l->url);
    return fetch(*p, v);
  }

  std::string email_of(int64_t user) {
    auto u = store_->get_user(user);
    return u.ok() ? u->email : std::string();
  }

  std::unique_ptr<testing_support::TestDatabase> db_;
  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<library::Library> library_;
  std::unique_ptr<commerce::Commerce> commerce_;
  std::unique_ptr<Service> service_;
  int64_t buyer_ = 0;
  int64_t reader_ = 0;
  int64_t notice_ = 0;
  int64_t circular_ = 0;
};

// --- a buyer's files ---------------------------------------------------------------------

TEST_P(DownloadsTest, BuyerGetsALinkAndEveryFormatWithThePaidText) {
  commerce::Order order = buy(buyer_, notice_);
  gate::Viewer v = viewer(buyer_);

  for (const std::string format : {"docx", "pdf", "txt"}) {
    SCOPED_TRACE(format);
    Result<Link> l = service_->link(notice_, format, v);
    ASSERT_TRUE(l.ok()) << l.status().to_string();
    EXPECT_EQ(l->expires_at, clock_.now() + kTtl);
    std::optional<ParsedLink> p = parse_link(l->url);
    ASSERT_TRUE(p.has_value()) << l->url;
    EXPECT_EQ(p->document_id, notice_);
    EXPECT_EQ(p->format, format);
    EXPECT_EQ(p->exp, l->expires_at);
    EXPECT_GE(p->sig.size(), 32u);

    Result<File> f = fetch(*p, v);
    ASSERT_TRUE(f.ok()) << f.status().to_string();
    EXPECT_EQ(f->file_name, std::string(kNoticeTitle) + "." + format);
    EXPECT_GT(f->record.id, 0);
    EXPECT_EQ(f->record.user_id, buyer_);
    EXPECT_EQ(f->record.document_id, notice_);
    EXPECT_EQ(f->record.revision, 1);
    EXPECT_EQ(f->record.format, format);
    EXPECT_EQ(f->record.access, "purchased");
    EXPECT_EQ(f->record.order_id, order.id);
    EXPECT_EQ(f->record.created_at, clock_.now());
    Result<store::Download> stored = store_->get_download(f->record.id);
    ASSERT_TRUE(stored.ok()) << stored.status().to_string();
    EXPECT_EQ(stored->nonce, f->record.nonce);

    if (format == "docx") {
      EXPECT_EQ(f->content_type,
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
      EXPECT_EQ(f->bytes.substr(0, 2), "PK");
    } else if (format == "pdf") {
      EXPECT_EQ(f->content_type, "application/pdf");
      EXPECT_EQ(f->bytes.substr(0, 5), "%PDF-");
    } else {
      EXPECT_EQ(f->content_type, "text/plain; charset=utf-8");
      const std::string text = strip_marks(f->bytes);
      EXPECT_EQ(text.rfind(std::string(kNoticeTitle) + "\r\n\r\n", 0), 0u) << text;
      for (std::string_view paid : kNoticePaid) EXPECT_TRUE(contains(text, paid)) << paid;
      EXPECT_TRUE(contains(text, kNoticeFree));
      EXPECT_TRUE(contains(text, "\r\n\xE3\x80\x80\xE3\x80\x80"
                                 "卫生间全部更换节水型器具，发现跑冒滴漏问题须在两个工作日内完成维修。\r\n"))
          << text;
      EXPECT_TRUE(contains(text, "\r\n三、监督考核\r\n")) << text;
      EXPECT_TRUE(contains(text, "请各单位结合实际认真抓好落实。"));
    }
    // What is in the file (docx, pdf: in its text layer) names this download.
    Result<TraceReport> t = service_->trace(f->bytes);
    ASSERT_TRUE(t.ok()) << t.status().to_string();
    ASSERT_TRUE(t->download.has_value()) << t->problem;
    EXPECT_EQ(t->download->id, f->record.id);
  }
}

TEST_P(DownloadsTest, ReaderWithoutPurchaseGetsNeitherLinkNorFile) {
  buy(buyer_, notice_);
  gate::Viewer reader = viewer(reader_);

  for (const char* format : {"docx", "pdf", "txt"}) {
    Result<Link> l = service_->link(notice_, format, reader);
    ASSERT_FALSE(l.ok()) << format;
    EXPECT_EQ(l.status().code(), Code::kForbidden) << l.status().to_string();
  }
  // The buyer's link, presented by the reader.
  ParsedLink bought = link(notice_, "txt", viewer(buyer_));
  Result<File> f = fetch(bought, reader);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), Code::kForbidden) << f.status().to_string();
  for (std::string_view paid : kNoticePaid) EXPECT_FALSE(contains(f.status().message(), paid));
  // Nothing was recorded for the reader: the buyer's next download is the
  // second record (the first was never made: link() records nothing).
  Result<File> mine = fetch(bought, viewer(buyer_));
  ASSERT_TRUE(mine.ok()) << mine.status().to_string();
  EXPECT_EQ(mine->record.id, 1);
}

TEST_P(DownloadsTest, LinkIsUselessToAnotherUserEvenOneWhoBoughtTheDocument) {
  buy(buyer_, notice_);
  int64_t second = add_user("second-buyer@example.cn");
  buy(second, notice_);

  ParsedLink l = link(notice_, "txt", viewer(buyer_));
  Result<File> stolen = fetch(l, viewer(second));
  ASSERT_FALSE(stolen.ok());
  EXPECT_EQ(stolen.status().code(), Code::kForbidden) << stolen.status().to_string();
  Result<File> stolen_by_reader = fetch(l, viewer(reader_));
  ASSERT_FALSE(stolen_by_reader.ok());
  EXPECT_EQ(stolen_by_reader.status().code(), Code::kForbidden);

  // Each gets the file through a link of their own.
  Result<File> own = download(notice_, "txt", viewer(second));
  ASSERT_TRUE(own.ok()) << own.status().to_string();
  EXPECT_EQ(own->record.user_id, second);
  Result<File> original = fetch(l, viewer(buyer_));
  ASSERT_TRUE(original.ok()) << original.status().to_string();
  EXPECT_EQ(original->record.user_id, buyer_);
}

TEST_P(DownloadsTest, TamperedLinksAreRefused) {
  buy(buyer_, notice_);
  buy(buyer_, circular_);  // so that a changed document id is refused for the link alone
  gate::Viewer v = viewer(buyer_);
  const ParsedLink l = link(notice_, "txt", v);

  auto expect_forbidden = [&](const ParsedLink& bad, const char* what) {
    Result<File> f = fetch(bad, v);
    ASSERT_FALSE(f.ok()) << what;
    EXPECT_EQ(f.status().code(), Code::kForbidden) << what << ": " << f.status().to_string();
  };

  ParsedLink sig = l;
  sig.sig[0] = sig.sig[0] == '0' ? '1' : '0';
  expect_forbidden(sig, "one changed signature digit");
  ParsedLink last = l;
  last.sig.back() = last.sig.back() == 'a' ? 'b' : 'a';
  expect_forbidden(last, "changed last signature digit");
  ParsedLink shorter = l;
  shorter.sig.pop_back();
  expect_forbidden(shorter, "shortened signature");
  ParsedLink empty = l;
  empty.sig.clear();
  expect_forbidden(empty, "empty signature");
  ParsedLink upper = l;
  for (char& c : upper.sig) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper.sig != l.sig) expect_forbidden(upper, "upper-case signature");
  ParsedLink format = l;
  format.format = "docx";
  expect_forbidden(format, "txt link used for docx");
  ParsedLink pdf = l;
  pdf.format = "pdf";
  expect_forbidden(pdf, "txt link used for pdf");
  ParsedLink doc = l;
  doc.document_id = circular_;
  expect_forbidden(doc, "another document (also bought)");
  ParsedLink later = l;
  later.exp += 3600;
  expect_forbidden(later, "expiry pushed back");

  // The untouched link still works: the refusals were for the changes.
  Result<File> f = fetch(l, v);
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_TRUE(contains(f->bytes, kNoticePaid[0]));
}

TEST_P(DownloadsTest, LinkExpiresAfterItsLifetime) {
  buy(buyer_, notice_);
  gate::Viewer v = viewer(buyer_);
  const ParsedLink l = link(notice_, "txt", v);
  EXPECT_EQ(l.exp, kStart + kTtl);

  clock_.advance(kTtl - 1);
  Result<File> in_time = fetch(l, v);
  ASSERT_TRUE(in_time.ok()) << in_time.status().to_string();

  clock_.advance(2);  // one second past exp
  Result<File> late = fetch(l, v);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.status().code(), Code::kForbidden) << late.status().to_string();
  clock_.advance(kDay);
  EXPECT_EQ(fetch(l, v).status().code(), Code::kForbidden);

  // A fresh link works again.
  Result<File> fresh = download(notice_, "txt", v);
  ASSERT_TRUE(fresh.ok()) << fresh.status().to_string();
}

TEST_P(DownloadsTest, RefundedBuyerLosesTheFileEvenWithALiveLinkAndAWarmCache) {
  commerce::Order order = buy(buyer_, notice_);
  const ParsedLink l = link(notice_, "txt", viewer(buyer_));
  Result<File> first = fetch(l, viewer(buyer_));  // renders and caches the file
  ASSERT_TRUE(first.ok()) << first.status().to_string();

  Status refunded = commerce_->refund(order.id, /*to_wallet=*/true, "读者申请退款");
  ASSERT_TRUE(refunded.is_ok()) << refunded.to_string();
  gate::Viewer after = viewer(buyer_);
  ASSERT_TRUE(after.purchased.empty());

  Result<File> again = fetch(l, after);  // the link has not expired
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Code::kForbidden) << again.status().to_string();
  EXPECT_EQ(service_->link(notice_, "txt", after).status().code(), Code::kForbidden);
}

TEST_P(DownloadsTest, AnonymousViewerIsUnauthenticated) {
  buy(buyer_, notice_);
  Result<Link> l = service_->link(notice_, "docx", gate::Viewer::anonymous());
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.status().code(), Code::kUnauthenticated);
  // Even for a document without anything paid.
  int64_t hours = import(kHours, "hours.txt", 600);
  EXPECT_EQ(service_->link(hours, "txt", gate::Viewer::anonymous()).status().code(),
            Code::kUnauthenticated);

  ParsedLink bought = link(notice_, "docx", viewer(buyer_));
  Result<File> f = fetch(bought, gate::Viewer::anonymous());
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), Code::kUnauthenticated);
}

TEST_P(DownloadsTest, UnknownFormatOrDocument) {
  buy(buyer_, notice_);
  gate::Viewer v = viewer(buyer_);
  for (const char* bad : {"doc", "DOCX", "", "txt "}) {
    EXPECT_EQ(service_->link(notice_, bad, v).status().code(), Code::kInvalidArgument) << bad;
  }
  EXPECT_EQ(service_->link(9999, "txt", v).status().code(), Code::kNotFound);
}

// --- daily limits -------------------------------------------------------------------------

TEST_P(DownloadsTest, BuyerLimitIsPerDocumentAndResetsAtChinaMidnight) {
  buy(buyer_, notice_);
  buy(buyer_, circular_);
  gate::Viewer v = viewer(buyer_);

  const char* formats[] = {"txt", "docx", "txt", "txt"};
  static_assert(static_cast<int64_t>(std::size(formats)) == kPerDocument);
  for (const char* format : formats) {
    Result<File> f = download(notice_, format, v);
    ASSERT_TRUE(f.ok()) << format << ": " << f.status().to_string();
    clock_.advance(60);
  }
  Result<File> over = download(notice_, "txt", v);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), Code::kTooManyRequests) << over.status().to_string();
  EXPECT_GT(over.status().retry_after(), 0);
  EXPECT_EQ(over.status().retry_after(), next_cst_midnight(clock_.now()) - clock_.now());
  // Another format does not get round it.
  EXPECT_EQ(download(notice_, "pdf", v).status().code(), Code::kTooManyRequests);

  // The limit is per bought document: the other one still downloads.
  Result<File> other = download(circular_, "txt", v);
  ASSERT_TRUE(other.ok()) << other.status().to_string();
  EXPECT_TRUE(contains(other->bytes, kCircularPaid));

  // One second before midnight in China: still refused, for one more second.
  const int64_t midnight = next_cst_midnight(clock_.now());
  clock_.set(midnight - 1);
  Result<File> almost = download(notice_, "txt", v);
  ASSERT_FALSE(almost.ok());
  EXPECT_EQ(almost.status().code(), Code::kTooManyRequests);
  EXPECT_EQ(almost.status().retry_after(), 1);

  // The next day (from 00:00 CST, 16:00 UTC): downloads again.
  clock_.set(midnight);
  Result<File> next_day = download(notice_, "txt", v);
  ASSERT_TRUE(next_day.ok()) << next_day.status().to_string();
  EXPECT_TRUE(contains(next_day->bytes, kNoticePaid[2]));
}

TEST_P(DownloadsTest, VipPlanLimitCountsAcrossDocuments) {
  int64_t vip = add_user("vip@example.cn");
  Status c = commerce_->credit(vip, Fen(1000), "test credit", "tester");
  ASSERT_TRUE(c.is_ok()) << c.to_string();
  auto plan = commerce_->order_plan(vip, "vip-lite");
  ASSERT_TRUE(plan.ok()) << plan.status().to_string();
  auto paid = commerce_->pay(vip, plan->id, commerce::PayMethod::kWallet);
  ASSERT_TRUE(paid.ok()) << paid.status().to_string();
  gate::Viewer v = viewer(vip);
  ASSERT_TRUE(v.vip);

  int64_t docs[] = {notice_, circular_, notice_};
  static_assert(static_cast<int64_t>(std::size(docs)) == kVipLiteDaily);
  for (int64_t doc : docs) {
    Result<File> f = download(doc, "txt", v);
    ASSERT_TRUE(f.ok()) << doc << ": " << f.status().to_string();
    EXPECT_EQ(f->record.access, "vip");
    EXPECT_EQ(f->record.order_id, plan->id);
  }
  // The plan's limit is over all documents read through VIP.
  for (int64_t doc : {circular_, notice_}) {
    Result<File> over = download(doc, "txt", v);
    ASSERT_FALSE(over.ok()) << doc;
    EXPECT_EQ(over.status().code(), Code::kTooManyRequests) << over.status().to_string();
    EXPECT_EQ(over.status().retry_after(), next_cst_midnight(clock_.now()) - clock_.now());
  }
  clock_.set(next_cst_midnight(clock_.now()));
  Result<File> tomorrow = download(circular_, "txt", viewer(vip));
  ASSERT_TRUE(tomorrow.ok()) << tomorrow.status().to_string();
}

TEST_P(DownloadsTest, AdminAndPublisherAreUnlimited) {
  int64_t admin = add_user("admin@example.cn", "admin");
  int64_t editor = add_user("editor@example.cn", "editor");
  int64_t briefing = import(kBriefing, "briefing.txt", 800, editor);
  gate::Viewer a = viewer(admin, gate::Role::kAdmin);
  gate::Viewer e = viewer(editor, gate::Role::kEditor);

  for (int i = 0; i < kPerDocument + 3; ++i) {
    Result<File> f = download(notice_, "txt", a);
    ASSERT_TRUE(f.ok()) << "admin, download " << i + 1 << ": " << f.status().to_string();
    EXPECT_EQ(f->record.access, "admin");
    EXPECT_EQ(f->record.order_id, 0);
    Result<File> g = download(briefing, "txt", e);
    ASSERT_TRUE(g.ok()) << "publisher, download " << i + 1 << ": " << g.status().to_string();
    EXPECT_EQ(g->record.access, "publisher");
    EXPECT_TRUE(contains(g->bytes, "被市政府办公室采用的信息共三十一条"));
  }
  // The editor is no publisher of the notice.
  EXPECT_EQ(service_->link(notice_, "txt", e).status().code(), Code::kForbidden);
}

TEST_P(DownloadsTest, FreeDocumentsShareOneDailyLimit) {
  int64_t walk = import(kWalkPlan, "walk.txt", 0);     // paid part, priced at zero
  int64_t hours = import(kHours, "hours.txt", 600);    // nothing withheld
  gate::Viewer v = viewer(reader_);

  Result<File> w = download(walk, "txt", v);
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  EXPECT_TRUE(contains(w->bytes, "途中设置两处补给点"));
  ASSERT_TRUE(download(walk, "txt", v).ok());
  Result<File> h = download(hours, "txt", v);
  ASSERT_TRUE(h.ok()) << h.status().to_string();
  static_assert(kFreeDaily == 3);
  // free_daily is over ALL free documents (downloads.h), whichever way they
  // are free.
  for (int64_t doc : {hours, walk}) {
    Result<File> over = download(doc, "txt", v);
    ASSERT_FALSE(over.ok()) << "document " << doc << " downloaded past the free limit";
    EXPECT_EQ(over.status().code(), Code::kTooManyRequests);
  }
}

// --- trace -------------------------------------------------------------------------------

TEST_P(DownloadsTest, TraceNamesTheDownloadUserAndOrderInEveryFormat) {
  commerce::Order order = buy(buyer_, notice_);
  ASSERT_FALSE(order.out_trade_no.empty());
  gate::Viewer v = viewer(buyer_);

  for (const std::string format : {"docx", "pdf", "txt"}) {
    SCOPED_TRACE(format);
    Result<File> f = download(notice_, format, v);
    ASSERT_TRUE(f.ok()) << f.status().to_string();
    Result<TraceReport> t = service_->trace(f->bytes);
    ASSERT_TRUE(t.ok()) << t.status().to_string();
    EXPECT_EQ(t->found.kind, format == "txt" ? "text" : format);
    ASSERT_TRUE(t->found.text_mark.has_value());
    EXPECT_EQ(t->found.text_mark->download_id, static_cast<uint32_t>(f->record.id));
    EXPECT_EQ(t->found.text_mark->nonce, static_cast<uint32_t>(f->record.nonce));
    if (format != "txt") {
      ASSERT_TRUE(t->found.metadata_mark.has_value());
      EXPECT_EQ(*t->found.metadata_mark, *t->found.text_mark);
    }
    EXPECT_TRUE(t->problem.empty()) << t->problem;
    EXPECT_FALSE(t->operator_export);
    ASSERT_TRUE(t->download.has_value());
    EXPECT_EQ(t->download->id, f->record.id);
    EXPECT_EQ(t->download->user_id, buyer_);
    EXPECT_EQ(t->download->format, format);
    EXPECT_EQ(t->download->order_id, order.id);
    ASSERT_TRUE(t->user.has_value());
    EXPECT_EQ(t->user->id, buyer_);
    EXPECT_EQ(t->user->email, "buyer@example.cn");
    ASSERT_TRUE(t->order.has_value());
    EXPECT_EQ(t->order->id, order.id);
    EXPECT_EQ(t->order->out_trade_no, order.out_trade_no);
    EXPECT_EQ(t->order->kind, commerce::OrderKind::kDocument);
    EXPECT_EQ(t->order->document_id, notice_);
    EXPECT_EQ(t->document_title, kNoticeTitle);
  }
}

TEST_P(DownloadsTest, TextPastedFromTheMiddleTraces) {
  buy(buyer_, notice_);
  Result<File> f = download(notice_, "txt", viewer(buyer_));
  ASSERT_TRUE(f.ok()) << f.status().to_string();

  std::vector<std::string> lines;
  for (size_t from = 0;;) {
    size_t end = f->bytes.find("\r\n", from);
    lines.push_back(f->bytes.substr(from, end == std::string::npos ? std::string::npos : end - from));
    if (end == std::string::npos) break;
    from = end + 2;
  }
  ASSERT_GT(lines.size(), 14u);
  // Four whole lines from the middle of the paid part, as a reader selects
  // and copies them (the copy has "\n" line ends).
  std::string pasted;
  for (size_t i = 8; i < 12; ++i) pasted += lines[i] + "\n";
  ASSERT_FALSE(contains(pasted, kNoticeTitle));
  ASSERT_TRUE(contains(pasted, kNoticePaid[1]) || contains(pasted, kNoticePaid[2])) << pasted;

  Result<TraceReport> t = service_->trace(pasted);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->found.kind, "text");
  ASSERT_TRUE(t->download.has_value()) << t->problem;
  EXPECT_EQ(t->download->id, f->record.id);
  ASSERT_TRUE(t->user.has_value());
  EXPECT_EQ(t->user->email, "buyer@example.cn");

  // Pasted into someone else's text, with other text around it.
  Result<TraceReport> embedded = service_->trace("转发如下：\n" + pasted + "以上内容仅供参考。");
  ASSERT_TRUE(embedded.ok());
  ASSERT_TRUE(embedded->download.has_value());
  EXPECT_EQ(embedded->download->id, f->record.id);
}

TEST_P(DownloadsTest, ForgedMarkIsNotVerified) {
  buy(buyer_, notice_);
  Result<File> f = download(notice_, "txt", viewer(buyer_));
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  const uint32_t id = static_cast<uint32_t>(f->record.id);
  const uint32_t nonce = static_cast<uint32_t>(f->record.nonce);

  // The right download id with a made-up nonce.
  const std::string forged = "办公区域空调温度夏季不低于二十六摄氏度。" +
                             exporter::encode_mark({id, nonce ^ 0x5A5A5A5Au}) + "\n";
  Result<TraceReport> t = service_->trace(forged);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  ASSERT_TRUE(t->payload.has_value());
  EXPECT_EQ(t->payload->download_id, id);
  EXPECT_FALSE(t->download.has_value());
  EXPECT_FALSE(t->user.has_value());
  EXPECT_FALSE(t->order.has_value());
  EXPECT_FALSE(t->problem.empty());

  // A download the database does not hold.
  Result<TraceReport> unknown = service_->trace("正文" + exporter::encode_mark({id + 100, nonce}));
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->download.has_value());
  EXPECT_FALSE(unknown->problem.empty());

  // No mark at all.
  Result<TraceReport> none = service_->trace(strip_marks(f->bytes));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->payload.has_value());
  EXPECT_FALSE(none->download.has_value());
  EXPECT_FALSE(none->problem.empty());
}

TEST_P(DownloadsTest, OperatorExportHasEverythingAndTracesAsOperatorExport) {
  Result<File> txt = service_->export_file(notice_, exporter::Format::kTxt);
  ASSERT_TRUE(txt.ok()) << txt.status().to_string();
  EXPECT_EQ(txt->record.id, 0);
  const std::string text = strip_marks(txt->bytes);
  for (std::string_view paid : kNoticePaid) EXPECT_TRUE(contains(text, paid)) << paid;
  EXPECT_TRUE(contains(text, kNoticeFree));

  Result<File> docx = service_->export_file(notice_, exporter::Format::kDocx);
  ASSERT_TRUE(docx.ok()) << docx.status().to_string();
  EXPECT_EQ(docx->bytes.substr(0, 2), "PK");
  EXPECT_EQ(docx->file_name, std::string(kNoticeTitle) + ".docx");

  for (const File* f : {&*txt, &*docx}) {
    Result<TraceReport> t = service_->trace(f->bytes);
    ASSERT_TRUE(t.ok()) << t.status().to_string();
    ASSERT_TRUE(t->payload.has_value());
    EXPECT_EQ(t->payload->download_id, 0u);
    EXPECT_TRUE(t->operator_export);
    EXPECT_FALSE(t->download.has_value());
    EXPECT_FALSE(t->user.has_value());
    EXPECT_FALSE(t->problem.empty());
  }
  EXPECT_EQ(service_->export_file(9999, exporter::Format::kTxt).status().code(), Code::kNotFound);
}

// --- the render cache ----------------------------------------------------------------------

TEST_P(DownloadsTest, CachedRenderingStillMarksEachDownloadApart) {
  buy(buyer_, notice_);
  int64_t second = add_user("second-buyer@example.cn");
  buy(second, notice_);

  for (const std::string format : {"docx", "txt"}) {
    SCOPED_TRACE(format);
    Result<File> a = download(notice_, format, viewer(buyer_));
    Result<File> b = download(notice_, format, viewer(second));
    Result<File> c = download(notice_, format, viewer(buyer_));
    ASSERT_TRUE(a.ok() && b.ok() && c.ok());
    EXPECT_EQ(a->record.revision, b->record.revision);
    EXPECT_NE(a->bytes, b->bytes);
    EXPECT_NE(a->bytes, c->bytes);  // the same user twice: still two marks
    std::set<int64_t> ids;
    for (const File* f : {&*a, &*b, &*c}) {
      ids.insert(f->record.id);
      Result<TraceReport> t = service_->trace(f->bytes);
      ASSERT_TRUE(t.ok()) << t.status().to_string();
      ASSERT_TRUE(t->download.has_value()) << t->problem;
      EXPECT_EQ(t->download->id, f->record.id);
      EXPECT_EQ(t->download->user_id, f->record.user_id);
    }
    EXPECT_EQ(ids.size(), 3u);
    if (format == "txt") {
      // Same document text underneath.
      EXPECT_EQ(strip_marks(a->bytes), strip_marks(b->bytes));
    }
  }
}

TEST_P(DownloadsTest, ReimportedDocumentDownloadsItsNewRevision) {
  commerce::Order order = buy(buyer_, notice_);
  gate::Viewer v = viewer(buyer_);
  Result<File> before = download(notice_, "txt", v);
  ASSERT_TRUE(before.ok()) << before.status().to_string();
  Result<File> before_docx = download(notice_, "docx", v);
  ASSERT_TRUE(before_docx.ok()) << before_docx.status().to_string();
  EXPECT_TRUE(contains(before->bytes, "二十六摄氏度"));
  EXPECT_EQ(before->record.revision, 1);

  clock_.advance(120);
  library::ImportOptions io;
  io.price = Fen(600);
  io.category = "通知公告";
  library::ImportLine line = library_->import_bytes(kNoticeRevised, "notice.txt", io);
  ASSERT_TRUE(line.ok) << line.error;
  ASSERT_EQ(line.id, notice_);
  ASSERT_EQ(line.outcome, store::PutOutcome::kUpdated);

  Result<File> after = download(notice_, "txt", v);
  ASSERT_TRUE(after.ok()) << after.status().to_string();
  EXPECT_EQ(after->record.revision, 2);
  EXPECT_EQ(after->record.order_id, order.id);
  const std::string text = strip_marks(after->bytes);
  EXPECT_TRUE(contains(text, "二十七摄氏度")) << text;
  EXPECT_TRUE(contains(text, "食堂燃气灶具每季度由专业机构检修一次")) << text;
  EXPECT_FALSE(contains(text, "二十六摄氏度")) << text;
  EXPECT_FALSE(contains(text, "确需打印的材料原则上双面使用再生纸")) << text;

  Result<File> after_docx = download(notice_, "docx", v);
  ASSERT_TRUE(after_docx.ok()) << after_docx.status().to_string();
  EXPECT_NE(after_docx->bytes, before_docx->bytes);
  Result<TraceReport> t = service_->trace(after_docx->bytes);
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(t->download.has_value()) << t->problem;
  EXPECT_EQ(t->download->revision, 2);
  // The old file still names its own download and revision.
  Result<TraceReport> old = service_->trace(before->bytes);
  ASSERT_TRUE(old.ok());
  ASSERT_TRUE(old->download.has_value());
  EXPECT_EQ(old->download->id, before->record.id);
  EXPECT_EQ(old->download->revision, 1);
}

PAIDOC_ON_EVERY_BACKEND(DownloadsTest);

TEST(DayStart, IsMidnightChinaStandardTime) {
  // 2026-03-02 10:00 CST -> 2026-03-02 00:00 CST (2026-03-01 16:00 UTC).
  EXPECT_EQ(day_start(kStart), kStart - 10 * 3600);
  // 2026-03-02 07:59:59 CST (23:59:59 UTC the day before) is still 2 March.
  EXPECT_EQ(day_start(kStart - 2 * 3600 - 1), kStart - 10 * 3600);
  // 2026-03-01 23:59:59 CST belongs to 1 March.
  EXPECT_EQ(day_start(kStart - 10 * 3600 - 1), kStart - 10 * 3600 - kDay);
  EXPECT_EQ(day_start(kStart - 10 * 3600), kStart - 10 * 3600);
}

}  // namespace
}  // namespace paidoc::downloads
