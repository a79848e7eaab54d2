// Image kernels: a generated RGB image goes through a separable Gaussian blur, a Sobel edge filter, a
// histogram equalisation and a 2x box downscale; prints a checksum of each stage.
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

struct Image {
  int w, h;
  std::vector<float> px;  // 3 channels
  Image(int w, int h) : w(w), h(h), px(size_t(w) * h * 3) {}
  float &at(int x, int y, int c) { return px[(size_t(y) * w + x) * 3 + c]; }
  float at(int x, int y, int c) const { return px[(size_t(y) * w + x) * 3 + c]; }
};

static uint32_t checksum(const std::vector<float> &v) {
  uint32_t h = 2166136261u;
  for (float f : v) h = (h ^ uint32_t(std::lround(f * 16))) * 16777619u;
  return h;
}

static Image blur(const Image &in) {
  static const std::array<float, 5> k = {1 / 16.f, 4 / 16.f, 6 / 16.f, 4 / 16.f, 1 / 16.f};
  Image tmp(in.w, in.h), out(in.w, in.h);
  for (int y = 0; y < in.h; y++)
    for (int x = 0; x < in.w; x++)
      for (int c = 0; c < 3; c++) {
        float s = 0;
        for (int i = -2; i <= 2; i++) s += k[i + 2] * in.at(std::min(std::max(x + i, 0), in.w - 1), y, c);
        tmp.at(x, y, c) = s;
      }
  for (int y = 0; y < in.h; y++)
    for (int x = 0; x < in.w; x++)
      for (int c = 0; c < 3; c++) {
        float s = 0;
        for (int i = -2; i <= 2; i++) s += k[i + 2] * tmp.at(x, std::min(std::max(y + i, 0), in.h - 1), c);
        out.at(x, y, c) = s;
      }
  return out;
}

static std::vector<float> sobel(const Image &in) {
  std::vector<float> g(size_t(in.w) * in.h);
  auto lum = [&](int x, int y) {
    x = std::min(std::max(x, 0), in.w - 1);
    y = std::min(std::max(y, 0), in.h - 1);
    return 0.299f * in.at(x, y, 0) + 0.587f * in.at(x, y, 1) + 0.114f * in.at(x, y, 2);
  };
  for (int y = 0; y < in.h; y++)
    for (int x = 0; x < in.w; x++) {
      float gx = lum(x + 1, y - 1) + 2 * lum(x + 1, y) + lum(x + 1, y + 1) - lum(x - 1, y - 1) - 2 * lum(x - 1, y) - lum(x - 1, y + 1);
      float gy = lum(x - 1, y + 1) + 2 * lum(x, y + 1) + lum(x + 1, y + 1) - lum(x - 1, y - 1) - 2 * lum(x, y - 1) - lum(x + 1, y - 1);
      g[size_t(y) * in.w + x] = std::sqrt(gx * gx + gy * gy);
    }
  return g;
}

static std::vector<float> equalize(const std::vector<float> &g) {
  std::array<uint32_t, 256> hist{};
  for (float v : g) hist[std::min(255, int(v))]++;
  std::array<float, 256> cdf{};
  uint32_t acc = 0;
  for (int i = 0; i < 256; i++) cdf[i] = float(acc += hist[i]) / g.size() * 255;
  std::vector<float> out(g.size());
  for (size_t i = 0; i < g.size(); i++) out[i] = cdf[std::min(255, int(g[i]))];
  return out;
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? std::atoi(argv[1]) : 1;
  int w = 128 * scale, h = 192;
  Image img(w, h);
  uint32_t s = 12345;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      s = s * 1103515245 + 12345;
      img.at(x, y, 0) = float((x * 7 + y * 3) % 256);
      img.at(x, y, 1) = float(((x / 16 + y / 16) % 2) * 200 + (s >> 28));
      img.at(x, y, 2) = float((x * y / 64) % 256);
    }
  Image b = blur(img);
  std::vector<float> edges = sobel(b);
  std::vector<float> eq = equalize(edges);
  Image half(w / 2, h / 2);
  for (int y = 0; y < h / 2; y++)
    for (int x = 0; x < w / 2; x++)
      for (int c = 0; c < 3; c++) half.at(x, y, c) = (b.at(2 * x, 2 * y, c) + b.at(2 * x + 1, 2 * y, c) + b.at(2 * x, 2 * y + 1, c) + b.at(2 * x + 1, 2 * y + 1, c)) / 4;
  std::printf("image %dx%d blur=%08x edges=%08x eq=%08x half=%08x\n", w, h, checksum(b.px), checksum(edges), checksum(eq), checksum(half.px));
  return 0;
}
