// Internal to commerce: the one outgoing HTTP request the providers make
// (WeChat Pay's order API). Not part of the module's public interface:
// include only from src/commerce/*.cc (and its tests).
//
// Thread-safety: each call uses its own I/O context, TLS context and
// connection; safe from many threads.
#pragma once

#include <string>

#include "commerce/provider.h"
#include "common/status.h"

namespace paidoc::commerce {

// Sends `request` and answers the response whatever its status (a WeChat
// business error is a 4xx with a JSON body worth reading). Headers are sent
// as given plus Host and User-Agent: paidoc; the answer's header names are
// lower-case. URL rules, limits and network errors as https_post_json below.
// kInvalidArgument for an unknown method or a header with CR/LF or a colon
// in its name.
Result<HttpAnswer> https_request(const HttpRequest& request, int timeout_seconds = 10);

// POSTs `body` to `url` with the headers
//   Authorization: {authorization}   (omitted when empty)
//   Content-Type: application/json
//   Accept: application/json
//   User-Agent: paidoc
// and answers the response body when the status is 2xx.
//
// `url` is https://host[:port][/path]. The server certificate is verified
// against the system CA store and must name `host` (SNI is sent). For tests
// and local stand-ins, plain http:// is accepted for the loopback hosts
// 127.0.0.1 and localhost only; any other http:// URL, another scheme, a URL
// with user info, or a header value with CR/LF is kInvalidArgument.
//
// Network errors (resolution, connection, TLS, certificate, timeout) and
// non-2xx statuses are kUnavailable; the message names the status and an
// excerpt of the answer. The whole exchange is bounded by timeout_seconds;
// bodies larger than 1 MiB are refused.
Result<std::string> https_post_json(const std::string& url, const std::string& body,
                                    const std::string& authorization, int timeout_seconds = 10);

}  // namespace paidoc::commerce
