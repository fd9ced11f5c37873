//! A vendor's published OpenAPI description, enforced: each request a fake tracker takes is
//! matched to one of the described operations and its path and query parameters and JSON body
//! checked against their schemas; each answer the fake gives is checked against the schema of
//! the described response for its status. The schemas are checked as JSON Schema 2020-12
//! (OpenAPI 3.1's dialect), formats too, with the `jsonschema` crate.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Mutex,
};

use anyhow::{anyhow, bail, Context, Result};
use brigade_core::sync::lock;
use serde_json::{json, Value};

/// An OpenAPI description.
#[derive(Debug)]
pub struct Description {
    document: Value,
    validators: Mutex<HashMap<String, std::sync::Arc<jsonschema::Validator>>>,
}

/// A request matched to its operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    /// The path's template, as the description writes it: `/repos/{owner}/{repo}/issues`.
    pub template: String,
    /// The method, lower case, as the description keys it.
    pub method: String,
    /// The path's parameters.
    pub path: BTreeMap<String, String>,
}

impl Matched {
    /// The JSON pointer of the operation in the description.
    fn pointer(&self) -> String {
        format!("/paths/{}/{}", escape(&self.template), self.method)
    }
}

/// `text` as a JSON pointer's segment.
fn escape(text: &str) -> String {
    text.replace('~', "~0").replace('/', "~1")
}

impl Description {
    /// The description in `json` (OpenAPI 3.1).
    pub fn parse(json: &str) -> Result<Self> {
        let document: Value = serde_json::from_str(json).context("the OpenAPI description")?;
        let version = document["openapi"].as_str().unwrap_or_default();
        if !version.starts_with("3.1") {
            bail!("OpenAPI {version}: only 3.1 descriptions are checked here");
        }
        Ok(Self {
            document,
            validators: Mutex::default(),
        })
    }

