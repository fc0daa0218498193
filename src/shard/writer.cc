#include "shard/writer.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "util/error.h"
#include "util/file.h"
#include "util/json_write.h"
#include "util/sha256.h"
#include "util/thread_cpu.h"

namespace tokalign::shard {

static_assert(std::endian::native == std::endian::little, "the shard format is little-endian");

namespace {

// A file written front to back, hashed as it goes; errors name it. Writes go through a
// buffer of kBuffer bytes, so the file and the checksum see a few large writes instead of
// several small ones per sample. In the background mode a thread of the file's own writes
// and hashes the full buffers (SHA-256 runs at well under 1 GB/s, and the shard's big files
// would otherwise hash on the one thread that hands samples on in order).
class OutFile {
 public:
  OutFile(std::string path, bool is_stdout = false, bool background = false) : path_(std::move(path)) {
    f_ = is_stdout ? stdout : std::fopen(path_.c_str(), "wb");
    owned_ = !is_stdout;
    if (!f_) throw Error(path_ + ": cannot create: " + std::strerror(errno));
    if (background) {
      bg_ = std::make_unique<Background>();
      bg_->thread = std::thread([this] {
        pthread_setname_np(pthread_self(), "tokalign-write");
        background_loop();
        note_thread_cpu("shard file writers");
      });
    }
  }
  ~OutFile() {
    stop_background();  // writes what was queued
    if (f_ && !buf_.empty()) std::fwrite(buf_.data(), 1, buf_.size(), f_);  // best effort, as fclose's own flush
    if (f_ && owned_) std::fclose(f_);
  }
  void write(std::string_view s) {
    if (s.empty()) return;
    bytes_ += s.size();
    if (bg_) {
      buf_.append(s);
      if (buf_.size() >= kBuffer) drain();
      return;
    }
    if (buf_.size() + s.size() > kBuffer) drain();
    if (s.size() >= kBuffer) {
      put(s);
      return;
    }
    buf_.append(s);
  }
  template <class T>
  void write_pod(const T* p, size_t n) {
    write(std::string_view(reinterpret_cast<const char*>(p), n * sizeof(T)));
  }
  // Flushes and closes; with `sync`, also forces the data to disk (shard files are synced
  // before the manifest that vouches for them is renamed into place).
  void close(bool sync = false) {
    drain();
    if (waited_ > 0) note_wait("handing on, for the shard file writers' room", waited_);
    waited_ = 0;
    if (stop_background()) throw Error(path_ + ": write error: " + bg_error_);
    bool bad = std::fflush(f_) != 0 || std::ferror(f_);
    if (sync && !bad && ::fsync(fileno(f_)) != 0) bad = true;
    if (owned_ && std::fclose(f_) != 0 && !bad) {
      f_ = nullptr;
      throw Error(path_ + ": write error: " + std::strerror(errno));
    }
    if (owned_) f_ = nullptr;
    // The buffers go now, not with the object (a parted run's part may wait a while to be
    // committed).
    std::string().swap(buf_);
    if (bg_) std::vector<std::string>().swap(bg_->spare);
    if (bad) throw Error(path_ + ": write error: " + std::strerror(errno));
  }
  uint64_t bytes() const { return bytes_; }
  std::string sha256() { return hash_.hex(); }  // after close()
  const std::string& path() const { return path_; }

