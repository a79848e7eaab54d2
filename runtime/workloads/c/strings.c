// String processing over a text file from the tree: word frequencies, the top words, and a transformed copy.
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { char *word; int count; } Entry;
#define SLOTS 16384
static Entry table[SLOTS];

static uint32_t hash(const char *s) {
  uint32_t h = 2166136261u;
  while (*s) h = (h ^ (uint8_t)*s++) * 16777619u;
  return h;
}

static void add(const char *w) {
  uint32_t i = hash(w) & (SLOTS - 1);
  while (table[i].word && strcmp(table[i].word, w) != 0) i = (i + 1) & (SLOTS - 1);
  if (!table[i].word) table[i].word = strdup(w);
  table[i].count++;
}

static int by_count(const void *a, const void *b) {
  const Entry *x = a, *y = b;
  if (x->count != y->count) return y->count - x->count;
  return strcmp(x->word, y->word);
}

static const char *WORDS[] = {"alpha", "beta", "gamma", "delta", "edge", "cloud", "iot", "fuel", "wasm", "market",
                              "provider", "consumer", "verify", "stake", "bid", "award"};

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 2;
  char *text;
  size_t len;
  FILE *f = fopen("text.txt", "rb");
  if (f) {
    fseek(f, 0, SEEK_END);
    len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    text = malloc(len + 1);
    len = fread(text, 1, len, f);
    fclose(f);
  } else {
    // No input file: generate (scale * 20000) words.
    size_t words = (size_t)scale * 20000;
    text = malloc(words * 10 + 1);
    len = 0;
    uint32_t x = 7;
    for (size_t i = 0; i < words; i++) {
      x = x * 1664525u + 1013904223u;
      const char *w = WORDS[(x >> 8) % 16];
      size_t l = strlen(w);
      memcpy(text + len, w, l);
      len += l;
      text[len++] = (x >> 20) % 7 == 0 ? '\n' : ' ';
    }
  }
  text[len] = 0;
  char word[64];
  size_t wl = 0, nwords = 0;
  for (size_t i = 0; i <= len; i++) {
    char c = (char)tolower((unsigned char)text[i]);
    if (isalnum((unsigned char)c) && wl < sizeof word - 1) word[wl++] = c;
    else if (wl) {
      word[wl] = 0;
      add(word);
      nwords++;
      wl = 0;
    }
  }
  Entry *all = malloc(sizeof(Entry) * SLOTS);
  size_t n = 0;
  for (size_t i = 0; i < SLOTS; i++) if (table[i].word) all[n++] = table[i];
  qsort(all, n, sizeof *all, by_count);
  FILE *out = fopen("report.txt", "w");
  if (!out) return 3;
  fprintf(out, "words=%zu distinct=%zu\n", nwords, n);
  for (size_t i = 0; i < n && i < 10; i++) fprintf(out, "%s %d\n", all[i].word, all[i].count);
  fclose(out);
  // Reverse each line and upper-case it; print a checksum of the result.
  uint32_t h = 0;
  size_t start = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i == len || text[i] == '\n') {
      for (size_t a = start, b = i; a < b;) {
        char t = (char)toupper((unsigned char)text[a]);
        text[a++] = (char)toupper((unsigned char)text[--b]);
        text[b] = t;
      }
      start = i + 1;
    }
  }
  for (size_t i = 0; i < len; i++) h = h * 33 + (uint8_t)text[i];
  printf("words=%zu distinct=%zu top=%s transformed=%08x\n", nwords, n, n ? all[0].word : "-", h);
  return 0;
}
