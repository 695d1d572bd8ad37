//! Attachment records: hashes, recognised type and risk flags.

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::report::Attachment;
use super::sniff::{FileClass, Sniffed, sniff};

/// What is known about a part before looking at its content.
pub(crate) struct PartInfo {
    pub filename: Option<String>,
    pub content_type: String,
    pub disposition: Option<String>,
}

/// Builds the record of one attached file (without the nested message analysis).
pub(crate) fn attachment(info: PartInfo, data: &[u8]) -> Attachment {
    let sniffed = sniff(data);
    let flags = risk_flags(
        info.filename.as_deref(),
        &info.content_type,
        sniffed.as_ref(),
    );
    Attachment {
        filename: info.filename,
        content_type: info.content_type,
        sniffed_type: sniffed.map(|sniffed| sniffed.mime.to_string()),
        disposition: info.disposition,
        size: data.len(),
        md5: hex::encode(Md5::digest(data)),
        sha1: hex::encode(Sha1::digest(data)),
        sha256: hex::encode(Sha256::digest(data)),
        flags,
        ..Attachment::default()
    }
}

/// Extensions that run code when opened, or mount an image that does, on common desktops.
const EXECUTABLE_EXTENSIONS: &[&str] = &[
    "exe",
    "scr",
    "com",
    "pif",
    "bat",
    "cmd",
    "msi",
    "msp",
    "mst",
    "dll",
    "cpl",
    "ocx",
    "sys",
    "js",
    "jse",
    "vbs",
    "vbe",
    "wsf",
    "wsh",
    "wsc",
    "hta",
    "ps1",
    "psm1",
    "psd1",
    "lnk",
    "url",
    "scf",
    "iso",
    "img",
    "vhd",
    "vhdx",
    "jar",
    "apk",
    "app",
    "dmg",
    "pkg",
    "sh",
    "reg",
    "chm",
    "inf",
    "appx",
    "msix",
    "appref-ms",
    "application",
    "gadget",
    "xll",
    "xbap",
    "library-ms",
    "settingcontent-ms",
];
/// Office formats that can carry macros.
const MACRO_EXTENSIONS: &[&str] = &[
    "docm", "dotm", "xlsm", "xltm", "xlam", "xlsb", "pptm", "potm", "ppsm", "ppam", "sldm", "doc",
    "dot", "xls", "xlt", "xla", "ppt", "pps", "pot", "one", "onepkg",
];
const ARCHIVE_EXTENSIONS: &[&str] = &[
    "zip", "zipx", "rar", "7z", "gz", "tgz", "bz2", "xz", "tar", "cab", "ace", "arj", "lzh", "z",
];
/// Harmless-looking extensions that a double extension puts before the real one.
const DECOY_EXTENSIONS: &[&str] = &[
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt", "rtf", "csv", "jpg", "jpeg", "png",
    "gif", "bmp", "tif", "tiff", "htm", "html", "mp3", "mp4", "wav", "avi", "mov", "zip", "odt",
    "ods", "eml", "msg", "xml", "json",
];

/// The extensions of a file name, lower-cased, last one last. White space and underscores
/// around dots (`invoice.pdf   .exe`) are ignored.
fn extensions(filename: &str) -> Vec<String> {
    let base = filename.rsplit(['/', '\\']).next().unwrap_or(filename);
    let mut pieces: Vec<String> = base
        .split('.')
        .map(|piece| {
            piece
                .trim_matches(|c: char| c.is_whitespace() || c == '_')
                .to_ascii_lowercase()
        })
        .collect();
    if pieces.len() < 2 {
        return Vec::new();
    }
    pieces.remove(0);
    pieces
}

fn is_executable(extension: &str) -> bool {
    EXECUTABLE_EXTENSIONS.contains(&extension)
}

