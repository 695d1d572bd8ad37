//! File type recognition from content (magic bytes), independent of the declared type and name.
//!
//! Cheap on purpose: fixed offsets and byte-string searches, no decompression. Office macros
//! are recognised by the name of the VBA storage (`_VBA_PROJECT` in OLE2 compound files,
//! `vbaProject.bin` in OOXML packages), which is stored uncompressed.

use memchr::memmem;

/// What kind of thing a file is, for risk flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileClass {
    /// Native executables and other formats that run code when opened (PE, ELF, Mach-O, CHM,
    /// Java archives).
    Executable,
    /// Scripts recognised by content (`#!`).
    Script,
    /// Windows shortcuts.
    Shortcut,
    /// ISO, UDF and VHD images (mounted on double-click by Windows).
    DiskImage,
    /// Containers that may hide other files.
    Archive,
    /// Office documents in a format that can carry macros (OLE2, macro-enabled OOXML, OneNote).
    MacroCapable,
    /// Other documents (PDF, RTF, macro-free OOXML).
    Document,
    /// HTML and SVG, which run script in a browser.
    Html,
    Image,
}

/// The recognised type of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sniffed {
    pub mime: &'static str,
    pub class: FileClass,
    /// A VBA project was found (OLE2 or OOXML).
    pub vba_macros: bool,
    /// A ZIP entry is encrypted (password-protected archive).
    pub encrypted: bool,
}

impl Sniffed {
    fn new(mime: &'static str, class: FileClass) -> Self {
        Sniffed {
            mime,
            class,
            vba_macros: false,
            encrypted: false,
        }
    }
}

const OLE2: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
const LNK: &[u8] =
    b"\x4C\x00\x00\x00\x01\x14\x02\x00\x00\x00\x00\x00\xC0\x00\x00\x00\x00\x00\x00\x46";
const ONENOTE: &[u8] = b"\xE4\x52\x5C\x7B\x8C\xD8\xA7\x4D\xAE\xB1\x53\x78\xD0\x29\x96\xD3";

/// Recognises `data`, or `None` for content of no recognised type.
pub(crate) fn sniff(data: &[u8]) -> Option<Sniffed> {
    use FileClass::*;
    let starts = |magic: &[u8]| data.starts_with(magic);
    let sniffed = if starts(b"MZ") {
        Sniffed::new("application/x-dosexec", Executable)
    } else if starts(b"\x7FELF") {
        Sniffed::new("application/x-executable", Executable)
    } else if starts(b"\xFE\xED\xFA\xCE")
        || starts(b"\xFE\xED\xFA\xCF")
        || starts(b"\xCE\xFA\xED\xFE")
        || starts(b"\xCF\xFA\xED\xFE")
    {
        Sniffed::new("application/x-mach-binary", Executable)
    } else if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") || starts(b"PK\x07\x08") {
        zip_like(data)
    } else if starts(OLE2) {
        ole2(data)
    } else if starts(LNK) {
        Sniffed::new("application/x-ms-shortcut", Shortcut)
    } else if starts(ONENOTE) {
        Sniffed::new("application/onenote", MacroCapable)
    } else if starts(b"Rar!\x1A\x07") {
        Sniffed::new("application/vnd.rar", Archive)
    } else if starts(b"7z\xBC\xAF\x27\x1C") {
        Sniffed::new("application/x-7z-compressed", Archive)
    } else if starts(b"\x1F\x8B") {
        Sniffed::new("application/gzip", Archive)
    } else if starts(b"\xFD7zXZ\x00") {
        Sniffed::new("application/x-xz", Archive)
    } else if data.len() > 3 && starts(b"BZh") && data[3].is_ascii_digit() {
        Sniffed::new("application/x-bzip2", Archive)
    } else if starts(b"MSCF\x00\x00\x00\x00") {
        Sniffed::new("application/vnd.ms-cab-compressed", Archive)
    } else if starts(b"ITSF") {
        Sniffed::new("application/vnd.ms-htmlhelp", Executable)
    } else if is_disk_image(data) {
        Sniffed::new("application/x-iso9660-image", DiskImage)
    } else if starts(b"conectix") || starts(b"vhdxfile") {
        Sniffed::new("application/x-vhd", DiskImage)
    } else if memmem::find(&data[..data.len().min(1024)], b"%PDF-").is_some() {
        Sniffed::new("application/pdf", Document)
    } else if starts(b"{\\rtf") {
        Sniffed::new("application/rtf", Document)
    } else if starts(b"\x89PNG\r\n\x1A\n") {
        Sniffed::new("image/png", Image)
    } else if starts(b"\xFF\xD8\xFF") {
        Sniffed::new("image/jpeg", Image)
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Sniffed::new("image/gif", Image)
    } else if starts(b"#!") {
        Sniffed::new("text/x-shellscript", Script)
    } else {
        return markup(data);
    };
    Some(sniffed)
}

/// ISO 9660 and UDF volume descriptors sit at 32 KiB (and the next sectors).
fn is_disk_image(data: &[u8]) -> bool {
    [0x8001usize, 0x8801, 0x9001].iter().any(|&offset| {
        data.get(offset..offset + 5)
            .is_some_and(|id| id == b"CD001" || id == b"BEA01" || id == b"NSR02" || id == b"NSR03")
    })
}

