//! OTLP/JSON decoding of the messages every signal shares: `AnyValue`,
//! `KeyValue`, `Resource`, `InstrumentationScope` and `EntityRef`.

use serde_json::Value;
use weir_core::otlp::common::v1::{
    AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use weir_core::otlp::resource::v1::Resource;

use super::decode::{
    Obj, Path, R, base64_bytes, boolean, f64_, i32_, i64_, list, message, messages, string, u32_,
};

/// `{"stringValue":"..."}` and the other forms; `{}` is an unset value.
pub(super) fn any_value(o: Obj, p: &Path<'_>) -> R<AnyValue> {
    use any_value::Value as V;
    let mut value = None;
    for (k, v) in o {
        let p = p.key(&k);
        // A oneof: proto3 JSON forbids two members; taking the last is the lenient reading.
        value = match k.as_str() {
            "stringValue" | "string_value" => Some(V::StringValue(string(v, &p)?)),
            "boolValue" | "bool_value" => Some(V::BoolValue(boolean(v, &p)?)),
            "intValue" | "int_value" => Some(V::IntValue(i64_(&v, &p)?)),
            "doubleValue" | "double_value" => Some(V::DoubleValue(f64_(&v, &p)?)),
            "arrayValue" | "array_value" => Some(V::ArrayValue(message(v, &p, array_value)?)),
            "kvlistValue" | "kvlist_value" => Some(V::KvlistValue(message(v, &p, kvlist_value)?)),
            "bytesValue" | "bytes_value" => Some(V::BytesValue(base64_bytes(&v, &p)?)),
            "stringValueStrindex" | "string_value_strindex" => {
                Some(V::StringValueStrindex(i32_(&v, &p)?))
            }
            _ => continue,
        };
    }
    Ok(AnyValue { value })
}

fn array_value(o: Obj, p: &Path<'_>) -> R<ArrayValue> {
    let mut a = ArrayValue::default();
    for (k, v) in o {
        if k == "values" {
            a.values = messages(v, &p.key(&k), any_value)?;
        }
    }
    Ok(a)
}

fn kvlist_value(o: Obj, p: &Path<'_>) -> R<KeyValueList> {
    let mut l = KeyValueList::default();
    for (k, v) in o {
        if k == "values" {
            l.values = attributes(v, &p.key(&k))?;
        }
    }
    Ok(l)
}

/// `{"key":"k","value":{...}}`.
pub(super) fn key_value(o: Obj, p: &Path<'_>) -> R<KeyValue> {
    let mut kv = KeyValue::default();
    for (k, v) in o {
        let p = p.key(&k);
        match k.as_str() {
            "key" => kv.key = string(v, &p)?,
            "value" if v.is_null() => {}
            "value" => kv.value = Some(message(v, &p, any_value)?),
            "keyStrindex" | "key_strindex" => kv.key_strindex = i32_(&v, &p)?,
            _ => {}
        }
    }
    Ok(kv)
}

/// A list of `KeyValue`s (`attributes`, `metadata`, ...).
pub(super) fn attributes(v: Value, p: &Path<'_>) -> R<Vec<KeyValue>> {
    messages(v, p, key_value)
}

/// An optional message field: `null` or absent is `None`.
pub(super) fn optional<T>(v: Value, p: &Path<'_>, f: fn(Obj, &Path<'_>) -> R<T>) -> R<Option<T>> {
    if v.is_null() {
        Ok(None)
    } else {
        message(v, p, f).map(Some)
    }
}

pub(super) fn resource(o: Obj, p: &Path<'_>) -> R<Resource> {
    let mut r = Resource::default();
    for (k, v) in o {
        let p = p.key(&k);
        match k.as_str() {
            "attributes" => r.attributes = attributes(v, &p)?,
            "droppedAttributesCount" | "dropped_attributes_count" => {
                r.dropped_attributes_count = u32_(&v, &p)?
            }
            "entityRefs" | "entity_refs" => r.entity_refs = messages(v, &p, entity_ref)?,
            _ => {}
        }
    }
    Ok(r)
}

fn entity_ref(o: Obj, p: &Path<'_>) -> R<EntityRef> {
    let mut e = EntityRef::default();
    for (k, v) in o {
        let p = p.key(&k);
        match k.as_str() {
            "schemaUrl" | "schema_url" => e.schema_url = string(v, &p)?,
            "type" => e.r#type = string(v, &p)?,
            "idKeys" | "id_keys" => e.id_keys = list(v, &p, string)?,
            "descriptionKeys" | "description_keys" => e.description_keys = list(v, &p, string)?,
            _ => {}
        }
    }
    Ok(e)
}

pub(super) fn scope(o: Obj, p: &Path<'_>) -> R<InstrumentationScope> {
    let mut s = InstrumentationScope::default();
    for (k, v) in o {
        let p = p.key(&k);
        match k.as_str() {
            "name" => s.name = string(v, &p)?,
            "version" => s.version = string(v, &p)?,
            "attributes" => s.attributes = attributes(v, &p)?,
            "droppedAttributesCount" | "dropped_attributes_count" => {
                s.dropped_attributes_count = u32_(&v, &p)?
            }
            _ => {}
        }
    }
    Ok(s)
}
