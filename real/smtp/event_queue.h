// The queue a sans-io session hands its events out of (ServerSession and
// ClientSession::next_event): first in, first out, storage reused.
//
// std::deque allocates one block per element once an element is larger than
// half of its 512-byte blocks, and a session event (a variant holding
// replies and strings) is: every event then cost a malloc and a free. This
// keeps one vector and a read position, and starts over at the front each
// time the host has drained it (hosts drain after every call in).
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace mailsim::smtp {

template <class T>
class EventQueue {
 public:
  bool empty() const { return head_ == items_.size(); }
  void push_back(T item) { items_.push_back(std::move(item)); }
  // The oldest event, removed. Precondition: !empty().
  T take_front() {
    T item = std::move(items_[head_++]);
    if (head_ == items_.size()) {
      items_.clear();
      head_ = 0;
    }
    return item;
  }

 private:
  std::vector<T> items_;
  std::size_t head_ = 0;  // items_[head_] is the oldest event still queued
};

}  // namespace mailsim::smtp
