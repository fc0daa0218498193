#include "compile/pipeline_batch.h"

namespace tokalign::compile::detail {

bool hold_views(chat::RecordStream& records) {
  if (records.mapped()) records.hold_records();
  return records.mapped();
}

bool read_batch(chat::RecordStream& records, const PipelineOptions& options, bool views, size_t size, Batch& b,
                uint64_t& total) {
  b.data.clear();
  b.copies.clear();
  b.texts.clear();
  // (copies become views once `data` stops moving: when the batch is read, or reading threw)
  auto seal = [&] {
    if (!views)
      for (size_t i = 0; i < b.texts.size(); ++i) b.texts[i] = std::string_view(b.data).substr(b.copies[i].first, b.copies[i].second);
  };
  std::string_view text;
  chat::SourcePos pos;
  bool full = false;
  try {
    while (!full && records.next(text, pos)) {
      ++total;
      if (options.wanted && !options.wanted(pos.index)) continue;
      // texts last: it counts the batch's records, so a throw (out of memory) before it leaves
      // the batch as it was.
      const size_t k = b.texts.size();
      if (k < b.positions.size()) b.positions[k] = pos;
      else b.positions.push_back(pos);
      b.end = pos.byte_offset + text.size();
      if (!views) {
        b.copies.emplace_back(b.data.size(), text.size());
        b.data.append(text);
        text = {};
      }
      b.texts.push_back(text);
      full = b.texts.size() == size;
    }
  } catch (...) {
    seal();
    throw;
  }
  seal();
  return full;
}

void compile_one(chat::ConversationReader& reader, chat::Conversation& conv, const Compiler& compiler,
                 std::string_view text, const chat::SourcePos& pos, PipelineItem& item) {
  item.pos = pos;
  item.problem = chat::Problem{};
  item.ok = false;
  const bool read = reader.read(text, pos, conv, item.problem);
  item.id.assign(conv.id);
  item.messages = conv.messages.size();
  // (compile empties the sample itself, keeping its image slots' storage for the next one)
  if (!read) {
    item.sample.clear();
    return;
  }
  item.ok = compiler.compile(conv, item.sample, item.problem);
}

void compile_batch(chat::ConversationReader& reader, chat::Conversation& conv, const Compiler& compiler, Batch& b) {
  b.items.resize(b.texts.size());
  for (size_t i = 0; i < b.texts.size(); ++i) compile_one(reader, conv, compiler, b.texts[i], b.positions[i], b.items[i]);
}

}  // namespace tokalign::compile::detail
