// WASI preview 1 conformance, in Rust: what std does on wasm32-wasi (files, directories, links,
// metadata, sleeping, the environment) and raw calls for the functions std does not reach, with the
// errno semantics of the reference implementation (wasmtime). Same input as the C twin: argv =
// [prog, "scratch"], env A=1 B=two, stdin "stdin-bytes", an empty directory "scratch", "data/in.txt".
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::os::wasi::io::AsRawFd;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    fn fd_advise(fd: u32, offset: u64, len: u64, advice: u8) -> u16;
    fn fd_allocate(fd: u32, offset: u64, len: u64) -> u16;
    fn fd_renumber(from: u32, to: u32) -> u16;
    fn fd_fdstat_set_rights(fd: u32, base: u64, inheriting: u64) -> u16;
    fn fd_fdstat_set_flags(fd: u32, flags: u16) -> u16;
    fn fd_fdstat_get(fd: u32, out: *mut u8) -> u16;
    fn fd_filestat_set_times(fd: u32, atim: u64, mtim: u64, flags: u16) -> u16;
    fn fd_datasync(fd: u32) -> u16;
    fn fd_sync(fd: u32) -> u16;
    fn fd_close(fd: u32) -> u16;
    fn path_open(fd: u32, dirflags: u32, path: *const u8, len: usize, oflags: u16, base: u64, inh: u64, fdflags: u16, out: *mut u32) -> u16;
    fn path_filestat_set_times(fd: u32, flags: u32, path: *const u8, len: usize, atim: u64, mtim: u64, fst: u16) -> u16;
    fn clock_res_get(id: u32, out: *mut u64) -> u16;
    fn clock_time_get(id: u32, precision: u64, out: *mut u64) -> u16;
    fn random_get(buf: *mut u8, len: usize) -> u16;
    fn sched_yield() -> u16;
    fn proc_raise(sig: u8) -> u16;
    fn poll_oneoff(subs: *const u8, events: *mut u8, n: usize, out: *mut usize) -> u16;
    fn sock_accept(fd: u32, flags: u16, out: *mut u32) -> u16;
    fn sock_recv(fd: u32, iovs: *const u8, n: usize, flags: u16, nread: *mut usize, oflags: *mut u16) -> u16;
    fn sock_send(fd: u32, iovs: *const u8, n: usize, flags: u16, nsent: *mut usize) -> u16;
    fn sock_shutdown(fd: u32, how: u8) -> u16;
    fn fd_prestat_get(fd: u32, out: *mut u8) -> u16;
    fn fd_prestat_dir_name(fd: u32, buf: *mut u8, len: usize) -> u16;
    fn fd_pread(fd: u32, iovs: *const u32, n: usize, offset: u64, out: *mut usize) -> u16;
    fn fd_pwrite(fd: u32, iovs: *const u32, n: usize, offset: u64, out: *mut usize) -> u16;
    fn path_symlink(target: *const u8, tlen: usize, fd: u32, path: *const u8, plen: usize) -> u16;
}

fn pread(fd: u32, buf: &mut [u8], offset: u64) -> usize {
    let iov = [buf.as_mut_ptr() as u32, buf.len() as u32];
    let mut n = 0;
    assert_eq!(unsafe { fd_pread(fd, iov.as_ptr(), 1, offset, &mut n) }, 0);
    n
}

fn pwrite(fd: u32, buf: &[u8], offset: u64) -> usize {
    let iov = [buf.as_ptr() as u32, buf.len() as u32];
    let mut n = 0;
    assert_eq!(unsafe { fd_pwrite(fd, iov.as_ptr(), 1, offset, &mut n) }, 0);
    n
}

fn symlink(dir: u32, target: &str, path: &str) -> u16 {
    unsafe { path_symlink(target.as_ptr(), target.len(), dir, path.as_ptr(), path.len()) }
}

const NOTSOCK: u16 = 57;
const BADF: u16 = 8;
const INVAL: u16 = 28;
const NOTCAPABLE: u16 = 76;

struct Checks {
    failures: u32,
    section: &'static str,
    before: u32,
}

impl Checks {
    fn begin(&mut self, s: &'static str) {
        self.section = s;
        self.before = self.failures;
    }
    fn end(&mut self) {
        if self.failures == self.before {
            println!("ok {}", self.section);
        }
    }
    fn check(&mut self, cond: bool, what: &str, line: u32) {
        if !cond {
            println!("FAIL {}: {} (line {})", self.section, what, line);
            self.failures += 1;
        }
    }
}

macro_rules! check {
    ($c:expr, $cond:expr) => {
        $c.check($cond, stringify!($cond), line!())
    };
}
macro_rules! eq {
    ($c:expr, $a:expr, $b:expr) => {{
        let (a, b) = ($a, $b);
        let ok = a == b;
        $c.check(ok, &format!("{} = {:?}, expected {:?}", stringify!($a), a, b), line!())
    }};
}

fn kind(e: &std::io::Error) -> ErrorKind {
    e.kind()
}

