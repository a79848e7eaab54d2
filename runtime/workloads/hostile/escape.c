// Hostile: tries to leave the in-memory tree through .. and absolute paths.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
static void try(const char *path) {
  int fd = open(path, O_RDONLY);
  printf("%s -> %s\n", path, fd >= 0 ? "OPENED" : strerror(errno));
  if (fd >= 0) close(fd);
}
int main(void) {
  try("../secret.txt");
  try("/etc/passwd");
  try("sub/../../secret.txt");
  try("../../../../etc/passwd");
  try("/../etc/hostname");
  try("ok.txt");
  return 0;
}
