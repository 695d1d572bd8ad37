//! Defanging and refanging of indicators.

/// Makes indicators in `text` safe to paste: `http` → `hxxp`, `.` → `[.]`, `@` → `[@]`.
pub fn defang(text: &str) -> String {
    unimplemented!("defang {text}")
}

/// Undoes the usual defanging notations (`hxxp`, `[.]`, `(.)`, `{.}`, `[dot]`, ` dot `,
/// `[:]`, `[://]`, `[@]`, ` at `, `\.`).
pub fn refang(text: &str) -> String {
    unimplemented!("refang {text}")
}
