// SettingsStore: small named values the site keeps in its database so that
// every node sharing it agrees (today: the download-link signing key).
//
// Ownership, errors and thread-safety as in documents.h.
#pragma once

#include <string>

#include "common/status.h"

namespace paidoc::store {

class SettingsStore {
 public:
  virtual ~SettingsStore() = default;

  // The value stored under `name`; when there is none, stores
  // `value_if_absent` and returns it. Atomic: concurrent callers on any
  // node get the same value.
  virtual Result<std::string> setting_or_init(const std::string& name,
                                              const std::string& value_if_absent) = 0;
};

}  // namespace paidoc::store
