// Randomness and clocks: both must be reproducible (seeded stream, clocks that run on fuel).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  uint8_t r[16];
  getentropy(r, sizeof r);
  printf("random=");
  for (int i = 0; i < 16; i++) printf("%02x", r[i]);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  volatile uint64_t s = 0;
  for (int i = 0; i < 10000; i++) s += i;
  clock_gettime(CLOCK_MONOTONIC, &b);
  time_t now = time(NULL);
  printf(" elapsed_ns=%lld year=%d env=%s args=%d\n", (long long)((b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec)),
         gmtime(&now)->tm_year + 1900, getenv("MODE") ? getenv("MODE") : "-", argc);
  return 0;
}