fn find_preopen(name: &str) -> Option<u32> {
    for fd in 3..32u32 {
        let mut st = [0u8; 8];
        if unsafe { fd_prestat_get(fd, st.as_mut_ptr()) } != 0 {
            return None;
        }
        let len = u32::from_le_bytes([st[4], st[5], st[6], st[7]]) as usize;
        let mut buf = vec![0u8; len];
        unsafe { fd_prestat_dir_name(fd, buf.as_mut_ptr(), len) };
        if buf == name.as_bytes() {
            return Some(fd);
        }
    }
    None
}

fn main() {
    let mut c = Checks { failures: 0, section: "", before: 0 };

    c.begin("std::env (args_*, environ_*)");
    let args: Vec<String> = std::env::args().collect();
    eq!(c, args.len(), 2);
    eq!(c, args[1].as_str(), "scratch");
    let vars: Vec<(String, String)> = std::env::vars().collect();
    eq!(c, vars, vec![("A".to_string(), "1".to_string()), ("B".to_string(), "two".to_string())]);
    c.end();

    c.begin("std::time and clocks");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    check!(c, now.as_secs() >= 1_704_067_200);
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_millis(250));
    check!(c, t0.elapsed() >= Duration::from_millis(250));
    let mut res = 0u64;
    eq!(c, unsafe { clock_res_get(1, &mut res) }, 0);
    check!(c, res > 0);
    eq!(c, unsafe { clock_time_get(7, 0, &mut res) }, INVAL);
    c.end();

    c.begin("random_get/sched_yield/proc_raise");
    let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
    eq!(c, unsafe { random_get(a.as_mut_ptr(), 16) }, 0);
    eq!(c, unsafe { random_get(b.as_mut_ptr(), 16) }, 0);
    check!(c, a != b);
    eq!(c, unsafe { sched_yield() }, 0);
    eq!(c, unsafe { proc_raise(15) }, 58);
    c.end();

    c.begin("std::io::stdin and the preopens");
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    eq!(c, input.as_str(), "stdin-bytes");
    check!(c, find_preopen("scratch").is_some());
    check!(c, find_preopen("/") == Some(3));
    c.end();

    c.begin("std::fs files");
    let original = fs::read_to_string("data/in.txt").unwrap();
    eq!(c, original.as_str(), "hello world");
    fs::write("scratch/a.txt", b"0123456789").unwrap();
    let mut f = OpenOptions::new().read(true).write(true).open("scratch/a.txt").unwrap();
    f.seek(SeekFrom::Start(4)).unwrap();
    f.write_all(b"xy").unwrap();
    eq!(c, f.stream_position().unwrap(), 6);
    let mut s = String::new();
    f.seek(SeekFrom::Start(0)).unwrap();
    f.read_to_string(&mut s).unwrap();
    eq!(c, s.as_str(), "0123xy6789");
    let mut buf = [0u8; 3];
    let fd = f.as_raw_fd() as u32;
    eq!(c, pread(fd, &mut buf, 7), 3);
    eq!(c, &buf, b"789");
    eq!(c, pwrite(fd, b"ZZ", 12), 2);
    f.set_len(20).unwrap();
    eq!(c, f.metadata().unwrap().len(), 20);
    eq!(c, unsafe { fd_advise(fd, 0, 0, 1) }, 0);
    eq!(c, unsafe { fd_advise(fd, 0, 0, 77) }, INVAL);
    eq!(c, unsafe { fd_allocate(fd, 0, 64) }, 0);
    eq!(c, f.metadata().unwrap().len(), 64);
    eq!(c, unsafe { fd_datasync(fd) }, 0);
    eq!(c, unsafe { fd_sync(fd) }, 0);
    eq!(c, unsafe { fd_filestat_set_times(fd, 1_000_000_000, 2_000_000_000, 1 | 4) }, 0);
    let m = f.metadata().unwrap();
    eq!(c, m.modified().unwrap(), UNIX_EPOCH + Duration::from_secs(2));
    eq!(c, m.accessed().unwrap(), UNIX_EPOCH + Duration::from_secs(1));
    eq!(c, unsafe { fd_fdstat_set_flags(fd, 1) }, 0);
    let mut st = [0u8; 24];
    eq!(c, unsafe { fd_fdstat_get(fd, st.as_mut_ptr()) }, 0);
    eq!(c, u16::from_le_bytes([st[2], st[3]]), 1);
    // Dropping rights: the descriptor can no longer read, and cannot get the right back.
    let rights = u64::from_le_bytes(st[8..16].try_into().unwrap());
    eq!(c, unsafe { fd_fdstat_set_rights(fd, rights & !2, 0) }, 0);
    eq!(c, f.read(&mut buf).map_err(|e| e.raw_os_error()), Err(Some(BADF as i32)));
    eq!(c, unsafe { fd_fdstat_set_rights(fd, rights, 0) }, NOTCAPABLE);
    drop(f);
    eq!(c, OpenOptions::new().write(true).create_new(true).open("scratch/a.txt").map_err(|e| kind(&e)).err(), Some(ErrorKind::AlreadyExists));
    eq!(c, File::open("scratch/missing").map_err(|e| kind(&e)).err(), Some(ErrorKind::NotFound));
    eq!(c, File::open("/etc/passwd").map_err(|e| kind(&e)).err(), Some(ErrorKind::NotFound));
    let p = "scratch/t.txt\0".as_ptr();
    let mut out = 0u32;
    let scratch = find_preopen("scratch").unwrap_or(3);
    eq!(c, unsafe { path_open(scratch, 0, p.add(8), 6, 0, 0, 0, 0, &mut out) }, INVAL); // "t.txt\0"
    eq!(c, unsafe { path_filestat_set_times(scratch, 0, "a.txt".as_ptr(), 5, 0, 0, 2 | 8) }, 0);
    c.end();

    c.begin("fd_renumber");
    let a = File::create("scratch/r1").unwrap();
    let b = File::create("scratch/r2").unwrap();
    let (fa, fb) = (a.as_raw_fd() as u32, b.as_raw_fd() as u32);
    std::mem::forget(a);
    eq!(c, unsafe { fd_renumber(fa, fb) }, 0);
    eq!(c, unsafe { fd_close(fa) }, BADF);
    drop(b);
    eq!(c, unsafe { fd_renumber(fb, 999) }, BADF);
    c.end();

    c.begin("std::fs directories and links");
    fs::create_dir_all("scratch/x/y/z").unwrap();
    eq!(c, fs::create_dir("scratch/x").map_err(|e| kind(&e)).err(), Some(ErrorKind::AlreadyExists));
    fs::write("scratch/x/y/file", b"payload").unwrap();
    let mut names: Vec<String> = fs::read_dir("scratch/x/y").unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    eq!(c, names, vec!["file".to_string(), "z".to_string()]);
    fs::hard_link("scratch/x/y/file", "scratch/hard").unwrap();
    eq!(c, fs::read("scratch/hard").unwrap(), b"payload".to_vec());
    eq!(c, symlink(scratch, "x/y/file", "soft"), 0);
    eq!(c, fs::read_link("scratch/soft").unwrap().to_string_lossy().into_owned(), "x/y/file".to_string());
    eq!(c, fs::read("scratch/soft").unwrap(), b"payload".to_vec());
    check!(c, fs::symlink_metadata("scratch/soft").unwrap().file_type().is_symlink());
    check!(c, fs::metadata("scratch/soft").unwrap().is_file());
    eq!(c, symlink(scratch, "../../etc/passwd", "escape"), 0);
    check!(c, fs::read("scratch/escape").is_err());
    fs::rename("scratch/x/y/file", "scratch/moved").unwrap();
    eq!(c, fs::read("scratch/moved").unwrap(), b"payload".to_vec());
    check!(c, fs::read("scratch/soft").is_err());
    eq!(c, fs::remove_dir("scratch/x").map_err(|e| e.raw_os_error()).err(), Some(Some(55)));
    fs::remove_dir_all("scratch/x").unwrap();
    for f in ["hard", "soft", "escape", "moved", "a.txt", "r1", "r2"] {
        fs::remove_file(format!("scratch/{}", f)).unwrap();
    }
    eq!(c, fs::read_dir("scratch").unwrap().count(), 0);
    c.end();

    c.begin("poll_oneoff on descriptors and sockets");
    // One fd_read subscription on stdin (tag 1) and one clock far away: only stdin is ready.
    let mut subs = [0u8; 96];
    subs[0] = 9;
    subs[8] = 1;
    subs[48] = 10;
    subs[56] = 0;
    subs[48 + 16] = 1; // monotonic
    subs[48 + 24..48 + 32].copy_from_slice(&10_000_000_000u64.to_le_bytes());
    let mut events = [0u8; 64];
    let mut n = 0usize;
    eq!(c, unsafe { poll_oneoff(subs.as_ptr(), events.as_mut_ptr(), 2, &mut n) }, 0);
    eq!(c, n, 1);
    eq!(c, events[0], 9);
    eq!(c, unsafe { poll_oneoff(subs.as_ptr(), events.as_mut_ptr(), 0, &mut n) }, INVAL);
    let mut fd = 0u32;
    let (mut nr, mut ro) = (0usize, 0u16);
    let iov = [0u8; 8];
    eq!(c, unsafe { sock_accept(3, 0, &mut fd) }, NOTSOCK);
    eq!(c, unsafe { sock_recv(0, iov.as_ptr(), 0, 0, &mut nr, &mut ro) }, NOTSOCK);
    eq!(c, unsafe { sock_send(1, iov.as_ptr(), 0, 0, &mut nr) }, NOTSOCK);
    eq!(c, unsafe { sock_shutdown(1, 3) }, NOTSOCK);
    eq!(c, unsafe { sock_shutdown(77, 3) }, BADF);
    c.end();

    println!("{} failures", c.failures);
    std::process::exit(if c.failures == 0 { 0 } else { 1 });
}
