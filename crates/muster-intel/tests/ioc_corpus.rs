//! Accuracy of indicator extraction over a corpus of realistic documents (threat reports,
//! phishing emails, logs, defanged posts, markdown, HTML, code and release notes) in
//! `tests/corpus/`. Every document `NAME.EXT` has a hand-written `NAME.expected` listing the
//! indicators an analyst would want from it, one `type<TAB>value` per line, with URL hosts
//! and email domains included (the default options).
//!
//! Two checks: precision and recall per type over the whole corpus must be at least 0.97,
//! and the full output (values, raw text, offsets, tags) of every document is snapshotted.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use muster_intel::ioc::{ExtractOptions, IocType, extract};

const MIN_SCORE: f64 = 0.97;
/// Each type must be exercised by at least this many expected indicators.
const MIN_SUPPORT: usize = 10;

struct Document {
    name: String,
    text: String,
    expected: BTreeSet<(IocType, String)>,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn load_corpus() -> Vec<Document> {
    let mut documents = Vec::new();
    let mut paths: Vec<PathBuf> = fs::read_dir(corpus_dir())
        .expect("corpus directory")
        .map(|entry| entry.expect("corpus entry").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e != "expected"))
        .collect();
    paths.sort();
    for path in paths {
        let expected_path = path.with_extension("expected");
        let expected_text = fs::read_to_string(&expected_path).unwrap_or_else(|e| {
            panic!("{} needs {}: {e}", path.display(), expected_path.display())
        });
        let mut expected = BTreeSet::new();
        for (number, line) in expected_text.lines().enumerate() {
            let line = line.trim_end();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (kind, value) = line.split_once('\t').unwrap_or_else(|| {
                panic!(
                    "{}:{}: expected `type<TAB>value`",
                    expected_path.display(),
                    number + 1
                )
            });
            let kind: IocType = kind
                .parse()
                .unwrap_or_else(|e| panic!("{}:{}: {e}", expected_path.display(), number + 1));
            let fresh = expected.insert((kind, value.to_owned()));
            assert!(
                fresh,
                "{}:{}: duplicate entry",
                expected_path.display(),
                number + 1
            );
        }
        let bytes = fs::read(&path).expect("corpus document");
        documents.push(Document {
            name: path.file_name().unwrap().to_string_lossy().into_owned(),
            text: String::from_utf8_lossy(&bytes).into_owned(),
            expected,
        });
    }
    documents
}

#[derive(Default, Debug)]
struct Score {
    true_positives: usize,
    false_positives: usize,
    false_negatives: usize,
}

impl Score {
    fn precision(&self) -> f64 {
        let found = self.true_positives + self.false_positives;
        if found == 0 {
            1.0
        } else {
            self.true_positives as f64 / found as f64
        }
    }

    fn recall(&self) -> f64 {
        let expected = self.true_positives + self.false_negatives;
        if expected == 0 {
            1.0
        } else {
            self.true_positives as f64 / expected as f64
        }
    }
}

#[test]
fn precision_and_recall_per_type_are_at_least_097() {
    let mut scores: BTreeMap<IocType, Score> = IocType::ALL
        .iter()
        .map(|&t| (t, Score::default()))
        .collect();
    let mut disagreements = Vec::new();
    let corpus = load_corpus();
    let documents = corpus.len();
    for doc in corpus {
        let found: BTreeSet<(IocType, String)> = extract(&doc.text, &ExtractOptions::default())
            .into_iter()
            .map(|ioc| (ioc.kind, ioc.value))
            .collect();
        for item in found.union(&doc.expected) {
            let score = scores.get_mut(&item.0).expect("every type has a score");
            match (found.contains(item), doc.expected.contains(item)) {
                (true, true) => score.true_positives += 1,
                (true, false) => {
                    score.false_positives += 1;
                    disagreements.push(format!("{}: unexpected {} {}", doc.name, item.0, item.1));
                }
                (false, true) => {
                    score.false_negatives += 1;
                    disagreements.push(format!("{}: missed {} {}", doc.name, item.0, item.1));
                }
                (false, false) => unreachable!(),
            }
        }
    }
    let mut report = String::from("type              support  precision  recall\n");
    let mut failures = Vec::new();
    let mut total_support = 0;
    for (kind, score) in &scores {
        let support = score.true_positives + score.false_negatives;
        total_support += support;
        report.push_str(&format!(
            "{:<17} {:>7}  {:>9.3}  {:>6.3}\n",
            kind.as_str(),
            support,
            score.precision(),
            score.recall()
        ));
        if score.precision() < MIN_SCORE || score.recall() < MIN_SCORE {
            failures.push(format!("{kind}: {score:?}"));
        }
        if support < MIN_SUPPORT {
            failures.push(format!(
                "{kind}: only {support} expected indicators in the corpus"
            ));
        }
    }
    println!("{report}total expected indicators: {total_support}");
    for line in &disagreements {
        println!("  {line}");
    }
    assert!(
        failures.is_empty(),
        "{report}\n{}\n{}",
        failures.join("\n"),
        disagreements.join("\n")
    );
    assert!(
        documents >= 30,
        "the corpus should have dozens of documents, not {documents}"
    );
    assert!(
        total_support >= 300,
        "the corpus should hold hundreds of indicators, not {total_support}"
    );
}

#[test]
fn corpus_output_matches_snapshots() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(corpus_dir().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for doc in load_corpus() {
            let iocs = extract(&doc.text, &ExtractOptions::default());
            for ioc in &iocs {
                assert_eq!(&doc.text[ioc.start..ioc.end], ioc.raw, "{}", doc.name);
            }
            insta::assert_yaml_snapshot!(doc.name.clone(), iocs);
        }
    });
}
