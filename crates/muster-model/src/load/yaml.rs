//! YAML text → `serde_json::Value` plus the position of every key and value.
//!
//! Built on saphyr's event parser rather than a ready-made tree so that one pass can record
//! positions, keep keys in written order, report every duplicate key and unsupported tag
//! (instead of stopping at the first), and enforce the limits that make hostile input cheap to
//! reject: input size, nesting depth, node count and alias expansion ("billion laughs").

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use serde_json::{Map, Value};

use super::diagnostic::{Pos, Report};
use super::positions::{Located, Pointer, Positions};
use super::scalar::{Plain, resolve_plain};

/// Largest accepted playbook text.
pub const MAX_TEXT_BYTES: usize = 4 * 1024 * 1024;
/// Deepest accepted nesting of mappings and lists.
pub const MAX_DEPTH: usize = 64;
/// Most values (scalars, lists, mappings) a document may hold, aliases expanded.
pub const MAX_NODES: usize = 100_000;
/// Most string bytes a document may hold, aliases expanded.
pub const MAX_EXPANDED_BYTES: usize = 4 * MAX_TEXT_BYTES;
/// Most control characters reported before giving up on a file.
const MAX_CONTROL_REPORTS: usize = 20;

/// What kind of file is read, for the words of messages (the rules are the same for all).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Flavor {
    /// `playbook`, `integration`.
    pub noun: &'static str,
    /// How to fix an empty file.
    pub empty_hint: &'static str,
}

pub(crate) const PLAYBOOK: Flavor = Flavor {
    noun: "playbook",
    empty_hint: "a playbook needs at least `name:` and `actions:`",
};

/// A parsed document.
pub(crate) struct Document {
    pub value: Value,
    pub positions: Positions,
}

/// Parses `text`. Problems that leave the tree usable (duplicate keys, unsupported tags,
/// unrepresentable numbers) are reported and parsing goes on; the rest stop it and return
/// `None`.
pub(crate) fn parse(text: &str, report: &mut Report) -> Option<Document> {
    parse_as(text, PLAYBOOK, report)
}

/// [`parse`] for a file of another kind.
pub(crate) fn parse_as(text: &str, flavor: Flavor, report: &mut Report) -> Option<Document> {
    if text.len() > MAX_TEXT_BYTES {
        report.hinted(
            Pos::START,
            format!(
                "the file is {} bytes, more than the limit of {MAX_TEXT_BYTES} bytes",
                text.len()
            ),
            "split large templates or data into resources",
        );
        return None;
    }
    if !check_characters(text, report) {
        return None;
    }
    let mut builder = Builder::new(report, flavor);
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        match next {
            Ok((event, span)) => {
                if let Flow::Stop = builder.event(event, span) {
                    return None;
                }
            }
            Err(error) => {
                let info = error.info();
                let mut pos = Pos::from_marker(error.marker());
                if info.contains("tab") {
                    pos = indenting_tab(text, pos.line).unwrap_or(pos);
                }
                builder
                    .report
                    .add(pos, format!("invalid YAML: {info}"), syntax_hint(info));
                return None;
            }
        }
    }
    builder.finish()
}

/// Reports characters YAML does not allow in a file (control characters other than tab,
/// line feed and carriage return). Returns whether the text is clean.
fn check_characters(text: &str, report: &mut Report) -> bool {
    let mut found = 0;
    let mut pos = Pos::START;
    for c in text.chars() {
        if is_forbidden_character(c) {
            found += 1;
            if found <= MAX_CONTROL_REPORTS {
                report.hinted(
                    pos,
                    format!("control character U+{:04X} is not allowed in YAML", c as u32),
                    format!(
                        "remove it, or write it as the escape \\u{:04X} inside a double-quoted string",
                        c as u32
                    ),
                );
            }
        }
        if c == '\n' {
            pos = Pos {
                line: pos.line + 1,
                column: 1,
            };
        } else {
            pos.column += 1;
        }
    }
    if found > MAX_CONTROL_REPORTS {
        report.error(
            Pos::START,
            format!(
                "{} more control characters not listed; is this a text file?",
                found - MAX_CONTROL_REPORTS
            ),
        );
    }
    found == 0
}

