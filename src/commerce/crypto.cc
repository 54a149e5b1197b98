#include "commerce/crypto.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <utility>
#include <vector>

namespace paidoc::commerce::crypto {

namespace {

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_base64_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct DecoderCtxFree {
  void operator()(OSSL_DECODER_CTX* c) const { OSSL_DECODER_CTX_free(c); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};

Key adopt(EVP_PKEY* pkey) { return Key(pkey, EVP_PKEY_free); }

// Decodes a key in `input_type` ("PEM" or "DER") of any structure OpenSSL
// knows (PKCS #8, SubjectPublicKeyInfo, PKCS #1).
Key decode_key(std::string_view data, const char* input_type, int selection) {
  EVP_PKEY* pkey = nullptr;
  std::unique_ptr<OSSL_DECODER_CTX, DecoderCtxFree> dctx(OSSL_DECODER_CTX_new_for_pkey(
      &pkey, input_type, nullptr, "RSA", selection, nullptr, nullptr));
  if (!dctx) return nullptr;
  const unsigned char* p = bytes(data);
  size_t len = data.size();
  if (OSSL_DECODER_from_data(dctx.get(), &p, &len) != 1) {
    EVP_PKEY_free(pkey);
    return nullptr;
  }
  return adopt(pkey);
}

Key public_key_from_certificate(std::string_view pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return nullptr;
  return adopt(X509_get_pubkey(cert.get()));
}

std::string strip_whitespace(std::string_view s) {
  std::string out;
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c))) out += c;
  return out;
}

// PEM as pasted into a configuration file: each line trimmed (indentation,
// CR of CRLF), blank lines dropped, so OpenSSL finds its armour lines.
std::string tidy_pem(std::string_view s) {
  std::string out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t nl = s.find('\n', pos);
    if (nl == std::string_view::npos) nl = s.size();
    std::string_view line = s.substr(pos, nl - pos);
    pos = nl + 1;
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front())))
      line.remove_prefix(1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
      line.remove_suffix(1);
    if (line.empty()) continue;
    out.append(line);
    out += '\n';
  }
  return out;
}

constexpr const char* kPrivateFormats =
    "expected an RSA private key as PEM (\"PRIVATE KEY\" PKCS #8 or \"RSA PRIVATE KEY\" "
    "PKCS #1, unencrypted) or bare base64 DER (PKCS #8 or PKCS #1)";
constexpr const char* kPublicFormats =
    "expected an RSA public key as PEM (\"PUBLIC KEY\", \"RSA PUBLIC KEY\" or a "
    "\"CERTIFICATE\") or bare base64 DER (SubjectPublicKeyInfo or PKCS #1)";

Result<Key> load_key(std::string_view text, bool want_private) {
  const char* expected = want_private ? kPrivateFormats : kPublicFormats;
  auto refuse = [&](const std::string& why) {
    ERR_clear_error();
    return Status::invalid(why + "; " + expected);
  };
  std::string bare = strip_whitespace(text);
  if (bare.empty()) return refuse("the key is empty");
  int selection = want_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY;
  Key key;
  if (text.find("-----BEGIN") != std::string_view::npos) {
    if (text.find("ENCRYPTED") != std::string_view::npos)
      return refuse("the PEM key is encrypted (a passphrase is not supported)");
    std::string pem = tidy_pem(text);
    if (!want_private && pem.find("-----BEGIN CERTIFICATE-----") != std::string::npos)
      key = public_key_from_certificate(pem);
    else
      key = decode_key(pem, "PEM", selection);
    if (!key && want_private && decode_key(pem, "PEM", EVP_PKEY_PUBLIC_KEY))
      return refuse("it holds only a public key");
    ERR_clear_error();
    if (!key) return refuse("the PEM does not hold a usable key");
  } else {
    // Bare base64 DER, as key tools print it for copying into a console.
    auto der = base64_decode(bare);
    if (!der.ok()) return refuse("no PEM armour and not base64 (" + der.status().message() + ")");
    key = decode_key(*der, "DER", selection);
    if (!key && want_private && decode_key(*der, "DER", EVP_PKEY_PUBLIC_KEY))
      return refuse("it holds only a public key");
    ERR_clear_error();
    if (!key) return refuse("the base64 does not decode to a usable key");
  }
  if (!EVP_PKEY_is_a(key.get(), "RSA")) return refuse("not an RSA key");
  if (want_private) {
    BIGNUM* d = nullptr;
    bool has_private = EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_RSA_D, &d) == 1;
    BN_clear_free(d);
    ERR_clear_error();
    if (!has_private) return refuse("it holds only a public key");
  }
  return key;
}

