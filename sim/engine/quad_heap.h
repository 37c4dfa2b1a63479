// A 4-ary min-heap over a vector, for the engine's event keys: a node's four
// children lie side by side (one cache line for 16-byte keys), so taking the
// earliest event touches half the levels a binary heap has. `later(a, b)`
// is true when a comes after b; keys must be distinct (the engine's are:
// (time, sequence)), so the order things come out in is the one any heap
// gives.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace mailsim::sim::quad_heap {

template <class T, class Later>
void sift_up(std::vector<T>& h, std::size_t i, Later later) {
  T item = std::move(h[i]);
  while (i > 0) {
    const std::size_t parent = (i - 1) / 4;
    if (!later(h[parent], item)) break;
    h[i] = std::move(h[parent]);
    i = parent;
  }
  h[i] = std::move(item);
}

template <class T, class Later>
void sift_down(std::vector<T>& h, std::size_t i, Later later) {
  const std::size_t n = h.size();
  T item = std::move(h[i]);
  for (;;) {
    const std::size_t first = 4 * i + 1;
    if (first >= n) break;
    std::size_t best = first;
    const std::size_t end = first + 4 < n ? first + 4 : n;
    for (std::size_t c = first + 1; c < end; ++c)
      if (later(h[best], h[c])) best = c;
    if (!later(item, h[best])) break;
    h[i] = std::move(h[best]);
    i = best;
  }
  h[i] = std::move(item);
}

// Adds the key just appended at the back.
template <class T, class Later>
void push(std::vector<T>& h, Later later) {
  sift_up(h, h.size() - 1, later);
}

// Removes the front (the earliest key).
template <class T, class Later>
void pop(std::vector<T>& h, Later later) {
  h.front() = std::move(h.back());
  h.pop_back();
  if (!h.empty()) sift_down(h, 0, later);
}

template <class T, class Later>
void make(std::vector<T>& h, Later later) {
  if (h.size() < 2) return;
  for (std::size_t i = (h.size() - 2) / 4 + 1; i-- > 0;) sift_down(h, i, later);
}

}  // namespace mailsim::sim::quad_heap
