//! Editing XML text in place, guided by roxmltree's byte ranges.
//!
//! A domain's XML is edited by replacing, inserting or removing exact
//! byte ranges of the original text; everything not touched (comments,
//! namespaced `<metadata>`, attribute order and quoting) stays byte for
//! byte. Edits are collected first and applied at once, so the ranges
//! always refer to the original document; overlapping edits are a bug
//! and refused.

use std::ops::Range;

use roxmltree::Node;

/// Pending edits to one XML text.
pub struct Splice<'a> {
    src: &'a str,
    edits: Vec<(Range<usize>, String)>,
}

impl<'a> Splice<'a> {
    pub fn new(src: &'a str) -> Self {
        Splice {
            src,
            edits: Vec::new(),
        }
    }

    /// The indentation of `node`'s line in the original text.
    pub fn indent(&self, node: Node) -> &'a str {
        indent_of(self.src, node)
    }

    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    pub fn replace(&mut self, range: Range<usize>, text: impl Into<String>) {
        self.edits.push((range, text.into()));
    }

    pub fn insert(&mut self, at: usize, text: impl Into<String>) {
        self.edits.push((at..at, text.into()));
    }

    /// Replaces a whole element (or any node).
    pub fn replace_node(&mut self, node: Node, text: impl Into<String>) {
        self.replace(node.range(), text);
    }

    /// Removes an element, with its line's indentation and the line break
    /// before it when the element stands on a line of its own.
    pub fn remove(&mut self, node: Node) {
        let r = node.range();
        let before = &self.src[..r.start];
        let start = match before.rfind('\n') {
            Some(nl) if before[nl + 1..].chars().all(|c| c == ' ' || c == '\t') => nl,
            _ => r.start,
        };
        self.replace(start..r.end, "");
    }

    /// Inserts `xml` right after `sibling`, on a new line indented alike.
    pub fn insert_after(&mut self, sibling: Node, xml: &str) {
        let indent = indent_of(self.src, sibling);
        self.insert(sibling.range().end, format!("\n{indent}{xml}"));
    }

    /// Inserts `xml` as the last child element of `parent`.
    pub fn append_child(&mut self, parent: Node, xml: &str) {
        if let Some(last) = parent.children().rfind(|n| n.is_element()) {
            self.insert_after(last, xml);
            return;
        }
        let r = parent.range();
        let indent = indent_of(self.src, parent);
        let tag_end = start_tag_end(self.src, parent);
        let inner = format!("\n{indent}  {xml}\n{indent}");
        if self.src[..tag_end].ends_with("/>") {
            // <devices/> becomes <devices>...</devices>.
            let open = self.src[r.start..tag_end - 2].trim_end();
            let name = qname(self.src, parent);
            self.replace(r, format!("{open}>{inner}</{name}>"));
        } else {
            let close = self.src[..r.end].rfind("</").unwrap_or(r.end);
            self.replace(tag_end..close, inner);
        }
    }

    /// Sets an attribute, adding it at the end of the start tag if absent.
    pub fn set_attr(&mut self, node: Node, name: &str, value: &str) {
        match node
            .attributes()
            .find(|a| a.name() == name && a.namespace().is_none())
        {
            Some(a) => self.replace(a.range_value(), escape(value)),
            None => {
                let end = start_tag_end(self.src, node);
                let at = if self.src[..end].ends_with("/>") {
                    end - 2
                } else {
                    end - 1
                };
                self.insert(at, format!(" {name}='{}'", escape(value)));
            }
        }
    }

    /// Removes an attribute and the space before it.
    pub fn remove_attr(&mut self, node: Node, name: &str) {
        if let Some(a) = node
            .attributes()
            .find(|a| a.name() == name && a.namespace().is_none())
        {
            let r = a.range();
            let start = self.src[..r.start].trim_end().len();
            self.replace(start..r.end, "");
        }
    }

    /// Replaces an element's content with text (the element keeps its
    /// start tag, so its attributes stay as they are).
    pub fn set_text(&mut self, node: Node, text: &str) {
        let r = node.range();
        let tag_end = start_tag_end(self.src, node);
        if self.src[..tag_end].ends_with("/>") {
            let open = self.src[r.start..tag_end - 2].trim_end();
            let name = qname(self.src, node);
            self.replace(r, format!("{open}>{}</{name}>", escape(text)));
        } else {
            let close = self.src[..r.end].rfind("</").unwrap_or(r.end);
            self.replace(tag_end..close, escape(text));
        }
    }

    /// Applies every edit to the original text.
    pub fn finish(mut self) -> Result<String, String> {
        // Stable: insertions at one point keep the order they were made.
        self.edits.sort_by_key(|(r, _)| r.start);
        let mut out = String::with_capacity(self.src.len() + 256);
        let mut pos = 0;
        for (r, text) in &self.edits {
            if r.start < pos {
                return Err(format!("overlapping XML edits at byte {}", r.start));
            }
            out.push_str(&self.src[pos..r.start]);
            out.push_str(text);
            pos = r.end;
        }
        out.push_str(&self.src[pos..]);
        Ok(out)
    }
}

