//! Puts the pieces together: one raw message in, one `EmailReport` out, attached messages
//! analysed recursively up to `max_depth`.

use mail_parser::MessageParser;
use sha2::{Digest, Sha256};

use super::attachments::attachment;
use super::auth_results::{parse_authentication_results, parse_received_spf, summary};
use super::headers::{
    date, decode_bytes, first_from, header_fields, mailboxes, return_path, subject, values_named,
};
use super::html;
use super::input::prepare;
use super::iocs::{IocText, merge};
use super::links::{html_link, is_absolute_url, push_distinct, text_link, text_urls};
use super::options::EmailOptions;
use super::parts::{attachment_content, bodies, is_attached_message, part_info, part_warnings};
use super::received::{hops, originating_ip};
use super::report::{Attachment, EmailReport, Flag};
use super::sender_checks::{SenderIdentity, sender_flags};

/// Analyses `raw` as a message found at `depth` (0 for the message itself).
pub(crate) fn analyse(raw: &[u8], options: &EmailOptions, depth: usize) -> EmailReport {
    let mut report = EmailReport {
        size: raw.len(),
        sha256: hex::encode(Sha256::digest(raw)),
        ..EmailReport::default()
    };
    let prepared = prepare(raw, options);
    report.warnings.extend(prepared.warnings.iter().cloned());
    let mut ioc_text = IocText::new(options.max_ioc_text_bytes);

    let Some(message) = MessageParser::default().parse(prepared.parse.as_ref()) else {
        report
            .warnings
            .push("no header fields found: the input is not an email message".to_string());
        if options.extract_iocs {
            let prefix =
                &prepared.original[..prepared.original.len().min(options.max_ioc_text_bytes)];
            ioc_text.push(&decode_bytes(prefix));
            report.iocs = ioc_text.extract();
        }
        return report;
    };
    if message
        .parts
        .first()
        .is_none_or(|root| root.headers.is_empty())
    {
        report
            .warnings
            .push("no header fields found: the input is not an email message".to_string());
    }
    if message.parts.len() > options.max_parts {
        report.warnings.push(format!(
            "{} MIME parts, only the first {} analysed (limit max_parts)",
            message.parts.len(),
            options.max_parts
        ));
    }
    report.warnings.extend(part_warnings(&message));

    // Identity.
    report.headers = header_fields(&message, prepared.original);
    report.from = first_from(&message);
    report.sender = mailboxes(message.sender()).into_iter().next();
    report.reply_to = mailboxes(message.reply_to());
    report.to = mailboxes(message.to());
    report.cc = mailboxes(message.cc());
    report.return_path = return_path(&message);
    report.date = date(&message);
    report.message_id = message.message_id().map(str::to_string);
    report.subject = subject(&message, &report.headers);
    if report.date.is_none() && values_named(&report.headers, "Date").next().is_some() {
        report
            .warnings
            .push("Date header could not be parsed".to_string());
    }
    let from_headers = values_named(&report.headers, "From").count();
    if from_headers > 1 {
        report.flags.push(Flag::new(
            "multiple_from_headers",
            format!("{from_headers} From headers; mail clients may show different senders"),
        ));
    }
    report.flags.extend(sender_flags(&SenderIdentity {
        from: report.from.as_ref(),
        sender: report.sender.as_ref(),
        reply_to: &report.reply_to,
        return_path: report.return_path.as_deref(),
    }));

    // Transport and authentication.
    report.received = hops(&message, &report.headers);
    report.originating_ip = originating_ip(&report.received);
    report.authentication_results = values_named(&report.headers, "Authentication-Results")
        .map(parse_authentication_results)
        .collect();
    let received_spf = values_named(&report.headers, "Received-SPF")
        .next()
        .and_then(parse_received_spf);
    report.auth = summary(&report.authentication_results, received_spf);
    report.flags.extend(auth_flags(&report));

    // Bodies and links.
    let bodies = bodies(&message, message.raw_message.as_ref());
    if !bodies.text.is_empty() {
        let text = bodies.text.join("\n").replace("\r\n", "\n");
        for url in text_urls(&text, options.max_links) {
            push_distinct(&mut report.urls, &url);
            if !report.links.iter().any(|link| link.href == url) {
                report.links.push(text_link(url));
            }
        }
        report.text_body = Some(bounded_body(
            text,
            "text_body",
            options,
            &mut report.warnings,
        ));
    }
    if !bodies.html.is_empty() {
        let html = bodies.html.join("\n");
        let scanned = floor(&html, options.max_html_bytes);
        if scanned.len() < html.len() {
            report.warnings.push(format!(
                "HTML body of {} bytes scanned for links up to {} bytes (limit max_html_bytes)",
                html.len(),
                options.max_html_bytes
            ));
        }
        let scan = html::scan(scanned, options.max_links);
        if scan.links_dropped > 0 {
            report.warnings.push(format!(
                "{} HTML links dropped (limit max_links)",
                scan.links_dropped
            ));
        }
        let mut html_links = Vec::with_capacity(scan.links.len());
        for (href, text) in scan.links {
            if is_absolute_url(&href) {
                push_distinct(&mut report.urls, &href);
            }
            html_links.push(html_link(href, text));
        }
        for resource in scan.resources.iter().filter(|url| is_absolute_url(url)) {
            push_distinct(&mut report.urls, resource);
        }
        for url in text_urls(&scan.text, options.max_links) {
            push_distinct(&mut report.urls, &url);
        }
        for link in html_links.iter().filter(|link| link.text_mismatch) {
            report.flags.push(Flag::new(
                "link_text_mismatch",
                format!(
                    "link text \"{}\" does not lead to {}",
                    link.text.as_deref().unwrap_or_default(),
                    link.href
                ),
            ));
        }
        // HTML links first: they are what the reader clicks.
        html_links.append(&mut report.links);
        report.links = html_links;
        report.html_text = Some(bounded_body(
            scan.text,
            "html_text",
            options,
            &mut report.warnings,
        ));
        report.html_body = Some(bounded_body(
            html,
            "html_body",
            options,
            &mut report.warnings,
        ));
    }

    // Attachments, attached messages included.
    let mut nested_iocs = Vec::new();
    for id in message.attachments.iter().take(options.max_parts) {
        let Some(part) = message.parts.get(*id as usize) else {
            continue;
        };
        let (content, recovered) = attachment_content(part, message.raw_message.as_ref());
        if recovered {
            report.warnings.push(format!(
                "part {id}: damaged base64 decoded as far as it is valid ({} bytes)",
                content.len()
            ));
        }
        let mut record = attachment(part_info(part), &content);
        if is_attached_message(part) {
            if depth < options.max_depth {
                let nested = analyse(&content, options, depth + 1);
                absorb_nested(&mut report, &mut record, nested, &mut nested_iocs);
            } else {
                report.warnings.push(format!(
                    "attached message {} not opened (limit max_depth {})",
                    record.filename.as_deref().unwrap_or("without a name"),
                    options.max_depth
                ));
                report.attachments.push(record);
            }
        } else {
            if record.flags.iter().any(|flag| flag == "html_attachment") {
                attachment_urls(&mut report.urls, &content, options);
            }
            attachment_flags(&mut report.flags, &record);
            report.attachments.push(record);
        }
    }

    if options.extract_iocs {
        gather_ioc_text(&report, &mut ioc_text);
        if ioc_text.truncated {
            report.warnings.push(format!(
                "text scanned for IOCs cut at {} bytes (limit max_ioc_text_bytes)",
                options.max_ioc_text_bytes
            ));
        }
        report.iocs = ioc_text.extract();
        for iocs in &nested_iocs {
            merge(&mut report.iocs, iocs);
        }
    }
    report
}

