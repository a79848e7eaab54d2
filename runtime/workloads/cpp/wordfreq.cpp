// Text parsing with the C++ standard library: tokenises generated text into words (std::string),
// counts them in a std::unordered_map, sorts by frequency with std::sort, builds a std::map of
// bigrams, and prints the top entries.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

int main(int argc, char **argv) {
  int scale = argc > 1 ? std::atoi(argv[1]) : 1;
  static const char *vocab[] = {"Wasm", "fuel", "meter", "host", "provider", "consumer", "market", "bid", "offer", "agreement",
                                "verifier", "dispute", "stake", "token", "edge", "cloud", "iot", "deterministic", "sandbox", "report"};
  std::string text;
  unsigned s = 1;
  for (int i = 0; i < 8000 * scale; i++) {
    s = s * 1664525u + 1013904223u;
    text += vocab[(s >> 8) % 20];
    if ((s >> 20) % 7 == 0) text += std::to_string((s >> 12) % 100);
    text += ((s >> 16) % 11 == 0) ? ".\n" : " ";
  }
  std::unordered_map<std::string, int> freq;
  std::map<std::pair<std::string, std::string>, int> bigrams;
  std::string word, prev;
  for (char ch : text) {
    if (std::isalnum(static_cast<unsigned char>(ch))) {
      word += char(std::tolower(static_cast<unsigned char>(ch)));
    } else if (!word.empty()) {
      freq[word]++;
      if (!prev.empty()) bigrams[{prev, word}]++;
      prev = word;
      word.clear();
    }
  }
  std::vector<std::pair<std::string, int>> top(freq.begin(), freq.end());
  std::sort(top.begin(), top.end(), [](const auto &a, const auto &b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
  auto best = std::max_element(bigrams.begin(), bigrams.end(), [](const auto &a, const auto &b) { return a.second < b.second; });
  std::printf("wordfreq bytes=%zu distinct=%zu bigrams=%zu top=%s:%d,%s:%d best=%s_%s:%d\n", text.size(), freq.size(), bigrams.size(), top[0].first.c_str(),
              top[0].second, top[1].first.c_str(), top[1].second, best->first.first.c_str(), best->first.second.c_str(), best->second);
  return 0;
}
