// Trust pages: 关于我们, 用户协议, 隐私政策, 购买与退款说明 and 联系客服 —
// what a reader checks before paying a site they do not know — and the
// operator details the footer shows (ICP 备案号, customer-service contact).
//
// Each page is a Markdown (`NAME.md`) or plain-text (`NAME.txt`) file in the
// folder the operator names (`paidoc serve --pages-dir DIR`); a page whose
// file is not there is the built-in default (web/pages/NAME.md, written for
// paidoc). Placeholders in any page, default or not, are filled from the
// operator details: {{site_name}}, {{company}}, {{contact_email}},
// {{contact_phone}}, {{icp}}; one that is not set reads as a visible
// 【…】 note, so an unfinished page is obvious.
//
// The pages are read and rendered once, by load_trust_pages() at start; a
// changed file takes effect at the next start.
//
// Safety: the Markdown is rendered by our own walk over cmark's tree, not by
// cmark's HTML renderer: raw HTML (blocks and inline) is shown as escaped
// text, every text is escaped, images become their alt text, and a link is
// a link only when its target is http(s), mailto or relative (no scheme);
// any other target (javascript:, data:, vbscript:, …) leaves the link text
// as plain text. The result is the one pre-escaped value a template prints
// raw ({{{body_html}}} in web/templates/trust_page.html).
//
// Thread-safety: load_trust_pages() and render_markdown() are pure functions
// of their arguments (and the files); a TrustPages value is immutable.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace paidoc::web {

// What the operator tells `serve` about the site (flags of the same names).
// An empty field is "not set".
struct TrustOptions {
  std::string pages_dir;      // --pages-dir: folder of NAME.md / NAME.txt; empty: all defaults
  std::string site_name;      // --site-name
  std::string company;        // --company: 运营者（公司）名称
  std::string contact_email;  // --contact-email
  std::string contact_phone;  // --contact-phone
  std::string icp;            // --icp: ICP 备案号, e.g. "京ICP备12345678号"
};

// One of the five pages: its path, its file name without extension, and
// the label the footer shows.
struct TrustPageInfo {
  std::string_view path;   // "/about"
  std::string_view name;   // "about": the file is about.md or about.txt
  std::string_view label;  // "关于我们"
};

// The five pages in footer order: /about, /terms, /privacy, /refund-policy,
// /contact.
const std::array<TrustPageInfo, 5>& trust_page_infos();

struct TrustPage {
  TrustPageInfo info;
  std::string title;        // the file's first level-1 heading, else info.label
  std::string description;  // plain text of its first paragraph, at most 120 characters
  std::string body_html;    // safe HTML (see the file comment), without the title
  std::string source;       // the file it came from; empty: the built-in default
};

struct TrustPages {
  std::vector<TrustPage> pages;  // in trust_page_infos() order
  // Files in pages_dir whose names are none of the pages' (a misspelt
  // name, say): logged at start, otherwise ignored.
  std::vector<std::string> ignored;
  // nullptr when `path` is none of the pages.
  const TrustPage* find(std::string_view path) const;
};

// Reads and renders the five pages.
// Errors (kInvalidArgument, the message names the path or the flag):
//   - company, icp, contact email or phone is not one line of UTF-8 text or
//     too long; the email is not an address; the phone has no digit;
//   - pages_dir is set but is not an existing folder;
//   - a page's file exists but cannot be read, is larger than 256 KiB or is
//     not UTF-8;
//   - both NAME.md and NAME.txt exist (which one is meant is unclear).
// A page with no file in the folder is the default; that is not an error.
Result<TrustPages> load_trust_pages(const TrustOptions& options);

// Markdown (CommonMark) -> safe HTML as described in the file comment.
// Headings keep their level but are at least <h2>: the page's <h1> is its
// title.
std::string render_markdown(std::string_view markdown);

// Plain text -> HTML: blank lines separate paragraphs, a single line break
// is <br>, everything is escaped, nothing is a link.
std::string render_plain_text(std::string_view text);

// True when `url` may be a link's href: http://, https://, mailto: (any
// case), or relative (no scheme before the first '/', '?' or '#'). Control
// characters and spaces make it unsafe.
bool safe_link_target(std::string_view url);

}  // namespace paidoc::web
