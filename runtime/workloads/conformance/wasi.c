// WASI preview 1 conformance, in C over the raw wasi/api.h calls: every function of the witx, with the
// errno and rights semantics of the reference implementation (wasmtime). Expects argv = [prog, "scratch"],
// env A=1 B=two, stdin "stdin-bytes", an empty preopened directory "scratch" and a file "data/in.txt".
// Prints "ok <check>" per check and "FAIL <check>: ..." on a mismatch; exits 1 if anything failed.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_raise"))) uint16_t raw_proc_raise(uint8_t sig);

static int failures = 0;
static const char *current = "";

#define CHECK(cond, ...)                          \
  do {                                            \
    if (!(cond)) {                                \
      printf("FAIL %s: ", current);               \
      printf(__VA_ARGS__);                        \
      printf(" (line %d)\n", __LINE__);           \
      failures++;                                 \
    }                                             \
  } while (0)
#define EQ(got, want) CHECK((uint64_t)(got) == (uint64_t)(want), "%s = %llu, expected %llu", #got, (unsigned long long)(got), (unsigned long long)(want))
#define ERR(call, want) EQ((call), (want))
#define OK(call) ERR((call), __WASI_ERRNO_SUCCESS)

static int failures_before = 0;
static void begin(const char *name) {
  current = name;
  failures_before = failures;
}
static void end(void) {
  if (failures == failures_before) printf("ok %s\n", current);
}

static __wasi_fd_t scratch = 0;

static __wasi_fd_t open_at(__wasi_fd_t dir, const char *path, __wasi_oflags_t oflags, __wasi_rights_t rights, __wasi_fdflags_t fdflags) {
  __wasi_fd_t fd = (__wasi_fd_t)-1;
  __wasi_errno_t e = __wasi_path_open(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, oflags, rights, rights, fdflags, &fd);
  CHECK(e == 0, "path_open(%s) = %d", path, e);
  return fd;
}

static const __wasi_rights_t RW = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL |
                                  __WASI_RIGHTS_FD_FILESTAT_GET | __WASI_RIGHTS_FD_FILESTAT_SET_SIZE | __WASI_RIGHTS_FD_FILESTAT_SET_TIMES |
                                  __WASI_RIGHTS_FD_ALLOCATE | __WASI_RIGHTS_FD_ADVISE | __WASI_RIGHTS_FD_SYNC | __WASI_RIGHTS_FD_DATASYNC |
                                  __WASI_RIGHTS_FD_FDSTAT_SET_FLAGS;

static size_t put(__wasi_fd_t fd, const char *s) {
  __wasi_ciovec_t iov = {(const uint8_t *)s, strlen(s)};
  __wasi_size_t n = 0;
  OK(__wasi_fd_write(fd, &iov, 1, &n));
  return n;
}

static size_t get(__wasi_fd_t fd, char *buf, size_t len) {
  __wasi_iovec_t iov = {(uint8_t *)buf, len};
  __wasi_size_t n = 0;
  OK(__wasi_fd_read(fd, &iov, 1, &n));
  return n;
}

static void args_and_env(void) {
  begin("args_sizes_get/args_get");
  __wasi_size_t argc, size;
  OK(__wasi_args_sizes_get(&argc, &size));
  EQ(argc, 2);
  uint8_t *argv[4], buf[64];
  CHECK(size <= sizeof buf, "args too long");
  OK(__wasi_args_get(argv, buf));
  CHECK(strcmp((char *)argv[1], "scratch") == 0, "argv[1] = %s", argv[1]);
  end();
  begin("environ_sizes_get/environ_get");
  OK(__wasi_environ_sizes_get(&argc, &size));
  EQ(argc, 2);
  EQ(size, strlen("A=1") + 1 + strlen("B=two") + 1);
  OK(__wasi_environ_get(argv, buf));
  CHECK(strcmp((char *)argv[0], "A=1") == 0 && strcmp((char *)argv[1], "B=two") == 0, "environment");
  end();
}

