// A deterministic synthetic corpus for the search benchmark (bench/search).
//
// make_document(seed, index) writes one source file in the paidoc source
// format (docs/format.md): a title line, 4-12 headings on levels 1-3
// (一、 （一） 1.) with paragraphs of Chinese official-document text (工作总结,
// 整改措施, 民主生活会对照检查材料, 党风廉政建设, 述职报告, 心得体会, 调研报告,
// 工作计划, 讲话稿, 主题教育), years and figures from 2019-2026, and in about
// 70% of the documents one or two ##paidbegin## ... ##paidend## sections
// covering about half of the body. Sources average about 4.5 KB (2.5-7 KB).
//
// The text comes from phrase tables in corpus.cc combined by a splitmix64
// generator seeded with (seed, index) alone, so any document can be made on
// its own, in any order, on any machine, and is byte-identical every time.
//
// Word frequencies are shaped so that queries fall into known classes:
// common words (工作, 党, 全面从严治党, 群众 ...) appear in most documents;
// each rare phrase of rare_phrases() appears in about 0.1% of them (each
// document draws each phrase independently with probability 1/1000).
//
// Thread-safety: every function is pure and safe to call concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace paidoc::bench {

struct CorpusDocument {
  std::string source;    // UTF-8 source text, markers included
  std::string genre;     // one of genres(); used as the category
  int64_t price_fen = 0; // the price to import it at (used only if it has paid text)
  bool has_paid = false; // the source holds at least one paid section
};

// One document of the corpus. Deterministic in (seed, index).
CorpusDocument make_document(uint64_t seed, int64_t index);

// make_document(seed, index).source.
std::string make_source(uint64_t seed, int64_t index);

// The genres (and categories) documents are drawn from.
const std::vector<std::string>& genres();

// The phrases each document contains with probability 1/1000.
const std::vector<std::string>& rare_phrases();

// Query classes. Each query is a space-separated list of terms, as a reader
// types it into the search box.
enum class QueryKind {
  kOneTerm,     // "one":    one term, from single characters to long words
  kTwoTerms,    // "two":    two terms
  kThreeTerms,  // "three":  three terms
  kRare,        // "rare":   rare phrases (~0.1% of documents each)
  kCommon,      // "common": terms found in most documents
  kMix,         // "mix":    rare and common queries interleaved, and rare AND common terms
};

// Every kind, in the order above.
const std::vector<QueryKind>& query_kinds();
// "one", "two", "three", "rare", "common", "mix".
std::string_view query_kind_name(QueryKind kind);
// The kind named `name`, or nullopt.
std::optional<QueryKind> parse_query_kind(std::string_view name);
// The queries of a class (fixed lists, not random).
std::vector<std::string> query_set(QueryKind kind);

}  // namespace paidoc::bench
