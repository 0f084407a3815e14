//! Messages every signal shares: `AnyValue`, `KeyValue`, `Resource`,
//! `InstrumentationScope` and `EntityRef`.

use weir_core::otlp::common::v1::{
    AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use weir_core::otlp::resource::v1::Resource;

use super::writer::{
    ObjectWriter, write_base64, write_f64, write_i64_string, write_int, write_str,
};

/// `{"stringValue":"..."}` and the other `AnyValue` forms. The value is a oneof, so
/// a set member is written even at its default (`{"intValue":"0"}`); an unset one
/// gives `{}`.
pub fn write_any_value(out: &mut Vec<u8>, value: &AnyValue) {
    let mut o = ObjectWriter::new(out);
    match &value.value {
        None => {}
        Some(any_value::Value::StringValue(s)) => write_str(o.key("stringValue"), s),
        Some(any_value::Value::BoolValue(b)) => {
            o.key("boolValue")
                .extend_from_slice(if *b { b"true" } else { b"false" })
        }
        Some(any_value::Value::IntValue(i)) => write_i64_string(o.key("intValue"), *i),
        Some(any_value::Value::DoubleValue(d)) => write_f64(o.key("doubleValue"), *d),
        Some(any_value::Value::ArrayValue(a)) => write_array_value(o.key("arrayValue"), a),
        Some(any_value::Value::KvlistValue(kv)) => write_kvlist_value(o.key("kvlistValue"), kv),
        Some(any_value::Value::BytesValue(b)) => write_base64(o.key("bytesValue"), b),
        // Only used inside profiles (an index into a string table), but it is part
        // of the message, so it is written like any other oneof member.
        Some(any_value::Value::StringValueStrindex(i)) => {
            write_int(o.key("stringValueStrindex"), *i)
        }
    }
    o.end();
}

fn write_array_value(out: &mut Vec<u8>, array: &ArrayValue) {
    let mut o = ObjectWriter::new(out);
    o.list_field("values", &array.values, write_any_value);
    o.end();
}

fn write_kvlist_value(out: &mut Vec<u8>, list: &KeyValueList) {
    let mut o = ObjectWriter::new(out);
    o.list_field("values", &list.values, write_key_value);
    o.end();
}

/// `{"key":"k","value":{...}}`.
pub fn write_key_value(out: &mut Vec<u8>, kv: &KeyValue) {
    let mut o = ObjectWriter::new(out);
    o.str_field("key", &kv.key);
    o.message_field("value", kv.value.as_ref(), write_any_value);
    o.int_field("keyStrindex", kv.key_strindex);
    o.end();
}

/// Writes `"attributes":[...]` when there are any.
pub fn attributes_field(o: &mut ObjectWriter<'_>, name: &str, attributes: &[KeyValue]) {
    o.list_field(name, attributes, write_key_value);
}

/// The `resource` message.
pub fn write_resource(out: &mut Vec<u8>, resource: &Resource) {
    let mut o = ObjectWriter::new(out);
    attributes_field(&mut o, "attributes", &resource.attributes);
    o.int_field("droppedAttributesCount", resource.dropped_attributes_count);
    o.list_field("entityRefs", &resource.entity_refs, write_entity_ref);
    o.end();
}

fn write_entity_ref(out: &mut Vec<u8>, entity: &EntityRef) {
    let mut o = ObjectWriter::new(out);
    o.str_field("schemaUrl", &entity.schema_url);
    o.str_field("type", &entity.r#type);
    o.list_field("idKeys", &entity.id_keys, |out, k| write_str(out, k));
    o.list_field("descriptionKeys", &entity.description_keys, |out, k| {
        write_str(out, k)
    });
    o.end();
}

/// The `scope` message.
pub fn write_scope(out: &mut Vec<u8>, scope: &InstrumentationScope) {
    let mut o = ObjectWriter::new(out);
    o.str_field("name", &scope.name);
    o.str_field("version", &scope.version);
    attributes_field(&mut o, "attributes", &scope.attributes);
    o.int_field("droppedAttributesCount", scope.dropped_attributes_count);
    o.end();
}

/// Writes `{"<list_name>":[...]}`, the export request envelope of every signal.
pub fn write_request<T>(
    out: &mut Vec<u8>,
    list_name: &str,
    items: &[T],
    write_item: impl FnMut(&mut Vec<u8>, &T),
) {
    let mut o = ObjectWriter::new(out);
    o.list_field(list_name, items, write_item);
    o.end();
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn any(value: any_value::Value) -> AnyValue {
        AnyValue { value: Some(value) }
    }

    fn encode(value: &AnyValue) -> Value {
        let mut out = Vec::new();
        write_any_value(&mut out, value);
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn every_any_value_form() {
        use any_value::Value as V;
        assert_eq!(
            encode(&any(V::StringValue("s\"".into()))),
            json!({"stringValue": "s\""})
        );
        assert_eq!(
            encode(&any(V::StringValue(String::new()))),
            json!({"stringValue": ""})
        );
        assert_eq!(
            encode(&any(V::BoolValue(false))),
            json!({"boolValue": false})
        );
        assert_eq!(encode(&any(V::BoolValue(true))), json!({"boolValue": true}));
        assert_eq!(encode(&any(V::IntValue(0))), json!({"intValue": "0"}));
        assert_eq!(encode(&any(V::IntValue(-5))), json!({"intValue": "-5"}));
        assert_eq!(
            encode(&any(V::DoubleValue(2.5))),
            json!({"doubleValue": 2.5})
        );
        assert_eq!(
            encode(&any(V::DoubleValue(f64::NAN))),
            json!({"doubleValue": "NaN"})
        );
        assert_eq!(
            encode(&any(V::BytesValue(b"hi!".to_vec()))),
            json!({"bytesValue": "aGkh"})
        );
        assert_eq!(
            encode(&any(V::StringValueStrindex(3))),
            json!({"stringValueStrindex": 3})
        );
        assert_eq!(encode(&AnyValue { value: None }), json!({}));
        let array = any(V::ArrayValue(ArrayValue {
            values: vec![any(V::IntValue(1)), any(V::StringValue("x".into()))],
        }));
        assert_eq!(
            encode(&array),
            json!({"arrayValue": {"values": [{"intValue": "1"}, {"stringValue": "x"}]}})
        );
        let kvlist = any(V::KvlistValue(KeyValueList {
            values: vec![
                KeyValue {
                    key: "k".into(),
                    value: Some(any(V::BoolValue(true))),
                    key_strindex: 0,
                },
                KeyValue {
                    key: "nested".into(),
                    value: Some(array.clone()),
                    key_strindex: 0,
                },
            ],
        }));
        assert_eq!(
            encode(&kvlist),
            json!({"kvlistValue": {"values": [
                {"key": "k", "value": {"boolValue": true}},
                {"key": "nested", "value": {"arrayValue": {"values": [
                    {"intValue": "1"}, {"stringValue": "x"}]}}},
            ]}})
        );
        assert_eq!(
            encode(&any(V::ArrayValue(ArrayValue::default()))),
            json!({"arrayValue": {}})
        );
    }

    #[test]
    fn resource_and_scope() {
        let resource = Resource {
            attributes: vec![KeyValue {
                key: "service.name".into(),
                value: Some(any(any_value::Value::StringValue("api".into()))),
                key_strindex: 0,
            }],
            dropped_attributes_count: 2,
            entity_refs: vec![EntityRef {
                schema_url: "https://s".into(),
                r#type: "service".into(),
                id_keys: vec!["service.name".into()],
                description_keys: vec![],
            }],
        };
        let mut out = Vec::new();
        write_resource(&mut out, &resource);
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v,
            json!({
                "attributes": [{"key": "service.name", "value": {"stringValue": "api"}}],
                "droppedAttributesCount": 2,
                "entityRefs": [{"schemaUrl": "https://s", "type": "service", "idKeys": ["service.name"]}],
            })
        );
        let scope = InstrumentationScope {
            name: "lib".into(),
            version: String::new(),
            attributes: vec![],
            dropped_attributes_count: 1,
        };
        let mut out = Vec::new();
        write_scope(&mut out, &scope);
        assert_eq!(out, br#"{"name":"lib","droppedAttributesCount":1}"#);
    }
}