/// C0 and C1 control characters (except tab, line feed, carriage return and next line) and
/// the non-characters U+FFFE and U+FFFF: the characters YAML 1.2 excludes from a stream.
fn is_forbidden_character(c: char) -> bool {
    match c {
        '\t' | '\n' | '\r' | '\u{85}' => false,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}' => true,
        _ => false,
    }
}

/// The first tab used for indentation on or after `line`: the parser reports tab errors
/// where the scalar before them started, which is not where the tab is.
fn indenting_tab(text: &str, line: usize) -> Option<Pos> {
    text.lines()
        .enumerate()
        .skip(line.saturating_sub(1))
        .find_map(|(index, content)| {
            let indentation = content.len() - content.trim_start_matches([' ', '\t']).len();
            content[..indentation]
                .chars()
                .position(|c| c == '\t')
                .map(|column| Pos {
                    line: index + 1,
                    column: column + 1,
                })
        })
}

/// A one-line fix for the parser errors people actually make.
fn syntax_hint(info: &str) -> Option<String> {
    let hint = if info.contains("recursion limit") {
        "values are nested too deeply; flatten the structure"
    } else if info.contains("tab") {
        "indent with spaces; YAML does not allow tabs for indentation"
    } else if info.contains("mapping values are not allowed") {
        "quote the value if it contains `: `, or fix the indentation of this line"
    } else if info.contains("did not find expected key")
        || info.contains("block mapping")
        || info.contains("indentation")
    {
        "check the indentation (keys of one mapping start in the same column), and that every `{`, `[` and quote opened above is closed"
    } else if info.contains("while parsing a flow") || info.contains("flow") {
        "check for a missing `,`, `]` or `}`"
    } else if info.contains("quoted scalar") {
        "close the quote; inside double quotes write \\\" for a quote and \\\\ for a backslash"
    } else if info.contains("unknown anchor") || info.contains("anchor") {
        "define the anchor (`&name`) before using the alias (`*name`)"
    } else {
        return None;
    };
    Some(hint.to_string())
}

enum Flow {
    Continue,
    Stop,
}

/// What occupies the key slot of a mapping being built.
enum KeySlot {
    /// The next node is a key.
    Empty,
    /// The next node is the value of this key.
    Key(String, Pos),
    /// The next node is the value of a key that was rejected; it is built and dropped.
    Rejected,
}

enum FrameKind {
    Sequence(Vec<Value>),
    Mapping {
        map: Map<String, Value>,
        slot: KeySlot,
        /// Where each key was written, for duplicate-key messages.
        key_lines: HashMap<String, usize>,
    },
}

/// A collection being built.
struct Frame {
    kind: FrameKind,
    /// Where the collection will live; `None` when it is a key or a rejected key's value,
    /// which are built only to be dropped.
    pointer: Option<Pointer>,
    start: Pos,
    anchor: usize,
    nodes_before: usize,
    bytes_before: usize,
}

/// A finished node on its way into its parent.
struct Built {
    value: Value,
    pos: Pos,
    /// The scalar's text as written (after unescaping), used when the node is a key.
    key_text: Option<String>,
    plain: bool,
}

struct Builder<'r> {
    report: &'r mut Report,
    flavor: Flavor,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchored>,
    nodes: usize,
    bytes: usize,
    documents: usize,
    root: Option<Value>,
    positions: Positions,
}

struct Anchored {
    value: Value,
    nodes: usize,
    bytes: usize,
}

impl<'r> Builder<'r> {
    fn new(report: &'r mut Report, flavor: Flavor) -> Self {
        Self {
            report,
            flavor,
            stack: Vec::new(),
            anchors: HashMap::new(),
            nodes: 0,
            bytes: 0,
            documents: 0,
            root: None,
            positions: Positions::default(),
        }
    }

