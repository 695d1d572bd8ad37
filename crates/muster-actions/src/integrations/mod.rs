//! Integrations: vendor APIs described as data (`integrations/<vendor>.yaml`), each action
//! registered as an action type (`virustotal.ip_report`).
//!
//! - [`format`]: the file format; [`load`]: reading and checking a file, with
//!   `file:line:column` diagnostics; [`template`]: an action's compiled templates;
//!   [`action`]: the `Action` that renders the request and sends it through the same path as
//!   `http_request`; [`spec`]: the generated description, options schema and example.
//! - The files at the repository root are compiled into the binary (`build.rs`), so they
//!   work from any directory; operators add or replace integrations with files in a
//!   directory ([`Library::with_dir`]).
//!
//! The format and how to write a file are documented in `docs/integrations.md`.

pub mod action;
pub mod format;
pub mod load;
pub mod spec;
pub mod template;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use muster_engine::Registry;
use muster_model::load::Diagnostic;

pub use format::IntegrationFile;

use action::IntegrationAction;
use template::ActionTemplate;

/// Options every integration action has besides its inputs.
pub const COMMON_OPTIONS: [&str; 4] = ["credential", "base_url", "rate_limit", "timeout"];

/// The integration files compiled in: (path from the repository root, text).
pub fn builtin_files() -> &'static [(&'static str, &'static str)] {
    include!(concat!(env!("OUT_DIR"), "/builtin_integrations.rs"))
}

/// One loaded integration.
pub struct Integration {
    /// Where it was read from.
    pub file: String,
    pub decl: IntegrationFile,
    pub(crate) actions: Vec<Arc<ActionTemplate>>,
}

impl Integration {
    /// Reads and checks one file; see [`load::load`].
    pub fn load(file: &str, text: &str) -> Result<Self, Vec<Diagnostic>> {
        load::load(file, text)
    }

    pub fn vendor(&self) -> &str {
        &self.decl.vendor
    }

    /// The action types it provides (`virustotal.ip_report`, …), sorted.
    pub fn action_kinds(&self) -> Vec<String> {
        self.actions.iter().map(|a| a.kind.clone()).collect()
    }

    fn register(&self, registry: &mut Registry) {
        for template in &self.actions {
            let Some(action) = self.decl.actions.get(&template.name) else {
                continue;
            };
            registry.register(IntegrationAction {
                spec: spec::action_spec(&self.decl, &template.name, action),
                template: template.clone(),
            });
        }
    }
}

/// A set of integrations, by vendor.
#[derive(Clone, Default)]
pub struct Library {
    integrations: BTreeMap<String, Arc<Integration>>,
}

/// Why a directory of integrations could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error("cannot read {path}: {error}")]
    Io {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    #[error("{} problem(s) in integration files:\n{}", .0.len(), lines(.0))]
    Invalid(Vec<Diagnostic>),
}

fn lines(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

static BUILTIN: LazyLock<Library> = LazyLock::new(|| {
    let (library, problems) = Library::load_builtin();
    for problem in problems {
        // The test suite loads every built-in file, so this is reached only by a build
        // whose files were not tested.
        tracing::error!(%problem, "a built-in integration does not load");
    }
    library
});

impl Library {
    /// The integrations compiled into the binary (loaded once per process).
    pub fn builtin() -> &'static Library {
        &BUILTIN
    }

    /// Loads the compiled-in files: the integrations that load, and every problem.
    pub fn load_builtin() -> (Library, Vec<Diagnostic>) {
        let mut library = Library::default();
        let mut problems = Vec::new();
        for (file, text) in builtin_files() {
            match Integration::load(file, text) {
                Ok(integration) => library.insert(integration),
                Err(found) => problems.extend(found),
            }
        }
        (library, problems)
    }

    /// This library plus the integration files (`*.yaml`, `*.yml`) of `dir`; a file for a
    /// vendor already present replaces it. Any problem in any file fails the whole load.
    pub fn with_dir(&self, dir: &Path) -> Result<Library, LibraryError> {
        let io = |error| LibraryError::Io {
            path: dir.to_path_buf(),
            error,
        };
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| {
                path.is_file()
                    && path
                        .extension()
                        .is_some_and(|ext| ext == "yaml" || ext == "yml")
            })
            .collect();
        paths.sort();
        let mut library = self.clone();
        let mut problems = Vec::new();
        let mut seen = BTreeMap::new();
        for path in paths {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|error| LibraryError::Io {
                path: path.clone(),
                error,
            })?;
            match Integration::load(&name, &text) {
                Ok(integration) => {
                    if let Some(first) = seen.insert(integration.vendor().to_string(), name.clone())
                    {
                        problems.push(Diagnostic {
                            file: name,
                            line: 1,
                            column: 1,
                            message: format!(
                                "vendor `{}` is also defined in {first}",
                                integration.vendor()
                            ),
                            hint: None,
                        });
                        continue;
                    }
                    library.insert(integration);
                }
                Err(found) => problems.extend(found),
            }
        }
        if problems.is_empty() {
            Ok(library)
        } else {
            Err(LibraryError::Invalid(problems))
        }
    }

    /// Adds an integration, replacing one of the same vendor.
    pub fn insert(&mut self, integration: Integration) {
        self.integrations
            .insert(integration.vendor().to_string(), Arc::new(integration));
    }

    pub fn get(&self, vendor: &str) -> Option<&Arc<Integration>> {
        self.integrations.get(vendor)
    }

    /// Every integration, sorted by vendor.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Integration>> {
        self.integrations.values()
    }

    /// Registers every action of every integration.
    pub fn register(&self, registry: &mut Registry) {
        for integration in self.integrations.values() {
            integration.register(registry);
        }
    }
}