/// Adds an attached message and everything found in it to `report`.
fn absorb_nested(
    report: &mut EmailReport,
    record: &mut Attachment,
    nested: EmailReport,
    nested_iocs: &mut Vec<std::collections::BTreeMap<String, Vec<String>>>,
) {
    let label = record
        .filename
        .clone()
        .or_else(|| {
            nested
                .subject
                .as_ref()
                .map(|subject| format!("\"{subject}\""))
        })
        .unwrap_or_else(|| "attached message".to_string());
    for url in &nested.urls {
        push_distinct(&mut report.urls, url);
    }
    for flag in &nested.flags {
        report.flags.push(Flag::new(
            &flag.code,
            format!("in attached message {label}: {}", flag.detail),
        ));
    }
    for warning in &nested.warnings {
        report
            .warnings
            .push(format!("in attached message {label}: {warning}"));
    }
    nested_iocs.push(nested.iocs.clone());
    let inner: Vec<Attachment> = nested
        .attachments
        .iter()
        .map(|inner| Attachment {
            depth: inner.depth + 1,
            container: Some(inner.container.clone().unwrap_or_else(|| label.clone())),
            message: None,
            ..inner.clone()
        })
        .collect();
    record.message = Some(Box::new(nested));
    report.attachments.push(record.clone());
    report.attachments.extend(inner);
}