 private:
  static constexpr size_t kBuffer = 1 << 20;
  static constexpr size_t kQueued = 4;  // full buffers waiting for the background thread, at most
  struct Background {
    std::thread thread;
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::string> full;     // to write, in order
    std::vector<std::string> spare;   // written, for reuse
    bool busy = false, closing = false;
    std::string error;
  };
  void put(std::string_view s) {
    if (std::fwrite(s.data(), 1, s.size(), f_) != s.size()) throw Error(path_ + ": write error: " + std::strerror(errno));
    hash_.update(s);
  }
  void drain() {
    if (buf_.empty()) return;
    if (!bg_) {
      put(buf_);
      buf_.clear();
      return;
    }
    std::unique_lock<std::mutex> lock(bg_->mu);
    timed_wait(bg_->cv, lock, waited_, [&] { return bg_->full.size() < kQueued || !bg_->error.empty(); });
    if (!bg_->error.empty()) throw Error(path_ + ": write error: " + bg_->error);
    bg_->full.push_back(std::move(buf_));
    buf_.clear();
    if (!bg_->spare.empty()) {
      buf_ = std::move(bg_->spare.back());
      bg_->spare.pop_back();
    }
    bg_->cv.notify_all();
  }
  void background_loop() {
    std::unique_lock<std::mutex> lock(bg_->mu);
    for (;;) {
      bg_->cv.wait(lock, [&] { return !bg_->full.empty() || bg_->closing; });
      if (bg_->full.empty()) return;  // closing, all written
      std::string b = std::move(bg_->full.front());
      bg_->full.pop_front();
      lock.unlock();
      std::string error;
      if (bg_->error.empty()) {  // after an error nothing more is written (the file is reported bad)
        if (std::fwrite(b.data(), 1, b.size(), f_) != b.size()) error = std::strerror(errno);
        else hash_.update(b);
        start_writeback(b.size());
      }
      b.clear();
      lock.lock();
      if (!error.empty() && bg_->error.empty()) bg_->error = error;
      bg_->spare.push_back(std::move(b));
      bg_->cv.notify_all();
    }
  }
  // Starts the kernel writing what this file has so far, every kWriteback bytes, so the final
  // fsync (the shard is synced before its manifest) finds little left to do instead of
  // writing gigabytes at the end. Only a hint: a write error still surfaces at fsync.
  void start_writeback(size_t n) {
    unsynced_ += n;
    if (unsynced_ < kWriteback || !owned_) return;
    if (std::fflush(f_) == 0) ::sync_file_range(fileno(f_), static_cast<off_t>(synced_), static_cast<off_t>(unsynced_), SYNC_FILE_RANGE_WRITE);
    synced_ += unsynced_;
    unsynced_ = 0;
  }
  // Lets the background thread write what is queued and end; true if it met an error.
  bool stop_background() {
    if (!bg_ || !bg_->thread.joinable()) return bg_ && !bg_error_.empty();
    {
      std::lock_guard<std::mutex> lock(bg_->mu);
      bg_->closing = true;
      bg_->cv.notify_all();
    }
    bg_->thread.join();
    bg_error_ = bg_->error;
    return !bg_error_.empty();
  }
  static constexpr size_t kWriteback = 4 << 20;
  uint64_t synced_ = 0, unsynced_ = 0;  // bytes handed to start_writeback, and since the last hint
  std::string buf_;
  std::unique_ptr<Background> bg_;
  std::string bg_error_;
  double waited_ = 0;  // seconds drain() waited for room in the background thread's queue
  std::string path_;
  FILE* f_ = nullptr;
  bool owned_ = true;
  Sha256 hash_;
  uint64_t bytes_ = 0;
};

struct SampleRecord {
  uint64_t token_offset;
  uint64_t id_offset;  // into strings.bin
  uint32_t length;
  uint32_t id_length;
  uint32_t image_start;  // into images.bin
  uint32_t image_count;
  uint32_t flags;
  uint32_t trained;
};
static_assert(sizeof(SampleRecord) == 40);

struct ImageRecord {
  uint64_t path_offset;  // into strings.bin
  uint32_t path_length;
  uint32_t sample;
  uint32_t position;
  uint32_t token_count;
  uint32_t width;   // 0: unknown
  uint32_t height;  // 0: unknown
};
static_assert(sizeof(ImageRecord) == 32);

void append_int_array(std::string& out, const std::vector<int32_t>& v) {
  out.push_back('[');
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out.push_back(',');
    if (v[i] < 0) {
      out.push_back('-');
      append_uint(out, static_cast<uint64_t>(-static_cast<int64_t>(v[i])));
    } else {
      append_uint(out, static_cast<uint64_t>(v[i]));
    }
  }
  out.push_back(']');
}

void append_flags(std::string& out, const Sample& s) {
  if (s.flags & kBoundaryMerge) {
    out += ",\"boundary_merges\":";
    append_uint(out, s.boundary_merges);
  }
  if (s.flags & kTruncated) {
    out += ",\"dropped_messages\":";
    append_uint(out, s.dropped_turns);
  }
  if (s.flags & kSpecialInContent) out += ",\"special_in_content\":true";
}

class JsonlWriter : public SampleWriter {
 public:
  JsonlWriter(const std::string& path, const std::string& qpath)
      : out_(path == "-" ? "<stdout>" : path, path == "-"), q_(qpath) {}
  void write(const Sample& s) override {
    count(s, s.trained_tokens());
    line_.clear();
    line_ += "{\"id\":";
    append_json_string(line_, s.id);
    line_ += ",\"input_ids\":";
    append_int_array(line_, s.input_ids);
    line_ += ",\"labels\":";
    append_int_array(line_, s.labels);
    line_ += ",\"images\":[";
    for (size_t i = 0; i < s.images.size(); ++i) {
      if (i) line_.push_back(',');
      append_json_string(line_, s.images[i].path);
    }
    line_.push_back(']');
    // With a vision policy: each image's header size and positions, and the sample's length
    // with placeholders counted as their expansion.
    if (!s.images.empty() && s.images[0].visual_tokens) {
      line_ += ",\"image_tokens\":[";
      for (size_t i = 0; i < s.images.size(); ++i) {
        const ImageSlot& im = s.images[i];
        line_ += (i ? ",{" : "{") + std::string("\"width\":") + std::to_string(im.width) +
                 ",\"height\":" + std::to_string(im.height) + ",\"tokens\":" + std::to_string(im.visual_tokens) + "}";
      }
      line_ += "],\"length_with_images\":" + std::to_string(s.length_with_images());
    }
    append_flags(line_, s);
    if (!s.segments.empty()) {
      line_ += ",\"segments\":[";
      for (size_t i = 0; i < s.segments.size(); ++i) {
        const Sample::SegmentText& g = s.segments[i];
        line_ += i ? ",[" : "[";
        append_json_string(line_, g.kind);
        line_.push_back(',');
        append_json_string(line_, g.text);
        line_.push_back(',');
        append_json_string(line_, g.role);
        line_.push_back(',');
        line_ += std::to_string(g.turn);
        line_.push_back(']');
      }
      line_.push_back(']');
    }
    line_ += "}\n";
    out_.write(line_);
  }
  void quarantine(const QuarantineRecord& q) override {
    count(q);
    q_.write(q.to_json() + "\n");
  }
  void finish(const RunInfo&) override {
    out_.close();
    q_.close();
  }

