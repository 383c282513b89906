//! The read-only FHIR R4 REST interface over one patient's resources: which search
//! parameters each type takes and what they match, paging, the CapabilityStatement and
//! OperationOutcome errors. Pure: the server hands the patient's export over entry by entry
//! to a [`Pager`].

use serde_json::{json, Map, Value};

/// What a search may return on one page when `_count` is not given, and at most.
pub const DEFAULT_COUNT: usize = 50;
pub const MAX_COUNT: usize = 500;

/// The resource types searched by patient, with the parameters each takes besides the
/// common ones (`patient`, `_count`, `_offset`, `_format`).
pub const SEARCHABLE: &[(&str, &[&str])] = &[
    ("Observation", &["date", "category", "code"]),
    ("Condition", &["code", "category"]),
    ("MedicationStatement", &["code", "status"]),
    ("MedicationAdministration", &["code", "status"]),
    ("AdverseEvent", &["date"]),
];

/// A refusal, as FHIR wants it: an HTTP status and an OperationOutcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub status: u16,
    pub outcome: Value,
}

impl Refusal {
    pub fn new(status: u16, code: &str, diagnostics: impl Into<String>) -> Self {
        Self {
            status,
            outcome: operation_outcome(code, &diagnostics.into()),
        }
    }

    fn invalid(parameter: &str, rule: &str, value: &str) -> Self {
        Self::new(
            400,
            "invalid",
            format!("search parameter {parameter}: {rule}, got {value:?}"),
        )
    }
}

pub fn operation_outcome(code: &str, diagnostics: &str) -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}],
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prefix {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A `[system|]code` token; several in one parameter (comma) match any of them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    system: Option<String>,
    code: String,
}

/// A parsed search: each parameter repeated is AND, commas inside one are OR (FHIR's rule).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Search {
    /// The `patient` (or `subject`) parameter: a Patient id, `Patient/` prefix removed.
    pub patient: Option<String>,
    dates: Vec<(Prefix, String)>,
    tokens: Vec<(String, Vec<Token>)>,
    pub count: usize,
    pub offset: usize,
}

fn parse_number(name: &str, value: &str, max: usize) -> Result<usize, Refusal> {
    value
        .parse::<usize>()
        .ok()
        .filter(|n| *n <= max)
        .ok_or_else(|| Refusal::invalid(name, &format!("a whole number from 0 to {max}"), value))
}

fn parse_date(value: &str) -> Result<(Prefix, String), Refusal> {
    let (prefix, rest) = match value.get(..2) {
        Some("eq") => (Prefix::Eq, &value[2..]),
        Some("lt") => (Prefix::Lt, &value[2..]),
        Some("le") => (Prefix::Le, &value[2..]),
        Some("gt") => (Prefix::Gt, &value[2..]),
        Some("ge") => (Prefix::Ge, &value[2..]),
        _ => (Prefix::Eq, value),
    };
    let shape_ok = matches!(rest.len(), 4 | 7 | 10)
        && rest
            .char_indices()
            .all(|(i, c)| if i == 4 || i == 7 { c == '-' } else { c.is_ascii_digit() });
    let valid = shape_ok
        && match rest.len() {
            4 => true,
            7 => rest[5..7].parse::<u8>().is_ok_and(|m| (1..=12).contains(&m)),
            _ => rest.parse::<jiff::civil::Date>().is_ok(),
        };
    if !valid {
        return Err(Refusal::invalid(
            "date",
            "a date YYYY, YYYY-MM or YYYY-MM-DD, optionally after eq, lt, le, gt or ge",
            value,
        ));
    }
    Ok((prefix, rest.to_string()))
}

fn parse_tokens(value: &str) -> Vec<Token> {
    value
        .split(',')
        .filter(|t| !t.is_empty())
        .map(|t| match t.split_once('|') {
            Some((system, code)) => Token {
                system: (!system.is_empty()).then(|| system.to_string()),
                code: code.to_string(),
            },
            None => Token {
                system: None,
                code: t.to_string(),
            },
        })
        .collect()
}

