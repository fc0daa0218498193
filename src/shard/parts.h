// A parted output: one run's shards cut by input record, so that a large compile can be
// resumed after a crash and split across machines (docs/shard-format.md, "Parted output").
//
//   DIR/part-00000/   a shard (format v1) of input records [0, K)
//   DIR/part-00001/   records [K, 2K) ... (K: the part size; the last part holds the rest)
//   DIR/shard-I-of-N.json   what a --shard I/N run did (its parts, the input's record count)
//   DIR/parts.json    written when every part is there: the parts in order, summed counts
//
// A part is committed when its manifest.json is in place (the shard writer renames it last);
// a part folder without one is an interrupted attempt and is redone. Parts are cut by input
// record (quarantined records included), so the same input and options give the same parts
// whoever writes them, in whatever order, however often interrupted.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "shard/writer.h"
#include "util/file.h"

namespace tokalign::shard {

std::string part_name(uint64_t index);  // "part-00000"

// What identifies a run's output: the manifest fields that must agree between parts.
struct PartRun {
  RunInfo info;            // tokenizer, template, options, sources
  uint64_t part_size = 0;  // records per part
};

// The part manifest's "part" value.
std::string part_json(uint64_t index, uint64_t part_size);

// The committed parts of `dir` (index -> counts). Throws tokalign::Error naming the part
// when one belongs to a different run (other tokenizer, template, options, input or part
// size).
std::map<uint64_t, Counts> committed_parts(const std::string& dir, const PartRun& run);

// Removes the part folders p of `dir` with p % slices == slice that have no manifest
// (interrupted attempts, to be redone; another slice's may be in progress).
void remove_unfinished_parts(const std::string& dir, uint64_t slice, uint64_t slices);

// Clears what compile writes to an output folder (a shard or a parted output), for
// --overwrite: moved into a hidden folder at once, deleted by the returned removal (other
// files are left alone).
BackgroundRemoval clear_output(const std::string& dir);

// Sums counts.
void add_counts(Counts& into, const Counts& c);

// Checks that parts 0 .. ceil(records / part_size) - 1 are all in `parts`, each holding the
// records it should (in = part_size, the last the rest; in = out + quarantined). Returns the
// problems, one sentence each (empty: complete and consistent).
std::vector<std::string> check_parts(const std::map<uint64_t, Counts>& parts, uint64_t records, uint64_t part_size);

// Writes DIR/parts.json (atomically) for a complete set of parts.
void write_parts_index(const std::string& dir, const PartRun& run, uint64_t records,
                       const std::map<uint64_t, Counts>& parts);

// Writes DIR/shard-I-of-N.json: this slice's parts and the input's record count.
void write_slice_record(const std::string& dir, const PartRun& run, uint64_t slice, uint64_t slices,
                        uint64_t records, const std::vector<uint64_t>& parts_written);

// The run a committed part belongs to, from its manifest; false when `part_dir` holds none.
bool read_part_run(const std::string& part_dir, PartRun& run);

// The committed part folders of `dir` (index -> path).
std::map<uint64_t, std::string> part_folders(const std::string& dir);

// The shard folders of what compile wrote to `dir`: its parts in order when it is a parted
// output (parts.json), else `dir` itself.
std::vector<std::string> output_shards(const std::string& dir);

// The input's record count as recorded by any parts.json or shard-*-of-*.json in `dir`
// (0 and false when none says).
bool recorded_records(const std::string& dir, uint64_t& records);

}  // namespace tokalign::shard
