#include "commerce/reconcile.h"

#include <iconv.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <utility>

#include <fmt/format.h>

namespace paidoc::commerce::reconcile {

namespace {

constexpr int64_t kBeijingOffset = 8 * 3600;

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

// The statement as UTF-8: as is (without a BOM) when it already is, else
// converted from GB18030 (a superset of GBK, what the consoles download).
Result<std::string> to_utf8(std::string_view bytes, const std::string& file) {
  if (bytes.substr(0, 3) == "\xEF\xBB\xBF") bytes.remove_prefix(3);
  if (valid_utf8(bytes)) return std::string(bytes);
  iconv_t cd = iconv_open("UTF-8", "GB18030");
  if (cd == reinterpret_cast<iconv_t>(-1))
    return Status::internal(fmt::format("{}: cannot convert from GBK (iconv has no GB18030)", file));
  std::string out(bytes.size() * 2 + 16, '\0');
  char* in = const_cast<char*>(bytes.data());
  size_t in_left = bytes.size();
  char* o = out.data();
  size_t out_left = out.size();
  size_t r = iconv(cd, &in, &in_left, &o, &out_left);
  int e = errno;
  iconv_close(cd);
  if (r == static_cast<size_t>(-1)) {
    size_t at = bytes.size() - in_left;
    int line = 1 + static_cast<int>(std::count(bytes.begin(), bytes.begin() + static_cast<long>(at), '\n'));
    return Status::invalid(fmt::format("{}:{}: neither UTF-8 nor GBK text ({})", file, line,
                                       e == E2BIG ? "too long" : "invalid byte sequence"));
  }
  out.resize(out.size() - out_left);
  return out;
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view l = text.substr(pos, nl - pos);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    lines.push_back(l);
    if (nl == text.size()) break;
    pos = nl + 1;
  }
  return lines;
}

// Spaces, tabs and the backtick WeChat puts before every value (so that
// spreadsheets keep long numbers as text).
std::string clean(std::string_view f) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!f.empty() && space(f.front())) f.remove_prefix(1);
  while (!f.empty() && space(f.back())) f.remove_suffix(1);
  if (!f.empty() && f.front() == '`') f.remove_prefix(1);
  while (!f.empty() && space(f.front())) f.remove_prefix(1);
  return std::string(f);
}

// One CSV line: fields split at commas, double quotes around a field (with
// "" inside) honoured. nullopt for an unterminated quote.
std::optional<std::vector<std::string>> split_csv(std::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.push_back(clean(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (quoted) return std::nullopt;
  out.push_back(clean(cur));
  return out;
}

// Column names compared with full-width parentheses made ASCII.
std::string normalize_name(std::string s) {
  for (auto [from, to] : {std::pair<std::string, std::string>{"（", "("}, {"）", ")"}}) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at)) s.replace(at, from.size(), to);
  }
  return s;
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// The numbers of a Beijing time, whatever separates them:
// "2026-03-01 10:00:00", "2026/3/1 10:00:00", "2026年03月01日 10:00:00".
// nullopt unless it holds 6 numbers (or 3: a date at midnight) that make a
// real time.
std::optional<int64_t> parse_beijing_time(std::string_view text) {
  std::vector<int64_t> n;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] >= '0' && text[i] <= '9') {
      int64_t v = 0;
      size_t digits = 0;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9' && digits < 5) v = v * 10 + (text[i++] - '0'), ++digits;
      if (digits >= 5) return std::nullopt;
      n.push_back(v);
    } else {
      ++i;
    }
  }
  if (n.size() == 3) n.insert(n.end(), {0, 0, 0});
  if (n.size() != 6) return std::nullopt;
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int64_t y = n[0], m = n[1], d = n[2];
  if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1) return std::nullopt;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > kDays[m - 1] + (m == 2 && leap ? 1 : 0)) return std::nullopt;
  if (n[3] > 23 || n[4] > 59 || n[5] > 59) return std::nullopt;
  return days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d)) * 86400 + n[3] * 3600 +
         n[4] * 60 + n[5] - kBeijingOffset;
}

// Start of the Beijing day holding t.
int64_t beijing_day_start(int64_t t) {
  int64_t local = t + kBeijingOffset;
  int64_t day = local >= 0 ? local / 86400 : (local - 86399) / 86400;
  return day * 86400 - kBeijingOffset;
}

