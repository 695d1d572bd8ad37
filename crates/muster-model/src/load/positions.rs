//! Where each key and value of the loaded document was written, indexed by JSON Pointer
//! (RFC 6901), so that checks working on `serde_json::Value`s can report lines and columns.

use std::collections::HashMap;

use super::diagnostic::Pos;

/// A JSON Pointer such as `/actions/2/options/url`; the root is the empty string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub(crate) struct Pointer(String);

impl Pointer {
    pub fn root() -> Self {
        Self(String::new())
    }

    /// A pointer written as RFC 6901 text (`/actions/2/options`), taken as it is.
    pub fn from_text(text: &str) -> Self {
        Self(text.to_string())
    }

    /// The pointer to member `key` of the object at `self`.
    pub fn key(&self, key: &str) -> Self {
        let mut text = String::with_capacity(self.0.len() + key.len() + 1);
        text.push_str(&self.0);
        text.push('/');
        for c in key.chars() {
            match c {
                '~' => text.push_str("~0"),
                '/' => text.push_str("~1"),
                c => text.push(c),
            }
        }
        Self(text)
    }

    /// The pointer to item `index` of the array at `self`.
    pub fn index(&self, index: usize) -> Self {
        Self(format!("{}/{index}", self.0))
    }

    /// The pointer one level up, or `None` at the root.
    pub fn parent(&self) -> Option<Self> {
        self.0.rfind('/').map(|at| Self(self.0[..at].to_string()))
    }

    #[cfg(test)]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a node was written: its value, and its key when it is a mapping member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Located {
    pub key: Option<Pos>,
    pub value: Pos,
}

/// Positions of every key and value of one document.
#[derive(Debug, Default)]
pub(crate) struct Positions {
    map: HashMap<Pointer, Located>,
}

impl Positions {
    pub fn insert(&mut self, pointer: Pointer, located: Located) {
        self.map.insert(pointer, located);
    }

    /// The position of the value at `pointer`, or of its nearest recorded ancestor (values
    /// reached through a YAML alias are located at the alias).
    pub fn value(&self, pointer: &Pointer) -> Pos {
        self.nearest(pointer).map_or(Pos::START, |l| l.value)
    }

    /// The position of the key of the member at `pointer` (of its value for array items).
    pub fn key(&self, pointer: &Pointer) -> Pos {
        self.nearest(pointer)
            .map_or(Pos::START, |l| l.key.unwrap_or(l.value))
    }

    /// Whether this exact node was recorded.
    pub fn contains(&self, pointer: &Pointer) -> bool {
        self.map.contains_key(pointer)
    }

    fn nearest(&self, pointer: &Pointer) -> Option<&Located> {
        let mut current = Some(pointer.clone());
        while let Some(p) = current {
            if let Some(located) = self.map.get(&p) {
                return Some(located);
            }
            current = p.parent();
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_escape_and_climb() {
        let p = Pointer::root().key("actions").index(2).key("a/b~c");
        assert_eq!(p.as_str(), "/actions/2/a~1b~0c");
        assert_eq!(
            p.parent().map(|p| p.as_str().to_string()).as_deref(),
            Some("/actions/2")
        );
        assert_eq!(Pointer::root().parent(), None);
    }

    #[test]
    fn lookups_fall_back_to_the_nearest_ancestor() {
        let mut positions = Positions::default();
        let at = |line, column| Pos { line, column };
        positions.insert(
            Pointer::root().key("a"),
            Located {
                key: Some(at(2, 1)),
                value: at(2, 4),
            },
        );
        let deep = Pointer::root().key("a").key("b").index(0);
        assert_eq!(positions.value(&deep), at(2, 4));
        assert_eq!(positions.key(&Pointer::root().key("a")), at(2, 1));
        assert_eq!(positions.value(&Pointer::root().key("zzz")), Pos::START);
    }
}
