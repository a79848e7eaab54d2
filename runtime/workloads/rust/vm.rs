// An interpreter: a bytecode compiler and stack VM for a tiny expression language with variables,
// loops and function calls (recursive fib and an iterated Collatz count).
include!("common.rs");

#[derive(Clone, Copy, Debug)]
enum Op {
    Push(i64),
    Load(usize),
    Store(usize),
    Add,
    Sub,
    Mul,
    Lt,
    JumpIfZero(usize),
    Jump(usize),
    Call(usize, usize),
    Ret,
    Div,
    Rem,
    Eq,
    Halt,
}

struct Vm {
    code: Vec<Op>,
    stack: Vec<i64>,
    frames: Vec<(usize, usize)>,
    locals: Vec<i64>,
    steps: u64,
}

impl Vm {
    fn run(&mut self, mut pc: usize) -> i64 {
        let mut base = 0;
        loop {
            self.steps += 1;
            match self.code[pc] {
                Op::Push(v) => self.stack.push(v),
                Op::Load(i) => self.stack.push(self.locals[base + i]),
                Op::Store(i) => {
                    let v = self.stack.pop().unwrap();
                    self.locals[base + i] = v;
                }
                Op::Add | Op::Sub | Op::Mul | Op::Lt | Op::Div | Op::Rem | Op::Eq => {
                    let b = self.stack.pop().unwrap();
                    let a = self.stack.pop().unwrap();
                    self.stack.push(match self.code[pc] {
                        Op::Add => a.wrapping_add(b),
                        Op::Sub => a.wrapping_sub(b),
                        Op::Mul => a.wrapping_mul(b),
                        Op::Lt => (a < b) as i64,
                        Op::Div => a / b,
                        Op::Rem => a % b,
                        _ => (a == b) as i64,
                    });
                }
                Op::JumpIfZero(t) => {
                    if self.stack.pop().unwrap() == 0 {
                        pc = t;
                        continue;
                    }
                }
                Op::Jump(t) => {
                    pc = t;
                    continue;
                }
                Op::Call(target, nargs) => {
                    let new_base = self.locals.len();
                    self.locals.resize(new_base + 8, 0);
                    for i in (0..nargs).rev() {
                        self.locals[new_base + i] = self.stack.pop().unwrap();
                    }
                    self.frames.push((pc + 1, base));
                    base = new_base;
                    pc = target;
                    continue;
                }
                Op::Ret => {
                    let (ret, old) = self.frames.pop().unwrap();
                    self.locals.truncate(base);
                    base = old;
                    if self.frames.is_empty() && ret == usize::MAX {
                        return self.stack.pop().unwrap();
                    }
                    pc = ret;
                    continue;
                }
                Op::Halt => return self.stack.pop().unwrap(),
            }
            pc += 1;
        }
    }
}

fn main() {
    use Op::*;
    // Assemble with explicit addresses (simpler than a parser for a benchmark).
    let mut c: Vec<Op> = Vec::new();
    let fib = c.len();
    c.extend([Load(0), Push(2), Lt, JumpIfZero(fib + 6), Load(0), Ret]);
    c.extend([Load(0), Push(1), Sub, Call(fib, 1), Load(0), Push(2), Sub, Call(fib, 1), Add, Ret]);
    let collatz = c.len();
    c.extend([Push(0), Store(1)]);
    let top = c.len();
    c.extend([Load(0), Push(1), Eq, JumpIfZero(top + 6), Load(1), Ret]);
    let body = c.len();
    c.extend([Load(0), Push(2), Rem, JumpIfZero(body + 12)]);
    c.extend([Load(0), Push(3), Mul, Push(1), Add, Store(0), Jump(body + 16)]);
    c.push(Halt); // never reached: keeps the addresses below aligned
    c.extend([Load(0), Push(2), Div, Store(0)]);
    c.extend([Load(1), Push(1), Add, Store(1), Jump(top)]);
    let k = 20;
    let m = 1500 * scale(1) as i64;
    let main_at = c.len();
    c.extend([Push(k), Call(fib, 1), Store(0), Push(1), Store(1), Push(0), Store(2)]);
    let lp = c.len();
    c.extend([Load(1), Push(m), Lt, JumpIfZero(lp + 14)]);
    c.extend([Load(1), Call(collatz, 1), Load(2), Add, Store(2), Load(1), Push(1), Add, Store(1)]);
    c.extend([Jump(lp), Load(0), Load(2), Push(1_000_000), Mul, Add, Halt]);
    let mut vm = Vm { code: c, stack: Vec::new(), frames: Vec::new(), locals: vec![0; 8], steps: 0 };
    let r = vm.run(main_at);
    println!("vm result={} steps={}", r, vm.steps);
}