    /// What the description says at `pointer`, its `$ref` followed.
    fn at(&self, pointer: &str) -> Result<&Value> {
        let mut value = self
            .document
            .pointer(pointer)
            .ok_or_else(|| anyhow!("the description has nothing at {pointer}"))?;
        for _ in 0..8 {
            let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
                return Ok(value);
            };
            let target = reference
                .strip_prefix('#')
                .ok_or_else(|| anyhow!("an outside reference {reference}"))?;
            value = self
                .document
                .pointer(target)
                .ok_or_else(|| anyhow!("a dangling reference {reference}"))?;
        }
        bail!("references go round at {pointer}")
    }

    /// The operation `method` on `path` (under the API's base), if the description has it.
    pub fn operation(&self, method: &str, path: &str) -> Option<Matched> {
        let method = method.to_ascii_lowercase();
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let paths = self.document["paths"].as_object()?;
        paths.iter().find_map(|(template, item)| {
            item.get(&method)?;
            let parts: Vec<&str> = template.trim_start_matches('/').split('/').collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut parameters = BTreeMap::new();
            for (part, segment) in parts.iter().zip(&segments) {
                match part
                    .strip_prefix('{')
                    .and_then(|part| part.strip_suffix('}'))
                {
                    Some(name) if !segment.is_empty() => {
                        parameters.insert(name.to_owned(), (*segment).to_owned());
                    }
                    Some(_) => return None,
                    None if part == segment => {}
                    None => return None,
                }
            }
            Some(Matched {
                template: template.clone(),
                method: method.clone(),
                path: parameters,
            })
        })
    }

    /// Checks a request to `matched` with `query` and a JSON `body` (if any): its parameters
    /// are the described ones, each as its schema says, the required ones there; its body is
    /// what the operation takes.
    pub fn check_request(
        &self,
        matched: &Matched,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<()> {
        let operation = self.at(&matched.pointer())?;
        let mut problems = Vec::new();
        let mut described = Vec::new();
        let parameters = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for (index, _) in parameters.iter().enumerate() {
            let pointer = format!("{}/parameters/{index}", matched.pointer());
            let parameter = self.at(&pointer)?;
            let name = parameter["name"].as_str().unwrap_or_default();
            let place = parameter["in"].as_str().unwrap_or_default();
            described.push((place.to_owned(), name.to_owned()));
            let given: Vec<&str> = match place {
                "path" => matched
                    .path
                    .get(name)
                    .map(String::as_str)
                    .into_iter()
                    .collect(),
                "query" => query
                    .iter()
                    .filter(|(key, _)| key == name)
                    .map(|(_, value)| value.as_str())
                    .collect(),
                _ => continue,
            };
            if given.is_empty() {
                if parameter["required"] == true {
                    problems.push(format!(
                        "the required {place} parameter `{name}` is missing"
                    ));
                }
                continue;
            }
            let schema_pointer = self.pointer_of(&pointer, "schema")?;
            for value in given {
                let typed = typed(self.at(&schema_pointer)?, value);
                problems.extend(
                    self.problems(&schema_pointer, &typed)?
                        .into_iter()
                        .map(|problem| format!("{place} parameter `{name}`: {problem}")),
                );
            }
        }
        for (key, _) in query {
            if !described
                .iter()
                .any(|(place, name)| place == "query" && name == key)
            {
                problems.push(format!("the query parameter `{key}` is not described"));
            }
        }
        match (operation.get("requestBody"), body) {
            (Some(_), Some(body)) => {
                let request = self.pointer_of(&matched.pointer(), "requestBody")?;
                let schema = format!("{request}/content/application~1json/schema");
                problems.extend(
                    self.problems(&schema, body)?
                        .into_iter()
                        .map(|problem| format!("body: {problem}")),
                );
            }
            (Some(request), None) if request["required"] == true => {
                problems.push("the required body is missing".to_owned());
            }
            (None, Some(_)) => problems.push("the operation takes no body".to_owned()),
            _ => {}
        }
        if problems.is_empty() {
            Ok(())
        } else {
            bail!(
                "{} {}: {}",
                matched.method.to_uppercase(),
                matched.template,
                problems.join("; ")
            )
        }
    }

    /// Checks an answer of `status` with a JSON `body` to `matched`: the description has that
    /// response, and the body is what it says.
    pub fn check_response(&self, matched: &Matched, status: u16, body: &Value) -> Result<()> {
        let responses = format!("{}/responses", matched.pointer());
        let Ok(response) = self.pointer_of(&responses, &status.to_string()) else {
            bail!(
                "{} {} has no response {status} in its description",
                matched.method.to_uppercase(),
                matched.template
            );
        };
        let described = self.at(&response)?;
        let Some(content) = described.get("content") else {
            if body.is_null() {
                return Ok(());
            }
            bail!("response {status} of {} has no body", matched.template);
        };
        if content.get("application/json").is_none() {
            bail!("response {status} of {} is not JSON", matched.template);
        }
        let schema = format!("{response}/content/application~1json/schema");
        let problems = self.problems(&schema, body)?;
        if problems.is_empty() {
            Ok(())
        } else {
            bail!(
                "the answer {status} to {} {}: {}",
                matched.method.to_uppercase(),
                matched.template,
                problems.join("; ")
            )
        }
    }

    /// The example the description gives at `pointer` (`/components/examples/issue`), its
    /// `value`.
    pub fn example(&self, pointer: &str) -> Result<Value> {
        let value = &self.at(pointer)?["value"];
        if value.is_null() {
            bail!("no example's value at {pointer}");
        }
        Ok(value.clone())
    }

    /// The value of the first of the examples at `pointer` (an `examples` object).
    pub fn first_example(&self, pointer: &str) -> Result<Value> {
        let examples = self.at(pointer)?;
        let first = examples
            .as_object()
            .and_then(|examples| examples.keys().next())
            .ok_or_else(|| anyhow!("no examples at {pointer}"))?;
        self.example(&format!("{pointer}/{}", escape(first)))
    }

    /// An instance of the schema at `pointer` made of the description's own examples: each
    /// required property its first example (or the least its type takes), nested schemas
    /// likewise; for payloads the description describes but gives no example of.
    pub fn sample(&self, pointer: &str) -> Result<Value> {
        let schema = self.at(pointer)?.clone();
        Ok(self.sample_of(&schema, 0))
    }

    fn sample_of(&self, schema: &Value, depth: usize) -> Value {
        if depth > 12 {
            return Value::Null;
        }
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let target = self
                .document
                .pointer(reference.trim_start_matches('#'))
                .cloned()
                .unwrap_or_default();
            return self.sample_of(&target, depth + 1);
        }
        if let Some(example) = schema.get("examples").and_then(|examples| examples.get(0)) {
            return example.clone();
        }
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            let mut merged = json!({});
            for part in parts {
                if let (Some(merged), Value::Object(part)) =
                    (merged.as_object_mut(), self.sample_of(part, depth + 1))
                {
                    merged.extend(part);
                }
            }
            return merged;
        }
        for choice in ["anyOf", "oneOf"] {
            if let Some(options) = schema.get(choice).and_then(Value::as_array) {
                let chosen = options
                    .iter()
                    .find(|option| option["type"] != "null")
                    .or_else(|| options.first());
                return chosen.map_or(Value::Null, |option| self.sample_of(option, depth + 1));
            }
        }
        if let Some(first) = schema
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|values| values.iter().find(|value| !value.is_null()))
        {
            return first.clone();
        }
        let kind = match &schema["type"] {
            Value::String(kind) => kind.clone(),
            Value::Array(kinds) => kinds
                .iter()
                .filter_map(Value::as_str)
                .find(|kind| *kind != "null")
                .unwrap_or("null")
                .to_owned(),
            _ if schema.get("properties").is_some() => "object".to_owned(),
            _ => "null".to_owned(),
        };
        match kind.as_str() {
            "object" => {
                let mut object = serde_json::Map::new();
                let required = schema["required"].as_array().cloned().unwrap_or_default();
                for name in required.iter().filter_map(Value::as_str) {
                    let property = &schema["properties"][name];
                    object.insert(name.to_owned(), self.sample_of(property, depth + 1));
                }
                Value::Object(object)
            }
            "array" => json!([]),
            "integer" | "number" => json!(0),
            "boolean" => json!(false),
            "string" => match schema["format"].as_str() {
                Some("uri") => json!("https://example.com/"),
                Some("date-time") => json!("2026-01-01T00:00:00Z"),
                _ => json!(""),
            },
            _ => Value::Null,
        }
    }

    /// Checks `instance` against the schema at `pointer`.
    pub fn check_value(&self, pointer: &str, instance: &Value) -> Result<()> {
        let problems = self.problems(pointer, instance)?;
        if problems.is_empty() {
            Ok(())
        } else {
            bail!("{}", problems.join("; "))
        }
    }

    /// The pointer of `key` under `pointer`, following `pointer`'s own `$ref` first.
    fn pointer_of(&self, pointer: &str, key: &str) -> Result<String> {
        let mut pointer = pointer.to_owned();
        for _ in 0..8 {
            let value = self
                .document
                .pointer(&pointer)
                .ok_or_else(|| anyhow!("nothing at {pointer}"))?;
            match value.get("$ref").and_then(Value::as_str) {
                Some(reference) => pointer = reference.trim_start_matches('#').to_owned(),
                None => break,
            }
        }
        let child = format!("{pointer}/{}", escape(key));
        if self.document.pointer(&child).is_none() {
            bail!("nothing at {child}");
        }
        let mut child = child;
        for _ in 0..8 {
            match self
                .document
                .pointer(&child)
                .and_then(|value| value.get("$ref"))
                .and_then(Value::as_str)
            {
                Some(reference) if !reference.contains("/schemas/") => {
                    child = reference.trim_start_matches('#').to_owned();
                }
                _ => break,
            }
        }
        Ok(child)
    }

    /// What is wrong with `instance` by the schema at `pointer`.
    fn problems(&self, pointer: &str, instance: &Value) -> Result<Vec<String>> {
        let validator = self.validator(pointer)?;
        Ok(validator
            .iter_errors(instance)
            .map(|error| format!("{} at `{}`", error, error.instance_path()))
            .collect())
    }

    fn validator(&self, pointer: &str) -> Result<std::sync::Arc<jsonschema::Validator>> {
        if let Some(validator) = lock(&self.validators).get(pointer) {
            return Ok(validator.clone());
        }
        // The whole description is the schema's document, so that every `$ref` into its
        // components resolves; the schema itself is the one at `pointer`.
        let mut root = self.document.clone();
        root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
        // A pointer in a URI's fragment: the braces of path templates percent-encoded.
        let fragment = pointer.replace('{', "%7B").replace('}', "%7D");
        root["$ref"] = json!(format!("#{fragment}"));
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .map_err(|error| anyhow!("the schema at {pointer}: {error}"))?;
        let validator = std::sync::Arc::new(validator);
        lock(&self.validators).insert(pointer.to_owned(), validator.clone());
        Ok(validator)
    }
}

/// A parameter's text as the JSON its schema describes: a number, a boolean or a string.
fn typed(schema: &Value, text: &str) -> Value {
    let types: Vec<&str> = match &schema["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if types.contains(&"integer") || types.contains(&"number") {
        if let Ok(number) = text.parse::<i64>() {
            return json!(number);
        }
    }
    if types.contains(&"boolean") {
        if let Ok(boolean) = text.parse::<bool>() {
            return json!(boolean);
        }
    }
    json!(text)
}
