//! File extensions that make a dotted name a file name, and the rule that settles names
//! that could also be domains.
//!
//! The rule (also in `docs/intel.md`): a dotted name whose last label is a known file
//! extension is a **file name** when
//! 1. the extension is not a top-level domain (`setup.exe`, `invoice.pdf.exe`, `report.pdf`), or
//! 2. it follows a path separator (`C:\Temp\evil.zip`, `/tmp/evil.sh`), or
//! 3. the label before the extension is an extension too (`invoice.pdf.zip`), or
//! 4. the extension is one of the few country-code TLDs that are far more common as source
//!    and script files than as domains (`.py`, `.sh`, `.pl`, `.pm`, `.rs`, `.md`, `.ps`, `.so`,
//!    `.mk`) and the name has exactly two labels (`install.sh`, `README.md`).
//!
//! Otherwise a name ending in a TLD is a **domain**: `evil.zip`, `update.mov`, `cdn.evil.sh`.
//! Phishing campaigns register exactly these look-alike domains, so missing them is worse
//! than reporting a stray file name as a domain.

/// Known file extensions, lower-case, sorted for binary search.
#[rustfmt::skip]
const EXTENSIONS: &[&str] = &[
    "7z", "ace", "ahk", "apk", "app", "applescript", "application", "appref-ms", "appx", "appxbundle",
    "arj", "asmx", "asp", "aspx", "au3", "avi", "bak", "bas", "bash", "bat",
    "bin", "bmp", "bz2", "cab", "cer", "cfg", "cgi", "chm", "class", "cmd",
    "conf", "config", "cpl", "cpp", "crt", "crx", "cs", "csr", "csv", "dat",
    "db", "deb", "der", "dex", "diagcab", "dll", "dmg", "dmp", "doc", "docm",
    "docx", "dotm", "drv", "dylib", "elf", "eml", "epub", "etl", "evtx", "exe",
    "flac", "gadget", "gif", "go", "gz", "hta", "htm", "html", "ico", "ics",
    "img", "inf", "ini", "iqy", "iso", "jar", "java", "jpeg", "jpg", "js",
    "jse", "json", "jsp", "jspx", "kdbx", "key", "ko", "kt", "library-ms", "lnk",
    "log", "lua", "lz", "lzh", "lzma", "m4a", "md", "mdmp", "mht", "mhtml",
    "mk", "mkv", "mov", "mp3", "mp4", "msc", "msg", "msi", "msix", "msixbundle",
    "msp", "nupkg", "ocx", "odp", "ods", "odt", "one", "onepkg", "ost", "ovpn",
    "p12", "pcap", "pcapng", "pdb", "pdf", "pem", "pfx", "php", "phtml", "pif",
    "pkg", "pl", "plist", "pm", "png", "potm", "ppam", "ppsm", "ppsx", "ppt",
    "pptm", "pptx", "ps", "ps1", "psd1", "psm1", "pst", "py", "pyc", "pyw",
    "rar", "rb", "reg", "rpm", "rs", "rtf", "scf", "scpt", "scr", "settingcontent-ms",
    "sh", "sldm", "slk", "so", "sql", "sqlite", "svg", "swift", "sys", "tar",
    "tgz", "tif", "tiff", "tmp", "toml", "ts", "tsv", "txt", "uue", "vb",
    "vba", "vbe", "vbs", "vhd", "vhdx", "vsix", "war", "wav", "webm", "webp",
    "whl", "wll", "wmv", "wsf", "wsh", "xbap", "xla", "xlam", "xll", "xls",
    "xlsb", "xlsm", "xlsx", "xltm", "xml", "xpi", "xps", "xz", "yaml", "yml",
    "zip", "zsh", "zst",
];

/// Country-code TLDs read as file extensions in a two-label name (rule 4).
const FILE_FIRST: &[&str] = &["md", "mk", "pl", "pm", "ps", "py", "rs", "sh", "so"];

/// Dotted names that read as file names but are product names in prose.
const NOT_FILES: &[&str] = &[
    "angular.js",
    "backbone.js",
    "chart.js",
    "console.log",
    "d3.js",
    "ember.js",
    "express.js",
    "next.js",
    "node.js",
    "nuxt.js",
    "react.js",
    "three.js",
    "vue.js",
];

/// Extensions of up to eight bytes packed into integers, sorted: looking one up is a binary
/// search over `u64`s, with no string comparison.
static PACKED: std::sync::LazyLock<Vec<u64>> = std::sync::LazyLock::new(|| {
    let mut packed: Vec<u64> = EXTENSIONS
        .iter()
        .filter_map(|e| pack(e.as_bytes()))
        .collect();
    packed.sort_unstable();
    packed
});

fn pack(ext: &[u8]) -> Option<u64> {
    (ext.len() <= 8).then(|| {
        ext.iter()
            .fold(0u64, |packed, &c| packed << 8 | u64::from(c))
    })
}

/// Whether the lower-case `ext` is a known file extension.
pub(crate) fn is_file_extension(ext: &[u8]) -> bool {
    match pack(ext) {
        Some(packed) => PACKED.binary_search(&packed).is_ok(),
        None => EXTENSIONS
            .binary_search_by(|e| e.as_bytes().cmp(ext))
            .is_ok(),
    }
}

/// Whether the lower-case `ext` is a TLD that reads as a file extension in two-label names.
pub(crate) fn is_file_first(ext: &[u8]) -> bool {
    FILE_FIRST.iter().any(|e| e.as_bytes() == ext)
}

/// Whether `name` is a product name that only looks like a file name.
pub(crate) fn is_not_a_file(name: &[u8]) -> bool {
    NOT_FILES
        .iter()
        .any(|n| n.as_bytes().eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_sorted_and_lower_case() {
        for list in [EXTENSIONS, FILE_FIRST, NOT_FILES] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?}");
            assert!(
                list.iter()
                    .all(|e| e.bytes().all(|b| !b.is_ascii_uppercase()))
            );
        }
    }

    #[test]
    fn every_listed_extension_is_found() {
        for ext in EXTENSIONS {
            assert!(is_file_extension(ext.as_bytes()), "{ext}");
        }
        assert!(!is_file_extension(b"com"));
        assert!(!is_file_extension(b"exe\0"));
        assert!(!is_file_extension(b"settingcontent"));
    }

    #[test]
    fn file_first_extensions_are_extensions_and_tlds() {
        for ext in FILE_FIRST {
            assert!(is_file_extension(ext.as_bytes()), "{ext}");
            assert!(crate::domain::is_known_tld(ext.as_bytes()), "{ext}");
        }
        assert!(is_file_extension(b"exe") && !crate::domain::is_known_tld(b"exe"));
    }
}
