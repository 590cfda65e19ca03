//! A parsed spec document, the same for TOML and JSON: tables keep the order of their keys
//! (so run ids follow the file) and a key given twice in one table is an error, in JSON too
//! (where `serde_json::Value` would keep the last one silently).

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A value of a spec document.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// JSON `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer that fits `i64`.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// A string.
    Str(String),
    /// An array.
    List(Vec<Node>),
    /// A table, in the order written.
    Map(Vec<(String, Node)>),
}

impl Node {
    /// Parses TOML.
    ///
    /// # Errors
    /// A syntax error, as one line with its line number.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str::<Node>(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let msg = e.message().trim().replace('\n', "; ");
            match line {
                Some(l) => format!("line {l}: {msg}"),
                None => msg,
            }
        })
    }

    /// Parses JSON.
    ///
    /// # Errors
    /// A syntax error, with its line and column.
    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str::<Node>(text).map_err(|e| format!("not valid JSON: {e}"))
    }

    /// What kind of value it is, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "a boolean",
            Node::Int(_) => "an integer",
            Node::Float(_) => "a number",
            Node::Str(_) => "a string",
            Node::List(_) => "a list",
            Node::Map(_) => "a table",
        }
    }

    /// The value itself if it is short (a scalar), its kind otherwise.
    pub fn describe(&self) -> String {
        match self {
            Node::Bool(b) => b.to_string(),
            Node::Int(i) => i.to_string(),
            Node::Float(x) => x.to_string(),
            Node::Str(s) => format!("{s:?}"),
            other => other.kind().to_string(),
        }
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(i64::try_from(v).map_or(Node::Float(v as f64), Node::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element::<Node>()? {
            out.push(v);
        }
        Ok(Node::List(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut out: Vec<(String, Node)> = Vec::new();
        while let Some(k) = map.next_key::<String>()? {
            if out.iter().any(|(seen, _)| *seen == k) {
                return Err(de::Error::custom(format!("duplicate key `{k}`")));
            }
            let v = map.next_value::<Node>()?;
            out.push((k, v));
        }
        Ok(Node::Map(out))
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_and_json_give_the_same_tree_in_file_order() {
        let t = Node::from_toml("b = 1\na = [0.5, \"x\", true]\n[c]\nz = 2\n").unwrap();
        let j = Node::from_json(r#"{"b": 1, "a": [0.5, "x", true], "c": {"z": 2}}"#).unwrap();
        assert_eq!(t, j);
        let Node::Map(m) = t else { panic!() };
        assert_eq!(m[0].0, "b");
    }

    #[test]
    fn duplicate_keys_are_errors_in_both_formats() {
        let e = Node::from_json(r#"{"grid": {"lr": [1], "lr": [2]}}"#).unwrap_err();
        assert!(e.contains("duplicate key `lr`"), "{e}");
        let e = Node::from_toml("[grid]\nlr = [1]\nlr = [2]\n").unwrap_err();
        assert!(e.contains("line 3") && e.contains("duplicate"), "{e}");
    }
}
