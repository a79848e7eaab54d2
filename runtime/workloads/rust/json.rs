// Parsing: a JSON parser (objects, arrays, strings with escapes, numbers, literals) into a tree, a
// serializer back to text, and a query over the tree, on a generated document of orders.
include!("common.rs");
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(BTreeMap<String, Json>),
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\n' | b'\t' | b'\r') {
            self.i += 1;
        }
    }
    fn value(&mut self) -> Result<Json, String> {
        self.ws();
        match self.s.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut m = BTreeMap::new();
                self.ws();
                if self.s[self.i] == b'}' {
                    self.i += 1;
                    return Ok(Json::Obj(m));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    self.ws();
                    self.expect(b':')?;
                    let v = self.value()?;
                    m.insert(k, v);
                    self.ws();
                    match self.s[self.i] {
                        b',' => self.i += 1,
                        b'}' => {
                            self.i += 1;
                            return Ok(Json::Obj(m));
                        }
                        c => return Err(format!("unexpected {} at {}", c as char, self.i)),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut v = Vec::new();
                self.ws();
                if self.s[self.i] == b']' {
                    self.i += 1;
                    return Ok(Json::Arr(v));
                }
                loop {
                    v.push(self.value()?);
                    self.ws();
                    match self.s[self.i] {
                        b',' => self.i += 1,
                        b']' => {
                            self.i += 1;
                            return Ok(Json::Arr(v));
                        }
                        c => return Err(format!("unexpected {} at {}", c as char, self.i)),
                    }
                }
            }
            Some(b'"') => Ok(Json::Str(self.string()?)),
            Some(b't') => self.lit("true", Json::Bool(true)),
            Some(b'f') => self.lit("false", Json::Bool(false)),
            Some(b'n') => self.lit("null", Json::Null),
            Some(_) => self.number(),
            None => Err("unexpected end".into()),
        }
    }
    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected {} at {}", c as char, self.i))
        }
    }
    fn lit(&mut self, word: &str, v: Json) -> Result<Json, String> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(format!("bad literal at {}", self.i))
        }
    }
    fn number(&mut self) -> Result<Json, String> {
        let start = self.i;
        while self.i < self.s.len() && matches!(self.s[self.i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i]).unwrap().parse().map(Json::Num).map_err(|e| format!("{} at {}", e, start))
    }
    fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let mut out = String::new();
        loop {
            let c = self.s[self.i];
            self.i += 1;
            match c {
                b'"' => return Ok(out),
                b'\\' => {
                    let e = self.s[self.i];
                    self.i += 1;
                    match e {
                        b'n' => out.push('\n'),
                        b't' => out.push('\t'),
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'u' => {
                            let h = std::str::from_utf8(&self.s[self.i..self.i + 4]).unwrap();
                            self.i += 4;
                            out.push(char::from_u32(u32::from_str_radix(h, 16).map_err(|e| e.to_string())?).unwrap_or('?'));
                        }
                        _ => return Err(format!("bad escape at {}", self.i)),
                    }
                }
                _ => {
                    let start = self.i - 1;
                    while self.s[self.i] != b'"' && self.s[self.i] != b'\\' {
                        self.i += 1;
                    }
                    out.push_str(std::str::from_utf8(&self.s[start..self.i]).map_err(|e| e.to_string())?);
                }
            }
        }
    }
}

fn write(j: &Json, out: &mut String) {
    match j {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Num(n) => out.push_str(&format!("{}", n)),
        Json::Str(s) => {
            out.push('"');
            for ch in s.chars() {
                match ch {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        Json::Arr(v) => {
            out.push('[');
            for (i, x) in v.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(x, out);
            }
            out.push(']');
        }
        Json::Obj(m) => {
            out.push('{');
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(&Json::Str(k.clone()), out);
                out.push(':');
                write(v, out);
            }
            out.push('}');
        }
    }
}

fn main() {
    let n = scale(1) * 400;
    let mut rng = Rng(7);
    let regions = ["eu-west", "us-east", "ap-south", "edge \"lab\""];
    let mut doc = String::from("{\"orders\": [\n");
    for i in 0..n {
        if i > 0 {
            doc.push_str(",\n");
        }
        doc.push_str(&format!(
            "  {{\"id\": {}, \"region\": \"{}\", \"fuel\": {}, \"price\": {}.{:02}, \"tags\": [\"t{}\", \"\\u00e9x\"], \"ok\": {}, \"note\": null}}",
            i,
            regions[rng.below(4) as usize].replace('"', "\\\""),
            rng.below(1_000_000),
            rng.below(100),
            rng.below(100),
            rng.below(10),
            rng.below(2) == 0
        ));
    }
    doc.push_str("\n]}\n");
    let tree = Parser { s: doc.as_bytes(), i: 0 }.value().expect("parse");
    let mut text = String::new();
    write(&tree, &mut text);
    let again = Parser { s: text.as_bytes(), i: 0 }.value().expect("reparse");
    assert!(again == tree, "round trip");
    let mut per_region: BTreeMap<String, (u64, f64)> = BTreeMap::new();
    if let Json::Obj(m) = &tree {
        if let Some(Json::Arr(orders)) = m.get("orders") {
            for o in orders {
                if let Json::Obj(o) = o {
                    if let (Some(Json::Str(r)), Some(Json::Num(f)), Some(Json::Bool(true))) = (o.get("region"), o.get("fuel"), o.get("ok")) {
                        let e = per_region.entry(r.clone()).or_insert((0, 0.0));
                        e.0 += 1;
                        e.1 += f;
                    }
                }
            }
        }
    }
    print!("json bytes={} out={}", doc.len(), text.len());
    for (r, (c, f)) in &per_region {
        print!(" {}:{}:{}", r, c, f);
    }
    println!();
}
