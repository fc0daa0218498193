#include "shard/part_commits.h"

#include <algorithm>
#include <chrono>

namespace tokalign::shard {

PartCommits::PartCommits(std::shared_future<RunInfo> info, Finish finish, size_t max_sealing)
    : info_(std::move(info)), finish_(std::move(finish)), max_sealing_(std::max<size_t>(max_sealing, 1)) {}

PartCommits::~PartCommits() {
  for (std::future<void>& t : tasks_)
    if (t.valid()) t.wait();
}

bool PartCommits::info_ready() const { return info_.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }

void PartCommits::add(uint64_t index, std::unique_ptr<SampleWriter> part) {
  // Threads that are done are let go.
  std::erase_if(tasks_, [](const std::future<void>& t) { return t.wait_for(std::chrono::seconds(0)) == std::future_status::ready; });
  finish_parked_if_ready();
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return sealing_ < max_sealing_ || error_; });
    if (error_) std::rethrow_exception(error_);
    ++sealing_;
  }
  tasks_.push_back(std::async(std::launch::async, [this, index, p = std::move(part)]() mutable {
    seal_then_finish(index, std::move(p));
  }));
}

void PartCommits::seal_then_finish(uint64_t index, std::unique_ptr<SampleWriter> part) {
  std::exception_ptr sealing_error;
  try {
    part->seal();
  } catch (...) {
    sealing_error = std::current_exception();
  }
  bool parked = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    --sealing_;
    if (sealing_error) {
      if (!error_) error_ = sealing_error;
    } else if (!info_ready()) {
      parked_.emplace_back(index, std::move(part));
      parked = true;
    }
  }
  cv_.notify_all();
  if (!sealing_error && !parked) finish_one(index, *part);
}

void PartCommits::finish_one(uint64_t index, SampleWriter& part) {
  try {
    finish_(index, part, info_.get());
    std::lock_guard<std::mutex> lock(mu_);
    committed_.push_back(index);
  } catch (...) {
    fail(std::current_exception());
  }
}

void PartCommits::finish_parked_if_ready() {
  if (!info_ready()) return;
  Parked parts;
  {
    std::lock_guard<std::mutex> lock(mu_);
    parts.swap(parked_);
  }
  if (parts.empty()) return;
  tasks_.push_back(std::async(std::launch::async, [this, parts = std::move(parts)]() mutable {
    for (auto& [index, part] : parts) {
      finish_one(index, *part);
      part.reset();  // its memory goes now
    }
  }));
}

std::vector<uint64_t> PartCommits::wait() {
  for (std::future<void>& t : tasks_) t.get();
  tasks_.clear();
  rethrow_error();
  info_.get();  // the identity's own error, if any
  Parked parts;
  {
    std::lock_guard<std::mutex> lock(mu_);
    parts.swap(parked_);
  }
  for (auto& [index, part] : parts) finish_one(index, *part);
  rethrow_error();
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<uint64_t> done = committed_;
  std::sort(done.begin(), done.end());
  return done;
}

void PartCommits::fail(std::exception_ptr e) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_) error_ = e;
  }
  cv_.notify_all();
}

void PartCommits::rethrow_error() {
  std::lock_guard<std::mutex> lock(mu_);
  if (error_) std::rethrow_exception(error_);
}

}  // namespace tokalign::shard
