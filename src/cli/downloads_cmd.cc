// `paidoc export` (an operator's copy of a document as .docx/.pdf/.txt) and
// `paidoc trace` (which download a file, or text pasted from it, came
// from). Both are thin over downloads::Service.
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "downloads/downloads.h"
#include "library/library.h"
#include "web/util.h"

namespace paidoc::cli {

void add_download_commands(CLI::App& app, DownloadArgs& args) {
  args.export_cmd = app.add_subcommand("export", "write a document as .docx, .pdf or .txt");
  args.export_cmd->add_option("--id", args.id, "document id")->required();
  args.export_cmd->add_option("--format", args.format, "docx, pdf or txt")->required();
  args.export_cmd->add_option("--out", args.out, "output file")->required();
  args.trace = app.add_subcommand("trace", "name the download a file (or pasted text) came from");
  args.trace->add_option("FILE", args.file, "a .docx, .pdf or .txt file; '-' or none: stdin");
}

namespace {

// What export and trace use, wired to one store.
struct Services {
  explicit Services(store::Store& st)
      : library(st, Clock::system()),
        commerce(st, st, Clock::system(), commerce::Options{}, {}),
        downloads(downloads::Stores{st, st, st, st}, library, commerce, Clock::system()) {}
  library::Library library;
  commerce::Commerce commerce;
  downloads::Service downloads;
};

int run_export(const Globals& g, const DownloadArgs& a) {
  std::optional<exporter::Format> f = exporter::parse_format(a.format);
  if (!f) return fail(Status::invalid(fmt::format("--format {}: expected docx, pdf or txt", a.format)));
  auto st = open_store(g);
  if (!st.ok()) return fail(st.status());
  Services svc(**st);
  Result<downloads::File> file = svc.downloads.export_file(a.id, *f);
  if (!file.ok()) return fail(file.status());
  std::ofstream out(a.out, std::ios::binary | std::ios::trunc);
  out.write(file->bytes.data(), static_cast<std::streamsize>(file->bytes.size()));
  out.close();
  if (!out) return fail(Status::unavailable(fmt::format("--out {}: cannot write the file", a.out)));
  std::cout << fmt::format("exported {} ({} bytes) to {}\n", a.id, file->bytes.size(), a.out);
  return 0;
}

int run_trace(const Globals& g, const DownloadArgs& a) {
  std::string bytes;
  if (a.file.empty() || a.file == "-") {
    bytes.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(a.file, std::ios::binary);
    if (!in) return fail(Status::not_found(fmt::format("{}: cannot open the file", a.file)));
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  auto st = open_store(g);
  if (!st.ok()) return fail(st.status());
  Services svc(**st);
  Result<downloads::TraceReport> r = svc.downloads.trace(bytes);
  if (!r.ok()) return fail(r.status());
  const std::string what = a.file.empty() || a.file == "-" ? "stdin" : a.file;
  std::cout << fmt::format("{}: {}{}{}\n", what, r->found.kind,
                           r->found.text_mark ? ", mark in the text" : "",
                           r->found.metadata_mark ? ", mark in the metadata" : "");
  if (!r->download) {
    std::cout << "not traced: " << r->problem << "\n";
    return 1;
  }
  const store::Download& d = *r->download;
  std::cout << fmt::format("download {} of document {} 《{}》 as {}, {}\n", d.id, d.document_id,
                           r->document_title, d.format, web::rfc3339_utc(d.created_at));
  std::cout << fmt::format("user {} {}\n", d.user_id, r->user ? r->user->email : "(unknown)");
  if (r->order) {
    std::cout << fmt::format("order {} {} ({}, {} fen, paid {})\n", r->order->id,
                             r->order->out_trade_no, store::to_string(r->order->kind),
                             r->order->amount.value(), web::rfc3339_utc(r->order->paid_at));
  } else {
    std::cout << fmt::format("order none (access: {})\n", d.access);
  }
  if (!r->problem.empty()) std::cout << "warning: " << r->problem << "\n";
  return 0;
}

}  // namespace

int run_downloads(const Globals& g, const DownloadArgs& args) {
  if (args.export_cmd && *args.export_cmd) return run_export(g, args);
  if (args.trace && *args.trace) return run_trace(g, args);
  return 1;
}

}  // namespace paidoc::cli
