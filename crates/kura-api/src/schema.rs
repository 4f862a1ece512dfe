//! One rule of the contract both described doors publish: an object has the fields its schema
//! lists and no others. `kura serve` refuses a body with a field its operation does not take,
//! and the MCP door an argument its tool does not take; every object schema in the OpenAPI
//! document and in the tools' schemas says so with `additionalProperties: false`. The answers
//! keep to it too: the API tests validate each against the document, and the official MCP SDKs
//! each tool's `structuredContent` against its `outputSchema`.

use serde_json::Value;

/// Closes every object `schema` describes (`additionalProperties: false`), itself and those
/// written inside it: its properties' schemas, the variants of a `oneOf` or `anyOf`, an array's
/// items. A map (an object whose `additionalProperties` is already said) stays as it is, and so
/// do the parts of an `allOf`: each holds only some of the fields.
pub fn close_objects(schema: &mut Value) {
    let Some(o) = schema.as_object_mut() else {
        return;
    };
    if o.contains_key("properties") && !o.contains_key("additionalProperties") {
        o.insert("additionalProperties".into(), Value::Bool(false));
    }
    for (key, value) in o.iter_mut() {
        match key.as_str() {
            "properties" => value
                .as_object_mut()
                .into_iter()
                .flat_map(|p| p.values_mut())
                .for_each(close_objects),
            "oneOf" | "anyOf" => value
                .as_array_mut()
                .into_iter()
                .flatten()
                .for_each(close_objects),
            "items" => close_objects(value),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::close_objects;

    #[test]
    fn objects_are_closed_at_every_depth_but_maps_and_all_of_parts_stay_open() {
        let mut schema = json!({
            "type": "object",
            "properties": {
                "options": { "type": ["object", "null"], "properties": { "name": {} } },
                "tags": { "type": "object", "additionalProperties": { "type": "string" } },
                "ops": { "type": "array", "items": { "oneOf": [
                    { "type": "object", "properties": { "op": {} } },
                    { "type": "string" }
                ] } },
                "both": { "allOf": [ { "type": "object", "properties": { "a": {} } } ] }
            }
        });
        close_objects(&mut schema);
        assert_eq!(schema["additionalProperties"], json!(false));
        assert_eq!(
            schema["properties"]["options"]["additionalProperties"],
            json!(false)
        );
        assert_eq!(
            schema["properties"]["tags"]["additionalProperties"],
            json!({ "type": "string" })
        );
        assert_eq!(
            schema["properties"]["ops"]["items"]["oneOf"][0]["additionalProperties"],
            json!(false)
        );
        assert_eq!(
            schema["properties"]["ops"]["items"]["oneOf"][1],
            json!({ "type": "string" })
        );
        assert_eq!(
            schema["properties"]["both"]["allOf"][0].get("additionalProperties"),
            None
        );
    }
}
