// Hostile: unbounded recursion (no tail call: the result is stored before it is used).
#include <stdio.h>
volatile unsigned sink;
__attribute__((noinline)) unsigned down(unsigned n) {
  unsigned r = down(n + 1);
  sink = r;
  return r + n;
}
int main(void) {
  printf("%u\n", down(0));
  return 0;
}