 private:
  OutFile out_, q_;
  std::string line_;
};

namespace fs = std::filesystem;

class ShardWriter : public SampleWriter {
 public:
  ShardWriter(const std::string& dir, bool overwrite) : dir_(dir) {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) throw Error(dir_ + ": cannot create the shard folder: " + ec.message());
    if (fs::exists(fs::path(dir_) / "manifest.json")) {
      if (!overwrite) throw Error(dir_ + ": already holds a shard (manifest.json); pass --overwrite to replace it");
      // The old manifest goes first: a run that dies half way must not leave it vouching
      // for new data files.
      if (std::remove(final_path("manifest.json").c_str()) != 0)
        throw Error(final_path("manifest.json") + ": cannot remove: " + std::strerror(errno));
    }
    // Data files of an earlier shard here (no manifest vouches for them any more) are moved
    // aside now and deleted on a thread of their own while this run compiles: renaming the
    // new files over them at the end would free their blocks and cached pages then, some
    // 10 ms per 40 MB on the critical path of a rerun.
    std::vector<fs::path> aside;
    for (const char* n : kFiles) {
      const std::string old = final_path(n) + ".old";
      // (One left by a run killed while it deleted is deleted too.)
      if (std::rename(final_path(n).c_str(), old.c_str()) == 0 || fs::exists(old)) aside.push_back(old);
    }
    cleanup_ = BackgroundRemoval(std::move(aside));
    for (const char* n : kFiles) files_.emplace_back(std::make_unique<OutFile>(tmp(n), false, true));
  }
  ~ShardWriter() override {
    cleanup_.wait();
    if (finished_) return;
    files_.clear();  // close, then remove what an unfinished run wrote
    for (const char* n : kFiles) std::remove(tmp(n).c_str());
    std::remove(tmp("manifest.json").c_str());
  }
  void write(const Sample& s) override {
    const uint64_t trained = s.trained_tokens();
    count(s, trained);
    SampleRecord r{};
    r.token_offset = tokens_;
    r.length = static_cast<uint32_t>(s.input_ids.size());
    r.id_offset = strings().bytes();
    r.id_length = static_cast<uint32_t>(s.id.size());
    r.image_start = static_cast<uint32_t>(images_);
    r.image_count = static_cast<uint32_t>(s.images.size());
    r.flags = s.flags;
    r.trained = static_cast<uint32_t>(trained);
    // LLaVA's modality_lengths: the length the model sees (images counted as their expansion
    // where a vision policy gave it), negative for a sample without images.
    const int64_t len = static_cast<int64_t>(s.length_with_images());
    const int32_t modality_length = static_cast<int32_t>(s.images.empty() ? -len : len);
    lengths().write_pod(&modality_length, 1);
    strings().write(s.id);
    ids().write_pod(s.input_ids.data(), s.input_ids.size());
    labels().write_pod(s.labels.data(), s.labels.size());
    for (const ImageSlot& slot : s.images) {
      ImageRecord ir{};
      ir.path_offset = strings().bytes();
      ir.path_length = static_cast<uint32_t>(slot.path.size());
      ir.sample = static_cast<uint32_t>(samples_);
      ir.position = slot.position;
      ir.token_count = slot.token_count;
      ir.width = slot.width;
      ir.height = slot.height;
      strings().write(slot.path);
      images().write_pod(&ir, 1);
      ++images_;
    }
    samples().write_pod(&r, 1);
    tokens_ += s.input_ids.size();
    ++samples_;
  }
  void quarantine(const QuarantineRecord& q) override {
    count(q);
    quarantine_file().write(q.to_json() + "\n");
  }
  void seal() override {
    if (sealed_) return;
    // The files are flushed and synced all at once (each sync waits on the disk).
    std::vector<std::future<void>> closing;
    for (auto& f : files_) closing.push_back(std::async(std::launch::async, [&f] { f->close(true); }));
    std::exception_ptr error;
    for (auto& c : closing) {
      try {
        c.get();
      } catch (...) {
        if (!error) error = std::current_exception();
      }
    }
    if (error) std::rethrow_exception(error);
    sealed_ = true;
  }
  void finish(const RunInfo& info) override {
    seal();  // then renamed
    cleanup_.wait();
    std::string files = "{";
    for (size_t i = 0; i < files_.size(); ++i) {
      rename(tmp(kFiles[i]), final_path(kFiles[i]));
      if (i) files += ",";
      append_json_string(files, kFiles[i]);
      files += ":{\"bytes\":";
      append_uint(files, files_[i]->bytes());
      files += ",\"sha256\":\"" + files_[i]->sha256() + "\"}";
    }
    files += "}";
    std::string m = "{\n  \"format\": \"tokalign-shard\",\n  \"format_version\": 1,\n  \"tool\": \"tokalign " TOKALIGN_VERSION "\",\n";
    m += "  \"layout\": {\"sample_record_bytes\": 40, \"image_record_bytes\": 32, \"length_bytes\": 4, \"byte_order\": \"little\"},\n";
    m += "  \"counts\": " + counts_json(counts_) + ",\n";
    m += "  \"tokenizer\": " + info.tokenizer_json + ",\n";
    m += "  \"template\": " + info.template_json + ",\n";
    m += "  \"options\": " + info.options_json + ",\n";
    m += "  \"sources\": " + info.sources_json + ",\n";
    if (!info.part_json.empty()) m += "  \"part\": " + info.part_json + ",\n";
    m += "  \"files\": " + files + "\n}\n";
    OutFile mf(tmp("manifest.json"));
    mf.write(m);
    mf.close(true);
    rename(tmp("manifest.json"), final_path("manifest.json"));
    sync_dir();
    finished_ = true;
  }

