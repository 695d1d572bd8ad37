//! Behaviour of `ioc::extract` on small, targeted inputs: one test per rule.

use muster_intel::ioc::{
    AllowList, ExtractOptions, IocType, Tag, extract, extract_detailed, extract_grouped,
};

fn values(text: &str, kind: IocType) -> Vec<String> {
    extract(text, &ExtractOptions::default())
        .into_iter()
        .filter(|ioc| ioc.kind == kind)
        .map(|ioc| ioc.value)
        .collect()
}

fn all(text: &str) -> Vec<(IocType, String)> {
    extract(text, &ExtractOptions::default())
        .into_iter()
        .map(|ioc| (ioc.kind, ioc.value))
        .collect()
}

#[test]
fn grouped_output_has_the_cli_json_shape() {
    let grouped = extract_grouped(
        "Beacon to 203.0.113.7 then http://evil.example/x",
        &ExtractOptions::default(),
    );
    let json = serde_json::to_value(&grouped).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"ipv4": ["203.0.113.7"], "url": ["http://evil.example/x"]})
    );
}

#[test]
fn every_ioc_carries_type_value_raw_and_offsets() {
    let text = "C2: hxxps[://]evil[.]com/a and 198[.]51[.]100[.]9";
    let iocs = extract(text, &ExtractOptions::default());
    for ioc in &iocs {
        assert_eq!(&text[ioc.start..ioc.end], ioc.raw);
    }
    let url = &iocs[0];
    assert_eq!(
        (url.kind, url.value.as_str()),
        (IocType::Url, "https://evil.com/a")
    );
    assert_eq!(url.raw, "hxxps[://]evil[.]com/a");
    assert!(url.tags.contains(&Tag::Defanged));
    let ip = iocs.iter().find(|i| i.kind == IocType::Ipv4).unwrap();
    assert_eq!(ip.value, "198.51.100.9");
    assert!(ip.tags.contains(&Tag::Documentation));
    let json = serde_json::to_value(ip).unwrap();
    assert_eq!(json["type"], "ipv4");
    assert_eq!(json["raw"], "198[.]51[.]100[.]9");
    assert_eq!(
        json["tags"],
        serde_json::json!(["documentation", "defanged"])
    );
}

#[test]
fn defang_notations_are_understood() {
    let cases = [
        ("hxxp://evil.com/x", IocType::Url, "http://evil.com/x"),
        ("hxxps[:]//evil[.]com", IocType::Url, "https://evil.com"),
        ("hxxps[://]evil[.]com", IocType::Url, "https://evil.com"),
        ("evil(.)com", IocType::Domain, "evil.com"),
        ("evil{.}com", IocType::Domain, "evil.com"),
        ("evil[dot]com", IocType::Domain, "evil.com"),
        ("evil dot com", IocType::Domain, "evil.com"),
        ("evil\\.com", IocType::Domain, "evil.com"),
        ("meow[at]evil(.)com", IocType::Email, "meow@evil.com"),
        ("meow[@]evil[.]com", IocType::Email, "meow@evil.com"),
        ("meow at evil dot com", IocType::Email, "meow@evil.com"),
        ("8[.]8[.]8[.]8", IocType::Ipv4, "8.8.8.8"),
    ];
    for (text, kind, value) in cases {
        assert_eq!(values(text, kind), [value], "{text}");
    }
}

#[test]
fn refang_can_be_turned_off() {
    let options = ExtractOptions {
        refang: false,
        ..ExtractOptions::default()
    };
    let found = extract("evil[.]com and good.com", &options);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].value, "good.com");
}

#[test]
fn domains_need_a_public_suffix() {
    assert_eq!(
        values(
            "evil.zip report.pdf example.c co.uk evil.co.uk",
            IocType::Domain
        ),
        ["evil.zip", "evil.co.uk"]
    );
    assert_eq!(values("Mail.EVIL.COM", IocType::Domain), ["mail.evil.com"]);
    assert!(values("end of sentence.Then more", IocType::Domain).is_empty());
}

