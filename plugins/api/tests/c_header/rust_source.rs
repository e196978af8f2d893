//! Just enough of a Rust reader for abi.rs: `#[repr(C)]` structs with
//! their fields' types, `pub type` aliases and top-level `pub const`s.
//! abi.rs is plain, declarative code, so a tokenizer and a small recursive
//! type parser suffice (no `syn` in a crate with no dev-dependencies).

use std::collections::BTreeMap;
use std::path::Path;

/// The subset of Rust types abi.rs uses at the boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RustType {
    /// A type name, path prefix dropped (`c_int`, `Writer`).
    Named(String),
    Pointer {
        constant: bool,
        to: Box<RustType>,
    },
    Array {
        of: Box<RustType>,
        len: usize,
    },
    /// `unsafe extern "C" fn(..) -> ..`.
    Function {
        params: Vec<RustType>,
        ret: Option<Box<RustType>>,
    },
}

pub struct AbiSource {
    /// Struct name to (field, type) in declaration order.
    pub structs: BTreeMap<String, Vec<(String, RustType)>>,
    /// `pub type` aliases.
    pub aliases: BTreeMap<String, RustType>,
    /// Names of top-level `pub const`s.
    pub constants: Vec<String>,
}

fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn tokenize(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(chars[start..i].iter().collect());
        } else if c == '"' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += 1;
            }
            i += 1;
            tokens.push(chars[start..i.min(chars.len())].iter().collect());
        } else if (c == ':' || c == '-')
            && chars.get(i + 1) == Some(&if c == ':' { ':' } else { '>' })
        {
            tokens.push(chars[i..i + 2].iter().collect());
            i += 2;
        } else {
            tokens.push(c.to_string());
            i += 1;
        }
    }
    tokens
}

struct Parser {
    tokens: Vec<String>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> &str {
        self.tokens.get(self.pos).map(String::as_str).unwrap_or("")
    }

    fn peek_at(&self, n: usize) -> &str {
        self.tokens
            .get(self.pos + n)
            .map(String::as_str)
            .unwrap_or("")
    }

    fn next(&mut self) -> String {
        let t = self.peek().to_owned();
        self.pos += 1;
        t
    }

    fn expect(&mut self, token: &str) {
        let got = self.next();
        assert_eq!(
            got, token,
            "abi.rs: expected `{token}` near token {}",
            self.pos
        );
    }

    fn parse_type(&mut self) -> RustType {
        match self.peek() {
            "*" => {
                self.next();
                let constant = match self.next().as_str() {
                    "const" => true,
                    "mut" => false,
                    other => panic!("abi.rs: pointer without const/mut: {other}"),
                };
                RustType::Pointer {
                    constant,
                    to: Box::new(self.parse_type()),
                }
            }
            "[" => {
                self.next();
                let of = self.parse_type();
                self.expect(";");
                let len = self.next().parse().expect("array length");
                self.expect("]");
                RustType::Array {
                    of: Box::new(of),
                    len,
                }
            }
            "unsafe" => {
                self.next();
                self.expect("extern");
                self.expect("\"C\"");
                self.expect("fn");
                self.expect("(");
                let mut params = Vec::new();
                while self.peek() != ")" {
                    if self.peek_at(1) == ":" {
                        self.next();
                        self.next();
                    }
                    params.push(self.parse_type());
                    if self.peek() == "," {
                        self.next();
                    }
                }
                self.expect(")");
                let ret = if self.peek() == "->" {
                    self.next();
                    Some(Box::new(self.parse_type()))
                } else {
                    None
                };
                RustType::Function { params, ret }
            }
            _ => {
                let mut name = self.next();
                while self.peek() == "::" {
                    self.next();
                    name = self.next();
                }
                assert!(
                    name.chars().all(|c| c.is_alphanumeric() || c == '_'),
                    "abi.rs: odd type {name}"
                );
                RustType::Named(name)
            }
        }
    }
}

/// The text from `start` (just after an opening brace) to its match.
fn braced_body(text: &str, start: usize) -> &str {
    let mut depth = 1;
    for (i, c) in text[start..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return &text[start..start + i];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced braces");
}

fn parse_fields(body: &str) -> Vec<(String, RustType)> {
    let mut p = Parser {
        tokens: tokenize(body),
        pos: 0,
    };
    let mut fields = Vec::new();
    while p.pos < p.tokens.len() {
        if p.peek() == "pub" {
            p.next();
        }
        let name = p.next();
        p.expect(":");
        fields.push((name, p.parse_type()));
        if p.peek() == "," {
            p.next();
        }
    }
    fields
}

impl AbiSource {
    pub fn read(path: &Path) -> Self {
        let text = strip_comments(&std::fs::read_to_string(path).unwrap());
        let mut structs = BTreeMap::new();
        let mut rest = 0;
        while let Some(found) = text[rest..].find("#[repr(C)]") {
            let at = rest + found;
            let decl = at
                + text[at..]
                    .find("pub struct ")
                    .expect("repr(C) without struct")
                + "pub struct ".len();
            let open = decl + text[decl..].find('{').unwrap();
            let name = text[decl..open].trim().to_owned();
            let body = braced_body(&text, open + 1);
            structs.insert(name, parse_fields(body));
            rest = open + 1 + body.len();
        }
        let mut aliases = BTreeMap::new();
        let mut constants = Vec::new();
        // Items at the start of a line are top-level (impl items are indented).
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1));
        for line in line_starts.map(|i| &text[i..]) {
            if let Some(decl) = line.strip_prefix("pub type ") {
                let end = decl.find(';').unwrap();
                let (name, ty) = decl[..end].split_once('=').unwrap();
                let mut p = Parser {
                    tokens: tokenize(ty),
                    pos: 0,
                };
                aliases.insert(name.trim().to_owned(), p.parse_type());
            } else if let Some(decl) = line
                .strip_prefix("pub const ")
                .filter(|d| !d.starts_with("fn "))
            {
                constants.push(decl[..decl.find(':').unwrap()].trim().to_owned());
            }
        }
        AbiSource {
            structs,
            aliases,
            constants,
        }
    }
}

/// The variant names of `pub enum NAME` in `text`, in order.
pub fn enum_variants(text: &str, name: &str) -> Vec<String> {
    let text = strip_comments(text);
    let head = format!("pub enum {name} {{");
    let start = text.find(&head).unwrap_or_else(|| panic!("no enum {name}")) + head.len();
    braced_body(&text, start)
        .split(',')
        .map(|v| v.split('=').next().unwrap().trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}
