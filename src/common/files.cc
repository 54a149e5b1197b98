#include "common/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace paidoc {
namespace {

Status cannot_read(const std::string& path, int err) {
  std::string msg = path + ": cannot read: " + std::strerror(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return Status::not_found(msg + " (check the path)");
    case EACCES:
    case EPERM:
      return Status::unavailable(msg + " (check the file's permissions for this user)");
    case EISDIR:
      return Status::invalid(msg + " (give a file, or import the folder)");
    default:
      return Status::unavailable(msg);
  }
}

}  // namespace

Result<std::string> read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return cannot_read(path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return cannot_read(path, err);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return cannot_read(path, EISDIR);
  }
  std::string out;
  if (S_ISREG(st.st_mode) && st.st_size > 0) out.reserve(static_cast<size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return cannot_read(path, err);
    }
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace paidoc
