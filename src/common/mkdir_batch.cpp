#include "common/mkdir_batch.hpp"

#include <fcntl.h>
#include <liburing.h>
#include <sys/stat.h>

#include <cerrno>

namespace berth::sys {

struct MkdirBatch::Ring {
  io_uring ring{};
  unsigned inFlight = 0;
  ~Ring() { io_uring_queue_exit(&ring); }
};

MkdirBatch::MkdirBatch() = default;
MkdirBatch::MkdirBatch(MkdirBatch&&) noexcept = default;
MkdirBatch& MkdirBatch::operator=(MkdirBatch&& other) noexcept {
  if (this != &other) {
    if (ring_) (void)wait();
    paths_ = std::move(other.paths_);
    results_ = std::move(other.results_);
    mode_ = other.mode_;
    started_ = other.started_;
    done_ = other.done_;
    usedIoUring_ = other.usedIoUring_;
    ring_ = std::move(other.ring_);
  }
  return *this;
}

MkdirBatch::~MkdirBatch() {
  // The kernel copied the paths at submission, but the results land in our
  // ring: reap them before it goes.
  if (ring_ && !done_) (void)wait();
}

MkdirBatch MkdirBatch::start(std::vector<std::string> paths, mode_t mode) {
  MkdirBatch b;
  b.paths_ = std::move(paths);
  b.mode_ = mode;
  b.started_ = true;
  b.results_.assign(b.paths_.size(), -EINPROGRESS);
  if (b.paths_.empty()) return b;
  auto ring = std::make_unique<Ring>();
  if (io_uring_queue_init(static_cast<unsigned>(b.paths_.size()), &ring->ring, 0) < 0) return b;
  for (size_t i = 0; i < b.paths_.size(); ++i) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring->ring);
    if (!sqe) break;  // cannot happen: the ring has one entry per path
    io_uring_prep_mkdirat(sqe, AT_FDCWD, b.paths_[i].c_str(), mode);
    io_uring_sqe_set_data64(sqe, i);
  }
  int submitted = io_uring_submit(&ring->ring);
  if (submitted <= 0) return b;  // wait() does them all itself
  ring->inFlight = static_cast<unsigned>(submitted);
  b.ring_ = std::move(ring);
  b.usedIoUring_ = true;
  return b;
}

const std::vector<int>& MkdirBatch::wait() {
  if (done_) return results_;
  done_ = true;
  if (ring_) {
    while (ring_->inFlight > 0) {
      io_uring_cqe* cqe = nullptr;
      int r = io_uring_wait_cqe(&ring_->ring, &cqe);
      if (r == -EINTR) continue;
      if (r < 0) break;  // what is left is done below
      uint64_t i = io_uring_cqe_get_data64(cqe);
      if (i < results_.size()) results_[i] = cqe->res;
      io_uring_cqe_seen(&ring_->ring, cqe);
      --ring_->inFlight;
    }
    // Its kernel workers go with the ring; nothing of it reaches later work.
    if (ring_->inFlight == 0) ring_.reset();
  }
  // Not submitted, or refused by a kernel that lacks IORING_OP_MKDIRAT
  // (EINVAL): made here, so the caller sees mkdir(2)'s own answer.
  for (size_t i = 0; i < paths_.size(); ++i) {
    int r = results_[i];
    if (r == -EINPROGRESS || r == -EINVAL || r == -EOPNOTSUPP || r == -ECANCELED)
      results_[i] = ::mkdir(paths_[i].c_str(), mode_) == 0 ? 0 : -errno;
  }
  return results_;
}

}  // namespace berth::sys
