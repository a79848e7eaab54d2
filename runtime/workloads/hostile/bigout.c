// Hostile: writes to stdout without end.
#include <stdio.h>
int main(void) {
  for (unsigned long i = 0;; i++) printf("line %lu of endless output..............................\n", i);
}
