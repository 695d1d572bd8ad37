//! Pagination for `http_request`: follows `Link: <…>; rel="next"` headers, a cursor field of
//! the body copied into a query parameter, or page numbers, and collects each page's items up
//! to the caps.
//!
//! Progress ([`Progress`]) is plain data so that a request paused between two pages (a rate
//! limit) resumes where it stopped. A `next` link to another origin is refused: the request's
//! headers may carry credentials meant for the first origin only.

use reqwest::header::{HeaderMap, LINK};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use muster_engine::ActionError;

use super::redirect::same_origin;
use super::send::OutboundRequest;

/// The most pages and items a request may ask for.
pub const MAX_PAGES: u32 = 1_000;
pub const MAX_ITEMS: usize = 100_000;
const DEFAULT_PAGES: u32 = 10;
const DEFAULT_ITEMS: usize = 1_000;

/// How to find the next page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaginateKind {
    /// Follow `Link: <url>; rel="next"` response headers (GitHub, GitLab, Okta, …).
    LinkHeader,
    /// Copy a cursor field of each page's body into a query parameter; stop when it is
    /// missing, null or empty.
    Cursor,
    /// Count a page-number query parameter up from `start`; stop at an empty page.
    Page,
}

/// The `paginate` option of `http_request`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PaginateOptions {
    /// `link_header`, `cursor` or `page`.
    #[serde(rename = "type")]
    pub kind: PaginateKind,
    /// Where the list is in each page's JSON body, as a dotted path (`data`,
    /// `result.items`, `hits.hits`); the body itself when omitted.
    #[serde(default)]
    pub items: Option<String>,
    /// `cursor`: where the next cursor is in each page's body (`meta.next_cursor`).
    #[serde(default)]
    pub cursor: Option<String>,
    /// `cursor` and `page`: the query parameter that carries the cursor or page number
    /// (default `cursor` or `page`).
    #[serde(default)]
    pub param: Option<String>,
    /// `page`: the first page's number (default 1).
    #[serde(default)]
    pub start: Option<u64>,
    /// The most pages fetched (default 10, at most 1000).
    #[serde(default)]
    pub max_pages: Option<u32>,
    /// The most items collected (default 1000, at most 100000).
    #[serde(default)]
    pub max_items: Option<usize>,
}

/// Where the next page is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NextPage {
    Url { url: String },
    Cursor { value: String },
    Page { number: u64 },
}

/// Pages fetched so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub pages: u32,
    pub items: Vec<Value>,
    pub next: Option<NextPage>,
    /// Whether a cap stopped the collection while more was available.
    pub truncated: bool,
}

/// What to do after a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Next,
    Done,
}

/// Validated pagination settings.
#[derive(Debug, Clone)]
pub struct Paginator {
    kind: PaginateKind,
    items: Option<String>,
    cursor: String,
    param: String,
    start: u64,
    max_pages: u32,
    max_items: usize,
}

fn problem(message: impl Into<String>) -> ActionError {
    ActionError::permanent(format!("option `paginate`: {}", message.into()))
}

impl Paginator {
    pub fn new(options: PaginateOptions) -> Result<Self, ActionError> {
        let max_pages = options.max_pages.unwrap_or(DEFAULT_PAGES);
        if max_pages == 0 || max_pages > MAX_PAGES {
            return Err(problem(format!(
                "`max_pages` must be between 1 and {MAX_PAGES}, got {max_pages}"
            )));
        }
        let max_items = options.max_items.unwrap_or(DEFAULT_ITEMS);
        if max_items == 0 || max_items > MAX_ITEMS {
            return Err(problem(format!(
                "`max_items` must be between 1 and {MAX_ITEMS}, got {max_items}"
            )));
        }
        let cursor = match (options.kind, options.cursor) {
            (PaginateKind::Cursor, Some(cursor)) if !cursor.trim().is_empty() => cursor,
            (PaginateKind::Cursor, _) => {
                return Err(problem(
                    "`type: cursor` needs `cursor`, the path of the next cursor in each page \
                     (e.g. `meta.next_cursor`)",
                ));
            }
            (_, Some(_)) => return Err(problem("`cursor` is only used with `type: cursor`")),
            (_, None) => String::new(),
        };
        let param = match (options.kind, options.param) {
            (PaginateKind::LinkHeader, Some(_)) => {
                return Err(problem("`param` is not used with `type: link_header`"));
            }
            (_, Some(param)) if !param.is_empty() => param,
            (PaginateKind::Cursor, _) => "cursor".into(),
            _ => "page".into(),
        };
        if options.start.is_some() && options.kind != PaginateKind::Page {
            return Err(problem("`start` is only used with `type: page`"));
        }
        Ok(Self {
            kind: options.kind,
            items: options.items.filter(|p| !p.trim().is_empty()),
            cursor,
            param,
            start: options.start.unwrap_or(1),
            max_pages,
            max_items,
        })
    }

