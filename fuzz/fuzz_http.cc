// fuzz_http: the HTTP request path without sockets. The input is what a
// client sends on one connection: up to three requests, each read with the
// server's own parser (web/request_parser.h: the fields handlers use, Host
// and folding rules, per-route body limits) and answered by the Site as the
// server would (try_inline, then handle): the router, the query strings,
// urlencoded and multipart forms, cookies and JSON bodies of every route.
// The site runs on a temporary SQLite store (made once) holding one
// document with a paid part, with the sandbox payment provider.
//
// Signed-in requests: "@READER@" in the input is replaced by the session
// token of a reader who has bought nothing, "@EDITOR@" by an editor's (who
// may upload), so that the routes behind sign-in are reached too (send it
// as "Cookie: paidoc_session=@READER@" or "Authorization: Bearer
// @EDITOR@"). Forms add the double-submit cookie and field: "__Host-paidoc_csrf"
// on a loopback Host (the site is configured as http://127.0.0.1), plain
// "paidoc_csrf" on another Host. A cookie session's forms need that
// session's own token, so the seed forms of signed-in users sign in by
// Bearer token, which takes the plain double-submit check.
// A session the input ended (logout) is opened again for the next input.
//
// Checks on every answer: a status the server can send; header lines that
// are "Name: value\r\n" with no CR or LF inside (no response splitting);
// no 500 (an internal error on client input is a bug); and, unless the
// editor's token was used, no paid text in an uncompressed body: no two
// consecutive characters of the paid part that the request did not carry
// itself (neither the anonymous client nor the reader has access).
#include <spdlog/spdlog.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auth/auth.h"
#include "commerce/commerce.h"
#include "common/clock.h"
#include "document_checks.h"
#include "library/library.h"
#include "temp_store.h"
#include "text/text.h"
#include "web/request_parser.h"
#include "web/site.h"
#include "web/util.h"

