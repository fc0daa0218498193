#include "shard/reader.h"

#include <simdjson.h>

#include <cstring>
#include <filesystem>
#include <sstream>

#include "util/error.h"
#include "util/file.h"

namespace tokalign::shard {

namespace {

struct SampleRecord {
  uint64_t token_offset, id_offset;
  uint32_t length, id_length, image_start, image_count, flags, trained;
};
struct ImageRecord {
  uint64_t path_offset;
  uint32_t path_length, sample, position, token_count, width, height;
};
static_assert(sizeof(SampleRecord) == 40 && sizeof(ImageRecord) == 32);

template <class T>
T at(const std::string& buf, size_t i) {
  T v;
  std::memcpy(&v, buf.data() + i * sizeof(T), sizeof(T));
  return v;
}

}  // namespace

ShardReader::ShardReader(const std::string& dir) : dir_(dir) {
  namespace fs = std::filesystem;
  const std::string mpath = (fs::path(dir) / "manifest.json").string();
  if (!fs::exists(mpath)) throw Error(dir + ": not a shard folder (no manifest.json; an interrupted compile leaves none)");
  const std::string manifest = read_file(mpath);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(manifest).get(doc)) throw Error(mpath + ": not valid JSON");
  std::string_view format;
  int64_t version = 0;
  // Versions 1 and 2 differ only in the files' checksums (SHA-256 or CRC-32), which this
  // reader does not check (the sizes it does).
  if (doc["format"].get(format) || format != "tokalign-shard" || doc["format_version"].get(version) ||
      (version != 1 && version != 2))
    throw Error(mpath + ": not a tokalign shard of format version 1 or 2");
  std::string_view tp;
  if (!doc["tokenizer"]["path"].get(tp)) tokenizer_path_ = std::string(tp);
  auto load = [&](const char* name, std::string& into) {
    const std::string p = (fs::path(dir) / name).string();
    into = read_file(p);
    int64_t bytes = -1;
    if (doc["files"][name]["bytes"].get(bytes) || static_cast<uint64_t>(bytes) != into.size())
      throw Error(p + ": size does not match the manifest (a damaged or mixed shard)");
  };
  load("input_ids.bin", ids_);
  load("labels.bin", labels_);
  load("samples.bin", samples_);
  load("images.bin", images_);
  load("strings.bin", strings_);
  if (samples_.size() % sizeof(SampleRecord) || images_.size() % sizeof(ImageRecord) || ids_.size() % 4 ||
      ids_.size() != labels_.size())
    throw Error(dir + ": record files have the wrong sizes");
  n_ = samples_.size() / sizeof(SampleRecord);
  std::string q;
  load("quarantine.jsonl", q);
  std::istringstream in(q);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    simdjson::dom::element e;
    if (parser.parse(line).get(e)) throw Error(dir + "/quarantine.jsonl: a line is not valid JSON");
    QuarantineRecord r;
    std::string_view sv;
    int64_t v;
    if (!e["id"].get(sv)) r.id = std::string(sv);
    if (!e["index"].get(v)) r.index = static_cast<uint64_t>(v);
    if (!e["file"].get(sv)) r.file = std::string(sv);
    if (!e["line"].get(v)) r.line = static_cast<uint64_t>(v);
    if (!e["byte_offset"].get(v)) r.byte_offset = static_cast<uint64_t>(v);
    if (!e["reason"].get(sv)) r.reason = std::string(sv);
    if (!e["field"].get(sv)) r.field = std::string(sv);
    if (!e["message"].get(sv)) r.message = std::string(sv);
    quarantine_.push_back(std::move(r));
  }
}

Sample ShardReader::get(size_t i) const {
  const SampleRecord r = at<SampleRecord>(samples_, i);
  const size_t tokens = ids_.size() / 4;
  if (r.token_offset + r.length > tokens || r.id_offset + r.id_length > strings_.size() ||
      r.image_start + static_cast<uint64_t>(r.image_count) > images_.size() / sizeof(ImageRecord))
    throw Error(dir_ + "/samples.bin: record " + std::to_string(i) + " points outside the data");
  Sample s;
  s.id = strings_.substr(r.id_offset, r.id_length);
  s.input_ids.resize(r.length);
  s.labels.resize(r.length);
  std::memcpy(s.input_ids.data(), ids_.data() + r.token_offset * 4, r.length * 4);
  std::memcpy(s.labels.data(), labels_.data() + r.token_offset * 4, r.length * 4);
  s.flags = r.flags;
  for (uint32_t k = 0; k < r.image_count; ++k) {
    const ImageRecord ir = at<ImageRecord>(images_, r.image_start + k);
    if (ir.path_offset + ir.path_length > strings_.size()) throw Error(dir_ + "/images.bin: a path points outside strings.bin");
    s.images.push_back(ImageSlot{ir.position, ir.token_count, strings_.substr(ir.path_offset, ir.path_length)});
  }
  return s;
}

}  // namespace tokalign::shard
