// The queue a sans-io session hands its events out of (ServerSession and
// ClientSession::next_event): first in, first out.
//
// std::deque allocates one block per element once an element is larger than
// half of its 512-byte blocks, and a session event (a variant holding
// replies and strings) is: every event cost a malloc and a free, and an idle
// deque still held a block. This takes room for a few events when the first
// one of a burst arrives and gives it back when the host has drained them
// all (hosts drain after every call in), so a burst costs one allocation and
// an idle session none. Events taken while others keep arriving are moved
// out of the way once they are half of the vector, so it never grows with
// the length of a dialogue.
#pragma once

#include <cstddef>
#include <iterator>
#include <utility>
#include <vector>

namespace mailsim::smtp {

template <class T>
class EventQueue {
 public:
  bool empty() const { return head_ == items_.size(); }
  void push_back(T item) {
    if (items_.empty()) {
      items_.reserve(kFirstRoom);
    } else if (head_ > 0 && head_ >= items_.size() - head_) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    items_.push_back(std::move(item));
  }
  // The oldest event, removed. Precondition: !empty().
  T take_front() {
    T item = std::move(items_[head_++]);
    if (head_ == items_.size()) {
      std::vector<T>().swap(items_);
      head_ = 0;
    }
    return item;
  }

 private:
  static constexpr std::size_t kFirstRoom = 4;
  std::vector<T> items_;
  std::size_t head_ = 0;  // items_[head_] is the oldest event still queued
};

}  // namespace mailsim::smtp