    /// The request for the next page: `base` for the first (with the first page number for
    /// `type: page`), then as the previous page said.
    pub fn request_for(
        &self,
        base: &OutboundRequest,
        progress: &Progress,
    ) -> Result<OutboundRequest, ActionError> {
        let mut request = base.clone();
        match (&progress.next, self.kind) {
            (None, PaginateKind::Page) => {
                set_param(&mut request.url, &self.param, &self.start.to_string())
            }
            (None, _) => {}
            (Some(NextPage::Url { url }), _) => {
                let next = Url::parse(url)
                    .map_err(|e| problem(format!("the next link `{url}` is not a URL: {e}")))?;
                if !same_origin(&base.url, &next) {
                    return Err(problem(format!(
                        "the next link of page {} points to `{next}`, outside the origin of \
                         `{}`; the request's headers are not sent to another origin",
                        progress.pages, base.url
                    )));
                }
                request.url = next;
            }
            (Some(NextPage::Cursor { value }), _) => {
                set_param(&mut request.url, &self.param, value)
            }
            (Some(NextPage::Page { number }), _) => {
                set_param(&mut request.url, &self.param, &number.to_string())
            }
        }
        Ok(request)
    }

    /// Takes in one page: collects its items and decides whether to fetch another.
    pub fn absorb(
        &self,
        progress: &mut Progress,
        url: &Url,
        headers: &HeaderMap,
        body: &Value,
    ) -> Result<Step, ActionError> {
        progress.pages += 1;
        let page = progress.pages;
        let list = match &self.items {
            Some(path) => lookup(body, path).ok_or_else(|| {
                problem(format!(
                    "page {page} (`{url}`) has nothing at `items: {path}`"
                ))
            })?,
            None => body,
        };
        let Value::Array(list) = list else {
            return Err(problem(match &self.items {
                Some(path) => format!("`{path}` in page {page} (`{url}`) is not a list"),
                None => format!(
                    "page {page} (`{url}`) is not a list; set `items` to the path of the list \
                     in each page"
                ),
            }));
        };
        let room = self.max_items - progress.items.len();
        if list.len() > room {
            progress.truncated = true;
        }
        progress.items.extend(list.iter().take(room).cloned());
        let next = match self.kind {
            PaginateKind::LinkHeader => next_link(headers, url).map(|url| NextPage::Url {
                url: url.to_string(),
            }),
            PaginateKind::Cursor => {
                cursor_value(lookup(body, &self.cursor)).map(|value| NextPage::Cursor { value })
            }
            PaginateKind::Page if list.is_empty() => None,
            PaginateKind::Page => Some(NextPage::Page {
                number: self.start + u64::from(page),
            }),
        };
        progress.next = next;
        if progress.next.is_none() {
            return Ok(Step::Done);
        }
        if progress.items.len() >= self.max_items || page >= self.max_pages {
            progress.truncated = true;
            return Ok(Step::Done);
        }
        Ok(Step::Next)
    }
}

fn set_param(url: &mut Url, name: &str, value: &str) {
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair(name, value);
}

