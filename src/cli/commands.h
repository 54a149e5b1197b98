// Internal to src/cli: what the subcommands share.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "commerce/commerce.h"
#include "commerce/provider.h"
#include "common/clock.h"
#include "common/money.h"
#include "common/status.h"
#include "store/store.h"
#include "web/server.h"

namespace paidoc::cli {

struct Globals {
  std::string data = "./paidoc-data";
  std::string db;  // overrides data when set
  int max_source_mb = 5;  // --max-source-mb: library::Library's source limit
  std::string max_price = "100000";  // --max-price, yuan: library::Library's price limit
};

// "sqlite:DIR/paidoc.db" for --data DIR (the folder is created), or --db.
Result<std::unique_ptr<store::Store>> open_store(const Globals& g);

// Prints "paidoc: message" to stderr; returns exit code 1.
int fail(const Status& s);

// `paidoc user add --email E [--role R]` (password on stdin), `paidoc user
// disable --email E` and `paidoc user enable --email E` (user.cc). Registers
// the subcommands; run_user() executes the one chosen.
struct UserArgs {
  CLI::App* add = nullptr;
  CLI::App* disable = nullptr;
  CLI::App* enable = nullptr;
  std::string email;
  std::string role = "reader";
};
CLI::App* add_user_commands(CLI::App& app, UserArgs& args);
int run_user(const Globals& g, const UserArgs& args);

// Who a change made on the command line is recorded as: "cli:<os user>"
// ($USER), or "cli" when $USER is unset.
std::string cli_actor();

// `paidoc wallet credit`, `paidoc ledger verify`, `paidoc orders export`,
// `paidoc orders reconcile` (commerce_cmd.cc). add_commerce_commands() registers them; chosen() says
// whether one of them was picked; run_commerce() executes it.
struct CommerceArgs {
  CLI::App* wallet = nullptr;
  CLI::App* wallet_credit = nullptr;
  CLI::App* ledger = nullptr;
  CLI::App* ledger_verify = nullptr;
  CLI::App* orders = nullptr;
  CLI::App* orders_export = nullptr;
  CLI::App* orders_reconcile = nullptr;
  std::string email;
  std::string amount;
  std::string note;
  std::string from;  // YYYY-MM-DD, UTC, inclusive
  std::string to;    // YYYY-MM-DD, UTC, exclusive
  std::string out;   // empty: stdout
  std::string provider;  // orders reconcile: "alipay" | "wechat"
  std::string file;      // orders reconcile: the statement
  bool chosen() const { return (wallet && *wallet) || (ledger && *ledger) || (orders && *orders); }
};
void add_commerce_commands(CLI::App& app, CommerceArgs& args);
int run_commerce(const Globals& g, const CommerceArgs& args);
// What `paidoc ledger verify` does on `st`: prints "ledger ok: …" and
// answers 0, or prints each problem and "ledger BROKEN: …" and answers 1.
// A database that fails its quick check (store::HealthStore) is not
// verified: its problems and "ledger NOT VERIFIED: …", answer 1.
int verify_ledger(store::Store& st);

// `paidoc export --id --format --out` and `paidoc trace [FILE]`
// (downloads_cmd.cc).
struct DownloadArgs {
  CLI::App* export_cmd = nullptr;
  CLI::App* trace = nullptr;
  int64_t id = 0;
  std::string format;
  std::string out;
  std::string file;
  bool chosen() const { return (export_cmd && *export_cmd) || (trace && *trace); }
};
void add_download_commands(CLI::App& app, DownloadArgs& args);
int run_downloads(const Globals& g, const DownloadArgs& args);

// `paidoc backup --out FILE [--force]` and `paidoc restore --from FILE
// [--force]` (backup_cmd.cc): SQLite sites only.
struct BackupArgs {
  CLI::App* backup = nullptr;
  CLI::App* restore = nullptr;
  std::string out;
  std::string from;
  bool force = false;
  bool chosen() const { return (backup && *backup) || (restore && *restore); }
};
void add_backup_commands(CLI::App& app, BackupArgs& args);
int run_backup(const Globals& g, const BackupArgs& args);

// The store URL the commands open (open_store), without creating anything.
std::string store_url(const Globals& g);

// `paidoc check-db [--quick]` (check_db_cmd.cc): store::check_database on
// the site's database; prints "database ok" or each problem and "database
// DAMAGED", exit 1 on problems.
struct CheckDbArgs {
  CLI::App* check_db = nullptr;
  bool quick = false;
  bool chosen() const { return check_db && *check_db; }
};
void add_check_db_command(CLI::App& app, CheckDbArgs& args);
int run_check_db(const Globals& g, const CheckDbArgs& args);

// What `paidoc serve` checks before it opens the store: the database passes
// PRAGMA quick_check (SQLite; PostgreSQL: the probe's reads). OK for a
// SQLite file that does not exist yet (a new site). Otherwise the refusal,
// naming what to do (restore a backup, or `paidoc check-db` for details).
Status check_before_serving(const Globals& g);

// The same advice for a store error that is damage (store::is_damage), returned
// with the advice appended; any other status unchanged.
Status with_damage_advice(const Globals& g, const Status& s);

// Payment configuration of `paidoc serve` (payments.cc): the flags, and what
// they make at start. Empty strings mean "not configured".
struct PaymentArgs {
  int64_t order_ttl = 30 * 60;
  std::vector<std::string> plans;  // "ID:DAYS:YUAN:DAILY_DOWNLOADS:NAME"; empty: built-in plans
  std::string max_topup;           // yuan; empty: the service's default
  bool sandbox = false;            // --payment-sandbox

