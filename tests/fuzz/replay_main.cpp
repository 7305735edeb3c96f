// A main for a fuzz target without libFuzzer (any compiler, CI): runs
// LLVMFuzzerTestOneInput on every file of a corpus directory, then on
// pseudo-random mutations of them (fixed seed: every run tries the same
// inputs). A target reports a bug by aborting; the input that did it is
// printed (hex) first.
//
//   replay_<target> <corpus dir> [mutations] [seed] [max seconds]
//
// (defaults 2000, 1, 20). The time bound keeps a run cheap on a loaded
// machine; reaching it is not a failure.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

using bytes = std::vector<uint8_t>;

// The input under test, for the SIGABRT handler.
struct current_input {
  const uint8_t* data = nullptr;
  size_t size = 0;
};

current_input& current() {
  static current_input c;
  return c;
}

// Async-signal-safe: write() only.
void on_abort(int) {
  static const char hex[] = "0123456789abcdef";
  static const char intro[] = "\nreplay: the input that aborted (hex):\n";
  (void)!write(2, intro, sizeof intro - 1);
  const auto& c = current();
  char pair[2];
  for (size_t i = 0; i < c.size; ++i) {
    pair[0] = hex[c.data[i] >> 4];
    pair[1] = hex[c.data[i] & 15];
    (void)!write(2, pair, 2);
  }
  (void)!write(2, "\n", 1);
  std::signal(SIGABRT, SIG_DFL);
  std::raise(SIGABRT);
}

void run(const bytes& input) {
  current() = {input.data(), input.size()};
  LLVMFuzzerTestOneInput(input.data(), input.size());
}

// One to four of libFuzzer's simpler mutations: change, insert, erase a
// byte, copy a chunk, splice with another input, or put in bytes that are
// interesting to the decoders.
bytes mutate(bytes in, const std::vector<bytes>& corpus, std::mt19937& rng) {
  static const char* const tokens[] = {"\n",
                                       "%",
                                       "%zz",
                                       "%C3%28",
                                       "?apikey=",
                                       "&",
                                       "=",
                                       "{",
                                       "}",
                                       "[",
                                       "]",
                                       "\"",
                                       ":",
                                       ",",
                                       "null",
                                       "1e999",
                                       "-1",
                                       "0",
                                       "9223372036854775808",
                                       "\\u0000",
                                       "Bearer ",
                                       "ApiKey ",
                                       "fuzzglobal",
                                       "fuzzapp1",
                                       "/"};
  auto pick = [&rng](size_t n) {
    return std::uniform_int_distribution<size_t>{0, n - 1}(rng);
  };
  auto byte = [&rng] {
    return static_cast<uint8_t>(
      std::uniform_int_distribution<int>{0, 255}(rng));
  };
  auto rounds = 1 + pick(4);
  for (size_t r = 0; r < rounds; ++r) {
    switch (pick(6)) {
      case 0:
        if (!in.empty())
          in[pick(in.size())] = byte();
        break;
      case 1:
        in.insert(in.begin() + static_cast<long>(pick(in.size() + 1)), byte());
        break;
      case 2:
        if (!in.empty())
          in.erase(in.begin() + static_cast<long>(pick(in.size())));
        break;
      case 3:
        if (!in.empty()) {
          auto from = pick(in.size());
          auto len = 1 + pick(std::min<size_t>(in.size() - from, 16));
          bytes chunk(in.begin() + static_cast<long>(from),
                      in.begin() + static_cast<long>(from + len));
          in.insert(in.begin() + static_cast<long>(pick(in.size() + 1)),
                    chunk.begin(), chunk.end());
        }
        break;
      case 4: {
        const auto& other = corpus[pick(corpus.size())];
        auto cut = pick(in.size() + 1);
        auto from = pick(other.size() + 1);
        in.resize(cut);
        in.insert(in.end(), other.begin() + static_cast<long>(from),
                  other.end());
        break;
      }
      default: {
        std::string t = tokens[pick(std::size(tokens))];
        in.insert(in.begin() + static_cast<long>(pick(in.size() + 1)),
                  t.begin(), t.end());
        break;
      }
    }
  }
  return in;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: %s <corpus dir> [mutations] [seed] [max seconds]\n",
                 argv[0]);
    return 2;
  }
  long mutations = argc > 2 ? std::atol(argv[2]) : 2000;
  unsigned seed = argc > 3 ? static_cast<unsigned>(std::atol(argv[3])) : 1;
  long max_seconds = argc > 4 ? std::atol(argv[4]) : 20;
  std::signal(SIGABRT, on_abort);

  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(argv[1]))
    if (e.is_regular_file())
      files.push_back(e.path());
  std::sort(files.begin(), files.end()); // the same order everywhere
  std::vector<bytes> corpus;
  for (const auto& f : files) {
    std::ifstream in{f, std::ios::binary};
    corpus.emplace_back(std::istreambuf_iterator<char>{in},
                        std::istreambuf_iterator<char>{});
  }
  if (corpus.empty()) {
    std::fprintf(stderr, "no inputs in %s\n", argv[1]);
    return 2;
  }
  for (const auto& input : corpus)
    run(input);

  std::mt19937 rng{seed};
  auto deadline
    = std::chrono::steady_clock::now() + std::chrono::seconds{max_seconds};
  long done = 0;
  for (; done < mutations && std::chrono::steady_clock::now() < deadline;
       ++done) {
    const auto& base = corpus[std::uniform_int_distribution<size_t>{
      0, corpus.size() - 1}(rng)];
    run(mutate(base, corpus, rng));
  }
  std::printf("replayed %zu corpus inputs and %ld of %ld mutations (seed %u)\n",
              corpus.size(), done, mutations, seed);
  return 0;
}