// A signed yuan amount: "9.90", "-9.90", "+1".
Result<std::pair<bool, Fen>> parse_signed_yuan(std::string_view text) {
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  Result<Fen> f = Fen::parse_yuan(text);
  if (!f.ok()) return f.status();
  return std::make_pair(negative, *f);
}

// A statement's table: the header row's columns by name, and messages that
// name file, line and column.
class Table {
 public:
  Table(std::string file, std::vector<std::string> header, int header_line)
      : file_(std::move(file)), header_(std::move(header)), header_line_(header_line) {
    for (size_t i = 0; i < header_.size(); ++i) index_[normalize_name(header_[i])] = i;
  }

  Status bad(int line, const std::string& column, const std::string& what) const {
    if (column.empty()) return Status::invalid(fmt::format("{}:{}: {}", file_, line, what));
    return Status::invalid(fmt::format("{}:{}: column {}: {}", file_, line, column, what));
  }

  // The index of a required column; an error naming the header line.
  Result<size_t> column(const std::string& name) const {
    auto it = index_.find(normalize_name(name));
    if (it == index_.end()) return bad(header_line_, name, "missing from the header row");
    return it->second;
  }
  std::optional<size_t> optional_column(const std::string& name) const {
    auto it = index_.find(normalize_name(name));
    if (it == index_.end()) return std::nullopt;
    return it->second;
  }

  const std::vector<std::string>& header() const { return header_; }
  size_t size() const { return header_.size(); }

  Result<Fen> amount(const std::vector<std::string>& row, size_t col, int line, bool* negative) const {
    Result<std::pair<bool, Fen>> a = parse_signed_yuan(row[col]);
    if (!a.ok()) return bad(line, header_[col], a.status().message());
    if (negative) *negative = a->first;
    return a->second;
  }
  Result<int64_t> time(const std::vector<std::string>& row, size_t col, int line) const {
    std::optional<int64_t> t = parse_beijing_time(row[col]);
    if (!t) return bad(line, header_[col], fmt::format("'{}' is not a time like 2026-03-01 10:00:00", row[col]));
    return *t;
  }

 private:
  std::string file_;
  std::vector<std::string> header_;
  int header_line_;
  std::map<std::string, size_t> index_;
};

// Splits one data row; an error when its field count differs from the
// header's (trailing empty fields aside).
Result<std::vector<std::string>> row_of(const Table& t, std::string_view line, int n) {
  std::optional<std::vector<std::string>> row = split_csv(line);
  if (!row) return t.bad(n, "", "unterminated quote");
  while (row->size() > t.size() && row->back().empty()) row->pop_back();
  if (row->size() != t.size())
    return t.bad(n, "", fmt::format("{} fields, the header row has {}", row->size(), t.size()));
  return *row;
}

bool blank(std::string_view l) {
  for (char c : l)
    if (c != ' ' && c != '\t' && c != ',') return false;
  return true;
}

void period_from_rows(Statement& s) {
  if (s.from != 0 || s.entries.empty()) return;
  int64_t lo = s.entries.front().time, hi = lo;
  for (const auto& e : s.entries) lo = std::min(lo, e.time), hi = std::max(hi, e.time);
  s.from = beijing_day_start(lo);
  s.to = beijing_day_start(hi) + 86400;
}

// The bracketed time after `label` in an Alipay comment line, e.g.
// "#起始日期：[2026年03月01日 00:00:00]".
std::optional<int64_t> bracketed_time_after(std::string_view line, std::string_view label) {
  size_t at = line.find(label);
  if (at == std::string_view::npos) return std::nullopt;
  size_t open = line.find('[', at);
  size_t close = open == std::string_view::npos ? open : line.find(']', open);
  if (close == std::string_view::npos) return std::nullopt;
  return parse_beijing_time(line.substr(open + 1, close - open - 1));
}

}  // namespace

