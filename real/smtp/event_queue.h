// The first-in first-out queues of the sans-io sessions: the events a
// session hands out (ServerSession and ClientSession::next_event), the
// commands awaiting replies, the jobs, the parsed replies.
//
// std::deque allocates a map and a 512-byte block as soon as it exists, and
// one block per element once an element is larger than half a block (a
// session event is): every event cost a malloc and a free, and every
// session carried its deques' blocks while idle. This takes room when the
// first item arrives and keeps that first room (at most FirstRoom items)
// when the queue has been drained (hosts drain after every call in); room a
// longer burst took is given back. A queue never used costs nothing, and a
// session's later bursts no allocation. The first room is at most 5 items
// and at most 2 KiB (tcmalloc, mailsim::malloc, serves that from its
// per-thread cache): a pipelined transaction makes bursts of up to five
// server events, and with room for only two (the old 1 KiB bound, from
// glibc's cache) every such burst grew the vector and the drain gave the
// growth back, three allocations per letter. The price is the room an
// open session keeps: about 1.8 KB more per connection (sim_bench's stress
// run, tens of thousands of dialogues at once, peaks about a fifth higher).
// Items taken while others keep arriving are moved out of the way once
// they are half of the vector, so it never grows with the length of a
// dialogue.
//
// Unlike std::deque, push_back may move the queued items: a reference from
// front() is good until the next push_back or pop.
#pragma once

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <utility>
#include <vector>

namespace mailsim::smtp {

template <class T>
inline constexpr std::size_t kFirstRoom = std::clamp<std::size_t>(2048 / sizeof(T), 1, 5);

template <class T, std::size_t FirstRoom = kFirstRoom<T>>
class EventQueue {
 public:
  bool empty() const { return head_ == items_.size(); }
  std::size_t size() const { return items_.size() - head_; }
  void push_back(T item) {
    if (items_.empty()) {
      items_.reserve(FirstRoom);
    } else if (head_ > 0 && head_ >= items_.size() - head_) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    items_.push_back(std::move(item));
  }
  // The oldest item. Precondition: !empty().
  T& front() { return items_[head_]; }
  void pop_front() {
    if (++head_ != items_.size()) return;
    // Drained. The first room stays for the next burst (a session's events
    // come in bursts all its life: a reply, its events); more than that was
    // a long burst's, and goes.
    if (items_.capacity() <= FirstRoom) {
      items_.clear();
      head_ = 0;
    } else {
      clear();
    }
  }
  // The oldest item, removed. Precondition: !empty().
  T take_front() {
    T item = std::move(items_[head_]);
    pop_front();
    return item;
  }
  // The queued items, oldest first.
  auto begin() const { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  auto end() const { return items_.end(); }
  void clear() {
    std::vector<T>().swap(items_);
    head_ = 0;
  }

 private:
  std::vector<T> items_;
  std::size_t head_ = 0;  // items_[head_] is the oldest item still queued
};

}  // namespace mailsim::smtp
