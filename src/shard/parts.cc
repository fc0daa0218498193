#include "shard/parts.h"

#include <simdjson.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "util/error.h"
#include "util/file.h"
#include "util/json_write.h"

namespace tokalign::shard {

namespace fs = std::filesystem;
namespace dom = simdjson::dom;

namespace {

// A JSON value in one canonical (minified) form, for comparing manifests field by field.
std::string canonical(dom::parser& p, std::string_view json) {
  dom::element e;
  if (p.parse(json.data(), json.size()).get(e) != simdjson::SUCCESS) return std::string(json);
  return simdjson::to_string(e);
}

std::string canonical(dom::element e) { return simdjson::to_string(e); }

// What must agree between parts: the field's canonical JSON, without the paths (the same
// tokenizer and input may sit under other paths on another machine; their checksums decide:
// the tokenizer files' SHA-256, the input's CRC-32 or SHA-256, named, so that a run with
// another --checksum is another run).
std::string identity_of(const char* name, dom::element e) {
  std::string_view n(name);
  if (n == "tokenizer") {
    dom::element files;
    return e["files"].get(files) == simdjson::SUCCESS ? canonical(files) : canonical(e);
  }
  if (n == "sources") {
    std::string out = "[";
    dom::array a;
    if (e.get(a) != simdjson::SUCCESS) return canonical(e);
    for (dom::element x : a) {
      dom::element h, b;
      out += (out.size() > 1 ? "," : "");
      std::string sum = "null";
      for (const char* kind : {"crc32", "sha256"})
        if (x[kind].get(h) == simdjson::SUCCESS) sum = std::string(kind) + ":" + canonical(h);
      out += sum + "/" + (x["bytes"].get(b) == simdjson::SUCCESS ? canonical(b) : std::string("null"));
    }
    return out + "]";
  }
  return canonical(e);
}

std::string identity_of(dom::parser& p, const char* name, std::string_view json) {
  dom::element e;
  if (p.parse(json.data(), json.size()).get(e) != simdjson::SUCCESS) return std::string(json);
  return identity_of(name, e);
}

bool read_counts(dom::element e, Counts& c) {
  dom::object o;
  if (e.get(o) != simdjson::SUCCESS) return false;
  for (auto field : o) {
    uint64_t v = 0;
    if (field.key == "quarantine_reasons") {
      dom::object r;
      if (field.value.get(r) == simdjson::SUCCESS)
        for (auto kv : r)
          if (kv.value.get(v) == simdjson::SUCCESS) c.reasons[std::string(kv.key)] += v;
      continue;
    }
    if (field.value.get(v) != simdjson::SUCCESS) continue;
    if (field.key == "in") c.in = v;
    else if (field.key == "out") c.out = v;
    else if (field.key == "quarantined") c.quarantined = v;
    else if (field.key == "tokens") c.tokens = v;
    else if (field.key == "trained_tokens") c.trained_tokens = v;
    else if (field.key == "images") c.images = v;
    else if (field.key == "boundary_merge") c.boundary_merge = v;
    else if (field.key == "truncated") c.truncated = v;
    else if (field.key == "special_in_content") c.special_in_content = v;
  }
  return true;
}

bool parse_part_name(const std::string& name, uint64_t& index) {
  if (name.size() < 6 || name.compare(0, 5, "part-") != 0) return false;
  index = 0;
  for (size_t i = 5; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9' || i > 20) return false;
    index = index * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  return true;
}

void write_atomically(const fs::path& path, const std::string& text) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    f.flush();
    if (!f) throw Error(tmp.string() + ": cannot write");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) throw Error(path.string() + ": cannot rename into place: " + ec.message());
}

// The run's fields for parts.json and shard-I-of-N.json, minified (the same bytes whether a
// compile run or tokalign merge writes them).
std::string identity_json(const PartRun& run) {
  dom::parser p;
  return "  \"part_size\": " + std::to_string(run.part_size) + ",\n  \"tokenizer\": " + canonical(p, run.info.tokenizer_json) +
         ",\n  \"template\": " + canonical(p, run.info.template_json) + ",\n  \"options\": " +
         canonical(p, run.info.options_json) + ",\n  \"sources\": " + canonical(p, run.info.sources_json);
}

}  // namespace

std::string part_name(uint64_t index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "part-%05llu", static_cast<unsigned long long>(index));
  return buf;
}

std::string part_json(uint64_t index, uint64_t part_size) {
  return "{\"index\": " + std::to_string(index) + ", \"first_record\": " + std::to_string(index * part_size) +
         ", \"part_size\": " + std::to_string(part_size) + "}";
}

