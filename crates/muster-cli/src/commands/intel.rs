//! `muster intel iocs|email|normalize`: the security intelligence library from the shell.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use muster_intel::ioc::{ExtractOptions, IocTypeSet, extract_grouped};
use muster_intel::normalize::{Mapping, NormalizeOptions, normalize_lines, profile, profiles};
use serde_json::{Value, json};

#[derive(clap::Subcommand)]
pub enum IntelCommand {
    /// Extract indicators from text (refanged, de-duplicated, in order of appearance).
    Iocs {
        /// A file, or `-` for standard input.
        #[arg(default_value = "-")]
        file: PathBuf,
        /// Print `{"type": [values…]}` as JSON.
        #[arg(long)]
        json: bool,
        /// Only these types (comma-separated): ipv4, ipv6, cidr, domain, url, email, md5, sha1,
        /// sha256, sha512, cve, attack_technique, asn, bitcoin, file_name, registry_key, mac.
        #[arg(long, value_delimiter = ',')]
        types: Vec<String>,
    },
    /// Take a raw email (.eml) apart for phishing triage.
    Email {
        /// The message file, or `-` for standard input.
        file: PathBuf,
        /// Print the whole report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Normalise alerts (one JSON document, JSON lines, or CEF/LEEF lines) with a profile or
    /// a mapping; prints one JSON object per event.
    Normalize {
        /// A built-in profile.
        #[arg(long, conflicts_with = "mapping")]
        profile: Option<String>,
        /// A mapping file (YAML or JSON).
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// List the built-in profiles.
        #[arg(long)]
        list: bool,
        /// A file, or `-` for standard input.
        #[arg(default_value = "-")]
        file: PathBuf,
    },
}

pub fn run(command: IntelCommand) -> Result<ExitCode> {
    match command {
        IntelCommand::Iocs { file, json, types } => iocs(file, json, types),
        IntelCommand::Email { file, json } => email(file, json),
        IntelCommand::Normalize {
            profile,
            mapping,
            list,
            file,
        } => normalize(profile, mapping, list, file),
    }
}

fn read_lossy(file: &PathBuf) -> Result<String> {
    let bytes = read_bytes(file)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn read_bytes(file: &PathBuf) -> Result<Vec<u8>> {
    if file.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)
            .context("reading standard input")?;
        return Ok(bytes);
    }
    std::fs::read(file).with_context(|| format!("reading {}", file.display()))
}

fn iocs(file: PathBuf, as_json: bool, types: Vec<String>) -> Result<ExitCode> {
    let text = read_lossy(&file)?;
    let mut options = ExtractOptions::default();
    if !types.is_empty() {
        options.types = serde_json::from_value::<IocTypeSet>(json!(types)).context("--types")?;
    }
    let grouped = extract_grouped(&text, &options);
    if as_json {
        println!("{}", serde_json::to_string_pretty(&grouped)?);
    } else {
        for (kind, values) in &grouped {
            for value in values {
                println!("{kind}\t{value}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn email(file: PathBuf, as_json: bool) -> Result<ExitCode> {
    let raw = read_bytes(&file)?;
    let report = muster_intel::email::parse(&raw);
    let doc = serde_json::to_value(&report)?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("From:        {}", mailboxes(&doc["from"]));
    println!("Reply-To:    {}", mailboxes(&doc["reply_to"]));
    println!("Return-Path: {}", text(&doc["return_path"]));
    println!("Subject:     {}", text(&doc["subject"]));
    println!("Date:        {}", text(&doc["date"]));
    println!("Origin IP:   {}", text(&doc["originating_ip"]));
    for flag in doc["flags"].as_array().into_iter().flatten() {
        println!(
            "Flag:        {}: {}",
            text(&flag["code"]),
            text(&flag["detail"])
        );
    }
    for url in doc["urls"].as_array().into_iter().flatten() {
        println!("URL:         {}", text(url));
    }
    for attachment in doc["attachments"].as_array().into_iter().flatten() {
        println!(
            "Attachment:  {} ({}, {} bytes, sha256 {})",
            text(&attachment["filename"]),
            text(&attachment["content_type"]),
            attachment["size"],
            text(&attachment["sha256"])
        );
    }
    for warning in doc["warnings"].as_array().into_iter().flatten() {
        eprintln!("warning: {}", text(warning));
    }
    Ok(ExitCode::SUCCESS)
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// `Name <address>` for one mailbox or a list of them.
fn mailboxes(value: &Value) -> String {
    let one = |m: &Value| match (m["name"].as_str(), m["address"].as_str()) {
        (Some(name), Some(address)) if !name.is_empty() => format!("{name} <{address}>"),
        (_, Some(address)) => address.to_string(),
        _ => text(m),
    };
    match value {
        Value::Array(list) if !list.is_empty() => {
            list.iter().map(one).collect::<Vec<_>>().join(", ")
        }
        Value::Object(_) => one(value),
        _ => "-".into(),
    }
}

fn normalize(
    profile_name: Option<String>,
    mapping: Option<PathBuf>,
    list: bool,
    file: PathBuf,
) -> Result<ExitCode> {
    if list {
        for p in profiles() {
            println!("{:<32} {}", p.name(), p.description());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let owned;
    let mapping: &Mapping = match (profile_name, mapping) {
        (Some(name), None) => match profile(&name) {
            Some(p) => p.mapping(),
            None => {
                let known: Vec<&str> = profiles().map(|p| p.name()).collect();
                bail!("unknown profile `{name}` (known: {})", known.join(", "));
            }
        },
        (None, Some(path)) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            owned = Mapping::from_yaml(&text)
                .with_context(|| format!("{} is not a valid mapping", path.display()))?;
            &owned
        }
        _ => bail!("give --profile NAME or --mapping FILE (see --list)"),
    };
    let text = read_lossy(&file)?;
    let trimmed = text.trim_start();
    // A single (possibly multi-line) JSON document, or one record per line.
    let results = if trimmed.starts_with('{') && serde_json::from_str::<Value>(trimmed).is_ok() {
        vec![(1, muster_intel::normalize::normalize_text(trimmed, mapping))]
    } else {
        normalize_lines(&text, mapping, &NormalizeOptions::default())
    };
    let mut failed = false;
    for (line, result) in results {
        match result {
            Ok(normalized) => {
                for warning in &normalized.warnings {
                    eprintln!("{}:{line}: warning: {warning}", file.display());
                }
                println!("{}", serde_json::to_string(&normalized.event)?);
            }
            Err(err) => {
                failed = true;
                eprintln!("{}:{line}: {err}", file.display());
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