/// Reads a search on `resource_type` (`None`: `$everything`, which pages only). Unknown
/// parameters are refused rather than ignored: a clinician who misspells `date` must not
/// get every observation and believe it is one day's.
pub fn parse_search(resource_type: Option<&str>, query: &[(String, String)]) -> Result<Search, Refusal> {
    let allowed: &[&str] = match resource_type {
        None => &[],
        Some(t) => SEARCHABLE
            .iter()
            .find(|(name, _)| *name == t)
            .map(|(_, params)| *params)
            .ok_or_else(|| Refusal::new(404, "not-supported", format!("resource type {t} is not served here")))?,
    };
    let mut search = Search {
        count: DEFAULT_COUNT,
        ..Search::default()
    };
    for (name, value) in query {
        match name.as_str() {
            "_count" => search.count = parse_number("_count", value, MAX_COUNT)?,
            "_offset" => search.offset = parse_number("_offset", value, usize::MAX)?,
            "_format" => {
                if !matches!(value.as_str(), "json" | "application/fhir+json" | "application/json") {
                    return Err(Refusal::invalid("_format", "json (only JSON is served)", value));
                }
            }
            "patient" | "subject" if resource_type.is_some() => {
                let id = value.strip_prefix("Patient/").unwrap_or(value);
                if search.patient.as_deref().is_some_and(|p| p != id) {
                    return Err(Refusal::invalid(name, "one patient per search", value));
                }
                search.patient = Some(id.to_string());
            }
            "date" if allowed.contains(&"date") => search.dates.push(parse_date(value)?),
            p if allowed.contains(&p) => search.tokens.push((p.to_string(), parse_tokens(value))),
            other => {
                let mut known: Vec<&str> = vec!["_count", "_offset", "_format"];
                if resource_type.is_some() {
                    known.extend(["patient", "subject"]);
                }
                known.extend(allowed);
                return Err(Refusal::invalid(
                    other,
                    &format!("not a parameter this search takes (it takes {})", known.join(", ")),
                    value,
                ));
            }
        }
    }
    Ok(search)
}

/// The day a resource is about: its effective or onset time, else the start of its period,
/// as written (the patient's local date: the export keeps each record's own offset).
fn resource_date(r: &Value) -> Option<&str> {
    ["effectiveDateTime", "onsetDateTime", "date", "recordedDate"]
        .iter()
        .find_map(|k| r.get(*k).and_then(Value::as_str))
        .or_else(|| {
            ["effectivePeriod", "onsetPeriod"]
                .iter()
                .find_map(|k| r.get(*k)?.get("start").and_then(Value::as_str))
        })
}

fn date_matches(r: &Value, prefix: Prefix, value: &str) -> bool {
    let Some(date) = resource_date(r) else {
        return false;
    };
    // A date-precision value stands for the whole year, month or day: comparing the
    // resource's date cut to the same precision gives FHIR's range semantics exactly.
    let Some(cut) = date.get(..value.len()) else {
        return false;
    };
    match prefix {
        Prefix::Eq => cut == value,
        Prefix::Lt => cut < value,
        Prefix::Le => cut <= value,
        Prefix::Gt => cut > value,
        Prefix::Ge => cut >= value,
    }
}

fn codings<'a>(r: &'a Value, param: &str) -> Vec<&'a Value> {
    let concepts: Vec<&Value> = match param {
        "category" => r
            .get("category")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default(),
        _ => ["code", "medicationCodeableConcept"]
            .iter()
            .filter_map(|k| r.get(*k))
            .collect(),
    };
    concepts
        .into_iter()
        .filter_map(|c| c.get("coding").and_then(Value::as_array))
        .flatten()
        .collect()
}

fn token_matches(r: &Value, param: &str, tokens: &[Token]) -> bool {
    if param == "status" {
        let status = r.get("status").and_then(Value::as_str);
        return tokens.iter().any(|t| Some(t.code.as_str()) == status);
    }
    codings(r, param).iter().any(|c| {
        tokens.iter().any(|t| {
            c.get("code").and_then(Value::as_str) == Some(t.code.as_str())
                && t.system
                    .as_deref()
                    .is_none_or(|s| c.get("system").and_then(Value::as_str) == Some(s))
        })
    })
}

/// Whether `r` is a match for `search`, the patient already decided by the caller.
pub fn matches(r: &Value, search: &Search) -> bool {
    search.dates.iter().all(|(p, v)| date_matches(r, *p, v))
        && search
            .tokens
            .iter()
            .all(|(param, tokens)| token_matches(r, param, tokens))
}

/// One page of a search and how many resources matched in all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub resources: Vec<Value>,
    pub total: usize,
}

impl Page {
    /// The page of `matched` (all in memory: the few Patients a caller may read) that
    /// `search` asks for.
    pub fn of(matched: Vec<Value>, search: &Search) -> Self {
        let total = matched.len();
        let resources = matched.into_iter().skip(search.offset).take(search.count).collect();
        Self { resources, total }
    }
}

