// The pure parts of auth: who may do what, role names, the email and
// password rules, tokens and their hashes. No store, no clock.

#include "auth/auth.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace paidoc::auth {
namespace {

using gate::Role;

// ---- allowed(): every (role, permission) pair against an explicit table ------------

TEST(Allowed, EveryRoleAndPermission) {
  struct Row {
    Role role;
    bool read_own_account;
    bool publish;
    bool manage_users;
    bool manage_orders;
    bool view_audit;
  };
  // clang-format off
  const Row table[] = {
      //                  /me    publish  users   orders  audit
      {Role::kAnonymous, false, false,   false,  false,  false},
      {Role::kReader,    true,  false,   false,  false,  false},
      {Role::kEditor,    true,  true,    false,  false,  false},
      {Role::kAdmin,     true,  true,    true,   true,   true},
      {Role::kSystem,    true,  true,    true,   true,   true},
  };
  // clang-format on
  for (const Row& r : table) {
    SCOPED_TRACE(role_name(r.role));
    EXPECT_EQ(allowed(r.role, Permission::kReadOwnAccount), r.read_own_account);
    EXPECT_EQ(allowed(r.role, Permission::kPublish), r.publish);
    EXPECT_EQ(allowed(r.role, Permission::kManageUsers), r.manage_users);
    EXPECT_EQ(allowed(r.role, Permission::kManageOrders), r.manage_orders);
    EXPECT_EQ(allowed(r.role, Permission::kViewAudit), r.view_audit);
  }
}

// ---- role names ----------------------------------------------------------------------

TEST(Roles, StoredRolesRoundTrip) {
  for (Role r : {Role::kReader, Role::kEditor, Role::kAdmin}) {
    std::optional<Role> back = parse_role(role_name(r));
    ASSERT_TRUE(back.has_value()) << role_name(r);
    EXPECT_EQ(*back, r);
  }
  EXPECT_STREQ(role_name(Role::kReader), "reader");
  EXPECT_STREQ(role_name(Role::kEditor), "editor");
  EXPECT_STREQ(role_name(Role::kAdmin), "admin");
  EXPECT_STREQ(role_name(Role::kAnonymous), "anonymous");
  EXPECT_STREQ(role_name(Role::kSystem), "system");
}

TEST(Roles, ParseRejectsEverythingElse) {
  for (const char* s :
       {"", "anonymous", "system", "Admin", "ADMIN", " admin", "admin ", "root", "reader\n"}) {
    EXPECT_FALSE(parse_role(s).has_value()) << "'" << s << "'";
  }
}

// ---- email ---------------------------------------------------------------------------

TEST(NormalizeEmail, TrimsAndLowerCases) {
  EXPECT_EQ(normalize_email("  Alice@Example.COM \t\n"), "alice@example.com");
  EXPECT_EQ(normalize_email("bob@example.cn"), "bob@example.cn");
  // U+3000, as typed with a Chinese input method.
  const std::string ideographic_space = "\u3000";
  EXPECT_EQ(normalize_email(ideographic_space + "Carol@Example.cn" + ideographic_space),
            "carol@example.cn");
  // Non-ASCII is kept as it is.
  EXPECT_EQ(normalize_email("张三@例子.中国"), "张三@例子.中国");
  EXPECT_EQ(normalize_email("   "), "");
}

TEST(ValidateEmail, AcceptsPlausibleAddresses) {
  for (const char* e : {"a@b.cn", "alice.smith+tag@mail.example.com", "张三@例子.中国"}) {
    EXPECT_TRUE(validate_email(e).is_ok()) << e;
  }
}

TEST(ValidateEmail, RefusesImplausibleOnesInChinese) {
  const std::string too_long = std::string(250, 'a') + "@b.cn";  // 255 bytes
  for (const std::string& e :
       {std::string(""), std::string("alice"), std::string("@b.cn"), std::string("a@"),
        std::string("a@b"), std::string("a@@b.cn"), std::string("a@b@c.cn"),
        std::string("a b@c.cn"), std::string("a@.cn"), std::string("a@b.cn."),
        std::string("a@b..cn"), std::string("a\x01@b.cn"), too_long}) {
    Status s = validate_email(e);
    EXPECT_EQ(s.code(), Code::kInvalidArgument) << e;
    EXPECT_EQ(s.message(), "邮箱格式不正确") << e;
  }
  EXPECT_TRUE(validate_email(std::string(249, 'a') + "@b.cn").is_ok());  // 254 bytes
}

// ---- password --------------------------------------------------------------------------

TEST(ValidatePassword, CountsCodePointsNotBytes) {
  EXPECT_TRUE(validate_password("12345678").is_ok());
  Status short_ascii = validate_password("1234567");
  EXPECT_EQ(short_ascii.code(), Code::kInvalidArgument);
  EXPECT_EQ(short_ascii.message(), "密码至少需要 8 个字符");
  // 7 Chinese characters are 21 bytes but still too short; 8 are enough.
  EXPECT_EQ(validate_password("一二三四五六七").code(), Code::kInvalidArgument);
  EXPECT_TRUE(validate_password("一二三四五六七八").is_ok());
  EXPECT_EQ(validate_password("").code(), Code::kInvalidArgument);
}

TEST(ValidatePassword, RefusesMoreThan1024Bytes) {
  EXPECT_TRUE(validate_password(std::string(1024, 'x')).is_ok());
  EXPECT_EQ(validate_password(std::string(1025, 'x')).code(), Code::kInvalidArgument);
}

// ---- tokens ------------------------------------------------------------------------------

TEST(NewToken, Is43CharactersOfBase64UrlAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string t = new_token();
    ASSERT_EQ(t.size(), 43u) << t;
    for (char c : t) {
      const bool url_safe = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_';
      ASSERT_TRUE(url_safe) << t;
    }
    EXPECT_TRUE(seen.insert(t).second) << "repeated token " << t;
  }
}

