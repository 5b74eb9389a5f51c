//! A RON value as a tree, read from the compact text `ron::to_string` writes, and written back
//! in the house style: inline where it fits the line, one field or item per line where not.

/// One RON value. Atoms (numbers, strings, booleans, unit variants, `None`, `()`) keep their
/// text exactly as `ron` wrote it.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A number, string, boolean, unit variant or `()`.
    Atom(String),
    /// A tuple variant or `Some`: `Bounded(1000)`, `To("web")`.
    Call(String, Vec<Node>),
    /// A struct or struct variant: `(name: "web", workers: 4)`, `Bursty(on_s: 1.0, off_s: 2.0)`.
    Struct(Option<String>, Vec<(String, Node)>),
    /// A tuple: `(0.0, 100.0)`.
    Tuple(Vec<Node>),
    /// A list: `[..]`.
    Seq(Vec<Node>),
    /// A map: `{k: v}`.
    Map(Vec<(Node, Node)>),
}

/// Widest line the writer makes when a value can be broken.
pub const WIDTH: usize = 100;

/// Reads the compact RON `text` (as `ron::to_string` writes it: no spaces, no comments).
pub fn parse(text: &str) -> Result<Node, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let n = p.value()?;
    if p.i != p.s.len() {
        return Err(format!("trailing text at byte {}", p.i));
    }
    Ok(n)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected '{}' at byte {}", c as char, self.i))
        }
    }

    fn text(&self, from: usize) -> String {
        String::from_utf8_lossy(&self.s[from..self.i]).into_owned()
    }

    fn ident(&mut self) -> String {
        let from = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
        {
            self.i += 1;
        }
        self.text(from)
    }

    /// A string literal, escapes and all, as written.
    fn string(&mut self) -> Result<String, String> {
        let from = self.i;
        self.i += 1;
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'\\' => self.i += 1,
                b'"' => return Ok(self.text(from)),
                _ => {}
            }
        }
        Err("unterminated string".into())
    }

    fn value(&mut self) -> Result<Node, String> {
        match self.peek().ok_or("unexpected end")? {
            b'"' => Ok(Node::Atom(readable(&self.string()?))),
            b'[' => {
                self.i += 1;
                let mut items = vec![];
                while self.peek() != Some(b']') {
                    items.push(self.value()?);
                    if self.peek() == Some(b',') {
                        self.i += 1;
                    }
                }
                self.i += 1;
                Ok(Node::Seq(items))
            }
            b'{' => {
                self.i += 1;
                let mut items = vec![];
                while self.peek() != Some(b'}') {
                    let k = self.value()?;
                    self.eat(b':')?;
                    items.push((k, self.value()?));
                    if self.peek() == Some(b',') {
                        self.i += 1;
                    }
                }
                self.i += 1;
                Ok(Node::Map(items))
            }
            b'(' => self.paren(None),
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let name = self.ident();
                if self.peek() == Some(b'(') {
                    self.paren(Some(name))
                } else {
                    Ok(Node::Atom(name))
                }
            }
            _ => {
                let from = self.i;
                while self
                    .peek()
                    .is_some_and(|c| !matches!(c, b',' | b')' | b']' | b'}' | b':'))
                {
                    self.i += 1;
                }
                Ok(Node::Atom(self.text(from)))
            }
        }
    }

    /// `( .. )` after an optional name: a struct when its first item is `ident:`.
    fn paren(&mut self, name: Option<String>) -> Result<Node, String> {
        self.eat(b'(')?;
        let start = self.i;
        let first = self.ident();
        let is_struct = !first.is_empty() && self.peek() == Some(b':');
        self.i = start;
        let mut fields = vec![];
        let mut items = vec![];
        while self.peek() != Some(b')') {
            if is_struct {
                let k = self.ident();
                self.eat(b':')?;
                fields.push((k, self.value()?));
            } else {
                items.push(self.value()?);
            }
            if self.peek() == Some(b',') {
                self.i += 1;
            }
        }
        self.i += 1;
        Ok(match (is_struct, name) {
            (true, name) => Node::Struct(name, fields),
            (false, None) if items.is_empty() => Node::Atom("()".into()),
            (false, None) => Node::Tuple(items),
            (false, Some(n)) => Node::Call(n, items),
        })
    }
}

