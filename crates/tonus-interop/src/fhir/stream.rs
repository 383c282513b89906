//! Reads a FHIR JSON file one Bundle entry at a time (issue #13 point 6): the Bundle's own
//! elements are kept, each `entry` is handed over as soon as it is parsed and then dropped,
//! so a ten-year Bundle is never one JSON value in memory.

use std::cell::RefCell;
use std::fmt;
use std::io::Read;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::InteropError;

/// What to do with each entry: its position in `entry` and the entry itself. An error stops
/// the reading and is returned as is.
pub(super) type OnEntry<'a> = dyn FnMut(usize, Value) -> Result<(), InteropError> + 'a;

/// Parses `reader` as one JSON object, calling `on_entry` for every element of its `entry`
/// array, and returns the object's other members (for a Bundle: resourceType, meta, type…;
/// for a bare resource: the whole resource). The input must end after the object.
pub(super) fn read_entries<R: Read>(reader: R, on_entry: &mut OnEntry<'_>) -> Result<Map<String, Value>, InteropError> {
    let failure: RefCell<Option<InteropError>> = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_reader(reader);
    let top = TopSeed {
        on_entry,
        failure: &failure,
    };
    let parsed = top.deserialize(&mut de).and_then(|m| de.end().map(|()| m));
    match (parsed, failure.into_inner()) {
        (_, Some(e)) => Err(e),
        (Ok(m), None) => Ok(m),
        (Err(e), None) => Err(InteropError::Fhir(format!("not JSON: {e}"))),
    }
}

struct TopSeed<'a, 'b> {
    on_entry: &'a mut OnEntry<'b>,
    failure: &'a RefCell<Option<InteropError>>,
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_, '_> {
    type Value = Map<String, Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_, '_> {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a FHIR resource (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "entry" {
                map.next_value_seed(EntriesSeed {
                    on_entry: &mut *self.on_entry,
                    failure: self.failure,
                })?;
            } else {
                let v: Value = map.next_value()?;
                out.insert(key, v);
            }
        }
        Ok(out)
    }
}

struct EntriesSeed<'a, 'b> {
    on_entry: &'a mut OnEntry<'b>,
    failure: &'a RefCell<Option<InteropError>>,
}

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("Bundle.entry as an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        while let Some(entry) = seq.next_element::<Value>()? {
            if let Err(e) = (self.on_entry)(i, entry) {
                *self.failure.borrow_mut() = Some(e);
                return Err(de::Error::custom("stopped"));
            }
            i += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_are_handed_over_one_by_one_and_the_rest_is_kept() {
        let text = r#"{"resourceType":"Bundle","entry":[{"resource":{"id":"a"}},{"resource":{"id":"b"}}],"type":"collection"}"#;
        let mut seen = Vec::new();
        let top = read_entries(text.as_bytes(), &mut |i, e| {
            seen.push((i, e["resource"]["id"].clone()));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, vec![(0, json!("a")), (1, json!("b"))]);
        assert_eq!(
            Value::Object(top),
            json!({"resourceType": "Bundle", "type": "collection"})
        );
    }

    #[test]
    fn the_callers_error_stops_the_reading_and_bad_json_is_named() {
        let text = r#"{"entry":[{"n":1},{"n":2},{"n":3}]}"#;
        let mut calls = 0;
        let err = read_entries(text.as_bytes(), &mut |_, _| {
            calls += 1;
            Err(InteropError::Fhir("entry 0 is damaged".into()))
        })
        .unwrap_err();
        assert_eq!(calls, 1);
        assert!(err.to_string().contains("entry 0 is damaged"), "{err}");
        for bad in [r#"{"entry":[{"n":1},"#, "[1,2]", r#"{"a":1} trailing"#, ""] {
            let err = read_entries(bad.as_bytes(), &mut |_, _| Ok(())).unwrap_err();
            assert!(
                err.to_string().starts_with("not JSON") || err.to_string().contains("JSON"),
                "{bad}: {err}"
            );
        }
    }
}
