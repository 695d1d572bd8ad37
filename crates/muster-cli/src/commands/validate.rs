//! `muster validate FILES…`: checks playbooks without storing or running anything.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use muster_engine::CompiledPlaybook;
use muster_model::expr::Expressions;
use serde_json::json;

#[derive(clap::Args)]
pub struct ValidateArgs {
    /// Playbook files (YAML or JSON).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print the results as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    library: super::LibraryArgs,
}

pub fn run(args: ValidateArgs) -> Result<ExitCode> {
    let registry = args.library.registry()?;
    let expressions = Expressions::new();
    let mut all_valid = true;
    let mut results = Vec::new();
    for file in &args.files {
        let name = file.display().to_string();
        let text = super::read_input(file)?;
        match CompiledPlaybook::load(&name, &text, &registry, &expressions) {
            Ok(compiled) => {
                if !args.json {
                    println!(
                        "{name}: ok ({}, {} actions)",
                        compiled.name(),
                        compiled.actions().len()
                    );
                }
                results.push(json!({ "file": name, "valid": true, "name": compiled.name() }));
            }
            Err(diagnostics) => {
                all_valid = false;
                if !args.json {
                    super::print_diagnostics(&diagnostics);
                    eprintln!("{name}: {} problem(s)", diagnostics.len());
                }
                let listed: Vec<_> = diagnostics
                    .iter()
                    .map(|d| json!({"file": d.file, "line": d.line, "column": d.column, "message": d.message, "hint": d.hint}))
                    .collect();
                results.push(json!({ "file": name, "valid": false, "diagnostics": listed }));
            }
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    }
    Ok(if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
