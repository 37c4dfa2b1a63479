// The simulator's one source of randomness: xoshiro256** seeded through
// SplitMix64 (Blackman & Vigna). std::uniform_int_distribution and friends are
// not specified bit-for-bit and differ between standard libraries, so every
// draw the simulator needs is written here and is the same on every platform.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace mailsim::sim {

class Random {
 public:
  explicit Random(std::uint64_t seed = 1);

  // A uniformly distributed 64-bit value.
  std::uint64_t next_u64();
  // Uniform in [0, bound); bound must be > 0. Unbiased (Lemire's method).
  std::uint64_t below(std::uint64_t bound);
  // Uniform in [lo, hi] (inclusive); requires lo <= hi.
  std::int64_t between(std::int64_t lo, std::int64_t hi);
  // Uniform in [0, 1) with 53 random bits.
  double unit();
  // True with probability p (p <= 0 never, p >= 1 always).
  bool chance(double p);

  // An independent generator for a named purpose ("host mx1", "isn"), derived
  // from this generator's seed, not its state: adding draws in one part of the
  // simulation does not shift the numbers another part sees.
  Random derive(std::string_view purpose) const;

  std::uint64_t seed() const { return seed_; }

 private:
  std::uint64_t seed_;
  std::array<std::uint64_t, 4> s_{};
};

}  // namespace mailsim::sim
