//! The OCS data model and its two renderings. OCS distinguishes two kinds of booleans in XML:
//! "ocsBool" fields (status flags, `files.*`, `files_sharing.*`) render `1`/`0`, plain ones
//! (`spaces.*`) `true`/`false`; both are JSON booleans (research/ocis-spec.md §5.3).

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// A value in an OCS `data` tree. Map keys keep their insertion order.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// An ocsBool: XML `1`/`0`.
    Flag(bool),
    /// A plain boolean: XML `true`/`false`.
    Bool(bool),
    /// A list: strings become `<element>` children in XML, maps repeat the parent's name.
    List(Vec<Value>),
    /// An ordered map.
    Map(Vec<(&'static str, Value)>),
}

/// `Value::Str`.
pub fn s(v: impl Into<String>) -> Value {
    Value::Str(v.into())
}

/// `Value::Map` from pairs.
pub fn map<const N: usize>(pairs: [(&'static str, Value); N]) -> Value {
    Value::Map(pairs.into())
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Str(v) => ser.serialize_str(v),
            Value::Int(v) => ser.serialize_i64(*v),
            Value::Flag(v) | Value::Bool(v) => ser.serialize_bool(*v),
            Value::List(items) => {
                let mut seq = ser.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
            Value::Map(pairs) => {
                let mut m = ser.serialize_map(Some(pairs.len()))?;
                for (k, v) in pairs {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
        }
    }
}

fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(text)
}

impl Value {
    /// Append the XML children of this value (the content of its enclosing element).
    pub fn write_xml(&self, out: &mut String) {
        match self {
            Value::Str(v) => out.push_str(&escape(v)),
            Value::Int(v) => out.push_str(&v.to_string()),
            Value::Flag(v) => out.push_str(if *v { "1" } else { "0" }),
            Value::Bool(v) => out.push_str(if *v { "true" } else { "false" }),
            Value::List(items) => {
                for i in items {
                    element(out, "element", i);
                }
            }
            Value::Map(pairs) => {
                for (k, v) in pairs {
                    match v {
                        Value::List(items) if items.iter().any(|i| matches!(i, Value::Map(_))) => {
                            for i in items {
                                element(out, k, i);
                            }
                        }
                        Value::List(items) if items.is_empty() => {}
                        _ => element(out, k, v),
                    }
                }
            }
        }
    }
}

fn element(out: &mut String, name: &str, v: &Value) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    v.write_xml(out);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_json_and_xml_table() {
        let rows: Vec<(Value, &str, &str)> = vec![
            (s("a<b"), r#""a<b""#, "a&lt;b"),
            (Value::Int(7), "7", "7"),
            (Value::Flag(true), "true", "1"),
            (Value::Flag(false), "false", "0"),
            (Value::Bool(true), "true", "true"),
            (
                Value::List(vec![s("x"), s("y")]),
                r#"["x","y"]"#,
                "<element>x</element><element>y</element>",
            ),
            (
                map([("l", Value::List(vec![s("x")])), ("e", Value::List(vec![]))]),
                r#"{"l":["x"],"e":[]}"#,
                "<l><element>x</element></l>",
            ),
            (
                map([(
                    "o",
                    Value::List(vec![
                        map([("n", Value::Int(1))]),
                        map([("n", Value::Int(2))]),
                    ]),
                )]),
                r#"{"o":[{"n":1},{"n":2}]}"#,
                "<o><n>1</n></o><o><n>2</n></o>",
            ),
            (
                map([("z", s("")), ("a", Value::Flag(false))]),
                r#"{"z":"","a":false}"#,
                "<z></z><a>0</a>",
            ),
        ];
        for (v, json, xml) in rows {
            assert_eq!(serde_json::to_string(&v).unwrap(), json);
            let mut out = String::new();
            v.write_xml(&mut out);
            assert_eq!(out, xml, "{v:?}");
        }
    }
}