 private:
  static constexpr const char* kFiles[] = {"input_ids.bin", "labels.bin", "samples.bin", "images.bin", "strings.bin",
                                           "quarantine.jsonl", "lengths.bin"};
  OutFile& ids() { return *files_[0]; }
  OutFile& labels() { return *files_[1]; }
  OutFile& samples() { return *files_[2]; }
  OutFile& images() { return *files_[3]; }
  OutFile& strings() { return *files_[4]; }
  OutFile& quarantine_file() { return *files_[5]; }
  OutFile& lengths() { return *files_[6]; }
  std::string final_path(const char* n) const { return (fs::path(dir_) / n).string(); }
  std::string tmp(const char* n) const { return final_path(n) + ".tmp"; }
  static void rename(const std::string& from, const std::string& to) {
    if (std::rename(from.c_str(), to.c_str()) != 0) throw Error(to + ": cannot rename into place: " + std::strerror(errno));
  }

  void sync_dir() const {
    const int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
  }

  BackgroundRemoval cleanup_;  // deletes an earlier shard's data files (constructor)
  std::string dir_;
  bool sealed_ = false;    // data files closed and synced
  bool finished_ = false;
  std::vector<std::unique_ptr<OutFile>> files_;
  uint64_t tokens_ = 0, images_ = 0, samples_ = 0;
};

}  // namespace