/// Gathers one page of a search from the export's entries handed over one at a time, so a
/// ten-year record is never held as JSON whole: only the page, and each entry's address for
/// rewriting references from `urn:uuid:` to `Type/id` (as a REST client resolves them).
#[derive(Debug)]
pub struct Pager<'a> {
    search: &'a Search,
    resource_type: Option<&'a str>,
    local: Map<String, Value>,
    page: Page,
}

impl<'a> Pager<'a> {
    /// A pager for `search` over resources of `resource_type` (every type when `None`).
    pub fn new(search: &'a Search, resource_type: Option<&'a str>) -> Self {
        Self {
            search,
            resource_type,
            local: Map::new(),
            page: Page::default(),
        }
    }

    /// Takes one Bundle entry: keeps its resource if it matches and falls on the page.
    pub fn offer(&mut self, mut entry: Value) {
        let r = &entry["resource"];
        if let (Some(full), Some(t), Some(id)) = (
            entry.get("fullUrl").and_then(Value::as_str),
            r.get("resourceType").and_then(Value::as_str),
            r.get("id").and_then(Value::as_str),
        ) {
            self.local.insert(full.to_string(), Value::String(format!("{t}/{id}")));
        }
        let wanted = self.resource_type.is_none_or(|t| r["resourceType"] == t) && matches(r, self.search);
        if !wanted {
            return;
        }
        let at = self.page.total;
        self.page.total += 1;
        if at >= self.search.offset && at - self.search.offset < self.search.count {
            self.page.resources.push(entry["resource"].take());
        }
    }

    /// The page, its references rewritten (entries may point at ones offered after them).
    pub fn finish(mut self) -> Page {
        for r in &mut self.page.resources {
            rewrite_references(r, &self.local);
        }
        self.page
    }
}

fn rewrite_references(v: &mut Value, local: &Map<String, Value>) {
    match v {
        Value::Object(o) => {
            for (k, child) in o.iter_mut() {
                if k == "reference" {
                    if let Some(to) = child.as_str().and_then(|s| local.get(s)) {
                        *child = to.clone();
                    }
                } else {
                    rewrite_references(child, local);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| rewrite_references(c, local)),
        _ => {}
    }
}

/// One page as a `searchset` Bundle with `self`, `first`, `previous` and `next` links; `url`
/// is the request's address without `_offset`/`_count`.
pub fn searchset(base: &str, url: &str, page: Page, search: &Search) -> Value {
    let total = page.total;
    let page: Vec<Value> = page
        .resources
        .into_iter()
        .map(|r| {
            let full = format!(
                "{base}/{}/{}",
                r["resourceType"].as_str().unwrap_or_default(),
                r["id"].as_str().unwrap_or_default()
            );
            json!({"fullUrl": full, "resource": r, "search": {"mode": "match"}})
        })
        .collect();
    let sep = if url.contains('?') { '&' } else { '?' };
    let at = |offset: usize| format!("{url}{sep}_count={}&_offset={offset}", search.count);
    let mut links = vec![
        json!({"relation": "self", "url": at(search.offset)}),
        json!({"relation": "first", "url": at(0)}),
    ];
    if search.offset > 0 && search.count > 0 {
        links.push(json!({"relation": "previous", "url": at(search.offset.saturating_sub(search.count))}));
    }
    if search.count > 0 && search.offset + search.count < total {
        links.push(json!({"relation": "next", "url": at(search.offset + search.count)}));
    }
    json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": page,
    })
}

/// What this server does, for `GET metadata`.
pub fn capability_statement(base: &str, date: &str) -> Value {
    let resource = |t: &str, params: &[&str]| {
        let mut search: Vec<Value> = vec![json!({"name": "patient", "type": "reference"})];
        search.extend(params.iter().map(|p| {
            let kind = if *p == "date" { "date" } else { "token" };
            json!({"name": p, "type": kind})
        }));
        json!({"type": t, "interaction": [{"code": "search-type"}], "searchParam": search})
    };
    let mut resources = vec![json!({
        "type": "Patient",
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "operation": [{"name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"}],
    })];
    resources.extend(SEARCHABLE.iter().map(|(t, p)| resource(t, p)));
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "kind": "instance",
        "software": {"name": "Tonus"},
        "implementation": {"description": "Tonus: a patient's own spasm diary, read-only", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [{
            "mode": "server",
            "documentation": "Read-only. A patient sees their own record (session or personal access token); a clinician sees the patients who consented, each read audited. Paging with _count (at most 500) and _offset.",
            "security": {"description": "Bearer personal access token or a Tonus browser session."},
            "resource": resources,
        }],
    })
}

#[cfg(test)]
#[path = "rest_tests.rs"]
mod tests;
