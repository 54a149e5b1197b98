// fuzz_search_query: what a reader types into search. Each input is a query
// for search::clean_query and search::parse_query, and then a search over a
// small library (a temporary SQLite store, made once) as an anonymous
// reader and as a buyer. Checks:
//
//   - clean_query leaves no control character and changes nothing else;
//   - parse_query gives at most kMaxTerms terms and exclusions, each valid
//     UTF-8 without control characters, and reading its to_string() again
//     gives the same query;
//   - the search never fails (a store error would be a 500), and what an
//     anonymous reader gets back (titles, snippets) holds no character of
//     the paid parts: the paid text below is written in characters that
//     appear nowhere in the free text or the titles.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "document_checks.h"
#include "library/library.h"
#include "search/clean.h"
#include "search/search.h"
#include "temp_store.h"
#include "text/text.h"

namespace {

using paidoc::fuzz::check;

// Free text and titles: none of the characters of kPaidOnly.
constexpr std::string_view kNotice =
    "社区图书室开放时间通知\n"
    "社区图书室自下月起延长开放时间，周末也对居民开放。\n"
    "##paidbegin##\n"
    "一、甲乙丙丁\n"
    "戊己庚辛壬癸，子丑寅卯辰巳午未。\n"
    "##paidend##\n"
    "欢迎居民前来借阅 library books.\n";
constexpr std::string_view kPlan =
    "年度工作计划\n"
    "本年度的工作重点是读书会和社区活动。\n"
    "$$paidbegin$$申酉戌亥，甲子乙丑丙寅。$$paidend$$\n";
// Every character that is only in the paid parts.
constexpr std::string_view kPaidOnly = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥";

struct World {
  std::unique_ptr<paidoc::store::Store> store;
  std::unique_ptr<paidoc::library::Library> library;
  std::unique_ptr<paidoc::search::Searcher> searcher;
  int64_t notice_id = 0;
};
World* world = nullptr;

bool has_control(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(s[i + 1]) <= 0x9F)
      return true;
  }
  return false;
}

// Whether `shown` holds one of the paid-only characters (3-byte UTF-8 each).
bool shows_paid(std::string_view shown) {
  for (size_t i = 0; i + 3 <= kPaidOnly.size(); i += 3)
    if (shown.find(kPaidOnly.substr(i, 3)) != std::string_view::npos) return true;
  return false;
}

void check_query(const paidoc::search::Query& q) {
  check(q.terms.size() <= paidoc::search::kMaxTerms, "too many terms");
  check(q.excluded.size() <= paidoc::search::kMaxTerms, "too many exclusions");
  check(!q.terms.empty() || q.excluded.empty(), "exclusions without terms");
  for (const auto* list : {&q.terms, &q.excluded}) {
    for (const auto& t : *list) {
      check(!t.text.empty(), "empty term");
      check(paidoc::text::valid_utf8(t.text), "term is not UTF-8", t.text);
      check(!has_control(t.text), "control character in a term", t.text);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  paidoc::Status s = paidoc::text::init();
  check(s.is_ok(), "text::init", s.to_string());
  world = new World;
  world->store = paidoc::fuzz::open_temp_store();
  world->library = std::make_unique<paidoc::library::Library>(*world->store);
  paidoc::library::ImportOptions o;
  o.price = paidoc::Fen(800);
  auto a = world->library->import_bytes(kNotice, "notice.txt", o);
  auto b = world->library->import_bytes(kPlan, "plan.txt", o);
  check(a.ok && b.ok, "import", a.error + b.error);
  world->notice_id = a.id;
  world->searcher = std::make_unique<paidoc::search::Searcher>(*world->store, *world->library);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view q(reinterpret_cast<const char*>(data), size);

  const std::string cleaned = paidoc::search::clean_query(q);
  check(!has_control(cleaned), "clean_query left a control character");
  check(cleaned.size() <= q.size(), "clean_query grew the text");

  const paidoc::search::Query parsed = paidoc::search::parse_query(q);
  check_query(parsed);
  const paidoc::search::Query again = paidoc::search::parse_query(parsed.to_string());
  check(again.terms == parsed.terms && again.excluded == parsed.excluded,
        "parse_query(to_string()) differs", parsed.to_string());

  if (size > 512) return 0;  // the search itself: short queries are enough
  paidoc::search::Request req;
  req.q = std::string(q);
  for (int who = 0; who < 2; ++who) {
    paidoc::gate::Viewer viewer = paidoc::gate::Viewer::anonymous();
    if (who == 1) {
      viewer.user_id = 7;
      viewer.role = paidoc::gate::Role::kReader;
      viewer.purchased = {world->notice_id};
    }
    auto r = world->searcher->search(req, viewer);
    check(r.ok(), "search failed", r.ok() ? "" : r.status().to_string());
    check_query(r->query);
    for (const auto& hit : r->hits) {
      if (who == 0) {
        check(!hit.snippet_from_paid, "anonymous snippet from the paid part");
        check(!shows_paid(hit.title_html()), "LEAK: paid text in a title", hit.title_html());
        check(!shows_paid(hit.snippet_text()), "LEAK: paid text in a snippet", hit.snippet_text());
      }
      // The marked snippet is the plain one with <mark> around matches.
      std::string joined;
      for (const auto& s : hit.snippet) joined += s.text;
      check(joined == hit.snippet_text(), "snippet spans differ from snippet_text");
      check(paidoc::text::valid_utf8(joined), "snippet is not UTF-8", joined);
    }
  }
  return 0;
}