/// The link targets, form actions and resources of an HTML attachment (credential-phishing
/// pages carry their collection URL there).
fn attachment_urls(urls: &mut Vec<String>, content: &[u8], options: &EmailOptions) {
    let html = String::from_utf8_lossy(&content[..content.len().min(options.max_html_bytes)]);
    let scan = html::scan(&html, options.max_links);
    let targets = scan
        .links
        .iter()
        .map(|(href, _)| href)
        .chain(scan.resources.iter());
    for url in targets.filter(|url| is_absolute_url(url)) {
        push_distinct(urls, url);
    }
}

/// Promotes an attachment's risk flags to message flags.
fn attachment_flags(flags: &mut Vec<Flag>, record: &Attachment) {
    let name = record.filename.as_deref().unwrap_or("(no name)");
    for code in &record.flags {
        flags.push(Flag::new(
            code,
            format!(
                "attachment {name} ({})",
                record
                    .sniffed_type
                    .as_deref()
                    .unwrap_or(&record.content_type)
            ),
        ));
    }
}

/// `spf_fail`, `dkim_fail`, `dmarc_fail` from the summary verdicts.
fn auth_flags(report: &EmailReport) -> Vec<Flag> {
    let mut flags = Vec::new();
    let failed = |result: &str| matches!(result, "fail" | "softfail" | "permerror");
    if let Some(spf) = &report.auth.spf
        && failed(&spf.result)
    {
        flags.push(Flag::new(
            "spf_fail",
            format!(
                "SPF {} for {}",
                spf.result,
                spf.domain.as_deref().unwrap_or("unknown domain")
            ),
        ));
    }
    if !report.auth.dkim.is_empty()
        && !report.auth.dkim.iter().any(|dkim| dkim.result == "pass")
        && let Some(dkim) = report.auth.dkim.iter().find(|dkim| failed(&dkim.result))
    {
        flags.push(Flag::new(
            "dkim_fail",
            format!(
                "DKIM {} for {}",
                dkim.result,
                dkim.domain.as_deref().unwrap_or("unknown domain")
            ),
        ));
    }
    if let Some(dmarc) = &report.auth.dmarc
        && failed(&dmarc.result)
    {
        flags.push(Flag::new(
            "dmarc_fail",
            format!(
                "DMARC {} for {}",
                dmarc.result,
                dmarc.domain.as_deref().unwrap_or("unknown domain")
            ),
        ));
    }
    flags
}

/// The message's own text worth scanning for indicators (attached messages add their own).
fn gather_ioc_text(report: &EmailReport, text: &mut IocText) {
    if let Some(subject) = &report.subject {
        text.push(subject);
    }
    let mailboxes = report
        .from
        .iter()
        .chain(report.sender.iter())
        .chain(report.reply_to.iter());
    for mailbox in mailboxes {
        if let Some(name) = &mailbox.name {
            text.push(name);
        }
        if let Some(address) = &mailbox.address {
            text.push(address);
        }
    }
    if let Some(return_path) = &report.return_path {
        text.push(return_path);
    }
    if let Some(ip) = &report.originating_ip {
        text.push(ip);
    }
    for link in &report.links {
        text.push(&link.href);
    }
    for url in &report.urls {
        text.push(url);
    }
    if let Some(body) = &report.text_body {
        text.push(body);
    }
    if let Some(body) = &report.html_text {
        text.push(body);
    }
    for attachment in report
        .attachments
        .iter()
        .filter(|attachment| attachment.depth == 0)
    {
        if let Some(name) = &attachment.filename {
            text.push(name);
        }
        text.push(&attachment.sha256);
    }
}

/// `text` cut to `max_body_chars` characters, with a warning naming `field` when cut.
fn bounded_body(
    mut text: String,
    field: &str,
    options: &EmailOptions,
    warnings: &mut Vec<String>,
) -> String {
    if let Some((cut, _)) = text.char_indices().nth(options.max_body_chars) {
        warnings.push(format!(
            "{field} cut to {} characters (limit max_body_chars)",
            options.max_body_chars
        ));
        text.truncate(cut);
    }
    text
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn floor(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