struct Asn1IntegerBn {
  void operator()(BIGNUM* b) const { BN_free(b); }
};

// One issuer attribute as "<short name>=<UTF-8 value>".
std::string name_entry_text(const X509_NAME_ENTRY* e) {
  const ASN1_OBJECT* obj = X509_NAME_ENTRY_get_object(e);
  int nid = OBJ_obj2nid(obj);
  std::string type;
  if (nid != NID_undef) {
    type = OBJ_nid2sn(nid);
  } else {
    char buf[128];
    int n = OBJ_obj2txt(buf, sizeof buf, obj, 1);
    type = n > 0 ? std::string(buf, static_cast<size_t>(std::min<int>(n, sizeof buf - 1))) : "?";
  }
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
  std::string value;
  if (len >= 0) value.assign(reinterpret_cast<const char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return type + "=" + value;
}

Result<CertificateName> certificate_name(X509* cert) {
  CertificateName out;
  const X509_NAME* issuer = X509_get_issuer_name(cert);
  for (int i = X509_NAME_entry_count(issuer) - 1; i >= 0; --i)
    out.issuer.push_back(name_entry_text(X509_NAME_get_entry(issuer, i)));
  std::unique_ptr<BIGNUM, Asn1IntegerBn> bn(
      ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  char* dec = bn ? BN_bn2dec(bn.get()) : nullptr;
  if (!dec) {
    ERR_clear_error();
    return Status::invalid("certificate serial number does not read");
  }
  out.serial = dec;
  OPENSSL_free(dec);
  int sig_nid = X509_get_signature_nid(cert);
  out.signature_algorithm = sig_nid == NID_undef ? "" : OBJ_nid2ln(sig_nid);
  return out;
}

}  // namespace

// ---- encodings --------------------------------------------------------------

std::string base64_encode(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes(in),
                          static_cast<int>(in.size()));
  out.resize(n);
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return Status::invalid("base64: length is not a multiple of 4");
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++pad;
  for (size_t i = 0; i < text.size() - pad; ++i)
    if (!is_base64_char(text[i])) return Status::invalid("base64: unexpected character");
  if (text.empty()) return std::string();
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes(text),
                          static_cast<int>(text.size()));
  if (n < 0) return Status::invalid("base64: cannot decode");
  // EVP_DecodeBlock counts the padding as zero bytes.
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string hex_encode(std::string_view in) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(in.size() * 2);
  for (unsigned char c : in) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string url_encode(std::string_view text) {
  static const char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 15];
    }
  }
  return out;
}

Result<std::string> form_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= text.size()) return Status::invalid("form: truncated %-escape");
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return Status::invalid("form: bad %-escape");
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

Result<std::map<std::string, std::string>> parse_form(std::string_view body) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos <= body.size()) {
    size_t amp = body.find('&', pos);
    if (amp == std::string_view::npos) amp = body.size();
    std::string_view pair = body.substr(pos, amp - pos);
    pos = amp + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    auto key = form_decode(pair.substr(0, eq));
    if (!key.ok()) return key.status();
    std::string value;
    if (eq != std::string_view::npos) {
      auto v = form_decode(pair.substr(eq + 1));
      if (!v.ok()) return v.status();
      value = std::move(*v);
    }
    if (key->empty()) return Status::invalid("form: empty parameter name");
    if (!out.emplace(std::move(*key), std::move(value)).second)
      return Status::invalid("form: repeated parameter");
  }
  return out;
}

std::string truncate_utf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t end = max_bytes;
  // Step back over continuation bytes (10xxxxxx) to the start of a sequence.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

Result<std::string> random_hex(size_t n) {
  std::string raw(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(n)) != 1) {
    ERR_clear_error();
    return Status::internal("random generator failed");
  }
  std::string hex = hex_encode(raw);
  for (char& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return hex;
}

// ---- RSA ----------------------------------------------------------------------

Result<Key> load_private_key(std::string_view text) { return load_key(text, true); }
Result<Key> load_public_key(std::string_view text) { return load_key(text, false); }

bool same_public_key(const Key& a, const Key& b) {
  bool same = a && b && EVP_PKEY_eq(a.get(), b.get()) == 1;
  ERR_clear_error();
  return same;
}

