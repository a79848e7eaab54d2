// File I/O in the in-memory tree: directories, create/append/seek/truncate, stat, unlink, readdir, an output file.
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void) {
  if (mkdir("out", 0755) != 0 && errno != EEXIST) {
    printf("mkdir failed: %d\n", errno);
    return 1;
  }
  FILE *f = fopen("out/log.txt", "w");
  for (int i = 0; i < 100; i++) fprintf(f, "line %03d\n", i);
  fclose(f);
  f = fopen("out/log.txt", "a");
  fputs("appended\n", f);
  fclose(f);
  struct stat st;
  stat("out/log.txt", &st);
  printf("log size=%lld\n", (long long)st.st_size);
  f = fopen("out/log.txt", "r+");
  fseek(f, 9 * 50, SEEK_SET);
  char line[16] = {0};
  fread(line, 1, 9, f);
  printf("line 50: %s", line);
  fseek(f, 0, SEEK_SET);
  fputs("LINE", f);
  fclose(f);
  truncate("out/log.txt", 9 * 10);
  stat("out/log.txt", &st);
  printf("after truncate size=%lld\n", (long long)st.st_size);
  FILE *tmp = fopen("scratch.tmp", "w");
  fputs("temporary", tmp);
  fclose(tmp);
  printf("unlink=%d exists-after=%d\n", unlink("scratch.tmp"), access("scratch.tmp", F_OK) == 0);
  // Copy the input file (if any) to the output, reversed.
  FILE *in = fopen("input.bin", "rb");
  FILE *res = fopen("out/result.bin", "wb");
  if (in) {
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, in);
    for (size_t i = 0; i < n / 2; i++) {
      char t = buf[i];
      buf[i] = buf[n - 1 - i];
      buf[n - 1 - i] = t;
    }
    fwrite(buf, 1, n, res);
    fclose(in);
  }
  f = fopen("out/log.txt", "r");
  char all[200] = {0};
  fread(all, 1, sizeof all - 1, f);
  fclose(f);
  fwrite(all, 1, strlen(all), res);
  fclose(res);
  printf("missing file errno=%d\n", fopen("nope.txt", "r") ? 0 : errno);
  FILE *draft = fopen("out/draft.txt", "w");
  fputs("draft", draft);
  fclose(draft);
  printf("rename=%d sleep=%u\n", rename("out/draft.txt", "out/final.txt"), sleep(1));
  mkdir("out/sub", 0755);
  DIR *dir = opendir("out");
  struct dirent *e;
  printf("out:");
  while (dir && (e = readdir(dir))) printf(" %s%s", e->d_name, e->d_type == DT_DIR ? "/" : "");
  printf("\n");
  if (dir) closedir(dir);
  return 0;
}