    fn finish(self) -> Option<Document> {
        match self.root {
            Some(value) => Some(Document {
                value,
                positions: self.positions,
            }),
            None => {
                self.report
                    .hinted(Pos::START, "the file is empty", self.flavor.empty_hint);
                None
            }
        }
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Flow {
        let pos = Pos::from_marker(&span.start);
        match event {
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {
                Flow::Continue
            }
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    let noun = self.flavor.noun;
                    let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
                        "an"
                    } else {
                        "a"
                    };
                    self.report.hinted(
                        pos,
                        format!(
                            "{article} {noun} file holds one YAML document, but a second one \
                             starts here"
                        ),
                        format!(
                            "remove this `---` and what follows, or put each {noun} in its own file"
                        ),
                    );
                    return Flow::Stop;
                }
                Flow::Continue
            }
            Event::Scalar(text, style, anchor, tag) => {
                let value = if self.next_is_key() {
                    // Keys are text whatever they look like: `200:` is the key "200".
                    Value::String(text.to_string())
                } else {
                    self.scalar_value(&text, style, tag.as_deref(), pos)
                };
                self.bytes += text.len();
                let built = Built {
                    value,
                    pos,
                    key_text: Some(text.into_owned()),
                    plain: style == ScalarStyle::Plain,
                };
                if anchor > 0 {
                    self.anchors.insert(
                        anchor,
                        Anchored {
                            value: built.value.clone(),
                            nodes: 1,
                            bytes: built.key_text.as_ref().map_or(0, String::len),
                        },
                    );
                }
                if let Err(flow) = self.count_node(pos) {
                    return flow;
                }
                self.attach(built)
            }
            Event::Alias(anchor) => {
                let Some(anchored) = self.anchors.get(&anchor) else {
                    self.report
                        .error(pos, "alias to an anchor that is not defined");
                    return Flow::Stop;
                };
                let (value, nodes, bytes) =
                    (anchored.value.clone(), anchored.nodes, anchored.bytes);
                self.nodes += nodes.saturating_sub(1);
                self.bytes += bytes;
                if let Err(flow) = self.count_node(pos) {
                    return flow;
                }
                let key_text = value.as_str().map(str::to_string);
                self.attach(Built {
                    value,
                    pos,
                    key_text,
                    plain: false,
                })
            }
            Event::SequenceStart(anchor, tag) => {
                self.check_collection_tag(tag.as_deref(), "seq", pos);
                self.open(FrameKind::Sequence(Vec::new()), pos, anchor)
            }
            Event::MappingStart(anchor, tag) => {
                self.check_collection_tag(tag.as_deref(), "map", pos);
                self.open(
                    FrameKind::Mapping {
                        map: Map::new(),
                        slot: KeySlot::Empty,
                        key_lines: HashMap::new(),
                    },
                    pos,
                    anchor,
                )
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(),
        }
    }

    /// Counts one more node and enforces the node and byte limits.
    fn count_node(&mut self, pos: Pos) -> Result<(), Flow> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            self.report.hinted(
                pos,
                format!("the document holds more than {MAX_NODES} values (aliases expanded)"),
                format!(
                    "{}s are small; check for aliases (`*name`) that expand recursively",
                    self.flavor.noun
                ),
            );
            return Err(Flow::Stop);
        }
        if self.bytes > MAX_EXPANDED_BYTES {
            self.report.hinted(
                pos,
                format!(
                    "the document holds more than {MAX_EXPANDED_BYTES} bytes of text (aliases expanded)"
                ),
                "check for aliases (`*name`) that repeat large values",
            );
            return Err(Flow::Stop);
        }
        Ok(())
    }

    fn open(&mut self, kind: FrameKind, pos: Pos, anchor: usize) -> Flow {
        if self.stack.len() >= MAX_DEPTH {
            self.report.hinted(
                pos,
                format!("values are nested more than {MAX_DEPTH} levels deep"),
                "flatten the structure",
            );
            return Flow::Stop;
        }
        if let Err(flow) = self.count_node(pos) {
            return flow;
        }
        let pointer = self.child_pointer();
        self.stack.push(Frame {
            kind,
            pointer,
            start: pos,
            anchor,
            nodes_before: self.nodes - 1,
            bytes_before: self.bytes,
        });
        Flow::Continue
    }

    fn close(&mut self) -> Flow {
        let Some(frame) = self.stack.pop() else {
            return Flow::Continue;
        };
        let value = match frame.kind {
            FrameKind::Sequence(items) => Value::Array(items),
            FrameKind::Mapping { map, .. } => Value::Object(map),
        };
        if frame.anchor > 0 {
            self.anchors.insert(
                frame.anchor,
                Anchored {
                    value: value.clone(),
                    nodes: self.nodes - frame.nodes_before,
                    bytes: self.bytes - frame.bytes_before,
                },
            );
        }
        self.attach(Built {
            value,
            pos: frame.start,
            key_text: None,
            plain: false,
        })
    }

    /// Where the next node will live in the document, or `None` if it is a key or will be
    /// dropped.
    fn child_pointer(&self) -> Option<Pointer> {
        let Some(parent) = self.stack.last() else {
            return Some(Pointer::root());
        };
        let base = parent.pointer.as_ref()?;
        match &parent.kind {
            FrameKind::Sequence(items) => Some(base.index(items.len())),
            FrameKind::Mapping { slot, .. } => match slot {
                KeySlot::Key(key, _) => Some(base.key(key)),
                KeySlot::Empty | KeySlot::Rejected => None,
            },
        }
    }

    /// Puts a finished node into its parent (or makes it the document).
    fn attach(&mut self, built: Built) -> Flow {
        let pointer = self.child_pointer();
        let Some(parent) = self.stack.last_mut() else {
            if let Some(pointer) = pointer {
                self.positions.insert(
                    pointer,
                    Located {
                        key: None,
                        value: built.pos,
                    },
                );
            }
            self.root = Some(built.value);
            return Flow::Continue;
        };
        match &mut parent.kind {
            FrameKind::Sequence(items) => {
                if let Some(pointer) = pointer {
                    self.positions.insert(
                        pointer,
                        Located {
                            key: None,
                            value: built.pos,
                        },
                    );
                }
                items.push(built.value);
            }
            FrameKind::Mapping {
                map,
                slot,
                key_lines,
            } => match std::mem::replace(slot, KeySlot::Empty) {
                KeySlot::Empty => {
                    *slot = accept_key(self.report, built, map, key_lines);
                }
                KeySlot::Key(key, key_pos) => {
                    if let Some(pointer) = pointer {
                        self.positions.insert(
                            pointer,
                            Located {
                                key: Some(key_pos),
                                value: built.pos,
                            },
                        );
                    }
                    map.insert(key, built.value);
                }
                KeySlot::Rejected => {}
            },
        }
        Flow::Continue
    }

    /// Whether the next node is a mapping key.
    fn next_is_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame {
                kind: FrameKind::Mapping {
                    slot: KeySlot::Empty,
                    ..
                },
                ..
            })
        )
    }

    /// The JSON value of a scalar; problems are reported and the text is kept as a string.
    fn scalar_value(
        &mut self,
        text: &str,
        style: ScalarStyle,
        tag: Option<&Tag>,
        pos: Pos,
    ) -> Value {
        let plain = style == ScalarStyle::Plain;
        let resolved = match tag {
            None if plain => resolve_plain(text),
            None => Plain::Value(Value::String(text.to_string())),
            Some(tag) => match core_tag(tag) {
                Some("str") => Plain::Value(Value::String(text.to_string())),
                Some(expected @ ("int" | "float" | "bool" | "null")) => match resolve_plain(text) {
                    Plain::Value(value) if tag_matches(expected, &value) => {
                        Plain::Value(as_tagged(expected, value))
                    }
                    Plain::Value(_) => {
                        self.report.hinted(
                            pos,
                            format!("`{text}` is not a valid `!!{expected}`"),
                            "remove the tag or fix the value",
                        );
                        Plain::Value(Value::String(text.to_string()))
                    }
                    other => other,
                },
                _ if is_non_specific(tag) => Plain::Value(Value::String(text.to_string())),
                _ => {
                    self.report_tag(tag, pos);
                    Plain::Value(Value::String(text.to_string()))
                }
            },
        };
        match resolved {
            Plain::Value(value) => value,
            Plain::Unrepresentable(why) => {
                self.report.hinted(
                    pos,
                    format!("cannot load `{text}`: {why}"),
                    format!("quote it to keep it as text: \"{text}\""),
                );
                Value::String(text.to_string())
            }
        }
    }

    fn check_collection_tag(&mut self, tag: Option<&Tag>, expected: &str, pos: Pos) {
        if let Some(tag) = tag
            && core_tag(tag) != Some(expected)
            && !is_non_specific(tag)
        {
            self.report_tag(tag, pos);
        }
    }

    fn report_tag(&mut self, tag: &Tag, pos: Pos) {
        self.report.hinted(
            pos,
            format!("the YAML tag `{}` is not supported", display_tag(tag)),
            format!(
                "remove the tag; {}s hold plain strings, numbers, booleans, lists and mappings",
                self.flavor.noun
            ),
        );
    }
}

