// Hostile: allocates and touches memory until malloc fails.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
void *volatile head;
int main(void) {
  size_t total = 0;
  for (;;) {
    char *p = malloc(1 << 20);
    if (!p) {
      printf("allocation failed after %zu MiB\n", total >> 20);
      return 1;
    }
    memset(p, 1, 1 << 20);
    *(void **)p = head;
    head = p;
    total += 1 << 20;
  }
}
