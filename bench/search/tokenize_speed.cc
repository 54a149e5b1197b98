// tokenize_speed: how fast text::tokenize_for_index runs over the bench
// corpus, in MB/s of source text, on one thread. The index build rate is
// bounded by it.
//
//   tokenize_speed [--docs N] [--seed S]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "corpus.h"
#include "text/text.h"

int main(int argc, char** argv) {
  int64_t docs = 2000;
  uint64_t seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--docs")) docs = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--seed")) seed = std::strtoull(argv[i + 1], nullptr, 10);
  }
  if (!paidoc::text::init().is_ok()) return 1;
  std::vector<std::string> texts;
  size_t bytes = 0;
  for (int64_t i = 0; i < docs; ++i) {
    texts.push_back(paidoc::bench::make_source(seed, i));
    bytes += texts.back().size();
  }
  size_t tokens = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (const std::string& t : texts) tokens += paidoc::text::tokenize_for_index(t).size();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("documents: %lld\nsource_mb: %.2f\ntokens: %zu\nseconds: %.3f\ntokenize_mb_per_s: %.2f\n",
              static_cast<long long>(docs), bytes / 1e6, tokens, s, bytes / 1e6 / s);
  return 0;
}
