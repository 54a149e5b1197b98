// A store::Store that passes every call on to another store. Tests derive
// from it and override the calls they want to slow down, block or fail (a
// fault-injecting wrapper, as leveldb's SpecialEnv is for its Env).
// Header-only, for tests/web.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "store/store.h"

namespace paidoc::web::testing {

class ForwardingStore : public store::Store {
 public:
  // REQUIRES: inner outlives this store.
  explicit ForwardingStore(store::Store& inner) : inner_(inner) {}

  Result<int> schema_version() override { return inner_.schema_version(); }
  Result<std::unique_ptr<store::ExclusiveHold>> try_exclusive(const std::string& a0) override { return inner_.try_exclusive(a0); }
  bool shared_by_nodes() const override { return inner_.shared_by_nodes(); }
  Result<store::PutResult> put_document(const store::NewDocument& a0, int64_t a1) override { return inner_.put_document(a0, a1); }
  Result<std::vector<Result<store::PutResult>>> put_documents(const std::vector<store::NewDocument>& a0, int64_t a1) override { return inner_.put_documents(a0, a1); }
  Result<store::StoredDocument> get_document(int64_t a0) override { return inner_.get_document(a0); }
  Result<int64_t> document_revision(int64_t a0) override { return inner_.document_revision(a0); }
  Result<store::ListPage> list_documents(const store::ListQuery& a0) override { return inner_.list_documents(a0); }
  Result<std::vector<store::Category>> list_categories() override { return inner_.list_categories(); }
  Result<int64_t> count_documents() override { return inner_.count_documents(); }
  Result<store::PutResult> save_document(const store::DocumentEdit& a0, int64_t a1) override { return inner_.save_document(a0, a1); }
  Result<int64_t> bulk_update_documents(const std::vector<int64_t>& a0, const store::BulkChange& a1, std::optional<int64_t> a2, const store::AuditActor& a3, int64_t a4) override { return inner_.bulk_update_documents(a0, a1, a2, a3, a4); }
  Result<std::vector<store::DocumentRevision>> document_revisions(int64_t a0) override { return inner_.document_revisions(a0); }
  Result<store::DocumentRevision> get_document_revision(int64_t a0, int64_t a1) override { return inner_.get_document_revision(a0, a1); }
  Result<store::SearchPage> search(const store::SearchQuery& a0) override { return inner_.search(a0); }
  Result<int64_t> search_count(const store::SearchQuery& a0) override { return inner_.search_count(a0); }
  Result<store::User> create_user(const store::NewUser& a0, int64_t a1) override { return inner_.create_user(a0, a1); }
  Result<store::User> find_user_by_email(const std::string& a0) override { return inner_.find_user_by_email(a0); }
  Result<store::User> get_user(int64_t a0) override { return inner_.get_user(a0); }
  Result<std::vector<store::User>> list_users(int64_t a0, int64_t a1) override { return inner_.list_users(a0, a1); }
  Status set_user_role(int64_t a0, store::Role a1) override { return inner_.set_user_role(a0, a1); }
  Result<store::UserPage> search_users(const std::string& a0, int64_t a1, int64_t a2) override { return inner_.search_users(a0, a1, a2); }
  Result<bool> set_user_disabled(int64_t a0, bool a1, int64_t a2) override { return inner_.set_user_disabled(a0, a1, a2); }
  Status set_password_hash(int64_t a0, const std::string& a1, int64_t a2) override { return inner_.set_password_hash(a0, a1, a2); }
  Result<store::PasswordReset> create_password_reset(const store::PasswordReset& a0) override { return inner_.create_password_reset(a0); }
  Result<store::PasswordReset> find_password_reset(const std::string& a0) override { return inner_.find_password_reset(a0); }
  Result<int64_t> complete_password_reset(const std::string& a0, const std::string& a1, int64_t a2, const store::AuditEntry& a3) override { return inner_.complete_password_reset(a0, a1, a2, a3); }
  Status delete_user(int64_t a0, int64_t a1) override { return inner_.delete_user(a0, a1); }
  Result<store::Session> create_session(const store::Session& a0, int64_t a1) override { return inner_.create_session(a0, a1); }
  Result<store::Session> find_session(const std::string& a0) override { return inner_.find_session(a0); }
  Status touch_session(int64_t a0, int64_t a1) override { return inner_.touch_session(a0, a1); }
  Status delete_session(int64_t a0) override { return inner_.delete_session(a0); }
  Status delete_user_sessions(int64_t a0, int64_t a1) override { return inner_.delete_user_sessions(a0, a1); }
  Result<std::vector<store::Session>> list_sessions(int64_t a0) override { return inner_.list_sessions(a0); }
  Result<int64_t> delete_expired_sessions(int64_t a0) override { return inner_.delete_expired_sessions(a0); }
  Result<store::Throttle> get_throttle(const std::string& a0) override { return inner_.get_throttle(a0); }
  Status put_throttle(const store::Throttle& a0) override { return inner_.put_throttle(a0); }
  Result<store::ThrottleHit> hit_throttles(const std::vector<store::ThrottleRule>& a0, int64_t a1) override { return inner_.hit_throttles(a0, a1); }
  Status undo_throttle_hit(const std::string& a0) override { return inner_.undo_throttle_hit(a0); }
  Status clear_throttle(const std::string& a0) override { return inner_.clear_throttle(a0); }
  Result<store::Order> create_order(const store::NewOrder& a0) override { return inner_.create_order(a0); }
  Result<store::Order> open_order(const store::NewOrder& a0, int64_t a1) override { return inner_.open_order(a0, a1); }
  Result<store::Order> get_order(int64_t a0) override { return inner_.get_order(a0); }
  Result<store::Order> find_order(const std::string& a0) override { return inner_.find_order(a0); }
  Result<std::vector<store::Order>> user_orders(int64_t a0, int64_t a1) override { return inner_.user_orders(a0, a1); }
  Result<std::vector<store::Order>> orders_between(int64_t a0, int64_t a1) override { return inner_.orders_between(a0, a1); }
  Result<store::OrderPage> list_orders(const store::OrderQuery& a0) override { return inner_.list_orders(a0); }
  Result<store::Order> pay_order_from_wallet(int64_t a0, int64_t a1, int64_t a2) override { return inner_.pay_order_from_wallet(a0, a1, a2); }
  Result<store::Order> buy_from_wallet(const store::NewOrder& a0, int64_t a1) override { return inner_.buy_from_wallet(a0, a1); }
  Result<store::AppliedPayment> apply_payment(const store::PaymentNotice& a0) override { return inner_.apply_payment(a0); }
  Result<int64_t> expire_orders(int64_t a0) override { return inner_.expire_orders(a0); }
  Result<store::Order> refund_order(int64_t a0, bool a1, const std::string& a2, const std::string& a3, int64_t a4) override { return inner_.refund_order(a0, a1, a2, a3, a4); }
  Result<Fen> credit_wallet(int64_t a0, Fen a1, const std::string& a2, const std::string& a3, int64_t a4) override { return inner_.credit_wallet(a0, a1, a2, a3, a4); }
  Result<int64_t> append(const store::AuditEntry& a0) override { return inner_.append(a0); }
  Result<store::AuditPage> list(const store::AuditQuery& a0) override { return inner_.list(a0); }
  Status set_user_role_audited(int64_t a0, store::Role a1, const store::AuditEntry& a2) override { return inner_.set_user_role_audited(a0, a1, a2); }
  Result<bool> set_user_disabled_audited(int64_t a0, bool a1, int64_t a2, const store::AuditEntry& a3) override { return inner_.set_user_disabled_audited(a0, a1, a2, a3); }
  Result<store::Order> refund_order_audited(int64_t a0, bool a1, const std::string& a2, const std::string& a3, int64_t a4, const store::AuditEntry& a5) override { return inner_.refund_order_audited(a0, a1, a2, a3, a4, a5); }
  Result<store::StartedRefund> refund_to_provider_audited(const store::ProviderRefundStart& a0, const store::AuditEntry& a1) override { return inner_.refund_to_provider_audited(a0, a1); }
  Result<Fen> credit_wallet_audited(int64_t a0, Fen a1, const std::string& a2, const std::string& a3, int64_t a4, const store::AuditEntry& a5) override { return inner_.credit_wallet_audited(a0, a1, a2, a3, a4, a5); }
  Result<Fen> wallet_balance(int64_t a0) override { return inner_.wallet_balance(a0); }
  Result<store::UserEntitlements> user_entitlements(int64_t a0) override { return inner_.user_entitlements(a0); }
  Result<store::LedgerAudit> ledger_audit() override { return inner_.ledger_audit(); }
  Result<store::StartedRefund> refund_to_provider(const store::ProviderRefundStart& a0) override { return inner_.refund_to_provider(a0); }
  Result<store::AppliedRefund> apply_refund(const store::RefundNotice& a0) override { return inner_.apply_refund(a0); }
  Result<std::vector<store::Refund>> order_refunds(int64_t a0) override { return inner_.order_refunds(a0); }
  Result<std::vector<store::Refund>> pending_refunds(int64_t a0) override { return inner_.pending_refunds(a0); }
  Status touch_refund(int64_t a0, const std::string& a1, int64_t a2) override { return inner_.touch_refund(a0, a1, a2); }
  Status record_payment_start(int64_t a0, const std::string& a1, int64_t a2) override { return inner_.record_payment_start(a0, a1, a2); }
  Result<std::vector<store::PaymentStartRow>> open_payment_starts(int64_t a0, int64_t a1) override { return inner_.open_payment_starts(a0, a1); }
  Status close_payment_start(int64_t a0, const std::string& a1, int64_t a2) override { return inner_.close_payment_start(a0, a1, a2); }
  Result<store::Download> record_download(const store::NewDownload& a0) override { return inner_.record_download(a0); }
  Result<store::Download> get_download(int64_t a0) override { return inner_.get_download(a0); }
  Result<std::string> setting_or_init(const std::string& a0, const std::string& a1) override { return inner_.setting_or_init(a0, a1); }
  Result<std::vector<store::Term>> list_terms(store::TermKind a0) override { return inner_.list_terms(a0); }
  Result<store::Term> create_term(store::TermKind a0, const std::string& a1, const store::AuditActor& a2, int64_t a3) override { return inner_.create_term(a0, a1, a2, a3); }
  Result<store::Term> rename_term(store::TermKind a0, int64_t a1, const std::string& a2, const store::AuditActor& a3, int64_t a4) override { return inner_.rename_term(a0, a1, a2, a3, a4); }
  Result<bool> move_term(store::TermKind a0, int64_t a1, store::MoveDirection a2, const store::AuditActor& a3, int64_t a4) override { return inner_.move_term(a0, a1, a2, a3, a4); }
  Status delete_term(store::TermKind a0, int64_t a1, const store::AuditActor& a2, int64_t a3) override { return inner_.delete_term(a0, a1, a2, a3); }
  Status set_document_tags(int64_t a0, const std::vector<std::string>& a1, int64_t a2) override { return inner_.set_document_tags(a0, a1, a2); }
  Result<std::vector<std::string>> document_tags(int64_t a0) override { return inner_.document_tags(a0); }

 protected:
  store::Store& inner_;
};

}  // namespace paidoc::web::testing
