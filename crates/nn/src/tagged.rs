//! Config kinds as tagged tables whose `kind` may be left out.
//!
//! Every kind enum of smoe (model, router, gate, expert, task, data source, loss) is an
//! internally tagged serde enum: `[model.gate] kind = "noisy_topk"`. A table that leaves out
//! `kind` means the documented default kind, so `--set model.gate.k=…`-style partial tables
//! keep working. Use [`with_default_kind`] through a one-line `deserialize_with` function
//! on the field that holds the enum.

use serde::de::{DeserializeOwned, Error};
use serde::{Deserialize, Deserializer, Serialize};

/// Deserializes the internally tagged enum `T` (tag `kind`), inserting `kind = default` into
/// a table that has none; a bare string `"name"` is read as `{ kind = "name" }`. A key the
/// chosen kind does not have is an error even for kinds without fields (serde alone ignores
/// extra keys beside a unit variant): every key of the table must reappear when the parsed
/// value is written back.
///
/// # Errors
/// The enum's own errors (unknown kind, unknown or mistyped fields), as the deserializer's.
pub fn with_default_kind<'de, D, T>(de: D, default: &str) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Serialize,
{
    let mut v = serde_json::Value::deserialize(de)?;
    match &mut v {
        serde_json::Value::Object(m) => {
            m.entry("kind")
                .or_insert_with(|| serde_json::Value::String(default.to_string()));
        }
        serde_json::Value::String(s) => {
            let mut m = serde_json::Map::new();
            m.insert("kind".into(), serde_json::Value::String(s.clone()));
            v = serde_json::Value::Object(m);
        }
        _ => {}
    }
    let keys: Vec<String> = v
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let parsed = T::deserialize(v).map_err(D::Error::custom)?;
    let back = serde_json::to_value(&parsed).map_err(D::Error::custom)?;
    if let Some(m) = back.as_object()
        && let Some(extra) = keys.iter().find(|k| !m.contains_key(*k))
    {
        let kind = m.get("kind").and_then(|k| k.as_str()).unwrap_or(default);
        return Err(D::Error::custom(format!(
            "unknown field `{extra}` for kind `{kind}`"
        )));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Deserialize, serde::Serialize)]
    #[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
    enum Shape {
        Square { side: f64 },
        Dot,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Holder {
        #[serde(deserialize_with = "square")]
        shape: Shape,
    }

    fn square<'de, D: Deserializer<'de>>(d: D) -> Result<Shape, D::Error> {
        with_default_kind(d, "square")
    }

    #[test]
    fn default_kind_string_and_errors() {
        let h: Holder = serde_json::from_str(r#"{"shape": {"side": 2.0}}"#).unwrap();
        assert_eq!(h.shape, Shape::Square { side: 2.0 });
        let h: Holder = serde_json::from_str(r#"{"shape": "dot"}"#).unwrap();
        assert_eq!(h.shape, Shape::Dot);
        let h: Holder = serde_json::from_str(r#"{"shape": {"kind": "dot"}}"#).unwrap();
        assert_eq!(h.shape, Shape::Dot);
        let e = serde_json::from_str::<Holder>(r#"{"shape": {"side": 2.0, "x": 1}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `x`"), "{e}");
        let e = serde_json::from_str::<Holder>(r#"{"shape": {"kind": "circle"}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("circle"), "{e}");
        let e = serde_json::from_str::<Holder>(r#"{"shape": {"kind": "dot", "tau": 1}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `tau`"), "{e}");
    }
}