void add_counts(Counts& into, const Counts& c) {
  into.in += c.in;
  into.out += c.out;
  into.quarantined += c.quarantined;
  into.tokens += c.tokens;
  into.trained_tokens += c.trained_tokens;
  into.images += c.images;
  into.boundary_merge += c.boundary_merge;
  into.truncated += c.truncated;
  into.special_in_content += c.special_in_content;
  for (const auto& [k, v] : c.reasons) into.reasons[k] += v;
}

std::map<uint64_t, Counts> committed_parts(const std::string& dir, const PartRun& run) {
  std::map<uint64_t, Counts> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  dom::parser p;
  const char* names[] = {"tokenizer", "template", "options", "sources"};
  const std::string want[] = {identity_of(p, names[0], run.info.tokenizer_json), identity_of(p, names[1], run.info.template_json),
                              identity_of(p, names[2], run.info.options_json), identity_of(p, names[3], run.info.sources_json)};
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    uint64_t index;
    if (!e.is_directory() || !parse_part_name(e.path().filename().string(), index)) continue;
    fs::path manifest = e.path() / "manifest.json";
    if (!fs::exists(manifest)) continue;
    std::string text = read_file(manifest.string());
    dom::element m;
    if (p.parse(text).get(m) != simdjson::SUCCESS)
      throw Error(manifest.string() + ": not valid JSON; remove the part to redo it");
    for (int i = 0; i < 4; ++i) {
      dom::element v;
      if (m[names[i]].get(v) != simdjson::SUCCESS || identity_of(names[i], v) != want[i])
        throw Error(manifest.string() + ": this part was compiled with a different " + names[i] +
                    (std::string_view(names[i]) == "sources"
                         ? " (the input's size and checksum: another input, or another --checksum)"
                         : "") +
                    " than this run; use another --out, or --overwrite to start over");
    }
    uint64_t size = 0, idx = 0;
    if (m["part"]["part_size"].get(size) != simdjson::SUCCESS || m["part"]["index"].get(idx) != simdjson::SUCCESS ||
        size != run.part_size || idx != index)
      throw Error(manifest.string() + ": a part of another partition (part size " + std::to_string(size) +
                  ", not " + std::to_string(run.part_size) + "); use the same --part-size, or --overwrite");
    Counts c;
    dom::element counts;
    if (m["counts"].get(counts) != simdjson::SUCCESS || !read_counts(counts, c))
      throw Error(manifest.string() + ": no counts");
    out.emplace(index, c);
  }
  return out;
}

void remove_unfinished_parts(const std::string& dir, uint64_t slice, uint64_t slices) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    uint64_t p;
    if (parse_part_name(e.path().filename().string(), p) && p % slices == slice && !fs::exists(e.path() / "manifest.json"))
      fs::remove_all(e.path());
  }
}

BackgroundRemoval clear_output(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return {};
  // What is ours goes into a hidden folder first (renames: the folder is clear at once), and
  // that folder is deleted on a thread while the run goes on: a previous run's gigabytes of
  // parts took a second to delete before the first record. Folders a killed run left are
  // deleted with it.
  const std::string kTrash = ".tokalign-old-";
  const fs::path trash = fs::path(dir) / (kTrash + std::to_string(::getpid()));
  std::vector<fs::path> gone;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (n.rfind(kTrash, 0) == 0) {
      if (e.path() != trash) gone.push_back(e.path());
      continue;
    }
    uint64_t index;
    const bool ours = parse_part_name(n, index) || n == "parts.json" || n.rfind("shard-", 0) == 0 ||
                      n == "manifest.json" || n == "quarantine.jsonl" ||
                      (n.size() > 4 && n.compare(n.size() - 4, 4, ".bin") == 0);
    if (!ours) continue;
    if (!fs::exists(trash)) fs::create_directory(trash, ec);
    if (!ec) fs::rename(e.path(), trash / n, ec);
    if (ec) {
      ec.clear();
      fs::remove_all(e.path());  // not movable: removed here, as before
    }
  }
  if (fs::exists(trash)) gone.push_back(trash);
  return BackgroundRemoval(std::move(gone));
}