fn zip_like(data: &[u8]) -> Sniffed {
    use FileClass::*;
    let has = |needle: &[u8]| memmem::find(data, needle).is_some();
    // General purpose bit 0 of the first local file header: the entry is encrypted.
    let encrypted =
        data.starts_with(b"PK\x03\x04") && data.get(6).is_some_and(|flags| flags & 1 == 1);
    let mut sniffed = if has(b"[Content_Types].xml") {
        let vba = has(b"vbaProject.bin");
        let (plain, macro_enabled) = if has(b"word/") {
            (
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.ms-word.document.macroEnabled.12",
            )
        } else if has(b"xl/") {
            (
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/vnd.ms-excel.sheet.macroEnabled.12",
            )
        } else if has(b"ppt/") {
            (
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                "application/vnd.ms-powerpoint.presentation.macroEnabled.12",
            )
        } else {
            ("application/zip", "application/zip")
        };
        let mut sniffed = if vba {
            Sniffed::new(macro_enabled, MacroCapable)
        } else {
            Sniffed::new(plain, Document)
        };
        sniffed.vba_macros = vba;
        sniffed
    } else if has(b"META-INF/MANIFEST.MF") {
        Sniffed::new("application/java-archive", Executable)
    } else {
        Sniffed::new("application/zip", Archive)
    };
    sniffed.encrypted = encrypted;
    sniffed
}

fn utf16le(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn ole2(data: &[u8]) -> Sniffed {
    let has = |name: &str| memmem::find(data, &utf16le(name)).is_some();
    let mime = if has("WordDocument") {
        "application/msword"
    } else if has("Workbook") || has("Book") {
        "application/vnd.ms-excel"
    } else if has("PowerPoint Document") {
        "application/vnd.ms-powerpoint"
    } else if has("__substg1.0_") {
        "application/vnd.ms-outlook"
    } else {
        "application/x-ole-storage"
    };
    let mut sniffed = Sniffed::new(mime, FileClass::MacroCapable);
    sniffed.vba_macros = has("_VBA_PROJECT");
    sniffed
}

/// HTML and SVG, after optional BOM and white space.
fn markup(data: &[u8]) -> Option<Sniffed> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let start = data.iter().position(|byte| !byte.is_ascii_whitespace())?;
    let head = &data[start..data.len().min(start + 512)];
    let lower = head.to_ascii_lowercase();
    const HTML_STARTS: &[&[u8]] = &[
        b"<!doctype html",
        b"<html",
        b"<head",
        b"<body",
        b"<script",
        b"<iframe",
        b"<meta",
        b"<form",
        b"<div",
        b"<table",
    ];
    if HTML_STARTS.iter().any(|prefix| lower.starts_with(prefix)) {
        return Some(Sniffed::new("text/html", FileClass::Html));
    }
    if (lower.starts_with(b"<svg") || lower.starts_with(b"<?xml"))
        && memmem::find(&lower, b"<svg").is_some()
    {
        return Some(Sniffed::new("image/svg+xml", FileClass::Html));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_common_magic() {
        let cases: &[(&[u8], &str)] = &[
            (b"MZ\x90\x00", "application/x-dosexec"),
            (b"\x7FELF\x02", "application/x-executable"),
            (b"%PDF-1.7\n", "application/pdf"),
            (b"Rar!\x1A\x07\x01\x00", "application/vnd.rar"),
            (b"7z\xBC\xAF\x27\x1C\x00", "application/x-7z-compressed"),
            (b"\x1F\x8B\x08", "application/gzip"),
            (LNK, "application/x-ms-shortcut"),
            (b"  <!DOCTYPE html><html>", "text/html"),
            (b"#!/bin/sh\n", "text/x-shellscript"),
        ];
        for (data, mime) in cases {
            assert_eq!(sniff(data).map(|s| s.mime), Some(*mime), "{data:?}");
        }
        assert_eq!(sniff(b"plain text"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn recognises_iso_images() {
        let mut iso = vec![0u8; 0x8010];
        iso[0x8001..0x8006].copy_from_slice(b"CD001");
        assert_eq!(sniff(&iso).map(|s| s.class), Some(FileClass::DiskImage));
    }

    #[test]
    fn finds_vba_in_ole2_and_ooxml() {
        let mut ole = OLE2.to_vec();
        ole.extend(utf16le("WordDocument"));
        ole.extend(utf16le("_VBA_PROJECT"));
        let sniffed = sniff(&ole).unwrap();
        assert_eq!(
            (sniffed.mime, sniffed.vba_macros),
            ("application/msword", true)
        );

        let mut docm = b"PK\x03\x04\x14\x00\x00\x00".to_vec();
        docm.extend(b"[Content_Types].xml...word/document.xml...word/vbaProject.bin");
        let sniffed = sniff(&docm).unwrap();
        assert_eq!(
            sniffed.mime,
            "application/vnd.ms-word.document.macroEnabled.12"
        );
        assert!(sniffed.vba_macros);
    }

    #[test]
    fn sees_encrypted_zip_entries() {
        let zip = b"PK\x03\x04\x14\x00\x01\x00\x08\x00";
        assert!(sniff(zip).unwrap().encrypted);
    }
}