namespace {

using paidoc::fuzz::check;
namespace web = paidoc::web;
namespace http = boost::beast::http;

constexpr std::string_view kNotice =
    "社区图书室开放时间通知\n"
    "社区图书室自下月起延长开放时间，周末也对居民开放。\n"
    "##paidbegin##\n"
    "甲乙丙丁戊己庚辛壬癸，子丑寅卯辰巳午未。\n"
    "##paidend##\n"
    "欢迎居民前来借阅。\n";
// The paid part's runs of text.
constexpr std::string_view kPaidRuns[] = {"甲乙丙丁戊己庚辛壬癸", "子丑寅卯辰巳午未"};
constexpr std::string_view kRemote = "203.0.113.7";
constexpr size_t kBodyLimit = 1 << 20;  // ServerOptions::body_limit's default

struct World {
  paidoc::FakeClock clock;
  std::unique_ptr<paidoc::store::Store> store;
  std::unique_ptr<paidoc::library::Library> library;
  std::unique_ptr<paidoc::auth::Accounts> accounts;
  std::unique_ptr<paidoc::commerce::Commerce> commerce;
  std::unique_ptr<web::Site> site;
  std::string reader_token, editor_token;
};
World* world = nullptr;

constexpr const char* kPassword = "fuzz-password-2026";
constexpr std::string_view kReaderMark = "@READER@";
constexpr std::string_view kEditorMark = "@EDITOR@";

// The token of a session of `email` that is open now (signing in again
// when the last input ended it).
void ensure_session(const char* email, std::string* token) {
  if (!token->empty() && world->accounts->authenticate(*token).ok()) return;
  auto r = world->accounts->login(email, kPassword, {"192.0.2.1", "fuzz"});
  check(r.ok(), "login", r.ok() ? "" : r.status().to_string());
  *token = r->token;
}

void replace_all(std::string& s, std::string_view from, const std::string& to) {
  for (size_t i = s.find(from); i != std::string::npos; i = s.find(from, i + to.size()))
    s.replace(i, from.size(), to);
}

void check_response(const web::Response& res, std::string_view sent, bool may_read_paid) {
  check(res.status >= 100 && res.status <= 599, "status out of range");
  check(res.status != 500, "500 on client input", res.body_view().substr(0, 200));
  std::string_view block = res.header_block();
  while (!block.empty()) {
    const size_t end = block.find("\r\n");
    check(end != std::string_view::npos, "header block not CRLF-terminated", block);
    const std::string_view line = block.substr(0, end);
    check(line.find('\r') == std::string_view::npos && line.find('\n') == std::string_view::npos,
          "CR or LF inside a header line", line);
    check(line.find(':') != std::string_view::npos && line.find(':') > 0, "header line without name",
          line);
    check(line.find('\0') == std::string_view::npos, "NUL in a header line", line);
    block.remove_prefix(end + 2);
  }
  if (may_read_paid || !web::header_value(res.header_block(), "Content-Encoding").empty()) return;
  const std::string_view body = res.body_view();
  // Any two consecutive characters of the paid part; the request's own
  // bytes (raw or percent-decoded) may be echoed back.
  const std::string decoded = web::percent_decode(sent, true).value_or(std::string(sent));
  for (std::string_view run : kPaidRuns) {
    for (size_t i = 0; i + 6 <= run.size(); i += 3) {
      const std::string_view w = run.substr(i, 6);
      const size_t at = body.find(w);
      if (at == std::string_view::npos || sent.find(w) != std::string_view::npos ||
          decoded.find(w) != std::string::npos)
        continue;
      check(false, "LEAK: paid text in an answer to a client without access",
            body.substr(at > 120 ? at - 120 : 0, 240));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  paidoc::Status s = paidoc::text::init();
  check(s.is_ok(), "text::init", s.to_string());
  world = new World;
  world->store = paidoc::fuzz::open_temp_store();
  world->library = std::make_unique<paidoc::library::Library>(*world->store, world->clock);
  paidoc::library::ImportOptions o;
  o.price = paidoc::Fen(800);
  auto line = world->library->import_bytes(kNotice, "notice.txt", o);
  check(line.ok, "import", line.error);

  paidoc::auth::Options ao;  // cheap hashes: registrations and logins are fuzzed
  ao.pwhash_opslimit = 1;
  ao.pwhash_memlimit = 8192;
  world->accounts = std::make_unique<paidoc::auth::Accounts>(*world->store, world->clock, ao);
  const paidoc::commerce::SandboxConfig sandbox{"sandbox-secret-for-fuzzing", "http://127.0.0.1"};
  std::map<std::string, std::unique_ptr<paidoc::commerce::PaymentProvider>> providers;
  providers["sandbox"] = paidoc::commerce::make_sandbox(sandbox, world->clock);
  paidoc::commerce::Options co;
  co.site_url = "http://127.0.0.1";
  world->commerce = std::make_unique<paidoc::commerce::Commerce>(
      *world->store, *world->store, world->clock, co, std::move(providers));

  web::SiteConfig config;
  config.base_url = "http://127.0.0.1";
  config.sandbox = sandbox;
  config.clock = &world->clock;
  config.search_limits = {0, 0, 0, 0};
  world->site = std::make_unique<web::Site>(*world->store, *world->library, *world->accounts,
                                            *world->commerce, config);
  s = world->site->init();
  check(s.is_ok(), "Site::init", s.to_string());
  auto reader = world->accounts->add_user("reader@example.com", kPassword, paidoc::gate::Role::kReader);
  auto editor = world->accounts->add_user("editor@example.com", kPassword, paidoc::gate::Role::kEditor);
  check(reader.ok() && editor.ok(), "add_user");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view sent(reinterpret_cast<const char*>(data), size);
  std::string bytes(sent);
  const bool editor = bytes.find(kEditorMark) != std::string::npos;
  if (bytes.find(kReaderMark) != std::string::npos) {
    ensure_session("reader@example.com", &world->reader_token);
    replace_all(bytes, kReaderMark, world->reader_token);
  }
  if (editor) {
    ensure_session("editor@example.com", &world->editor_token);
    replace_all(bytes, kEditorMark, world->editor_token);
  }
  boost::beast::flat_buffer buffer;
  {
    auto b = buffer.prepare(bytes.size());
    if (!bytes.empty()) std::memcpy(b.data(), bytes.data(), bytes.size());
    buffer.commit(bytes.size());
  }
  web::RequestData d;
  for (int n = 0; n < 3 && buffer.size() > 0; ++n) {
    d.clear();
    web::RequestParser parser(d, *world->site, kBodyLimit, buffer);
    parser.header_limit(web::kHeaderLimit);
    boost::beast::error_code ec;
    while (!parser.is_done()) {
      const size_t used = buffer.size() > 0 ? parser.put(buffer.data(), ec) : 0;
      buffer.consume(used);
      if (ec == http::error::need_more || (!ec && used == 0)) {
        // All the input is in the buffer: what the parser still needs never
        // comes, as when a client stops sending (a body read to the end of
        // the connection ends here).
        ec = {};
        parser.put_eof(ec);
        if (!ec && !parser.is_done()) ec = http::error::partial_message;
        break;
      }
      if (ec) break;
    }
    if (ec == http::error::body_limit) {
      web::Request req = web::request_of(d, kRemote);
      check_response(world->site->body_too_large(req, parser.limit()), sent, editor);
      return 0;
    }
    if (ec) return 0;  // the server answers 400 (or closes) without the site
    const web::Request req = web::request_of(d, kRemote);
    int route = -1;
    web::Work work = web::Work::kStore;
    std::optional<web::Response> res = world->site->try_inline(req, &route, &work);
    if (!res) res = world->site->handle(req, &route);
    check_response(*res, sent, editor);
    if (!parser.keep_alive()) break;
  }
  return 0;
}
