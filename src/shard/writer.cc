#include "shard/writer.h"

#include <fcntl.h>
#include <pthread.h>
#include <climits>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <bit>
#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <tuple>

#include "util/aligned_alloc.h"
#include "util/checksum.h"
#include "util/error.h"
#include "util/file.h"
#include "util/json_write.h"
#include "util/sha256_pair.h"
#include "util/thread_cpu.h"

namespace tokalign::shard {

static_assert(std::endian::native == std::endian::little, "the shard format is little-endian");

namespace {

// Writes all of `s` to `fd`; false with errno set on an error.
bool write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    s.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Writes all of `iov` to `fd` (consumed as it goes); false with errno set on an error.
bool writev_all(int fd, std::vector<iovec>& iov) {
  size_t at = 0;
  while (at < iov.size()) {
    const ssize_t n = ::writev(fd, iov.data() + at, static_cast<int>(iov.size() - at));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    for (size_t done = static_cast<size_t>(n); done;) {
      if (done >= iov[at].iov_len) {
        done -= iov[at].iov_len;
        ++at;
      } else {
        iov[at].iov_base = static_cast<char*>(iov[at].iov_base) + done;
        iov[at].iov_len -= done;
        done = 0;
      }
    }
  }
  return true;
}

// Clears O_DIRECT on `fd` (writes of any size and address from here on); false on an error.
bool buffered(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && ((flags & O_DIRECT) == 0 || ::fcntl(fd, F_SETFL, flags & ~O_DIRECT) == 0);
}

// A file written front to back, checksummed as it goes (when `sum` names a checksum); errors
// name it. Writes go through a buffer of kBuffer bytes, so the file and the checksum see a
// few large writes instead of several small ones per sample. In the background mode a thread
// of the file's own writes and checksums the full buffers (the shard's big files would
// otherwise be written on the one thread that hands samples on in order).
//
// A twin OutFile is two files written in step, the same number of bytes to each at every
// write (a shard's input_ids.bin and labels.bin): one buffer, thread and queue for both; with
// SHA-256, their digests computed together (util/sha256_pair.h), in 0.8 of the time of
// hashing them one after the other.
//
// `taking` (a background file of one lane, not direct): take() takes whole vectors of 32-bit
// values instead of copying their bytes (below), and the file's byte buffers are made only if
// write() is called too.
//
// `direct`: the full buffers go to the disk without the page cache (O_DIRECT), where the file
// system takes it, in whole pages from page-aligned buffers (the bytes past the last whole
// page move to the next buffer, and the last few are written through the page cache at
// close). The kernel's copy of each buffer into the page cache cost a one-CPU compile of the
// 665k mixture 1.4-5 s of its 10-13 s on the VM (docs/BENCHMARKS.md): with few CPUs that copy
// takes the compile's own time. (With many, the page cache's write-back spreads the disk's
// work better than one blocking write at a time: there the files stay buffered.)
class OutFile {
 public:
  // `path` "-": standard output (one lane, not closed here).
  OutFile(std::string path, bool background = false, std::string twin_path = {},
          std::optional<Checksum> sum = std::nullopt, bool direct = false, bool taking = false)
      : lanes_(twin_path.empty() ? 1 : 2), owned_(path != "-") {
    path_[0] = owned_ ? std::move(path) : "<stdout>";
    path_[1] = std::move(twin_path);
    direct_ = direct && background && owned_;
    taking_ = taking && background && lanes_ == 1 && !direct_;
    if (!owned_) fd_[0] = STDOUT_FILENO;
    for (int l = owned_ ? 0 : lanes_; l < lanes_; ++l) {
      const int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
      fd_[l] = direct_ ? ::open(path_[l].c_str(), flags | O_DIRECT, 0666) : -1;
      if (fd_[l] < 0) fd_[l] = ::open(path_[l].c_str(), flags, 0666);  // (no O_DIRECT here: tmpfs, some FUSE)
      if (fd_[l] < 0) {
        const std::string error = path_[l] + ": cannot create: " + std::strerror(errno);
        if (l) ::close(fd_[0]);
        throw Error(error);
      }
    }
    if (sum && *sum == Checksum::sha256 && lanes_ == 2) pair_ = std::make_unique<Sha256Pair>();
    else if (sum)
      for (int l = 0; l < lanes_; ++l) sum_[l] = std::make_unique<Digest>(*sum);
    if (background) {
      bg_ = std::make_unique<Background>();
      reserve_buffers(buf_);
      bg_->thread = std::thread([this] {
        pthread_setname_np(pthread_self(), "tokalign-write");
        background_loop();
        note_thread_cpu("shard file writers");
      });
    }
  }
  ~OutFile() {
    stop_background();  // writes what was queued
    for (int l = 0; l < lanes_; ++l) {
      if (fd_[l] < 0) continue;
      if (!buf_.bytes[l].empty() && buffered(fd_[l])) write_all(fd_[l], buf_.bytes[l]);  // best effort, as a close's own flush
      if (owned_) ::close(fd_[l]);
    }
  }
  void write(std::string_view s) {
    assert(lanes_ == 1);
    write_lanes({s, {}});
  }
  // A twin's write: `a` to the first file, `b` (as long) to the second.
  void write(std::string_view a, std::string_view b) {
    assert(lanes_ == 2);
    if (a.size() != b.size()) throw std::logic_error(path_[0] + ": a twin's files must be written in step");
    write_lanes({a, b});
  }
  template <class T>
  void write_pod(const T* p, size_t n) {
    write(as_bytes(p, n));
  }
  template <class T>
  void write_pod(const T* a, const T* b, size_t n) {
    write(as_bytes(a, n), as_bytes(b, n));
  }
  // Writes v's values like write_pod, for a caller done with them: a taking file (above) takes
  // the vector itself, for its thread to write and checksum, and leaves v an emptied vector
  // of an earlier take (its storage, for the caller to fill again) or none. The thread that
  // hands samples on then never copies, or even reads, the samples' ids and labels: on 32
  // cores at -j 16 that copy (2 GB for the 665k mixture) kept it busy for 0.74 s of a 0.76 s
  // run, the limit of the whole pipeline (docs/BENCHMARKS.md). Other files copy.
  void take(std::vector<int32_t>& v) {
    if (!taking_) return write_pod(v.data(), v.size());
    if (v.empty()) return;
    if (!buf_.bytes[0].empty()) drain();  // the bytes written before it go first
    const size_t n = v.size() * sizeof(int32_t);
    bytes_ += n;
    buf_.taken_bytes += n;
    std::vector<int32_t> emptied;
    if (!recycled_.empty()) {
      emptied.swap(recycled_.back());
      recycled_.pop_back();
      recycled_bytes_ -= held(emptied);
    }
    buf_.taken.push_back(std::move(v));
    v.swap(emptied);
    if (buf_.taken_bytes >= kBuffer) drain();
  }
  // Flushes and closes; with `sync`, also forces the data to disk (shard files are synced
  // before the manifest that vouches for them is renamed into place).
  void close(bool sync = false) {
    drain();
    if (waited_ > 0) note_wait("handing on, for the shard file writers' room", waited_);
    waited_ = 0;
    if (stop_background()) throw Error(bg_error_);
    // What drain() kept back of a direct file: its last bytes, less than a page, through the
    // page cache (and the checksum, after everything before them).
    if (!buf_.bytes[0].empty()) {
      for (int l = 0; l < lanes_; ++l)
        if (!buffered(fd_[l])) throw Error(path_[l] + ": write error: " + std::strerror(errno));
      put({buf_.bytes[0], buf_.bytes[1]});
    }
    std::string error;
    for (int l = 0; l < lanes_; ++l) {
      bool bad = sync && ::fsync(fd_[l]) != 0;
      if (owned_ && ::close(fd_[l]) != 0) bad = true;
      fd_[l] = -1;
      if (bad && error.empty()) error = path_[l] + ": write error: " + std::strerror(errno);
    }
    // The buffers go now, not with the object (a parted run's part may wait a while to be
    // committed).
    buf_ = Chunk();
    std::vector<std::vector<int32_t>>().swap(recycled_);
    recycled_bytes_ = 0;
    if (bg_) std::vector<Chunk>().swap(bg_->spare);
    if (!error.empty()) throw Error(error);
  }
  uint64_t bytes() const { return bytes_; }  // each file's
  // The checksum's lowercase hex, after close(); `lane` 1 is a twin's second file.
  std::string checksum(int lane = 0) {
    if (!pair_ && !sum_[0]) throw std::logic_error(path_[0] + ": written without a checksum");
    if (digest_[0].empty()) {
      if (pair_) std::tie(digest_[0], digest_[1]) = pair_->hex();
      else
        for (int l = 0; l < lanes_; ++l) digest_[l] = sum_[l]->hex();
    }
    return digest_[lane];
  }