std::vector<std::string> check_parts(const std::map<uint64_t, Counts>& parts, uint64_t records, uint64_t part_size) {
  std::vector<std::string> problems;
  const uint64_t n = part_size ? (records + part_size - 1) / part_size : 0;
  std::string missing;
  size_t missing_count = 0;
  for (uint64_t i = 0; i < n; ++i)
    if (!parts.count(i)) {
      if (++missing_count <= 10) missing += (missing.empty() ? "" : ", ") + part_name(i);
    }
  if (missing_count)
    problems.push_back(std::to_string(missing_count) + " of " + std::to_string(n) + " parts missing: " + missing +
                       (missing_count > 10 ? ", ..." : ""));
  for (const auto& [i, c] : parts) {
    if (i >= n) {
      problems.push_back(part_name(i) + " is beyond the input's " + std::to_string(records) + " records");
      continue;
    }
    const uint64_t want = i + 1 < n ? part_size : records - i * part_size;
    if (c.in != want)
      problems.push_back(part_name(i) + " holds " + std::to_string(c.in) + " records, not " + std::to_string(want));
    if (c.in != c.out + c.quarantined)
      problems.push_back(part_name(i) + ": in " + std::to_string(c.in) + " != out " + std::to_string(c.out) +
                         " + quarantined " + std::to_string(c.quarantined));
  }
  return problems;
}

void write_parts_index(const std::string& dir, const PartRun& run, uint64_t records,
                       const std::map<uint64_t, Counts>& parts) {
  Counts total;
  std::string list;
  for (const auto& [i, c] : parts) {
    add_counts(total, c);
    list += (list.empty() ? "" : ", ") + json_quoted(part_name(i));
  }
  std::string j = "{\n  \"format\": \"tokalign-parts\",\n  \"format_version\": 1,\n  \"tool\": \"tokalign " TOKALIGN_VERSION
                  "\",\n  \"records\": " + std::to_string(records) + ",\n" + identity_json(run) +
                  ",\n  \"counts\": " + counts_json(total) + ",\n  \"parts\": [" + list + "]\n}\n";
  write_atomically(fs::path(dir) / "parts.json", j);
}

void write_slice_record(const std::string& dir, const PartRun& run, uint64_t slice, uint64_t slices,
                        uint64_t records, const std::vector<uint64_t>& parts_written) {
  std::string list;
  for (uint64_t i : parts_written) list += (list.empty() ? "" : ", ") + json_quoted(part_name(i));
  std::string j = "{\n  \"format\": \"tokalign-parts-slice\",\n  \"slice\": " + std::to_string(slice) +
                  ",\n  \"slices\": " + std::to_string(slices) + ",\n  \"records\": " + std::to_string(records) +
                  ",\n" + identity_json(run) + ",\n  \"parts_written\": [" + list + "]\n}\n";
  write_atomically(fs::path(dir) / ("shard-" + std::to_string(slice) + "-of-" + std::to_string(slices) + ".json"), j);
}

bool read_part_run(const std::string& part_dir, PartRun& run) {
  fs::path manifest = fs::path(part_dir) / "manifest.json";
  std::error_code ec;
  if (!fs::exists(manifest, ec)) return false;
  dom::parser p;
  std::string text = read_file(manifest.string());
  dom::element m;
  if (p.parse(text).get(m) != simdjson::SUCCESS) throw Error(manifest.string() + ": not valid JSON");
  dom::element v;
  std::string* fields[] = {&run.info.tokenizer_json, &run.info.template_json, &run.info.options_json,
                           &run.info.sources_json};
  const char* names[] = {"tokenizer", "template", "options", "sources"};
  for (int i = 0; i < 4; ++i) {
    if (m[names[i]].get(v) != simdjson::SUCCESS) throw Error(manifest.string() + ": no " + names[i]);
    *fields[i] = canonical(v);
  }
  if (m["part"]["part_size"].get(run.part_size) != simdjson::SUCCESS)
    throw Error(manifest.string() + ": not a part of a parted output (no part.part_size)");
  return true;
}

std::map<uint64_t, std::string> part_folders(const std::string& dir) {
  std::map<uint64_t, std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    uint64_t index;
    if (e.is_directory() && parse_part_name(e.path().filename().string(), index) && fs::exists(e.path() / "manifest.json"))
      out.emplace(index, e.path().string());
  }
  return out;
}

std::vector<std::string> output_shards(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(fs::path(dir) / "parts.json", ec)) return {dir};
  std::vector<std::string> out;
  for (const auto& [i, path] : part_folders(dir)) out.push_back(path);
  return out;
}

bool recorded_records(const std::string& dir, uint64_t& records) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return false;
  dom::parser p;
  bool found = false;
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    bool slice = name.rfind("shard-", 0) == 0 && name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0;
    if (name != "parts.json" && !slice) continue;
    dom::element m;
    uint64_t r = 0;
    std::string text = read_file(e.path().string());
    if (p.parse(text).get(m) == simdjson::SUCCESS && m["records"].get(r) == simdjson::SUCCESS) {
      if (found && r != records)
        throw Error(e.path().string() + ": says the input has " + std::to_string(r) + " records, another file says " +
                    std::to_string(records));
      records = r;
      found = true;
    }
  }
  return found;
}

}  // namespace tokalign::shard