static void clocks_random_sched(void) {
  begin("clock_res_get/clock_time_get");
  __wasi_timestamp_t res, t0, t1, rt;
  for (int id = 0; id < 4; id++) {
    OK(__wasi_clock_res_get(id, &res));
    CHECK(res > 0, "resolution of clock %d", id);
  }
  ERR(__wasi_clock_res_get(4, &res), __WASI_ERRNO_INVAL);
  ERR(__wasi_clock_time_get(9, 0, &t0), __WASI_ERRNO_INVAL);
  OK(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t0));
  volatile uint32_t x = 0;
  for (int i = 0; i < 1000; i++) x += i;
  (void)x;
  OK(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t1));
  CHECK(t1 > t0, "monotonic clock advances with work");
  OK(__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &rt));
  CHECK(rt >= 1704067200000000000ull, "realtime after 2024-01-01");
  OK(__wasi_clock_time_get(__WASI_CLOCKID_PROCESS_CPUTIME_ID, 1, &t0));
  OK(__wasi_clock_time_get(__WASI_CLOCKID_THREAD_CPUTIME_ID, 1, &t0));
  end();
  begin("random_get");
  uint8_t a[32] = {0}, b[32] = {0};
  OK(__wasi_random_get(a, sizeof a));
  OK(__wasi_random_get(b, sizeof b));
  CHECK(memcmp(a, b, 32) != 0, "two draws differ");
  OK(__wasi_random_get(a, 0));
  end();
  begin("sched_yield/proc_raise");
  OK(__wasi_sched_yield());
  ERR(raw_proc_raise(6), __WASI_ERRNO_NOTSUP);
  end();
}

static void preopens(void) {
  begin("fd_prestat_get/fd_prestat_dir_name");
  __wasi_prestat_t ps;
  char name[64];
  OK(__wasi_fd_prestat_get(3, &ps));
  EQ(ps.tag, __WASI_PREOPENTYPE_DIR);
  EQ(ps.u.dir.pr_name_len, 1);
  OK(__wasi_fd_prestat_dir_name(3, (uint8_t *)name, sizeof name));
  EQ(name[0], '/');
  for (__wasi_fd_t fd = 4; fd < 16; fd++) {
    if (__wasi_fd_prestat_get(fd, &ps) != 0) {
      ERR(__wasi_fd_prestat_get(fd, &ps), __WASI_ERRNO_BADF);
      break;
    }
    ERR(__wasi_fd_prestat_dir_name(fd, (uint8_t *)name, 0), __WASI_ERRNO_NAMETOOLONG);
    OK(__wasi_fd_prestat_dir_name(fd, (uint8_t *)name, sizeof name));
    name[ps.u.dir.pr_name_len] = 0;
    if (strcmp(name, "scratch") == 0) scratch = fd;
  }
  CHECK(scratch != 0, "the scratch directory is a preopen");
  ERR(__wasi_fd_prestat_get(0, &ps), __WASI_ERRNO_BADF);
  end();
}

static void fdstat(void) {
  begin("fd_fdstat_get/fd_fdstat_set_flags/fd_fdstat_set_rights");
  __wasi_fdstat_t st;
  OK(__wasi_fd_fdstat_get(1, &st));
  EQ(st.fs_filetype, __WASI_FILETYPE_CHARACTER_DEVICE);
  CHECK((st.fs_rights_base & (__WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL)) == 0, "stdout cannot seek (a tty)");
  OK(__wasi_fd_fdstat_get(scratch, &st));
  EQ(st.fs_filetype, __WASI_FILETYPE_DIRECTORY);
  EQ(st.fs_flags, 0);
  EQ(st.fs_rights_base & __WASI_RIGHTS_FD_FILESTAT_SET_SIZE, 0);
  __wasi_fd_t f = open_at(scratch, "flags.txt", __WASI_OFLAGS_CREAT, RW, __WASI_FDFLAGS_APPEND | __WASI_FDFLAGS_SYNC);
  OK(__wasi_fd_fdstat_get(f, &st));
  EQ(st.fs_filetype, __WASI_FILETYPE_REGULAR_FILE);
  EQ(st.fs_flags, __WASI_FDFLAGS_APPEND | __WASI_FDFLAGS_SYNC);
  put(f, "abc");
  __wasi_filesize_t pos;
  OK(__wasi_fd_seek(f, 0, __WASI_WHENCE_SET, &pos));
  put(f, "def");
  OK(__wasi_fd_tell(f, &pos));
  EQ(pos, 6);
  OK(__wasi_fd_fdstat_set_flags(f, 0));
  OK(__wasi_fd_seek(f, 0, __WASI_WHENCE_SET, &pos));
  put(f, "X");
  char buf[16] = {0};
  OK(__wasi_fd_seek(f, 0, __WASI_WHENCE_SET, &pos));
  EQ(get(f, buf, sizeof buf), 6);
  CHECK(memcmp(buf, "Xbcdef", 6) == 0, "append then overwrite: %s", buf);
  ERR(__wasi_fd_fdstat_set_flags(f, 0x100), __WASI_ERRNO_INVAL);
  OK(__wasi_fd_fdstat_set_rights(f, __WASI_RIGHTS_FD_WRITE, 0));
  OK(__wasi_fd_fdstat_get(f, &st));
  EQ(st.fs_rights_base, __WASI_RIGHTS_FD_WRITE);
  ERR(__wasi_fd_fdstat_set_rights(f, __WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_READ, 0), __WASI_ERRNO_NOTCAPABLE);
  __wasi_size_t n;
  __wasi_iovec_t iov = {(uint8_t *)buf, 4};
  ERR(__wasi_fd_read(f, &iov, 1, &n), __WASI_ERRNO_BADF);
  OK(__wasi_fd_close(f));
  ERR(__wasi_fd_close(f), __WASI_ERRNO_BADF);
  ERR(__wasi_fd_fdstat_get(f, &st), __WASI_ERRNO_BADF);
  OK(__wasi_path_unlink_file(scratch, "flags.txt"));
  end();
}

