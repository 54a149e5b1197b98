// e2e_docx: writes a small .docx for the browser journeys.
//   e2e_docx OUT.docx < lines
// Each input line becomes one paragraph; a '|' in a line splits it into
// runs (as Word splits text it formats), so "##paid|begin##" is a marker
// typed across two runs.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "sources/docx_builder.h"

// Text as XML character data.
std::string xml_text(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out += c;
  }
  return out;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: e2e_docx OUT.docx < lines\n";
    return 2;
  }
  std::string body, line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<std::string> runs;
    std::stringstream parts(line);
    for (std::string r; std::getline(parts, r, '|');) runs.push_back(xml_text(r));
    if (runs.empty()) runs.push_back("");
    body += paidoc::testing::p(runs);
  }
  std::string bytes = paidoc::testing::docx(body);
  if (bytes.empty()) {
    std::cerr << "e2e_docx: libzip failed\n";
    return 1;
  }
  std::ofstream out(argv[1], std::ios::binary);
  out << bytes;
  return out ? 0 : 1;
}