/// Risk flags, in a fixed order.
fn risk_flags(
    filename: Option<&str>,
    content_type: &str,
    sniffed: Option<&Sniffed>,
) -> Vec<String> {
    let name = filename.unwrap_or_default();
    let extensions = extensions(name);
    let last = extensions.last().map(String::as_str).unwrap_or_default();
    let class = sniffed.map(|sniffed| sniffed.class);
    let mut flags = Vec::new();
    let mut flag = |code: &str, raised: bool| {
        if raised {
            flags.push(code.to_string());
        }
    };

    let dangerous_last = is_executable(last) || MACRO_EXTENSIONS.contains(&last);
    let decoy_before = extensions.len() >= 2
        && DECOY_EXTENSIONS.contains(&extensions[extensions.len() - 2].as_str());
    flag("double_extension", dangerous_last && decoy_before);
    flag(
        "executable",
        is_executable(last)
            || matches!(
                class,
                Some(
                    FileClass::Executable
                        | FileClass::Script
                        | FileClass::Shortcut
                        | FileClass::DiskImage
                )
            )
            || content_type_is_executable(content_type),
    );
    flag(
        "macro_capable",
        MACRO_EXTENSIONS.contains(&last) || class == Some(FileClass::MacroCapable),
    );
    flag(
        "vba_macros",
        sniffed.is_some_and(|sniffed| sniffed.vba_macros),
    );
    flag(
        "archive",
        ARCHIVE_EXTENSIONS.contains(&last) || class == Some(FileClass::Archive),
    );
    flag(
        "encrypted_archive",
        sniffed.is_some_and(|sniffed| sniffed.encrypted),
    );
    flag(
        "html_attachment",
        matches!(
            last,
            "htm" | "html" | "shtml" | "xhtml" | "mht" | "mhtml" | "svg"
        ) || class == Some(FileClass::Html),
    );
    let content_runs_code = matches!(
        class,
        Some(FileClass::Executable | FileClass::Shortcut | FileClass::DiskImage)
    );
    flag(
        "type_mismatch",
        content_runs_code && !is_executable(last) && !name.is_empty(),
    );
    flag("rtlo_in_filename", name.contains('\u{202E}'));
    flags
}

fn content_type_is_executable(content_type: &str) -> bool {
    matches!(
        content_type,
        "application/x-msdownload"
            | "application/x-msdos-program"
            | "application/x-dosexec"
            | "application/x-executable"
            | "application/hta"
            | "application/x-ms-shortcut"
            | "application/javascript"
            | "text/javascript"
            | "application/x-javascript"
            | "text/vbscript"
            | "application/x-iso9660-image"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags_for(filename: &str, data: &[u8]) -> Vec<String> {
        let info = PartInfo {
            filename: Some(filename.to_string()),
            content_type: "application/octet-stream".to_string(),
            disposition: Some("attachment".to_string()),
        };
        attachment(info, data).flags
    }

    #[test]
    fn flags_double_extensions_and_executables() {
        assert_eq!(
            flags_for("invoice.pdf.exe", b"MZ"),
            ["double_extension", "executable"]
        );
        assert_eq!(
            flags_for("Invoice.PDF   .scr", b""),
            ["double_extension", "executable"]
        );
        assert_eq!(
            flags_for("report.2024.pdf", b"%PDF-1.4"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn flags_content_that_contradicts_the_name() {
        assert_eq!(
            flags_for("scan.pdf", b"MZ\x90\x00"),
            ["executable", "type_mismatch"]
        );
    }

    #[test]
    fn flags_macro_documents_archives_and_rtlo() {
        assert_eq!(flags_for("budget.xlsm", b""), ["macro_capable"]);
        assert_eq!(
            flags_for("files.zip", b"PK\x03\x04\x14\x00\x01\x00"),
            ["archive", "encrypted_archive"]
        );
        assert_eq!(
            flags_for("doc\u{202E}fdp.exe", b""),
            ["executable", "rtlo_in_filename"]
        );
    }

    #[test]
    fn hashes_content() {
        let info = PartInfo {
            filename: None,
            content_type: "text/plain".to_string(),
            disposition: None,
        };
        let record = attachment(info, b"abc");
        assert_eq!(record.md5, "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(record.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            record.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