TEST(TokenHash, IsLowerHexSha256) {
  // FIPS 180-2 test vectors.
  EXPECT_EQ(token_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(token_hash(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const std::string t = new_token();
  EXPECT_EQ(token_hash(t), token_hash(t));
  EXPECT_NE(token_hash(t), t);
  EXPECT_EQ(token_hash(t).size(), 64u);
}

TEST(SessionCsrfToken, IsAnHmacOfTheSessionTokenAndDiffersPerSession) {
  // HMAC-SHA256(key "abc", "paidoc csrf token v1"), base64url: computed
  // independently, so the token stays the same across versions and nodes.
  EXPECT_EQ(session_csrf_token("abc"), "OjD4RUq4uZPxthPw00B_Rrm8JMt7YtQ1f5YJ_SXEunE");
  const std::string a = new_token();
  const std::string b = new_token();
  EXPECT_EQ(session_csrf_token(a), session_csrf_token(a));
  EXPECT_NE(session_csrf_token(a), session_csrf_token(b));
  EXPECT_NE(session_csrf_token(a), a);
  EXPECT_EQ(session_csrf_token(a).size(), 43u);
}

TEST(ConstantTimeEqual, ComparesLikeEquality) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("same token", "same token"));
  EXPECT_FALSE(constant_time_equal("same token", "same tokeN"));
  EXPECT_FALSE(constant_time_equal("Xame token", "same token"));
  // Different lengths, including a prefix and the empty string.
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_FALSE(constant_time_equal("abcd", "abc"));
  EXPECT_FALSE(constant_time_equal("", "a"));
  // Embedded NULs count: these are not C strings.
  EXPECT_FALSE(constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
  EXPECT_FALSE(constant_time_equal(std::string("a\0", 2), std::string("a")));
  const std::string h = token_hash("x");
  EXPECT_TRUE(constant_time_equal(h, std::string(h)));
}

}  // namespace
}  // namespace paidoc::auth
