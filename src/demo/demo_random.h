// The demo's random numbers: xoshiro256** seeded through splitmix64.
//
// Implemented here rather than with <random> distributions, whose output is
// implementation-defined: the same seed must give the same demo database
// with any standard library. Only integer arithmetic and sqrt (exactly
// rounded under IEEE 754) are used.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace retention::demo {

class DemoRandom {
 public:
  // One independent stream per (seed, name): each table draws from its own,
  // so changing how one table is generated leaves the others as they were.
  DemoRandom(uint64_t seed, std::string_view stream) {
    uint64_t x = seed ^ 0x9e3779b97f4a7c15ULL;
    for (unsigned char c : stream) x = (x ^ c) * 0x100000001b3ULL;  // FNV-1a style mix
    for (uint64_t& s : s_) s = SplitMix64(x);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n); n > 0. Lemire's multiply-shift.
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }

  // Uniform in [lo, hi], lo <= hi.
  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }

  // Uniform in [0, 1).
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  bool Chance(double p) { return Unit() < p; }

  template <typename T, size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[Below(N)];
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t SplitMix64(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  uint64_t s_[4];
};

// The i-th of n instants (unix seconds) in [from, to), increasing with i and
// denser toward `to`, as the activity of a growing business: stratified
// samples of a density proportional to (t - from). Precondition: 0 <= i < n,
// from < to.
inline int64_t GrowthTime(int64_t i, int64_t n, int64_t from, int64_t to, DemoRandom& rng) {
  const double u = (static_cast<double>(i) + rng.Unit()) / static_cast<double>(n);
  int64_t t = from + static_cast<int64_t>(std::sqrt(u) * static_cast<double>(to - from));
  return t < to ? t : to - 1;
}

// The i-th of n instants in [from, to), increasing with i, evenly spread.
inline int64_t EvenTime(int64_t i, int64_t n, int64_t from, int64_t to, DemoRandom& rng) {
  const double u = (static_cast<double>(i) + rng.Unit()) / static_cast<double>(n);
  int64_t t = from + static_cast<int64_t>(u * static_cast<double>(to - from));
  return t < to ? t : to - 1;
}

}  // namespace retention::demo