// ---- X.509 ------------------------------------------------------------------------

Result<std::vector<CertificateName>> read_certificates(std::string_view pem) {
  static constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  static constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  std::vector<CertificateName> out;
  size_t pos = 0;
  while ((pos = pem.find(kBegin, pos)) != std::string_view::npos) {
    size_t end = pem.find(kEnd, pos);
    if (end == std::string_view::npos)
      return Status::invalid("certificate " + std::to_string(out.size() + 1) +
                             " has no END CERTIFICATE line");
    end += kEnd.size();
    std::string block = tidy_pem(pem.substr(pos, end - pos));
    pos = end;
    std::unique_ptr<BIO, BioFree> bio(
        BIO_new_mem_buf(block.data(), static_cast<int>(block.size())));
    std::unique_ptr<X509, X509Free> cert(
        bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    ERR_clear_error();
    if (!cert)
      return Status::invalid("certificate " + std::to_string(out.size() + 1) +
                             " is not a readable X.509 certificate");
    auto name = certificate_name(cert.get());
    if (!name.ok()) return name.status();
    out.push_back(std::move(*name));
  }
  if (out.empty()) return Status::invalid("no PEM \"CERTIFICATE\" block found");
  return out;
}

std::string md5_hex(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, EVP_md5(), nullptr) != 1) {
    ERR_clear_error();
    return std::string();
  }
  return hex_encode(std::string_view(reinterpret_cast<const char*>(out), len));
}

Result<std::string> rsa_sha256_sign(const Key& key, std::string_view message) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, bytes(message), message.size()) != 1) {
    ERR_clear_error();
    return Status::internal("RSA signing failed");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, bytes(message),
                     message.size()) != 1) {
    ERR_clear_error();
    return Status::internal("RSA signing failed");
  }
  sig.resize(len);
  return sig;
}

bool rsa_sha256_verify(const Key& key, std::string_view message, std::string_view signature) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  bool ok = ctx &&
            EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) == 1 &&
            EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), bytes(message),
                             message.size()) == 1;
  if (!ok) ERR_clear_error();
  return ok;
}

// ---- symmetric ------------------------------------------------------------------

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  size_t len = 0;
  // HMAC accepts an empty key; OpenSSL wants a non-null pointer for it.
  static const unsigned char kEmpty = 0;
  const unsigned char* k = key.empty() ? &kEmpty : bytes(key);
  if (!EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, k, key.size(), bytes(data),
                 data.size(), out, sizeof out, &len)) {
    ERR_clear_error();
    return std::string();  // never equal to a 32-byte MAC
  }
  return std::string(reinterpret_cast<const char*>(out), len);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<std::string> aes_256_gcm_decrypt(std::string_view key, std::string_view nonce,
                                        std::string_view aad, std::string_view ciphertext_and_tag) {
  constexpr size_t kTagSize = 16;
  if (key.size() != 32) return Status::invalid("AES-256-GCM: key is not 32 bytes");
  if (nonce.empty()) return Status::invalid("AES-256-GCM: empty nonce");
  if (ciphertext_and_tag.size() < kTagSize)
    return Status::invalid("AES-256-GCM: ciphertext shorter than the tag");
  std::string_view ct = ciphertext_and_tag.substr(0, ciphertext_and_tag.size() - kTagSize);
  std::string tag(ciphertext_and_tag.substr(ct.size()));

  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
  std::string out(ct.size() + kTagSize, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int len = 0;
  int total = 0;
  bool setup = ctx &&
               EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
               EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN,
                                   static_cast<int>(nonce.size()), nullptr) == 1 &&
               EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, bytes(key), bytes(nonce)) == 1 &&
               (aad.empty() || EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(aad),
                                                 static_cast<int>(aad.size())) == 1) &&
               EVP_DecryptUpdate(ctx.get(), o, &len, bytes(ct), static_cast<int>(ct.size())) == 1 &&
               EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize),
                                   tag.data()) == 1;
  if (!setup) {
    ERR_clear_error();
    return Status::internal("AES-256-GCM: cipher setup failed");
  }
  total = len;
  if (EVP_DecryptFinal_ex(ctx.get(), o + total, &len) != 1) {
    ERR_clear_error();
    return Status::forbidden("AES-256-GCM: authentication tag does not verify");
  }
  total += len;
  out.resize(static_cast<size_t>(total));
  return out;
}

}  // namespace paidoc::commerce::crypto
