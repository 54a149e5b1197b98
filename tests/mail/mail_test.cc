// The mail module: the message as formatted (MIME headers, RFC 2047 words,
// base64 body), the checks on the settings, and a real SMTP dialogue with
// the local stand-in (tests/support/smtp_standin.py; skipped without
// python3-aiosmtpd).

#include "mail/mail.h"

#include <gtest/gtest.h>

#include <string>

#include "support/smtp_standin.h"

namespace paidoc::mail {
namespace {

using paidoc::testing::mail_body;
using paidoc::testing::mail_header;

constexpr int64_t kNow = 1'767'225'600;  // 2026-01-01 00:00:00 UTC, a Thursday

// Decodes "=?UTF-8?B?…?=" words (joined by folding) back to UTF-8.
std::string decode_words(const std::string& v) {
  std::string out;
  size_t at = 0;
  while ((at = v.find("=?UTF-8?B?", at)) != std::string::npos) {
    size_t end = v.find("?=", at + 10);
    out += mail_body("\r\n\r\n" + v.substr(at + 10, end - at - 10));
    at = end + 2;
  }
  return out;
}

Message reset_message() {
  Message m;
  m.to = "reader@example.cn";
  m.subject = "【测试文库】重置密码";
  m.body = "您好：\n请打开链接 https://wenku.example.cn/password/reset?token=abc\n";
  return m;
}

TEST(FormatMessage, HasTheMimeHeadersAndAnEncodedSubject) {
  Result<std::string> text =
      format_message(reset_message(), "noreply@example.cn", "测试文库", kNow, "id1@example.cn");
  ASSERT_TRUE(text.ok()) << text.status().to_string();
  const std::string& t = *text;
  EXPECT_EQ(mail_header(t, "To"), "<reader@example.cn>");
  EXPECT_EQ(mail_header(t, "Date"), "Thu, 01 Jan 2026 00:00:00 +0000");
  EXPECT_EQ(mail_header(t, "Message-ID"), "<id1@example.cn>");
  EXPECT_EQ(mail_header(t, "MIME-Version"), "1.0");
  EXPECT_EQ(mail_header(t, "Content-Type"), "text/plain; charset=UTF-8");
  EXPECT_EQ(mail_header(t, "Content-Transfer-Encoding"), "base64");
  std::string subject = mail_header(t, "Subject");
  EXPECT_EQ(subject.rfind("=?UTF-8?B?", 0), 0u) << subject;
  EXPECT_EQ(decode_words(subject), "【测试文库】重置密码");
  std::string from = mail_header(t, "From");
  EXPECT_NE(from.find("<noreply@example.cn>"), std::string::npos);
  EXPECT_EQ(decode_words(from), "测试文库");
  // Every line ends in CRLF and the headers are 7-bit.
  size_t head_end = t.find("\r\n\r\n");
  for (size_t i = 0; i < head_end; ++i) EXPECT_LT(static_cast<unsigned char>(t[i]), 0x80);
  for (size_t i = 0; i < t.size(); ++i)
    if (t[i] == '\n') {
      EXPECT_EQ(t[i - 1], '\r');
    }
  // The body decodes to the text with CRLF line ends.
  EXPECT_EQ(mail_body(t),
            "您好：\r\n请打开链接 https://wenku.example.cn/password/reset?token=abc\r\n");
}

TEST(FormatMessage, LongSubjectsFoldIntoShortEncodedWords) {
  std::string subject;
  for (int i = 0; i < 40; ++i) subject += "重置";
  std::string v = encode_header_text(subject);
  EXPECT_EQ(decode_words(v), subject);
  size_t at = 0;
  while (at < v.size()) {
    size_t eol = v.find("\r\n", at);
    size_t len = (eol == std::string::npos ? v.size() : eol) - at;
    EXPECT_LE(len, 76u);  // a word of at most 75, after the folding space
    if (eol == std::string::npos) break;
    at = eol + 2;
  }
  EXPECT_EQ(encode_header_text("Plain ASCII"), "Plain ASCII");
}

TEST(FormatMessage, RefusesLineBreaksInHeaders) {
  Message m = reset_message();
  m.subject = "hi\r\nBcc: victim@example.cn";
  EXPECT_EQ(format_message(m, "noreply@example.cn", "", kNow, "x@y.cn").status().code(),
            Code::kInvalidArgument);
  m = reset_message();
  m.to = "reader@example.cn>\r\nBcc: <x@example.cn";
  EXPECT_FALSE(format_message(m, "noreply@example.cn", "", kNow, "x@y.cn").ok());
  m = reset_message();
  EXPECT_FALSE(format_message(m, "noreply@example.cn", "a\nb", kNow, "x@y.cn").ok());
}

TEST(Validate, NamesTheFlagAtFault) {
  SmtpOptions o;
  o.host = "smtp.example.cn";
  o.from_address = "noreply@example.cn";
  EXPECT_TRUE(validate(o).is_ok());
  SmtpOptions bad = o;
  bad.host.clear();
  EXPECT_NE(validate(bad).message().find("--mail-host"), std::string::npos);
  bad = o;
  bad.from_address = "noreply";
  EXPECT_NE(validate(bad).message().find("--mail-from"), std::string::npos);
  bad = o;
  bad.user = "noreply";
  EXPECT_NE(validate(bad).message().find("--mail-password-file"), std::string::npos);
  // No TLS only to this machine.
  bad = o;
  bad.security = Security::kNone;
  EXPECT_NE(validate(bad).message().find("--mail-security"), std::string::npos);
  for (const char* local : {"127.0.0.1", "localhost", "::1"}) {
    bad.host = local;
    EXPECT_TRUE(validate(bad).is_ok()) << local;
  }
  EXPECT_EQ(parse_security("starttls"), Security::kStartTls);
  EXPECT_EQ(parse_security("tls"), Security::kTls);
  EXPECT_EQ(parse_security("none"), Security::kNone);
  EXPECT_FALSE(parse_security("ssl"));
}

TEST(SmtpTransport, DeliversToTheLocalStandIn) {
  paidoc::testing::SmtpStandin smtp;
  if (!smtp.ok()) GTEST_SKIP() << smtp.why();
  SmtpOptions o;
  o.host = "127.0.0.1";
  o.port = smtp.port();
  o.security = Security::kNone;
  o.from_address = "noreply@example.cn";
  o.from_name = "测试文库";
  o.timeout_seconds = 10;
  ASSERT_TRUE(validate(o).is_ok());
  std::unique_ptr<Transport> t = smtp_transport(o);
  Status s = t->send(reset_message());
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  std::optional<std::string> got = smtp.message(1);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(mail_header(*got, "X-Envelope-To"), "reader@example.cn");
  EXPECT_EQ(decode_words(mail_header(*got, "Subject")), "【测试文库】重置密码");
  EXPECT_NE(mail_body(*got).find("token=abc"), std::string::npos);
  EXPECT_NE(mail_header(*got, "Message-ID").find("@example.cn>"), std::string::npos);
}

TEST(SmtpTransport, AServerThatIsNotThereIsUnavailable) {
  SmtpOptions o;
  o.host = "127.0.0.1";
  o.port = 1;  // nothing listens on port 1
  o.security = Security::kNone;
  o.from_address = "noreply@example.cn";
  o.timeout_seconds = 5;
  Status s = smtp_transport(o)->send(reset_message());
  EXPECT_EQ(s.code(), Code::kUnavailable);
}

TEST(SmtpTransport, StartTlsIsRequiredWhenAsked) {
  // The stand-in offers no STARTTLS: a starttls transport must not fall
  // back to sending in the clear.
  paidoc::testing::SmtpStandin smtp;
  if (!smtp.ok()) GTEST_SKIP() << smtp.why();
  SmtpOptions o;
  o.host = "127.0.0.1";
  o.port = smtp.port();
  o.security = Security::kStartTls;
  o.from_address = "noreply@example.cn";
  o.timeout_seconds = 5;
  Status s = smtp_transport(o)->send(reset_message());
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(smtp.count(), 0u);
}

}  // namespace
}  // namespace paidoc::mail
