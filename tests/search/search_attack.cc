// search_attack: runs the attacker of tests/search/attack.h against files.
//
//   search_attack [--budget N] [--show] FILE...
//
// Imports the demo documents and the given files into a temporary store,
// trains the attacker on the public text of that library, attacks each
// given file as an anonymous viewer and prints, per file, the queries used
// and the longest run of consecutive paid characters rebuilt. --show also
// prints every confirmed extension and the rebuilt run itself.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "library/library.h"
#include "search/attack.h"
#include "search/search.h"
#include "store/store.h"
#include "text/text.h"

namespace fs = std::filesystem;
using namespace paidoc;

int main(int argc, char** argv) {
  search::attack::Options o;
  bool show = false;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--budget" && i + 1 < argc) {
      o.budget = std::atoll(argv[++i]);
    } else if (a == "--show") {
      show = true;
    } else if (a == "-h" || a == "--help") {
      std::cout << "usage: search_attack [--budget N] [--show] FILE...\n";
      return 0;
    } else {
      files.push_back(a);
    }
  }
  if (files.empty() || o.budget < 1) {
    std::cerr << "usage: search_attack [--budget N] [--show] FILE...\n";
    return 2;
  }
  if (Status s = text::init(); !s.is_ok()) {
    std::cerr << s.to_string() << "\n";
    return 1;
  }
  const fs::path dir = fs::temp_directory_path() / ("paidoc-search-attack-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  int rc = 0;
  {
    auto st = store::Store::open("sqlite:" + (dir / "attack.db").string());
    if (!st.ok()) {
      std::cerr << st.status().to_string() << "\n";
      fs::remove_all(dir);
      return 1;
    }
    library::Library lib(**st);
    search::Searcher searcher(**st, lib);
    if (auto n = lib.seed_demo(); !n.ok()) std::cerr << "demo: " << n.status().to_string() << "\n";
    std::vector<std::pair<std::string, int64_t>> targets;
    for (const std::string& f : files) {
      library::ImportLine line = lib.import_file(f, {});
      if (!line.ok) {
        std::cerr << line.to_string() << "\n";
        rc = 1;
        continue;
      }
      targets.emplace_back(f, line.id);
    }
    if (show) o.log = &std::cout;
    search::attack::Attacker attacker(searcher, lib, gate::Viewer::anonymous(), o);
    if (Status s = attacker.learn(); !s.is_ok()) {
      std::cerr << s.to_string() << "\n";
      rc = 1;
      targets.clear();
    }
    for (const auto& [file, id] : targets) {
      search::attack::Outcome out = attacker.attack(id);
      auto paid = search::attack::paid_symbols(**st, id);
      if (!paid.ok()) {
        std::cerr << paid.status().to_string() << "\n";
        rc = 1;
        continue;
      }
      search::attack::Score s = search::attack::score(*paid, out.chains);
      std::cout << file << ": paid " << search::attack::ideographs(*paid).size() << " ideographs, "
                << out.queries << " queries (" << out.refused << " refused), " << out.seeds_found
                << " seeds found, " << out.chains.size() << " chains, longest run rebuilt "
                << s.longest << "\n";
      if (show) std::cout << "  rebuilt: " << s.run << "\n";
    }
  }
  fs::remove_all(dir);
  return rc;
}
