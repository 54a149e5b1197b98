// The blocks of a document view as template data, for every page that shows
// a document's text (the reading page, the console's previews).
//
// Thread-safety: a pure function.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "gate/gate.h"

namespace paidoc::web {

// One entry per shown block, in order:
// - {heading, tag ("h2".."h5" by level), level, label, text, paid};
// - {paragraph, label, text, class?}: class holds "paid" for paid text, and
//   "closing-attachment" / "closing-attachment-item" for the attachment note
//   (format.md §6.4). A run-in heading (format.md §6.2) comes as run_in
//   {level, label, text} inside the paragraph entry of its run-in block: the
//   two are one paragraph on the page;
// - {signature, paid, lines: [{text, date}]}: the signature lines and the
//   date (format.md §6.4) as one group, the date written the official way
//   (doc::official_date);
// - {locked, first (the first paywall of the view)}.
// A 第 label is followed by U+3000 (doc::spaced_label), as in the exports.
nlohmann::json view_blocks_json(const gate::DocumentView& v);

}  // namespace paidoc::web