std::string QuarantineRecord::to_json() const {
  std::string s = "{\"id\":";
  append_json_string(s, id);
  s += ",\"index\":";
  append_uint(s, index);
  s += ",\"file\":";
  append_json_string(s, file);
  if (line) {
    s += ",\"line\":";
    append_uint(s, line);
  }
  s += ",\"byte_offset\":";
  append_uint(s, byte_offset);
  s += ",\"reason\":";
  append_json_string(s, reason);
  s += ",\"field\":";
  append_json_string(s, field);
  s += ",\"message\":";
  append_json_string(s, message);
  s += "}";
  return s;
}

void SampleWriter::count(const Sample& s, uint64_t trained) {
  ++counts_.in;
  ++counts_.out;
  counts_.tokens += s.input_ids.size();
  counts_.trained_tokens += trained;
  counts_.images += s.images.size();
  counts_.boundary_merge += (s.flags & kBoundaryMerge) != 0;
  counts_.truncated += (s.flags & kTruncated) != 0;
  counts_.special_in_content += (s.flags & kSpecialInContent) != 0;
}

void SampleWriter::count(const QuarantineRecord& q) {
  ++counts_.in;
  ++counts_.quarantined;
  ++counts_.reasons[q.reason];
}

std::string counts_json(const Counts& c) {
  std::string s = "{";
  auto field = [&](const char* k, uint64_t v) {
    if (s.size() > 1) s += ", ";
    s += "\"";
    s += k;
    s += "\": ";
    append_uint(s, v);
  };
  field("in", c.in);
  field("out", c.out);
  field("quarantined", c.quarantined);
  field("tokens", c.tokens);
  field("trained_tokens", c.trained_tokens);
  field("images", c.images);
  field("boundary_merge", c.boundary_merge);
  field("truncated", c.truncated);
  field("special_in_content", c.special_in_content);
  s += ", \"quarantine_reasons\": {";
  bool first = true;
  for (const auto& [k, v] : c.reasons) {
    if (!first) s += ", ";
    first = false;
    append_json_string(s, k);
    s += ": ";
    append_uint(s, v);
  }
  s += "}}";
  return s;
}

std::unique_ptr<SampleWriter> make_jsonl_writer(const std::string& path, const std::string& quarantine_path) {
  return std::make_unique<JsonlWriter>(path, quarantine_path);
}

std::unique_ptr<SampleWriter> make_shard_writer(const std::string& dir, bool overwrite) {
  return std::make_unique<ShardWriter>(dir, overwrite);
}

}  // namespace tokalign::shard
