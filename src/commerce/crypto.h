// Internal to commerce: the encodings and primitives the payment providers
// share (base64, URL and form encoding, RSA SHA256 signatures from PEM keys,
// HMAC-SHA256, AES-256-GCM). Thin wrappers over OpenSSL 3; no cryptography is
// implemented here. Not part of the module's public interface: include only
// from src/commerce/*.cc.
//
// Thread-safety: free functions without shared state. A loaded Key is
// immutable and may be used from many threads at once (OpenSSL allows
// concurrent read-only use of an EVP_PKEY; each call makes its own context).
#pragma once

#include <openssl/types.h>

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace paidoc::commerce::crypto {

// ---- encodings --------------------------------------------------------------

// Standard base64 (RFC 4648, with padding, no line breaks).
std::string base64_encode(std::string_view bytes);
// Strict standard base64: padding required, no whitespace, no other alphabet.
// kInvalidArgument otherwise.
Result<std::string> base64_decode(std::string_view text);

// Lower-case hex.
std::string hex_encode(std::string_view bytes);

// Percent-encodes everything but the RFC 3986 unreserved characters
// (A-Z a-z 0-9 - _ . ~); a space becomes %20. For query strings we build.
std::string url_encode(std::string_view text);

// Decodes one application/x-www-form-urlencoded component: '+' is a space,
// %XX a byte. kInvalidArgument on a truncated or non-hex escape.
Result<std::string> form_decode(std::string_view text);

// Parses an application/x-www-form-urlencoded body into decoded key/value
// pairs. A repeated key is refused (kInvalidArgument): a signature check and
// the code reading the fields must never see different values. A pair without
// '=' has an empty value; empty segments ("a=1&&b=2") are skipped.
Result<std::map<std::string, std::string>> parse_form(std::string_view body);

// The longest prefix of `text` of at most max_bytes bytes that does not cut a
// UTF-8 sequence in two.
std::string truncate_utf8(std::string_view text, size_t max_bytes);

// `n` random bytes from the OpenSSL CSPRNG, as upper-case hex (2n chars).
// kInternal if the generator fails.
Result<std::string> random_hex(size_t n);

// ---- RSA keys and SHA256withRSA (PKCS #1 v1.5) -----------------------------

using Key = std::shared_ptr<EVP_PKEY>;

// Loads an RSA private key: PEM ("PRIVATE KEY" PKCS #8 or "RSA PRIVATE KEY"
// PKCS #1, unencrypted) or the bare base64 DER (PKCS #8 or PKCS #1) that key
// tools print without the PEM armour, on one line or broken into lines;
// whitespace around and inside the base64 is ignored. kInvalidArgument when
// it is not an RSA private key; the message says which formats were expected.
Result<Key> load_private_key(std::string_view text);
// Loads an RSA public key: PEM "PUBLIC KEY" / "RSA PUBLIC KEY", a PEM
// "CERTIFICATE" (its key is used; the certificate itself is not validated),
// or bare base64 DER (SubjectPublicKeyInfo or PKCS #1), whitespace ignored as
// above. kInvalidArgument when it is not an RSA public key, naming the
// formats expected.
Result<Key> load_public_key(std::string_view text);

// True iff both keys hold the same public key.
bool same_public_key(const Key& a, const Key& b);

// ---- X.509 certificates ---------------------------------------------------------

// What identifies a certificate, read from it as is (nothing is validated).
struct CertificateName {
  // The issuer's attributes from the last RDN to the first, each
  // "<short name>=<value as UTF-8>" ("CN=…", "OU=…", "O=…", "C=…"); unknown
  // attribute types by dotted OID.
  std::vector<std::string> issuer;
  std::string serial;               // the serial number in decimal
  std::string signature_algorithm;  // long name, e.g. "sha256WithRSAEncryption"
};

// Every certificate of a PEM file, in file order ("CERTIFICATE" blocks; text
// between them is ignored). kInvalidArgument when there is none or one does
// not parse (naming which, counted from 1).
Result<std::vector<CertificateName>> read_certificates(std::string_view pem);

// MD5 of `bytes` as 32 lower-case hex digits (Alipay's certificate serial
// numbers; never used for security).
std::string md5_hex(std::string_view bytes);

// SHA256withRSA signature of `message` (raw bytes). kInternal on failure.
Result<std::string> rsa_sha256_sign(const Key& key, std::string_view message);
// True iff `signature` (raw bytes) is a valid SHA256withRSA signature of
// `message` under `key`.
bool rsa_sha256_verify(const Key& key, std::string_view message, std::string_view signature);

// ---- symmetric --------------------------------------------------------------

// HMAC-SHA256(key, data), raw 32 bytes.
std::string hmac_sha256(std::string_view key, std::string_view data);

// Equality in time independent of where the inputs differ (CRYPTO_memcmp);
// different lengths compare unequal at once (lengths are not secret here).
bool constant_time_equal(std::string_view a, std::string_view b);

// AEAD_AES_256_GCM decryption (RFC 5116): `ciphertext_and_tag` ends with the
// 16-byte tag. Answers kInvalidArgument for a key that is not 32 bytes, an
// empty nonce or a ciphertext shorter than the tag, and kForbidden when the
// tag does not verify (wrong key, nonce, AAD or tampered ciphertext).
Result<std::string> aes_256_gcm_decrypt(std::string_view key, std::string_view nonce,
                                        std::string_view aad, std::string_view ciphertext_and_tag);

}  // namespace paidoc::commerce::crypto
