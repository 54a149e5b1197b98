#include "store/ledger_tally.h"

#include <fmt/format.h>

#include "common/money.h"

namespace paidoc::store {

void LedgerTally::add(Sum& s, int64_t amount, int64_t row_id) {
  if (s.overflowed) return;
  std::optional<Fen> next = Fen(s.value).checked_add(Fen(amount));
  if (!next) {
    s.overflowed = true;
    s.first_row = row_id;
    return;
  }
  s.value = next->value();
}

void LedgerTally::add_entry(int64_t row_id, int64_t txn_id, std::string_view account,
                            int64_t amount_fen) {
  if (amount_fen < -kMaxAmount.value() || amount_fen > kMaxAmount.value()) {
    amounts_.push_back({LedgerProblemKind::kEntryOutOfRange, row_id,
                        fmt::format("{} in txn {}", account, txn_id), kMaxAmount.value(),
                        amount_fen});
  }
  auto it = accounts_.find(account);
  if (it == accounts_.end()) it = accounts_.emplace(std::string(account), Sum{}).first;
  add(it->second, amount_fen, row_id);
  add(txns_[txn_id], amount_fen, row_id);
}

void LedgerTally::add_order(int64_t order_id, int64_t document_id, int64_t amount_fen,
                            int64_t credited_fen) {
  const std::string what = document_id != 0 ? fmt::format("document {}", document_id) : "";
  if (amount_fen <= 0 || amount_fen > kMaxAmount.value()) {
    amounts_.push_back(
        {LedgerProblemKind::kOrderOutOfRange, order_id, what, kMaxAmount.value(), amount_fen});
  }
  if (credited_fen < 0 || credited_fen > kMaxAmount.value()) {
    amounts_.push_back({LedgerProblemKind::kOrderOutOfRange, order_id,
                        what.empty() ? "credited" : what + ", credited", kMaxAmount.value(),
                        credited_fen});
  }
}

std::vector<LedgerProblem> LedgerTally::problems() const {
  std::vector<LedgerProblem> out = amounts_;
  for (const auto& [account, sum] : accounts_) {
    if (sum.overflowed)
      out.push_back({LedgerProblemKind::kSumOverflow, sum.first_row, "account " + account, 0, 0});
  }
  for (const auto& [txn, sum] : txns_) {
    if (sum.overflowed)
      out.push_back({LedgerProblemKind::kSumOverflow, sum.first_row, fmt::format("txn {}", txn), 0, 0});
  }
  return out;
}

}  // namespace paidoc::store