fn cursor_value(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Follows a dotted path (`data.items`, `results[0].hits`, `$.a.b`) into a JSON value.
pub fn lookup<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    let path = path.trim();
    let path = path.strip_prefix('$').unwrap_or(path);
    let normalised = path.replace('[', ".").replace(']', "");
    let mut current = value;
    for step in normalised.split('.').filter(|s| !s.is_empty()) {
        current = match current {
            Value::Object(map) => map.get(step)?,
            Value::Array(list) => list.get(step.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(current)
}

/// The `rel="next"` target of the response's `Link` headers, resolved against `base`.
pub fn next_link(headers: &HeaderMap, base: &Url) -> Option<Url> {
    for value in headers.get_all(LINK) {
        let Ok(text) = value.to_str() else { continue };
        for (target, params) in link_values(text) {
            let is_next = params.iter().any(|(name, value)| {
                name.eq_ignore_ascii_case("rel")
                    && value
                        .split_ascii_whitespace()
                        .any(|rel| rel.eq_ignore_ascii_case("next"))
            });
            if is_next {
                return base.join(target).ok();
            }
        }
    }
    None
}

/// Splits a `Link` header (RFC 8288) into targets and their parameters.
fn link_values(text: &str) -> Vec<(&str, Vec<(&str, String)>)> {
    let mut links = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        let target = &rest[open + 1..open + close];
        rest = &rest[open + close + 1..];
        let mut params = Vec::new();
        loop {
            rest = rest.trim_start();
            let Some(after) = rest.strip_prefix(';') else {
                break;
            };
            let after = after.trim_start();
            let name_end = after.find(['=', ';', ',']).unwrap_or(after.len());
            let name = after[..name_end].trim();
            rest = &after[name_end..];
            let mut value = String::new();
            if let Some(after_eq) = rest.strip_prefix('=') {
                let after_eq = after_eq.trim_start();
                if let Some(quoted) = after_eq.strip_prefix('"') {
                    let end = quoted.find('"').unwrap_or(quoted.len());
                    value = quoted[..end].to_string();
                    rest = quoted.get(end + 1..).unwrap_or("");
                } else {
                    let end = after_eq.find([';', ',']).unwrap_or(after_eq.len());
                    value = after_eq[..end].trim().to_string();
                    rest = &after_eq[end..];
                }
            }
            params.push((name, value));
        }
        links.push((target, params));
        rest = rest.trim_start().strip_prefix(',').unwrap_or(rest);
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paginator(options: Value) -> Result<Paginator, ActionError> {
        Paginator::new(serde_json::from_value(options).unwrap())
    }

    #[test]
    fn paths_reach_into_objects_and_lists() {
        let body = json!({"data": {"items": [1, 2]}, "results": [{"hits": [3]}]});
        assert_eq!(lookup(&body, "data.items"), Some(&json!([1, 2])));
        assert_eq!(lookup(&body, "$.data.items"), Some(&json!([1, 2])));
        assert_eq!(lookup(&body, "results[0].hits"), Some(&json!([3])));
        assert_eq!(lookup(&body, "results.0.hits"), Some(&json!([3])));
        assert_eq!(lookup(&body, "data.missing"), None);
        assert_eq!(lookup(&body, ""), Some(&body));
    }

    #[test]
    fn link_headers_are_parsed() {
        let base = Url::parse("https://api.example.com/v1/items?page=1").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            LINK,
            "<https://api.example.com/v1/items?page=1>; rel=\"prev first\", \
             <https://api.example.com/v1/items?a=1,2&page=3>; rel=\"next\", \
             </v1/items?page=9>; rel=last"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&headers, &base).unwrap().as_str(),
            "https://api.example.com/v1/items?a=1,2&page=3"
        );
        let mut relative = HeaderMap::new();
        relative.insert(
            LINK,
            "</v1/items?page=2>; title=\"x;y\"; rel=next"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&relative, &base).unwrap().as_str(),
            "https://api.example.com/v1/items?page=2"
        );
        let mut none = HeaderMap::new();
        none.insert(LINK, "<https://x/>; rel=\"prev\"".parse().unwrap());
        assert!(next_link(&none, &base).is_none());
        assert!(next_link(&HeaderMap::new(), &base).is_none());
    }

    #[test]
    fn bad_settings_are_explained() {
        assert!(
            paginator(json!({"type": "cursor"}))
                .unwrap_err()
                .message
                .contains("needs `cursor`")
        );
        assert!(paginator(json!({"type": "page", "max_pages": 0})).is_err());
        assert!(paginator(json!({"type": "page", "max_items": 1_000_000})).is_err());
        assert!(paginator(json!({"type": "link_header", "param": "p"})).is_err());
        assert!(paginator(json!({"type": "link_header", "start": 0})).is_err());
    }

    #[test]
    fn caps_stop_the_collection_and_say_so() {
        let p = paginator(json!({"type": "page", "items": "data", "max_items": 3})).unwrap();
        let url = Url::parse("https://api.example.com/items").unwrap();
        let mut progress = Progress::default();
        let page = json!({"data": [1, 2]});
        assert_eq!(
            p.absorb(&mut progress, &url, &HeaderMap::new(), &page)
                .unwrap(),
            Step::Next
        );
        assert_eq!(
            p.absorb(&mut progress, &url, &HeaderMap::new(), &page)
                .unwrap(),
            Step::Done
        );
        assert_eq!(progress.items, vec![json!(1), json!(2), json!(1)]);
        assert!(progress.truncated);
        let base =
            OutboundRequest::get(Url::parse("https://api.example.com/items?page=7&q=x").unwrap());
        let first = p.request_for(&base, &Progress::default()).unwrap();
        assert_eq!(
            first.url.as_str(),
            "https://api.example.com/items?q=x&page=1"
        );
    }

    #[test]
    fn next_links_to_other_origins_are_refused() {
        let p = paginator(json!({"type": "link_header"})).unwrap();
        let base = OutboundRequest::get(Url::parse("https://api.example.com/items").unwrap());
        let progress = Progress {
            pages: 1,
            next: Some(NextPage::Url {
                url: "https://evil.example.net/items?page=2".into(),
            }),
            ..Progress::default()
        };
        let error = p.request_for(&base, &progress).unwrap_err();
        assert!(
            error.message.contains("evil.example.net"),
            "{}",
            error.message
        );
    }
}