const char* difference_name(Difference::Kind k) {
  switch (k) {
    case Difference::Kind::kPaidThereNotHere: return "paid-there-not-here";
    case Difference::Kind::kUnknownOrder: return "unknown-order";
    case Difference::Kind::kPaidHereNotThere: return "paid-here-not-there";
    case Difference::Kind::kAmount: return "amount";
    case Difference::Kind::kRefundedThereNotHere: return "refunded-there-not-here";
    case Difference::Kind::kRefundedHereNotThere: return "refunded-here-not-there";
    case Difference::Kind::kRefundAmount: return "refund-amount";
  }
  return "?";
}

Result<Statement> parse_alipay(std::string_view bytes, const std::string& file) {
  Result<std::string> text = to_utf8(bytes, file);
  if (!text.ok()) return text.status();
  Statement s;
  s.provider = "alipay";
  std::optional<Table> table;
  size_t c_trade = 0, c_out = 0, c_type = 0, c_done = 0, c_created = 0, c_total = 0, c_received = 0;
  std::optional<size_t> c_refund_no;
  std::optional<int64_t> from, to;
  int n = 0;
  for (std::string_view line : lines_of(*text)) {
    ++n;
    if (!line.empty() && line.front() == '#') {
      if (!from) from = bracketed_time_after(line, "起始日期");
      if (!to) to = bracketed_time_after(line, "终止日期");
      continue;
    }
    if (blank(line)) continue;
    if (!table) {
      std::optional<std::vector<std::string>> header = split_csv(line);
      if (!header) return Status::invalid(fmt::format("{}:{}: unterminated quote in the header row", file, n));
      table.emplace(file, *header, n);
      for (auto [name, out] : {std::pair<const char*, size_t*>{"支付宝交易号", &c_trade},
                               {"商户订单号", &c_out},
                               {"业务类型", &c_type},
                               {"完成时间", &c_done},
                               {"创建时间", &c_created},
                               {"订单金额（元）", &c_total},
                               {"商家实收（元）", &c_received}}) {
        Result<size_t> c = table->column(name);
        if (!c.ok()) return c.status();
        *out = *c;
      }
      c_refund_no = table->optional_column("退款批次号/请求号");
      continue;
    }
    Result<std::vector<std::string>> row = row_of(*table, line, n);
    if (!row.ok()) return row.status();
    const auto& r = *row;
    Entry e;
    e.line = n;
    e.out_trade_no = r[c_out];
    e.transaction_id = r[c_trade];
    if (e.out_trade_no.empty()) return table->bad(n, "商户订单号", "empty");
    const std::string& type = r[c_type];
    if (type == "交易") {
      e.kind = Entry::Kind::kPayment;
      Result<Fen> a = table->amount(r, c_total, n, nullptr);
      if (!a.ok()) return a.status();
      e.amount = *a;
    } else if (type == "退款") {
      e.kind = Entry::Kind::kRefund;
      // A refund row shows what left the merchant as a negative 商家实收;
      // 订单金额 when that is 0 (the refund was of money not received).
      Result<Fen> a = table->amount(r, c_received, n, nullptr);
      if (!a.ok()) return a.status();
      e.amount = *a;
      if (e.amount.value() == 0) {
        Result<Fen> t = table->amount(r, c_total, n, nullptr);
        if (!t.ok()) return t.status();
        e.amount = *t;
      }
      if (c_refund_no) e.out_refund_no = r[*c_refund_no];
    } else {
      return table->bad(n, "业务类型", fmt::format("'{}' is neither 交易 nor 退款", type));
    }
    size_t tc = r[c_done].empty() ? c_created : c_done;
    Result<int64_t> t = table->time(r, tc, n);
    if (!t.ok()) return t.status();
    e.time = *t;
    s.entries.push_back(std::move(e));
  }
  if (!table) return Status::invalid(fmt::format("{}: no header row (支付宝交易号,商户订单号,…)", file));
  if (from && to && *to > *from) {
    s.from = *from;
    s.to = *to;
  }
  period_from_rows(s);
  return s;
}

