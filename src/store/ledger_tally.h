// LedgerTally: the part of the ledger audit that adds money up, in checked
// int64 arithmetic. A backend's ledger_audit() feeds it every ledger row and
// every order of its read snapshot; it reports amounts beyond kMaxAmount
// and sums that overflow int64 as LedgerProblems naming the row, the
// account, the transaction or the order and its document.
//
// Why: the audit's other checks sum in SQL, which cannot be trusted with
// such amounts (SQLite's sum() stops with "integer overflow"; PostgreSQL's
// sum(bigint) answers a numeric that no longer fits when read back). When
// every amount is within ±kMaxAmount (1e9 fen), no sum of fewer than 9e9
// rows can overflow, so those checks are safe to run; when the tally finds
// a problem they are not run (LedgerAudit::sums_checked is false).
//
// Not thread-safe; one per audit.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "store/commerce.h"

namespace paidoc::store {

class LedgerTally {
 public:
  // One ledger row, in any order.
  void add_entry(int64_t row_id, int64_t txn_id, std::string_view account, int64_t amount_fen);
  // One order: its amount must be 1..kMaxAmount, its credited amount
  // 0..kMaxAmount. document_id 0: not a document order.
  void add_order(int64_t order_id, int64_t document_id, int64_t amount_fen, int64_t credited_fen);

  // What was found, rows and orders first, then the sums that overflow
  // (accounts by name, transactions by id). Empty: every amount is within
  // range and every account's and transaction's sum fits in int64.
  std::vector<LedgerProblem> problems() const;

 private:
  struct Sum {
    int64_t value = 0;
    bool overflowed = false;
    int64_t first_row = 0;  // the row at which it first overflowed
  };
  static void add(Sum& s, int64_t amount, int64_t row_id);

  std::vector<LedgerProblem> amounts_;
  std::map<std::string, Sum, std::less<>> accounts_;
  std::map<int64_t, Sum> txns_;
};

}  // namespace paidoc::store
