//! `valor new NAME [--js]`: a new project in the directory NAME, from the embedded templates.

use super::say;
use super::template::{self, Language};
use std::path::{Path, PathBuf};

/// The arguments of `valor new`.
#[derive(clap::Args)]
pub struct Args {
    /// The project's name, which is also its directory's, its plugin's and its plugin's prefix
    /// (/api/NAME): lowercase letters, digits, - and _, a letter first.
    name: String,
    /// A JavaScript plugin instead of a Rust one.
    #[arg(long)]
    js: bool,
    /// The directory to make (default: NAME, in the current directory).
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// Makes the project's directory from the template of its language.
pub fn run(args: Args) -> Result<(), String> {
    check_name(&args.name)?;
    let dir = args.dir.unwrap_or_else(|| PathBuf::from(&args.name));
    let language = match args.js {
        true => Language::JavaScript,
        false => Language::Rust,
    };
    create(&dir, &args.name, language)?;
    let (test, what) = match language {
        Language::Rust => ("cargo test", "a Rust plugin"),
        Language::JavaScript => ("node --test", "a JavaScript plugin"),
    };
    say(format!(
        "created {} ({what}, a page and plugins.json). Next: cd {} && valor dev (then open the \
         address it prints); {test} runs the plugin's tests",
        dir.display(),
        dir.display()
    ));
    Ok(())
}

/// Writes the project `name` of `language` into `dir`, which must not exist.
pub fn create(dir: &Path, name: &str, language: Language) -> Result<(), String> {
    if dir.exists() {
        return Err(format!(
            "{} already exists: choose another name, or remove it first",
            dir.display()
        ));
    }
    for file in template::files(language) {
        let path = dir.join(template::render(file.path, name));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("{} could not be created: {e}", parent.display()))?;
        }
        std::fs::write(&path, template::render(file.text, name))
            .map_err(|e| format!("{} could not be written: {e}", path.display()))?;
    }
    Ok(())
}

/// Names Cargo would refuse as a crate's, or that would collide with what the plugin uses.
const RESERVED: &[&str] = &[
    "alloc",
    "core",
    "proc_macro",
    "self",
    "std",
    "super",
    "test",
    "vlugin",
    "vlugin-macros",
    "valor-abi",
];

/// A name usable as a directory, a crate, a file and a URL path segment.
fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_is_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let rest_is_plain =
        chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !first_is_letter || !rest_is_plain || name.len() > 64 {
        return Err(format!(
            "{name:?} is not a usable name: use lowercase letters, digits, - and _, a letter \
             first, at most 64 characters (e.g. my-api)"
        ));
    }
    if RESERVED.contains(&name) {
        return Err(format!(
            "{name:?} is reserved (Rust or Valor uses it): choose another name"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for good in ["hello", "my-api", "notes_2"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "", "Hello", "2fast", "-x", "a b", "../x", "a/b", "é", "std", "vlugin",
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_project_is_written_and_an_existing_directory_refused() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("my-api");
        create(&project, "my-api", Language::Rust).unwrap();
        let manifest = std::fs::read_to_string(project.join("web/plugins.json")).unwrap();
        assert!(manifest.contains(r#""url": "plugins/my_api.wasm""#));
        assert!(project.join("plugins/my-api/src/lib.rs").is_file());
        assert!(project.join(".cargo/config.toml").is_file());
        let refused = create(&project, "my-api", Language::JavaScript).unwrap_err();
        assert!(refused.contains("already exists"), "{refused}");

        let js = dir.path().join("js-api");
        create(&js, "js-api", Language::JavaScript).unwrap();
        assert!(js.join("plugins/js-api.mjs").is_file());
        assert!(js.join("plugins/js-api.test.mjs").is_file());
    }
}