#[test]
fn file_name_rule_settles_ambiguous_names() {
    let text = "invoice.pdf.exe setup.exe evil.zip invoice.pdf.zip C:\\Temp\\evil.zip \
                /tmp/payload.sh install.sh cdn.evil.sh README.md Node.js";
    assert_eq!(
        values(text, IocType::FileName),
        [
            "invoice.pdf.exe",
            "setup.exe",
            "invoice.pdf.zip",
            "evil.zip",
            "payload.sh",
            "install.sh",
            "README.md"
        ]
    );
    assert_eq!(values(text, IocType::Domain), ["evil.zip", "cdn.evil.sh"]);
}

#[test]
fn versions_are_not_addresses() {
    let text = "Windows version 10.0.19041.1, lib 1.2.3.4.5, build 4.2.1 and v1.2.3.4";
    assert!(all(text).is_empty(), "{:?}", all(text));
}

#[test]
fn ip_ranges_are_tagged() {
    let tags = |text: &str| extract(text, &ExtractOptions::default())[0].tags.clone();
    assert_eq!(tags("10.1.1.1"), [Tag::Private]);
    assert_eq!(tags("127.0.0.1"), [Tag::Loopback]);
    assert_eq!(tags("192.0.2.1"), [Tag::Documentation]);
    assert_eq!(tags("240.0.0.1"), [Tag::Reserved]);
    assert_eq!(tags("169.254.169.254"), [Tag::LinkLocal]);
    assert_eq!(tags("::1"), [Tag::Loopback]);
    assert_eq!(tags("2001:db8::7"), [Tag::Documentation]);
    assert!(tags("8.8.4.4").is_empty());
}

#[test]
fn urls_end_where_the_writer_meant() {
    let cases = [
        ("see http://evil.com/a.", "http://evil.com/a"),
        ("(see http://evil.com/a), then", "http://evil.com/a"),
        ("[text](http://evil.com/a)", "http://evil.com/a"),
        (
            "<a href=\"http://evil.com/a?b=1\">x</a>",
            "http://evil.com/a?b=1",
        ),
        ("<a href='http://evil.com/a'>x</a>", "http://evil.com/a"),
        ("\"http://evil.com/a\",", "http://evil.com/a"),
        (
            "http://en.wikipedia.org/wiki/Foo_(bar)",
            "http://en.wikipedia.org/wiki/Foo_(bar)",
        ),
        ("**http://evil.com/a**", "http://evil.com/a"),
        ("http://evil.com/a&gt;", "http://evil.com/a"),
        ("http://evil.com/a?x=1&amp;y=2", "http://evil.com/a?x=1&y=2"),
        ("http://evil.com/a,http://evil.net/b", "http://evil.com/a"),
        (
            "http://evil.com/r?u=http://evil.net/b",
            "http://evil.com/r?u=http://evil.net/b",
        ),
        ("http://[2001:db8::1]:8080/x", "http://[2001:db8::1]:8080/x"),
        (
            "https://user:pw@evil.com:8443/p#frag",
            "https://user:pw@evil.com:8443/p#frag",
        ),
        ("http://évil.com/x", ""),
    ];
    for (text, url) in cases {
        let found = values(text, IocType::Url);
        let expected: Vec<&str> = if url.is_empty() { vec![] } else { vec![url] };
        assert_eq!(
            found.first().map(String::as_str),
            expected.first().copied(),
            "{text}"
        );
    }
}

#[test]
fn hashes_are_whole_hex_runs_only() {
    let md5 = "d41d8cd98f00b204e9800998ecf8427e";
    assert_eq!(values(md5, IocType::Md5), [md5]);
    assert_eq!(
        values(&format!("md5={}", md5.to_uppercase()), IocType::Md5),
        [md5]
    );
    assert!(values(&format!("{md5}ab"), IocType::Md5).is_empty());
    assert!(values(&format!("x{md5}"), IocType::Md5).is_empty());
    assert!(values(&"12345678".repeat(4), IocType::Md5).is_empty());
    let sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    assert_eq!(
        all(&format!("{sha256}.exe")),
        [
            (IocType::Sha256, sha256.to_owned()),
            (IocType::FileName, format!("{sha256}.exe"))
        ]
    );
}

