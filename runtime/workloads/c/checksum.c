// CRC-32 and FNV-1a over a generated buffer of (scale * 64 KiB), plus stdin if any.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint32_t table[256];

static void crc_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
}

static uint32_t crc32(const uint8_t *p, size_t n, uint32_t crc) {
  crc = ~crc;
  for (size_t i = 0; i < n; i++) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

static uint64_t fnv1a(const uint8_t *p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 4;
  size_t n = (size_t)scale * 65536;
  uint8_t *buf = malloc(n);
  if (!buf) return 2;
  uint32_t x = 12345;
  for (size_t i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    buf[i] = (uint8_t)(x >> 16);
  }
  crc_init();
  uint32_t crc = 0;
  for (int round = 0; round < 4; round++) crc = crc32(buf, n, crc);
  printf("bytes=%zu crc32=%08x fnv1a=%016llx\n", n, crc, (unsigned long long)fnv1a(buf, n));
  static uint8_t in[4096];
  size_t got, total = 0;
  uint32_t icrc = 0;
  while ((got = fread(in, 1, sizeof in, stdin)) > 0) {
    icrc = crc32(in, got, icrc);
    total += got;
  }
  printf("stdin bytes=%zu crc32=%08x\n", total, icrc);
  return 0;
}
