// Whole-file reading with errors that name the file.
#pragma once

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace tokalign {

// Reads the whole file; throws tokalign::Error naming the path on failure.
std::string read_file(const std::string& path);

// Deletes files and folders (recursively) on a thread of its own ("tokalign-clean"), so that
// freeing an earlier output's blocks and cached pages stays off the caller's path; errors
// are ignored (what remains is deleted next time). wait() and the destructor join it.
class BackgroundRemoval {
 public:
  BackgroundRemoval() = default;
  explicit BackgroundRemoval(std::vector<std::filesystem::path> paths);
  BackgroundRemoval(BackgroundRemoval&&) = default;
  BackgroundRemoval& operator=(BackgroundRemoval&& other) noexcept;
  ~BackgroundRemoval() { wait(); }
  void wait() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::thread thread_;
};

}  // namespace tokalign