static void files(void) {
  begin("fd_read/fd_write/fd_seek/fd_tell/fd_pread/fd_pwrite");
  char buf[64] = {0};
  EQ(get(0, buf, sizeof buf), 11);
  CHECK(memcmp(buf, "stdin-bytes", 11) == 0, "stdin");
  EQ(get(0, buf, sizeof buf), 0);
  __wasi_fd_t in = open_at(3, "data/in.txt", 0, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL, 0);
  EQ(get(in, buf, 5), 5);
  CHECK(memcmp(buf, "hello", 5) == 0, "data/in.txt");
  __wasi_filesize_t pos;
  OK(__wasi_fd_seek(in, -2, __WASI_WHENCE_CUR, &pos));
  EQ(pos, 3);
  OK(__wasi_fd_seek(in, 0, __WASI_WHENCE_END, &pos));
  EQ(pos, 11);
  ERR(__wasi_fd_seek(in, -20, __WASI_WHENCE_CUR, &pos), __WASI_ERRNO_INVAL);
  ERR(__wasi_fd_seek(in, 0, 7, &pos), __WASI_ERRNO_INVAL);
  ERR(__wasi_fd_seek(1, 0, __WASI_WHENCE_CUR, &pos), __WASI_ERRNO_SPIPE);
  ERR(__wasi_fd_seek(scratch, 0, __WASI_WHENCE_SET, &pos), __WASI_ERRNO_ISDIR);
  ERR(__wasi_fd_tell(scratch, &pos), __WASI_ERRNO_ISDIR);
  __wasi_iovec_t iov = {(uint8_t *)buf, 5};
  __wasi_size_t n;
  OK(__wasi_fd_pread(in, &iov, 1, 6, &n));
  EQ(n, 5);
  CHECK(memcmp(buf, "world", 5) == 0, "pread");
  OK(__wasi_fd_tell(in, &pos));
  EQ(pos, 11);
  OK(__wasi_fd_pread(in, &iov, 1, 100, &n));
  EQ(n, 0);
  __wasi_ciovec_t ciov = {(const uint8_t *)"x", 1};
  ERR(__wasi_fd_write(in, &ciov, 1, &n), __WASI_ERRNO_BADF);
  ERR(__wasi_fd_pwrite(in, &ciov, 1, 0, &n), __WASI_ERRNO_BADF);
  ERR(__wasi_fd_read(scratch, &iov, 1, &n), __WASI_ERRNO_ISDIR);
  ERR(__wasi_fd_write(scratch, &ciov, 1, &n), __WASI_ERRNO_ISDIR);
  ERR(__wasi_fd_read(1, &iov, 1, &n), __WASI_ERRNO_BADF);
  OK(__wasi_fd_close(in));
  __wasi_fd_t f = open_at(scratch, "rw.bin", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, RW, 0);
  __wasi_ciovec_t two[2] = {{(const uint8_t *)"0123", 4}, {(const uint8_t *)"4567", 4}};
  OK(__wasi_fd_write(f, two, 2, &n));
  EQ(n, 8);
  __wasi_ciovec_t p = {(const uint8_t *)"AB", 2};
  OK(__wasi_fd_pwrite(f, &p, 1, 10, &n));
  EQ(n, 2);
  OK(__wasi_fd_tell(f, &pos));
  EQ(pos, 8);
  OK(__wasi_fd_seek(f, 0, __WASI_WHENCE_SET, &pos));
  memset(buf, 'z', sizeof buf);
  EQ(get(f, buf, sizeof buf), 12);
  CHECK(memcmp(buf, "01234567\0\0AB", 12) == 0, "pwrite past the end zero-fills");
  OK(__wasi_fd_close(f));
  __wasi_fd_t again;
  ERR(__wasi_path_open(scratch, 0, "rw.bin", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, RW, RW, 0, &again), __WASI_ERRNO_EXIST);
  end();

  begin("fd_filestat_get/fd_filestat_set_size/fd_filestat_set_times/fd_allocate/fd_advise/fd_sync/fd_datasync");
  f = open_at(scratch, "rw.bin", 0, RW, 0);
  __wasi_filestat_t st, dst;
  OK(__wasi_fd_filestat_get(f, &st));
  EQ(st.filetype, __WASI_FILETYPE_REGULAR_FILE);
  EQ(st.size, 12);
  EQ(st.nlink, 1);
  OK(__wasi_fd_filestat_get(scratch, &dst));
  EQ(dst.filetype, __WASI_FILETYPE_DIRECTORY);
  CHECK(st.ino != dst.ino && st.ino != 0, "distinct inodes");
  OK(__wasi_fd_filestat_set_size(f, 3));
  OK(__wasi_fd_filestat_get(f, &st));
  EQ(st.size, 3);
  OK(__wasi_fd_allocate(f, 0, 100));
  OK(__wasi_fd_filestat_get(f, &st));
  EQ(st.size, 100);
  OK(__wasi_fd_allocate(f, 10, 10));
  OK(__wasi_fd_filestat_get(f, &st));
  EQ(st.size, 100);
  ERR(__wasi_fd_allocate(scratch, 0, 1), __WASI_ERRNO_ISDIR);
  ERR(__wasi_fd_filestat_set_size(scratch, 0), __WASI_ERRNO_ISDIR);
  OK(__wasi_fd_filestat_set_times(f, 111, 222, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
  OK(__wasi_fd_filestat_get(f, &st));
  EQ(st.atim, 111);
  EQ(st.mtim, 222);
  ERR(__wasi_fd_filestat_set_times(f, 1, 1, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW), __WASI_ERRNO_INVAL);
  OK(__wasi_fd_filestat_set_times(f, 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
  OK(__wasi_fd_filestat_get(f, &st));
  CHECK(st.mtim >= 1704067200000000000ull, "mtim now");
  OK(__wasi_fd_advise(f, 0, 10, __WASI_ADVICE_SEQUENTIAL));
  ERR(__wasi_fd_advise(f, 0, 10, 9), __WASI_ERRNO_INVAL);
  OK(__wasi_fd_sync(f));
  OK(__wasi_fd_datasync(f));
  OK(__wasi_fd_sync(scratch));
  OK(__wasi_fd_close(f));
  OK(__wasi_path_unlink_file(scratch, "rw.bin"));
  end();

  begin("fd_renumber");
  __wasi_fd_t a = open_at(scratch, "a", __WASI_OFLAGS_CREAT, RW, 0);
  __wasi_fd_t b = open_at(scratch, "b", __WASI_OFLAGS_CREAT, RW, 0);
  put(a, "from a");
  OK(__wasi_fd_renumber(a, b));
  ERR(__wasi_fd_fdstat_get(a, &(__wasi_fdstat_t){0}), __WASI_ERRNO_BADF);
  OK(__wasi_fd_filestat_get(b, &st));
  EQ(st.size, 6);
  ERR(__wasi_fd_renumber(b, 200), __WASI_ERRNO_BADF);
  ERR(__wasi_fd_renumber(200, b), __WASI_ERRNO_BADF);
  OK(__wasi_fd_close(b));
  OK(__wasi_path_unlink_file(scratch, "a"));
  OK(__wasi_path_unlink_file(scratch, "b"));
  end();
}

static void directories(void) {
  begin("path_create_directory/path_remove_directory/path_filestat_get/path_filestat_set_times");
  OK(__wasi_path_create_directory(scratch, "d"));
  ERR(__wasi_path_create_directory(scratch, "d"), __WASI_ERRNO_EXIST);
  ERR(__wasi_path_create_directory(scratch, "missing/d"), __WASI_ERRNO_NOENT);
  OK(__wasi_path_create_directory(scratch, "d/e/"));
  __wasi_fd_t f = open_at(scratch, "d/file", __WASI_OFLAGS_CREAT, RW, 0);
  OK(__wasi_fd_close(f));
  ERR(__wasi_path_remove_directory(scratch, "d"), __WASI_ERRNO_NOTEMPTY);
  ERR(__wasi_path_remove_directory(scratch, "d/file"), __WASI_ERRNO_NOTDIR);
  __wasi_filestat_t st;
  OK(__wasi_path_filestat_get(scratch, 0, "d", &st));
  EQ(st.filetype, __WASI_FILETYPE_DIRECTORY);
  EQ(st.nlink, 3);
  OK(__wasi_path_filestat_get(scratch, 0, "d/file", &st));
  EQ(st.filetype, __WASI_FILETYPE_REGULAR_FILE);
  ERR(__wasi_path_filestat_get(scratch, 0, "d/file/", &st), __WASI_ERRNO_NOTDIR);
  ERR(__wasi_path_filestat_get(scratch, 0, "d/nothing", &st), __WASI_ERRNO_NOENT);
  OK(__wasi_path_filestat_set_times(scratch, 0, "d/file", 5, 6, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
  OK(__wasi_path_filestat_get(scratch, 0, "d/file", &st));
  EQ(st.atim, 5);
  EQ(st.mtim, 6);
  ERR(__wasi_path_filestat_set_times(scratch, 0, "d/file", 0, 0, __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW), __WASI_ERRNO_INVAL);
  OK(__wasi_path_remove_directory(scratch, "d/e"));
  end();

  begin("path_open errors");
  __wasi_fd_t fd;
  ERR(__wasi_path_open(scratch, 0, "/d/file", 0, 0, 0, 0, &fd), __WASI_ERRNO_PERM);
  ERR(__wasi_path_open(scratch, 0, "../scratch/d/file", 0, 0, 0, 0, &fd), __WASI_ERRNO_PERM);
  OK(__wasi_path_open(scratch, 0, "d/.//../d/./file", 0, 0, 0, 0, &fd));
  OK(__wasi_fd_close(fd));
  ERR(__wasi_path_open(scratch, 0, "d/file/", 0, 0, 0, 0, &fd), __WASI_ERRNO_NOTDIR);
  ERR(__wasi_path_open(scratch, 0, "d/file", __WASI_OFLAGS_DIRECTORY, 0, 0, 0, &fd), __WASI_ERRNO_NOTDIR);
  ERR(__wasi_path_open(scratch, 0, "d/none", 0, 0, 0, 0, &fd), __WASI_ERRNO_NOENT);
  ERR(__wasi_path_open(scratch, 0, "d", __WASI_OFLAGS_CREAT, 0, 0, 0, &fd), __WASI_ERRNO_ISDIR);
  ERR(__wasi_path_open(scratch, 0, "d", 0, __WASI_RIGHTS_FD_WRITE, 0, 0, &fd), __WASI_ERRNO_ISDIR);
  ERR(__wasi_path_open(scratch, 0, "d", __WASI_OFLAGS_DIRECTORY | __WASI_OFLAGS_CREAT, 0, 0, 0, &fd), __WASI_ERRNO_INVAL);
  ERR(__wasi_path_open(7, 0, "x", 0, 0, 0, 0, &fd), __WASI_ERRNO_BADF);
  __wasi_fd_t file = open_at(scratch, "d/file", 0, RW, 0);
  ERR(__wasi_path_open(file, 0, "x", 0, 0, 0, 0, &fd), __WASI_ERRNO_NOTDIR);
  OK(__wasi_fd_close(file));
  OK(__wasi_path_open(scratch, 0, "d/", __WASI_OFLAGS_DIRECTORY, 0, 0, 0, &fd));
  OK(__wasi_fd_close(fd));
  end();

  begin("fd_readdir");
  __wasi_fd_t d;
  const __wasi_rights_t dir_rights = __WASI_RIGHTS_FD_READDIR | __WASI_RIGHTS_FD_FILESTAT_GET | __WASI_RIGHTS_PATH_OPEN |
                                     __WASI_RIGHTS_PATH_CREATE_FILE | __WASI_RIGHTS_PATH_UNLINK_FILE;
  OK(__wasi_path_open(scratch, 0, "d", __WASI_OFLAGS_DIRECTORY, dir_rights, RW, 0, &d));
  // Rights are capabilities: without path_open, a directory descriptor cannot open anything.
  __wasi_fd_t weak, x;
  OK(__wasi_path_open(scratch, 0, "d", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READDIR, RW, 0, &weak));
  ERR(__wasi_path_open(weak, 0, "file", 0, 0, 0, 0, &x), __WASI_ERRNO_NOTCAPABLE);
  OK(__wasi_fd_close(weak));
  for (int i = 0; i < 5; i++) {
    char name[8];
    snprintf(name, sizeof name, "n%d", i);
    f = open_at(d, name, __WASI_OFLAGS_CREAT, RW, 0);
    OK(__wasi_fd_close(f));
  }
  uint8_t buf[1024];
  __wasi_size_t used;
  OK(__wasi_fd_readdir(d, buf, sizeof buf, 0, &used));
  int count = 0;
  __wasi_dircookie_t third = 0;
  __wasi_filestat_t dst;
  OK(__wasi_fd_filestat_get(d, &dst));
  for (size_t at = 0; at + sizeof(__wasi_dirent_t) <= used; count++) {
    __wasi_dirent_t e;
    memcpy(&e, buf + at, sizeof e);
    const char *nm = (const char *)buf + at + sizeof e;
    if (count == 0) CHECK(e.d_namlen == 1 && nm[0] == '.' && e.d_ino == dst.ino && e.d_type == __WASI_FILETYPE_DIRECTORY, "first entry is .");
    if (count == 2) third = e.d_next;
    at += sizeof e + e.d_namlen;
  }
  EQ(count, 8); // . .. file n0..n4
  OK(__wasi_fd_readdir(d, buf, sizeof buf, third, &used));
  CHECK(used > 0 && memcmp(buf + sizeof(__wasi_dirent_t), "n0", 2) == 0, "resuming at a cookie");
  OK(__wasi_fd_readdir(d, buf, 10, 0, &used));
  EQ(used, 10);
  ERR(__wasi_fd_readdir(0, buf, sizeof buf, 0, &used), __WASI_ERRNO_NOTDIR);
  for (int i = 0; i < 5; i++) {
    char name[8];
    snprintf(name, sizeof name, "n%d", i);
    OK(__wasi_path_unlink_file(d, name));
  }
  OK(__wasi_fd_close(d));
  end();
}

static void links(void) {
  begin("path_link");
  __wasi_fd_t f = open_at(scratch, "orig", __WASI_OFLAGS_CREAT, RW, 0);
  put(f, "linked");
  OK(__wasi_fd_close(f));
  OK(__wasi_path_link(scratch, 0, "orig", scratch, "hard"));
  __wasi_filestat_t a, b;
  OK(__wasi_path_filestat_get(scratch, 0, "orig", &a));
  OK(__wasi_path_filestat_get(scratch, 0, "hard", &b));
  EQ(a.ino, b.ino);
  EQ(a.nlink, 2);
  ERR(__wasi_path_link(scratch, 0, "orig", scratch, "hard"), __WASI_ERRNO_EXIST);
  ERR(__wasi_path_link(scratch, 0, "d", scratch, "dirlink"), __WASI_ERRNO_PERM);
  ERR(__wasi_path_link(scratch, 0, "nothing", scratch, "x"), __WASI_ERRNO_NOENT);
  ERR(__wasi_path_link(scratch, 0, "orig", scratch, "../escape"), __WASI_ERRNO_PERM);
  OK(__wasi_path_unlink_file(scratch, "orig"));
  OK(__wasi_path_filestat_get(scratch, 0, "hard", &b));
  EQ(b.nlink, 1);
  EQ(b.size, 6);
  end();

  begin("path_symlink/path_readlink");
  OK(__wasi_path_symlink("hard", scratch, "sym"));
  ERR(__wasi_path_symlink("hard", scratch, "sym"), __WASI_ERRNO_EXIST);
  char buf[32];
  __wasi_size_t n;
  OK(__wasi_path_readlink(scratch, "sym", (uint8_t *)buf, sizeof buf, &n));
  EQ(n, 4);
  CHECK(memcmp(buf, "hard", 4) == 0, "readlink");
  OK(__wasi_path_readlink(scratch, "sym", (uint8_t *)buf, 2, &n));
  EQ(n, 2);
  ERR(__wasi_path_readlink(scratch, "hard", (uint8_t *)buf, sizeof buf, &n), __WASI_ERRNO_INVAL);
  __wasi_filestat_t st;
  OK(__wasi_path_filestat_get(scratch, 0, "sym", &st));
  EQ(st.filetype, __WASI_FILETYPE_SYMBOLIC_LINK);
  OK(__wasi_path_filestat_get(scratch, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "sym", &st));
  EQ(st.filetype, __WASI_FILETYPE_REGULAR_FILE);
  EQ(st.size, 6);
  __wasi_fd_t fd;
  ERR(__wasi_path_open(scratch, 0, "sym", 0, RW, 0, 0, &fd), __WASI_ERRNO_LOOP);
  OK(__wasi_path_open(scratch, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "sym", 0, RW, 0, 0, &fd));
  EQ(get(fd, buf, sizeof buf), 6);
  OK(__wasi_fd_close(fd));
  OK(__wasi_path_symlink("dangling-target", scratch, "dangling"));
  ERR(__wasi_path_open(scratch, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "dangling", 0, 0, 0, 0, &fd), __WASI_ERRNO_NOENT);
  OK(__wasi_path_symlink("loop2", scratch, "loop1"));
  OK(__wasi_path_symlink("loop1", scratch, "loop2"));
  ERR(__wasi_path_open(scratch, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "loop1", 0, 0, 0, 0, &fd), __WASI_ERRNO_LOOP);
  OK(__wasi_path_symlink("../../data/in.txt", scratch, "out"));
  ERR(__wasi_path_open(scratch, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "out", 0, 0, 0, 0, &fd), __WASI_ERRNO_PERM);
  OK(__wasi_path_symlink("/data/in.txt", scratch, "abs"));
  ERR(__wasi_path_open(scratch, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "abs", 0, 0, 0, 0, &fd), __WASI_ERRNO_PERM);
  // The same link is fine from the root preopen, where the target stays inside.
  OK(__wasi_path_symlink("../data/in.txt", scratch, "up"));
  OK(__wasi_path_open(3, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "scratch/up", 0, __WASI_RIGHTS_FD_READ, 0, 0, &fd));
  EQ(get(fd, buf, 5), 5);
  OK(__wasi_fd_close(fd));
  OK(__wasi_path_symlink("d", scratch, "dsym"));
  OK(__wasi_path_open(scratch, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "dsym/file", 0, 0, 0, 0, &fd));
  OK(__wasi_fd_close(fd));
  ERR(__wasi_path_symlink("x", scratch, "newlink/"), __WASI_ERRNO_NOENT);
  for (const char **p = (const char *[]){"sym", "dangling", "loop1", "loop2", "out", "abs", "up", "dsym", 0}; *p; p++) OK(__wasi_path_unlink_file(scratch, *p));
  end();

  begin("path_rename/path_unlink_file");
  OK(__wasi_path_create_directory(scratch, "src"));
  OK(__wasi_path_rename(scratch, "src", scratch, "dst"));
  ERR(__wasi_path_filestat_get(scratch, 0, "src", &st), __WASI_ERRNO_NOENT);
  OK(__wasi_path_create_directory(scratch, "src"));
  OK(__wasi_path_rename(scratch, "src", scratch, "dst"));
  OK(__wasi_path_create_directory(scratch, "src"));
  ERR(__wasi_path_rename(scratch, "src", scratch, "d"), __WASI_ERRNO_NOTEMPTY);
  ERR(__wasi_path_rename(scratch, "src", scratch, "hard"), __WASI_ERRNO_NOTDIR);
  ERR(__wasi_path_rename(scratch, "hard", scratch, "src"), __WASI_ERRNO_ISDIR);
  ERR(__wasi_path_rename(scratch, "hard/", scratch, "x"), __WASI_ERRNO_NOTDIR);
  ERR(__wasi_path_rename(scratch, "src", scratch, "src/inner"), __WASI_ERRNO_INVAL);
  ERR(__wasi_path_rename(scratch, "nothing", scratch, "x"), __WASI_ERRNO_NOENT);
  f = open_at(scratch, "other", __WASI_OFLAGS_CREAT, RW, 0);
  OK(__wasi_fd_close(f));
  OK(__wasi_path_rename(scratch, "hard", scratch, "other"));
  OK(__wasi_path_filestat_get(scratch, 0, "other", &st));
  EQ(st.size, 6);
  OK(__wasi_path_rename(scratch, "other", scratch, "d/moved"));
  ERR(__wasi_path_unlink_file(scratch, "d"), __WASI_ERRNO_ISDIR);
  ERR(__wasi_path_unlink_file(scratch, "d/moved/"), __WASI_ERRNO_NOTDIR);
  ERR(__wasi_path_unlink_file(scratch, "nothing"), __WASI_ERRNO_NOENT);
  OK(__wasi_path_unlink_file(scratch, "d/moved"));
  OK(__wasi_path_unlink_file(scratch, "d/file"));
  for (const char **p = (const char *[]){"src", "dst", "d", 0}; *p; p++) OK(__wasi_path_remove_directory(scratch, *p));
  uint8_t buf2[256];
  OK(__wasi_fd_readdir(scratch, buf2, sizeof buf2, 0, &n));
  EQ(n, 2 * sizeof(__wasi_dirent_t) + 3); // only . and .. are left
  end();
}

static void polling(void) {
  begin("poll_oneoff");
  __wasi_subscription_t subs[3];
  __wasi_event_t ev[3];
  __wasi_size_t n;
  ERR(__wasi_poll_oneoff(subs, ev, 0, &n), __WASI_ERRNO_INVAL);
  memset(subs, 0, sizeof subs);
  subs[0].userdata = 42;
  subs[0].u.tag = __WASI_EVENTTYPE_CLOCK;
  subs[0].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
  subs[0].u.u.clock.timeout = 5000000000ull;
  __wasi_timestamp_t t0, t1;
  OK(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t0));
  OK(__wasi_poll_oneoff(subs, ev, 1, &n));
  OK(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t1));
  EQ(n, 1);
  EQ(ev[0].userdata, 42);
  EQ(ev[0].type, __WASI_EVENTTYPE_CLOCK);
  EQ(ev[0].error, 0);
  CHECK(t1 - t0 >= 5000000000ull, "a 5 s sleep moves the virtual clock by 5 s (moved %llu)", (unsigned long long)(t1 - t0));
  // An absolute deadline in the past is due at once.
  subs[0].u.u.clock.timeout = 1;
  subs[0].u.u.clock.flags = __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME;
  OK(__wasi_poll_oneoff(subs, ev, 1, &n));
  EQ(n, 1);
  // A descriptor that is ready wins over a far clock, and the clock does not fire.
  __wasi_fd_t f = open_at(3, "data/in.txt", 0, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_POLL_FD_READWRITE, 0);
  subs[0].u.u.clock.flags = 0;
  subs[0].u.u.clock.timeout = 1000000000000ull;
  subs[1].userdata = 7;
  subs[1].u.tag = __WASI_EVENTTYPE_FD_READ;
  subs[1].u.u.fd_read.file_descriptor = f;
  subs[2].userdata = 8;
  subs[2].u.tag = __WASI_EVENTTYPE_FD_WRITE;
  subs[2].u.u.fd_write.file_descriptor = 1;
  OK(__wasi_poll_oneoff(subs, ev, 3, &n));
  EQ(n, 2);
  EQ(ev[0].userdata, 7);
  EQ(ev[0].type, __WASI_EVENTTYPE_FD_READ);
  EQ(ev[0].fd_readwrite.nbytes, 11);
  EQ(ev[1].userdata, 8);
  subs[1].u.u.fd_read.file_descriptor = 0;
  OK(__wasi_poll_oneoff(subs + 1, ev, 1, &n));
  EQ(n, 1);
  subs[1].u.u.fd_read.file_descriptor = 999;
  ERR(__wasi_poll_oneoff(subs + 1, ev, 1, &n), __WASI_ERRNO_BADF);
  OK(__wasi_fd_close(f));
  end();
}

static void sockets(void) {
  begin("sock_accept/sock_recv/sock_send/sock_shutdown");
  __wasi_fd_t fd;
  __wasi_size_t n;
  __wasi_roflags_t ro;
  uint8_t buf[4];
  __wasi_iovec_t iov = {buf, 4};
  __wasi_ciovec_t ciov = {buf, 4};
  ERR(__wasi_sock_accept(3, 0, &fd), __WASI_ERRNO_NOTSOCK);
  ERR(__wasi_sock_accept(99, 0, &fd), __WASI_ERRNO_BADF);
  ERR(__wasi_sock_recv(0, &iov, 1, 0, &n, &ro), __WASI_ERRNO_NOTSOCK);
  ERR(__wasi_sock_send(1, &ciov, 1, 0, &n), __WASI_ERRNO_NOTSOCK);
  ERR(__wasi_sock_shutdown(1, __WASI_SDFLAGS_WR), __WASI_ERRNO_NOTSOCK);
  ERR(__wasi_sock_shutdown(99, __WASI_SDFLAGS_WR), __WASI_ERRNO_BADF);
  end();
}

static void close_preopen(void) {
  begin("fd_close of a preopen");
  __wasi_fd_t again = open_at(scratch, ".", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READDIR, 0);
  OK(__wasi_fd_close(scratch));
  __wasi_fdstat_t st;
  ERR(__wasi_fd_fdstat_get(scratch, &st), __WASI_ERRNO_BADF);
  OK(__wasi_fd_fdstat_get(again, &st));
  EQ(st.fs_filetype, __WASI_FILETYPE_DIRECTORY);
  end();
}

int main(void) {
  args_and_env();
  clocks_random_sched();
  preopens();
  if (scratch == 0) return 1;
  fdstat();
  files();
  directories();
  links();
  polling();
  sockets();
  close_preopen();
  printf("%d failures\n", failures);
  fflush(stdout);
  __wasi_proc_exit(failures ? 1 : 0);
}
