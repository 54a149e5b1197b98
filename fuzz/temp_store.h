// A SQLite store in a fresh temporary folder, for the fuzz targets that
// reach the store (fuzz_search_query, fuzz_http). Made once, in
// LLVMFuzzerInitialize; the folder is removed when the process exits. It
// lives in /dev/shm when there is one (no disk syncs: the fuzzer commits
// often), else in /tmp.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <unistd.h>

#include "store/store.h"

namespace paidoc::fuzz {

inline std::string& temp_folder() {
  static std::string path;
  return path;
}

inline std::unique_ptr<store::Store> open_temp_store() {
  std::error_code ec;
  std::string pattern = std::filesystem::is_directory("/dev/shm", ec) && access("/dev/shm", W_OK) == 0
                            ? "/dev/shm/paidoc-fuzz-XXXXXX"
                            : "/tmp/paidoc-fuzz-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  temp_folder() = pattern;
  std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(temp_folder(), ec);
  });
  auto opened = store::Store::open("sqlite:" + temp_folder() + "/fuzz.db");
  if (!opened.ok()) {
    std::fprintf(stderr, "cannot open the store: %s\n", opened.status().to_string().c_str());
    std::abort();
  }
  return std::move(opened).value();
}

}  // namespace paidoc::fuzz