Result<Statement> parse_wechat(std::string_view bytes, const std::string& file) {
  Result<std::string> text = to_utf8(bytes, file);
  if (!text.ok()) return text.status();
  Statement s;
  s.provider = "wechat";
  std::optional<Table> table;
  size_t c_time = 0, c_txn = 0, c_out = 0, c_state = 0, c_refund_id = 0, c_refund_no = 0, c_refund = 0,
         c_refund_state = 0, c_total = 0;
  int n = 0;
  for (std::string_view line : lines_of(*text)) {
    ++n;
    if (blank(line)) continue;
    if (!table) {
      std::optional<std::vector<std::string>> header = split_csv(line);
      if (!header) return Status::invalid(fmt::format("{}:{}: unterminated quote in the header row", file, n));
      table.emplace(file, *header, n);
      for (auto [name, out] : {std::pair<const char*, size_t*>{"交易时间", &c_time},
                               {"微信订单号", &c_txn},
                               {"商户订单号", &c_out},
                               {"交易状态", &c_state},
                               {"微信退款单号", &c_refund_id},
                               {"商户退款单号", &c_refund_no},
                               {"退款金额", &c_refund},
                               {"退款状态", &c_refund_state},
                               {"订单金额", &c_total}}) {
        Result<size_t> c = table->column(name);
        if (!c.ok()) return c.status();
        *out = *c;
      }
      continue;
    }
    // The summary follows the rows: "总交易单数,应结订单总金额,…" and its values.
    if (clean(line.substr(0, line.find(','))) == "总交易单数") break;
    Result<std::vector<std::string>> row = row_of(*table, line, n);
    if (!row.ok()) return row.status();
    const auto& r = *row;
    Entry e;
    e.line = n;
    e.out_trade_no = r[c_out];
    e.transaction_id = r[c_txn];
    if (e.out_trade_no.empty()) return table->bad(n, "商户订单号", "empty");
    Result<int64_t> t = table->time(r, c_time, n);
    if (!t.ok()) return t.status();
    e.time = *t;
    const std::string& state = r[c_state];
    if (state == "SUCCESS") {
      e.kind = Entry::Kind::kPayment;
      Result<Fen> a = table->amount(r, c_total, n, nullptr);
      if (!a.ok()) return a.status();
      e.amount = *a;
    } else if (state == "REFUND") {
      e.kind = Entry::Kind::kRefund;
      Result<Fen> a = table->amount(r, c_refund, n, nullptr);
      if (!a.ok()) return a.status();
      e.amount = *a;
      e.refund_id = r[c_refund_id];
      e.out_refund_no = r[c_refund_no];
      const std::string& rs = r[c_refund_state];
      if (rs == "PROCESSING") {
        e.refund_pending = true;
      } else if (rs != "SUCCESS") {
        // FAIL / CHANGE / REFUNDCLOSE / ABNORMAL: no money went back.
        if (rs.empty()) return table->bad(n, "退款状态", "empty on a REFUND row");
        continue;
      }
    } else if (state == "REVOKED" || state == "CLOSED" || state == "NOTPAY" || state == "PAYERROR") {
      continue;  // no money moved
    } else {
      return table->bad(n, "交易状态", fmt::format("'{}' is not SUCCESS, REFUND or REVOKED", state));
    }
    s.entries.push_back(std::move(e));
  }
  if (!table) return Status::invalid(fmt::format("{}: no header row (交易时间,公众账号ID,…)", file));
  period_from_rows(s);
  return s;
}

Result<Statement> parse_statement(const std::string& provider, std::string_view bytes, const std::string& file) {
  if (provider == "alipay") return parse_alipay(bytes, file);
  if (provider == "wechat") return parse_wechat(bytes, file);
  return Status::invalid(fmt::format("--provider {}: expected alipay or wechat", provider));
}

