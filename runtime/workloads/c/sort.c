// Sorts (scale * 10000) pseudo-random integers with a hand-written merge sort and with qsort; checks both agree.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

static void merge_sort(int32_t *a, int32_t *tmp, size_t n) {
  if (n < 2) return;
  size_t m = n / 2;
  merge_sort(a, tmp, m);
  merge_sort(a + m, tmp, n - m);
  size_t i = 0, j = m, k = 0;
  while (i < m && j < n) tmp[k++] = a[i] <= a[j] ? a[i++] : a[j++];
  while (i < m) tmp[k++] = a[i++];
  while (j < n) tmp[k++] = a[j++];
  memcpy(a, tmp, n * sizeof *a);
}

int main(int argc, char **argv) {
  size_t n = (size_t)(argc > 1 ? atoi(argv[1]) : 2) * 10000;
  int32_t *a = malloc(n * 4), *b = malloc(n * 4), *tmp = malloc(n * 4);
  if (!a || !b || !tmp) return 2;
  uint32_t x = 42;
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    a[i] = b[i] = (int32_t)(x % 1000000u) - 500000;
  }
  merge_sort(a, tmp, n);
  qsort(b, n, 4, cmp);
  uint64_t h = 0;
  for (size_t i = 0; i < n; i++) {
    if (a[i] != b[i]) {
      printf("mismatch at %zu\n", i);
      return 1;
    }
    h = h * 31 + (uint32_t)a[i];
  }
  printf("n=%zu min=%d max=%d median=%d hash=%016llx\n", n, a[0], a[n - 1], a[n / 2], (unsigned long long)h);
  return 0;
}
