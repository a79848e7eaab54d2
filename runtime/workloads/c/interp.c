// A small stack-machine interpreter running a bytecode program: count primes below (scale * 2000) by trial division.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { PUSH, LOAD, STORE, ADD, MUL, MOD, LT, JZ, JMP, HALT };
typedef struct { uint8_t op; int32_t arg; } Ins;

static int64_t run(const Ins *code, int64_t *vars) {
  int64_t stack[64];
  int sp = 0, pc = 0;
  for (;;) {
    Ins in = code[pc++];
    switch (in.op) {
      case PUSH: stack[sp++] = in.arg; break;
      case LOAD: stack[sp++] = vars[in.arg]; break;
      case STORE: vars[in.arg] = stack[--sp]; break;
      case ADD: sp--; stack[sp - 1] += stack[sp]; break;
      case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
      case MOD: sp--; stack[sp - 1] %= stack[sp]; break;
      case LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
      case JZ: if (!stack[--sp]) pc = in.arg; break;
      case JMP: pc = in.arg; break;
      case HALT: return vars[2];
    }
  }
}

int main(int argc, char **argv) {
  int64_t limit = (argc > 1 ? atoi(argv[1]) : 5) * 2000;
  // vars: 0 = n, 1 = d, 2 = count, 3 = limit, 4 = isprime
  static const Ins code[] = {
    {PUSH, 2}, {STORE, 0},                                            // 0  n = 2
    {LOAD, 0}, {LOAD, 3}, {LT, 0}, {JZ, 39},                          // 2  while n < limit
    {PUSH, 1}, {STORE, 4}, {PUSH, 2}, {STORE, 1},                     // 6  isprime = 1; d = 2
    {LOAD, 1}, {LOAD, 1}, {MUL, 0}, {LOAD, 0}, {PUSH, 1}, {ADD, 0},   // 10 while d*d < n+1
    {LT, 0}, {JZ, 30},
    {LOAD, 0}, {LOAD, 1}, {MOD, 0}, {JZ, 27},                         // 18 if n % d == 0 -> composite
    {LOAD, 1}, {PUSH, 1}, {ADD, 0}, {STORE, 1}, {JMP, 10},            // 22 d++
    {PUSH, 0}, {STORE, 4}, {JMP, 30},                                 // 27 isprime = 0
    {LOAD, 4}, {LOAD, 2}, {ADD, 0}, {STORE, 2},                       // 30 count += isprime
    {LOAD, 0}, {PUSH, 1}, {ADD, 0}, {STORE, 0}, {JMP, 2},             // 34 n++
    {HALT, 0},                                                        // 39
  };
  int64_t vars[5] = {0, 0, 0, limit, 0};
  printf("primes below %lld: %lld\n", (long long)limit, (long long)run(code, vars));
  return 0;
}