  std::string alipay_app_id;
  std::string alipay_private_key_file;
  std::string alipay_public_key_file;  // public-key mode
  std::string alipay_app_cert_file;    // certificate mode: these three instead
  std::string alipay_cert_file;
  std::string alipay_root_cert_file;
  std::string alipay_gateway;      // empty: the provider's default (production)
  bool alipay_mobile = false;      // always WAP (phones get it anyway)

  std::string wechat_mchid;
  std::string wechat_appid;
  std::string wechat_serial_no;
  std::string wechat_private_key_file;
  std::string wechat_platform_key_file;  // one platform key and its serial
  std::string wechat_platform_serial;
  std::vector<std::string> wechat_platform_certs;  // "SERIAL=FILE", repeatable
  std::string wechat_public_key_id;    // public-key mode: "PUB_KEY_ID_…"
  std::string wechat_public_key_file;
  std::string wechat_apiv3_key_file;
  std::string wechat_api_base;     // empty: the provider's default (production)
  bool wechat_h5 = false;
  std::string wechat_app_secret_file;  // JSAPI: the official account's AppSecret
};
void add_payment_options(CLI::App* serve, PaymentArgs& args);

// Outgoing mail of `paidoc serve` (mail_options.cc): the --mail-* flags.
// No --mail-host: no mail (password reset by mail is off).
struct MailArgs {
  std::string host;
  int port = 0;                      // 0: the security's usual port
  std::string security = "starttls";  // starttls | tls | none
  std::string user;
  std::string password_file;         // the password, never on the command line
  std::string from;
  std::string from_name;
  int64_t reset_link_ttl = 30 * 60;
};
void add_mail_options(CLI::App* serve, MailArgs& args);
// nullopt without --mail-host; kInvalidArgument naming the flag for a bad
// value, an unreadable password file or settings mail::validate refuses.
// Fills opts->mail and opts->password_resets.
Status apply_mail_options(const MailArgs& args, web::ServerOptions* opts);

// What serve hands to commerce::Commerce and web::ServerOptions.
struct Payments {
  commerce::Options options;
  std::map<std::string, std::unique_ptr<commerce::PaymentProvider>> providers;
  std::optional<commerce::SandboxConfig> sandbox;  // set when the sandbox is on
  std::vector<std::string> enabled;                // for the start-up log: "alipay (app 2021…)"
};
// Reads key files and checks that each provider is configured completely.
// Key files may be PEM or the bare base64 that key tools print; a file in
// neither form, or a key that does not load, is named with its flag and the
// format expected. Alipay takes either its public key or the three
// certificates (certificate mode), never both; WeChat Pay needs at least one
// verifying key (platform certificates by serial and/or the public key).
// kInvalidArgument naming the missing flag or the unreadable file. The
// sandbox is on with --payment-sandbox or --demo, with a secret made up per
// process. REQUIRES: clock outlives the providers.
Result<Payments> make_payments(const PaymentArgs& args, bool demo, const std::string& site_url,
                               const Clock& clock);

// Why a gateway cannot reach notify URLs under `base_url` (the --base-url
// flag as given): "" when it is a public https:// URL; otherwise the
// reason ("--base-url is empty", "… is not https://", "… names a loopback
// address", "… names a private network address", "… names a local host").
std::string unreachable_base_url(const std::string& base_url);
// The start-up warning for serve when a real provider (alipay, wechat) is on
// and unreachable_base_url(base_url) has a reason; "" otherwise. It names
// the notify URLs as built from `site_url` (what serve uses).
std::string notify_url_warning(const std::string& base_url, const std::string& site_url,
                               const std::vector<std::string>& providers);

// `paidoc migrate --from sqlite:PATH --to postgresql://…` (migrate_cmd.cc):
// copies a whole site into an empty PostgreSQL database, prints the rows
// of each table on both sides and verifies the target's ledger.
struct MigrateArgs {
  CLI::App* migrate = nullptr;
  std::string from;
  std::string to;
  bool chosen() const { return migrate && *migrate; }
};
void add_migrate_command(CLI::App& app, MigrateArgs& args);
int run_migrate(const MigrateArgs& args);

// `url` with any password in it replaced by "***" (user:PASSWORD@ and
// password=… of a libpq URI or connection string), for messages.
std::string redact_url(const std::string& url);

}  // namespace paidoc::cli
