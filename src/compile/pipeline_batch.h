// The unit of work of the compile pipeline's threads (pipeline.cc, pipeline_shared.cc): a
// batch of records read in order, compiled together, and handed on together; and run_shared,
// the pipeline with shared roles, which run_pipeline calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/conversation.h"
#include "chat/reader.h"
#include "chat/record_stream.h"
#include "compile/compiler.h"
#include "compile/pipeline.h"

namespace tokalign::compile::detail {

struct Batch {
  uint64_t seq = 0;
  // The records' texts: views of a mapped input that the stream holds (RecordStream::
  // hold_records: no copy), or of their copies in `data`, back to back, at `copies` (offset,
  // size; made views once the batch is read and `data` no longer moves).
  std::vector<std::string_view> texts;
  std::string data;
  std::vector<std::pair<size_t, size_t>> copies;
  // One per record in texts; kept (with their file names' storage) when the batch is reused,
  // so that reading allocates nothing per record.
  std::vector<chat::SourcePos> positions;
  uint64_t end = 0;  // the file offset just past the last record
  std::vector<PipelineItem> items;  // filled by compile_batch
};

// Whether the batches keep views of their records rather than copies: for a mapped input,
// whose records the stream then holds (RecordStream::hold_records) until they are handed on
// and released; copying them cost the reader 1.1 GB of copies for the 665k mixture. Other
// inputs' records are copied into their batch.
bool hold_views(chat::RecordStream& records);

// Empties `b` (keeping its storage) and reads records into it until it holds `size` of them,
// skipping those options.wanted does not want; `total` counts every record read. `views`: the
// stream is mapped and holds its records (RecordStream::hold_records), so the batch keeps
// views of them instead of copies. Returns true when the batch is full (more records may
// follow), false when the input ended (after the records in it, maybe none). What the stream
// throws goes through, leaving `b` with the records before it, ready to compile.
bool read_batch(chat::RecordStream& records, const PipelineOptions& options, bool views, size_t size, Batch& b,
                uint64_t& total);

// Parses and compiles every record of `b` into b.items, with the calling thread's reader and
// conversation (its strings written in this core's cache, where an item's, last written by
// whichever thread had its batch before, had to be fetched from there).
void compile_batch(chat::ConversationReader& reader, chat::Conversation& conv, const Compiler& compiler, Batch& b);

// One record into `item` (compile_batch, and the pipeline on one thread).
void compile_one(chat::ConversationReader& reader, chat::Conversation& conv, const Compiler& compiler,
                 std::string_view text, const chat::SourcePos& pos, PipelineItem& item);

// The pipeline of `threads` (at least 2) threads that each read, compile and hand on in turn
// (PipelineOptions::Roles::shared; pipeline_shared.cc).
uint64_t run_shared(chat::RecordStream& records, chat::InputFormat format, const Compiler& compiler,
                    const PipelineOptions& options, const std::function<bool(PipelineItem&)>& sink, size_t threads);

}  // namespace tokalign::compile::detail
