// stored_schema_version: picks the backend from the URL's scheme.

#include "store/transfer.h"

#include <string>
#include <string_view>

#include "store/sqlite/transfer.h"

namespace paidoc::store {

Result<StoredVersion> stored_schema_version(const std::string& url) {
  std::string_view u = url;
  if (!u.starts_with("sqlite:")) {
    return Status::invalid("only a sqlite:PATH database can be inspected without opening it");
  }
  std::string_view path = u.substr(7);
  if (path.starts_with("//")) path.remove_prefix(2);  // as Store::open
  return sqlite::stored_schema_version(std::string(path));
}

}  // namespace paidoc::store