/// Takes a finished node as a mapping key, reporting keys that are not strings, merge keys
/// and duplicates.
fn accept_key(
    report: &mut Report,
    built: Built,
    map: &Map<String, Value>,
    key_lines: &mut HashMap<String, usize>,
) -> KeySlot {
    let Some(key) = built.key_text else {
        report.hinted(
            built.pos,
            "mapping keys must be text, not lists or mappings",
            "use a plain word as the key",
        );
        return KeySlot::Rejected;
    };
    if built.plain && key == "<<" {
        report.hinted(
            built.pos,
            "YAML merge keys (`<<`) are not supported",
            "write the keys out, or put an anchor on the whole value and use its alias",
        );
        return KeySlot::Rejected;
    }
    if map.contains_key(&key) {
        let first = key_lines.get(&key).copied().unwrap_or(0);
        report.hinted(
            built.pos,
            format!("duplicate key `{key}` (first written on line {first})"),
            "remove one of the two, or merge them",
        );
        return KeySlot::Rejected;
    }
    key_lines.insert(key.clone(), built.pos.line);
    KeySlot::Key(key, built.pos)
}

/// The suffix of a `tag:yaml.org,2002:` tag (`!!str` → `str`).
fn core_tag(tag: &Tag) -> Option<&str> {
    tag.is_yaml_core_schema().then_some(tag.suffix.as_str())
}

/// The non-specific tag `!`, which forces a scalar to be a string.
fn is_non_specific(tag: &Tag) -> bool {
    tag.handle.is_empty() && tag.suffix == "!"
}

fn tag_matches(expected: &str, value: &Value) -> bool {
    match expected {
        "int" => value.is_i64() || value.is_u64(),
        "float" => value.is_number(),
        "bool" => value.is_boolean(),
        "null" => value.is_null(),
        _ => false,
    }
}

/// `!!float 1` is the float 1.0.
fn as_tagged(expected: &str, value: Value) -> Value {
    match (expected, value.as_f64()) {
        ("float", Some(f)) if !value.is_f64() => {
            serde_json::Number::from_f64(f).map_or(value, Value::Number)
        }
        _ => value,
    }
}

fn display_tag(tag: &Tag) -> String {
    if tag.is_yaml_core_schema() {
        format!("!!{}", tag.suffix)
    } else if tag.handle == "!" || tag.handle.is_empty() {
        format!("!{}", tag.suffix)
    } else {
        format!("!<{}{}>", tag.handle, tag.suffix)
    }
}