/// The whitespace before `node` on its line (empty if it shares the line).
pub fn indent_of<'s>(src: &'s str, node: Node) -> &'s str {
    let before = &src[..node.range().start];
    let line = &before[before.rfind('\n').map_or(0, |i| i + 1)..];
    if line.chars().all(|c| c == ' ' || c == '\t') {
        line
    } else {
        ""
    }
}

/// The element's qualified name as written (`devices`, `ns:elem`).
fn qname<'s>(src: &'s str, node: Node) -> &'s str {
    let rest = &src[node.range().start + 1..];
    let len = rest
        .find(|c: char| c.is_whitespace() || c == '/' || c == '>')
        .unwrap_or(rest.len());
    &rest[..len]
}

/// The byte just past the `>` that ends the element's start tag. Quoted
/// attribute values may hold a `>`, so quotes are skipped.
fn start_tag_end(src: &str, node: Node) -> usize {
    let start = node.range().start;
    let mut quote = None;
    for (i, c) in src[start..].char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return start + i + 1,
            _ => {}
        }
    }
    src.len()
}

/// Escapes text or an attribute value (either quote style).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// A new element: `<name a='1'>text</name>` or `<name a='1'/>`.
pub fn element(name: &str, attrs: &[(&str, &str)], text: Option<&str>) -> String {
    match text {
        Some(t) => element_xml(name, attrs, &escape(t)),
        None => format!("{}/>", open_tag(name, attrs)),
    }
}

/// A new element around XML that is already serialised.
pub fn element_xml(name: &str, attrs: &[(&str, &str)], inner: &str) -> String {
    format!("{}>{inner}</{name}>", open_tag(name, attrs))
}

fn open_tag(name: &str, attrs: &[(&str, &str)]) -> String {
    let mut s = format!("<{name}");
    for (k, v) in attrs {
        s.push_str(&format!(" {k}='{}'", escape(v)));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = "<domain type='kvm'>\n  <name>a</name>\n  <metadata>\n    \
        <x:info xmlns:x='urn:x'>keep &amp; me</x:info>\n  </metadata>\n  \
        <vcpu placement='static' current='1'>2</vcpu>\n  <devices/>\n  \
        <os>\n    <type>hvm</type>\n  </os>\n</domain>\n";

    fn doc() -> roxmltree::Document<'static> {
        roxmltree::Document::parse(XML).unwrap()
    }

    fn child<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Node<'a, 'i> {
        n.children().find(|c| c.has_tag_name(name)).unwrap()
    }

    #[test]
    fn untouched_text_stays_byte_for_byte() {
        let d = doc();
        let root = d.root_element();
        let mut s = Splice::new(XML);
        s.set_text(child(root, "vcpu"), "4");
        s.remove_attr(child(root, "vcpu"), "current");
        let out = s.finish().unwrap();
        assert_eq!(out, XML.replace(" current='1'>2<", ">4<"));
        assert!(out.contains("<x:info xmlns:x='urn:x'>keep &amp; me</x:info>"));
    }

    #[test]
    fn appends_into_an_empty_element_and_after_siblings() {
        let d = doc();
        let root = d.root_element();
        let mut s = Splice::new(XML);
        s.append_child(child(root, "devices"), "<graphics type='vnc'/>");
        s.append_child(child(root, "os"), "<boot dev='hd'/>");
        let out = s.finish().unwrap();
        assert!(
            out.contains("  <devices>\n    <graphics type='vnc'/>\n  </devices>\n"),
            "{out}"
        );
        assert!(
            out.contains("<type>hvm</type>\n    <boot dev='hd'/>\n  </os>"),
            "{out}"
        );
        roxmltree::Document::parse(&out).unwrap();
    }

    #[test]
    fn removes_whole_lines_and_sets_attributes() {
        let d = doc();
        let root = d.root_element();
        let mut s = Splice::new(XML);
        s.remove(child(root, "name"));
        s.set_attr(child(root, "vcpu"), "placement", "auto");
        s.set_attr(child(root, "devices"), "x", "a'b");
        let out = s.finish().unwrap();
        assert!(
            out.starts_with("<domain type='kvm'>\n  <metadata>"),
            "{out}"
        );
        assert!(out.contains("<vcpu placement='auto' current='1'>"));
        assert!(out.contains("<devices x='a&apos;b'/>"));
    }

    #[test]
    fn overlapping_edits_are_refused() {
        let d = doc();
        let root = d.root_element();
        let mut s = Splice::new(XML);
        s.replace_node(child(root, "vcpu"), "<vcpu>3</vcpu>");
        s.set_attr(child(root, "vcpu"), "current", "2");
        assert!(s.finish().is_err());
    }

    #[test]
    fn new_elements_are_escaped() {
        assert_eq!(
            element("title", &[("a", "<&>")], Some("x & y")),
            "<title a='&lt;&amp;&gt;'>x &amp; y</title>"
        );
        assert_eq!(element("boot", &[("dev", "hd")], None), "<boot dev='hd'/>");
    }
}
