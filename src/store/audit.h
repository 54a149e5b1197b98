// AuditStore: the audit log — an append-only record of who changed what and
// when (documents, prices, categories, roles, disabled accounts, refunds,
// wallet credits).
//
// Entries are never changed or removed: there is no method to do so, and
// the SQLite table refuses UPDATE and DELETE with a trigger. Where a change
// is one store method, its audited variant below writes the change and its
// entry in the same transaction, so an entry exists exactly when the change
// happened.
//
// Ownership, errors and thread-safety as in documents.h. Times are unix
// seconds the caller passes (`at`); the store reads no clock.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/money.h"
#include "common/status.h"
#include "store/commerce.h"
#include "store/enums.h"

namespace paidoc::store {

// The actions recorded; the strings are the stored values and the filter
// values of /admin/audit (a promise).
namespace audit_action {
inline constexpr char kDocumentCreate[] = "document.create";
inline constexpr char kDocumentUpdate[] = "document.update";
inline constexpr char kDocumentDelete[] = "document.delete";
inline constexpr char kDocumentPrice[] = "document.price";
inline constexpr char kDocumentCategory[] = "document.category";
inline constexpr char kDocumentPublish[] = "document.publish";
inline constexpr char kDocumentUnpublish[] = "document.unpublish";
inline constexpr char kDocumentRestore[] = "document.restore";
inline constexpr char kDocumentTags[] = "document.tags";
inline constexpr char kUserRole[] = "user.role";
inline constexpr char kUserDisable[] = "user.disable";
inline constexpr char kUserEnable[] = "user.enable";
// A password set through a reset link (password_resets.h): the account's
// own change, actor its email; details {}.
inline constexpr char kUserPasswordReset[] = "user.password_reset";
inline constexpr char kOrderRefund[] = "order.refund";
inline constexpr char kWalletCredit[] = "wallet.credit";
// Categories and tags (taxonomy.h): details {"name": …}; a rename
// {"name": {"from", "to"}}; a move {"name", "position": {"from", "to"}}.
inline constexpr char kCategoryCreate[] = "category.create";
inline constexpr char kCategoryRename[] = "category.rename";
inline constexpr char kCategoryMove[] = "category.move";
inline constexpr char kCategoryDelete[] = "category.delete";
inline constexpr char kTagCreate[] = "tag.create";
inline constexpr char kTagRename[] = "tag.rename";
inline constexpr char kTagMove[] = "tag.move";
inline constexpr char kTagDelete[] = "tag.delete";
}  // namespace audit_action

// Who made a change, as services receive it. user_id 0 with a label
// "cli:<os user>" is the command line; an empty label records nothing.
struct AuditActor {
  int64_t user_id = 0;
  std::string label;  // the admin's email, or "cli:<os user>"
  std::string ip;     // the client address for a change made on the web
};

struct AuditEntry {
  int64_t id = 0;  // assigned by append
  int64_t at = 0;  // unix seconds
  int64_t actor_user_id = 0;  // 0: the command line
  std::string actor;          // REQUIRES: non-empty
  std::string action;         // one of audit_action; REQUIRES: non-empty
  std::string target_kind;    // "document", "user", "order", "wallet", "category", "tag"
  int64_t target_id = 0;
  std::string details;  // a JSON object: old and new values
  std::string ip;       // "" unless from the web
};

struct AuditQuery {
  std::string actor;        // exact actor label; "" any
  std::string action;       // exact action; "" any
  std::string target_kind;  // "" any
  int64_t target_id = 0;    // 0 any
  int64_t from = 0;         // at >= from; 0: no lower bound
  int64_t to = 0;           // at < to; 0: no upper bound
  int64_t offset = 0;       // REQUIRES: >= 0
  int64_t limit = 50;       // REQUIRES: 1..10000
};

struct AuditPage {
  std::vector<AuditEntry> items;  // newest (at, id) first
  int64_t total = 0;              // matching entries in all pages
};

class AuditStore {
 public:
  virtual ~AuditStore() = default;

  // Appends e (id assigned and returned). kInvalidArgument for an empty
  // actor or action, or details that are not a JSON object.
  virtual Result<int64_t> append(const AuditEntry& e) = 0;
  // kInvalidArgument for a limit outside 1..10000 or a negative offset.
  virtual Result<AuditPage> list(const AuditQuery& q) = 0;

  // Audited writes: each does what the method it names does (same
  // refusals) and appends `e` in the same transaction; a refused change
  // appends nothing.
  virtual Status set_user_role_audited(int64_t user_id, Role role, const AuditEntry& e) = 0;
  // Appends `e` only when the state changed (the answer is true).
  virtual Result<bool> set_user_disabled_audited(int64_t user_id, bool disabled, int64_t now,
                                                 const AuditEntry& e) = 0;
  virtual Result<Order> refund_order_audited(int64_t order_id, bool to_wallet,
                                             const std::string& note, const std::string& actor,
                                             int64_t now, const AuditEntry& e) = 0;
  virtual Result<StartedRefund> refund_to_provider_audited(const ProviderRefundStart& r,
                                                           const AuditEntry& e) = 0;
  virtual Result<Fen> credit_wallet_audited(int64_t user_id, Fen amount, const std::string& note,
                                            const std::string& actor, int64_t now,
                                            const AuditEntry& e) = 0;
};

}  // namespace paidoc::store