 private:
  static constexpr size_t kBuffer = 1 << 20;
  // A background buffer is reserved at kBuffer + kSlack when it is made (reserve_buffers: the
  // append that crosses kBuffer fits, unless one sample's bytes are larger), never grown by
  // doubling from empty (each step a fresh allocation, its pages faulted in and copied): a
  // -j 1 compile of 100k LLaVA-mix samples peaked at 39 MB RSS with 8.3k page faults, now
  // 36 MB and 7.5k. (256 KiB buffers, four queued, made the hand-on at -j 12 on the device
  // wait for the writers 0.71 s of a 1.7 s run, against 0.26 s: the queue held a quarter of
  // the bytes.)
  static constexpr size_t kSlack = 64 << 10;
  static constexpr size_t kRecycled = 2 * kBuffer;  // storage of emptied vectors kept for take(), at most
  static constexpr size_t kTakenKept = 16384;        // a spare chunk's list of taken vectors kept, at most (384 KiB)
  static constexpr size_t kQueued = 4;  // full buffers waiting for the background thread, at most
  static constexpr size_t kPage = 4096;  // O_DIRECT's unit: buffers' addresses, write sizes
  using Buffer = std::basic_string<char, std::char_traits<char>, AlignedAllocator<char, kPage>>;
  // What goes to the background thread at once: a buffer of bytes for each file (the second:
  // a twin's), or a taking file's vectors taken whole (never both: take() and write() queue
  // what the other one left first).
  struct Chunk {
    std::array<Buffer, 2> bytes;
    std::vector<std::vector<int32_t>> taken;
    size_t taken_bytes = 0;  // the bytes of `taken`
    size_t size() const { return bytes[0].size() + taken_bytes; }  // each file's bytes
    bool empty() const { return size() == 0; }
  };
  struct Background {
    std::thread thread;
    std::mutex mu;
    std::condition_variable cv;
    std::deque<Chunk> full;     // to write, in order
    std::vector<Chunk> spare;   // written, for reuse
    bool closing = false;
    std::string error;
  };
  // New background buffers (none spare): each lane's, at its full size at once (a taking
  // file's when write() first needs it).
  void reserve_buffers(Chunk& c) const {
    if (!taking_)
      for (int l = 0; l < lanes_; ++l) c.bytes[l].reserve(kBuffer + kSlack);
  }
  template <class T>
  static std::string_view as_bytes(const T* p, size_t n) {
    return std::string_view(reinterpret_cast<const char*>(p), n * sizeof(T));
  }
  void write_lanes(std::array<std::string_view, 2> s) {
    const size_t n = s[0].size();
    if (n == 0) return;
    bytes_ += n;
    if (bg_) {
      if (!buf_.taken.empty()) drain();  // the vectors taken before it go first
      for (int l = 0; l < lanes_; ++l) buf_.bytes[l].append(s[l]);
      if (buf_.bytes[0].size() >= kBuffer) drain();
      return;
    }
    if (buf_.bytes[0].size() + n > kBuffer) drain();
    if (n >= kBuffer) {
      put(s);
      return;
    }
    for (int l = 0; l < lanes_; ++l) buf_.bytes[l].append(s[l]);
  }
  // Writes and checksums; returns the error, naming the file, or "" (the background thread
  // keeps it for the writing thread to throw).
  std::string write_out(std::array<std::string_view, 2> s) {
    for (int l = 0; l < lanes_; ++l) {
      bool ok = write_all(fd_[l], s[l]);
      // A file system that opens O_DIRECT but refuses the write: the page cache from here on.
      if (!ok && errno == EINVAL && direct_ && buffered(fd_[l])) ok = write_all(fd_[l], s[l]);
      if (!ok) return path_[l] + ": write error: " + std::strerror(errno);
    }
    if (pair_) {
      pair_->update(s[0], s[1]);
    } else if (sum_[0]) {
      for (int l = 0; l < lanes_; ++l) sum_[l]->update(s[l]);
    }
    return {};
  }
  // A taking file's vectors, in order: written together (writev, up to IOV_MAX at a time),
  // then checksummed one by one.
  std::string write_taken(const std::vector<std::vector<int32_t>>& taken) {
    std::vector<iovec> iov;
    iov.reserve(std::min<size_t>(taken.size(), IOV_MAX));
    for (size_t i = 0; i < taken.size();) {
      iov.clear();
      for (; i < taken.size() && iov.size() < IOV_MAX; ++i)
        iov.push_back({const_cast<int32_t*>(taken[i].data()), taken[i].size() * sizeof(int32_t)});
      if (!writev_all(fd_[0], iov)) return path_[0] + ": write error: " + std::strerror(errno);
    }
    if (sum_[0])
      for (const auto& v : taken) sum_[0]->update(as_bytes(v.data(), v.size()));
    return {};
  }
  // The memory a kept vector holds: its storage, its own bytes and the allocator's (a list of
  // many tiny samples' vectors is mostly the latter).
  static size_t held(const std::vector<int32_t>& v) { return v.capacity() * sizeof(int32_t) + 64; }
  void put(std::array<std::string_view, 2> s) {
    const std::string error = write_out(s);
    if (!error.empty()) throw Error(error);
  }
  void drain() {
    if (buf_.empty()) return;
    if (!bg_) {
      put({buf_.bytes[0], buf_.bytes[1]});
      for (auto& b : buf_.bytes) b.clear();
      return;
    }
    // A direct file's buffer goes in whole pages: the bytes past the last one start the next.
    const size_t tail = direct_ ? buf_.bytes[0].size() % kPage : 0;
    if (buf_.taken.empty() && tail == buf_.bytes[0].size()) return;  // not a page yet (close writes it)
    std::unique_lock<std::mutex> lock(bg_->mu);
    timed_wait(bg_->cv, lock, waited_, [&] { return bg_->full.size() < kQueued || !bg_->error.empty(); });
    if (!bg_->error.empty()) throw Error(bg_->error);
    Chunk next;
    if (!bg_->spare.empty()) {
      next = std::move(bg_->spare.back());
      bg_->spare.pop_back();
    } else {
      reserve_buffers(next);
    }
    for (int l = 0; l < lanes_; ++l) {
      next.bytes[l].assign(buf_.bytes[l], buf_.bytes[l].size() - tail, tail);
      buf_.bytes[l].resize(buf_.bytes[l].size() - tail);
    }
    // A written chunk's vectors, emptied, are what the next takes hand back, up to kRecycled
    // bytes of storage; the rest is freed. (Kept all, the spare vectors of chunks that held
    // more samples than the next, and the storage of the longest samples, piled up: the
    // 665k mixture at -j 4 peaked at 177 MB RSS against 114 MB for its first 100k.)
    for (auto& v : next.taken) {
      const size_t bytes = held(v);
      if (recycled_bytes_ + bytes > kRecycled) continue;  // (freed with next.taken below)
      recycled_bytes_ += bytes;
      recycled_.push_back(std::move(v));
    }
    next.taken.clear();
    // The list itself too, where a run of tiny samples made it long (1 MiB of one-token samples
    // is 262,144 vectors: 6 MiB of list, kept in every spare chunk of both big files, some
    // 60 MB that ShardWriterTaking.KeepsFewEmptiedVectors found as often as not).
    if (next.taken.capacity() > kTakenKept) std::vector<std::vector<int32_t>>().swap(next.taken);
    bg_->full.push_back(std::move(buf_));
    buf_ = std::move(next);
    bg_->cv.notify_all();
  }
  void background_loop() {
    std::unique_lock<std::mutex> lock(bg_->mu);
    for (;;) {
      bg_->cv.wait(lock, [&] { return !bg_->full.empty() || bg_->closing; });
      if (bg_->full.empty()) return;  // closing, all written
      Chunk b = std::move(bg_->full.front());
      bg_->full.pop_front();
      lock.unlock();
      std::string error;
      if (bg_->error.empty()) {  // after an error nothing more is written (the file is reported bad)
        error = b.taken.empty() ? write_out({b.bytes[0], b.bytes[1]}) : write_taken(b.taken);
        if (error.empty()) start_writeback(b.size());
      }
      for (auto& s : b.bytes) s.clear();
      for (auto& v : b.taken) v.clear();
      b.taken_bytes = 0;
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
    if (unsynced_ < kWriteback || direct_ || !owned_) return;
    for (int l = 0; l < lanes_; ++l)
      ::sync_file_range(fd_[l], static_cast<off_t>(synced_), static_cast<off_t>(unsynced_), SYNC_FILE_RANGE_WRITE);
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
  const int lanes_;  // 1, or 2 for a twin
  const bool owned_;  // a file of its own (not standard output)
  uint64_t synced_ = 0, unsynced_ = 0;  // bytes handed to start_writeback, and since the last hint
  Chunk buf_;
  bool taking_ = false;   // take() takes vectors whole (see above)
  std::vector<std::vector<int32_t>> recycled_;  // emptied vectors for take() to hand back
  size_t recycled_bytes_ = 0;  // their storage
  std::unique_ptr<Background> bg_;
  std::string bg_error_;
  double waited_ = 0;  // seconds drain() waited for room in the background thread's queue
  std::string path_[2];
  int fd_[2] = {-1, -1};
  bool direct_ = false;  // opened for O_DIRECT writes (see above)
  // Each file's checksum, or a twin's two SHA-256 sums in step; neither when nobody asks (a
  // JSONL output, the manifest).
  std::unique_ptr<Digest> sum_[2];
  std::unique_ptr<Sha256Pair> pair_;
  std::string digest_[2];
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
      : out_(path), q_(qpath) {}
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
  ShardWriter(const std::string& dir, bool overwrite, bool paired, Checksum checksum)
      : dir_(dir), paired_(paired), checksum_(checksum) {
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
    for (size_t i = 0; i < std::size(kFiles); ++i) {
      if (paired_ && i == 1) continue;  // labels.bin: input_ids.bin's twin
      files_.emplace_back(
          std::make_unique<OutFile>(tmp(kFiles[i]), true, paired_ && i == 0 ? tmp(kFiles[1]) : "", checksum_,
                                    /*direct=*/paired_ && i == 0, /*taking=*/!paired_ && i < 2));
    }
  }
  ~ShardWriter() override {
    cleanup_.wait();
    if (finished_) return;
    files_.clear();  // close, then remove what an unfinished run wrote
    for (const char* n : kFiles) std::remove(tmp(n).c_str());
    std::remove(tmp("manifest.json").c_str());
  }
  void write(const Sample& s) override {
    write_record(s);
    if (paired_) {
      file(0).write_pod(s.input_ids.data(), s.labels.data(), s.input_ids.size());
    } else {
      file(0).write_pod(s.input_ids.data(), s.input_ids.size());
      file(1).write_pod(s.labels.data(), s.labels.size());
    }
  }
  // input_ids.bin and labels.bin take the vectors themselves (OutFile::take), unless they are
  // a twin (which copies into its page-aligned buffers for O_DIRECT).
  void take(Sample& s) override {
    if (paired_) return write(s);
    write_record(s);
    file(0).take(s.input_ids);
    file(1).take(s.labels);
    s.trained.reset();  // (the labels it counted are gone)
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
    for (size_t i = 0; i < std::size(kFiles); ++i) {
      OutFile& f = file(i);
      rename(tmp(kFiles[i]), final_path(kFiles[i]));
      if (i) files += ",";
      append_json_string(files, kFiles[i]);
      files += ":{\"bytes\":";
      append_uint(files, f.bytes());
      files += ",\"";
      files += checksum_name(checksum_);
      files += "\":\"" + f.checksum(paired_ && i == 1) + "\"}";
    }
    files += "}";
    // Version 2 is version 1 with CRC-32 checksums; a shard with SHA-256 ones stays version 1,
    // which every earlier reader reads.
    const char* version = checksum_ == Checksum::sha256 ? "1" : "2";
    std::string m = "{\n  \"format\": \"tokalign-shard\",\n  \"format_version\": ";
    m += version;
    m += ",\n  \"tool\": \"tokalign " TOKALIGN_VERSION "\",\n";
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
  // Everything of a sample but its ids and labels: counts, its sample record, length, id and
  // image records.
  void write_record(const Sample& s) {
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

  static constexpr const char* kFiles[] = {"input_ids.bin", "labels.bin", "samples.bin", "images.bin", "strings.bin",
                                           "quarantine.jsonl", "lengths.bin"};
  // The OutFile that writes kFiles[k]: files_[k], or, paired, kFiles[0] and [1] are one twin
  // (files_[0]) and files_[k - 1] the rest.
  OutFile& file(size_t k) { return *files_[paired_ && k > 0 ? k - 1 : k]; }
  OutFile& samples() { return file(2); }
  OutFile& images() { return file(3); }
  OutFile& strings() { return file(4); }
  OutFile& quarantine_file() { return file(5); }
  OutFile& lengths() { return file(6); }
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
  bool paired_;  // input_ids.bin and labels.bin written (and with SHA-256 hashed) as a twin
  Checksum checksum_;
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

std::unique_ptr<SampleWriter> make_shard_writer(const std::string& dir, bool overwrite, bool paired, Checksum checksum) {
  return std::make_unique<ShardWriter>(dir, overwrite, paired, checksum);
}

}  // namespace tokalign::shard