#[test]
fn fixed_shape_identifiers() {
    let text = "CVE-2021-44228 cve-2023-4863 T1059 T1059.001 T9999 TA0001 AS13335 ASN 15169 \
                AS0x12 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb";
    assert_eq!(
        all(text),
        [
            (IocType::Cve, "CVE-2021-44228".to_owned()),
            (IocType::Cve, "CVE-2023-4863".to_owned()),
            (IocType::AttackTechnique, "T1059".to_owned()),
            (IocType::AttackTechnique, "T1059.001".to_owned()),
            (IocType::Asn, "AS13335".to_owned()),
            (IocType::Asn, "AS15169".to_owned()),
            (
                IocType::Bitcoin,
                "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa".to_owned()
            ),
        ]
    );
}

#[test]
fn registry_keys_span_spaces_inside_key_names() {
    let text = "reg add \"HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon\" /v Shell; \
                persistence via HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run. Also HKCU:\\Environment";
    assert_eq!(
        values(text, IocType::RegistryKey),
        [
            "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon",
            "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
            "HKCU:\\Environment"
        ]
    );
}

#[test]
fn options_filter_types_hosts_and_duplicates() {
    let text = "http://evil.com/a bob@evil.net http://evil.com/a 10.0.0.1";
    let no_hosts = ExtractOptions {
        include_hosts: false,
        ..ExtractOptions::default()
    };
    assert!(
        extract(text, &no_hosts)
            .iter()
            .all(|i| i.kind != IocType::Domain)
    );
    let with_hosts = extract_grouped(text, &ExtractOptions::default());
    assert_eq!(with_hosts["domain"], ["evil.com", "evil.net"]);
    assert_eq!(with_hosts["url"], ["http://evil.com/a"]);
    let no_dedupe = ExtractOptions {
        dedupe: false,
        ..ExtractOptions::default()
    };
    assert_eq!(extract_grouped(text, &no_dedupe)["url"].len(), 2);
    let only_ips = ExtractOptions::only(&[IocType::Ipv4]);
    assert_eq!(
        extract_grouped(text, &only_ips).keys().collect::<Vec<_>>(),
        ["ipv4"]
    );
}

#[test]
fn allow_list_drops_known_good_values() {
    let allow = AllowList::new(["example.com", "10.0.0.0/8"]).unwrap();
    let options = ExtractOptions {
        allow,
        ..ExtractOptions::default()
    };
    let text = "www.example.com https://cdn.example.com/x ops@example.com 10.2.3.4 \
                10.1.0.0/16 http://10.9.9.9/a evil.com 8.8.8.8 notexample.com";
    let grouped = extract_grouped(text, &options);
    assert_eq!(
        serde_json::to_value(&grouped).unwrap(),
        serde_json::json!({"domain": ["evil.com", "notexample.com"], "ipv4": ["8.8.8.8"]})
    );
}

#[test]
fn result_limit_truncates_and_says_so() {
    let text = (1..=50)
        .map(|i| format!("198.51.100.{i} "))
        .collect::<String>();
    let options = ExtractOptions {
        max_results: 10,
        ..ExtractOptions::default()
    };
    let extraction = extract_detailed(&text, &options);
    assert_eq!(extraction.iocs.len(), 10);
    assert!(extraction.truncated);
    assert!(!extract_detailed(&text, &ExtractOptions::default()).truncated);
}

#[test]
fn non_ascii_neighbours_are_handled() {
    assert_eq!(
        values("“evil.com” und «10.0.0.1»", IocType::Domain),
        ["evil.com"]
    );
    assert_eq!(
        values("“evil.com” und «10.0.0.1»", IocType::Ipv4),
        ["10.0.0.1"]
    );
    assert!(values("bücher.de", IocType::Domain).is_empty());
    assert_eq!(
        values("xn--bcher-kva.de", IocType::Domain),
        ["xn--bcher-kva.de"]
    );
}