Report compare(const Statement& st, const std::map<std::string, LocalOrder>& local,
               const std::vector<LocalOrder>& nearby) {
  Report rep;
  auto yuan = [](Fen f) { return "¥" + f.yuan_string(); };
  // Statement rows by order, in file order.
  std::map<std::string, std::vector<const Entry*>> by_order;
  std::set<std::string> refunds_there;  // refund numbers and ids in the statement
  for (const auto& e : st.entries) {
    by_order[e.out_trade_no].push_back(&e);
    if (e.kind == Entry::Kind::kPayment) {
      ++rep.payments;
    } else {
      ++rep.refunds;
      if (!e.out_refund_no.empty()) refunds_there.insert("no:" + e.out_refund_no);
      if (!e.refund_id.empty()) refunds_there.insert("id:" + e.refund_id);
    }
  }

  // Named references rather than a structured binding: the lambda below
  // captures them, which clang before 16 does not allow for bindings.
  for (const auto& order : by_order) {
    const auto& no = order.first;
    const auto& rows = order.second;
    const size_t before = rep.differences.size();
    auto add = [&](Difference::Kind k, int line, std::string what) {
      rep.differences.push_back({k, no, std::move(what), line});
    };
    auto it = local.find(no);
    if (it == local.end()) {
      for (const Entry* e : rows)
        add(Difference::Kind::kUnknownOrder, e->line,
            fmt::format("{} {} there (trade {}), no such order here",
                        e->kind == Entry::Kind::kPayment ? "paid" : "refund", yuan(e->amount), e->transaction_id));
      continue;
    }
    const LocalOrder& o = it->second;
    for (const Entry* e : rows) {
      if (e->kind == Entry::Kind::kPayment) {
        const bool paid_state = o.status == "paid" || o.status == "refunded" || o.status == "credited";
        const bool received = (paid_state && o.paid_with == st.provider) || o.credited.value() > 0;
        if (!received) {
          std::string here = "status " + o.status;
          if (!o.paid_with.empty()) here += ", paid with " + o.paid_with;
          add(Difference::Kind::kPaidThereNotHere, e->line,
              fmt::format("paid {} there (trade {}), here: {}", yuan(e->amount), e->transaction_id, here));
        }
        if (e->amount != o.amount)
          add(Difference::Kind::kAmount, e->line,
              fmt::format("amount there {}, here {}", yuan(e->amount), yuan(o.amount)));
        continue;
      }
      if (e->refund_pending) continue;
      const LocalRefund* match = nullptr;
      for (const auto& r : o.refunds) {
        if ((!e->out_refund_no.empty() && r.out_refund_no == e->out_refund_no) ||
            (!e->refund_id.empty() && r.refund_id == e->refund_id)) {
          match = &r;
          break;
        }
      }
      std::string label = e->out_refund_no.empty() ? e->refund_id : e->out_refund_no;
      if (!match || !match->succeeded) {
        add(Difference::Kind::kRefundedThereNotHere, e->line,
            fmt::format("refund {} {} there, here: {} (order {})", label, yuan(e->amount),
                        match ? "not confirmed" : "none", o.status));
      } else if (match->amount != e->amount) {
        add(Difference::Kind::kRefundAmount, e->line,
            fmt::format("refund {}: {} there, {} here", label, yuan(e->amount), yuan(match->amount)));
      }
    }
    if (rep.differences.size() == before) ++rep.matched;
  }

  if (st.to > st.from) {
    const int64_t from = st.from + kStartGrace;
    std::set<std::string> seen;
    for (const auto& o : nearby) {
      if (!seen.insert(o.out_trade_no).second) continue;
      auto rows = by_order.find(o.out_trade_no);
      bool paid_there = false;
      if (rows != by_order.end())
        for (const Entry* e : rows->second) paid_there = paid_there || e->kind == Entry::Kind::kPayment;
      const bool paid_state = o.status == "paid" || o.status == "refunded" || o.status == "credited";
      if (paid_state && o.paid_with == st.provider && o.paid_at >= from && o.paid_at < st.to && !paid_there)
        rep.differences.push_back({Difference::Kind::kPaidHereNotThere, o.out_trade_no,
                                   fmt::format("paid {} here with {}, not in the statement", yuan(o.amount),
                                               st.provider),
                                   0});
      for (const auto& r : o.refunds) {
        if (!r.succeeded || r.time < from || r.time >= st.to) continue;
        if ((!r.out_refund_no.empty() && refunds_there.count("no:" + r.out_refund_no)) ||
            (!r.refund_id.empty() && refunds_there.count("id:" + r.refund_id)))
          continue;
        rep.differences.push_back({Difference::Kind::kRefundedHereNotThere, o.out_trade_no,
                                   fmt::format("refund {} {} confirmed here, not in the statement",
                                               r.out_refund_no, yuan(r.amount)),
                                   0});
      }
    }
  }
  std::stable_sort(rep.differences.begin(), rep.differences.end(), [](const Difference& a, const Difference& b) {
    return a.out_trade_no < b.out_trade_no;
  });
  return rep;
}

}  // namespace paidoc::commerce::reconcile