/// A string literal as a person writes it: `ron` escapes a single quote and every character
/// outside ASCII (`\'`, `\u{e9}`), which a RON reader does not need.
fn readable(lit: &str) -> String {
    let mut out = String::with_capacity(lit.len());
    let mut chars = lit.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some('\'') => {
                chars.next();
                out.push('\'');
            }
            Some('u') => {
                let rest: String = chars.clone().take(12).collect();
                let decoded = rest
                    .strip_prefix("u{")
                    .and_then(|r| r.split_once('}'))
                    .and_then(|(hex, _)| Some((hex.len(), u32::from_str_radix(hex, 16).ok()?)))
                    .and_then(|(n, v)| Some((n, char::from_u32(v)?)));
                match decoded {
                    Some((n, ch)) if !ch.is_control() && ch != '"' && ch != '\\' => {
                        for _ in 0..n + 3 {
                            chars.next();
                        }
                        out.push(ch);
                    }
                    _ => out.push('\\'),
                }
            }
            Some(other) => {
                chars.next();
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn join<T>(items: &[T], f: impl Fn(&T) -> String) -> String {
    items.iter().map(f).collect::<Vec<_>>().join(", ")
}

/// The value on one line.
pub fn inline(n: &Node) -> String {
    match n {
        Node::Atom(a) => a.clone(),
        Node::Call(name, args) => format!("{name}({})", join(args, inline)),
        Node::Struct(name, fields) => format!(
            "{}({})",
            name.as_deref().unwrap_or(""),
            join(fields, |(k, v)| format!("{k}: {}", inline(v)))
        ),
        Node::Tuple(items) => format!("({})", join(items, inline)),
        Node::Seq(items) => format!("[{}]", join(items, inline)),
        Node::Map(items) => format!(
            "{{{}}}",
            join(items, |(k, v)| format!("{}: {}", inline(k), inline(v)))
        ),
    }
}

/// Comments to write before a field of a struct being written (by field name) or before an
/// item of a list (by index), and at the end of a list.
pub trait Notes {
    /// Comment lines (with their `//`) before field `key` (or item `index`) at `path`.
    fn before(&self, path: &[String], key: &str) -> Vec<String>;
    /// True when something under `path` has a comment, so it must be written broken.
    fn under(&self, path: &[String]) -> bool;
}

/// No comments.
pub struct NoNotes;

impl Notes for NoNotes {
    fn before(&self, _: &[String], _: &str) -> Vec<String> {
        vec![]
    }
    fn under(&self, _: &[String]) -> bool {
        false
    }
}

/// Writes `n` starting at column `indent` after a prefix of `lead` characters (`key: `):
/// inline if it fits and `path` holds no comment and is not in `broken`, else broken.
pub fn pretty(
    n: &Node,
    indent: usize,
    lead: usize,
    path: &mut Vec<String>,
    notes: &dyn Notes,
    broken: &dyn Fn(&[String]) -> bool,
) -> String {
    let one = inline(n);
    let force = broken(path) || notes.under(path);
    if !force && indent + lead + one.len() <= WIDTH {
        return one;
    }
    let pad = " ".repeat(indent + 4);
    let close = " ".repeat(indent);
    let mut out = String::new();
    let comments = |out: &mut String, path: &[String], key: &str| {
        for c in notes.before(path, key) {
            out.push_str(&format!("{pad}{c}\n"));
        }
    };
    match n {
        Node::Struct(name, fields) if !fields.is_empty() => {
            out.push_str(&format!("{}(\n", name.as_deref().unwrap_or("")));
            for (k, v) in fields {
                comments(&mut out, path, k);
                path.push(k.clone());
                let body = pretty(v, indent + 4, k.len() + 2, path, notes, broken);
                path.pop();
                out.push_str(&format!("{pad}{k}: {body},\n"));
            }
            comments(&mut out, path, "]");
            out.push_str(&format!("{close})"));
        }
        Node::Seq(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (i, v) in items.iter().enumerate() {
                let key = i.to_string();
                comments(&mut out, path, &key);
                path.push(key);
                let body = pretty(v, indent + 4, 0, path, notes, broken);
                path.pop();
                out.push_str(&format!("{pad}{body},\n"));
            }
            comments(&mut out, path, "]");
            out.push_str(&format!("{close}]"));
        }
        Node::Call(name, args) if args.len() == 1 => {
            path.push("0".into());
            let body = pretty(&args[0], indent, lead + name.len() + 1, path, notes, broken);
            path.pop();
            out.push_str(&format!("{name}({body})"));
        }
        _ => out.push_str(&one),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_ron_reads_back_and_writes_inline_unchanged() {
        let text = r#"(name:"a \"b\" c",kind:Service,q:Bounded(1000),x:Some((a:1,b:-2.5e-7)),l:[(0.0,1.0)],e:(),m:{"k":1},v:Bursty(on_s:1.0,off_s:2.0),n:None)"#;
        let n = parse(text).unwrap();
        assert_eq!(inline(&n).replace(": ", ":").replace(", ", ","), text);
        let Node::Struct(None, f) = &n else { panic!() };
        assert_eq!(
            f[2].1,
            Node::Call("Bounded".into(), vec![Node::Atom("1000".into())])
        );
        assert!(matches!(&f[7].1, Node::Struct(Some(v), _) if v == "Bursty"));
    }

    #[test]
    fn a_long_value_is_broken_one_field_per_line() {
        let long = format!(r#"(a:"{}",b:[1,2])"#, "x".repeat(120));
        let n = parse(&long).unwrap();
        let out = pretty(&n, 0, 0, &mut vec![], &NoNotes, &|_| false);
        assert_eq!(
            out,
            format!("(\n    a: \"{}\",\n    b: [1, 2],\n)", "x".repeat(120))
        );
    }
}
